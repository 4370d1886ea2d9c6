import { describe, expect, it } from 'vitest';
import { startBlockedBy, type WallFacts } from '../../src/policies/start-gate.js';

const whole: WallFacts = { required: true, hasWall: true, wallProblem: null, hasCgroup: true, cgroupProblem: null };
const approved = { approved: true } as const;

describe('startBlockedBy', () => {
  it('lets a start through when approved and the wall is there, or not required', () => {
    expect(startBlockedBy(approved, whole)).toBeNull();
    expect(startBlockedBy(approved, { required: false, hasWall: false, wallProblem: 'no bwrap', hasCgroup: false, cgroupProblem: 'no cgroup' })).toBeNull();
  });

  it('waits for the operator\'s approval first', () => {
    const waiting = { approved: false, waiting: 'waiting for the operator to approve: network' } as const;
    expect(startBlockedBy(waiting, { ...whole, hasWall: false, wallProblem: 'no bwrap' })).toBe(waiting.waiting);
  });

  it('waits for the wall when it is required and missing, naming the problem', () => {
    expect(startBlockedBy(approved, { ...whole, hasWall: false, wallProblem: 'bwrap is not installed' })).toBe(
      'waiting for the wall: sandbox.require is true and this host cannot build it (bwrap is not installed)',
    );
    expect(startBlockedBy(approved, { ...whole, hasCgroup: false, cgroupProblem: 'no delegation' })).toBe(
      'waiting for the wall: sandbox.require is true and this host gives no cgroup for kernel limits (no delegation)',
    );
  });
});
