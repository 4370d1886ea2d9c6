/** Time source for the pure policies; tests drive them with a FakeClock instead of timers. */
export interface Clock {
  /** Milliseconds (epoch-based for systemClock). */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

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
