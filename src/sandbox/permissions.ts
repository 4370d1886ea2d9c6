import { resolve } from 'node:path';
import type { PermissionsOverride } from '../config/types.js';
import type { Permissions } from '../manifest/types.js';

/**
 * The manifest's permissions with the operator's `plugins.<name>.permissions` applied: each field the
 * operator sets replaces the declared one, so it can narrow (`network: false`, a shorter list) or
 * explicitly widen. fs paths come out absolute; relative ones, the operator's too, are relative to
 * the plugin folder.
 */
export function effectivePermissions(
  declared: Permissions,
  override: PermissionsOverride | undefined,
  pluginDir: string,
): Permissions {
  const absolute = (paths: readonly string[]): string[] => [...new Set(paths.map((p) => resolve(pluginDir, p)))];
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
