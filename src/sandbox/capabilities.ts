import { spawnSync } from 'node:child_process';
import { detectCgroups, type CgroupDriver } from '../cgroups/index.js';
import { detectWall, type Wall } from './wall.js';
import { findExecutable } from './which.js';

export { findExecutable } from './which.js';
export type { Wall } from './wall.js';

/** What this host offers for containing plugins; detected once at start-up and logged. */
export interface Capabilities {
  /** The wall (bubblewrap namespaces, identity, seccomp); null when the host cannot build it. */
  wall: Wall | null;
  /** Why there is no wall, with what the operator can do; null when there is one. */
  wallProblem: string | null;
  /** `setpriv` with `--pdeathsig`: without the wall, the kernel still kills a plugin when the daemon dies. */
  setpriv: string | null;
  /** The POSIX shell that joins the cgroup and sets rlimits with `ulimit` before the plugin runs (node has no setrlimit for a child). */
  shell: string | null;
  /** Without the wall: the command prefix that runs a program in a fresh, empty network namespace. */
  netns: { command: string[] } | null;
  /** Node's permission model for `main` plugins (a second layer); `disableWarning` when `--disable-warning` exists. */
  nodePermission: { flag: '--permission' | '--experimental-permission'; disableWarning: boolean } | null;
  /** Kernel limits and whole-tree kills: one cgroup per plugin instance (v2 or v1). */
  cgroup: CgroupDriver | null;
  /** Why there are no cgroups; null when there are. */
  cgroupProblem: string | null;
}

export interface DetectOptions {
  /** `sandbox.user`: who plugins run as when the daemon is root. */
  sandboxUser?: string | null;
  /** Tests: skip the wall as if bwrap were missing. */
  path?: string;
}

/** True when `argv` runs and exits 0: a binary can exist and still be refused by the kernel (no CAP_SYS_ADMIN, seccomp). */
function probe(argv: string[]): boolean {
  const result = spawnSync(argv[0]!, argv.slice(1), { stdio: 'ignore', timeout: 5000 });
  return result.status === 0;
}

function detectNetns(): Capabilities['netns'] {
  const unshare = findExecutable('unshare');
  if (!unshare || process.platform !== 'linux') return null;
  const candidates = [
    [unshare, '--net'],
    // Without root, a user namespace grants the right to make a network namespace, where the kernel allows it.
    [unshare, '--user', '--map-root-user', '--net'],
  ];
  if (process.getuid?.() !== 0) candidates.shift();
  for (const command of candidates) {
    if (probe([...command, '--', 'true'])) return { command };
  }
  return null;
}

function detectNodePermission(): Capabilities['nodePermission'] {
  const flags = process.allowedNodeEnvironmentFlags;
  const disableWarning = flags.has('--disable-warning');
  if (flags.has('--permission')) return { flag: '--permission', disableWarning };
  if (flags.has('--experimental-permission')) return { flag: '--experimental-permission', disableWarning };
  return null;
}

/** Everything the host offers, probed for real (a sandbox is built once); each missing piece carries its reason. Writes nothing to cgroupfs (see claimCgroup). */
export async function detectCapabilities(options: DetectOptions = {}): Promise<Capabilities> {
  const linux = process.platform === 'linux';
  const path = options.path ?? process.env.PATH ?? '/usr/bin:/bin';
  // pdeathsig is a Linux prctl; setpriv exists elsewhere without it.
  const setpriv = linux ? findExecutable('setpriv', path) : null;
  const shellPath = linux ? findExecutable('sh', path) : null;
  const shell = shellPath && probe([shellPath, '-c', 'ulimit -n 64 && exec "$@"', 'sh', 'true']) ? shellPath : null;
  const { wall, problem } = await detectWall({ user: options.sandboxUser ?? null, path });
  const cgroups = linux ? detectCgroups() : { driver: null, reason: 'cgroups need Linux' };
  return {
    wall,
    wallProblem: problem,
    setpriv,
    shell,
    netns: wall ? null : detectNetns(),
    nodePermission: detectNodePermission(),
    cgroup: cgroups.driver,
    cgroupProblem: cgroups.driver ? null : cgroups.reason,
  };
}

/**
 * The daemon's start-up step after detection, before its first spawn: claims the cgroup driver (on v2 it
 * moves the daemon into its leaf and enables the controllers) and sweeps what earlier daemons left behind.
 * A refused claim leaves the host without cgroups, with the reason. Detection itself never writes.
 */
export function claimCgroup(capabilities: Capabilities): Capabilities {
  const driver = capabilities.cgroup;
  if (!driver) return capabilities;
  try {
    driver.claim();
  } catch (error) {
    return { ...capabilities, cgroup: null, cgroupProblem: (error as Error).message };
  }
  driver.sweep();
  return capabilities;
}

/** One line per mechanism for the start-up log, each with its level: anything unenforced is a warning. */
export function describeCapabilities(c: Capabilities): Array<{ level: 'info' | 'warn'; text: string }> {
  const info = (text: string) => ({ level: 'info' as const, text });
  const warn = (text: string) => ({ level: 'warn' as const, text });
  const lines = [];
  if (c.wall) {
    const who = c.wall.mode === 'drop' ? `as ${c.wall.identity.name} (${c.wall.identity.uid}:${c.wall.identity.gid})` : 'in an unprivileged user namespace';
    lines.push(info(`wall: bubblewrap ${c.wall.version} (${c.wall.bwrap}): own mount, pid, ipc, uts and network namespaces, no capabilities, plugins run ${who}`));
    lines.push(c.wall.seccomp ? info('wall: seccomp filter on (ptrace, keyring, mount, namespaces, bpf, perf, userfaultfd denied)') : warn(`wall: no seccomp syscall table for ${process.arch}; syscalls unenforced`));
  } else {
    lines.push(warn(`wall: none (${c.wallProblem}); plugins see the host's files, processes and signals: fs, signals, identity and syscalls are unenforced`));
    lines.push(c.netns ? info(`network: ${c.netns.command.map((a) => a.replace(/.*\//, '')).join(' ')} (namespace per plugin)`) : warn('network: no namespaces here; network:false is unenforced'));
  }
  lines.push(c.setpriv ? info(`parent death: ${c.setpriv} --pdeathsig KILL (plugins die with the daemon)`) : warn('parent death: no setpriv here; plugins may outlive a killed daemon (unenforced)'));
  const data = c.cgroup?.enforces.memoryMb ? '' : '; memory: ulimit -d (RLIMIT_DATA = 2 × memoryMb, the kernel backstop without a cgroup)';
  lines.push(c.shell ? info(`rlimits: ${c.shell} ulimit -n (RLIMIT_NOFILE per plugin, above the sampled quota)${data}`) : warn('rlimits: no POSIX shell with ulimit here; handles (and memory without a cgroup) are enforced by sampling only'));
  lines.push(c.nodePermission ? info(`node permission model: ${c.nodePermission.flag} (a second layer for main plugins)`) : warn('node permission model: not in this node'));
  lines.push(c.cgroup ? info(`cgroup: ${c.cgroup.describe()}`) : warn(`cgroup: none (${c.cgroupProblem}); memory, CPU and processes are enforced by sampling only, and stops reach the process tree, not the cgroup`));
  return lines;
}
