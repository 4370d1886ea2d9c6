import { spawnSync } from 'node:child_process';
import { isVanished, readProcFile } from './process-tree.js';

/** /proc reports CPU times in USER_HZ, which Linux fixes at 100 for every architecture. */
const TICKS_PER_SECOND = 100;
/** Marks not refreshed for this long belong to processes that are gone. */
const FORGET_AFTER_MS = 60_000;

let pageBytes: number | null = null;

/** RSS in /proc/<pid>/stat is in pages; the size is asked once (4 KiB on most hosts, 64 KiB on some arm64). */
export function pageSize(): number {
  if (pageBytes === null) {
    const out = spawnSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).stdout;
    const parsed = Number.parseInt(out ?? '', 10);
    pageBytes = parsed > 0 ? parsed : 4096;
  }
  return pageBytes;
}

interface CpuMark {
  ticks: number;
  /** The process's start time: a pid reused by a new process must not be diffed against the old one. */
  started: string;
  at: number;
}

/** pid → the CPU time it had used at the last reading. */
const marks = new Map<number, CpuMark>();

export interface ProcessReading {
  cpuPercent: number;
  memoryBytes: number;
}

/**
 * CPU % since the previous reading of this pid and resident memory, from one read of
 * /proc/<pid>/stat; null if the process is gone. A first reading has nothing to diff against
 * and reports 0 % — so a plugin's start-up burst never counts as sustained CPU.
 */
export function readProcess(pid: number, now = performance.now()): ProcessReading | null {
  let text: string;
  try {
    text = readProcFile(`/proc/${pid}/stat`);
  } catch (error) {
    if (isVanished(error)) return null;
    throw error;
  }
  // The command name in parentheses may hold spaces; every field after it is plain.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
  const started = fields[19] ?? '';
  const memoryBytes = Number(fields[21]) * pageSize();
  const previous = marks.get(pid);
  marks.set(pid, { ticks, started, at: now });
  const elapsedSeconds = previous ? (now - previous.at) / 1000 : 0;
  const cpuPercent =
    previous && previous.started === started && elapsedSeconds > 0
      ? Math.max(0, ((ticks - previous.ticks) / TICKS_PER_SECOND / elapsedSeconds) * 100)
      : 0;
  return { cpuPercent, memoryBytes };
}

/** Drops the marks of processes not read for a while (they have exited). */
export function forgetStaleReadings(now = performance.now()): void {
  for (const [pid, mark] of marks) if (now - mark.at > FORGET_AFTER_MS) marks.delete(pid);
}
