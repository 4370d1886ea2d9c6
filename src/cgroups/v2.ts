/**
 * cgroup v2 with a delegated subtree (systemd Delegate=yes). Layout under the daemon's cgroup <root>:
 *   <root>/warden-daemon/                 the daemon (v2: no processes where controllers are delegated)
 *   <root>/warden-plugins/<name>.<id>/    one cgroup per plugin instance
 * Both <root> and warden-plugins enable +memory +pids +cpu for their children. Detection only reads;
 * the driver's claim() (once, at daemon start) moves the daemon into its leaf and enables the controllers.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Limits } from '../config/types.js';
import {
  type CgroupLine,
  type Mount,
  canWrite,
  exists,
  freshDir,
  pidsIn,
  pidsInFile,
  readInt,
  readKey,
  readText,
  rmdirTreeSync,
  underMount,
  writeControl,
} from './fs.js';
import { joinArgv } from './join.js';
import { type Freezer, killUntilEmpty, removeTrees, sigkillAll, waitUntil } from './lifecycle.js';
import { openCounters, v2CounterFiles, type CgroupCounters } from './counters.js';
import { cgroupLimits, checkInstanceName } from './limits.js';
import { LiveCgroups } from './live.js';
import type { CgroupDriver, PluginCgroup } from './types.js';

export const V2_CONTROLLERS = ['memory', 'pids', 'cpu'] as const;
const ENABLE = V2_CONTROLLERS.map((c) => `+${c}`).join(' ');
/** Leaf names a daemon may already sit in: ours, and systemd's DelegateSubgroup= convention. */
const LEAF_NAMES = new Set(['warden-daemon', 'supervisor']);

export interface V2Setup {
  root: string;
  self: CgroupLine[];
  mounts: Mount[];
}

// Why: the daemon's delegated cgroup folder: "0::<path>" joined to the cgroup2 mount that shows it.
function ownV2Dir(setup: V2Setup): { dir: string; path: string } | string {
  const line = setup.self.find((l) => l.controllers.length === 0);
  if (!line) return 'cgroup v2 but /proc/self/cgroup has no "0::" line';
  const cgroup2 = setup.mounts.filter((m) => m.fsType === 'cgroup2');
  const mount = cgroup2.find((m) => m.mountPoint === setup.root) ?? { root: '/', mountPoint: setup.root, fsType: 'cgroup2', superOptions: [] };
  const dir = underMount(line.path, mount);
  if (dir === null) return `cgroup v2 but the daemon's cgroup ${line.path} is outside the cgroup2 mount ${mount.mountPoint} (which shows ${mount.root})`;
  return { dir, path: line.path };
}

// Why: decides whether the subtree is delegated, reading only; the claim is the driver's claim(), a step of daemon start.
export function detectV2(setup: V2Setup): { driver: CgroupDriver | null; reason: string | null } {
  const own = ownV2Dir(setup);
  if (typeof own === 'string') return { driver: null, reason: own };
  const inLeaf = LEAF_NAMES.has(basename(own.dir));
  const root = inLeaf ? dirname(own.dir) : own.dir;
  const shown = inLeaf ? dirname(own.path) : own.path;
  if (!exists(root)) return { driver: null, reason: `cgroup v2 but the daemon's cgroup folder ${root} does not exist` };
  const controllers = (readText(join(root, 'cgroup.controllers')) ?? '').trim().split(/\s+/).filter(Boolean);
  const missing = V2_CONTROLLERS.filter((c) => !controllers.includes(c));
  if (missing.length > 0) {
    return {
      driver: null,
      reason:
        `cgroup v2 but the daemon's cgroup ${shown} lacks the ${missing.join(', ')} controller${missing.length > 1 ? 's' : ''} ` +
        `(cgroup.controllers: "${controllers.join(' ')}"); add Delegate=yes (or Delegate=cpu memory pids) to the unit`,
    };
  }
  for (const file of ['', 'cgroup.procs', 'cgroup.subtree_control']) {
    if (!canWrite(join(root, file))) {
      return {
        driver: null,
        reason: `cgroup v2 but the daemon's cgroup ${shown} is not delegated (no write access to ${file || 'the folder'}); add Delegate=yes to the unit`,
      };
    }
  }
  const layout: V2Layout = {
    root,
    leaf: inLeaf ? own.dir : join(root, 'warden-daemon'),
    plugins: join(root, 'warden-plugins'),
    shown,
    isTrueRoot: own.path === '/' && !exists(join(root, 'cgroup.type')),
  };
  return { driver: new V2Driver(layout), reason: null };
}

