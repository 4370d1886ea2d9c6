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
