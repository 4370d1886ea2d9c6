/**
 * Reading the daemon's config file (CONTRACT §2): YAML or JSON, every key optional, defaults applied,
 * relative paths resolved against the file's folder. Any problem is one ConfigError line.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML, { isScalar } from 'yaml';
import { describeIssue, show } from './issues.js';
import { configSchema, type RawConfig } from './schema.js';
import type { Config } from './types.js';

/** A config that cannot be used; `message` is the one line printed on stderr (`config: <where>: <reason>`). */
export class ConfigError extends Error {
  /** The key path (`sampling.intervalMs`) or the file for file-level problems. */
  readonly where: string;
  readonly reason: string;

  constructor(where: string, reason: string) {
    super(`config: ${where}: ${reason}`);
    this.name = 'ConfigError';
    this.where = where;
    this.reason = reason;
  }
}

export const DEFAULT_CONFIG_PATH = 'config/warden.yaml';

/** `--config`, else `WARDEN_CONFIG`, else `config/warden.yaml`; relative ones against cwd. */
export function resolveConfigPath(opts: { flag?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): string {
  const env = opts.env ?? process.env;
  const chosen = opts.flag || env['WARDEN_CONFIG'] || DEFAULT_CONFIG_PATH;
  return path.resolve(opts.cwd ?? process.cwd(), chosen);
}

/** Every default, with paths relative to `baseDir` (the folder a config file would sit in). */
export function defaultConfig(baseDir: string): Config {
  return toConfig(configSchema.parse({}), path.resolve(baseDir), null);
}

/** Reads, validates and completes the config file; throws ConfigError. */
export function loadConfig(file: string): Config {
  const abs = path.resolve(file);
  const raw = readYaml(abs);
  const parsed = configSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    if (!first) throw new ConfigError(abs, 'invalid');
    const { path: where, reason } = describeIssue(first, raw);
    throw new ConfigError(where || abs, oneLine(reason));
  }
  const r = parsed.data.defaults.restart;
  if (r.maxDelayMs < r.initialDelayMs) {
    throw new ConfigError(
      'defaults.restart.maxDelayMs',
      `must be at least initialDelayMs (${r.initialDelayMs}), got ${r.maxDelayMs}`,
    );
  }
  return toConfig(parsed.data, path.dirname(abs), abs);
}

function readYaml(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'file not found'
      : code === 'EISDIR' ? 'is a folder, not a file'
      : code === 'EACCES' ? 'permission denied'
      : oneLine((err as Error).message);
    throw new ConfigError(file, reason);
  }
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  const error = doc.errors[0];
  if (error) {
    const line = error.linePos?.[0].line;
    // The parser's message carries its own position and a source excerpt on later lines; keep the words.
    const words = oneLine(error.message).replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError(file, line ? `line ${line}: ${words}` : words);
  }
  readLeadingZeroModeAsOctal(doc);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError(file, oneLine((err as Error).message));
  }
  if (value !== null && value !== undefined && (typeof value !== 'object' || Array.isArray(value))) {
    throw new ConfigError(file, `expected a mapping of settings at the top level, got ${show(value)}`);
  }
  return value;
}

/**
 * YAML 1.2 reads an unquoted `mode: 0660` as decimal 660; an operator writing a leading zero means
 * octal, as chmod does, so that one scalar is taken as the octal string it looks like.
 */
function readLeadingZeroModeAsOctal(doc: YAML.Document): void {
  const node = doc.getIn(['socket', 'mode'], true);
  if (isScalar(node) && typeof node.value === 'number' && /^0[0-7]+$/.test(node.source ?? '')) {
    node.value = node.source;
  }
}

function oneLine(s: string): string {
  return (s.split('\n')[0] ?? '').trim();
}

function toConfig(raw: RawConfig, baseDir: string, file: string | null): Config {
  const abs = (p: string) => path.resolve(baseDir, p);
  return {
    file,
    pluginsDir: abs(raw.pluginsDir),
    stateDir: abs(raw.stateDir),
    socket: { path: abs(raw.socket.path), mode: raw.socket.mode, group: raw.socket.group },
    logging: { ...raw.logging, dir: abs(raw.logging.dir) },
    sampling: { ...raw.sampling },
    defaults: {
      limits: { ...raw.defaults.limits },
      callTimeoutMs: raw.defaults.callTimeoutMs,
      startTimeoutMs: raw.defaults.startTimeoutMs,
      stopTimeoutMs: raw.defaults.stopTimeoutMs,
      health: { ...raw.defaults.health },
      restart: { ...raw.defaults.restart },
      circuit: { ...raw.defaults.circuit },
      output: { ...raw.defaults.output },
    },
    hotReload: { ...raw.hotReload },
    metrics: { listen: raw.metrics.listen },
    sandbox: { ...raw.sandbox },
    permissions: { approval: raw.permissions.approval },
    plugins: raw.plugins,
  };
}