/** Where the daemon and its plugins go inside the delegated cgroup <root>, as detection found it. */
interface V2Layout {
  root: string;
  /** The daemon's own leaf: warden-daemon, or the DelegateSubgroup= leaf it already sits in. */
  leaf: string;
  plugins: string;
  /** <root> as /proc/self/cgroup shows it, for messages. */
  shown: string;
  /** The true root cgroup is exempt from the no-internal-process rule (and its kernel threads cannot move). */
  isTrueRoot: boolean;
}

// Why: v2's no-internal-process rule: every process of <root> moves into the leaf before <root>
// enables controllers for its children. The true root cgroup is exempt (and its kernel threads cannot move).
function claimV2({ root, leaf, plugins, isTrueRoot }: V2Layout): void {
  mkdirSync(leaf, { recursive: true });
  if (!isTrueRoot) {
    const moved = new Set<number>();
    // a few rounds: a process may fork while we move the others
    for (let round = 0; round < 5; round++) {
      // cgroup.procs of <root> alone: its sub-cgroups are ours, not processes to move
      const left = pidsInFile(join(root, 'cgroup.procs')).filter((pid) => !moved.has(pid));
      if (left.length === 0) break;
      for (const pid of left) {
        try {
          appendFileSync(join(leaf, 'cgroup.procs'), `${pid}\n`);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ESRCH') {
            throw new Error(`moving pid ${pid} into ${leaf} failed (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
          }
        }
        moved.add(pid);
      }
    }
  }
  writeControl(join(root, 'cgroup.subtree_control'), ENABLE, `enable ${ENABLE} for the daemon's cgroup`);
  mkdirSync(plugins, { recursive: true });
  writeControl(join(plugins, 'cgroup.subtree_control'), ENABLE, `enable ${ENABLE} for plugin cgroups`);
}

class V2Driver implements CgroupDriver {
  readonly mode = 'v2' as const;
  readonly enforces = { memoryMb: true, cpuPercent: true, processes: true };
  private readonly made = new Set<string>();
  private readonly live = new LiveCgroups();
  private readonly root: string;
  private readonly leaf: string;
  private readonly plugins: string;
  private claimed = false;

  // Why: the detected layout, not yet claimed; optional features are probed on <root>, whose files its children share.
  constructor(private readonly layout: V2Layout) {
    this.root = layout.root;
    this.leaf = layout.leaf;
    this.plugins = layout.plugins;
  }

  // Why: the one step that writes the daemon's cgroup: daemon into its leaf, controllers on for <root> and warden-plugins.
  claim(): void {
    if (this.claimed) return;
    try {
      claimV2(this.layout);
    } catch (error) {
      throw new Error(`cgroup v2: cannot claim the daemon's cgroup ${this.layout.shown}: ${(error as Error).message}`, { cause: error });
    }
    this.claimed = true;
  }

  // Why: the operator needs to see at start-up where plugin cgroups are and what is enforced.
  describe(): string {
    const swap = exists(join(this.root, 'memory.swap.max')) ? ' + memory.swap.max 0' : '';
    const group = exists(join(this.root, 'memory.oom.group')) ? ', memory.oom.group 1' : '';
    const kill = exists(join(this.root, 'cgroup.kill')) ? 'cgroup.kill' : exists(join(this.root, 'cgroup.freeze')) ? 'cgroup.freeze + SIGKILL' : 'repeated SIGKILL';
    return `cgroup v2: plugin cgroups under ${this.plugins}/<name>.<id> (daemon in ${this.leaf}); memory.high, memory.max${swap}${group}, pids.max, cpu.max; kill via ${kill}`;
  }

  // Why: a fresh cgroup per launch with its limits written before anything joins; undone on refusal.
  create(name: string, id: string, limits: Limits): PluginCgroup {
    if (!this.claimed) throw new Error(`warden: cgroup v2: the daemon's cgroup ${this.layout.shown} is not claimed yet (claim() before create())`);
    const dir = join(this.plugins, checkInstanceName(name, id));
    const values = cgroupLimits(limits);
    // an optional file exists in a child if it exists in <root> (same parent controllers), or now in the child
    const has = (file: string): boolean => exists(join(this.root, file)) || exists(join(dir, file));
    freshDir(dir);
    try {
      writeControl(join(dir, 'memory.max'), String(values.memoryBytes), `set memory.max of plugin ${name}`);
      writeControl(join(dir, 'memory.high'), String(values.memoryHighBytes), `set memory.high of plugin ${name}`);
      if (has('memory.swap.max')) writeControl(join(dir, 'memory.swap.max'), '0', `set memory.swap.max of plugin ${name}`);
      if (has('memory.oom.group')) writeControl(join(dir, 'memory.oom.group'), '1', `set memory.oom.group of plugin ${name}`);
      writeControl(join(dir, 'pids.max'), String(values.pidsMax), `set pids.max of plugin ${name}`);
      writeControl(join(dir, 'cpu.max'), `${values.cpuQuotaUs} ${values.cpuPeriodUs}`, `set cpu.max of plugin ${name}`);
      // Unused quota may be saved up to one period's worth: a start-up burst on several threads is not throttled.
      if (existsSync(join(dir, 'cpu.max.burst'))) writeControl(join(dir, 'cpu.max.burst'), String(values.cpuQuotaUs), `set cpu.max.burst of plugin ${name}`);
    } catch (error) {
      rmdirTreeSync(dir);
      throw error;
    }
    this.made.add(dir);
    return this.live.add(basename(dir), new V2PluginCgroup(dir, () => this.live.remove(basename(dir))));
  }

  // Why: the "0::" line of /proc/<pid>/cgroup names the instance folder.
  countersOf(pid: number): CgroupCounters | null {
    return this.live.countersOf(pid, (line) => line.controllers.length === 0);
  }

  // Why: plugin cgroups left by an earlier daemon in this delegated cgroup; rmdir refuses populated ones.
  sweep(): void {
    let entries: string[];
    try {
      entries = readdirSync(this.plugins);
    } catch {
      return;
    }
    for (const entry of entries) {
      const dir = join(this.plugins, entry);
      if (this.made.has(dir)) continue;
      // Left by an earlier daemon of this unit: nothing of its plugins may outlive it.
      sigkillAll(pidsIn([dir]));
      rmdirTreeSync(dir);
    }
  }
}

class V2PluginCgroup implements PluginCgroup {
  readonly dirs: readonly string[];

  // Why: one folder holds every controller on v2; `removed` tells the driver it is gone.
  constructor(
    private readonly dir: string,
    private readonly removed: () => void,
  ) {
    this.dirs = [dir];
  }

  // Why: the sampler's reads of this cgroup, opened once per watch.
  counters(): CgroupCounters {
    return openCounters(v2CounterFiles(this.dir));
  }

  // Why: the plugin must be inside before its first instruction.
  joinArgv(sh?: string): string[] {
    return joinArgv(this.dirs, sh);
  }

  // Why: memory.events' oom_kill counts processes killed by any OOM killer in this subtree.
  oomKills(): number {
    return readKey(join(this.dir, 'memory.events'), 'oom_kill') ?? 0;
  }

  // Why: memory.peak exists since Linux 5.19.
  memoryPeakBytes(): number | null {
    return readInt(join(this.dir, 'memory.peak'));
  }

  // Why: cgroup.procs of the folder and of any sub-cgroup a plugin made.
  pids(): number[] {
    return pidsIn(this.dirs);
  }

  // Why: cgroup.kill (Linux ≥ 5.14) is one race-free write; older kernels freeze, SIGKILL, thaw.
  async kill(timeoutMs = 5000): Promise<void> {
    const dir = this.dir;
    const list = (): number[] => this.pids();
    if (exists(join(dir, 'cgroup.kill'))) {
      const killAll = (): void => {
        try {
          writeFileSync(join(dir, 'cgroup.kill'), '1');
        } catch {
          // removed meanwhile: the list is then empty too
        }
      };
      await killUntilEmpty({ label: dir, list, freezer: null, killAll, timeoutMs });
      return;
    }
    const freezer: Freezer | null = exists(join(dir, 'cgroup.freeze'))
      ? {
          freeze: async () => {
            writeFileSync(join(dir, 'cgroup.freeze'), '1');
            await waitUntil(() => readKey(join(dir, 'cgroup.events'), 'frozen') === 1, 200);
          },
          thaw: () => {
            try {
              writeFileSync(join(dir, 'cgroup.freeze'), '0');
            } catch {
              // removed meanwhile
            }
          },
        }
      : null;
    await killUntilEmpty({ label: dir, list, freezer, timeoutMs });
  }

  // Why: the folder goes once the processes are gone; EBUSY retried, ENOENT ignored.
  async remove(): Promise<void> {
    await removeTrees(this.dirs);
    this.removed();
  }
}
