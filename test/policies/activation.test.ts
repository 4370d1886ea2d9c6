import { describe, expect, it } from 'vitest';
import { idleStopDue, launchVerdict, onDemand, startsNow, type DemandFacts } from '../../src/policies/activation.js';
import type { LaunchCause } from '../../src/policies/launch-cause.js';
import { FakeClock } from '../helpers/fake-clock.js';

const CAUSES: LaunchCause[] = ['boot', 'operator', 'config', 'failure', 'dependency', 'approval', 'reload', 'demand'];

describe('activation', () => {
  it('an eager plugin starts for every cause; a lazy one only on demand, by the operator, or after a failure', () => {
    expect(CAUSES.filter((c) => startsNow('eager', c))).toEqual(CAUSES);
    expect(CAUSES.filter((c) => startsNow('lazy', c))).toEqual(['operator', 'failure', 'demand']);
  });

  it('a lazy MCP server whose tools are unknown is started to list them where it would otherwise rest', () => {
    expect(CAUSES.map((c) => launchVerdict('lazy', c, true))).toEqual(['discover', 'start', 'discover', 'start', 'discover', 'discover', 'discover', 'start']);
    expect(CAUSES.map((c) => launchVerdict('lazy', c, false))).toEqual(['rest', 'start', 'rest', 'start', 'rest', 'rest', 'rest', 'start']);
    expect(CAUSES.every((c) => launchVerdict('eager', c, true) === 'start')).toBe(true);
  });

  it('a demand is served by a running plugin, starts a lazy one at rest, waits on one under way, else is refused', () => {
    const lazy = (state: DemandFacts['state'], idle = false, closing = false): DemandFacts => ({ activation: 'lazy', state, idle, closing, booted: true });
    expect(onDemand(lazy('running'))).toBe('serve');
    expect(onDemand({ ...lazy('running'), activation: 'eager' })).toBe('serve');
    expect(onDemand(lazy('stopped', true))).toBe('start');
    expect(onDemand(lazy('starting'))).toBe('wait');
    expect(onDemand(lazy('stopping', true))).toBe('wait');
    // The operator's stop, and every state a demand does not change:
    expect(onDemand(lazy('stopped'))).toBe('refuse');
    expect(onDemand(lazy('stopping'))).toBe('refuse');
    for (const state of ['waiting', 'backoff', 'disabled', 'invalid'] as const) expect(onDemand(lazy(state))).toBe('refuse');
    expect(onDemand({ ...lazy('stopped', true), activation: 'eager' })).toBe('refuse');
    expect(onDemand(lazy('stopped', true, true))).toBe('refuse'); // the daemon is shutting down
    // Before its first launch (a call that reaches the daemon while it boots) it waits for that to decide.
    expect(onDemand({ ...lazy('stopped'), booted: false })).toBe('wait');
    expect(onDemand({ ...lazy('stopped'), booted: false, activation: 'eager' })).toBe('refuse');
  });

  it('idle stop is due once idleStopMs passed since the last activity with nothing in flight', () => {
    const clock = new FakeClock(1_000);
    const facts = (inFlight: number, lastActivityMs: number) => ({ inFlight, lastActivityMs, idleStopMs: 500, nowMs: clock.now() });
    expect(idleStopDue(facts(0, 1_000))).toEqual({ stop: false, checkInMs: 500 });
    clock.advance(300);
    expect(idleStopDue(facts(0, 1_000))).toEqual({ stop: false, checkInMs: 200 });
    clock.advance(200);
    expect(idleStopDue(facts(0, 1_000))).toEqual({ stop: true });
    // A call in flight, however old, keeps it running: look again a whole idleStopMs later.
    clock.advance(10_000);
    expect(idleStopDue(facts(1, 1_000))).toEqual({ stop: false, checkInMs: 500 });
  });
});
