/**
 * The bubblewrap command line for one plugin: a mount namespace built from explicit binds (never the
 * host's `/`), its own pid, ipc, uts and (unless granted) network namespaces, no capabilities, a
 * cleared environment. Pure: every host fact arrives in the arguments.
 */
import { dirname } from 'node:path';
import type { Identity } from './identity.js';

/** How the host's top-level system folders look: symlinks are recreated, folders bound read-only. */
export interface SystemLayout {
  /** e.g. { bin: 'usr/bin', lib: 'usr/lib' } for a merged-/usr host. */
  symlinks: Record<string, string>;
  /** Top-level folders bound read-only at the same path, e.g. ['/usr', '/lib64'] on an unmerged host. */
  folders: string[];
  /** /etc entries a program needs to run (dynamic linker cache, time zone, certificates). */
  etc: string[];
  /** /etc entries that only matter with the network (resolver, hosts). */
  etcNetwork: string[];
}

/** The fds (as the child sees them) that carry data into bwrap or its status out. */
export interface WallFds {
  passwd: number;
  group: number;
  status: number;
  seccomp: number | null;
}

export interface BwrapInput {
  bwrap: string;
  /** drop: bwrap runs as root, builds the mounts, and setpriv drops to `identity` inside; userns: bwrap is unprivileged. */
  mode: 'drop' | 'userns';
  identity: Identity;
  setpriv: string;
  layout: SystemLayout;
  network: boolean;
  /** Host paths mirrored read-only at the same path (runtime, SDK, the plugin folder, fs.read). */
  readOnly: string[];
  /** Host paths mirrored read-write (fs.write): bound after, so they win over a read-only parent. */
  readWrite: string[];
  /** Host paths bound read-only at another path inside (`source` on the host, `dest` in the sandbox). */
  readOnlyAt?: ReadonlyArray<{ source: string; dest: string }>;
  /** Paths that need not exist (granted paths): bound with the -try variants. */
  optional: ReadonlySet<string>;
  tmpBytes: number;
  env: Record<string, string>;
  cwd: string;
  fds: WallFds;
  command: string[];
}

/** Namespaces, privileges and lifetime: what makes it a wall rather than a chroot. */
function isolationArgs(input: BwrapInput): string[] {
  const args = ['--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try'];
  if (!input.network) args.push('--unshare-net');
  if (input.mode === 'userns') args.push('--unshare-user', '--disable-userns', '--cap-drop', 'ALL');
  // Root bwrap keeps only what setpriv needs to become the plugin's user; setuid then clears even those.
  else args.push('--cap-drop', 'ALL', '--cap-add', 'CAP_SETUID', '--cap-add', 'CAP_SETGID', '--cap-add', 'CAP_SETPCAP');
  args.push('--die-with-parent', '--new-session', '--hostname', 'warden-plugin');
  return args;
}

/** The system's runtime files, read-only; /etc only as far as programs need it. */
function systemArgs(input: BwrapInput): string[] {
  const { layout } = input;
  const args: string[] = [];
  for (const folder of layout.folders) args.push('--ro-bind', folder, folder);
  for (const [name, target] of Object.entries(layout.symlinks)) args.push('--symlink', target, `/${name}`);
  const etc = input.network ? [...layout.etc, ...layout.etcNetwork] : layout.etc;
  // bwrap makes missing parents 0700 when it runs as root: a plugin must be able to traverse /etc.
  args.push('--perms', '0755', '--dir', '/etc');
  for (const path of etc) args.push('--ro-bind-try', path, path);
  args.push('--file', String(input.fds.passwd), '/etc/passwd', '--file', String(input.fds.group), '/etc/group');
  args.push('--proc', '/proc', '--dev', '/dev');
  args.push('--perms', '1777', '--size', String(input.tmpBytes), '--tmpfs', '/tmp');
  return args;
}

/** Every ancestor of `path` below `/`, shallowest first. */
function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let dir = dirname(path); dir !== '/' && dir !== '.'; dir = dirname(dir)) out.unshift(dir);
  return out;
}

/** One bind of the plugin's paths: `source` on the host, `dest` in the sandbox. */
interface Bind {
  source: string;
  dest: string;
  write: boolean;
}

/**
 * The plugin's own paths: parents first (created 0755, so the plugin can traverse them), then
 * read-only binds, then read-write ones on top of them.
 */
function pathArgs(input: BwrapInput): string[] {
  // Folders that exist read-only in the sandbox already; /tmp is an empty tmpfs, so parents there are made.
  const system = new Set([...input.layout.folders, ...Object.keys(input.layout.symlinks).map((n) => `/${n}`), '/proc', '/dev', '/etc']);
  const covered = (dir: string) => [...system].some((s) => dir === s || dir.startsWith(`${s}/`));
  const mirror = (path: string, write: boolean): Bind => ({ source: path, dest: path, write });
  const binds = [
    ...[...new Set(input.readOnly)].filter((p) => !input.readWrite.includes(p)).map((path) => mirror(path, false)),
    ...(input.readOnlyAt ?? []).map(({ source, dest }) => ({ source, dest, write: false })),
    ...[...new Set(input.readWrite)].map((path) => mirror(path, true)),
  ].sort((a, b) => a.dest.split('/').length - b.dest.split('/').length || Number(a.write) - Number(b.write));
  const args: string[] = [];
  const made = new Set<string>();
  for (const { source, dest, write } of binds) {
    for (const dir of ancestors(dest)) {
      // A folder inside another bind already exists there: only the tmpfs root needs parents made.
      if (made.has(dir) || covered(dir) || binds.some((b) => dir === b.dest || dir.startsWith(`${b.dest}/`))) continue;
      made.add(dir);
      args.push('--perms', '0755', '--dir', dir);
    }
    const flag = (write ? '--bind' : '--ro-bind') + (input.optional.has(source) ? '-try' : '');
    args.push(flag, source, dest);
  }
  return args;
}

/** The environment, the working folder, the status and seccomp fds, and the command. */
function processArgs(input: BwrapInput): string[] {
  const args = ['--clearenv'];
  for (const [key, value] of Object.entries(input.env)) args.push('--setenv', key, value);
  args.push('--chdir', input.cwd, '--json-status-fd', String(input.fds.status));
  if (input.fds.seccomp !== null) args.push('--seccomp', String(input.fds.seccomp));
  args.push('--');
  if (input.mode === 'drop') {
    const { uid, gid } = input.identity;
    args.push(input.setpriv, `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--bounding-set=-all', '--inh-caps=-all', '--');
  }
  return [...args, ...input.command];
}

/** bwrap's full argv (its path first). */
export function bwrapArgv(input: BwrapInput): string[] {
  return [input.bwrap, ...isolationArgs(input), ...systemArgs(input), ...pathArgs(input), ...processArgs(input)];
}
