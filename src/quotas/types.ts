export type LimitName = 'memoryMb' | 'cpuPercent' | 'handles' | 'processes';

/** Usage of one plugin's whole process tree at one moment. */
export interface UsageSample {
  /** Sum over the tree; 100 = one core. */
  cpuPercent: number;
  /** Sum of resident set sizes over the tree. */
  memoryBytes: number;
  /** Open file descriptors over the tree. */
  handles: number;
  /** Processes in the tree, the root included. */
  processes: number;
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
