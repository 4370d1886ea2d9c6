import { realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Limits } from '../config/types.js';
import type { Manifest, Permissions } from '../manifest/types.js';
import { sdkLoaderArgs } from '../sdk/loader-args.js';
import { PACKAGE_ROOT } from '../version.js';
import type { Capabilities } from './capabilities.js';
import { cgroupWrapper } from './cgroup.js';
import { buildPluginEnv } from './env.js';

/** Everything needed to spawn one plugin process. */
export interface LaunchSpec {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

export interface LaunchOptions {
  dir: string;
  manifest: Manifest;
  /** Effective permissions (see effectivePermissions). */
  permissions: Permissions;
  limits: Limits;
  capabilities: Capabilities;
  nodePath?: string;
}

export interface LaunchPlan {
  launch: LaunchSpec;
  /** Per limit and permission, what enforces it in this launch (PluginStatus.enforcement). */
  enforcement: Record<string, string>;
}

/** Which mechanisms a launch applies; both the command line and the enforcement map derive from it. */
interface Decisions {
  heap: boolean;
  nofile: boolean;
  netns: boolean;
  nodePermission: boolean;
  cgroup: boolean;
}

/** The SDK's files: `dist/` holds sdk/, the rpc/ line reader it imports and the loader hook. */
export const SDK_READ_ROOT = join(PACKAGE_ROOT, 'dist');

function decide(manifest: Manifest, permissions: Permissions, capabilities: Capabilities): Decisions {
  const main = manifest.main !== undefined;
  return {
    // RSS ≥ V8 heap, so a heap limit of memoryMb is already a margin above the sampled quota.
    // Cost: any heap-size flag changes V8's flag hash, so node's built-in code cache is rejected
    // (~+30 ms CPU per start here, ~+100 ms with the SDK loader hook's worker).
    heap: main,
    nofile: capabilities.prlimit !== null,
    netns: !permissions.network && capabilities.netns !== null,
    nodePermission: main && capabilities.nodePermission !== null,
    cgroup: capabilities.cgroup !== null,
  };
}

function enforcementOf(d: Decisions, permissions: Permissions): Record<string, string> {
  const plus = (...parts: Array<string | false>): string => parts.filter(Boolean).join('+');
  return {
    memoryMb: plus(d.cgroup && 'cgroup', 'sampling', d.heap && 'v8-heap'),
    cpuPercent: plus(d.cgroup && 'cgroup', 'sampling'),
    handles: plus(d.nofile && 'rlimit', 'sampling'),
    processes: plus(d.cgroup && 'cgroup', 'sampling'),
    fs: d.nodePermission ? 'node-permission' : 'unenforced',
    network: permissions.network ? 'allowed' : d.netns ? 'namespace' : 'unenforced',
    childProcess: permissions.childProcess ? 'allowed' : d.nodePermission ? 'node-permission' : 'unenforced',
    env: 'env-allowlist',
  };
}

/** The enforcement map a launch with these inputs would have, without planning the command line. */
export function planEnforcement(manifest: Manifest, permissions: Permissions, capabilities: Capabilities): Record<string, string> {
  return enforcementOf(decide(manifest, permissions, capabilities), permissions);
}

/** RLIMIT_NOFILE: the quota plus ~10 % (at least 8), so the sampler normally stops the plugin first. */
export function nofileLimit(handles: number): number {
  return handles + Math.max(8, Math.ceil(handles * 0.1));
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
  loader: boolean,
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
  args.push(...grants('--allow-fs-read', [dir, SDK_READ_ROOT, ...permissions.fs.read]));
  args.push(...grants('--allow-fs-write', permissions.fs.write));
  if (permissions.childProcess) {
    args.push('--allow-child-process', '--allow-worker');
  } else if (loader) {
    // module.register runs the SDK's resolve hook in a worker thread. Workers inherit the fs and
    // child-process denials, so this grants no access; its SecurityWarning is noise for our own flag.
    args.push('--allow-worker');
    silence('SecurityWarning');
  }
  return args;
}

/**
 * Turns a manifest into a command line with every containment this host offers, and says which.
 * Wrappers exec (the plugin keeps the spawned pid), outermost first: cgroup join (with the daemon's
 * own credentials), prlimit, network namespace, then setpriv last so nothing after it clears the
 * parent-death signal. Its only I/O: sdkLoaderArgs's resolve and real paths of granted folders.
 */
export function planLaunch(options: LaunchOptions): LaunchPlan {
  const { dir, manifest, permissions, limits, capabilities } = options;
  const d = decide(manifest, permissions, capabilities);
  let argv: string[];
  if (manifest.main !== undefined) {
    const loader = sdkLoaderArgs(dir);
    argv = [
      options.nodePath ?? process.execPath,
      ...(d.nodePermission ? permissionArgs(capabilities.nodePermission!, dir, permissions, loader.length > 0) : []),
      ...(d.heap ? [`--max-old-space-size=${Math.max(16, Math.floor(limits.memoryMb))}`] : []),
      ...loader,
      resolve(dir, manifest.main),
    ];
  } else if (manifest.command !== undefined && manifest.command.length > 0) {
    argv = [...manifest.command];
  } else {
    throw new Error(`plugin ${manifest.name} has neither main nor command`);
  }
  if (capabilities.setpriv) argv = [capabilities.setpriv, '--pdeathsig', 'KILL', '--', ...argv];
  if (d.netns) argv = [...capabilities.netns!.command, '--', ...argv];
  if (d.nofile) {
    const n = nofileLimit(limits.handles);
    argv = [capabilities.prlimit!, `--nofile=${n}:${n}`, '--', ...argv];
  }
  if (d.cgroup) argv = [...cgroupWrapper(capabilities.cgroup!, manifest.name, limits), ...argv];
  const env = buildPluginEnv({ name: manifest.name, version: manifest.version, dir, allowed: permissions.env });
  return {
    launch: { file: argv[0]!, args: argv.slice(1), cwd: dir, env },
    enforcement: enforcementOf(d, permissions),
  };
}
