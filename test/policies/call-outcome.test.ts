import { describe, expect, it } from 'vitest';
import { classifyCallOutcome } from '../../src/policies/call-outcome.js';

describe('classifyCallOutcome', () => {
  it('counts a plugin error, a timeout and an exit against the circuit', () => {
    expect(classifyCallOutcome({ code: 1001, data: { stack: 'Error: boom' } })).toBe('failure');
    expect(classifyCallOutcome({ code: -32603 })).toBe('failure');
    expect(classifyCallOutcome({ code: -32004 })).toBe('failure');
    expect(classifyCallOutcome({ code: -32006 })).toBe('failure');
  });

  it('does not count "method not found" and "invalid params"', () => {
    expect(classifyCallOutcome({ code: -32601 })).toBe('neutral');
    expect(classifyCallOutcome({ code: -32602, data: { stack: 'x' } })).toBe('neutral');
  });

  it('does not count an error the plugin marks as the caller\'s fault, whatever its code', () => {
    expect(classifyCallOutcome({ code: 1002, data: { callerFault: true, stack: 'x' } })).toBe('neutral');
    expect(classifyCallOutcome({ code: -32000, data: { callerFault: true } })).toBe('neutral');
  });

  it('counts an error whose callerFault is anything but true', () => {
    for (const data of [{ callerFault: 'true' }, { callerFault: 1 }, { callerFault: false }, null, undefined, 'callerFault', [true]]) {
      expect(classifyCallOutcome({ code: 1002, data })).toBe('failure');
    }
  });

  it('counts a timeout or an exit even when marked as the caller\'s fault: the daemon saw the plugin fail', () => {
    expect(classifyCallOutcome({ code: -32004, data: { callerFault: true } })).toBe('failure');
    expect(classifyCallOutcome({ code: -32006, data: { callerFault: true } })).toBe('failure');
  });
});
