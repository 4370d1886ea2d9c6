import type { Clock } from '../../src/policies/clock.js';

/** A clock the tests move by hand, so the pure policies run without timers. */
export class FakeClock implements Clock {
  private t: number;

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`FakeClock.advance: invalid ms ${ms}`);
    this.t += ms;
  }

  set(ms: number): void {
    if (!Number.isFinite(ms)) throw new RangeError(`FakeClock.set: invalid ms ${ms}`);
    this.t = ms;
  }
}
