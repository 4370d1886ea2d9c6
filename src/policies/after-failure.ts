import type { RestartSettings } from '../config/types.js';
import type { FailureKind } from '../protocol/index.js';
import { backoffDelay } from './backoff.js';
import { describeExhaustion } from './restart-budget.js';

/** What the supervisor knows when a plugin's process has failed. Pure input: no clock, no timers. */
export interface FailureFacts {
  kind: FailureKind;
  message: string;
  /** The restart budget's verdict on this failure (RestartBudget.recordFailure()). */
  budget: { exhausted: boolean; failuresInWindow: number };
  restart: Omit<RestartSettings, 'standby'>;
  /** For the backoff's jitter; Math.random when absent. */
  random?: () => number;
}

/** Give up on it (disable, persisted), or restart it after `delayMs`; `reason` is what status shows either way. */
export type AfterFailure = { action: 'disable'; reason: string } | { action: 'backoff'; delayMs: number; reason: string };

/**
 * The decision after a crash, hang, quota stop or failed start (docs/control-api.md, "Plugin states"): once the restart budget
 * is spent the plugin is disabled ("4 failures in 60s; last: crash: exit code 1"), else it backs off
 * exponentially with jitter ("crash: exit code 1; restarting in 1000ms").
 */
export function decideAfterFailure(facts: FailureFacts): AfterFailure {
  const { kind, message, budget, restart } = facts;
  if (budget.exhausted) {
    return { action: 'disable', reason: describeExhaustion(budget.failuresInWindow, restart.windowMs, `${kind}: ${message}`) };
  }
  const delayMs = backoffDelay(budget.failuresInWindow, restart, facts.random);
  return { action: 'backoff', delayMs, reason: `${kind}: ${message}; restarting in ${delayMs}ms` };
}
