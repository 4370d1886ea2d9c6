import { resolve } from 'node:path';
import type { Manifest } from '../manifest/types.js';
import { sdkLoaderArgs } from '../sdk/loader-args.js';
import type { Capabilities } from './capabilities.js';
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
  capabilities: Capabilities;
  envAllowed: readonly string[];
  nodePath?: string;
}

/**
 * Turns a manifest into a command line: `main` runs on the daemon's own node, `command` as given.
 * Wrappers that the OS offers go in front (setpriv for the parent-death signal).
 */
export function buildLaunch(options: LaunchOptions): LaunchSpec {
  const { dir, manifest, capabilities } = options;
  let argv: string[];
  if (manifest.main !== undefined) {
    argv = [options.nodePath ?? process.execPath, ...sdkLoaderArgs(dir), resolve(dir, manifest.main)];
  } else if (manifest.command !== undefined && manifest.command.length > 0) {
    argv = [...manifest.command];
  } else {
    throw new Error(`plugin ${manifest.name} has neither main nor command`);
  }
  if (capabilities.setpriv) argv = [capabilities.setpriv, '--pdeathsig', 'KILL', '--', ...argv];
  const env = buildPluginEnv({
    name: manifest.name,
    version: manifest.version,
    dir,
    allowed: options.envAllowed,
  });
  return { file: argv[0]!, args: argv.slice(1), cwd: dir, env };
}
