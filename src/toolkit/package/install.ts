/**
 * `warden plugin install SPEC`: a plugin from a folder, a `.tgz` (npm's layout) or `npm:PACKAGE[@RANGE]`
 * into pluginsDir. It is checked (sha256, or the registry's integrity), unpacked and validated in a staging
 * folder inside pluginsDir whose dot name discovery and hot reload never look at, its own dependencies are
 * installed there (Node from its lockfile with install scripts off, Python into a venv), it is audited,
 * and then it appears under its name with one rename. Whatever fails, the staging folder goes.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, lstat, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { extract } from 'tar';
import { loadPlugin, MANIFEST_FILE } from '../../manifest/discover.js';
import type { Manifest } from '../../manifest/types.js';
import { auditPlugin } from '../audit/index.js';
import { beyondBaseline } from '../../policies/approval.js';
import { effectivePermissions, realPath } from '../../sandbox/permissions.js';
import { withCommandRuntime } from '../../sandbox/runtime.js';
import { detectLayout } from '../../sandbox/wall.js';
import { DATA_FOLDER, mcpManifest, manifestText, type McpFacts } from './mcp-manifest.js';
import { tarballDigests } from './pack.js';

const run = promisify(execFile);

/** Where an install from the npm registry records its package, for `warden plugin update`. */
export const SOURCE_FILE = '.warden-source.json';

/** What SOURCE_FILE holds. */
export interface InstallSource {
  package: string;
  version: string;
  integrity: string;
  registry: string | null;
  /** Present when install generated the plugin.json (an MCP server without one): the --name and --env it was given, so an update generates the same. */
  generated?: { name?: string; env?: Record<string, string> };
}

/** The most a tarball may unpack to: a bigger one is refused (a decompression bomb). */
export const MAX_UNPACKED_BYTES = 256 * 1024 * 1024;
/** How long one dependency install (npm, pip) may take. */
const INSTALL_TIMEOUT_MS = 10 * 60_000;

/** An install refused for a reason the operator can act on (exit 1), as opposed to a bug. */
export class InstallError extends Error {
  override readonly name = 'InstallError';
}

export interface InstallOptions {
  pluginsDir: string;
  /** The tarball's expected sha256 (hex), for a `.tgz` or an npm package. */
  sha256?: string;
  /** The npm registry to fetch `npm:` packages from (npm's own default otherwise). */
  registry?: string;
  /** Progress lines. */
  log?: (line: string) => void;
  /** For an MCP server without plugin.json: the plugin's name instead of the package's (`--name`). */
  name?: string;
  /** For an MCP server without plugin.json: `environment` entries set or overridden (`--env NAME=VALUE`). */
  env?: Record<string, string>;
}

/** The plugin.json install wrote for an MCP server package that had none. */
export interface GeneratedManifest {
  main: string;
  /** The folder it may write, inside its own (made by the install). */
  writes: string;
  environment: Record<string, string>;
}

export interface InstallResult {
  name: string;
  version: string;
  dir: string;
  source: string;
  /** The tarball's sha256 and npm integrity, when installed from one. */
  sha256: string | null;
  integrity: string | null;
  /** How its dependencies were installed, if it has any. */
  dependencies: string | null;
  audit: { score: number; undeclared: number };
  /** What it asks for beyond its own folder: the operator approves it with `warden plugin grant NAME`. */
  asks: string[];
  /** Set when the package had no plugin.json and install generated one for an MCP server; null otherwise. */
  generated: GeneratedManifest | null;
}

// Why: `npm pack` fetches a registry tarball and checks it against the registry's integrity; the bytes are checked again here.
export async function fetchFromNpm(spec: string, into: string, registry?: string): Promise<{ file: string; sha256: string; integrity: string }> {
  const args = ['pack', spec, '--json', '--pack-destination', into, '--ignore-scripts', ...(registry ? ['--registry', registry] : [])];
  let stdout: string;
  try {
    ({ stdout } = await run('npm', args, { cwd: into, timeout: INSTALL_TIMEOUT_MS, maxBuffer: 16 << 20 }));
  } catch (error) {
    const text = String((error as { stderr?: string }).stderr ?? (error as Error).message).trim().split('\n').filter((l) => /ERR|error/i.test(l)).slice(-3).join('; ');
    throw new InstallError(`npm could not fetch ${spec}: ${text || (error as Error).message}`);
  }
  const [packed] = JSON.parse(stdout) as Array<{ filename: string; integrity: string }>;
  if (!packed) throw new InstallError(`npm fetched nothing for ${spec}`);
  const file = path.join(into, packed.filename.replace(/^@/, '').replace('/', '-'));
  const { sha256, integrity } = await tarballDigests(file);
  if (integrity !== packed.integrity) throw new InstallError(`${spec}: the tarball's sha512 ${integrity} is not the registry's integrity ${packed.integrity}`);
  return { file, sha256, integrity };
}

