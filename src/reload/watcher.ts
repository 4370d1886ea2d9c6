/**
 * Watches pluginsDir for hot reload (docs/manifest.md, "Hot reload"). Reports, per plugin folder (a direct
 * child of pluginsDir), one debounced decision: added, removed, or changed — the last only when the
 * content fingerprint really differs, so touches, identical re-saves and `git checkout`s to the same
 * bytes are silent. What to do about a report (blue/green, rollback) is the supervisor's business.
 *
 * A pluginsDir that does not exist (at start, or deleted later) is polled for every `rootPollMs`;
 * once it appears, every plugin folder in it is reported `added`. Deleting it reports each known
 * plugin `removed`. This mirrors discovery, where a missing pluginsDir is simply an empty list.
 *
 * A plugin is hostile: no symlink is followed (a plugin folder or a file in it linking to `/` must not
 * send the watcher through the whole filesystem), folders deeper than MAX_FOLDER_DEPTH below a plugin
 * folder are not watched (nor fingerprinted), and a plugin folder that is itself a symlink is watched
 * by its plugin.json and `main` file only.
 */
import type { FSWatcher } from 'chokidar';
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { MANIFEST_FILE, mayBePluginFolder } from '../manifest/discover.js';
import { KeyedDebouncer } from './debounce.js';
import { fingerprintPlugin, linkedFolderFiles, MAX_FOLDER_DEPTH, type ChangeStamp } from './fingerprint.js';
import { isIgnored, NO_RULES, type IgnoreRules } from './ignore.js';

export type PluginFolderChange =
  | { kind: 'added'; dir: string } // a folder directly under pluginsDir now holds a plugin.json
  | { kind: 'removed'; dir: string } // a plugin folder (or its plugin.json) is gone
  | { kind: 'changed'; dir: string; fingerprint: string }; // its content fingerprint changed

export interface PluginsWatcherOptions {
  pluginsDir: string;
  debounceMs: number;
  /** Ignore rules per plugin folder (runtime paths come from its manifest); called when needed. */
  rulesFor(dir: string): IgnoreRules;
  onChange(change: PluginFolderChange): void;
  onError?(error: Error): void;
  /** How often a missing pluginsDir is checked for (default 1000 ms). */
  rootPollMs?: number;
}

/**
 * What the daemon loaded before the watch began: the plugin folders it read, and when it began reading
 * them. start() then reports what changed since: a folder it did not load is `added`, one it loaded
 * that is gone `removed`, one with anything that counts changed since `sinceMs` `changed` — so the
 * daemon may start its plugins first and start the watcher beside them without missing a change.
 */
export interface LoadedBefore {
  dirs: Iterable<string>;
  sinceMs: number;
}

/**
 * How far before `sinceMs` a change still counts: ctime comes from the kernel's coarse clock, up to a
 * tick (1–10 ms) behind. An edit made this close before the daemon read the folder is reported too: one
 * needless blue/green reload, never a missed one. (Whole-second ctimes are handled by ChangeStamp.)
 */
export const CTIME_SLACK_MS = 50;

const isGone = (err: unknown) => ['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '');
const toError = (err: unknown) => (err instanceof Error ? err : new Error(String(err)));

async function isDir(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isDirectory(), () => false);
}
async function isFile(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isFile(), () => false);
}

/** How soon, at least, a folder just added is looked at once more (lookAgain). */
const LOOK_AGAIN_MS = 500;

export class PluginsWatcher {
  private readonly root: string;
  /** What chokidar watches: the real path of `root` (it does not follow a pluginsDir that is a symlink). */
  private watchedRoot: string;
  private fsw: FSWatcher | null = null;
  /** Symlinked plugin folders → the files of theirs that are watched one by one. */
  private readonly linkedFiles = new Map<string, string[]>();
  /** plugin folders we know of → last fingerprint (undefined: could not be computed) */
  private readonly known = new Map<string, string | undefined>();
  private readonly debouncer: KeyedDebouncer;
  private readonly rulesCache = new Map<string, IgnoreRules>();
  private pollTimer: NodeJS.Timeout | null = null;
  /** Follow-up looks at folders just added (lookAgain). */
  private readonly lookAgainTimers = new Set<NodeJS.Timeout>();
  private scanDone: Promise<void> = Promise.resolve();
  private started = false;
  private closed = false;

