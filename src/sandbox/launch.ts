import { lchownSync, lstatSync, mkdirSync, readdirSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { PluginCgroup } from '../cgroups/index.js';
import { launchShellArgv } from '../cgroups/join.js';
import type { Limits } from '../config/types.js';
import type { Manifest, Permissions } from '../manifest/types.js';
import { PACKAGE_ROOT } from '../version.js';
import type { Capabilities, Wall } from './capabilities.js';
import { buildPluginEnv, resolveEnvironment } from './env.js';
import { realPath } from './permissions.js';
import { commandRuntime, contains, readsFrom, runtimePrefix } from './runtime.js';
import { sdkLoaderArgs } from './sdk-loader.js';

import { wallCommand, type ExtraFd } from './wall.js';

export type { ExtraFd } from './wall.js';

/** Everything needed to spawn one plugin process. */
export interface LaunchSpec {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** fds 3, 4, … of the child, in order. */
  fds?: ExtraFd[];
  /** Behind the wall: bwrap reports the sandbox's pid and exit on a status fd, and the exit code of a signalled plugin is 128+signal. */
  walled?: boolean;
}

export interface LaunchOptions {
  dir: string;
  manifest: Manifest;
  /** Effective permissions (see effectivePermissions). */
  permissions: Permissions;
  limits: Limits;
  capabilities: Capabilities;
  nodePath?: string;
  /** Size of the private /tmp, in MB (`sandbox.tmpMb`). */
  tmpMb?: number;
  /** The daemon's own paths (socket, state, logs, config, pluginsDir): never bound, nor any folder holding one. */
  protectedPaths?: string[];
  /** The cgroup this launch joins before exec (made by the caller, one per instance). */
  cgroup?: PluginCgroup | null;
}

export interface LaunchPlan {
  launch: LaunchSpec;
  /** Per limit and permission, what enforces it in this launch (PluginStatus.enforcement). */
  enforcement: Record<string, string>;
}

/** Which mechanisms a launch applies; both the command line and the enforcement map derive from it. */
interface Decisions {
  wall: Wall | null;
  heap: boolean;
  /** RLIMIT_NOFILE through the launch shell. */
  nofile: boolean;
  /** RLIMIT_DATA through the launch shell: the kernel's memory backstop where no cgroup enforces memoryMb. */
  data: boolean;
  /** Without the wall, `unshare --net` still gives an empty network namespace. */
  netns: 'wall' | 'unshare' | null;
  nodePermission: boolean;
  cgroup: Capabilities['cgroup'];
  pdeathsig: boolean;
}

/** The SDK's files: `dist/` holds sdk/, the rpc/ line reader it imports and the loader hook. */
export const SDK_READ_ROOT = join(PACKAGE_ROOT, 'dist');
/**
 * Where the wall binds the package (its dist/ and package.json) inside every sandbox, so `warden/sdk`
 * resolves without a loader hook: `/node_modules` is the last folder node's resolution walks to, and
 * nothing else is there (the host's `/` is never bound), so a plugin's own node_modules/warden still wins.
 */
export const SDK_SANDBOX_ROOT = '/node_modules/warden';
/** Default size of a plugin's private /tmp. */
export const DEFAULT_TMP_MB = 64;

/** Host paths no grant may reach into: kernel interfaces and runtime sockets. */
const SYSTEM_ONLY = ['/proc', '/sys', '/dev', '/run', '/var/run', '/boot'];

function decide(manifest: Manifest, permissions: Permissions, capabilities: Capabilities): Decisions {
  const main = manifest.main !== undefined;
  const wall = capabilities.wall;
  return {
    wall,
    // V8's heap limit (--max-old-space-size=memoryMb), only where no cgroup enforces memoryMb: any
    // heap-size flag changes V8's flag hash, so node rejects its built-in code cache (~7 ms CPU per
    // start). Kept, it makes a JS-heap leak end in V8's own "heap out of memory" at memoryMb, before
    // the sampler's next pass (RSS ≥ heap, so it is a margin above the quota); it never covers Buffers
    // or native memory. Under a cgroup's memory limit that is all it would add: a JS-heap leak would
    // end as V8's report instead of the kernel's OOM kill at 1.25 × the quota, which the kernel
    // already enforces for the whole process tree.
    heap: main && !capabilities.cgroup?.enforces.memoryMb,
    nofile: capabilities.shell !== null,
    data: capabilities.shell !== null && !capabilities.cgroup?.enforces.memoryMb,
    netns: permissions.network ? null : wall ? 'wall' : capabilities.netns ? 'unshare' : null,
    nodePermission: main && capabilities.nodePermission !== null,
    cgroup: capabilities.cgroup,
    // Also in front of bwrap: its own --die-with-parent is set only once its set-up is done.
    pdeathsig: capabilities.setpriv !== null,
  };
}

function enforcementOf(d: Decisions, permissions: Permissions): Record<string, string> {
  const plus = (...parts: Array<string | false | null | undefined>): string => parts.filter(Boolean).join('+') || 'unenforced';
  const cg = d.cgroup?.enforces;
  const wall = d.wall;
  return {
    memoryMb: plus(cg?.memoryMb && 'cgroup', d.data && 'rlimit', 'sampling', d.heap && 'v8-heap'),
    cpuPercent: plus(cg?.cpuPercent && 'cgroup', 'sampling'),
    handles: plus(d.nofile && 'rlimit', 'sampling'),
    processes: plus(cg?.processes && 'cgroup', 'sampling'),
    fs: plus(wall && 'mount-namespace', d.nodePermission && 'node-permission'),
    network: permissions.network ? 'allowed' : d.netns ? 'namespace' : 'unenforced',
    childProcess: permissions.childProcess ? 'allowed' : d.nodePermission ? 'node-permission' : 'unenforced',
    env: wall ? 'clearenv' : 'env-allowlist',
    signals: wall ? 'pid-namespace' : 'unenforced',
    processTree: plus(wall && 'pid-namespace', d.cgroup && 'cgroup'),
    identity: wall ? (wall.mode === 'drop' ? `setpriv:${wall.identity.name}` : 'user-namespace') : 'unenforced',
    syscalls: wall?.seccomp ? 'seccomp' : 'unenforced',
  };
}

/** The enforcement map a launch with these inputs would have, without planning the command line. */
export function planEnforcement(manifest: Manifest, permissions: Permissions, capabilities: Capabilities): Record<string, string> {
  return enforcementOf(decide(manifest, permissions, capabilities), permissions);
}

/** Every key of an enforcement map, for a plugin that never runs (invalid). */
export const ENFORCEMENT_KEYS = Object.keys(enforcementOf(
  { wall: null, heap: false, nofile: false, data: false, netns: null, nodePermission: false, cgroup: null, pdeathsig: false },
  { fs: { read: [], write: [] }, network: false, childProcess: false, env: [] },
));

/** RLIMIT_NOFILE: the quota plus ~10 % (at least 8), so the sampler normally stops the plugin first. */
export function nofileLimit(handles: number): number {
  return handles + Math.max(8, Math.ceil(handles * 0.1));
}

/**
 * RLIMIT_DATA, in MiB: 2 × memoryMb. It counts private writable memory whether resident or not: an
 * idle node plugin holds ~81 MB of it (mostly its threads' 8 MB stacks) with ~42 MB resident, python
 * ~7 MB with ~11 MB resident. At this value a 1 GB/s allocation bomb peaked at 1.7× (node) and 1.8×
 * (python) of memoryMb in RSS, its allocation failing catchably (RangeError, MemoryError). Below
 * memoryMb 41 node cannot start under it, where its idle RSS is over the sampled quota anyway.
 */
export function dataLimitMb(memoryMb: number): number {
  return 2 * memoryMb;
}

/**
 * Refuses a bind that would open the wall: `/`, kernel interfaces, runtime sockets, any folder holding
 * the daemon's socket, state, logs, config or plugins, and anything inside those but the plugin's own
 * folder (another plugin's files, state.json). Throws a message for lastError.
 */
export function checkBind(path: string, protectedPaths: readonly string[], label: string, ownDir?: string): void {
  if (path === '/') throw new Error(`${label} / is never bound: it would expose the whole host`);
  const system = SYSTEM_ONLY.find((s) => contains(s, path) || contains(path, s));
  if (system) throw new Error(`${label} ${path} is never bound: it would expose ${system}`);
  const exposed = protectedPaths.find((p) => contains(path, p));
  if (exposed) throw new Error(`${label} ${path} is never bound: it holds the daemon's ${exposed}`);
  const inside = ownDir !== undefined && !contains(ownDir, path) ? protectedPaths.find((p) => contains(p, path)) : undefined;
  if (inside) throw new Error(`${label} ${path} is never bound: it is inside the daemon's ${inside}`);
}

/** A path and, when it differs, its real path: node's ESM loader reads the main module by its real path. */
function withRealPath(path: string): string[] {
  try {
    const real = realpathSync.native(path);
    return real === path ? [path] : [path, real];
  } catch {
    return [path]; // not there (yet)
  }
}

function permissionArgs(
  permission: NonNullable<Capabilities['nodePermission']>,
  dir: string,
  permissions: Permissions,
  sdk: { loader: boolean; walled: boolean },
): string[] {
  const legacy = permission.flag === '--experimental-permission';
  // Node 20: `P/*` grants P itself and its subtree whether P exists yet or not, where plain `P`
  // grants a subtree only if P is a folder at start. Node 20 also aborts (radix tree assertion)
  // when a folder is granted twice, in any spelling: hence one spelling and no duplicates.
  const grants = (flag: string, paths: string[]): string[] => {
    // Node ignores what follows a `*`; cutting there keeps a declared wildcard from doubling a grant.
    const bases = paths.map((p) => (p.includes('*') ? resolve(p.slice(0, p.indexOf('*')) || '/') : p));
    const unique = new Set(bases.flatMap(withRealPath).map((p) => (legacy ? join(p, '*') : p)));
    // One flag per path: Node 20.20 rejects a comma-separated list.
    return [...unique].map((p) => `${flag}=${p}`);
  };
  const args: string[] = [permission.flag];
  const silence = (type: string): void => void (permission.disableWarning && args.push(`--disable-warning=${type}`));
  if (legacy) silence('ExperimentalWarning');
  const sdkReads = sdk.walled ? [SDK_READ_ROOT, SDK_SANDBOX_ROOT] : [SDK_READ_ROOT];
  args.push(...grants('--allow-fs-read', [dir, ...sdkReads, ...permissions.fs.read]));
  args.push(...grants('--allow-fs-write', permissions.fs.write));
  if (permissions.childProcess) {
    args.push('--allow-child-process', '--allow-worker');
  } else if (sdk.loader) {
    // module.register runs the SDK's resolve hook in a worker thread. Workers inherit the fs and
    // child-process denials, so this grants no access; its SecurityWarning is noise for our own flag.
    args.push('--allow-worker');
    silence('SecurityWarning');
  }
  return args;
}

/**
 * Bounded recursive lchown, so a root daemon's plugin can write its own fs.write folders. Never follows
 * a symlink (the plugin may have left one pointing at a host file): links are neither changed nor entered.
 */
function chownTree(path: string, uid: number, gid: number, budget = { left: 10_000 }): void {
  if (budget.left-- <= 0) return;
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  if (stat.uid !== uid || stat.gid !== gid) lchownSync(path, uid, gid);
  if (!stat.isDirectory()) return;
  for (const entry of readdirSync(path)) chownTree(join(path, entry), uid, gid, budget);
}

/**
 * The fs.write folders exist before the wall binds them (a bind needs its source), and those inside the
 * plugin's own folder belong to its identity when the daemon is root. Paths arrive resolved (effectivePermissions):
 * a link inside the folder that points out of it is outside, and never handed over.
 */
function prepareWritePaths(dir: string, writes: string[], wall: Wall): void {
  for (const path of writes) {
    mkdirSync(path, { recursive: true });
    if (wall.mode === 'drop' && contains(dir, path) && realpathSync.native(path) === path) chownTree(path, wall.identity.uid, wall.identity.gid);
  }
}

/** A root daemon's plugin runs as another user: it must at least be able to enter and read its own folder. */
function checkReadable(dir: string, wall: Wall): void {
  if (wall.mode !== 'drop') return;
  const { uid, gid, name } = wall.identity;
  const stat = lstatSync(realpathSync.native(dir));
  const bits = stat.uid === uid ? (stat.mode >> 6) & 5 : stat.gid === gid ? (stat.mode >> 3) & 5 : stat.mode & 5;
  if (bits !== 5) {
    const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
    throw new Error(`the plugin folder ${dir} (mode ${mode}, owner ${stat.uid}:${stat.gid}) cannot be read by ${name} (${uid}:${gid}), the identity plugins run as: make it readable (chmod o+rx) or set sandbox.user`);
  }
}

/** The plugin's program: node with its flags for `main`, the manifest's command otherwise. */
function programArgv(options: LaunchOptions, d: Decisions): string[] {
  const { dir, manifest, permissions, limits, capabilities } = options;
  if (manifest.main !== undefined) {
    // Behind the wall `warden/sdk` resolves from SDK_SANDBOX_ROOT; the loader hook (a worker thread)
    // only serves unwalled launches where the plugin folder does not resolve it by itself.
    const loader = d.wall ? [] : sdkLoaderArgs(dir);
    const sdk = { loader: loader.length > 0, walled: d.wall !== null };
    return [
      options.nodePath ?? process.execPath,
      ...(d.nodePermission ? permissionArgs(capabilities.nodePermission!, dir, permissions, sdk) : []),
      ...(d.heap ? [`--max-old-space-size=${Math.max(16, Math.floor(limits.memoryMb))}`] : []),
      ...loader,
      resolve(dir, manifest.main),
    ];
  }
  if (manifest.command !== undefined && manifest.command.length > 0) return [...manifest.command];
  throw new Error(`plugin ${manifest.name} has neither main nor command`);
}

/** Wraps the program in bwrap: binds, identity, fds. */
function wallArgv(options: LaunchOptions, wall: Wall, program: string[], env: Record<string, string>): { argv: string[]; fds: ExtraFd[] } {
  const { dir, permissions } = options;
  const protectedPaths = options.protectedPaths ?? [];
  // Judged by real paths, as the granted paths are (effectivePermissions resolves them).
  const realDir = realPath(dir);
  checkBind(realDir, protectedPaths, 'the plugin folder');
  for (const path of permissions.fs.read) checkBind(path, protectedPaths, 'fs.read', realDir);
  for (const path of permissions.fs.write) checkBind(path, protectedPaths, 'fs.write', realDir);
  checkReadable(dir, wall);
  prepareWritePaths(realDir, permissions.fs.write, wall);
  // The daemon's node may live outside /usr (the operator's runtime: bound as it is). A command's runtime
  // outside the system folders is a read like any other: the definition puts it in fs.read, approved by
  // the operator (runtime.ts); a bare command name is found on PATH inside the sandbox.
  const runtime: string[] = [];
  if (options.manifest.main !== undefined) {
    const node = runtimePrefix(program[0]!, wall.layout);
    if (node !== null) {
      checkBind(node, protectedPaths, 'the runtime');
      runtime.push(node);
    }
  } else {
    const needed = commandRuntime(options.manifest, dir, wall.layout);
    if (needed !== null && !readsFrom(permissions, dir, needed)) {
      throw new Error(`its command ${program[0]} runs from ${needed}, outside the system folders and not among its fs.read paths: that read awaits the operator's grant (warden plugin grant ${options.manifest.name})`);
    }
  }
  // The SDK for any node program: at its host path (with the package.json that lets `warden/sdk`
  // resolve from inside this package), and at SDK_SANDBOX_ROOT for a plugin anywhere else.
  const packageJson = join(PACKAGE_ROOT, 'package.json');
  const sdk = [SDK_READ_ROOT, packageJson];
  return wallCommand(wall, {
    network: permissions.network,
    // Reads inside its own folder are already there; granted paths that do not exist are left out.
    readOnly: [...new Set([...runtime, ...sdk, ...withRealPath(dir), ...permissions.fs.read.filter((p) => !contains(realDir, p))])],
    readOnlyAt: [
      { source: SDK_READ_ROOT, dest: `${SDK_SANDBOX_ROOT}/dist` },
      { source: packageJson, dest: `${SDK_SANDBOX_ROOT}/package.json` },
    ],
    readWrite: permissions.fs.write,
    optional: new Set([...permissions.fs.read, ...permissions.fs.write]),
    tmpBytes: (options.tmpMb ?? DEFAULT_TMP_MB) * 1024 * 1024,
    env,
    cwd: dir,
    command: program,
  });
}

/**
 * Turns a manifest into a command line with every containment this host offers, and says which.
 * Wrappers exec (the spawned pid stays the outermost process), outermost first: the launch shell (joins
 * the cgroup with the daemon's own credentials, so the plugin is inside before it can fork, and sets the
 * rlimits), `unshare --net` (only without a wall), `setpriv --pdeathsig` (the kernel kills it when the
 * daemon dies), then the wall (bwrap, which drops the identity last).
 * Its I/O: sdkLoaderArgs's resolve, real paths, and making (and, as root, handing over) fs.write folders.
 */
export function planLaunch(options: LaunchOptions): LaunchPlan {
  const { dir, manifest, permissions, limits, capabilities } = options;
  // A launch without its cgroup gets what a host without cgroups gets (the heap flag among it).
  const d = decide(manifest, permissions, options.cgroup ? capabilities : { ...capabilities, cgroup: null });
  const env = buildPluginEnv({ name: manifest.name, version: manifest.version, dir, allowed: permissions.env, environment: resolveEnvironment(manifest.environment, dir) });
  let argv = programArgv(options, d);
  let fds: ExtraFd[] = [];
  if (d.wall) ({ argv, fds } = wallArgv(options, d.wall, argv, env));
  if (d.pdeathsig) argv = [capabilities.setpriv!, '--pdeathsig', 'KILL', '--', ...argv];
  if (d.netns === 'unshare') argv = [...capabilities.netns!.command, '--', ...argv];
  const shell = capabilities.shell ?? undefined;
  const rlimits = {
    nofile: d.nofile ? nofileLimit(limits.handles) : undefined,
    dataKb: d.data ? dataLimitMb(limits.memoryMb) * 1024 : undefined,
  };
  const prefix = launchShellArgv(options.cgroup ? options.cgroup.joinArgv(shell) : null, shell ? rlimits : {}, shell);
  if (prefix) argv = [...prefix, ...argv];
  return {
    launch: {
      file: argv[0]!,
      args: argv.slice(1),
      cwd: dir,
      // Behind the wall the wrappers need only PATH; bwrap sets the plugin's own environment.
      env: d.wall ? { PATH: env.PATH ?? '/usr/bin:/bin' } : env,
      fds,
      walled: d.wall !== null,
    },
    enforcement: enforcementOf(d, permissions),
  };
}

/**
 * The same launch as a restart standby: bwrap gets `--block-fd N`, so once spawned (and fed its inputs)
 * it builds the whole sandbox — cgroup joined, namespaces, mounts, seccomp — and waits there, before
 * exec'ing the plugin, until the host writes a byte to that fd. null for a launch without the wall.
 */
export function standbyLaunch(launch: LaunchSpec, wall: Wall | null): LaunchSpec | null {
  if (!wall || !launch.walled) return null;
  const argv = [launch.file, ...launch.args];
  const at = argv.indexOf(wall.bwrap);
  if (at < 0) return null;
  const fds = launch.fds ?? [];
  const withBlock = [...argv.slice(0, at + 1), '--block-fd', String(3 + fds.length), ...argv.slice(at + 1)];
  return { ...launch, file: withBlock[0]!, args: withBlock.slice(1), fds: [...fds, { block: true }] };
}

/** Whether a standby launched earlier is the launch planned now: the same command line, fds, environment and folder. */
export function sameLaunch(a: LaunchSpec, b: LaunchSpec): boolean {
  const key = (l: LaunchSpec) =>
    JSON.stringify([l.file, l.args, l.cwd, l.env, (l.fds ?? []).map((fd) => ('input' in fd ? fd.input.toString('base64') : Object.keys(fd)[0]))]);
  return key(a) === key(b);
}
