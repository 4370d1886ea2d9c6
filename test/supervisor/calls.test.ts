import { beforeEach, describe, expect, it } from 'vitest';
import type { PluginHost } from '../../src/host/plugin-host.js';
import { RpcError } from '../../src/protocol/index.js';
import { noMetrics } from '../../src/metrics/types.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { CallGate } from '../../src/supervisor/calls.js';

type Line = [level: 'info' | 'warn', fields: Record<string, unknown>, msg: string];

let clock: FakeClock;
let lines: Line[];
let counted: string[];
let gate: CallGate;

/** A stand-in for the plugin's process: each method answers with a value, or fails with an RpcError. */
const answers: Record<string, () => unknown> = {
  echo: () => 'ok',
  fail: () => new RpcError(1001, 'boom', { stack: 'Error: boom\n    at fail' }),
  badInput: () => new RpcError(1002, 'amount must be positive', { callerFault: true, stack: 'x' }),
  badParams: () => new RpcError(-32602, 'expected {amount}'),
  missing: () => new RpcError(-32601, 'method not found: missing'),
  multiline: () => new RpcError(1003, 'first line\nsecond line\nthird line'),
};
const host = {
  declares: () => true,
  request: async (method: string) => {
    const answer = answers[method]!();
    if (answer instanceof RpcError) throw answer;
    return answer;
  },
} as unknown as PluginHost;

async function call(method: string): Promise<number | 'ok'> {
  return gate.call(host, method, null, 1000).then(
    () => 'ok' as const,
    (error: RpcError) => error.code,
  );
}

beforeEach(() => {
  clock = new FakeClock(1_000);
  lines = [];
  counted = [];
  const record = (level: Line[0]) => (fields: object, msg: string) => lines.push([level, fields as Record<string, unknown>, msg]);
  gate = new CallGate({
    plugin: 'alpha',
    circuit: { failureThreshold: 2, cooldownMs: 10_000 },
    clock,
    metrics: noMetrics,
    onFailure: (method) => counted.push(method),
    log: () => ({ info: record('info'), warn: record('warn') }),
  });
});

describe('CallGate: which failed calls count against the circuit', () => {
  it('does not open on errors that are the caller\'s fault: -32601, -32602 and error.data.callerFault', async () => {
    for (let i = 0; i < 5; i++) {
      expect(await call('badInput')).toBe(1002);
      expect(await call('badParams')).toBe(-32602);
      expect(await call('missing')).toBe(-32601);
    }
    expect(gate.circuitState).toBe('closed');
    expect(counted).toEqual([]);
    // They are still the plugin's recent errors, for `plugin.get`.
    expect(gate.recentErrors()).toHaveLength(15);

    expect(await call('fail')).toBe(1001);
    expect(await call('badInput')).toBe(1002); // does not break the streak either
    expect(await call('fail')).toBe(1001);
    expect(gate.circuitState).toBe('open');
    expect(await call('echo')).toBe(-32003);
    expect(counted).toEqual(['fail', 'fail']);
  });

  it('a caller\'s-fault answer to the trial neither closes nor reopens the circuit; a success closes it', async () => {
    await call('fail');
    await call('fail');
    clock.advance(10_000);
    expect(gate.circuitState).toBe('half-open');
    expect(await call('badInput')).toBe(1002);
    expect(gate.circuitState).toBe('half-open');
    expect(await call('echo')).toBe('ok');
    expect(gate.circuitState).toBe('closed');
  });

  it('an operator reset closes an open circuit at once', async () => {
    await call('fail');
    await call('fail');
    expect(gate.circuitState).toBe('open');
    gate.reset('restart by the operator');
    expect(gate.circuitState).toBe('closed');
    expect(await call('echo')).toBe('ok');
  });
});

describe('CallGate: what it logs', () => {
  it('each failed call in one line with its method, code and message; the caller\'s fault at info', async () => {
    await call('fail');
    await call('badInput');
    await call('multiline');
    expect(lines.filter(([, fields]) => 'method' in fields)).toEqual([
      ['warn', { method: 'fail', code: 1001 }, 'call fail failed: 1001 boom'],
      ['info', { method: 'badInput', code: 1002 }, "call badInput failed: 1002 amount must be positive (the caller's fault: not counted against the circuit)"],
      ['warn', { method: 'multiline', code: 1003 }, 'call multiline failed: 1003 first line …'],
    ]);
  });

  it('the circuit opening, turning half-open, closing after the trial, and opening again after a failed trial', async () => {
    await call('fail');
    await call('fail');
    const circuitLines = () => lines.filter(([, fields]) => 'circuit' in fields);
    expect(circuitLines()).toEqual([
      ['warn', { circuit: 'open', failures: 2, cooldownMs: 10_000 }, 'circuit open after 2 consecutive failed calls: calls fail fast with -32003 for 10s'],
    ]);
    clock.advance(10_000);
    expect(gate.circuitState).toBe('half-open');
    await call('fail');
    clock.advance(10_000);
    await call('echo');
    expect(circuitLines().slice(1)).toEqual([
      ['info', { circuit: 'half-open' }, 'circuit half-open: the next call is a trial'],
      ['warn', { circuit: 'open', failures: 3, cooldownMs: 10_000 }, 'circuit open again: the trial call failed; calls fail fast with -32003 for 10s'],
      ['info', { circuit: 'half-open' }, 'circuit half-open: the next call is a trial'],
      ['info', { circuit: 'closed' }, 'circuit closed: the trial call succeeded'],
    ]);
  });

  it('an operator reset, with who closed it; nothing when it was closed already', async () => {
    gate.reset('restart by the operator');
    expect(lines).toEqual([]);
    await call('fail');
    await call('fail');
    lines.length = 0;
    gate.reset('restart by the operator');
    expect(lines).toEqual([['info', { circuit: 'closed' }, 'circuit closed: restart by the operator']]);
  });
});
