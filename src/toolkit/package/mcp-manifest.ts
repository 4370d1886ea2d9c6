/**
 * The plugin.json `warden plugin install` writes for an MCP server package that has none (README.md,
 * "MCP servers"): `"protocol": "mcp"`, its bin as `main`, a data folder it may write (`./data`), the
 * variables that name where it keeps data pointed into that folder (`environment`), and what else its
 * code uses — network, child processes, other variables — asked for, to await `warden plugin grant`.
 * Pure: the package's files and the audit's findings come in as facts.
 */
import semver from 'semver';
import { validateManifest } from '../../manifest/schema.js';
import { JS_ENTRY_EXTENSIONS } from '../../manifest/validate-entry.js';
import { PLUGIN_NAME_RE, reservedVariable } from '../../protocol/index.js';
import { WARDEN_VERSION } from '../../version.js';

/** The folder a generated plugin may write, inside its own folder (so it needs no approval). */
export const DATA_FOLDER = './data';
/** The SDK every MCP server in JavaScript depends on. */
export const MCP_SDK = '@modelcontextprotocol/sdk';

/** What the code was seen to use (the audit's findings on the package's own files). */
export interface McpFacts {
  /** Names of the environment variables the code reads. */
  env: readonly string[];
  network: boolean;
  childProcess: boolean;
}

export interface McpManifestOptions {
  /** What was installed, for messages (`npm:@scope/x`, `./folder`). */
  spec: string;
  /** `--name`: the plugin's name instead of the package's. */
  name?: string;
  /** `--env NAME=VALUE`: set or override entries of `environment`. */
  env?: Readonly<Record<string, string>>;
  /** Whether a file (relative to the package folder) exists in the package. */
  exists: (file: string) => boolean;
}

export type McpManifestResult = { ok: true; manifest: Record<string, unknown>; main: string } | { ok: false; reason: string };

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** The package name without its scope: `@modelcontextprotocol/server-memory` → `server-memory`. */
export function unscopedName(name: string): string {
  return name.startsWith('@') && name.includes('/') ? name.slice(name.indexOf('/') + 1) : name;
}

/** Whether package.json says it is an MCP server: `mcpName`, a dependency on the SDK, or an `mcp` keyword. */
export function looksLikeMcpServer(pkg: Json): boolean {
  if (str(pkg['mcpName'])) return true;
  for (const field of ['dependencies', 'peerDependencies']) {
    const deps = pkg[field];
    if (isObject(deps) && Object.hasOwn(deps, MCP_SDK)) return true;
  }
  const keywords = Array.isArray(pkg['keywords']) ? pkg['keywords'] : [];
  return keywords.some((k) => typeof k === 'string' && ['mcp', 'modelcontextprotocol'].includes(k.toLowerCase()));
}

/** The plugin name a package gets: lowercased, anything outside [a-z0-9-] a `-`, no `-` at either end, at most 64. */
export function pluginNameOf(packageName: string): string {
  return unscopedName(packageName)
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 64)
    .replace(/-+$/, '');
}

/** The file its bin names (the one entry, the one named like the package, else the first), else `main`; or why none. */
export function entryOf(pkg: Json, exists: (file: string) => boolean): { file: string } | { problem: string } {
  const bin = pkg['bin'];
  let file: string | null = null;
  let from = 'main';
  if (typeof bin === 'string' && bin !== '') {
    file = bin;
    from = 'bin';
  } else if (isObject(bin)) {
    const entries = Object.entries(bin).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '');
    const own = unscopedName(str(pkg['name']) ?? '');
    const chosen = entries.find(([name]) => name === own) ?? entries[0];
    if (chosen) [from, file] = [`bin ${chosen[0]}`, chosen[1]];
  }
  file ??= str(pkg['main']);
  if (file === null) return { problem: 'its package.json names no bin and no main, so there is no command to run' };
  const clean = file.replaceAll('\\', '/').replace(/^(\.\/)+/, '');
  if (clean.startsWith('/') || clean.split('/').includes('..')) return { problem: `its ${from} ${JSON.stringify(file)} lies outside the package` };
  if (!exists(clean)) return { problem: `its ${from} ${JSON.stringify(file)} is not in the package` };
  if (!(JS_ENTRY_EXTENSIONS as readonly string[]).some((ext) => clean.endsWith(ext))) {
    return { problem: `its ${from} ${JSON.stringify(file)} is not a .js, .mjs or .cjs file, which is all "main" runs; add a plugin.json with its "command" (docs/manifest.md)` };
  }
  return { file: clean };
}