// Why: unpacks npm's layout (package/…) without links, absolute paths or `..`, within MAX_UNPACKED_BYTES.
export async function unpack(file: string, into: string): Promise<void> {
  let total = 0;
  let refused: string | null = null;
  try {
    await extract({
      file,
      cwd: into,
      strip: 1,
      strict: true,
      filter: (entryPath, entry) => {
        const type = 'type' in entry ? entry.type : 'File';
        if (type === 'SymbolicLink' || type === 'Link') {
          refused ??= `it holds a link (${entryPath}), which an install never unpacks`;
          return false;
        }
        total += 'size' in entry && typeof entry.size === 'number' ? entry.size : 0;
        if (total > MAX_UNPACKED_BYTES) {
          refused ??= `it unpacks to more than ${MAX_UNPACKED_BYTES / 1048576} MiB`;
          return false;
        }
        return true;
      },
    });
  } catch (error) {
    throw new InstallError(`${path.basename(file)} is not a readable .tgz: ${(error as Error).message}`);
  }
  if (refused) throw new InstallError(`${path.basename(file)} refused: ${refused}`);
}

// Why: the plugin's own dependencies, inside its folder only: npm from its lockfile with scripts off, Python into a venv.
export async function installDependencies(dir: string, log: (line: string) => void, registry?: string): Promise<string | null> {
  const pkg = path.join(dir, 'package.json');
  if (existsSync(pkg)) {
    let manifest: { dependencies?: Record<string, string> } | null;
    try {
      manifest = JSON.parse((await readFile(pkg, 'utf8')).replace(/^\uFEFF/, '')) as typeof manifest;
    } catch (error) {
      throw new InstallError(`its package.json is not valid JSON: ${(error as Error).message}`);
    }
    if (manifest?.dependencies && Object.keys(manifest.dependencies).length > 0) {
      const locked = existsSync(path.join(dir, 'package-lock.json')) || existsSync(path.join(dir, 'npm-shrinkwrap.json'));
      const args = locked
        ? ['ci', '--ignore-scripts', '--omit=dev', '--no-audit', '--no-fund']
        : ['install', '--ignore-scripts', '--omit=dev', '--no-audit', '--no-fund', '--no-package-lock'];
      if (registry) args.push('--registry', registry);
      log(`installing its Node dependencies: npm ${args.join(' ')}`);
      await run('npm', args, { cwd: dir, timeout: INSTALL_TIMEOUT_MS, maxBuffer: 16 << 20 }).catch((error: Error & { stderr?: string }) => {
        throw new InstallError(`npm ${args[0]} failed in the plugin's folder: ${String(error.stderr ?? error.message).trim().split('\n').slice(-3).join('; ')}`);
      });
      return locked ? 'npm ci --ignore-scripts (from its lockfile)' : 'npm install --ignore-scripts (no lockfile shipped: resolved now)';
    }
  }
  if (existsSync(path.join(dir, 'requirements.txt'))) {
    log('installing its Python dependencies into .venv: python3 -m venv, then pip install -r requirements.txt');
    try {
      await run('python3', ['-m', 'venv', '.venv'], { cwd: dir, timeout: INSTALL_TIMEOUT_MS });
      await run(path.join(dir, '.venv/bin/python'), ['-m', 'pip', 'install', '--no-input', '--disable-pip-version-check', '-r', 'requirements.txt'], { cwd: dir, timeout: INSTALL_TIMEOUT_MS, maxBuffer: 16 << 20 });
    } catch (error) {
      throw new InstallError(`its Python dependencies failed to install: ${String((error as { stderr?: string }).stderr ?? (error as Error).message).trim().split('\n').slice(-3).join('; ')}`);
    }
    return 'a venv in .venv from requirements.txt';
  }
  return null;
}

