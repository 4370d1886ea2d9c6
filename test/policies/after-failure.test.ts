import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { decideAfterFailure } from '../../src/policies/after-failure.js';
import { RestartBudget } from '../../src/policies/restart-budget.js';

const restart = { initialDelayMs: 100, maxDelayMs: 30_000, maxRestarts: 3, windowMs: 60_000 };
const mid = () => 0.5; // no jitter

describe('decideAfterFailure', () => {
  it('backs off exponentially while the budget lasts, saying what failed and when it restarts', () => {
    const decisions = [1, 2, 3].map((failuresInWindow) =>
      decideAfterFailure({ kind: 'crash', message: 'exit code 1', budget: { exhausted: false, failuresInWindow }, restart, random: mid }),
    );
    expect(decisions).toEqual([
      { action: 'backoff', delayMs: 100, reason: 'crash: exit code 1; restarting in 100ms' },
      { action: 'backoff', delayMs: 200, reason: 'crash: exit code 1; restarting in 200ms' },
      { action: 'backoff', delayMs: 400, reason: 'crash: exit code 1; restarting in 400ms' },
    ]);
  });

  it('disables once the budget is spent, with the count, the window and the last failure', () => {
    expect(
      decideAfterFailure({ kind: 'start', message: 'exited during start (exit code 3)', budget: { exhausted: true, failuresInWindow: 4 }, restart }),
    ).toEqual({ action: 'disable', reason: '4 failures in 60s; last: start: exited during start (exit code 3)' });
  });

  it('names every kind of failure the same way', () => {
    for (const kind of ['crash', 'hang', 'quota', 'start'] as const) {
      const decision = decideAfterFailure({ kind, message: 'm', budget: { exhausted: false, failuresInWindow: 1 }, restart, random: mid });
      expect(decision.reason).toBe(`${kind}: m; restarting in 100ms`);
    }
  });

  it('takes the jitter from the random source it is given', () => {
    const low = decideAfterFailure({ kind: 'crash', message: 'x', budget: { exhausted: false, failuresInWindow: 3 }, restart, random: () => 0 });
    const high = decideAfterFailure({ kind: 'crash', message: 'x', budget: { exhausted: false, failuresInWindow: 3 }, restart, random: () => 0.999999 });
    expect([low, high].map((d) => (d.action === 'backoff' ? d.delayMs : null))).toEqual([320, 480]);
  });

  it('follows the restart budget it is given: maxRestarts restarts, then disabled', () => {
    const clock = new FakeClock(0);
    const budget = new RestartBudget(restart, clock);
    const actions = [];
    for (let i = 0; i < 4; i++) {
      clock.advance(1000);
      actions.push(decideAfterFailure({ kind: 'crash', message: 'x', budget: budget.recordFailure(), restart, random: mid }).action);
    }
    expect(actions).toEqual(['backoff', 'backoff', 'backoff', 'disable']);
  });
});
