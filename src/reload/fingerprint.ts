/**
 * A content fingerprint of a plugin folder, so hot reload can tell a real edit from an mtime-only
 * touch, an identical re-save, or a `git checkout` that lands on the same bytes.
 */
import { createHash } from 'node:crypto';
import { createReadStream, type Dirent } from 'node:fs';
import { lstat, opendir, readlink, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { MANIFEST_FILE, readManifest } from '../manifest/discover.js';
import { isIgnored, isWithin, type IgnoreRules } from './ignore.js';

/**
 * Files above this size are not read: their size + mtime stand in for their content. Hashing a
 * multi-GB model or dataset on every save would stall reloads; the cost is that a touch of such
 * a file (same bytes, new mtime) counts as a change.
 */
export const MAX_HASHED_FILE_BYTES = 50 * 1024 * 1024;

/**
 * Folders nested deeper than this below a plugin folder are neither walked here nor watched for hot
 * reload: a plugin shipping a 50-deep tree (or a loop of bind mounts) costs a bounded walk.
 */
export const MAX_FOLDER_DEPTH = 8;

/** Directory entries looked at per fingerprint; the rest of a larger tree does not count. */
export const MAX_FINGERPRINT_ENTRIES = 10_000;

/** Bytes hashed per fingerprint; past them, files count by size + mtime like the large ones. */
export const MAX_FINGERPRINT_BYTES = 256 * 1024 * 1024;

const FORMAT = 'warden-fp-v1';

interface Entry {
  /** posix-style path relative to the plugin folder, so the fingerprint is the same on any OS */
  rel: string;
  abs: string;
  link: boolean;
}

/** What bounds one fingerprint: the folder's real path (links out of it are not followed) and the bytes left to hash. */
interface Budget {
  realRoot: string;
  bytesLeft: number;
}

/**
 * The newest status change (ctime) among what a fingerprint looked at: its folders (an entry created,
 * removed or renamed in them), its files and its links. The kernel sets ctime to now on every such
 * change and no program can set it back, so it tells whether anything that counts changed since a moment.
 */
export interface ChangeStamp {
  newestCtimeMs: number;
}

/**
 * Raises the stamp to `ctimeMs` when newer. A ctime on a whole second may come from a filesystem that
 * keeps whole seconds (ext3, small ext4 inodes, some network filesystems): it counts as that second's end.
 */
function note(stamp: ChangeStamp | undefined, ctimeMs: number): void {
  const latest = ctimeMs % 1000 === 0 ? ctimeMs + 999 : ctimeMs;
  if (stamp && latest > stamp.newestCtimeMs) stamp.newestCtimeMs = latest;
}

/** How much earlier than its folder's ctime an ignored entry's may be and still explain it (the coarse clock's tick). */
const EXPLAINS_WITHIN_MS = 10;

// Why: whether an ignored entry changed at (or after) its folder's last change, so that it accounts for it.
async function changedSince(abs: string, dirCtimeMs: number): Promise<boolean> {
  try {
    return (await lstat(abs)).ctimeMs >= dirCtimeMs - EXPLAINS_WITHIN_MS;
  } catch {
    return false;
  }
}

const isGone = (err: unknown) => {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
};
const byName = (a: Dirent, b: Dirent) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * The files under `root`, without following any symlink, at most MAX_FOLDER_DEPTH folders down and
 * MAX_FINGERPRINT_ENTRIES entries in all. Folders are read entry by entry (opendir), so a folder of a
 * million files is not listed whole either.
 */
async function collect(root: string, ignore: IgnoreRules, stamp?: ChangeStamp): Promise<Entry[]> {
  const out: Entry[] = [];
  let entriesLeft = MAX_FINGERPRINT_ENTRIES;
  const walk = async (dir: string, rel: string, depth: number): Promise<void> => {
    const children: Dirent[] = [];
    let dirCtimeMs = 0;
    try {
      if (stamp) dirCtimeMs = (await lstat(dir)).ctimeMs;
      // for await closes the directory, also when the budget stops it early.
      for await (const e of await opendir(dir)) {
        if (entriesLeft <= 0) break;
        entriesLeft--;
        children.push(e);
      }
    } catch (err) {
      // A subfolder deleted mid-walk: the watcher will see that and fingerprint again.
      if (rel !== '' && isGone(err)) return;
      throw err;
    }
    let explained = false;
    for (const e of children.sort(byName)) {
      const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
      const abs = path.join(dir, e.name);
      if (isIgnored(childRel, abs, ignore)) {
        if (stamp && !explained) explained = await changedSince(abs, dirCtimeMs);
        continue;
      }
      if (e.isDirectory()) {
        if (depth < MAX_FOLDER_DEPTH) await walk(abs, childRel, depth + 1);
      } else if (e.isFile()) out.push({ rel: childRel, abs, link: false });
      else if (e.isSymbolicLink()) out.push({ rel: childRel, abs, link: true });
      // sockets, FIFOs, devices: not plugin content
    }
    // A folder's ctime moves when an entry is made, removed or renamed in it. An ignored entry that changed
    // as late (an fs.write folder the daemon makes at launch, a file the plugin writes) explains it: only then
    // is the folder's own change left out, and a removal made in that same instant goes unseen.
    if (stamp && !explained) note(stamp, dirCtimeMs);
  };
  await walk(root, '', 0);
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

/**
 * A plugin folder that is itself a symlink could lead anywhere (`/`, a home folder): only its
 * plugin.json and its `main` file count, and only where they resolve inside the link's target.
 */
async function linkedFolderEntries(root: string): Promise<Entry[]> {
  const entries: Entry[] = [{ rel: MANIFEST_FILE, abs: path.join(root, MANIFEST_FILE), link: false }];
  const main = await manifestMain(path.join(root, MANIFEST_FILE));
  if (main !== null) {
    const rel = path.posix.normalize(main.split(path.sep).join('/'));
    if (rel !== MANIFEST_FILE) entries.push({ rel, abs: path.resolve(root, main), link: false });
  }
  return entries;
}

/** The manifest's `main`, read as discovery reads it (size-bounded); null when there is none to be had. */
async function manifestMain(file: string): Promise<string | null> {
  try {
    const read = await readManifest(file);
    if ('problem' in read) return null;
    const main = (JSON.parse(read.text.replace(/^\uFEFF/, '')) as { main?: unknown } | null)?.main;
    return typeof main === 'string' && main !== '' ? main : null;
  } catch {
    return null;
  }
}

/**
 * For a plugin folder that is a symlink, the files that count for it (absolute paths: its plugin.json
 * and `main`), which hot reload watches one by one instead of the tree behind the link; null for an
 * ordinary folder. Rejects if `dir` does not exist.
 */
export async function linkedFolderFiles(dir: string): Promise<string[] | null> {
  const root = path.resolve(dir);
  if (!(await lstat(root)).isSymbolicLink()) return null;
  return (await linkedFolderEntries(root)).map((e) => e.abs);
}

/**
 * For a plugin folder that is a symlink, the folder to check paths against and the entries that
 * count; for any other folder, its own real path and every file in it.
 */
async function entriesOf(root: string, ignore: IgnoreRules, stamp?: ChangeStamp): Promise<{ realRoot: string; entries: Entry[] }> {
  const rootStat = await lstat(root);
  const linked = rootStat.isSymbolicLink();
  if (linked) note(stamp, rootStat.ctimeMs); // the link itself replaced; a plain folder's own ctime is judged in collect
  const realRoot = await realpath(root);
  return { realRoot, entries: linked ? await linkedFolderEntries(root) : await collect(root, ignore, stamp) };
}

/**
 * One file's digest line part, or null if it vanished meanwhile. Streamed, so memory stays flat.
 * Whatever resolves outside the plugin folder (a link to /etc/passwd, to /dev/zero, to `/`) counts by
 * its link text only and is never read.
 */
async function digestOf(entry: Entry, budget: Budget, stamp?: ChangeStamp): Promise<string | null> {
  try {
    if (stamp && entry.link) note(stamp, (await lstat(entry.abs)).ctimeMs);
    const real = await realpath(entry.abs);
    if (!isWithin(real, budget.realRoot)) return entry.link ? `link:${await readlink(entry.abs)}` : null;
    const st = await stat(real);
    note(stamp, st.ctimeMs);
    if (!st.isFile()) {
      // A link to a folder is not descended (no loops); its target is what counts.
      return entry.link ? `link:${await readlink(entry.abs)}` : null;
    }
    if (st.size > MAX_HASHED_FILE_BYTES || st.size > budget.bytesLeft) return `large:${st.size}:${st.mtimeMs}`;
    budget.bytesLeft -= st.size;
    const hash = createHash('sha256');
    await pipeline(createReadStream(real), hash);
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
 * Bounded work whatever the folder holds: no symlink is followed out of it, and the walk stops at
 * MAX_FOLDER_DEPTH, MAX_FINGERPRINT_ENTRIES and MAX_FINGERPRINT_BYTES. A plugin folder that is itself
 * a symlink counts by its plugin.json and `main` only.
 * With `stamp`, also the newest ctime of what it looked at (see ChangeStamp).
 * Rejects if `dir` itself cannot be read (e.g. ENOENT).
 */
export async function fingerprintPlugin(dir: string, ignore: IgnoreRules, stamp?: ChangeStamp): Promise<string> {
  const root = path.resolve(dir);
  const { realRoot, entries } = await entriesOf(root, ignore, stamp);
  const budget: Budget = { realRoot, bytesLeft: MAX_FINGERPRINT_BYTES };
  const total = createHash('sha256').update(FORMAT + '\n');
  // Sequential on purpose: one open file at a time, whatever the size of the tree.
  for (const entry of entries) {
    const digest = await digestOf(entry, budget, stamp);
    if (digest !== null) total.update(`${entry.rel}\0${digest}\n`);
  }
  return total.digest('hex');
}
