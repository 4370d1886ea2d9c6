/**
 * The wall around every plugin (bubblewrap): found once at daemon start, probed with a real sandbox,
 * and, when the host cannot build it, a one-line cause with what the operator can do.
 */
import { spawn, spawnSync } from 'node:child_process';
import { lstatSync, readlinkSync } from 'node:fs';
import { userInfo } from 'node:os';
import { bwrapArgv, type BwrapInput, type SystemLayout } from './bwrap.js';
import { resolveIdentity, sandboxAccounts, type Identity } from './identity.js';
import { seccompProgram } from './seccomp.js';
import { findExecutable } from './which.js';

export interface Wall {
  bwrap: string;
  version: string;
  /** drop: the daemon is root, so bwrap builds the mounts and setpriv drops to `identity`; userns: unprivileged user namespaces. */
  mode: 'drop' | 'userns';
  identity: Identity;
  setpriv: string;
  layout: SystemLayout;
  /** The seccomp program handed to bwrap, or null where this architecture has no syscall table. */
  seccomp: Buffer | null;
}

/** Top-level folders a program may need; on a merged-/usr host most are symlinks into /usr. */
const SYSTEM_ENTRIES = ['usr', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'];
const ETC = ['ld.so.cache', 'ld.so.conf', 'ld.so.conf.d', 'localtime', 'alternatives', 'ssl', 'ca-certificates', 'mime.types'];
const ETC_NETWORK = ['resolv.conf', 'hosts', 'nsswitch.conf', 'host.conf', 'gai.conf'];

/** The host's system folders as they are: a symlink stays a symlink, a folder is bound. */
export function detectLayout(root = '/'): SystemLayout {
  const layout: SystemLayout = { symlinks: {}, folders: [], etc: ETC.map((e) => `/etc/${e}`), etcNetwork: ETC_NETWORK.map((e) => `/etc/${e}`) };
  for (const name of SYSTEM_ENTRIES) {
    try {
      const stat = lstatSync(`${root}${name}`);
      if (stat.isSymbolicLink()) layout.symlinks[name] = readlinkSync(`${root}${name}`);
      else if (stat.isDirectory()) layout.folders.push(`/${name}`);
    } catch {
      // not on this host
    }
  }
  return layout;
}

/** What the probe's stderr says about the host, and what the operator can do (one line). */
export function diagnoseWall(stderr: string): string {
  const text = stderr.trim().split('\n').filter(Boolean).at(-1) ?? stderr.trim();
  if (/setting up uid map: Permission denied|uid_map/.test(stderr)) {
    return `${text}: AppArmor restricts unprivileged user namespaces (Ubuntu 23.10+); install the bwrap-userns-restrict AppArmor profile or set kernel.apparmor_restrict_unprivileged_userns=0`;
  }
  if (/No permissions to create new namespace|Operation not permitted.*namespace|Creating new namespace failed/i.test(stderr)) {
    return `${text}: user namespaces are disabled (sysctl user.max_user_namespaces=0 or kernel.unprivileged_userns_clone=0) or a container forbids them; enable them, or run the daemon where they are allowed`;
  }
  if (/Can't mount proc/.test(stderr)) {
    return `${text}: /proc is masked (systemd ProtectProc=invisible or ProtectKernelTunables=yes, or a container); remove those from the unit`;
  }
  if (/RTM_NEWADDR/.test(stderr)) {
    return `${text}: AppArmor blocks network namespace set-up for bwrap; install the bwrap-userns-restrict AppArmor profile`;
  }
  if (/seccomp/i.test(stderr)) return `${text}: the kernel refused the seccomp filter`;
  return text || 'bwrap failed without a message';
}

export interface WallProbe {
  wall: Wall | null;
  /** Why there is no wall, with the fix; null when there is one. */
  problem: string | null;
}

/** bwrap and setpriv, the mode and the identity plugins run as; null with the reason when something is missing. */
function findWall(options: { user: string | null; path: string }): WallProbe {
  if (process.platform !== 'linux') return { wall: null, problem: 'bubblewrap needs Linux' };
  const bwrap = findExecutable('bwrap', options.path);
  if (!bwrap) return { wall: null, problem: 'bwrap not found on PATH: install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap)' };
  const setpriv = findExecutable('setpriv', options.path) ?? '/usr/bin/setpriv';
  const version = spawnSync(bwrap, ['--version'], { encoding: 'utf8' }).stdout?.trim().replace(/^bubblewrap\s*/, '') ?? '';
  const root = process.getuid?.() === 0;
  let identity: Identity;
  try {
    identity = root
      ? resolveIdentity(options.user)
      : { uid: process.getuid?.() ?? 65534, gid: process.getgid?.() ?? 65534, name: userInfo().username };
  } catch (error) {
    return { wall: null, problem: (error as Error).message };
  }
  const wall: Wall = { bwrap, version, mode: root ? 'drop' : 'userns', identity, setpriv, layout: detectLayout(), seccomp: seccompProgram() };
  return { wall, problem: null };
}

/**
 * An fd a walled child gets beyond stdio (3, 4, …): data written into it, bwrap's status read from it, or
 * (a restart standby) the fd bwrap blocks on, once its sandbox is built, until a byte arrives.
 */
export type ExtraFd = { input: Buffer } | { status: true } | { block: true };

/** What varies between programs run behind one wall. */
export type WallRun = Pick<BwrapInput, 'network' | 'readOnly' | 'readWrite' | 'readOnlyAt' | 'optional' | 'tmpBytes' | 'env' | 'cwd' | 'command'>;

/**
 * bwrap's argv for one program behind this wall, and its extra fds in order: the generated passwd and
 * group, the status fd, and the seccomp program. The one place the fd layout is written.
 */
export function wallCommand(wall: Wall, run: WallRun): { argv: string[]; fds: ExtraFd[] } {
  const accounts = sandboxAccounts(wall.identity);
  const fds: ExtraFd[] = [{ input: Buffer.from(accounts.passwd) }, { input: Buffer.from(accounts.group) }, { status: true }];
  if (wall.seccomp) fds.push({ input: wall.seccomp });
  const { bwrap, mode, identity, setpriv, layout } = wall;
  const argv = bwrapArgv({ bwrap, mode, identity, setpriv, layout, ...run, fds: { passwd: 3, group: 4, status: 5, seccomp: wall.seccomp ? 6 : null } });
  return { argv, fds };
}

/** Runs `true` behind the whole wall, as a plugin would be run; resolves to bwrap's stderr on failure, else null. */
export function probeWall(wall: Wall, timeoutMs = 5000): Promise<string | null> {
  const { argv, fds } = wallCommand(wall, {
    network: false,
    readOnly: [],
    readWrite: [],
    optional: new Set(),
    tmpBytes: 1 << 20,
    env: { PATH: '/usr/bin:/bin' },
    cwd: '/',
    command: ['true'],
  });
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe', ...fds.map(() => 'pipe' as const)] });
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    fds.forEach((fd, i) => {
      const stream = child.stdio[i + 3] as unknown as NodeJS.ReadWriteStream;
      stream.on('error', () => undefined);
      if ('input' in fd) stream.end(fd.input);
      else if ('status' in fd) stream.resume();
      else stream.end('x');
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve(error.message);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code === 0 ? null : stderr || `bwrap exited with ${signal ?? `code ${code}`}`);
    });
  });
}

/** Finds and probes the wall; the problem line names the cause and the fix. */
export async function detectWall(options: { user: string | null; path?: string }): Promise<WallProbe> {
  const found = findWall({ user: options.user, path: options.path ?? process.env.PATH ?? '/usr/bin:/bin' });
  if (!found.wall) return found;
  const failure = await probeWall(found.wall);
  if (failure === null) return found;
  return { wall: null, problem: `bwrap cannot build the sandbox here: ${diagnoseWall(failure)}` };
}
