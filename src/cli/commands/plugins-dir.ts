/** Where the toolkit's commands find the operator's pluginsDir without a daemon (audit by name, install, remove). */
import { existsSync } from 'node:fs';
import { UsageError } from '../exit.js';
import { PACKAGE_CONFIG } from '../socket.js';

/** pluginsDir of $WARDEN_CONFIG, else of ./config/warden.yaml when present, else of the package's own config. */
export async function configuredPluginsDir(command: string): Promise<string> {
  const { loadConfig, resolveConfigPath, ConfigError } = await import('../../config/index.js');
  const local = resolveConfigPath({});
  const file = (process.env['WARDEN_CONFIG'] || existsSync(local)) ? local : PACKAGE_CONFIG;
  try {
    return loadConfig(file).pluginsDir;
  } catch (error) {
    const why = error instanceof ConfigError ? error.message : (error as Error).message;
    throw new UsageError(`warden plugin ${command}: cannot read pluginsDir from ${file}: ${why}`);
  }
}
