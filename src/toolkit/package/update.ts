/**
 * `warden plugin update NAME [--to VERSION] [--dry-run]`: for a plugin installed from the npm registry (its
 * .warden-source.json), the newest version that satisfies this warden (its engines.warden) and every
 * dependent plugin's range, fetched and prepared like an install, then swapped into pluginsDir so the
 * daemon's hot reload replaces it blue/green. When the daemon reports that the new version failed to
 * start, the old folder is put back (rolled back); the old instance never stopped serving.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, lstat, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import semver from 'semver';
import { discoverPlugins, loadPlugin, MANIFEST_FILE } from '../../manifest/discover.js';
import type { Manifest } from '../../manifest/types.js';
import { fetchFromNpm, generateManifest, InstallError, installDependencies, SOURCE_FILE, unpack, type InstallSource } from './install.js';

const run = promisify(execFile);

/** What the daemon made of the swapped folder: served, or refused with its reason (the old one still serving). */
export type Outcome = { ok: true } | { ok: false; reason: string };

export interface UpdateOptions {
  pluginsDir: string;
  /** An exact version to move to instead of the newest acceptable one. */
  to?: string;
  dryRun?: boolean;
  /**
   * Waits for the daemon to serve `version` of the plugin or to refuse it; null when no daemon runs (the
   * new version then starts with it).
   */
  awaitOutcome?: (name: string, version: string) => Promise<Outcome> | null;
  /** After a rollback: has the daemon look at the restored folder (and watch it afresh). */
  resync?: () => Promise<void>;
  log?: (line: string) => void;
}

export interface UpdatePlan {
  name: string;
  package: string;
  from: string;
  /** The version chosen, or null when none is newer and acceptable. */
  to: string | null;
  /** Newer versions passed over, and why. */
  rejected: Array<{ version: string; why: string }>;
}

export interface UpdateResult extends UpdatePlan {
  /** updated: serving `to`; rolled-back: `to` failed to start and the old folder is back; planned: a dry run; current: nothing to do. */
  outcome: 'updated' | 'rolled-back' | 'planned' | 'current' | 'swapped';
  reason: string | null;
}

// Why: what install recorded of the package; a file that does not read as one is the operator's to fix, not a crash.
async function readSource(file: string): Promise<InstallSource> {
  let source: Partial<InstallSource> | null;
  try {
    source = JSON.parse(await readFile(file, 'utf8')) as Partial<InstallSource> | null;
  } catch (error) {
    throw new InstallError(`${file} is not readable JSON (${(error as Error).message}): remove the plugin and install it again`);
  }
  if (typeof source?.package !== 'string' || source.package === '') throw new InstallError(`${file} names no package: remove the plugin and install it again`);
  return source as InstallSource;
}

// Why: the versions the registry has of a package, newest first.
async function registryVersions(source: InstallSource): Promise<string[]> {
  const args = ['view', source.package, 'versions', '--json', ...(source.registry ? ['--registry', source.registry] : [])];
  const { stdout } = await run('npm', args, { timeout: 120_000, maxBuffer: 16 << 20 }).catch((error: Error & { stderr?: string }) => {
    throw new InstallError(`npm could not list the versions of ${source.package}: ${String(error.stderr ?? error.message).trim().split('\n').slice(-2).join('; ')}`);
  });
  let parsed: string | string[];
  try {
    parsed = JSON.parse(stdout) as string | string[];
  } catch {
    throw new InstallError(`npm listed no versions of ${source.package}`);
  }
  return semver.rsort((Array.isArray(parsed) ? parsed : [parsed]).filter((v) => semver.valid(v)));
}

// Why: the ranges other plugins in pluginsDir hold on this one, which the new version must satisfy.
async function dependentRanges(pluginsDir: string, name: string): Promise<Array<{ plugin: string; range: string }>> {
  return (await discoverPlugins(pluginsDir)).flatMap((p) => (p.ok && p.manifest.dependencies[name] ? [{ plugin: p.manifest.name, range: p.manifest.dependencies[name]! }] : []));
}

// Why: a release of a package whose plugin.json install generated has none either: it gets the same generation.
async function unpackRelease(tarball: string, into: string, source: InstallSource, spec: string): Promise<void> {
  await unpack(tarball, into);
  if (source.generated && !existsSync(path.join(into, MANIFEST_FILE))) await generateManifest(into, spec, source.generated);
}

/**
 * The folders the old version writes inside its own folder (its data), copied into the new one before the
 * swap, without links: an update keeps what the plugin wrote. What the old instance writes while it finishes
 * its calls in flight, after the copy, is not carried.
 */
