import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { detectCgroup, type CgroupV2 } from './cgroup.js';

export type { CgroupV2 } from './cgroup.js';

/** What this host offers for containing plugins; detected once at start-up and logged. */
export interface Capabilities {
  /** `setpriv` with `--pdeathsig`: the kernel kills a plugin when the daemon dies, even by SIGKILL. */
  setpriv: string | null;
  /** util-linux `prlimit`, to set RLIMIT_NOFILE from `handles` (node has no setrlimit). */
  prlimit: string | null;
  /** The command prefix that runs a program in a fresh, empty network namespace. */
  netns: { command: string[] } | null;
  /** Node's permission model for `main` plugins; `disableWarning` when `--disable-warning` exists. */
  nodePermission: { flag: '--permission' | '--experimental-permission'; disableWarning: boolean } | null;
  /** A writable, delegated cgroup v2 subtree with the memory, cpu and pids controllers. */
  cgroup: CgroupV2 | null;
}

export function findExecutable(name: string, path = process.env.PATH ?? '/usr/bin:/bin'): string | null {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return null;
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

export function detectCapabilities(): Capabilities {
  const linux = process.platform === 'linux';
  // pdeathsig is a Linux prctl; setpriv exists elsewhere without it.
  const setpriv = linux ? findExecutable('setpriv') : null;
  const prlimitPath = linux ? findExecutable('prlimit') : null;
  const prlimit = prlimitPath && probe([prlimitPath, '--nofile=64:64', '--', 'true']) ? prlimitPath : null;
  return {
    setpriv,
    prlimit,
    netns: detectNetns(),
    nodePermission: detectNodePermission(),
    cgroup: linux ? detectCgroup() : null,
  };
}

/** One line per mechanism for the start-up log; a line that contains "unenforced" deserves a warning. */
export function describeCapabilities(c: Capabilities): string[] {
  return [
    c.setpriv
      ? `parent death: ${c.setpriv} --pdeathsig KILL (plugins die with the daemon)`
      : 'parent death: no setpriv here; plugins may outlive a killed daemon (unenforced)',
    c.prlimit
      ? `handles: ${c.prlimit} --nofile (RLIMIT_NOFILE per plugin, above the sampled quota)`
      : 'handles: no prlimit here; handles are enforced by sampling only',
    c.netns
      ? `network: ${c.netns.command.map((a) => a.replace(/.*\//, '')).join(' ')} (namespace per plugin)`
      : 'network: no namespaces here; network:false is unenforced',
    c.nodePermission
      ? `node permission model: ${c.nodePermission.flag} (fs and childProcess for main plugins)`
      : 'node permission model: not in this node; fs and childProcess are unenforced',
    c.cgroup
      ? `cgroup: ${c.cgroup.pluginsDir} (memory.max, cpu.max, pids.max per plugin)`
      : 'cgroup: no delegated cgroup v2 subtree with memory, cpu and pids; memory, CPU and processes are enforced by sampling (and the V8 heap limit)',
  ];
}
