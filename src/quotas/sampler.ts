import { forgetStaleReadings, readProcess } from './proc-stat.js';
import { countHandlesSync, processTree } from './process-tree.js';
import type { UsageSample } from './types.js';

/** One plugin to sample: its root pid, and whether anything in its sandbox may start processes. */
export interface SampleRoot {
  pid: number;
  /** False when the node permission model forbids child processes and workers: only main threads are read. */
  canFork: boolean;
  /** Levels at the top of the tree that are the wall's own processes (bwrap, its init): not counted. */
  wrappers?: number;
}

/**
 * ONE batched pass for many plugins: every tree, then one read of /proc/<pid>/stat per process
 * (CPU % and RSS) and one stat of its fd folder. All synchronous /proc reads in one walk: a pass
 * over 100 plugins costs a few ms of CPU. Processes that vanish mid-pass are skipped, never
 * thrown. A root that is gone → null.
 */
export async function sampleTrees(roots: ReadonlyMap<string, number | SampleRoot>): Promise<Map<string, UsageSample | null>> {
  const samples = new Map<string, UsageSample | null>();
  const now = performance.now();
  const time = Date.now();
  for (const [name, root] of roots) {
    const { pid, canFork, wrappers = 0 } = typeof root === 'number' ? { pid: root, canFork: true } : root;
    const tree = await processTree(pid, { allThreads: canFork, skipLevels: wrappers });
    const sample: UsageSample = { cpuPercent: 0, memoryBytes: 0, handles: 0, processes: 0, pids: [], time };
    for (const member of tree) {
      const reading = readProcess(member, now);
      if (!reading) continue; // exited mid-pass
      sample.pids.push(member);
      sample.processes++;
      sample.cpuPercent += reading.cpuPercent;
      sample.memoryBytes += reading.memoryBytes;
      sample.handles += countHandlesSync(member);
    }
    // The root gone (or, behind the wall, nothing left under it): no sample.
    samples.set(name, (wrappers > 0 ? tree.length > 0 : sample.pids.includes(pid)) ? sample : null);
  }
  forgetStaleReadings(now);
  return samples;
}
