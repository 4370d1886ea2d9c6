/**
 * cgroup v1 (legacy and hybrid hosts): one folder per controller hierarchy, each nested under the
 * daemon's OWN cgroup in that hierarchy so plugins stay inside the daemon's accounting:
 *   <hierarchy>/<own>/warden-<daemonPid>/<name>.<id>/
 * memory and pids and cpu carry the limits; freezer makes kill() race-free against forks.
 */
import { accessSync, constants, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Limits } from '../config/types.js';
import {
  cgroupTree,
  type CgroupLine,
  type Mount,
  exists,
  freshDir,
  pidAlive,
  pidsIn,
  readInt,
  readKey,
  readText,
  rmdirTreeSync,
  underMount,
  writeControl,
} from './fs.js';
import { joinArgv } from './join.js';
import { type Freezer, killUntilEmpty, removeTrees, sigkillAll, waitUntil } from './lifecycle.js';
import { openCounters, v1CounterFiles, type CgroupCounters } from './counters.js';
import { cgroupLimits, checkInstanceName } from './limits.js';
import { LiveCgroups } from './live.js';
import type { CgroupDriver, PluginCgroup } from './types.js';

/** cpuacct only counts (the sampler reads cpuacct.usage); where it is mounted with cpu, the cpu folder holds it. */
export const V1_CONTROLLERS = ['memory', 'pids', 'cpu', 'freezer', 'cpuacct'] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];

interface Hierarchy {
  controller: V1Controller;
  /** <mount>/<own>/warden-<daemonPid>: where this daemon's plugin cgroups go. */
  base: string;
}

export interface V1Setup {
  root: string;
  self: CgroupLine[];
  mounts: Mount[];
  daemonPid: number;
}

// Why: the daemon's own cgroup folder in one hierarchy: from the mount of that controller under
// `root` (mountinfo), else `<root>/<controller>` as on every distribution's layout.
export function ownV1Dir(controller: string, setup: V1Setup): string | null {
  const line = setup.self.find((l) => l.controllers.includes(controller));
  if (!line) return null;
  const mount = setup.mounts.find(
    (m) => m.fsType === 'cgroup' && m.superOptions.includes(controller) && (m.mountPoint === setup.root || m.mountPoint.startsWith(`${setup.root}/`)),
  );
  if (mount) return underMount(line.path, mount);
  const guess = join(setup.root, controller);
  return exists(guess) ? join(guess, line.path) : null;
}

// Why: detection only reads: a hierarchy counts when the daemon may write where its per-daemon folder goes
// (access(2), which also answers EROFS); one that refuses is left out with a note. A refusal access(2)
// cannot foresee is create()'s error.
export function detectV1(setup: V1Setup): { driver: CgroupDriver | null; reason: string | null } {
  const hierarchies: Hierarchy[] = [];
  const skipped: string[] = [];
  for (const controller of V1_CONTROLLERS) {
    const own = ownV1Dir(controller, setup);
    if (own === null || !exists(own)) {
      skipped.push(`${controller} (no hierarchy)`);
      continue;
    }
    const base = join(own, `warden-${setup.daemonPid}`);
    if (hierarchies.some((h) => h.base === base)) continue; // co-mounted (cpu,cpuacct): one folder serves both
    const refused = writeRefusal(exists(base) ? base : own);
    if (refused === null) hierarchies.push({ controller, base });
    else skipped.push(`${controller} (${refused})`);
  }
  if (!hierarchies.some((h) => h.controller !== 'freezer' && h.controller !== 'cpuacct')) {
    return { driver: null, reason: `cgroup v1 but no memory, pids or cpu hierarchy is usable: ${skipped.join(', ')}` };
  }
  return { driver: new V1Driver(hierarchies, skipped, setup.daemonPid), reason: null };
}

// Why: access(W_OK) answers "may I make a folder here" without making one; null when allowed, else the errno.
function writeRefusal(dir: string): string | null {
  try {
    accessSync(dir, constants.W_OK);
    return null;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'not writable';
  }
}

// Why: the per-daemon folder, made on demand by create(); memory needs use_hierarchy 1 so
// plugins count in the daemon's cgroup (always 1 on kernels ≥ 5.x; writable only while it has no children).
function ensureBase(base: string, controller: V1Controller): void {
  if (exists(base)) return;
  try {
    mkdirSync(base);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new Error(`warden: cannot create cgroup ${base} (${code})`, { cause: error });
  }
  if (controller === 'memory' && readText(join(base, 'memory.use_hierarchy'))?.trim() === '0') {
    try {
      writeFileSync(join(base, 'memory.use_hierarchy'), '1');
    } catch {
      // old kernel that refuses: the limits still hold per plugin
    }
  }
}

