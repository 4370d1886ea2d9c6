import type { Limits } from '../config/types.js';
import type { Usage } from '../protocol/index.js';

/** The limits a quota is sampled against: the keys of Limits. */
export type LimitName = keyof Limits;

/**
 * Usage of one plugin's whole process tree at one moment: the status's Usage (cpuPercent summed over
 * the tree, 100 = one core; memoryBytes the sum of resident set sizes; handles the open file
 * descriptors; processes the tree's size, root included), with what the sample was taken over.
 */
export interface UsageSample extends Usage {
  pids: number[];
  /** Date.now() when the sample was taken. */
  time: number;
}

export interface QuotaBreach {
  limit: LimitName;
  /** In the unit of the limit: MB for memoryMb, % for cpuPercent, counts otherwise. */
  measured: number;
  allowed: number;
  /** e.g. "memory 131 MB over limit 128 MB" */
  message: string;
}

/** One reading of a plugin's own kernel counters (a cgroup's), as UsageCounters gives it. */
export interface CounterReading {
  memoryBytes: number;
  /** CPU time of everything the cgroup ever held, in ns. */
  cpuNs: number;
  /** Every process in it now, the wall's included. */
  pids: number[];
}

/**
 * What the monitor reads instead of walking /proc where a plugin has a cgroup of its own (the cgroups
 * module's CgroupCounters, handed in by whoever wires the two together).
 */
export interface UsageCounters {
  readonly hardLimitBytes: number | null;
  /** null once the cgroup is gone; above `workingSetAbove` bytes, reclaimable file cache is left out. */
  read(workingSetAbove?: number): CounterReading | null;
  /** Processes the kernel's OOM killer ended in it. */
  oomKills(): number;
  close(): void;
}
