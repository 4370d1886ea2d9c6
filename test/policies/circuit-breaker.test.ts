import { beforeEach, describe, expect, it } from 'vitest';
import type { CircuitState } from '../../src/protocol/index.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { CircuitBreaker, type CircuitPermit } from '../../src/policies/circuit-breaker.js';

let clock: FakeClock;
let changes: string[];
let cb: CircuitBreaker;

function call(outcome: 'success' | 'failure' | 'neutral'): CircuitPermit | null {
  const p = cb.tryAcquire();
  if (p) cb.release(p, outcome);
  return p;
}

function trip(): void {
  for (let i = 0; i < 3; i++) call('failure');
  expect(cb.state).toBe('open');
}

beforeEach(() => {
  clock = new FakeClock(1_000);
  changes = [];
  cb = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 10_000 }, clock, (f: CircuitState, t: CircuitState) =>
    changes.push(`${f}>${t}`),
  );
});

describe('CircuitBreaker', () => {
  it('starts closed and always permits non-trial calls', () => {
    expect(cb.state).toBe('closed');
    const p = cb.tryAcquire();
    expect(p).not.toBeNull();
    expect(p!.trial).toBe(false);
    expect(cb.tryAcquire()).not.toBeNull();
    expect(cb.retryAfterMs()).toBe(0);
  });

  it('opens at the threshold of consecutive failures and fails fast', () => {
    call('failure');
    call('failure');
    expect(cb.state).toBe('closed');
    expect(cb.consecutiveFailures()).toBe(2);
    call('failure');
    expect(cb.state).toBe('open');
    expect(cb.tryAcquire()).toBeNull();
    expect(cb.retryAfterMs()).toBe(10_000);
    clock.advance(4_000);
    expect(cb.retryAfterMs()).toBe(6_000);
    expect(changes).toEqual(['closed>open']);
  });

  it('a success resets the consecutive count', () => {
    call('failure');
    call('failure');
    call('success');
    expect(cb.consecutiveFailures()).toBe(0);
    call('failure');
    call('failure');
    expect(cb.state).toBe('closed');
  });

  it('neutral outcomes neither count nor reset', () => {
    call('failure');
    call('failure');
    for (let i = 0; i < 10; i++) call('neutral');
    expect(cb.consecutiveFailures()).toBe(2);
    expect(cb.state).toBe('closed');
    call('failure');
    expect(cb.state).toBe('open');
  });

  it('becomes half-open once the cooldown has passed (derived on read)', () => {
    trip();
    clock.advance(9_999);
    expect(cb.state).toBe('open');
    expect(cb.tryAcquire()).toBeNull();
    clock.advance(1);
    expect(changes).toEqual(['closed>open']); // not observed yet
    expect(cb.state).toBe('half-open');
    expect(changes).toEqual(['closed>open', 'open>half-open']);
    expect(cb.retryAfterMs()).toBe(0);
  });

  it('allows only one trial at a time in half-open', () => {
    trip();
    clock.advance(10_000);
    const t = cb.tryAcquire();
    expect(t).not.toBeNull();
    expect(t!.trial).toBe(true);
    expect(cb.tryAcquire()).toBeNull();
    expect(cb.tryAcquire()).toBeNull();
    expect(cb.state).toBe('half-open');
  });

  it('a successful trial closes the circuit', () => {
    trip();
    clock.advance(10_000);
    const t = cb.tryAcquire()!;
    cb.release(t, 'success');
    expect(cb.state).toBe('closed');
    expect(cb.consecutiveFailures()).toBe(0);
    expect(cb.tryAcquire()!.trial).toBe(false);
    expect(changes).toEqual(['closed>open', 'open>half-open', 'half-open>closed']);
  });

  it('a failed trial reopens with a fresh cooldown', () => {
    trip();
    clock.advance(15_000);
    const t = cb.tryAcquire()!;
    clock.advance(2_000);
    cb.release(t, 'failure');
    expect(cb.state).toBe('open');
    expect(cb.retryAfterMs()).toBe(10_000);
    expect(cb.tryAcquire()).toBeNull();
    clock.advance(10_000);
    expect(cb.state).toBe('half-open');
    expect(cb.tryAcquire()!.trial).toBe(true);
  });

  it('a neutral trial returns to half-open and allows another trial', () => {
    trip();
    clock.advance(10_000);
    const t = cb.tryAcquire()!;
    cb.release(t, 'neutral');
    expect(cb.state).toBe('half-open');
    const t2 = cb.tryAcquire();
    expect(t2?.trial).toBe(true);
    cb.release(t2!, 'success');
    expect(cb.state).toBe('closed');
  });

  it('late non-trial outcomes do not close the circuit or refresh the cooldown', () => {
    const slow = [cb.tryAcquire()!, cb.tryAcquire()!];
    trip();
    clock.advance(5_000);
    cb.release(slow[0]!, 'failure');
    expect(cb.state).toBe('open');
    expect(cb.retryAfterMs()).toBe(5_000); // not refreshed
    cb.release(slow[1]!, 'success');
    expect(cb.state).toBe('open');
    clock.advance(5_000);
    expect(cb.state).toBe('half-open');
  });

  it('late non-trial outcomes in half-open do not decide; the trial does', () => {
    const slow = [cb.tryAcquire()!, cb.tryAcquire()!];
    trip();
    clock.advance(10_000);
    const t = cb.tryAcquire()!;
    cb.release(slow[0]!, 'success');
    expect(cb.state).toBe('half-open');
    cb.release(slow[1]!, 'failure');
    expect(cb.state).toBe('half-open');
    expect(cb.tryAcquire()).toBeNull(); // trial still in flight
    cb.release(t, 'success');
    expect(cb.state).toBe('closed');
  });

  it('ignores outcomes of permits issued before the circuit last closed, and double releases', () => {
    const stale = cb.tryAcquire()!;
    trip();
    cb.reset();
    expect(cb.state).toBe('closed');
    call('failure');
    call('failure');
    cb.release(stale, 'failure'); // from the old streak
    expect(cb.state).toBe('closed');
    const p = cb.tryAcquire()!;
    cb.release(p, 'failure');
    expect(cb.state).toBe('open');
    cb.release(p, 'failure'); // double release is a no-op
    expect(cb.consecutiveFailures()).toBe(3);
  });

  it('reset closes the circuit and makes an in-flight trial stale', () => {
    trip();
    clock.advance(10_000);
    const t = cb.tryAcquire()!;
    cb.reset();
    expect(cb.state).toBe('closed');
    expect(cb.consecutiveFailures()).toBe(0);
    cb.release(t, 'failure');
    expect(cb.state).toBe('closed');
    expect(cb.consecutiveFailures()).toBe(0);
  });

  it('updateSettings changes the threshold and the current cooldown', () => {
    cb.updateSettings({ failureThreshold: 1, cooldownMs: 10_000 });
    call('failure');
    expect(cb.state).toBe('open');
    cb.updateSettings({ failureThreshold: 1, cooldownMs: 2_000 });
    expect(cb.retryAfterMs()).toBe(2_000);
    clock.advance(2_000);
    expect(cb.state).toBe('half-open');
  });

  it('rejects a permit from elsewhere', () => {
    expect(() => cb.release({ trial: false }, 'success')).toThrow(TypeError);
  });

  it('tells onChange the consecutive failures at each transition, so a listener need not read the breaker back', () => {
    const seen: Array<[CircuitState, CircuitState, number]> = [];
    const b = new CircuitBreaker({ failureThreshold: 2, cooldownMs: 1_000 }, clock, (f, t, failures) => seen.push([f, t, failures]));
    for (let i = 0; i < 2; i++) b.release(b.tryAcquire()!, 'failure');
    clock.advance(1_000);
    b.release(b.tryAcquire()!, 'failure'); // the trial fails
    clock.advance(1_000);
    b.release(b.tryAcquire()!, 'success'); // the next trial succeeds
    expect(seen).toEqual([
      ['closed', 'open', 2],
      ['open', 'half-open', 2],
      ['half-open', 'open', 3],
      ['open', 'half-open', 3],
      ['half-open', 'closed', 0],
    ]);
  });

  it('works without an onChange listener', () => {
    const b = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 0 }, clock);
    b.release(b.tryAcquire()!, 'failure');
    expect(b.state).toBe('half-open'); // cooldown 0: a trial is allowed at once
  });
});
