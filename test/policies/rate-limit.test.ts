import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { TokenBucket } from '../../src/policies/rate-limit.js';

const bucket = (ratePerSec: number, burst: number, clock = new FakeClock(1000)) => ({
  clock,
  b: new TokenBucket({ ratePerSec, burst, clock }),
});

/** How many take() calls succeed right now, up to `max`. */
const drain = (b: TokenBucket, max = 10_000): number => {
  let n = 0;
  while (n < max && b.take()) n++;
  return n;
};

describe('TokenBucket', () => {
  it('starts full: exactly burst takes succeed at once', () => {
    const { b } = bucket(10, 5);
    expect(drain(b)).toBe(5);
    expect(b.take()).toBe(false);
  });

  it('refills at ratePerSec', () => {
    const { b, clock } = bucket(10, 5);
    drain(b);
    clock.advance(100);
    expect(drain(b)).toBe(1);
    clock.advance(300);
    expect(drain(b)).toBe(3);
    clock.advance(99);
    expect(b.take()).toBe(false);
  });

  it('never holds more than burst, however long it idles', () => {
    const { b, clock } = bucket(100, 5);
    drain(b);
    clock.advance(3_600_000);
    expect(b.available()).toBe(5);
    expect(drain(b)).toBe(5);
  });

  it('accumulates fractional refills', () => {
    const { b, clock } = bucket(2, 1);
    expect(b.take()).toBe(true);
    clock.advance(250);
    expect(b.take()).toBe(false); // half a token
    expect(b.available()).toBeCloseTo(0.5);
    clock.advance(250);
    expect(b.take()).toBe(true); // the two halves make one

    const thirds = bucket(3, 1);
    thirds.b.take();
    for (let i = 0; i < 3; i++) thirds.clock.advance(1000 / 9);
    expect(thirds.b.take()).toBe(true); // 3 × 1/3 token, despite floating point
  });

  it('take(n) is all or nothing', () => {
    const { b } = bucket(1, 10);
    expect(b.take(7)).toBe(true);
    expect(b.take(4)).toBe(false);
    expect(b.available()).toBe(3);
    expect(b.take(3)).toBe(true);
    expect(b.take(0)).toBe(true);
    expect(b.take(11)).toBe(false);
  });

  it('charge runs into debt that refills repay first', () => {
    const { b, clock } = bucket(1000, 100);
    b.charge(600);
    expect(b.available()).toBe(-500);
    expect(b.take()).toBe(false);
    expect(b.msUntil(1)).toBe(501);
    clock.advance(500);
    expect(b.take()).toBe(false);
    clock.advance(1);
    expect(b.take()).toBe(true);
  });

  it('msUntil: 0 when possible, Infinity when never', () => {
    const { b } = bucket(10, 5);
    expect(b.msUntil(5)).toBe(0);
    drain(b);
    expect(b.msUntil(2)).toBe(200);
    expect(b.msUntil(6)).toBe(Infinity);
    const frozen = bucket(0, 1).b;
    frozen.take();
    expect(frozen.msUntil()).toBe(Infinity);
  });

  it('a clock stepping back refills nothing, and bad counts throw', () => {
    const { b, clock } = bucket(10, 5);
    drain(b);
    clock.set(0);
    expect(b.take()).toBe(false);
    clock.advance(100);
    expect(b.take()).toBe(true);
    expect(() => b.take(-1)).toThrow(RangeError);
    expect(() => b.take(NaN)).toThrow(RangeError);
    expect(() => b.charge(Infinity)).toThrow(RangeError);
  });

  it('treats a NaN or negative rate and burst as zero, Infinity as unlimited', () => {
    const clock = new FakeClock(0);
    const none = new TokenBucket({ ratePerSec: NaN, burst: -3, clock });
    expect(none.take()).toBe(false);
    const unlimited = new TokenBucket({ ratePerSec: Infinity, burst: Infinity, clock });
    expect(drain(unlimited)).toBe(10_000);
  });
});
