// When a restart standby is parked, taken and dropped: the keeper on a fake clock, with fake standbys.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Standby } from '../../src/supervisor/instance.js';
import { PARK_DELAY_MS, StandbyKeeper } from '../../src/supervisor/standby.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeTimers } from './fake-timers.js';

function setup(options: { wanted?: boolean; running?: boolean; park?: () => Standby | null } = {}) {
  const timers = new FakeTimers(new FakeClock());
  const state = { wanted: options.wanted ?? true, running: options.running ?? true };
  const parked: Array<{ discarded: boolean; cgroupRemoved: boolean }> = [];
  const park =
    options.park ??
    (() => {
      const record = { discarded: false, cgroupRemoved: false };
      parked.push(record);
      return {
        parked: { discard: () => void (record.discarded = true) },
        cgroup: { kill: async () => undefined, remove: async () => void (record.cgroupRemoved = true) },
      } as unknown as Standby;
    });
  const warnings: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line).msg) });
  const keeper = new StandbyKeeper({ timers, wanted: () => state.wanted, running: () => state.running, park, log: () => log });
  return { keeper, timers, state, parked, warnings };
}

describe('StandbyKeeper', () => {
  it('parks one PARK_DELAY_MS after the plugin runs, hands it out once, and parks again when armed again', () => {
    const { keeper, timers, parked } = setup();
    keeper.arm();
    keeper.arm(); // one timer, not two
    timers.advance(PARK_DELAY_MS - 1);
    expect(parked).toHaveLength(0);
    timers.advance(1);
    expect(parked).toHaveLength(1);
    const taken = keeper.take();
    expect(taken).not.toBeNull();
    expect(keeper.take()).toBeNull();
    keeper.arm();
    timers.advance(PARK_DELAY_MS);
    expect(parked).toHaveLength(2);
    expect(parked.every((p) => !p.discarded)).toBe(true);
  });

  it('parks nothing when not asked for, or when the plugin stopped running before the delay ran out', () => {
    const off = setup({ wanted: false });
    off.keeper.arm();
    off.timers.advance(PARK_DELAY_MS * 2);
    expect(off.parked).toHaveLength(0);

    const stopped = setup();
    stopped.keeper.arm();
    stopped.state.running = false;
    stopped.timers.advance(PARK_DELAY_MS);
    expect(stopped.parked).toHaveLength(0);
  });

  it('drops the standby at rest (killed, its cgroup removed) and cancels a pending park', async () => {
    const { keeper, timers, parked } = setup();
    keeper.arm();
    timers.advance(PARK_DELAY_MS);
    keeper.drop();
    await new Promise((resolve) => setImmediate(resolve));
    expect(parked[0]).toEqual({ discarded: true, cgroupRemoved: true });
    keeper.arm();
    keeper.drop();
    timers.advance(PARK_DELAY_MS);
    expect(parked).toHaveLength(1);
  });

  it('discards instead of handing out a standby the settings no longer ask for', () => {
    const { keeper, timers, state, parked } = setup();
    keeper.arm();
    timers.advance(PARK_DELAY_MS);
    state.wanted = false;
    expect(keeper.take()).toBeNull();
    expect(parked[0]!.discarded).toBe(true);
  });

  it('logs a park that fails and parks nothing', () => {
    const { keeper, timers, warnings } = setup({
      park: () => {
        throw new Error('cgroup: Permission denied');
      },
    });
    keeper.arm();
    timers.advance(PARK_DELAY_MS);
    expect(keeper.take()).toBeNull();
    expect(warnings).toEqual(['could not park a restart standby: cgroup: Permission denied']);
  });
});
