import type { Limits } from '../config/types.js';
import type { LimitName, QuotaBreach, UsageSample } from './types.js';

export interface VerdictState {
  /** Consecutive samples with CPU over the limit, up to and including the last one. */
  cpuOverSamples: number;
  /** Limits currently at or above the warn ratio (a warning was already given for this crossing). */
  warned: Record<LimitName, boolean>;
}

export interface Verdict {
  breach: QuotaBreach | null;
  warnings: string[];
  /** Memory at or above the hot ratio of its limit: the monitor samples such a plugin faster. */
  hot: boolean;
  state: VerdictState;
}

export interface JudgeOptions {
  /** Consecutive samples over cpuPercent before a CPU breach; default 3. */
  cpuSamples?: number;
  /** Fraction of a limit that triggers a warning; default 0.9. */
  warnRatio?: number;
  /** Fraction of the memory limit that makes a plugin hot; default 0.7. */
  hotRatio?: number;
}

const MB = 2 ** 20;

// Breach priority when several limits are exceeded by the same sample: memory threatens
// the host first; a runaway fork is next; CPU is the most forgiving.
const PRIORITY: readonly LimitName[] = ['memoryMb', 'processes', 'handles', 'cpuPercent'];

const LABEL: Record<LimitName, string> = {
  memoryMb: 'memory',
  cpuPercent: 'cpu',
  handles: 'handles',
  processes: 'processes',
};

export function initialVerdictState(): VerdictState {
  return { cpuOverSamples: 0, warned: { memoryMb: false, cpuPercent: false, handles: false, processes: false } };
}

/** Measured value of each limit, in the limit's own unit (MB for memory). */
function measuredOf(sample: UsageSample): Record<LimitName, number> {
  return {
    memoryMb: sample.memoryBytes / MB,
    cpuPercent: sample.cpuPercent,
    handles: sample.handles,
    processes: sample.processes,
  };
}

function amount(limit: LimitName, value: number): string {
  if (limit === 'memoryMb') return `${Math.round(value)} MB`;
  if (limit === 'cpuPercent') return `${Math.round(value)}%`;
  return String(Math.round(value));
}

function breachMessage(limit: LimitName, measured: number, allowed: number, cpuSamples: number): string {
  const base = `${LABEL[limit]} ${amount(limit, measured)} over limit ${amount(limit, allowed)}`;
  return limit === 'cpuPercent' ? `${base} for ${cpuSamples} samples` : base;
}

function warningMessage(limit: LimitName, measured: number, allowed: number): string {
  // floor: "at 90%" only once really at 90 %, and never "100%" while still under the limit
  const percent = Math.floor((measured / allowed) * 100);
  return `${LABEL[limit]} at ${percent}% of its limit (${amount(limit, measured)} of ${amount(limit, allowed)})`;
}

/** Pure: what one sample means against the limits, given what earlier samples established. */
export function judge(sample: UsageSample, limits: Limits, previous: VerdictState, options: JudgeOptions = {}): Verdict {
  const cpuSamples = Math.max(1, options.cpuSamples ?? 3);
  const warnRatio = options.warnRatio ?? 0.9;
  const hotRatio = options.hotRatio ?? 0.7;
  const measured = measuredOf(sample);

  // A sample at or below the CPU limit ends the streak: only sustained load is a breach.
  const cpuOverSamples = measured.cpuPercent > limits.cpuPercent ? previous.cpuOverSamples + 1 : 0;
  const over: Record<LimitName, boolean> = {
    memoryMb: sample.memoryBytes > limits.memoryMb * MB,
    processes: measured.processes > limits.processes,
    handles: measured.handles > limits.handles,
    cpuPercent: cpuOverSamples >= cpuSamples,
  };

  let breach: QuotaBreach | null = null;
  for (const limit of PRIORITY) {
    if (!over[limit]) continue;
    breach = {
      limit,
      measured: measured[limit],
      allowed: limits[limit],
      message: breachMessage(limit, measured[limit], limits[limit], cpuSamples),
    };
    break;
  }

  const warned = { ...previous.warned };
  const warnings: string[] = [];
  for (const limit of PRIORITY) {
    const near = measured[limit] >= warnRatio * limits[limit];
    // One warning per crossing; dropping back below the ratio re-arms it. The breached
    // limit gets no warning: its breach message says more.
    if (near && !warned[limit] && breach?.limit !== limit) {
      warnings.push(warningMessage(limit, measured[limit], limits[limit]));
    }
    warned[limit] = near;
  }

  return {
    breach,
    warnings,
    hot: sample.memoryBytes >= hotRatio * limits.memoryMb * MB,
    state: { cpuOverSamples, warned },
  };
}
