/**
 * What the kernel is told for one plugin instance, and the folder name it gets. Pure functions.
 */
import type { Limits } from '../config/types.js';
import type { CgroupValues } from './types.js';

/** The CFS period: cpuPercent is "percent of one CPU per 100 ms". */
export const CPU_PERIOD_US = 100_000;

// Why: the sampler stops a plugin at its quota; the kernel's limits sit a margin above as the backstop.
export function cgroupLimits(limits: Limits): CgroupValues {
  return {
    // +25 %: the kernel's OOM killer only acts if the sampler missed a fast climb.
    memoryBytes: Math.ceil(limits.memoryMb * 1.25) * 1024 * 1024,
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