/** The package of an npm spec: `@scope/name@^1` → `@scope/name`. */
export function packageName(spec: string): string {
  const at = spec.indexOf('@', 1);
  return at < 0 ? spec : spec.slice(0, at);
}

/**
 * What the plugin in `dir` asks for beyond its own folder, one line each: what its approval will ask
 * (policies/approval.ts), its command's runtime outside the system folders among it (sandbox/runtime.ts).
 */
export function asksOf(manifest: Manifest, dir: string): string[] {
  const permissions = withCommandRuntime(effectivePermissions(manifest.permissions, undefined, dir), manifest, dir, detectLayout());
  const r = beyondBaseline(permissions, realPath(dir));
  return [
    ...(r.network ? ['network'] : []),
    ...(r.childProcess ? ['child processes'] : []),
    ...r.env.map((name) => `env ${name}`),
    ...r.fs.read.map((p) => `read ${p}`),
    ...r.fs.write.map((p) => `write ${p}`),
  ];
}

/** Where README.md tells how to wrap a Python MCP server. */
const PYTHON_WRAPPING = 'README.md, "Wrapping a Python MCP server"';

/**
 * A package folder without plugin.json: an MCP server gets one generated (mcp-manifest.ts) from its
 * package.json and from what an audit of its own files (before any dependency is installed) saw it use,
 * and a data folder; anything else is refused. The audit runs against a provisional manifest first.
 */