  constructor(private readonly options: PluginsWatcherOptions) {
    this.root = path.resolve(options.pluginsDir);
    this.watchedRoot = this.root;
    // Decisions wait for the initial fingerprints, so an early event cannot pass for an `added`.
    this.debouncer = new KeyedDebouncer(options.debounceMs, (dir) =>
      this.scanDone
        .then(() => this.decide(dir))
        .catch((err: unknown) =>
          this.reportError(new Error(`hot reload: cannot check ${dir}: ${toError(err).message}`, { cause: err })),
        ),
    );
  }

  /**
   * Starts watching; resolves once the initial scan is done, with the fingerprints of the plugin folders
   * recorded. Existing plugins are not reported as added (the daemon loads those itself); with `loaded`,
   * what changed since the daemon read them is reported (see LoadedBefore).
   */
  async start(loaded?: LoadedBefore): Promise<void> {
    if (this.started) throw new Error('PluginsWatcher.start() called twice');
    this.started = true;
    if (!(await isDir(this.root))) {
      // Whatever the daemon loaded is gone already: each is decided (removed), and the poll waits for the root.
      for (const dir of loaded?.dirs ?? []) {
        this.known.set(path.resolve(dir), undefined);
        this.debouncer.schedule(path.resolve(dir));
      }
      return this.pollForRoot();
    }
    let release!: () => void;
    this.scanDone = new Promise((resolve) => (release = resolve));
    const catchUp: string[] = [];
    try {
      await this.watchRoot();
      if (this.closed) return;
      const present = await this.pluginFolders();
      const before = loaded ? new Set([...loaded.dirs].map((dir) => path.resolve(dir))) : null;
      for (const dir of present) {
        await this.watchLinkedFolder(dir, true);
        const stamp: ChangeStamp = { newestCtimeMs: 0 };
        const fp = await fingerprintPlugin(dir, this.rules(dir), stamp).catch((err: unknown) => {
          this.reportError(new Error(`hot reload: cannot fingerprint ${dir}: ${toError(err).message}`, { cause: err }));
          return undefined;
        });
        if (this.known.has(dir)) continue; // a setFingerprint() meanwhile wins
        if (before && !before.has(dir)) {
          catchUp.push(dir); // not loaded: decided as added
        } else if (loaded && stamp.newestCtimeMs >= loaded.sinceMs - CTIME_SLACK_MS) {
          this.known.set(dir, undefined); // loaded, then changed: decided as changed
          catchUp.push(dir);
        } else {
          this.known.set(dir, fp);
        }
      }
      const found = new Set(present);
      for (const dir of before ?? []) {
        if (found.has(dir) || this.known.has(dir)) continue;
        this.known.set(dir, undefined); // loaded, then removed: decided as removed
        catchUp.push(dir);
      }
    } finally {
      release();
    }
    for (const dir of catchUp) this.debouncer.schedule(dir);
  }

