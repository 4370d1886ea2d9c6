/** Which control socket the CLI talks to. */
import { resolve } from 'node:path';

/**
 * `--socket`, else `WARDEN_SOCKET`, else the socket of the default config (`WARDEN_CONFIG`, else
 * `config/warden.yaml`); when that config is missing or invalid, `<cwd>/var/warden.sock`.
 */
export async function resolveSocketPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (flag) return resolve(flag);
  if (env.WARDEN_SOCKET) return resolve(env.WARDEN_SOCKET);
  try {
    const { loadConfig, resolveConfigPath } = await import('../config/load.js');
    return loadConfig(resolveConfigPath({})).socket.path;
  } catch {
    return resolve('var', 'warden.sock');
  }
}
