// Every plugin host's health checks share one timer per interval: one wake-up checks them all.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { onHealthTick } from '../../src/host/health-ticks.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('onHealthTick', () => {
  it('runs every joined check on one timer per interval, and stops the timer when the last one leaves', () => {
    const runs: string[] = [];
    const leaveA = onHealthTick(5000, () => runs.push('a'));
    const leaveB = onHealthTick(5000, () => runs.push('b'));
    const leaveC = onHealthTick(2000, () => runs.push('c'));
    expect(vi.getTimerCount()).toBe(2);
    vi.advanceTimersByTime(5000);
    expect(runs.sort()).toEqual(['a', 'b', 'c', 'c']);
    leaveA();
    leaveA(); // twice is harmless
    runs.length = 0;
    vi.advanceTimersByTime(5000);
    expect(runs.filter((r) => r !== 'c')).toEqual(['b']);
    leaveB();
    leaveC();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('lets a check leave during the tick that runs it without skipping the others', () => {
    const runs: string[] = [];
    const leaveFirst = onHealthTick(1000, () => {
      runs.push('first');
      leaveFirst();
    });
    const leaveSecond = onHealthTick(1000, () => runs.push('second'));
    vi.advanceTimersByTime(1000);
    vi.advanceTimersByTime(1000);
    expect(runs).toEqual(['first', 'second', 'second']);
    leaveSecond();
    expect(vi.getTimerCount()).toBe(0);
  });
});
