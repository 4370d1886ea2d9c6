import { realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { PermissionsOverride } from '../config/types.js';
import type { Permissions } from '../manifest/types.js';

/**
 * The manifest's permissions with the operator's `plugins.<name>.permissions` applied: each field the
 * operator sets replaces the declared one, so it can narrow (`network: false`, a shorter list) or
 * explicitly widen. fs paths come out absolute and resolved through symlinks (realPath); relative
 * ones, the operator's too, are relative to the plugin folder.
 */
export function effectivePermissions(
  declared: Permissions,
  override: PermissionsOverride | undefined,
  pluginDir: string,
): Permissions {
  const absolute = (paths: readonly string[]): string[] => [...new Set(paths.map((p) => realPath(resolve(pluginDir, p))))];
  return {
    fs: {
      read: absolute(override?.fs?.read ?? declared.fs.read),
      write: absolute(override?.fs?.write ?? declared.fs.write),
    },
    network: override?.network ?? declared.network,
    childProcess: override?.childProcess ?? declared.childProcess,
    env: [...new Set(override?.env ?? declared.env)],
  };
}

/**
 * A path with every symlink of its existing part resolved (the rest appended as written), so that
 * "inside the plugin's folder" is judged by where a path really leads: `./out -> /etc` is /etc.
 */
export function realPath(path: string): string {
  try {
    return realpathSync.native(path);
  } catch {
    const parent = dirname(path);
    return parent === path ? path : join(realPath(parent), basename(path));
  }
}
