import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { PermissionRequest } from '../policies/approval.js';

/** The permissions the operator approved with `warden plugin grant` (docs/manifest.md, "permissions and approval"). */
export interface PersistedGrant {
  request: PermissionRequest;
  /** The plugin version whose manifest asked for them. */
  version: string;
  /** ISO time of the grant. */
  at: string;
}

export interface PersistedPluginState {
  disabled: boolean;
  reason: string | null;
  /** ISO time of the latest setDisabled. */
  since: string | null;
  /** Absent in files written before grants existed; read as null. */
  grant: PersistedGrant | null;
}

export interface PersistedState {
  version: 1;
  plugins: Record<string, PersistedPluginState>;
}

const FILE_NAME = 'state.json';

/**
 * What survives a daemon restart: which plugins are disabled, and why (docs/control-api.md, "Plugin states"), and the
 * permissions the operator granted each (docs/manifest.md, "permissions and approval"). A plugin with neither has no entry.
 * Mutations update memory at once and then persist; writes are serialized and coalesced, so
 * the file always holds a complete, recent state and never a torn one.
 */
export class StateStore {
  private readonly dir: string;
  private state: PersistedState = emptyState();
  private warnings: string[] = [];
  private loaded: Promise<PersistedState> | null = null;

  /** Settles when the last scheduled write does (never rejects; used only for ordering). */
  private writeChain: Promise<void> = Promise.resolve();
  /** A write that is scheduled but has not yet taken its snapshot; later flushes join it. */
  private queued: Promise<void> | null = null;

  constructor(stateDir: string) {
    this.dir = stateDir;
  }

  get file(): string {
    return join(this.dir, FILE_NAME);
  }

  /**
   * Reads state.json. Missing → empty state. Bad content → empty state, the file moved aside to
   * state.json.corrupt-<timestamp> and a warning in loadWarnings(). Only I/O errors (e.g. EACCES) reject.
   */
  load(): Promise<PersistedState> {
    const p = this.writeChain.then(() => this.readFromDisk());
    this.loaded = p;
    // After an I/O error the next mutation tries to load again instead of failing forever.
    p.catch(() => {
      if (this.loaded === p) this.loaded = null;
    });
    return p;
  }

  loadWarnings(): string[] {
    return [...this.warnings];
  }

  get(name: string): PersistedPluginState | undefined {
    const entry = this.state.plugins[name];
    return entry === undefined ? undefined : cloneEntry(entry);
  }

  async setDisabled(name: string, reason: string): Promise<void> {
    await this.ensureLoaded();
    this.state.plugins[name] = { ...this.entry(name), disabled: true, reason, since: new Date().toISOString() };
    await this.flush();
  }

  /** Enables: the disabled flag goes, the grant stays. */
  async clearDisabled(name: string): Promise<void> {
    await this.ensureLoaded();
    const entry = this.state.plugins[name];
    if (entry === undefined || !entry.disabled) return this.writeChain;
    this.keepOrDrop(name, { ...entry, disabled: false, reason: null, since: null });
    await this.flush();
  }

  /** The permissions granted to a plugin, or null when none are. */
  getGrant(name: string): PersistedGrant | null {
    const grant = this.state.plugins[name]?.grant;
    return grant ? cloneGrant(grant) : null;
  }

  /** Records the operator's approval of `request`, as asked for by `version`; replaces any earlier grant. */
  async setGrant(name: string, request: PermissionRequest, version: string): Promise<void> {
    await this.ensureLoaded();
    const grant = cloneGrant({ request, version, at: new Date().toISOString() });
    this.state.plugins[name] = { ...this.entry(name), grant };
    await this.flush();
  }

  /** Withdraws the grant (`warden plugin revoke`); the disabled flag stays. */
  async clearGrant(name: string): Promise<void> {
    await this.ensureLoaded();
    const entry = this.state.plugins[name];
    if (!entry?.grant) return this.writeChain;
    this.keepOrDrop(name, { ...entry, grant: null });
    await this.flush();
  }

  /**
   * Writes are serialized (one at a time, last state wins) and atomic: temp file, fsync, rename
   * (write-file-atomic), then an fsync of the directory so the rename itself is durable.
   * Creates stateDir (recursive) if missing.
   */
  flush(): Promise<void> {
    if (this.queued !== null) return this.queued;
    const write = this.writeChain.then(() => {
      // From here on, later mutations need a write of their own.
      this.queued = null;
      return this.writeToDisk(JSON.stringify(this.state, null, 2) + '\n');
    });
    this.queued = write;
    this.writeChain = write.catch(() => undefined);
    return write;
  }

  /** The plugin's entry, or a blank one (enabled, no grant) to build on. */
  private entry(name: string): PersistedPluginState {
    return this.state.plugins[name] ?? { disabled: false, reason: null, since: null, grant: null };
  }

