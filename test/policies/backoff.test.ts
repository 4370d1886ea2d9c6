import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/policies/backoff.js';

const S = { initialDelayMs: 100, maxDelayMs: 30_000 };
const mid = () => 0.5; // no jitter

describe('backoffDelay', () => {
  it('doubles from initialDelayMs per failure', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, S, mid))).toEqual([100, 200, 400, 800, 1600]);
  });

  it('caps at maxDelayMs', () => {
    expect(backoffDelay(9, S, mid)).toBe(25_600);
    expect(backoffDelay(10, S, mid)).toBe(30_000);
    expect(backoffDelay(50, S, mid)).toBe(30_000);
  });

  it('jitter stays within [0.8·d, 1.2·d]', () => {
    expect(backoffDelay(3, S, () => 0)).toBe(320);
    expect(backoffDelay(3, S, () => 0.999999)).toBe(480);
    expect(backoffDelay(3, S, () => 0.25)).toBe(360);
    for (let i = 0; i < 1000; i++) {
      const d = backoffDelay(4, S);
      expect(d).toBeGreaterThanOrEqual(640);
      expect(d).toBeLessThanOrEqual(960);
      expect(Number.isInteger(d)).toBe(true);
    }
  });

  it('jitter never exceeds maxDelayMs, and can go below it at the cap', () => {
    expect(backoffDelay(20, S, () => 0.999999)).toBe(30_000);
    expect(backoffDelay(20, S, () => 0)).toBe(24_000);
  });

  it('initialDelayMs 0 always gives 0', () => {
    for (const n of [1, 2, 10, 1e9]) expect(backoffDelay(n, { initialDelayMs: 0, maxDelayMs: 30_000 }, () => 0.9)).toBe(0);
  });

  it('is overflow-safe for huge failure counts', () => {
    for (const n of [1024, 1e6, Number.MAX_SAFE_INTEGER, Infinity]) {
      expect(backoffDelay(n, S, mid)).toBe(30_000);
    }
  });

  it('treats failures < 1 as the first failure and returns integers', () => {
    expect(backoffDelay(0, S, mid)).toBe(100);
    expect(backoffDelay(-3, S, mid)).toBe(100);
    expect(backoffDelay(NaN, S, mid)).toBe(100);
    expect(Number.isInteger(backoffDelay(2, { initialDelayMs: 3, maxDelayMs: 1000 }, () => 0.123))).toBe(true);
  });

  it('rounding never leaves the jitter band', () => {
    // d = 3: band [2.4, 3.6] → integers 3 only
    expect(backoffDelay(1, { initialDelayMs: 3, maxDelayMs: 1000 }, () => 0)).toBe(3);
    expect(backoffDelay(1, { initialDelayMs: 3, maxDelayMs: 1000 }, () => 0.99)).toBe(3);
  });

  it('maxDelayMs below initialDelayMs caps everything', () => {
    expect(backoffDelay(1, { initialDelayMs: 500, maxDelayMs: 200 }, mid)).toBe(200);
  });
});