class V1Driver implements CgroupDriver {
  readonly mode = 'v1' as const;
  readonly enforces: { memoryMb: boolean; cpuPercent: boolean; processes: boolean };
  private readonly live = new LiveCgroups();

  // Why: the driver holds only the usable hierarchies; everything else is derived from them.
  constructor(
    private readonly hierarchies: readonly Hierarchy[],
    private readonly skipped: readonly string[],
    private readonly daemonPid: number,
  ) {
    const has = (c: V1Controller): boolean => hierarchies.some((h) => h.controller === c);
    this.enforces = { memoryMb: has('memory'), cpuPercent: has('cpu'), processes: has('pids') };
  }

  // Why: nothing to claim on v1: the per-daemon folders are made by the first create() and go with the last instance.
  claim(): void {}

  // Why: the operator needs to see at start-up where plugin cgroups are and what is enforced.
  describe(): string {
    const where = this.hierarchies.map((h) => `${h.controller} ${h.base}`).join(', ');
    const kill = this.hierarchies.some((h) => h.controller === 'freezer') ? 'kill via freezer' : 'kill by repeated SIGKILL (no freezer)';
    const left = this.skipped.length > 0 ? `; not used: ${this.skipped.join(', ')}` : '';
    return `cgroup v1: plugin cgroups <name>.<id> under ${where}; ${kill}${left}`;
  }

  // Why: one fresh folder per hierarchy, limits written before anything joins; undone on any refusal.
  create(name: string, id: string, limits: Limits): PluginCgroup {
    const leaf = checkInstanceName(name, id);
    const values = cgroupLimits(limits);
    const dirs = new Map<V1Controller, string>();
    try {
      for (const h of this.hierarchies) {
        const dir = join(h.base, leaf);
        ensureBase(h.base, h.controller);
        freshDir(dir);
        dirs.set(h.controller, dir);
      }
      const memory = dirs.get('memory');
      if (memory) {
        const bytes = String(values.memoryBytes);
        writeControl(join(memory, 'memory.limit_in_bytes'), bytes, `set the memory limit of plugin ${name}`);
        // memsw = limit so swap cannot extend it; written after limit_in_bytes (memsw must stay ≥ it)
        if (exists(join(memory, 'memory.memsw.limit_in_bytes'))) {
          writeControl(join(memory, 'memory.memsw.limit_in_bytes'), bytes, `set the memory+swap limit of plugin ${name}`);
        }
      }
      const pids = dirs.get('pids');
      if (pids) writeControl(join(pids, 'pids.max'), String(values.pidsMax), `set pids.max of plugin ${name}`);
      const cpu = dirs.get('cpu');
      if (cpu) {
        writeControl(join(cpu, 'cpu.cfs_period_us'), String(values.cpuPeriodUs), `set the cpu period of plugin ${name}`);
        writeControl(join(cpu, 'cpu.cfs_quota_us'), String(values.cpuQuotaUs), `set the cpu quota of plugin ${name}`);
        // Unused quota may be saved up to one period's worth: a start-up burst on several threads is not throttled.
        if (exists(join(cpu, 'cpu.cfs_burst_us'))) {
          writeControl(join(cpu, 'cpu.cfs_burst_us'), String(values.cpuQuotaUs), `set the cpu burst of plugin ${name}`);
        }
      }
    } catch (error) {
      for (const dir of dirs.values()) rmdirTreeSync(dir);
      throw error;
    }
    return this.live.add(leaf, new V1PluginCgroup(leaf, dirs, () => this.live.remove(leaf)));
  }

  // Why: any of our hierarchies' lines in /proc/<pid>/cgroup names the instance folder.
  countersOf(pid: number): CgroupCounters | null {
    const controller = this.hierarchies[0]!.controller;
    return this.live.countersOf(pid, (line) => line.controllers.includes(controller));
  }

