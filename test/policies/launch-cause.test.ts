import { describe, expect, it } from 'vitest';
import { countsAsRestart, startsWithClosedCircuit, type LaunchCause } from '../../src/policies/launch-cause.js';

const CAUSES: LaunchCause[] = ['boot', 'operator', 'config', 'failure', 'dependency', 'approval', 'reload', 'demand'];

describe('countsAsRestart', () => {
  it('counts only the restarts a failure caused (crash, hang, quota, failed start)', () => {
    expect(CAUSES.filter(countsAsRestart)).toEqual(['failure']);
  });
});

describe('startsWithClosedCircuit', () => {
  it('closes the circuit for the operator\'s start, restart or enable and for a config that enables it again', () => {
    expect(CAUSES.filter(startsWithClosedCircuit)).toEqual(['operator', 'config']);
  });

  it('keeps the circuit as it is across a restart after a failure', () => {
    expect(startsWithClosedCircuit('failure')).toBe(false);
  });
});
