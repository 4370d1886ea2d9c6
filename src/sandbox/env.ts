/** The variables every plugin gets; nothing else leaks from the daemon's environment unless declared. */
const BASE_VARIABLES = ['PATH', 'LANG', 'LC_ALL', 'TZ'] as const;

export interface PluginEnvOptions {
  name: string;
  version: string;
  dir: string;
  /** Names from `permissions.env` (after operator overrides). */
  allowed: readonly string[];
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
  env.HOME = options.dir;
  env.WARDEN_PLUGIN_NAME = options.name;
  env.WARDEN_PLUGIN_VERSION = options.version;
  env.WARDEN_PLUGIN_DIR = options.dir;
  env.WARDEN_PROTOCOL = '1';
  return env;
}