  /** Stores the entry, or removes it when it records nothing, so the file lists only plugins with a state. */
  private keepOrDrop(name: string, entry: PersistedPluginState): void {
    if (entry.disabled || entry.grant !== null) this.state.plugins[name] = entry;
    else delete this.state.plugins[name];
  }

  private ensureLoaded(): Promise<PersistedState> {
    return this.loaded ?? this.load();
  }

  private async writeToDisk(text: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    // Loaded at the first write, not at the daemon's start (most starts write nothing).
    const { default: writeFileAtomic } = await import('write-file-atomic');
    await writeFileAtomic(this.file, text, { fsync: true });
    await fsyncDir(this.dir);
  }

  private async readFromDisk(): Promise<PersistedState> {
    this.warnings = [];
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) {
        this.state = emptyState();
        return cloneState(this.state);
      }
      throw err;
    }

    const parsed = parseState(text);
    if (typeof parsed === 'string') {
      this.state = emptyState();
      const aside = `${this.file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      try {
        await rename(this.file, aside);
        this.warnings.push(`${this.file}: ${parsed}; moved to ${aside}, starting with an empty state`);
      } catch (err) {
        this.warnings.push(
          `${this.file}: ${parsed}; could not move it aside (${(err as Error).message}), starting with an empty state; it will be overwritten on the next write`,
        );
      }
      return cloneState(this.state);
    }

    this.state = parsed.state;
    for (const w of parsed.warnings) this.warnings.push(`${this.file}: ${w}`);
    return cloneState(this.state);
  }
}

/** The parsed state, or a string saying why the file as a whole is unusable. */
function parseState(text: string): { state: PersistedState; warnings: string[] } | string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return `not valid JSON (${(err as Error).message})`;
  }
  if (!isRecord(raw)) return 'not a JSON object';
  if (raw['version'] !== 1) return `unsupported version ${JSON.stringify(raw['version'])}`;
  const plugins = raw['plugins'];
  if (!isRecord(plugins)) return '"plugins" is not an object';

  // One malformed entry costs only that entry, not every plugin's record.
  const state = emptyState();
  const warnings: string[] = [];
  for (const [name, entry] of Object.entries(plugins)) {
    if (
      isRecord(entry) &&
      typeof entry['disabled'] === 'boolean' &&
      (entry['reason'] === null || typeof entry['reason'] === 'string') &&
      (entry['since'] === null || typeof entry['since'] === 'string')
    ) {
      // A malformed grant costs only the grant: the plugin waits for approval again, the disabled flag stays.
      const grant = entry['grant'] === undefined || entry['grant'] === null ? null : parseGrant(entry['grant']);
      if (grant === undefined) warnings.push(`ignored malformed grant for plugin "${name}"; it needs approving again`);
      const parsed = { disabled: entry['disabled'], reason: entry['reason'], since: entry['since'], grant: grant ?? null };
      if (parsed.disabled || parsed.grant !== null) state.plugins[name] = parsed;
    } else {
      warnings.push(`ignored malformed entry for plugin "${name}"`);
    }
  }
  return { state, warnings };
}

/** A well-formed grant, or undefined. */
function parseGrant(raw: unknown): PersistedGrant | undefined {
  if (!isRecord(raw) || typeof raw['version'] !== 'string' || typeof raw['at'] !== 'string') return undefined;
  const r = raw['request'];
  if (!isRecord(r) || typeof r['network'] !== 'boolean' || typeof r['childProcess'] !== 'boolean') return undefined;
  const fs = r['fs'];
  if (!isStringArray(r['env']) || !isRecord(fs) || !isStringArray(fs['read']) || !isStringArray(fs['write'])) return undefined;
  return {
    request: { network: r['network'], childProcess: r['childProcess'], env: r['env'], fs: { read: fs['read'], write: fs['write'] } },
    version: raw['version'],
    at: raw['at'],
  };
}

function emptyState(): PersistedState {
  // Null prototype: plugin names such as "__proto__" are plain keys.
  return { version: 1, plugins: Object.create(null) as Record<string, PersistedPluginState> };
}

function cloneState(s: PersistedState): PersistedState {
  const out = emptyState();
  for (const [k, v] of Object.entries(s.plugins)) out.plugins[k] = cloneEntry(v);
  return out;
}

/** A copy deep enough that callers cannot alter the store's memory through it. */
function cloneEntry(e: PersistedPluginState): PersistedPluginState {
  return { ...e, grant: e.grant ? cloneGrant(e.grant) : null };
}

/** The request's lists are copied too: a stored grant never shares an array with a caller. */
function cloneGrant(g: PersistedGrant): PersistedGrant {
  const r = g.request;
  return { ...g, request: { ...r, env: [...r.env], fs: { read: [...r.fs.read], write: [...r.fs.write] } } };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** For the lists of a grant read from disk. */
function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}

async function fsyncDir(dir: string): Promise<void> {
  let fd;
  try {
    fd = await open(dir, 'r');
    await fd.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the file itself was already fsynced.
  } finally {
    await fd?.close().catch(() => undefined);
  }
}
