import type { Clock } from './clock.js';

export interface TokenBucketSettings {
  /** Tokens regained per second of the clock, fractions included. */
  ratePerSec: number;
  /** The most tokens the bucket holds; it starts full. */
  burst: number;
  clock: Clock;
}

/** Refill arithmetic in floating point: 1/3 s at 3 tokens/s must make a whole token. */
const EPSILON = 1e-9;

/**
 * A token bucket: at most `burst` tokens, starting full, regaining `ratePerSec` per second of the
 * clock. Pure: the refill is derived from the clock whenever the bucket is read, never driven by a timer.
 * `take` is all-or-nothing; `charge` may run the bucket into debt, which later refills repay first.
 */
export class TokenBucket {
  private readonly rate: number;
  private readonly burst: number;
  private readonly clock: Clock;
  private tokens: number;
  private last: number;

  constructor(settings: TokenBucketSettings) {
    this.rate = nonNegative(settings.ratePerSec);
    this.burst = nonNegative(settings.burst);
    this.clock = settings.clock;
    this.tokens = this.burst;
    this.last = this.clock.now();
  }

  /** Spends n tokens if that many are there (true); otherwise spends nothing (false). */
  take(n = 1): boolean {
    checkCount(n);
    this.refill();
    if (this.tokens + EPSILON < n) return false;
    this.tokens = Math.max(0, this.tokens - n); // only ever trims the epsilon
    return true;
  }

  /** Spends n tokens whatever is left: work already done (bytes already read) still has to be paid for. */
  charge(n: number): void {
    checkCount(n);
    this.refill();
    this.tokens -= n;
  }

  /** Tokens there now (fractional; negative while in debt). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /** Milliseconds until take(n) can succeed: 0 now, Infinity never (n over burst, or no refill). */
  msUntil(n = 1): number {
    checkCount(n);
    this.refill();
    if (this.tokens + EPSILON >= n) return 0;
    if (n > this.burst || this.rate === 0) return Infinity;
    return Math.ceil(((n - this.tokens) / this.rate) * 1000);
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = now - this.last;
    this.last = now;
    // A clock that steps back refills nothing rather than draining the bucket.
    if (!(elapsed > 0) || this.tokens >= this.burst) return;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed / 1000) * this.rate);
  }
}

/** NaN and negatives mean "none"; Infinity stays (an unlimited bucket). */
function nonNegative(v: number): number {
  return Number.isNaN(v) ? 0 : Math.max(0, v);
}

/** A token count must be a finite number ≥ 0; anything else is a caller's bug. */
function checkCount(n: number): void {
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`TokenBucket: invalid token count ${n}`);
}
