/**
 * The moving parts of lazy activation for one plugin (the decisions are src/policies/activation.ts):
 * its activity (calls in flight, the last call or event) with the one timer that looks for idleness,
 * and a signal for whoever waits on a start or an idle stop under way.
 */
import type { Clock } from '../policies/clock.js';
import { idleStopDue } from '../policies/activation.js';
import type { Timers } from './timers.js';

/** Calls in flight and the last activity of a running lazy plugin; `onIdle` once idleStopDue says stop. */
export class IdleWatch {
  private inFlight = 0;
  private lastActivityMs = 0;
  private idleStopMs = 0;
  private timer: unknown = null;

  constructor(
    private readonly clock: Clock,
    private readonly timers: Timers,
    private readonly onIdle: () => void,
  ) {}

  /** Starts watching (the process runs): activity counts from now; one timer, re-armed only when it fires. */
  arm(idleStopMs: number): void {
    this.disarm();
    this.idleStopMs = idleStopMs;
    this.lastActivityMs = this.clock.now();
    this.schedule(idleStopMs);
  }

  /** A running plugin: watched for idleness if its manifest makes it lazy, else not. */
  follow(manifest: { activation: string; idleStopMs: number } | null): void {
    if (manifest?.activation === 'lazy') this.arm(manifest.idleStopMs);
    else this.disarm();
  }

  /** How long it may be idle before it stops, as armed (0: started only to list its tools). */
  get windowMs(): number {
    return this.idleStopMs;
  }

  /** Stops watching (the process is going or gone). */
  disarm(): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  /** A call begins: it keeps the plugin busy until end(). */
  begin(): void {
    this.inFlight++;
    this.lastActivityMs = this.clock.now();
  }

  /** A call ended: the idle time counts from now. */
  end(): void {
    this.inFlight--;
    this.lastActivityMs = this.clock.now();
  }

  /** An event delivered. */
  touch(): void {
    this.lastActivityMs = this.clock.now();
  }

  /** Whether it has been idle long enough now (checked again under the plugin's lock before stopping). */
  due(): boolean {
    return idleStopDue(this.facts()).stop;
  }

  /** What idleStopDue reads, as of now. */
  private facts() {
    return { inFlight: this.inFlight, lastActivityMs: this.lastActivityMs, idleStopMs: this.idleStopMs, nowMs: this.clock.now() };
  }

  /** The one timer: when it fires, stop, or look again when idleness could next be due. */
  private schedule(ms: number): void {
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      const verdict = idleStopDue(this.facts());
      if (verdict.stop) this.onIdle();
      else this.schedule(verdict.checkInMs);
    }, ms);
  }
}

/** Resolves whoever waits for the plugin's next state change (or their own deadline). */
export class StateSignal {
  private waiters: Array<() => void> = [];

  constructor(private readonly timers: Timers) {}

  /** Resolves at the next state change, or after `timeoutMs`, whichever comes first. */
  next(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        this.timers.clearTimeout(timer);
        resolve();
      };
      const timer = this.timers.setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve();
      }, Math.max(0, timeoutMs));
      this.waiters.push(wake);
    });
  }

  /** A state change: every waiter looks again. */
  fire(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
