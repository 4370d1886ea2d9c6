/**
 * `warden plugin pack`: a plugin folder as `NAME-VERSION.tgz` in npm's tarball layout (every file under
 * `package/`, gzipped tar, written by node-tar, npm's own tar), reproducible byte for byte (sorted entries,
 * one fixed mtime, no owners), with its sha256 and npm's sha512 integrity string.
 */
import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { create } from 'tar';
import { loadPlugin } from '../../manifest/discover.js';

/** npm's own fixed mtime for packed files (1985-10-26T08:15:00Z), so a tarball depends on content alone. */
const PACK_MTIME = new Date('1985-10-26T08:15:00.000Z');
/** Never packed: installed dependencies, caches, version control, tarballs. Python venvs are found by their pyvenv.cfg. */
const SKIPPED = new Set(['node_modules', '__pycache__', '.git', '.venv', '.warden-source.json']);

/** The folder has no valid plugin.json: there is nothing to name the package after. */
export class PackManifestError extends Error {
  override readonly name = 'PackManifestError';
}

export interface PackResult {
  /** The tarball's absolute path. */
  file: string;
  /** Its sha256, hex (what `install --sha256` takes). */
  sha256: string;
  /** npm's integrity string for it (`sha512-…`, base64). */
  integrity: string;
  /** Packed files, relative to the plugin folder, in tarball order. */
  files: string[];
  /** Left out and why: symlinks (never followed) and the plugin's own fs.write folders (its runtime data). */
  skipped: Array<{ path: string; why: string }>;
  bytes: number;
}

// Why: the files to pack, sorted, without following links and without what a plugin writes at run time.
async function listFiles(root: string, writes: Set<string>, skipped: PackResult['skipped']): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries: Dirent[] = await readdir(path.join(root, rel), { withFileTypes: true });
    if (rel !== '' && entries.some((e) => e.name === 'pyvenv.cfg')) {
      skipped.push({ path: rel, why: 'a Python virtual environment' });
      return;
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (SKIPPED.has(entry.name) || entry.name.endsWith('.tgz')) continue;
      if (entry.isSymbolicLink()) skipped.push({ path: child, why: 'a symbolic link (never packed)' });
      else if (writes.has(child)) skipped.push({ path: child, why: 'one of its fs.write folders (runtime data)' });
      else if (entry.isDirectory()) await walk(child);
      else if (entry.isFile()) out.push(child);
    }
  };
  await walk('');
  return out;
}

/** Packs the plugin in `dir` into `outDir` (default: the current folder); writes `NAME-VERSION.tgz` and `NAME-VERSION.tgz.sha256`. */
export async function packPlugin(dir: string, options: { outDir?: string } = {}): Promise<PackResult> {
  const loaded = await loadPlugin(dir);
  if (!loaded.ok) throw new PackManifestError(loaded.reason);
  const { manifest } = loaded;
  const root = loaded.dir;
  const writes = new Set(
    manifest.permissions.fs.write.filter((p) => !path.isAbsolute(p)).map((p) => path.posix.normalize(p.replaceAll('\\', '/')).replace(/^\.\//, '').replace(/\/$/, '')),
  );
  const skipped: PackResult['skipped'] = [];
  const files = await listFiles(root, writes, skipped);
  const outDir = path.resolve(options.outDir ?? '.');
  const name = `${manifest.name}-${manifest.version}.tgz`;
  const file = path.join(outDir, name);
  const partial = `${file}.partial-${process.pid}`;
  await mkdir(outDir, { recursive: true });
  try {
    await create({ gzip: { level: 9 }, file: partial, cwd: root, prefix: 'package', portable: true, mtime: PACK_MTIME, noDirRecurse: true }, files);
    await rename(partial, file);
  } finally {
    await rm(partial, { force: true });
  }
  const { sha256, integrity, bytes } = await tarballDigests(file);
  await writeFile(`${file}.sha256`, `${sha256}  ${name}\n`);
  return { file, sha256, integrity, files, skipped, bytes };
}

/** A tarball's sha256 (hex, what `install --sha256` takes) and npm's integrity string (sha512, base64), from one read. */
export async function tarballDigests(file: string): Promise<{ sha256: string; integrity: string; bytes: number }> {
  const data = await readFile(file);
  return { sha256: createHash('sha256').update(data).digest('hex'), integrity: `sha512-${createHash('sha512').update(data).digest('base64')}`, bytes: data.length };
}
