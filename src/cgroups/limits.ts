/**
 * What the kernel is told for one plugin instance, and the folder name it gets. Pure functions.
 */
import type { Limits } from '../config/types.js';
import type { CgroupValues } from './types.js';

/** The CFS period: cpuPercent is "percent of one CPU per 100 ms". */
export const CPU_PERIOD_US = 100_000;

/**
 * The kernel's hard memory limit as a multiple of the sampled quota. A fast climb (a bomb at 1 GB/s passes
 * 200 MB in a fifth of a second, between two samples) meets this wall, so it bounds the peak: 1.1 keeps it
 * under 1.2× the quota with room for what the charge counts beside resident memory (page cache, kernel
 * memory, the wall's own processes), while a slow climb still crosses the quota first and gets the
 * sampler's warning at 90 % and its stop with the measured figure.
 */
export const HARD_MEMORY_FACTOR = 1.1;

// Why: the sampler stops a plugin at its quota; the kernel's limits sit a margin above as the backstop.
export function cgroupLimits(limits: Limits): CgroupValues {
  return {
    // (less a hair: 200 × 1.1 is 220.00000000000003 in floating point)
    memoryBytes: Math.ceil(limits.memoryMb * HARD_MEMORY_FACTOR - 1e-9) * 1024 * 1024,
    // v2 memory.high at the quota itself: above it the kernel reclaims and throttles the cgroup's
    // allocations, so a climb slows down between the quota and the hard limit and the sampler's stop
    // (with its figure) usually comes before the OOM killer.
    memoryHighBytes: limits.memoryMb * 1024 * 1024,
    // cpuPercent of one CPU per 100 ms period (100 = one full core), +25 % so the sampler sees a breach
    // and stops the plugin rather than the kernel silently throttling it; the kernel's minimum quota is 1 ms.
    cpuQuotaUs: Math.max(1000, Math.round(limits.cpuPercent * 1.25 * 1000)),
    cpuPeriodUs: CPU_PERIOD_US,
    // pids.max counts threads, not processes: node alone runs ~12, python 1, so 16 per permitted process.
    pidsMax: (limits.processes + 1) * 16,
  };
}

const PART_RE = /^[A-Za-z0-9_@-][A-Za-z0-9_.@-]{0,99}$/;

// Why: name and id become one folder name, <name>.<id>; nothing may make it a path or a dot-folder.
export function checkInstanceName(name: string, id: string): string {
  for (const [what, value] of [['plugin name', name], ['instance id', id]] as const) {
    if (!PART_RE.test(value)) throw new Error(`warden: ${what} ${JSON.stringify(value)} cannot name a cgroup folder`);
  }
  return `${name}.${id}`;
}
