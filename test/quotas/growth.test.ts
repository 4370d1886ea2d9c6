// The growth-rate trigger as a pure function on a fake clock: readings are (time, bytes) points.
import { describe, expect, it } from 'vitest';
import { judgeGrowth } from '../../src/quotas/growth.js';
import { FakeClock } from '../helpers/fake-clock.js';

const MB = 2 ** 20;
const OPTIONS = { minDelayMs: 20, regularDelayMs: 200 };

describe('judgeGrowth', () => {
  it('says nothing without an earlier reading, for flat or shrinking memory, or once already over the limit', () => {
    expect(judgeGrowth(null, { time: 0, bytes: 50 * MB }, 200, OPTIONS)).toEqual({ breach: null, nextCheckMs: null });
    expect(judgeGrowth({ time: 0, bytes: 50 * MB }, { time: 200, bytes: 50 * MB }, 200, OPTIONS).breach).toBeNull();
    expect(judgeGrowth({ time: 0, bytes: 90 * MB }, { time: 200, bytes: 50 * MB }, 200, OPTIONS).nextCheckMs).toBeNull();
    expect(judgeGrowth({ time: 0, bytes: 150 * MB }, { time: 200, bytes: 250 * MB }, 200, OPTIONS)).toEqual({ breach: null, nextCheckMs: null });
  });

  it('leaves a slow climb to the regular cadence', () => {
    // 10 MB/s from 100 MB: the limit is 10 s away (two regular looks are 400 ms)
    expect(judgeGrowth({ time: 0, bytes: 98 * MB }, { time: 200, bytes: 100 * MB }, 200, OPTIONS)).toEqual({ breach: null, nextCheckMs: null });
  });

  it('looks again a third of the way to the limit when the climb could pass it within two regular looks', () => {
    // 500 MB/s from 120 MB: the limit is 160 ms away
    expect(judgeGrowth({ time: 0, bytes: 20 * MB }, { time: 200, bytes: 120 * MB }, 200, OPTIONS)).toEqual({ breach: null, nextCheckMs: 53 });
    // 250 MB/s from 100 MB: 400 ms away is two regular looks: left to them
    expect(judgeGrowth({ time: 0, bytes: 50 * MB }, { time: 200, bytes: 100 * MB }, 200, OPTIONS).nextCheckMs).toBeNull();
    // never sooner than minDelayMs
    expect(judgeGrowth({ time: 0, bytes: 150 * MB }, { time: 10, bytes: 160 * MB }, 200, OPTIONS).nextCheckMs).toBe(20);
  });

  it('stops a climb that passes the limit before the monitor could look again, naming rate and limit', () => {
    const verdict = judgeGrowth({ time: 0, bytes: 100 * MB }, { time: 100, bytes: 190 * MB }, 200, OPTIONS);
    expect(verdict.nextCheckMs).toBeNull();
    expect(verdict.breach).toEqual({
      limit: 'memoryMb',
      measured: 190,
      allowed: 200,
      message: 'memory 190 MB growing at 900 MB/s would pass its limit of 200 MB within 12 ms',
    });
  });

  it('follows a 1 GB/s bomb on a fake clock: first seen late and underestimated, stopped before its limit', () => {
    // the bomb starts 130 ms into a 200 ms tick: the first look sees a third of its rate
    const clock = new FakeClock();
    const bytesAt = (ms: number) => (ms < 130 ? 45 * MB : 45 * MB + (ms - 130) * 1.024 * MB); // starts between two ticks
    let previous = { time: clock.now(), bytes: bytesAt(clock.now()) };
    let delay = OPTIONS.regularDelayMs;
    for (let look = 0; look < 20; look++) {
      clock.advance(delay);
      const now = { time: clock.now(), bytes: bytesAt(clock.now()) };
      const verdict = judgeGrowth(previous, now, 200, OPTIONS);
      previous = now;
      if (verdict.breach) {
        expect(now.bytes).toBeLessThan(200 * MB);
        expect(clock.now()).toBeLessThan(300);
        return;
      }
      delay = verdict.nextCheckMs ?? OPTIONS.regularDelayMs;
    }
    throw new Error('the bomb was never stopped');
  });
});
