import path from 'node:path';
import { BASE_VARIABLES, reservedVariable } from '../protocol/index.js';

/**
 * A manifest's `environment` made ready for the plugin's process: a value that begins with `./` is a path
 * inside the plugin folder, made absolute against `dir` (the folder has the same path inside the wall).
 */
export function resolveEnvironment(environment: Readonly<Record<string, string>> | undefined, dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(environment ?? {})) out[key] = value.startsWith('./') ? path.resolve(dir, value) : value;
  return out;
}

export interface PluginEnvOptions {
  name: string;
  version: string;
  dir: string;
  /** Names from `permissions.env` (after operator overrides). */
  allowed: readonly string[];
  /** The manifest's `environment`, already resolved (resolveEnvironment): fixed values, applied after `allowed`. */
  environment?: Readonly<Record<string, string>>;
  source?: NodeJS.ProcessEnv;
}

export function buildPluginEnv(options: PluginEnvOptions): Record<string, string> {
  const source = options.source ?? process.env;
  const env: Record<string, string> = {};
  for (const key of BASE_VARIABLES) {
    const value = source[key];
    if (value !== undefined) env[key] = value;
  }
  env.PATH ??= '/usr/local/bin:/usr/bin:/bin';
  for (const key of options.allowed) {
    const value = source[key];
    if (value !== undefined) env[key] = value;
  }
  // The schema already refuses reserved names; they are skipped here too, whoever built the manifest.
  for (const [key, value] of Object.entries(options.environment ?? {})) {
    if (reservedVariable(key) === null) env[key] = value;
  }
  env.HOME = options.dir;
  env.WARDEN_PLUGIN_NAME = options.name;
  env.WARDEN_PLUGIN_VERSION = options.version;
  env.WARDEN_PLUGIN_DIR = options.dir;
  env.WARDEN_PROTOCOL = '1';
  return env;
}