export async function generateManifest(staging: string, spec: string, options: Pick<InstallOptions, 'name' | 'env'>): Promise<GeneratedManifest> {
  const pkgFile = path.join(staging, 'package.json');
  if (!existsSync(pkgFile)) {
    if (existsSync(path.join(staging, 'pyproject.toml'))) {
      throw new InstallError(`${spec} has no plugin.json; warden generates one only for an npm package, and this is a Python project: write a plugin.json with "protocol": "mcp" and its command (${PYTHON_WRAPPING})`);
    }
    throw new InstallError(`not a valid plugin: ${MANIFEST_FILE}: not found in ${spec}, and no package.json to generate one from`);
  }
  let pkg: unknown;
  try {
    pkg = JSON.parse((await readFile(pkgFile, 'utf8')).replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new InstallError(`${spec} has no plugin.json, and its package.json is not valid JSON: ${(error as Error).message}`);
  }
  if (pkg === null || typeof pkg !== 'object' || Array.isArray(pkg)) throw new InstallError(`${spec} has no plugin.json, and its package.json is not an object`);
  const pkgObject = pkg as Record<string, unknown>;
  const base = { spec, name: options.name, env: options.env, exists: (file: string) => existsSync(path.join(staging, file)) };
  const provisional = mcpManifest(pkgObject, null, base);
  if (!provisional.ok) throw new InstallError(provisional.reason);
  const manifestFile = path.join(staging, MANIFEST_FILE);
  await writeFile(manifestFile, manifestText(provisional.manifest));
  const report = await auditPlugin(staging).catch((error: Error) => {
    throw new InstallError(`${spec}: the plugin.json generated for it is not valid: ${error.message}`);
  });
  const facts: McpFacts = {
    env: [...new Set(report.findings.flatMap((f) => (f.rule === 'env' && f.name ? [f.name] : [])))],
    network: report.findings.some((f) => f.rule === 'network'),
    childProcess: report.findings.some((f) => f.rule === 'child-process'),
  };
  const generated = mcpManifest(pkgObject, facts, base);
  if (!generated.ok) throw new InstallError(generated.reason);
  await writeFile(manifestFile, manifestText(generated.manifest));
  const data = path.join(staging, DATA_FOLDER);
  if (existsSync(data) && !(await lstat(data)).isDirectory()) throw new InstallError(`${spec}: it holds a file named ${DATA_FOLDER.slice(2)}, where its data folder goes`);
  await mkdir(data, { recursive: true });
  const environment = (generated.manifest['environment'] as Record<string, string> | undefined) ?? {};
  return { main: generated.main, writes: DATA_FOLDER, environment };
}

/** `protocol mcp, main dist/index.js, writes ./data; MEMORY_FILE_PATH=./data/memory`: what install generated, on one line. */
export function describeGenerated(g: GeneratedManifest): string {
  const env = Object.entries(g.environment).map(([k, v]) => `${k}=${v}`);
  return `protocol mcp, main ${g.main}, writes ${g.writes}${env.length > 0 ? `; ${env.join(', ')}` : ''}`;
}

/** Installs `spec` into options.pluginsDir; throws InstallError with the reason, leaving nothing behind. */
export async function installPlugin(spec: string, options: InstallOptions): Promise<InstallResult> {
  const log = options.log ?? (() => undefined);
  const pluginsDir = path.resolve(options.pluginsDir);
  await mkdir(pluginsDir, { recursive: true });
  const staging = path.join(pluginsDir, `.install-${randomBytes(6).toString('hex')}`);
  const download = await mkdtemp(path.join(tmpdir(), 'warden-install-'));
  try {
    await mkdir(staging);
    let tarball: string | null = null;
    let sha256: string | null = null;
    let integrity: string | null = null;
    if (spec.startsWith('npm:')) {
      ({ file: tarball, sha256, integrity } = await fetchFromNpm(spec.slice(4), download, options.registry));
    } else if (spec.endsWith('.tgz') || spec.endsWith('.tar.gz')) {
      tarball = path.resolve(spec);
      if (!existsSync(tarball)) throw new InstallError(`${tarball}: no such file`);
      ({ sha256, integrity } = await tarballDigests(tarball));
    } else {
      const from = path.resolve(spec);
      if (!existsSync(from) || !(await lstat(from)).isDirectory()) throw new InstallError(`${spec} is neither a folder, a .tgz, nor npm:PACKAGE`);
      // Links are never copied (as a tarball's are never unpacked): one could point anywhere on the host.
      await cp(from, staging, { recursive: true, verbatimSymlinks: true, filter: async (src) => !/(^|\/)(node_modules|\.git)$/.test(src) && !(await lstat(src)).isSymbolicLink() });
    }
    if (options.sha256 !== undefined) {
      if (!sha256) throw new InstallError('--sha256 checks a tarball; a folder has none');
      if (sha256 !== options.sha256.toLowerCase()) throw new InstallError(`sha256 mismatch: the tarball is ${sha256}, --sha256 says ${options.sha256}`);
    }
    if (tarball) await unpack(tarball, staging);
    const generated = existsSync(path.join(staging, MANIFEST_FILE)) ? null : await generateManifest(staging, spec, options);
    if (!generated && (options.name !== undefined || Object.keys(options.env ?? {}).length > 0)) {
      throw new InstallError(`${spec} has its own ${MANIFEST_FILE}: --name and --env apply only to an MCP server without one`);
    }
    const loaded = await loadPlugin(staging);
    if (!loaded.ok) throw new InstallError(`not a valid plugin: ${loaded.reason}`);
    const { manifest } = loaded;
    const target = path.join(pluginsDir, manifest.name);
    if (existsSync(target)) throw new InstallError(`${manifest.name} is already installed at ${target} (warden plugin remove it first)`);
    const dependencies = await installDependencies(staging, log, options.registry);
    if (spec.startsWith('npm:') && integrity) {
      const source: InstallSource = {
        package: packageName(spec.slice(4)),
        version: manifest.version,
        integrity,
        registry: options.registry ?? null,
        ...(generated ? { generated: { ...(options.name !== undefined ? { name: options.name } : {}), ...(options.env ? { env: options.env } : {}) } } : {}),
      };
      await writeFile(path.join(staging, SOURCE_FILE), `${JSON.stringify(source, null, 2)}\n`);
    }
    const audit = await auditPlugin(staging, { manifest });
    await rename(staging, target);
    return {
      name: manifest.name,
      version: manifest.version,
      dir: target,
      source: spec,
      sha256,
      integrity,
      dependencies,
      audit: { score: audit.score, undeclared: audit.findings.filter((f) => !f.declared).length },
      asks: asksOf(manifest, target),
      generated,
    };
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(download, { recursive: true, force: true });
  }
}
