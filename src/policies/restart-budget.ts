import type { Clock } from './clock.js';

export interface RestartBudgetSettings {
  maxRestarts: number;
  windowMs: number;
}

/**
 * Restart intensity in the manner of an Erlang/OTP supervisor: more than maxRestarts
 * failures within windowMs means restarting is not helping, so the plugin is given up on.
 * A failure at time t is inside the window while now − t < windowMs.
 */
export class RestartBudget {
  private settings: RestartBudgetSettings;
  private readonly clock: Clock;
  /** Failure times, oldest first. */
  private times: number[] = [];

  constructor(settings: RestartBudgetSettings, clock: Clock) {
    this.settings = normalize(settings);
    this.clock = clock;
  }

  /** Records one failure now; exhausted is true when this failure makes MORE than maxRestarts failures within the last windowMs. */
  recordFailure(): { exhausted: boolean; failuresInWindow: number } {
    const now = this.clock.now();
    this.times.push(now);
    this.prune(now);
    const failuresInWindow = this.times.length;
    return { exhausted: failuresInWindow > this.settings.maxRestarts, failuresInWindow };
  }

  /** Failures inside the window as of now (prunes old ones). */
  failuresInWindow(): number {
    this.prune(this.clock.now());
    return this.times.length;
  }

  /** Operator enable: start over with a full budget. */
  reset(): void {
    this.times = [];
  }

  /** History is kept; the new window applies from the next read. */
  updateSettings(settings: RestartBudgetSettings): void {
    this.settings = normalize(settings);
  }

  private prune(now: number): void {
    const cutoff = now - this.settings.windowMs;
    let i = 0;
    while (i < this.times.length && this.times[i]! <= cutoff) i++;
    if (i > 0) this.times.splice(0, i);
  }
}

function normalize(s: RestartBudgetSettings): RestartBudgetSettings {
  return {
    maxRestarts: Number.isFinite(s.maxRestarts) ? Math.max(0, Math.floor(s.maxRestarts)) : s.maxRestarts > 0 ? Infinity : 0,
    windowMs: Number.isNaN(s.windowMs) ? 0 : Math.max(0, s.windowMs),
  };
}

/** e.g. "6 failures in 60s; last: exit code 1" (window rendered in s, or ms when under 1 s; "1 failure" singular). */
export function describeExhaustion(failures: number, windowMs: number, last: string): string {
  const noun = failures === 1 ? 'failure' : 'failures';
  const window = windowMs < 1000 ? `${Math.round(windowMs)}ms` : `${trimNumber(windowMs / 1000)}s`;
  const tail = last.trim() === '' ? '' : `; last: ${last}`;
  return `${failures} ${noun} in ${window}${tail}`;
}

function trimNumber(n: number): string {
  // At most millisecond precision, without trailing zeros: 60 → "60", 1.5 → "1.5".
  return String(Number(n.toFixed(3)));
}
