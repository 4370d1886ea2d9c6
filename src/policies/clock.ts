/** Time source for the pure policies; tests drive them with a FakeClock (test/helpers/fake-clock.ts) instead of timers. */
export interface Clock {
  /** Milliseconds (epoch-based for systemClock). */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
