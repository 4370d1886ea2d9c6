/**
 * A content fingerprint of a plugin folder, so hot reload can tell a real edit from an mtime-only
 * touch, an identical re-save, or a `git checkout` that lands on the same bytes.
 */
import { createHash } from 'node:crypto';
import { createReadStream, type Dirent } from 'node:fs';
import { readdir, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { isIgnored, type IgnoreRules } from './ignore.js';

/**
 * Files above this size are not read: their size + mtime stand in for their content. Hashing a
 * multi-GB model or dataset on every save would stall reloads; the cost is that a touch of such
 * a file (same bytes, new mtime) counts as a change.
 */
export const MAX_HASHED_FILE_BYTES = 50 * 1024 * 1024;

const FORMAT = 'warden-fp-v1';

interface Entry {
  /** posix-style path relative to the plugin folder, so the fingerprint is the same on any OS */
  rel: string;
  abs: string;
  link: boolean;
}

const isGone = (err: unknown) => {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
};

async function collect(root: string, ignore: IgnoreRules): Promise<Entry[]> {
  const out: Entry[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      // A subfolder deleted mid-walk: the watcher will see that and fingerprint again.
      if (rel !== '' && isGone(err)) return;
      throw err;
    }
    for (const e of entries) {
      const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
      const abs = path.join(dir, e.name);
      if (isIgnored(childRel, abs, ignore)) continue;
      if (e.isDirectory()) await walk(abs, childRel);
      else if (e.isFile()) out.push({ rel: childRel, abs, link: false });
      else if (e.isSymbolicLink()) out.push({ rel: childRel, abs, link: true });
      // sockets, FIFOs, devices: not plugin content
    }
  };
  await walk(root, '');
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

/** One file's digest line part, or null if it vanished meanwhile. Streamed, so memory stays flat. */
async function digestOf(entry: Entry): Promise<string | null> {
  try {
    const st = await stat(entry.abs); // follows links
    if (!st.isFile()) {
      // A link to a folder is not descended (no loops); its target is what counts.
      return entry.link ? `link:${await readlink(entry.abs)}` : null;
    }
    if (st.size > MAX_HASHED_FILE_BYTES) return `large:${st.size}:${st.mtimeMs}`;
    const hash = createHash('sha256');
    await pipeline(createReadStream(entry.abs), hash);
    return `sha256:${hash.digest('hex')}`;
  } catch (err) {
    if (!isGone(err)) throw err;
    // A dangling link still has a target worth noticing; a vanished file simply drops out.
    if (entry.link) return readlink(entry.abs).then((t) => `link:${t}`, () => null);
    return null;
  }
}

/**
 * A content hash of the files of a plugin folder that matter: every regular file under it except
 * ignored ones (see isIgnored), hashed by relative path + content (sha256), sorted — so an mtime-only
 * touch or a re-save of the same bytes gives the same fingerprint. Empty folders do not count.
 * Rejects if `dir` itself cannot be read (e.g. ENOENT).
 */
export async function fingerprintPlugin(dir: string, ignore: IgnoreRules): Promise<string> {
  const root = path.resolve(dir);
  const entries = await collect(root, ignore);
  const total = createHash('sha256').update(FORMAT + '\n');
  // Sequential on purpose: one open file at a time, whatever the size of the tree.
  for (const entry of entries) {
    const digest = await digestOf(entry);
    if (digest !== null) total.update(`${entry.rel}\0${digest}\n`);
  }
  return total.digest('hex');
}
