import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { RestartBudget, describeExhaustion } from '../../src/policies/restart-budget.js';

describe('RestartBudget', () => {
  it('is exhausted exactly on failure maxRestarts+1 within the window', () => {
    const clock = new FakeClock(0);
    const b = new RestartBudget({ maxRestarts: 5, windowMs: 60_000 }, clock);
    for (let i = 1; i <= 5; i++) {
      clock.advance(1000);
      expect(b.recordFailure()).toEqual({ exhausted: false, failuresInWindow: i });
    }
    clock.advance(1000);
    expect(b.recordFailure()).toEqual({ exhausted: true, failuresInWindow: 6 });
  });

  it('forgets failures outside the window', () => {
    const clock = new FakeClock(0);
    const b = new RestartBudget({ maxRestarts: 2, windowMs: 10_000 }, clock);
    b.recordFailure(); // t=0
    clock.advance(5000);
    b.recordFailure(); // t=5000
    expect(b.failuresInWindow()).toBe(2);
    clock.advance(5000); // t=10000: the t=0 failure is exactly windowMs old → out
    expect(b.failuresInWindow()).toBe(1);
    expect(b.recordFailure()).toEqual({ exhausted: false, failuresInWindow: 2 });
    clock.advance(9999); // t=19999: only the t=10000 failure is left
    expect(b.failuresInWindow()).toBe(1);
    clock.advance(1);
    expect(b.failuresInWindow()).toBe(0);
  });

  it('spaced-out failures never exhaust', () => {
    const clock = new FakeClock(0);
    const b = new RestartBudget({ maxRestarts: 1, windowMs: 1000 }, clock);
    for (let i = 0; i < 100; i++) {
      expect(b.recordFailure().exhausted).toBe(false);
      clock.advance(1000);
    }
  });

  it('reset starts over with a full budget', () => {
    const clock = new FakeClock(0);
    const b = new RestartBudget({ maxRestarts: 1, windowMs: 60_000 }, clock);
    b.recordFailure();
    expect(b.recordFailure().exhausted).toBe(true);
    b.reset();
    expect(b.failuresInWindow()).toBe(0);
    expect(b.recordFailure()).toEqual({ exhausted: false, failuresInWindow: 1 });
  });

  it('maxRestarts 0 is exhausted by the first failure', () => {
    const b = new RestartBudget({ maxRestarts: 0, windowMs: 60_000 }, new FakeClock());
    expect(b.recordFailure()).toEqual({ exhausted: true, failuresInWindow: 1 });
  });

  it('updateSettings applies the new window and limit to existing history', () => {
    const clock = new FakeClock(0);
    const b = new RestartBudget({ maxRestarts: 5, windowMs: 60_000 }, clock);
    b.recordFailure();
    clock.advance(20_000);
    b.recordFailure();
    b.updateSettings({ maxRestarts: 1, windowMs: 10_000 });
    expect(b.failuresInWindow()).toBe(1);
    expect(b.recordFailure()).toEqual({ exhausted: true, failuresInWindow: 2 });
  });
});

describe('describeExhaustion', () => {
  it('renders counts, windows and the last failure', () => {
    expect(describeExhaustion(6, 60_000, 'exit code 1')).toBe('6 failures in 60s; last: exit code 1');
    expect(describeExhaustion(1, 500, 'hang')).toBe('1 failure in 500ms; last: hang');
    expect(describeExhaustion(3, 1500, 'quota: memoryMb 300 > 256')).toBe('3 failures in 1.5s; last: quota: memoryMb 300 > 256');
    expect(describeExhaustion(2, 1000, 'x')).toBe('2 failures in 1s; last: x');
    expect(describeExhaustion(0, 999, '')).toBe('0 failures in 999ms');
  });
});
