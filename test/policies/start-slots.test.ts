import { describe, expect, it } from 'vitest';
import { startConcurrency, StartSlots } from '../../src/policies/start-slots.js';

/** Lets granted promises settle. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('start slots', () => {
  it('bounds starts by the cores: two per core, at least two', () => {
    expect(startConcurrency(1)).toBe(2);
    expect(startConcurrency(2)).toBe(4);
    expect(startConcurrency(8)).toBe(16);
    expect(startConcurrency(0)).toBe(2);
  });

  it('grants up to the limit at once, then in order of asking as slots are given back', async () => {
    const slots = new StartSlots(2);
    const granted: number[] = [];
    const tickets = [0, 1, 2, 3].map((i) => {
      const ticket = slots.acquire();
      void ticket.granted.then((held) => held && granted.push(i));
      return ticket;
    });
    await settle();
    expect(granted).toEqual([0, 1]);
    expect(slots.usage).toEqual({ held: 2, waiting: 2, limit: 2 });
    tickets[1]!.release();
    tickets[1]!.release(); // twice is once
    await settle();
    expect(granted).toEqual([0, 1, 2]);
    expect(slots.usage).toEqual({ held: 2, waiting: 1, limit: 2 });
  });

  it('a request withdrawn while it waits is never granted and takes no slot', async () => {
    const slots = new StartSlots(1);
    const first = slots.acquire();
    const second = slots.acquire();
    const third = slots.acquire();
    second.release();
    expect(await second.granted).toBe(false);
    first.release();
    expect(await third.granted).toBe(true);
    expect(slots.usage).toEqual({ held: 1, waiting: 0, limit: 1 });
  });
});
