/**
 * One kernel cgroup per plugin instance: hard memory/pids/cpu limits a margin above the sampled
 * quotas, OOM facts, and a whole-tree kill no setsid or double fork escapes. Works on cgroup v2 with
 * a delegated subtree and on cgroup v1 (legacy or hybrid hosts); detection follows runc/crun.
 * Every path is an option so tests can stand a temp folder in for cgroupfs.
 */
import { readFileSync, statfsSync } from 'node:fs';
import { parseMountinfo, parseSelfCgroup } from './fs.js';
import type { CgroupDriver, CgroupMode } from './types.js';
import { detectV1 } from './v1.js';
import { detectV2 } from './v2.js';

export type { CgroupDriver, CgroupMode, CgroupValues, PluginCgroup } from './types.js';
export { cgroupLimits } from './limits.js';
export type { CgroupCounters, CounterReading } from './counters.js';

/** statfs f_type of a cgroup2 mount. */
export const CGROUP2_SUPER_MAGIC = 0x63677270;
/** statfs f_type of tmpfs: /sys/fs/cgroup on legacy and hybrid hosts holds v1 hierarchies. */
export const TMPFS_MAGIC = 0x01021994;

export interface DetectOptions {
  /** Where cgroupfs is mounted; default /sys/fs/cgroup. */
  root?: string;
  /** Text of /proc/self/cgroup. */
  selfCgroup?: string;
  /** Text of /proc/self/mountinfo. */
  mountinfo?: string;
  /** Names the v1 folders warden-<pid>; default process.pid. */
  daemonPid?: number;
  /** statfs(2) f_type of a path, null if it cannot be read; default node:fs statfsSync. */
  statfsType?: (path: string) => number | null;
}

export interface Detection {
  driver: CgroupDriver | null;
  mode: CgroupMode;
  reason: string | null;
}

// Why: the real statfs, with "cannot read" as null rather than an exception.
function realStatfsType(path: string): number | null {
  try {
    return statfsSync(path).type;
  } catch {
    return null;
  }
}

// Why: runc/crun decide the mode from the filesystem type of the cgroup mount alone.
export function cgroupModeOf(fsType: number | null): CgroupMode {
  if (fsType === CGROUP2_SUPER_MAGIC) return 'v2';
  if (fsType === TMPFS_MAGIC) return 'v1';
  return 'none';
}

// Why: /proc files are read once at detection; a missing one reads as empty (and detection explains).
function readProc(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

// Why: pure detection (reads only, writes nothing to cgroupfs): the mode, the driver that would be used, or why not.
// The daemon then calls driver.claim() once, before its first spawn.
export function detectCgroups(options: DetectOptions = {}): Detection {
  const root = options.root ?? '/sys/fs/cgroup';
  const fsType = (options.statfsType ?? realStatfsType)(root);
  const mode = cgroupModeOf(fsType);
  if (mode === 'none') {
    const why = fsType === null ? 'cannot be read (statfs failed)' : `is neither cgroup2 nor a tmpfs of v1 hierarchies (statfs type 0x${fsType.toString(16)})`;
    return { driver: null, mode, reason: `no cgroup support: ${root} ${why}` };
  }
  const self = parseSelfCgroup(options.selfCgroup ?? readProc('/proc/self/cgroup'));
  const mounts = parseMountinfo(options.mountinfo ?? readProc('/proc/self/mountinfo'));
  const { driver, reason } =
    mode === 'v2'
      ? detectV2({ root, self, mounts })
      : detectV1({ root, self, mounts, daemonPid: options.daemonPid ?? process.pid });
  return { driver, mode, reason };
}
