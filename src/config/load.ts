/**
 * Reading the daemon's config file (docs/configuration.md): YAML or JSON, every key optional, defaults applied,
 * relative paths resolved against the file's folder. Every problem found is reported at once, one
 * ConfigError line each.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML, { isScalar } from 'yaml';
import { closest, describeIssues, lineColumn, show } from './issues.js';
import { configSchema, type RawConfig } from './schema.js';
import type { Config } from './types.js';

/** One thing wrong with a config: the key path (`sampling.intervalMs`), or the file for file-level problems. */
export interface ConfigProblem {
  where: string;
  reason: string;
}

/**
 * A config that cannot be used. `message` holds one line per problem (`config: <where>: <reason>`),
 * printed on stderr as is; `where` and `reason` are the first problem's.
 */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];
  /** The first problem's key path (`sampling.intervalMs`), or the file for file-level problems. */
  readonly where: string;
  readonly reason: string;

  constructor(where: string, reason: string);
  constructor(problems: readonly ConfigProblem[]);
  constructor(whereOrProblems: string | readonly ConfigProblem[], reason = 'invalid') {
    const problems =
      typeof whereOrProblems === 'string' ? [{ where: whereOrProblems, reason }] : [...whereOrProblems];
    if (problems.length === 0) problems.push({ where: 'config', reason: 'invalid' });
    super(problems.map((p) => `config: ${p.where}: ${p.reason}`).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
    this.where = problems[0]!.where;
    this.reason = problems[0]!.reason;
  }

  /** One line per problem, as in `message`. */
  get lines(): string[] {
    return this.message.split('\n');
  }
}

export const DEFAULT_CONFIG_PATH = 'config/warden.yaml';

/** Where the names a config gives to host accounts are looked up (what Node can read without native code). */
export const GROUP_FILE = '/etc/group';

export interface LoadConfigOptions {
  /**
   * Also check what this host must provide: `socket.group` must name a group in the group file.
   * The daemon does (start and reload); the CLI, only looking for the socket's path, does not.
   */
  checkHost?: boolean;
  /** The group database for that check (default /etc/group). */
  groupFile?: string;
}

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

/** Reads, validates and completes the config file; throws a ConfigError listing every problem. */
export function loadConfig(file: string, options: LoadConfigOptions = {}): Config {
  const abs = path.resolve(file);
  const raw = readYaml(abs);
  const parsed = configSchema.safeParse(raw ?? {});
  const problems: ConfigProblem[] = parsed.success
    ? []
    : describeIssues(parsed.error.issues, raw, configSchema).map((p) => ({ where: p.path || abs, reason: oneLine(p.reason) }));
  if (options.checkHost) problems.push(...hostProblems(raw, options.groupFile ?? GROUP_FILE));
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  return toConfig(parsed.data, path.dirname(abs), abs);
}

/** Names the config gives that this host must know; checked on the raw input so they join the schema's problems. */
function hostProblems(raw: unknown, groupFile: string): ConfigProblem[] {
  const socket = isObject(raw) ? raw['socket'] : undefined;
  const group = isObject(socket) ? socket['group'] : undefined;
  if (typeof group !== 'string' || group === '') return [];
  const problem = groupProblem(group, groupFile);
  return problem ? [{ where: 'socket.group', reason: problem }] : [];
}

/** Why `group` cannot be given the socket, or null: a numeric gid as is, a name only when the group file has it. */
export function groupProblem(group: string, groupFile: string = GROUP_FILE): string | null {
  if (/^\d+$/.test(group)) return null;
  let text: string;
  try {
    text = readFileSync(groupFile, 'utf8');
  } catch (err) {
    return `cannot look up group ${JSON.stringify(group)}: ${groupFile}: ${fileReason(err)}`;
  }
  const names: string[] = [];
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === undefined || gid === undefined || !/^\d+$/.test(gid.trim())) continue;
    if (name === group) return null;
    names.push(name);
  }
  const near = closest(group, names);
  return `no group named ${JSON.stringify(group)} in ${groupFile}${near ? `; did you mean ${near}?` : ''}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function fileReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'file not found'
    : code === 'EISDIR' ? 'is a folder, not a file'
    : code === 'EACCES' ? 'permission denied'
    : oneLine((err as Error).message);
}

function readYaml(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, fileReason(err));
  }
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    // One line per place: the parser often reports a second, derived error at the same spot.
    const problems: ConfigProblem[] = [];
    const places = new Set<string>();
    for (const error of doc.errors) {
      const at = error.linePos?.[0];
      const place = at ? `line ${at.line}, column ${at.col}` : '';
      if (places.has(place)) continue;
      places.add(place);
      // The parser's message carries its own position and a source excerpt on later lines; keep the words.
      const words = oneLine(error.message).replace(/ at line \d+, column \d+:?$/, '');
      problems.push({ where: file, reason: place ? `${place}: ${words}` : words });
    }
    throw new ConfigError(problems);
  }
  readLeadingZeroModeAsOctal(doc);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    const at = unresolvedAliasOffset(doc);
    const words = oneLine((err as Error).message);
    if (at === undefined) throw new ConfigError(file, words);
    const { line, column } = lineColumn(text, at);
    throw new ConfigError(file, `line ${line}, column ${column}: ${words}`);
  }
  if (value !== null && value !== undefined && (typeof value !== 'object' || Array.isArray(value))) {
    throw new ConfigError(file, `expected a mapping of settings at the top level, got ${show(value)}`);
  }
  return value;
}

/** Where the first alias (`*name`) without its anchor sits, as a character offset. */
function unresolvedAliasOffset(doc: YAML.Document): number | undefined {
  let at: number | undefined;
  YAML.visit(doc, {
    Alias(_key, node) {
      if (node.resolve(doc) !== undefined) return undefined;
      at = node.range?.[0];
      return YAML.visit.BREAK;
    },
  });
  return at;
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

/** A relative path in a config resolves against the folder the config file is in (docs/configuration.md, "Paths"). */
export function againstConfigFolder(configFile: string, p: string): string {
  return path.resolve(path.dirname(configFile), p);
}

function toConfig(raw: RawConfig, baseDir: string, file: string | null): Config {
  const abs = (p: string) => againstConfigFolder(path.join(baseDir, 'warden.yaml'), p);
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