/** Process-wide variables no data path is kept in, though their names look like one. */
const NOT_DATA = new Set(['PATH', 'NODE_PATH', 'PYTHONPATH', 'PYTHONHOME', 'HOME', 'JAVA_HOME', 'GOPATH', 'GOROOT', 'MANPATH', 'CDPATH', 'NVM_DIR', 'TMPDIR', 'PWD', 'OLDPWD']);
const FILE_SUFFIXES = ['_FILE_PATH', '_FILE', '_PATH'];
const FOLDER_SUFFIXES = ['_DIRECTORY', '_FOLDER', '_HOME', '_DIR'];
const NOT_DATA_PARTS = ['CONFIG', 'CERT', 'KEY', 'TOKEN', 'SECRET', 'CA_'];

/**
 * Where in the data folder a variable that names a place to keep data points, or null when the name
 * does not say so: `DATA_DIR` → `./data`, `MEMORY_FILE_PATH` → `./data/memory`.
 */
export function dataPathFor(name: string): string | null {
  const upper = name.toUpperCase();
  if (NOT_DATA.has(upper) || reservedVariable(name) !== null || NOT_DATA_PARTS.some((part) => upper.includes(part))) return null;
  if (FOLDER_SUFFIXES.some((s) => upper.endsWith(s) && upper.length > s.length)) return DATA_FOLDER;
  const suffix = FILE_SUFFIXES.find((s) => upper.endsWith(s) && upper.length > s.length);
  if (!suffix) return null;
  const stem = upper.slice(0, -suffix.length).toLowerCase().replaceAll('_', '-');
  return `${DATA_FOLDER}/${stem}`;
}

/** The refusal for a package that is not an MCP server. */
export function notMcpReason(spec: string): string {
  return `${spec} has no plugin.json and does not look like an MCP server (no mcpName, no dependency on ${MCP_SDK}); add a plugin.json (docs/manifest.md)`;
}

/** The `engines.warden` a generated manifest gets: this major version onwards, as `warden plugin new` writes it. */
export const GENERATED_ENGINES = `^${semver.major(WARDEN_VERSION)}.0.0`;

/**
 * The plugin.json for the MCP server package `pkg` (its package.json), or why there is none. Without
 * facts it is the provisional manifest the audit runs against (no environment, no permissions).
 */
export function mcpManifest(pkg: Json, facts: McpFacts | null, options: McpManifestOptions): McpManifestResult {
  if (!looksLikeMcpServer(pkg)) return { ok: false, reason: notMcpReason(options.spec) };
  const packageName = str(pkg['name']);
  const name = options.name ?? (packageName ? pluginNameOf(packageName) : '');
  if (!PLUGIN_NAME_RE.test(name)) {
    return { ok: false, reason: `${options.spec}: ${JSON.stringify(name)} is not a plugin name (${PLUGIN_NAME_RE.source}); give one with --name` };
  }
  const version = str(pkg['version']);
  if (version === null || semver.valid(version) === null) return { ok: false, reason: `${options.spec}: its package.json version ${JSON.stringify(pkg['version'] ?? null)} is not a semver version` };
  const entry = entryOf(pkg, options.exists);
  if ('problem' in entry) return { ok: false, reason: `${options.spec}: ${entry.problem}` };

  const environment: Record<string, string> = {};
  const asked = new Set<string>();
  for (const variable of facts?.env ?? []) {
    const place = dataPathFor(variable);
    if (place !== null) environment[variable] = place;
    else if (reservedVariable(variable) === null) asked.add(variable);
  }
  for (const [variable, value] of Object.entries(options.env ?? {})) {
    environment[variable] = value;
    asked.delete(variable);
  }
  const description = str(pkg['description']) ?? `${packageName ?? name}: an MCP server (plugin.json generated by warden plugin install)`;
  const manifest: Json = {
    name,
    version,
    description,
    kind: 'service',
    protocol: 'mcp',
    main: entry.file,
    engines: { warden: GENERATED_ENGINES },
    ...(facts && Object.keys(environment).length > 0 ? { environment: sortedObject(environment) } : {}),
    ...(facts
      ? {
          permissions: {
            fs: { write: [DATA_FOLDER] },
            ...(facts.network ? { network: true } : {}),
            ...(facts.childProcess ? { childProcess: true } : {}),
            ...(asked.size > 0 ? { env: [...asked].sort() } : {}),
          },
        }
      : {}),
  };
  const checked = validateManifest(manifest);
  if (!checked.ok) return { ok: false, reason: `${options.spec}: the plugin.json generated for it is not valid: ${checked.reason}` };
  return { ok: true, manifest, main: entry.file };
}

function sortedObject(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The file's text: plain JSON, 2-space indent, a trailing newline. */
export function manifestText(manifest: Record<string, unknown>): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