  // Why: a crashed daemon leaves warden-<pid> folders behind; remove the empty ones of dead pids.
  sweep(): void {
    // A daemon that died in the middle of a kill can leave a freezer cgroup FROZEN, its processes
    // stuck with SIGKILL pending: thaw every dead daemon's freezer cgroups first, so the kills land.
    for (const h of this.hierarchies.filter((x) => x.controller === 'freezer')) {
      const own = join(h.base, '..');
      for (const entry of safeReaddir(own)) {
        const pid = /^warden-(\d+)$/.exec(entry)?.[1];
        if (pid === undefined || Number(pid) === this.daemonPid || pidAlive(Number(pid))) continue;
        for (const dir of cgroupTree(join(own, entry))) {
          try {
            writeFileSync(join(dir, 'freezer.state'), 'THAWED');
          } catch {
            // not a freezer folder, or gone
          }
        }
      }
    }
    for (const h of this.hierarchies) {
      const own = join(h.base, '..');
      let entries: string[];
      try {
        entries = readdirSync(own);
      } catch {
        continue;
      }
      for (const entry of entries) {
        const pid = /^warden-(\d+)$/.exec(entry)?.[1];
        if (pid === undefined || Number(pid) === this.daemonPid || pidAlive(Number(pid))) continue;
        // A daemon killed while a plugin was starting can leave the sandbox's half-built init behind:
        // nothing of a dead daemon's plugins may outlive it, so whatever is left is killed first.
        sigkillAll(pidsIn([join(own, entry)]));
        rmdirTreeSync(join(own, entry));
      }
    }
  }
}

class V1PluginCgroup implements PluginCgroup {
  readonly dirs: readonly string[];

  // Why: keeps the folder of each hierarchy so each method reads the one it needs.
  constructor(
    private readonly label: string,
    private readonly byController: ReadonlyMap<V1Controller, string>,
    private readonly removed: () => void,
  ) {
    this.dirs = [...byController.values()];
  }

  // Why: memory and cpuacct counters where those hierarchies are used; cgroup.procs of any of them.
  counters(): CgroupCounters {
    const memory = this.byController.get('memory') ?? '/nonexistent';
    const cpu = this.byController.get('cpuacct') ?? this.byController.get('cpu') ?? '/nonexistent';
    return openCounters(v1CounterFiles(memory, cpu, this.dirs[0]!, this.byController.get('pids') ?? null));
  }

  // Why: the plugin must be in memory, pids, cpu, freezer and cpuacct before its first instruction.
  joinArgv(sh?: string): string[] {
    return joinArgv(this.dirs, sh);
  }

  // Why: v1 counts OOM kills in memory.oom_control ("oom_kill N", kernel ≥ 4.13).
  oomKills(): number {
    const memory = this.byController.get('memory');
    return memory ? (readKey(join(memory, 'memory.oom_control'), 'oom_kill') ?? 0) : 0;
  }

  // Why: v1's high-water mark of the cgroup's memory charge.
  memoryPeakBytes(): number | null {
    const memory = this.byController.get('memory');
    return memory ? readInt(join(memory, 'memory.max_usage_in_bytes')) : null;
  }

  // Why: the union over every hierarchy, so a process that left one of them is still seen.
  pids(): number[] {
    return pidsIn(this.dirs);
  }

  // Why: freezer FROZEN → SIGKILL every pid → THAWED, repeated until empty; frozen tasks cannot fork.
  async kill(timeoutMs = 5000): Promise<void> {
    const dir = this.byController.get('freezer');
    const freezer: Freezer | null = dir
      ? {
          freeze: async () => {
            writeFileSync(join(dir, 'freezer.state'), 'FROZEN');
            await waitUntil(() => readFileSync(join(dir, 'freezer.state'), 'utf8').trim() === 'FROZEN', 200);
          },
          thaw: () => {
            try {
              writeFileSync(join(dir, 'freezer.state'), 'THAWED');
            } catch {
              // removed meanwhile: nothing left to thaw
            }
          },
        }
      : null;
    await killUntilEmpty({ label: this.label, list: () => this.pids(), freezer, timeoutMs });
  }

  // Why: the folders go once the processes are gone; EBUSY retried, ENOENT ignored. The daemon's
  // warden-<pid> folder goes with its last instance: synchronously, so no create() runs in between.
  async remove(): Promise<void> {
    await removeTrees(this.dirs);
    this.removed();
    for (const dir of this.dirs) {
      try {
        rmdirSync(dirname(dir));
      } catch {
        // other instances still there (EBUSY), or gone already
      }
    }
  }
}

/** A folder's entries, or none when it cannot be read. */
function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
