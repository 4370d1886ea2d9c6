/**
 * Finding plugins: every folder directly under pluginsDir that holds a plugin.json (CONTRACT §3).
 * A bad plugin becomes an `ok: false` entry with its reason; it never stops the others.
 */
import { constants } from 'node:fs';
import { open, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import semver from 'semver';
import { PLUGIN_NAME_RE } from '../config/schema.js';
import { MAX_LINE_BYTES } from '../rpc/line-reader.js';
import { PLUGIN_KINDS, validateManifest } from './schema.js';
import type { DiscoveredPlugin, PluginKind } from './types.js';

export const MANIFEST_FILE = 'plugin.json';

/**
 * The largest plugin.json read (1 MiB, the same bound as any line a warden peer accepts). A real
 * manifest is a few kB; a bigger one is refused unread, so a hostile plugin cannot make every
 * discovery and reload hold (and parse) a file of its choosing.
 */
export const MAX_MANIFEST_BYTES = MAX_LINE_BYTES;
/** Read in pieces this size, so a file growing meanwhile is stopped at the limit, not read whole. */
const READ_CHUNK_BYTES = 64 * 1024;

/** Code-unit order, so the result never depends on the locale. */
const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function pluginName(p: DiscoveredPlugin): string {
  return p.ok ? p.manifest.name : p.name;
}

/**
 * All plugins under `pluginsDir`, sorted by name, then folder. A missing pluginsDir is an empty list.
 * A name has at most one `ok` entry: the valid manifest in the first folder (by folder name);
 * later valid ones claiming it become invalid duplicates under the same name.
 */
export async function discoverPlugins(pluginsDir: string): Promise<DiscoveredPlugin[]> {
  const root = path.resolve(pluginsDir);
  let names: string[];
  try {
    names = (await readdir(root)).sort(byString);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
  const candidates = names.filter((n) => !n.startsWith('.') && n !== 'node_modules');
  const loaded = await Promise.all(
    candidates.map(async (n) => {
      const dir = path.join(root, n);
      // stat (not lstat) so a symlinked plugin folder counts, as an operator would expect.
      const manifest = await stat(path.join(dir, MANIFEST_FILE)).catch(() => null);
      return manifest?.isFile() ? loadPlugin(dir) : null;
    }),
  );

  const owner = new Map<string, string>();
  const out: DiscoveredPlugin[] = [];
  for (const p of loaded) {
    if (!p) continue;
    if (!p.ok) {
      out.push(p);
      continue;
    }
    const first = owner.get(p.manifest.name);
    if (first === undefined) {
      owner.set(p.manifest.name, p.dir);
      out.push(p);
    } else {
      out.push({
        ok: false,
        dir: p.dir,
        name: p.manifest.name,
        version: p.manifest.version,
        kind: p.manifest.kind,
        reason: `duplicate plugin name ${JSON.stringify(p.manifest.name)} (also in ${first})`,
      });
    }
  }
  return out.sort((a, b) => byString(pluginName(a), pluginName(b)) || byString(a.dir, b.dir));
}

/** One plugin folder. Never throws: every problem becomes `ok: false` with a one-line reason. */
export async function loadPlugin(dir: string): Promise<DiscoveredPlugin> {
  const abs = path.resolve(dir);
  const folderName = path.basename(abs);
  const invalid = (reason: string, raw: unknown = null): DiscoveredPlugin => ({
    ok: false,
    dir: abs,
    ...declared(raw, folderName),
    reason,
  });

  let text: string;
  try {
    const read = await readManifest(path.join(abs, MANIFEST_FILE));
    if ('problem' in read) return invalid(read.problem);
    text = read.text;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return invalid(code === 'ENOENT' ? `${MANIFEST_FILE}: not found in ${abs}` : `${MANIFEST_FILE}: ${firstLine(err)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    return invalid(`${MANIFEST_FILE}: not valid JSON: ${firstLine(err)}`);
  }

  const result = validateManifest(raw);
  if (!result.ok) return invalid(result.reason, raw);
  const { manifest } = result;
  if (manifest.main !== undefined) {
    const problem = await mainProblem(abs, manifest.main);
    if (problem) return invalid(problem, raw);
  }
  return { ok: true, dir: abs, manifest };
}

/**
 * plugin.json's text, or why it was not read: over MAX_MANIFEST_BYTES (checked before reading, and
 * again while reading in case it grows), or not a regular file (O_NONBLOCK: a FIFO cannot hang us).
 */
export async function readManifest(file: string): Promise<{ text: string } | { problem: string }> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return { problem: `${MANIFEST_FILE} is not a regular file` };
    if (stats.size > MAX_MANIFEST_BYTES) return { problem: tooLarge(stats.size) };
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const want = Math.min(READ_CHUNK_BYTES, MAX_MANIFEST_BYTES + 1 - total);
      const { bytesRead, buffer } = await handle.read(Buffer.alloc(want), 0, want, null);
      if (bytesRead === 0) break;
      chunks.push(buffer.subarray(0, bytesRead));
      total += bytesRead;
      if (total > MAX_MANIFEST_BYTES) return { problem: tooLarge(Math.max(total, (await handle.stat()).size)) };
    }
    return { text: Buffer.concat(chunks, total).toString('utf8') };
  } finally {
    await handle.close();
  }
}

/** The reason given for an oversized plugin.json. */
function tooLarge(size: number): string {
  return `${MANIFEST_FILE} is ${size} bytes; the limit is ${MAX_MANIFEST_BYTES} (${MAX_MANIFEST_BYTES / (1024 * 1024)} MiB)`;
}

/** `main` must be a file inside the folder, also after following symlinks. */
async function mainProblem(dir: string, main: string): Promise<string | null> {
  const notFound = `${MANIFEST_FILE}: main: ${JSON.stringify(main)} not found in ${dir}`;
  try {
    const [realDir, realMain] = await Promise.all([realpath(dir), realpath(path.resolve(dir, main))]);
    const rel = path.relative(realDir, realMain);
    if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
      return `${MANIFEST_FILE}: main: ${JSON.stringify(main)} resolves outside ${dir}`;
    }
    return (await stat(realMain)).isFile() ? null : notFound;
  } catch {
    return notFound;
  }
}

/** What an invalid manifest still tells us, field by field, where that field itself is valid. */
function declared(raw: unknown, folderName: string): { name: string; version: string | null; kind: PluginKind } {
  const r = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const name = typeof r['name'] === 'string' && PLUGIN_NAME_RE.test(r['name']) ? r['name'] : folderName;
  const version = typeof r['version'] === 'string' && semver.valid(r['version']) ? r['version'] : null;
  const kind = (PLUGIN_KINDS as readonly unknown[]).includes(r['kind']) ? (r['kind'] as PluginKind) : 'service';
  return { name, version, kind };
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}
