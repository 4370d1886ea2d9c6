import { describe, expect, it } from 'vitest';
import type { Limits } from '../../src/config/types.js';
import type { UsageSample } from '../../src/quotas/types.js';
import { initialVerdictState, judge, type VerdictState } from '../../src/quotas/verdict.js';

const MB = 2 ** 20;
const limits: Limits = { memoryMb: 128, cpuPercent: 50, handles: 256, processes: 16 };

function sample(over: Partial<UsageSample> = {}): UsageSample {
  return { cpuPercent: 1, memoryBytes: 10 * MB, handles: 10, processes: 1, pids: [1], time: 0, ...over };
}

/** Feeds samples in order, returning every verdict. */
function run(samples: UsageSample[], options?: Parameters<typeof judge>[3]) {
  let state: VerdictState = initialVerdictState();
  return samples.map((s) => {
    const verdict = judge(s, limits, state, options);
    state = verdict.state;
    return verdict;
  });
}

describe('judge', () => {
  it('finds nothing in a quiet sample', () => {
    const verdict = judge(sample(), limits, initialVerdictState());
    expect(verdict).toMatchObject({ breach: null, warnings: [], hot: false });
  });

  it('breaches memory at once, only strictly over the limit', () => {
    expect(judge(sample({ memoryBytes: 128 * MB }), limits, initialVerdictState()).breach).toBeNull();
    const { breach } = judge(sample({ memoryBytes: 131 * MB }), limits, initialVerdictState());
    expect(breach).toEqual({ limit: 'memoryMb', measured: 131, allowed: 128, message: 'memory 131 MB over limit 128 MB' });
  });

  it('rounds MB in messages', () => {
    const { breach } = judge(sample({ memoryBytes: 130.6 * MB }), limits, initialVerdictState());
    expect(breach?.message).toBe('memory 131 MB over limit 128 MB');
  });

  it('breaches handles and processes over their limits', () => {
    expect(judge(sample({ handles: 256 }), limits, initialVerdictState()).breach).toBeNull();
    expect(judge(sample({ handles: 270 }), limits, initialVerdictState()).breach).toEqual({
      limit: 'handles', measured: 270, allowed: 256, message: 'handles 270 over limit 256',
    });
    expect(judge(sample({ processes: 16 }), limits, initialVerdictState()).breach).toBeNull();
    expect(judge(sample({ processes: 17 }), limits, initialVerdictState()).breach).toEqual({
      limit: 'processes', measured: 17, allowed: 16, message: 'processes 17 over limit 16',
    });
  });

  it('breaches CPU only after cpuSamples consecutive samples over the limit', () => {
    const verdicts = run([sample({ cpuPercent: 187 }), sample({ cpuPercent: 187 }), sample({ cpuPercent: 187 })]);
    expect(verdicts.map((v) => v.breach)).toEqual([null, null, {
      limit: 'cpuPercent', measured: 187, allowed: 50, message: 'cpu 187% over limit 50% for 3 samples',
    }]);
    expect(verdicts.map((v) => v.state.cpuOverSamples)).toEqual([1, 2, 3]);
  });

  it('resets the CPU window on a sample at or below the limit', () => {
    const verdicts = run([
      sample({ cpuPercent: 90 }), sample({ cpuPercent: 90 }), sample({ cpuPercent: 50 }),
      sample({ cpuPercent: 90 }), sample({ cpuPercent: 90 }), sample({ cpuPercent: 90 }),
    ]);
    expect(verdicts.map((v) => v.state.cpuOverSamples)).toEqual([1, 2, 0, 1, 2, 3]);
    expect(verdicts.map((v) => v.breach?.limit ?? null)).toEqual([null, null, null, null, null, 'cpuPercent']);
  });

  it('honours a configured CPU window', () => {
    const one = run([sample({ cpuPercent: 60 })], { cpuSamples: 1 });
    expect(one[0]!.breach?.message).toBe('cpu 60% over limit 50% for 1 samples');
    const five = run(Array.from({ length: 5 }, () => sample({ cpuPercent: 60 })), { cpuSamples: 5 });
    expect(five.map((v) => v.breach !== null)).toEqual([false, false, false, false, true]);
  });

  it('puts memory first, then processes, handles, cpu', () => {
    let state = initialVerdictState();
    state = judge(sample({ cpuPercent: 99 }), limits, state).state;
    state = judge(sample({ cpuPercent: 99 }), limits, state).state;
    const everything = sample({ cpuPercent: 99, memoryBytes: 200 * MB, handles: 300, processes: 20 });
    expect(judge(everything, limits, state).breach?.limit).toBe('memoryMb');
    expect(judge({ ...everything, memoryBytes: 0 }, limits, state).breach?.limit).toBe('processes');
    expect(judge({ ...everything, memoryBytes: 0, processes: 1 }, limits, state).breach?.limit).toBe('handles');
    expect(judge({ ...everything, memoryBytes: 0, processes: 1, handles: 1 }, limits, state).breach?.limit).toBe('cpuPercent');
  });

  it('warns once at 90 % of a limit, with exact messages', () => {
    const near = sample({ memoryBytes: 118 * MB, cpuPercent: 48, handles: 236, processes: 15 });
    const first = judge(near, limits, initialVerdictState());
    expect(first.breach).toBeNull();
    expect(first.warnings).toEqual([
      'memory at 92% of its limit (118 MB of 128 MB)',
      'processes at 93% of its limit (15 of 16)',
      'handles at 92% of its limit (236 of 256)',
      'cpu at 96% of its limit (48% of 50%)',
    ]);
    expect(judge(near, limits, first.state).warnings).toEqual([]);
  });

  it('does not warn just below 90 %', () => {
    const below = sample({ memoryBytes: Math.floor(0.9 * 128 * MB) - 1, handles: 230, processes: 14, cpuPercent: 44 });
    expect(judge(below, limits, initialVerdictState()).warnings).toEqual([]);
  });

  it('re-arms a warning once usage drops below 90 %', () => {
    const verdicts = run([
      sample({ handles: 240 }), sample({ handles: 250 }), sample({ handles: 100 }), sample({ handles: 240 }),
    ]);
    expect(verdicts.map((v) => v.warnings)).toEqual([
      ['handles at 93% of its limit (240 of 256)'], [], [], ['handles at 93% of its limit (240 of 256)'],
    ]);
  });

  it('gives no warning for the limit being breached, but does for others', () => {
    const verdict = judge(sample({ memoryBytes: 200 * MB, handles: 240 }), limits, initialVerdictState());
    expect(verdict.breach?.limit).toBe('memoryMb');
    expect(verdict.warnings).toEqual(['handles at 93% of its limit (240 of 256)']);
  });

  it('warns about CPU over its limit before the window completes', () => {
    const verdicts = run([sample({ cpuPercent: 187 }), sample({ cpuPercent: 187 })]);
    expect(verdicts.map((v) => v.warnings)).toEqual([['cpu at 374% of its limit (187% of 50%)'], []]);
  });

  it('flags memory at or above 70 % as hot', () => {
    expect(judge(sample({ memoryBytes: 0.7 * 128 * MB - 1 }), limits, initialVerdictState()).hot).toBe(false);
    expect(judge(sample({ memoryBytes: 0.7 * 128 * MB }), limits, initialVerdictState()).hot).toBe(true);
    expect(judge(sample({ memoryBytes: 100 * MB }), limits, initialVerdictState(), { hotRatio: 0.8 }).hot).toBe(false);
  });

  it('does not mutate the previous state', () => {
    const previous = initialVerdictState();
    judge(sample({ cpuPercent: 99, handles: 250 }), limits, previous);
    expect(previous).toEqual(initialVerdictState());
  });
});