async function carryData(manifest: Manifest, from: string, to: string, log: (line: string) => void): Promise<void> {
  for (const write of manifest.permissions.fs.write) {
    if (path.isAbsolute(write)) continue;
    const source = path.resolve(from, write);
    const rel = path.relative(from, source);
    if (rel === '' || rel.startsWith('..') || !existsSync(source)) continue;
    if ((await lstat(source)).isSymbolicLink()) continue;
    log(`keeping its ${write}`);
    try {
      await rm(path.join(to, rel), { recursive: true, force: true });
      await cp(source, path.join(to, rel), { recursive: true, verbatimSymlinks: true, filter: async (src) => !(await lstat(src)).isSymbolicLink() });
    } catch (error) {
      throw new InstallError(`could not carry its ${write} into the new version (nothing was swapped): ${(error as Error).message}`);
    }
  }
}

/** Plans and (unless a dry run) performs the update; throws InstallError when it cannot even begin. */
export async function updatePlugin(name: string, options: UpdateOptions): Promise<UpdateResult> {
  const log = options.log ?? (() => undefined);
  const pluginsDir = path.resolve(options.pluginsDir);
  const dir = path.join(pluginsDir, name);
  const current = await loadPlugin(dir);
  if (!current.ok) throw new InstallError(`${name} is not an installed plugin in ${pluginsDir}: ${current.reason}`);
  const sourceFile = path.join(dir, SOURCE_FILE);
  if (!existsSync(sourceFile)) throw new InstallError(`${name} was not installed from the npm registry (no ${SOURCE_FILE}): update it by removing it and installing the new version`);
  const source = await readSource(sourceFile);
  const from = current.manifest.version;
  const plan: UpdatePlan = { name, package: source.package, from, to: null, rejected: [] };
  const dependents = await dependentRanges(pluginsDir, name);
  const work = await mkdtemp(path.join(tmpdir(), 'warden-update-'));
  const staging = path.join(pluginsDir, `.update-${name}-${randomBytes(4).toString('hex')}`);
  try {
    const versions = (await registryVersions(source)).filter((v) => (options.to ? v === options.to : semver.gt(v, from)));
    if (options.to && versions.length === 0) throw new InstallError(`${source.package} has no version ${options.to}`);
    // Each candidate is unpacked where it would be swapped from (a dry run: outside pluginsDir), so the chosen one is ready as it is.
    let chosen: { version: string; integrity: string } | null = null;
    for (const version of versions) {
      const refused = dependents.find((d) => !semver.satisfies(version, d.range, { includePrerelease: true }));
      if (refused) {
        plan.rejected.push({ version, why: `${refused.plugin} depends on ${name} ${refused.range}` });
        continue;
      }
      const into = await mkdtemp(path.join(work, 'v-'));
      const { file, integrity } = await fetchFromNpm(`${source.package}@${version}`, into, source.registry ?? undefined);
      const look = options.dryRun ? path.join(into, 'unpacked') : staging;
      await rm(look, { recursive: true, force: true });
      await mkdir(look);
      try {
        await unpackRelease(file, look, source, `${source.package}@${version}`);
      } catch (error) {
        if (!(error instanceof InstallError)) throw error;
        plan.rejected.push({ version, why: error.message });
        continue;
      }
      const candidate = await loadPlugin(look);
      if (!candidate.ok) {
        plan.rejected.push({ version, why: candidate.reason });
        continue;
      }
      if (candidate.manifest.name !== name) {
        plan.rejected.push({ version, why: `its plugin.json names ${candidate.manifest.name}, not ${name}` });
        continue;
      }
      chosen = { version, integrity };
      break;
    }
    plan.to = chosen?.version ?? null;
    if (!chosen) return { ...plan, outcome: 'current', reason: null };
    if (options.dryRun) return { ...plan, outcome: 'planned', reason: null };

    await installDependencies(staging, log, source.registry ?? undefined);
    await carryData(current.manifest, dir, staging, log);
    const record: InstallSource = { ...source, version: chosen.version, integrity: chosen.integrity };
    await writeFile(path.join(staging, SOURCE_FILE), `${JSON.stringify(record, null, 2)}\n`);
    // Two renames within a millisecond: hot reload (debounced) sees the folder changed, not gone.
    const previous = path.join(pluginsDir, `.previous-${name}-${randomBytes(4).toString('hex')}`);
    await rename(dir, previous);
    let outcome: Outcome | null;
    try {
      await rename(staging, dir);
      const waiting = options.awaitOutcome?.(name, chosen.version) ?? null;
      outcome = waiting ? await waiting : null;
    } catch (error) {
      outcome = { ok: false, reason: (error as Error).message };
    }
    if (!outcome) {
      await rm(previous, { recursive: true, force: true });
      return { ...plan, outcome: 'swapped', reason: 'no daemon is running: the new version starts with it' };
    }
    if (outcome.ok) {
      await rm(previous, { recursive: true, force: true });
      return { ...plan, outcome: 'updated', reason: null };
    }
    const failed = path.join(pluginsDir, `.failed-${name}-${randomBytes(4).toString('hex')}`);
    if (existsSync(dir)) await rename(dir, failed);
    await rename(previous, dir);
    await rm(failed, { recursive: true, force: true });
    await options.resync?.().catch(() => undefined);
    return { ...plan, outcome: 'rolled-back', reason: outcome.reason };
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  }
}
