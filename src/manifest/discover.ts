/**
 * Finding plugins: every folder directly under pluginsDir that holds a plugin.json (docs/manifest.md, "Discovery").
 * A bad plugin becomes an `ok: false` entry with its reason; it never stops the others.
 */
import { constants } from 'node:fs';
import { open, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import semver from 'semver';
import { lineColumn } from '../config/issues.js';
import { PLUGIN_NAME_RE } from '../protocol/index.js';
import { MAX_LINE_BYTES } from '../rpc/line-reader.js';
import { PLUGIN_KINDS, validateManifest } from './schema.js';
import type { DiscoveredPlugin, PluginKind } from './types.js';
import { validateEntry } from './validate-entry.js';

export const MANIFEST_FILE = 'plugin.json';

/** Whether an entry of pluginsDir may be a plugin folder: dot entries and node_modules never are (discovery and hot reload alike). */
export function mayBePluginFolder(name: string): boolean {
  return !name.startsWith('.') && name !== 'node_modules';
}

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
  const candidates = names.filter(mayBePluginFolder);
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
    return invalid(`${MANIFEST_FILE}: not valid JSON: ${jsonSyntaxError(text.replace(/^\uFEFF/, ''), (err as Error).message)}`);
  }

  const result = validateManifest(raw);
  if (!result.ok) return invalid(result.reason, raw);
  const { manifest } = result;
  if (manifest.main !== undefined) {
    const problem = await validateEntry(manifest.main, () => mainProblem(abs, manifest.main!));
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
export async function mainProblem(dir: string, main: string): Promise<string | null> {
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

/**
 * JSON.parse's complaint as `line L, column C: <words>`. Node 20 gives a character offset, or for an
 * unexpected token none at all (just a snippet), so the place comes from our own scan of the text.
 */
export function jsonSyntaxError(text: string, message: string): string {
  const words = message
    .replace(/( in JSON)? at position \d+.*$/s, '')
    // The snippet of the text after an unexpected token may span lines; the token is enough.
    .replace(/^(Unexpected token '.+?'), (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, '$1')
    .replace(/[\u0000-\u001f]/g, (c) => JSON.stringify(c).slice(1, -1));
  const given = /at position (\d+)/.exec(message);
  const offset = jsonErrorOffset(text) ?? (given ? Number(given[1]) : null);
  if (offset === null) return words;
  const { line, column } = lineColumn(text, offset);
  return `line ${line}, column ${column}: ${words}`;
}

/**
 * Where JSON text first goes wrong (RFC 8259), as a character offset; the end of the content for
 * text that stops early; null when the text is valid or too deeply nested to scan.
 */
export function jsonErrorOffset(text: string): number | null {
  let i = 0;
  const end = text.length;
  const fail = (at = i): never => {
    throw new JsonStop(Math.min(at, text.trimEnd().length));
  };
  const ws = () => {
    while (i < end && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const expect = (c: string) => (text[i] === c ? i++ : fail());
  const string = () => {
    expect('"');
    for (;;) {
      if (i >= end) fail();
      const c = text.charCodeAt(i);
      if (c === 0x22) return void i++;
      if (c < 0x20) fail();
      if (c === 0x5c) {
        i++;
        const e = text[i];
        if (e === 'u') {
          i++;
          for (let k = 0; k < 4; k++, i++) if (!/[0-9A-Fa-f]/.test(text[i] ?? '')) fail();
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i++;
        else fail();
      } else i++;
    }
  };
  const digits = () => {
    const start = i;
    while (i < end && text[i]! >= '0' && text[i]! <= '9') i++;
    if (i === start) fail();
  };
  const number = () => {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else digits();
    if (text[i] === '.') {
      i++;
      digits();
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      digits();
    }
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        string();
        ws();
        expect(':');
        value();
        ws();
        if (text[i] === ',') i++;
        else return void expect('}');
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else return void expect(']');
      }
    }
    if (c === '"') return string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    // A literal is wrong where it stops matching (`tru}` at the `}`), as JSON.parse says.
    const word = c === 't' ? 'true' : c === 'f' ? 'false' : c === 'n' ? 'null' : null;
    if (word === null) fail();
    for (const letter of word!) expect(letter);
  };
  try {
    value();
    ws();
    return i < end ? i : null;
  } catch (err) {
    if (err instanceof JsonStop) return err.offset;
    return null; // too deep for the stack: no place to give
  }
}

class JsonStop {
  constructor(readonly offset: number) {}
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}