  /**
   * Looks at every plugin folder again (`warden reload`), as if each had changed: the fingerprints decide.
   * A folder swapped by two renames (an update) can leave the file watcher on the old folder's inode, so
   * each folder is also watched afresh.
   */
  async rescan(): Promise<void> {
    if (this.closed) return;
    const dirs = new Set([...this.known.keys(), ...(await this.pluginFolders())]);
    const fsw = this.fsw;
    if (fsw) {
      const watched = [...dirs].map((dir) => this.toWatched(dir));
      fsw.unwatch(watched);
      fsw.add(watched);
    }
    for (const dir of dirs) this.debouncer.schedule(dir);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.lookAgainTimers) clearTimeout(timer);
    this.lookAgainTimers.clear();
    if (this.pollTimer) clearInterval(this.pollTimer);
    const fsw = this.fsw;
    this.fsw = null;
    await Promise.all([fsw?.close(), this.debouncer.close()]);
  }

  /** Tell the watcher a folder's current fingerprint (e.g. after the daemon loaded it) so the next event compares against it. */
  setFingerprint(dir: string, fingerprint: string): void {
    const abs = path.resolve(dir);
    this.known.set(abs, fingerprint);
    this.rulesCache.delete(abs); // the daemon may have read a new manifest with new write paths
  }

  /** Entries chokidar holds (folders and what is in them): bounded whatever pluginsDir links to. */
  watchedEntries(): number {
    let count = 0;
    for (const names of Object.values(this.fsw?.getWatched() ?? {})) count += names.length;
    return count;
  }

  private async watchRoot(): Promise<void> {
    this.watchedRoot = await realpath(this.root).catch(() => this.root);
    this.linkedFiles.clear();
    // Loaded here, not at the daemon's start: the watcher starts beside the first spawns.
    const { watch } = await import('chokidar');
    const fsw = watch(this.watchedRoot, {
      ignoreInitial: true,
      followSymlinks: false,
      // pluginsDir is depth 0 and a plugin folder depth 1: the same folders as the fingerprint walks.
      depth: MAX_FOLDER_DEPTH + 1,
      ignored: (p: string) => this.safeIgnored(this.fromWatched(p)),
    });
    this.fsw = fsw;
    fsw.on('all', (event, p) => {
      try {
        this.onEvent(event, this.fromWatched(p));
      } catch (err) {
        this.reportError(toError(err));
      }
    });
    fsw.on('error', (err: unknown) => this.reportError(toError(err)));
    await new Promise<void>((resolve) => fsw.once('ready', () => resolve()));
    // Closed during the scan: close() saw no watcher (or an older one), so this one is closed here.
    if (this.closed && this.fsw === fsw) {
      this.fsw = null;
      await fsw.close();
    }
  }

  /** A path chokidar reports, under the real pluginsDir, as the same path under pluginsDir as configured. */
  private fromWatched(p: string): string {
    if (this.watchedRoot === this.root) return p;
    const rel = path.relative(this.watchedRoot, path.resolve(p));
    return rel.startsWith('..') || path.isAbsolute(rel) ? p : path.join(this.root, rel);
  }

  /** The other way: a path under pluginsDir as configured, as chokidar knows it. */
  private toWatched(p: string): string {
    return path.join(this.watchedRoot, path.relative(this.root, p));
  }

  /**
   * chokidar does not go through a plugin folder that is a symlink: its plugin.json and `main` are
   * watched one by one instead (and only they count for its fingerprint). Kept in step with the manifest;
   * only files that exist, since chokidar would climb to a missing file's parents to wait for it.
   */
  private async watchLinkedFolder(dir: string, present: boolean): Promise<void> {
    const candidates = present ? ((await linkedFolderFiles(dir).catch(() => null)) ?? []) : [];
    const exists = await Promise.all(candidates.map(isFile));
    const files = candidates.filter((_, i) => exists[i]);
    const fsw = this.fsw;
    if (this.closed || !fsw) return;
    const before = this.linkedFiles.get(dir) ?? [];
    const gone = before.filter((f) => !files.includes(f));
    const added = files.filter((f) => !before.includes(f));
    if (gone.length > 0) fsw.unwatch(gone.map((f) => this.toWatched(f)));
    if (added.length > 0) fsw.add(added.map((f) => this.toWatched(f)));
    if (files.length > 0) this.linkedFiles.set(dir, files);
    else this.linkedFiles.delete(dir);
  }

  /** The plugin folder a path belongs to, and the path inside it ('' for the folder itself). */
  private locate(p: string): { dir: string; inner: string } | null {
    const rel = path.relative(this.root, path.resolve(p));
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return null;
    const [top, ...rest] = rel.split(path.sep);
    if (!top || !mayBePluginFolder(top)) return null;
    return { dir: path.join(this.root, top), inner: rest.join('/') };
  }

  private isIgnoredPath(p: string): boolean {
    const rel = path.relative(this.root, path.resolve(p));
    if (rel === '') return false;
    const where = this.locate(p);
    if (!where) return true;
    return isIgnored(where.inner, path.resolve(p), this.rules(where.dir));
  }

  /** chokidar's `ignored`: ignored folders are not even descended into (node_modules stays cheap). */
  private safeIgnored(p: string): boolean {
    try {
      return this.isIgnoredPath(p);
    } catch {
      return false;
    }
  }

  private onEvent(event: string, p: string): void {
    if (this.closed) return;
    if (path.resolve(p) === this.root) {
      if (event === 'unlinkDir') this.rootGone();
      return;
    }
    if (this.isIgnoredPath(p)) return;
    const where = this.locate(p);
    if (where) this.debouncer.schedule(where.dir);
  }

  private rootGone(): void {
    const fsw = this.fsw;
    this.fsw = null;
    fsw?.close().catch((err: unknown) => this.reportError(toError(err)));
    for (const dir of this.known.keys()) this.debouncer.schedule(dir); // each decides `removed`
    this.pollForRoot();
  }

  private pollForRoot(): void {
    if (this.closed || this.pollTimer) return;
    let busy = false;
    this.pollTimer = setInterval(() => {
      if (busy) return;
      busy = true;
      void (async () => {
        if (this.closed || !(await isDir(this.root)) || this.closed) return;
        clearInterval(this.pollTimer!);
        this.pollTimer = null;
        await this.watchRoot();
        if (this.closed) return void (await this.fsw?.close());
        // Nothing here was loaded by the daemon: decide every folder afresh (→ added / removed / changed).
        const dirs = new Set([...this.known.keys(), ...(await this.pluginFolders())]);
        for (const dir of dirs) this.debouncer.schedule(dir);
      })()
        .catch((err: unknown) => this.reportError(toError(err)))
        .finally(() => (busy = false));
    }, this.options.rootPollMs ?? 1000);
  }

  /** Direct children of pluginsDir that hold a plugin.json. */
  private async pluginFolders(): Promise<string[]> {
    const names = await readdir(this.root).catch((err: unknown) => {
      if (isGone(err)) return [] as string[];
      throw err;
    });
    const dirs = names.filter(mayBePluginFolder).map((n) => path.join(this.root, n));
    const flags = await Promise.all(dirs.map((d) => isFile(path.join(d, MANIFEST_FILE))));
    return dirs.filter((_, i) => flags[i]);
  }

  private async decide(dir: string): Promise<void> {
    this.rulesCache.delete(dir); // plugin.json may now declare other write paths
    const hasManifest = await isFile(path.join(dir, MANIFEST_FILE));
    if (this.closed) return;
    if (!hasManifest) {
      await this.watchLinkedFolder(dir, false);
      if (this.known.delete(dir)) this.emit({ kind: 'removed', dir });
      return;
    }
    await this.watchLinkedFolder(dir, true);
    if (this.closed) return;
    let fingerprint: string;
    try {
      fingerprint = await fingerprintPlugin(dir, this.rules(dir));
    } catch (err) {
      if (isGone(err)) return; // deleted meanwhile: its unlink events bring us back here
      throw err;
    }
    if (this.closed) return;
    if (!this.known.has(dir)) {
      this.known.set(dir, fingerprint);
      this.emit({ kind: 'added', dir });
      this.lookAgain(dir);
    } else if (this.known.get(dir) !== fingerprint) {
      this.known.set(dir, fingerprint);
      this.emit({ kind: 'changed', dir, fingerprint });
    }
  }

  /**
   * A folder just added is looked at once more a moment later: the file watcher starts watching inside a
   * new folder only after it reported it, so a write in between (a copy that finishes, an edit right after)
   * would otherwise be missed. The fingerprint decides whether anything changed.
   */
  private lookAgain(dir: string): void {
    const timer = setTimeout(() => {
      this.lookAgainTimers.delete(timer);
      if (this.closed) return;
      this.fsw?.add(this.toWatched(dir)); // and make sure its inside is watched from now on
      this.debouncer.schedule(dir);
    }, Math.max(LOOK_AGAIN_MS, 5 * this.options.debounceMs));
    timer.unref();
    this.lookAgainTimers.add(timer);
  }

  private rules(dir: string): IgnoreRules {
    let rules = this.rulesCache.get(dir);
    if (!rules) {
      try {
        rules = this.options.rulesFor(dir);
      } catch (err) {
        this.reportError(new Error(`hot reload: rulesFor(${dir}) failed: ${toError(err).message}`, { cause: err }));
        rules = NO_RULES;
      }
      this.rulesCache.set(dir, rules);
    }
    return rules;
  }

  private emit(change: PluginFolderChange): void {
    if (this.closed) return;
    try {
      this.options.onChange(change);
    } catch (err) {
      this.reportError(toError(err));
    }
  }

  private reportError(error: Error): void {
    if (this.closed) return;
    try {
      if (this.options.onError) this.options.onError(error);
      else process.emitWarning(error);
    } catch {
      // an onError that throws has nowhere left to go
    }
  }
}
