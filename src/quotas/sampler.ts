import { readFile } from 'node:fs/promises';
import pidusage from 'pidusage';
import { countHandlesSync, isVanished, processTree } from './process-tree.js';
import type { UsageSample } from './types.js';

export interface SampleOptions {
  /**
   * How long pidusage keeps a pid's history (and its open /proc/<pid>/stat descriptor) after
   * the last look. Must exceed the gap between two samples of a pid, or every sample is a
   * first one; short enough that dead pids' descriptors are closed soon. Default 10 s.
   */
  historyMs?: number;
}

const DEFAULT_HISTORY_MS = 10_000;

/** pid → when pidusage last gave a reading for it: a pid absent here is on its first sample. */
const lastRead = new Map<number, number>();
/**
 * pid → until when pidusage is not asked about it. pidusage caches an fd per pid; if that
 * pid died and the number was reused, reads of the cached fd fail (ESRCH) and each ask
 * renews the cache, so the new process would never be read. Leaving it out lets the
 * entry expire; meanwhile its memory comes from /proc/<pid>/status.
 */
const avoid = new Map<number, number>();

interface Reading {
  cpuPercent: number;
  memoryBytes: number;
}

/** Resident memory from /proc/<pid>/status (VmRSS, in kB); null if the process is gone. */
async function residentBytes(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'latin1');
    const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : 0; // zombies and kernel threads have no VmRSS
  } catch (error) {
    if (isVanished(error)) return null;
    throw error;
  }
}

async function readAll(pids: number[], historyMs: number): Promise<Map<number, Reading>> {
  const now = Date.now();
  for (const [pid, until] of avoid) if (until <= now) avoid.delete(pid);
  for (const [pid, at] of lastRead) if (at < now - historyMs) lastRead.delete(pid);

  const asked = pids.filter((pid) => !avoid.has(pid));
  let stats: Record<string, pidusage.Status | undefined> = {};
  if (asked.length > 0) {
    try {
      // usePs: false keeps the /proc backend (the env can switch pidusage to spawning ps).
      // A pid that fails is just missing from the result; with a single pid pidusage
      // rejects instead, which means the same thing here.
      stats = await pidusage([...asked], { maxage: historyMs, usePs: false });
    } catch {
      stats = {};
    }
  }

  const readings = new Map<number, Reading>();
  const missing: number[] = [];
  for (const pid of pids) {
    const stat = stats[pid];
    if (stat === undefined || stat === null) {
      missing.push(pid);
      continue;
    }
    // The first reading of a pid has no earlier one to diff against: pidusage's /proc
    // backend then reports 0, ps would report the average since start (a startup burst).
    // Either way it is not a measurement of the last interval, so it counts as 0.
    const known = lastRead.has(pid);
    lastRead.set(pid, now);
    readings.set(pid, { cpuPercent: known ? stat.cpu : 0, memoryBytes: stat.memory });
  }

  await Promise.all(
    missing.map(async (pid) => {
      const rss = await residentBytes(pid);
      if (rss === null) return; // vanished mid-pass: skipped
      if (!avoid.has(pid)) avoid.set(pid, now + 2 * historyMs);
      lastRead.delete(pid);
      readings.set(pid, { cpuPercent: 0, memoryBytes: rss });
    }),
  );
  return readings;
}

/** ONE batched pass for many plugins: every tree, then ONE pidusage call for all their pids (CPU %, RSS), then fd counts. Processes that vanish mid-pass are skipped, never thrown. A root that is gone → null. */
export async function sampleTrees(
  roots: ReadonlyMap<string, number>,
  options: SampleOptions = {},
): Promise<Map<string, UsageSample | null>> {
  const historyMs = options.historyMs ?? DEFAULT_HISTORY_MS;
  const names = [...roots.keys()];
  // one tree after another: each walk yields between processes, so the event loop keeps
  // serving while a pass over many plugins runs
  const trees: number[][] = [];
  for (const name of names) trees.push(await processTree(roots.get(name)!));

  const all = [...new Set(trees.flat())];
  const readings = await readAll(all, historyMs);
  // one stat per process (see countHandlesSync): cheap enough to do inline
  const handlesOf = new Map(all.map((pid) => [pid, readings.has(pid) ? countHandlesSync(pid) : 0]));

  const time = Date.now();
  const samples = new Map<string, UsageSample | null>();
  names.forEach((name, i) => {
    const root = roots.get(name)!;
    const pids = (trees[i] ?? []).filter((pid) => readings.has(pid));
    if (!pids.includes(root)) {
      samples.set(name, null);
      return;
    }
    const sample: UsageSample = { cpuPercent: 0, memoryBytes: 0, handles: 0, processes: pids.length, pids, time };
    for (const pid of pids) {
      const reading = readings.get(pid)!;
      sample.cpuPercent += reading.cpuPercent;
      sample.memoryBytes += reading.memoryBytes;
      sample.handles += handlesOf.get(pid) ?? 0;
    }
    samples.set(name, sample);
  });
  return samples;
}
