/**
 * The socket path of a config file, for the CLI: read leniently, so that a config just edited into an
 * invalid state (which the daemon will refuse, naming the bad key) still leads to the daemon.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

export type ConfigSocket = { ok: true; path: string } | { ok: false; reason: string };

/**
 * The whole config through the daemon's own loader when it is valid; else only `socket.path`: the YAML is
 * parsed and that one key read, whatever the rest says. An absent key is the loader's default. Not ok when
 * the file cannot be read or parsed, or the key is not a path.
 */
export async function readConfigSocket(file: string): Promise<ConfigSocket> {
  const { againstConfigFolder, loadConfig, defaultConfig, ConfigError } = await import('../config/load.js');
  const abs = path.resolve(file);
  let loaderError: unknown;
  try {
    return { ok: true, path: loadConfig(abs).socket.path };
  } catch (error) {
    loaderError = error;
  }
  // The loader reads and parses the file first: when that is what failed, its words say why.
  const fileProblem = (): ConfigSocket => ({
    ok: false,
    reason: loaderError instanceof ConfigError ? loaderError.reason : String((loaderError as Error)?.message ?? loaderError),
  });

  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch {
    return fileProblem();
  }
  const doc = YAML.parseDocument(text);
  if (doc.errors.length > 0) return fileProblem();
  let top: unknown;
  try {
    top = doc.toJS({ maxAliasCount: 100 });
  } catch {
    return fileProblem();
  }
  const defaultPath = (): ConfigSocket => ({ ok: true, path: defaultConfig(path.dirname(abs)).socket.path });
  if (top === null || top === undefined) return defaultPath();
  if (!isMapping(top)) return fileProblem();
  const socket = top['socket'];
  if (socket === null || socket === undefined) return defaultPath();
  if (!isMapping(socket)) return { ok: false, reason: `socket: expected a mapping with a path, got ${show(socket)}` };
  const raw = socket['path'];
  if (raw === null || raw === undefined) return defaultPath();
  if (typeof raw !== 'string' || raw === '') return { ok: false, reason: `socket.path: expected a path, got ${show(raw)}` };
  return { ok: true, path: againstConfigFolder(abs, raw) };
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' && value !== null) return 'a mapping';
  return JSON.stringify(value) ?? String(value);
}
