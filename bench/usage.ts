import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

function rssBytes(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

/**
 * Quiet time before an idle figure is sampled, for every parent alike: a node process's first ~35 s after a
 * burst of work still hold its aftermath (V8's memory reducer runs its mark-compacts about 30 s after it),
 * which is not what the process costs at rest. The window after it still holds V8's regular old-generation
 * collections (one every ~40 s in an idle daemon).
 */
export const SETTLE_SECONDS = Number(process.env.BENCH_SETTLE_SECONDS ?? 40);

export interface IdleUsage {
  cpuPercent: number;
  maxCpuPercent: number;
  rssBytes: number;
  maxRssBytes: number;
}

/** A process's CPU (% of one core) and RSS, sampled every second for `seconds` after SETTLE_SECONDS of quiet. */
export async function idleUsage(pid: number, seconds: number): Promise<IdleUsage> {
  await new Promise((resolve) => setTimeout(resolve, SETTLE_SECONDS * 1000));
  const firstTicks = cpuTicks(pid);
  let lastTicks = firstTicks;
  let maxCpu = 0;
  let maxRss = 0;
  const rss: number[] = [];
  for (let i = 0; i < seconds; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const ticks = cpuTicks(pid);
    maxCpu = Math.max(maxCpu, ((ticks - lastTicks) / TICKS_PER_SECOND) * 100);
    lastTicks = ticks;
    const bytes = rssBytes(pid);
    rss.push(bytes);
    maxRss = Math.max(maxRss, bytes);
  }
  return {
    cpuPercent: (((lastTicks - firstTicks) / TICKS_PER_SECOND) * 100) / seconds,
    maxCpuPercent: maxCpu,
    rssBytes: rss.reduce((a, b) => a + b, 0) / rss.length,
    maxRssBytes: maxRss,
  };
}
