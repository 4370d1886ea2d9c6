/**
 * cgroup v2 hard limits, where the daemon was delegated a writable subtree (systemd `Delegate=yes`).
 * Layout under the daemon's own cgroup <root>:
 *   <root>/warden-daemon/          the daemon itself (v2 forbids processes in a cgroup that delegates controllers)
 *   <root>/warden-plugins/<name>/  one cgroup per plugin, made and joined by the launch wrapper (cgroupWrapper)
 * Every path is a parameter so tests can stand a temp folder in for cgroupfs.
 */
import { accessSync, constants, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Limits } from '../config/types.js';

export interface CgroupV2 {
  /** The daemon's delegated cgroup folder. */
  root: string;
  /** Where per-plugin cgroups are made: `<root>/warden-plugins`. */
  pluginsDir: string;
}

export const CGROUP_CONTROLLERS = ['memory', 'cpu', 'pids'] as const;

export interface CgroupProbePaths {
  /** Text of /proc/self/cgroup. */
  selfCgroup?: string;
  /** Text of /proc/self/mountinfo. */
  mountinfo?: string;
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** The mount point of the cgroup2 hierarchy, from mountinfo ("… mountpoint … - cgroup2 …"). */
export function cgroup2Mount(mountinfo: string): string | null {
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (right?.split(' ')[0] === 'cgroup2') return left!.split(' ')[4] ?? null;
  }
  return null;
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The daemon's own v2 cgroup when it has the memory, cpu and pids controllers available and is
 * writable, else null. Read-only: claiming it is `claimCgroup`'s job.
 */
export function findDelegatedCgroup(probe: CgroupProbePaths = {}): CgroupV2 | null {
  const self = probe.selfCgroup ?? readOr('/proc/self/cgroup', '');
  const own = /^0::(\/.*)$/m.exec(self)?.[1];
  const mount = cgroup2Mount(probe.mountinfo ?? readOr('/proc/self/mountinfo', ''));
  if (own === undefined || mount === null) return null;
  const root = join(mount, own);
  const controllers = readOr(join(root, 'cgroup.controllers'), '').trim().split(/\s+/);
  if (!CGROUP_CONTROLLERS.every((c) => controllers.includes(c))) return null;
  for (const file of ['', 'cgroup.procs', 'cgroup.subtree_control']) {
    if (!writable(join(root, file))) return null;
  }
  return { root, pluginsDir: join(root, 'warden-plugins') };
}

/**
 * One-time set-up at daemon start: moves the processes of <root> into a leaf, then enables the
 * controllers for <root>'s children and for warden-plugins' children. Throws when the kernel refuses.
 */
export function claimCgroup(cg: CgroupV2): void {
  const enable = CGROUP_CONTROLLERS.map((c) => `+${c}`).join(' ');
  const leaf = join(cg.root, 'warden-daemon');
  mkdirSync(leaf, { recursive: true });
  for (const pid of readFileSync(join(cg.root, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
    writeFileSync(join(leaf, 'cgroup.procs'), pid);
  }
  writeFileSync(join(cg.root, 'cgroup.subtree_control'), enable);
  mkdirSync(cg.pluginsDir, { recursive: true });
  writeFileSync(join(cg.pluginsDir, 'cgroup.subtree_control'), enable);
}

/** Detects and claims a delegated subtree; null (and nothing written) when there is none. */
export function detectCgroup(probe: CgroupProbePaths = {}): CgroupV2 | null {
  const cg = findDelegatedCgroup(probe);
  if (!cg) return null;
  try {
    claimCgroup(cg);
    return cg;
  } catch {
    return null; // e.g. a controller enabled in name but refused by the kernel: fall back to sampling
  }
}

export function pluginCgroup(cg: CgroupV2, name: string): string {
  return join(cg.pluginsDir, name);
}

/** The values written for a plugin: hard limits a margin above the sampled quota. */
export function cgroupLimits(limits: Limits): { memoryMax: number; cpuMax: string; pidsMax: number } {
  return {
    // +25 %: the sampler stops the plugin at the quota; the kernel's OOM killer is the backstop.
    memoryMax: Math.ceil(limits.memoryMb * 1.25) * 1024 * 1024,
    // cpuPercent of one CPU per 100 ms period (100 = one full core).
    cpuMax: `${Math.max(1, Math.round(limits.cpuPercent * 1000))} 100000`,
    // pids.max counts threads: node alone runs ~12, so allow 16 per permitted process.
    pidsMax: (limits.processes + 1) * 16,
  };
}

/**
 * argv prefix that makes the plugin's cgroup, writes its limits and joins it before exec, so the
 * plugin is inside before it can fork. rmdir first: a fresh cgroup restarts memory.events' counts.
 * The folder travels as $0, the command as "$@", so no path is ever parsed by the shell.
 */
export function cgroupWrapper(cg: CgroupV2, name: string, limits: Limits, sh = '/bin/sh'): string[] {
  const { memoryMax, cpuMax, pidsMax } = cgroupLimits(limits);
  const script = [
    'rmdir "$0" 2>/dev/null; mkdir -p "$0"',
    `echo ${memoryMax} > "$0/memory.max"`,
    '{ [ ! -e "$0/memory.swap.max" ] || echo 0 > "$0/memory.swap.max"; }',
    `echo "${cpuMax}" > "$0/cpu.max"`,
    `echo ${pidsMax} > "$0/pids.max"`,
    'echo $$ > "$0/cgroup.procs"',
    'exec "$@"',
  ].join(' && ');
  return [sh, '-c', script, pluginCgroup(cg, name)];
}

/** How many times the kernel OOM-killed a process in the plugin's cgroup (memory.events oom_kill). */
export function cgroupOomKills(cg: CgroupV2, name: string): number {
  const events = readOr(join(pluginCgroup(cg, name), 'memory.events'), '');
  return Number(/^oom_kill (\d+)$/m.exec(events)?.[1] ?? 0);
}
