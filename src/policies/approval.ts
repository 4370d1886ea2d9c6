/**
 * Permissions need the operator's approval (docs/manifest.md, "permissions and approval"). A plugin may always read its own folder and
 * write the `fs.write` paths inside it; everything else its manifest asks for waits for
 * `warden plugin grant NAME`, or for the operator's own `plugins.<name>.permissions`.
 * Pure: no I/O. Paths are compared as written (absolute, normalized), not through symlinks.
 */
import { resolve, sep } from 'node:path';
import type { ApprovalMode, PermissionsOverride } from '../config/types.js';
import type { Permissions } from '../protocol/index.js';

/** What a plugin asks for beyond its baseline: only what needs approval. Paths absolute, sorted, deduplicated. */
export interface PermissionRequest {
  network: boolean;
  childProcess: boolean;
  env: string[];
  fs: { read: string[]; write: string[] };
}

/** Which fields the operator set in `plugins.<name>.permissions`: each one counts as approved. */
export interface OperatorFields {
  fsRead: boolean;
  fsWrite: boolean;
  network: boolean;
  childProcess: boolean;
  env: boolean;
}

export type ApprovalResult = { approved: true } | { approved: false; missing: PermissionRequest };

/** True when `path` is `dir` itself or lies inside it: `/p/plug/x` is inside `/p/plug`, `/p/plugin2` is not. */
function isWithin(path: string, dir: string): boolean {
  if (path === dir) return true;
  return path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/** Sorted and deduplicated, so equal requests compare and print equally. */
function sortedSet(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

/** Keeps the paths outside the plugin folder: those are the ones that need approval. */
function outside(paths: readonly string[], pluginDir: string): string[] {
  const dir = resolve(pluginDir);
  return sortedSet(paths.map((p) => resolve(dir, p)).filter((p) => !isWithin(p, dir)));
}

/** The part of a plugin's effective permissions that needs the operator's approval. */
export function beyondBaseline(permissions: Permissions, pluginDir: string): PermissionRequest {
  return {
    network: permissions.network,
    childProcess: permissions.childProcess,
    env: sortedSet(permissions.env),
    fs: { read: outside(permissions.fs.read, pluginDir), write: outside(permissions.fs.write, pluginDir) },
  };
}

/** A request for nothing: the plugin stays within its baseline. */
export function isEmptyRequest(r: PermissionRequest): boolean {
  return !r.network && !r.childProcess && r.env.length === 0 && r.fs.read.length === 0 && r.fs.write.length === 0;
}

/** The fields of `plugins.<name>.permissions` the operator wrote; absent ones are the manifest's to ask for. */
export function operatorFieldsOf(override: PermissionsOverride | undefined): OperatorFields {
  return {
    fsRead: override?.fs?.read !== undefined,
    fsWrite: override?.fs?.write !== undefined,
    network: override?.network !== undefined,
    childProcess: override?.childProcess !== undefined,
    env: override?.env !== undefined,
  };
}

/**
 * Whether what a plugin asks for is approved: each item covered by the grant (a granted path covers
 * itself and what lies inside it; a granted write path covers reading it too, since it is mounted
 * read-write), or by a field the operator set, or approval is off (`declared`). Otherwise what is missing.
 */
export function approve(input: {
  requested: PermissionRequest;
  granted: PermissionRequest | null;
  operatorFields: OperatorFields;
  mode: ApprovalMode;
}): ApprovalResult {
  const { requested, operatorFields: op, mode } = input;
  if (mode === 'declared') return { approved: true };
  const granted = input.granted;
  const coveredBy = (roots: readonly string[]) => (p: string) => roots.some((root) => isWithin(p, root));
  const readable = coveredBy(granted ? [...granted.fs.read, ...granted.fs.write] : []);
  const writable = coveredBy(granted?.fs.write ?? []);
  const missing: PermissionRequest = {
    network: requested.network && !op.network && !granted?.network,
    childProcess: requested.childProcess && !op.childProcess && !granted?.childProcess,
    env: op.env ? [] : requested.env.filter((name) => !granted?.env.includes(name)),
    fs: {
      read: op.fsRead ? [] : requested.fs.read.filter((p) => !readable(p)),
      write: op.fsWrite ? [] : requested.fs.write.filter((p) => !writable(p)),
    },
  };
  return isEmptyRequest(missing) ? { approved: true } : { approved: false, missing };
}

/** An item as printed: bare when unambiguous, JSON-quoted when it holds spaces, commas or quotes. */
function shown(value: string): string {
  return /^[^\s,"'`]+$/.test(value) ? value : JSON.stringify(value);
}

/** `network, childProcess, env FEED_TOKEN, fs.read /srv/data, fs.write /srv/out`; `nothing` for an empty request. */
export function describeRequest(r: PermissionRequest): string {
  const items = [
    ...(r.network ? ['network'] : []),
    ...(r.childProcess ? ['childProcess'] : []),
    ...r.env.map((name) => `env ${shown(name)}`),
    ...r.fs.read.map((p) => `fs.read ${shown(p)}`),
    ...r.fs.write.map((p) => `fs.write ${shown(p)}`),
  ];
  return items.length === 0 ? 'nothing' : items.join(', ');
}

/** The command that approves a plugin's permissions, as the reasons quote it. */
function grantCommand(name: string): string {
  return `\`warden plugin grant ${name}\``;
}

/** The reason of a plugin that is `waiting` for approval. */
export function waitingReason(name: string, missing: PermissionRequest): string {
  return `waiting for the operator to approve: ${describeRequest(missing)}; run ${grantCommand(name)}`;
}

/** The reason a new version (hot reload, update) that asks for more than was approved does not replace the running one. */
export function reloadRefusedReason(name: string, missing: PermissionRequest): string {
  return `the new version asks for permissions not approved: ${describeRequest(missing)}; run ${grantCommand(name)} to approve them`;
}
