import type { CircuitSettings } from '../config/types.js';
import type { CircuitState } from '../protocol/index.js';
import type { CallOutcome } from './call-outcome.js';
import type { Clock } from './clock.js';

export type { CircuitSettings };

export interface CircuitPermit {
  readonly trial: boolean;
}

/** Internal permit: remembers which closed period it was issued in, and whether it was released. */
class Permit implements CircuitPermit {
  released = false;
  constructor(
    readonly trial: boolean,
    readonly epoch: number,
  ) {}
}

type Phase = CircuitState;

/**
 * Per-plugin circuit breaker (docs/protocol.md, "Errors and the circuit"). Pure: the open → half-open move is derived from the
 * clock whenever the breaker is read, never driven by a timer.
 *
 * onChange fires synchronously for every transition, including the derived open → half-open one;
 * that one is reported when it is first observed (by state, tryAcquire, release, retryAfterMs or
 * consecutiveFailures), not at the instant the cooldown ends. Its third argument is the count of
 * consecutive failed calls at that moment (0 once closed), so a listener need not read the breaker back.
 */
export class CircuitBreaker {
  private settings: CircuitSettings;
  private readonly clock: Clock;
  private readonly onChange: ((from: CircuitState, to: CircuitState, failures: number) => void) | undefined;

  private phase: Phase = 'closed';
  private openedAt = 0;
  private consecutive = 0;
  private trial: Permit | null = null;
  /**
   * Bumped whenever the circuit closes again (trial success, reset). Outcomes of permits issued
   * before that belong to the failure streak that was already judged, so they are ignored.
   */
  private epoch = 0;

  constructor(
    settings: CircuitSettings,
    clock: Clock,
    onChange?: (from: CircuitState, to: CircuitState, failures: number) => void,
  ) {
    this.settings = normalize(settings);
    this.clock = clock;
    this.onChange = onChange;
  }

  /** 'open' becomes 'half-open' once cooldownMs has passed since it opened (derived on read, no timers). */
  get state(): CircuitState {
    this.refresh();
    return this.phase;
  }

  /** A permit to make one call, or null to fail fast (-32003). Closed: always. Half-open: exactly one trial in flight at a time. Open: null. */
  tryAcquire(): CircuitPermit | null {
    this.refresh();
    switch (this.phase) {
      case 'closed':
        return new Permit(false, this.epoch);
      case 'half-open':
        if (this.trial !== null) return null;
        this.trial = new Permit(true, this.epoch);
        return this.trial;
      case 'open':
        return null;
    }
  }

  /**
   * Report the outcome of a permitted call. 'neutral' is a failure that does not count (the caller's
   * fault: see classifyCallOutcome): it neither trips nor closes the circuit, but a trial permit is released.
   * Releasing the same permit twice, or a permit from before the circuit last closed, is ignored.
   */
  release(permit: CircuitPermit, outcome: CallOutcome): void {
    if (!(permit instanceof Permit)) throw new TypeError('CircuitBreaker.release: not a permit from this breaker');
    if (permit.released) return;
    permit.released = true;
    this.refresh();

    if (permit.trial) {
      if (permit !== this.trial) return; // stale trial (e.g. after reset)
      this.trial = null;
      if (outcome === 'success') {
        this.close();
      } else if (outcome === 'failure') {
        this.consecutive++;
        this.open(); // fresh cooldown
      }
      // neutral: stays half-open, the next tryAcquire gets a new trial
      return;
    }

    if (permit.epoch !== this.epoch || outcome === 'neutral') return;

    if (this.phase === 'closed') {
      if (outcome === 'success') {
        this.consecutive = 0;
      } else {
        this.consecutive++;
        if (this.consecutive >= this.settings.failureThreshold) this.open();
      }
      return;
    }
    // A non-trial call started while closed, finishing while open/half-open: a failure extends
    // the streak but does not refresh the cooldown; a success does not close (only a trial does).
    if (outcome === 'failure') this.consecutive++;
  }

  consecutiveFailures(): number {
    this.refresh();
    return this.consecutive;
  }

  /** Operator action (enable, restart): closed, count 0; in-flight permits become stale. */
  reset(): void {
    this.refresh();
    this.consecutive = 0;
    this.close();
  }

  /** Takes effect at once: a new cooldown applies to the current open period; a lower threshold trips on the next failure. */
  updateSettings(settings: CircuitSettings): void {
    this.settings = normalize(settings);
    this.refresh();
  }

  /** ms until a trial is allowed, or 0 (closed, or half-open — even with a trial in flight, when the wait is unknown). */
  retryAfterMs(): number {
    this.refresh();
    if (this.phase !== 'open') return 0;
    return Math.max(0, Math.ceil(this.openedAt + this.settings.cooldownMs - this.clock.now()));
  }

  private refresh(): void {
    if (this.phase === 'open' && this.clock.now() - this.openedAt >= this.settings.cooldownMs) {
      this.setPhase('half-open');
    }
  }

  private open(): void {
    this.openedAt = this.clock.now();
    this.trial = null;
    this.setPhase('open');
  }

  private close(): void {
    this.consecutive = 0;
    this.trial = null;
    this.epoch++;
    this.setPhase('closed');
  }

  private setPhase(next: Phase): void {
    const from = this.phase;
    if (from === next) return;
    this.phase = next;
    this.onChange?.(from, next, this.consecutive);
  }
}

function normalize(s: CircuitSettings): CircuitSettings {
  return {
    // A threshold below 1 would open on no failures at all; treat it as 1.
    failureThreshold: Number.isNaN(s.failureThreshold) ? 1 : Math.max(1, Math.floor(s.failureThreshold)),
    cooldownMs: Number.isNaN(s.cooldownMs) ? 0 : Math.max(0, s.cooldownMs),
  };
}
