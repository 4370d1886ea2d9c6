import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/policies/clock.js';
import { FakeClock } from '../helpers/fake-clock.js';

describe('clocks', () => {
  it('FakeClock starts, advances and sets', () => {
    const c = new FakeClock(1000);
    expect(c.now()).toBe(1000);
    c.advance(250);
    expect(c.now()).toBe(1250);
    c.set(5);
    expect(c.now()).toBe(5);
    expect(new FakeClock().now()).toBe(0);
    expect(() => c.advance(-1)).toThrow(RangeError);
  });

  it('systemClock follows Date.now', () => {
    const before = Date.now();
    const t = systemClock.now();
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(Date.now());
  });
});
