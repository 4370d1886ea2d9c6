/**
 * The installation a plugin's program runs from, when it lies outside the system folders the wall always
 * shows (`<prefix>/bin/x` → `<prefix>`): bound read-only so the program runs. The daemon's own node (a
 * `main` plugin) is the operator's choice and is bound as it is; a manifest's `command` (an absolute path,
 * or a relative one that links out of the plugin folder, such as a venv's `.venv/bin/python`) is a read
 * outside the plugin's folder like any other: it is added to the plugin's `fs.read`, so it awaits the
 * operator's grant (docs/manifest.md, "permissions and approval").
 */
import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Manifest, Permissions } from '../manifest/types.js';
import type { SystemLayout } from './bwrap.js';
import { realPath } from './permissions.js';

/** Home folders: a runtime inside one is never bound whole (the daemon's home stays out of every sandbox). */
const HOME = /^\/(root|home(\/[^/]+)?)$/;

/** Whether `path` is `other` or a folder holding it. */
export function contains(path: string, other: string): boolean {
  return other === path || other.startsWith(path.endsWith('/') ? path : `${path}/`);
}

/** Whether the plugin's `fs.read` paths (relative ones against `dir`) already show `path`. */
export function readsFrom(permissions: Permissions, dir: string, path: string): boolean {
  return permissions.fs.read.some((p) => contains(resolve(dir, p), path));
}

/**
 * The installation an executable belongs to, when it lies outside the system folders; null inside them
 * or when it does not exist. Throws for one whose prefix is `/` or a home folder.
 */
export function runtimePrefix(executable: string, layout: SystemLayout): string | null {
  let real: string;
  try {
    real = realpathSync.native(executable);
  } catch {
    return null;
  }
  const system = [...layout.folders, ...Object.keys(layout.symlinks).map((n) => `/${n}`)];
  if (system.some((s) => contains(s, real))) return null;
  const prefix = dirname(dirname(real));
  if (prefix === '/' || HOME.test(prefix)) {
    throw new Error(`the runtime ${executable} (${real}) lies directly in ${prefix}; the wall binds a runtime's own folder, never ${prefix}: install it under /usr, /opt or a folder of its own`);
  }
  return prefix;
}

/**
 * The installation a manifest's `command` runs from, outside the system folders and the plugin's own
 * folder; null for a `main` plugin, a bare command name (found on PATH inside the wall), or a program
 * that stays inside the plugin folder. Throws as runtimePrefix does.
 */
export function commandRuntime(manifest: Manifest, dir: string, layout: SystemLayout): string | null {
  const program = manifest.command?.[0];
  if (manifest.main !== undefined || program === undefined || (!isAbsolute(program) && !program.includes('/'))) return null;
  const target = resolve(dir, program);
  let real: string;
  try {
    real = realpathSync.native(target);
  } catch {
    return null; // missing: the start fails with the plugin's own error
  }
  if (contains(realPath(dir), real)) return null;
  return runtimePrefix(target, layout);
}

/**
 * The permissions with its command's runtime among the `fs.read` paths, where the approval asks for it
 * and the wall binds it. A runtime that can never be bound (in `/` or a home folder) is left out: the
 * launch then refuses with the reason.
 */
export function withCommandRuntime(permissions: Permissions, manifest: Manifest, dir: string, layout: SystemLayout | null): Permissions {
  if (!layout) return permissions;
  let runtime: string | null;
  try {
    runtime = commandRuntime(manifest, dir, layout);
  } catch {
    return permissions;
  }
  if (runtime === null || readsFrom(permissions, dir, runtime)) return permissions;
  return { ...permissions, fs: { ...permissions.fs, read: [...permissions.fs.read, runtime] } };
}
