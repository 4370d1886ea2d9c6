import { countHandlesSync, processTree } from './process-tree.js';
import type { QuotaBreach, UsageCounters, UsageSample } from './types.js';

const MB = 2 ** 20;

/** What the monitor keeps between readings of one plugin's cgroup counters. */
export interface CounterMarks {
  /** The wall's own processes (bwrap and its init), learned at the first reading: not the plugin's. */
  wrapperPids: Set<number> | null;
  cpu: { ns: number; at: number } | null;
  /** The OOM kill count at the last reading: a rise is the kernel's kill. */
  oomKills: number | null;
}

export function initialCounterMarks(): CounterMarks {
  return { wrapperPids: null, cpu: null, oomKills: null };
}

export interface CounterSample {
  sample: UsageSample;
  /** The kernel's OOM killer ended one of its processes since the last reading. */
  oomKill: QuotaBreach | null;
}

/**
 * One plugin's usage from its cgroup's counters: memory and CPU as the kernel charges them, its processes
 * from cgroup.procs less the wall's, and open descriptors by one stat of each process's fd folder (the
 * folder's size is its entry count since Linux 6.2). The first reading walks the tree once to tell the
 * wall's processes from the plugin's. null when the cgroup or the root is gone.
 */
export async function sampleCounters(
  counters: UsageCounters,
  root: { pid: number; canFork: boolean; wrappers: number },
  marks: CounterMarks,
  options: { limitMb: number; workingSetAbove: number; slow: boolean; previousHandles: number },
): Promise<CounterSample | null> {
  const reading = counters.read(options.workingSetAbove);
  if (!reading || reading.pids.length === 0) return null;
  const now = performance.now();
  if (marks.wrapperPids === null) {
    const tree = root.wrappers > 0 ? await processTree(root.pid, { allThreads: root.canFork, skipLevels: root.wrappers }) : reading.pids;
    if (tree.length === 0) return null;
    marks.wrapperPids = new Set(reading.pids.filter((pid) => !tree.includes(pid)));
  }
  const pids = reading.pids.filter((pid) => !marks.wrapperPids!.has(pid));
  // A first reading has nothing to diff against and reports 0 %, as a first /proc reading does.
  const cpuPercent = marks.cpu && now > marks.cpu.at ? Math.max(0, ((reading.cpuNs - marks.cpu.ns) / 1e6 / (now - marks.cpu.at)) * 100) : 0;
  marks.cpu = { ns: reading.cpuNs, at: now };
  let handles = options.previousHandles;
  if (options.slow) {
    handles = 0;
    for (const pid of pids) handles += countHandlesSync(pid);
  }
  // The kill count, not the process list (a child forked and killed between two passes leaves that as it
  // was). It moves only where memory reached the hard limit: read near the limit and on every slow look,
  // since a child killed there frees its memory before the next pass but the count stays risen.
  const kills = options.slow || marks.oomKills === null || reading.memoryBytes > options.workingSetAbove ? counters.oomKills() : marks.oomKills;
  const previousKills = marks.oomKills ?? kills;
  marks.oomKills = kills;
  const hardMb = counters.hardLimitBytes === null ? null : Math.round(counters.hardLimitBytes / MB);
  const oomKill: QuotaBreach | null =
    kills > previousKills
      ? {
          limit: 'memoryMb',
          measured: hardMb ?? options.limitMb,
          allowed: options.limitMb,
          message: `memory: killed by the kernel at ${hardMb === null ? 'its cgroup limit' : `${hardMb} MB`} (the OOM killer ended ${kills - previousKills === 1 ? 'one of its processes' : `${kills - previousKills} of its processes`})`,
        }
      : null;
  return {
    sample: { cpuPercent, memoryBytes: reading.memoryBytes, handles, processes: pids.length, pids, time: Date.now() },
    oomKill,
  };
}
