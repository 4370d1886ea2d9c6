import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';

export interface PersistedPluginState {
  disabled: boolean;
  reason: string | null;
  /** ISO time of the latest setDisabled. */
  since: string | null;
}

export interface PersistedState {
  version: 1;
  plugins: Record<string, PersistedPluginState>;
}

const FILE_NAME = 'state.json';

/**
 * What survives a daemon restart: which plugins are disabled, and why (contract §5).
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
    return entry === undefined ? undefined : { ...entry };
  }

  async setDisabled(name: string, reason: string): Promise<void> {
    await this.ensureLoaded();
    this.state.plugins[name] = { disabled: true, reason, since: new Date().toISOString() };
    await this.flush();
  }

  async clearDisabled(name: string): Promise<void> {
    await this.ensureLoaded();
    // The file only records disabled plugins, so an enabled plugin has no entry.
    if (!Object.hasOwn(this.state.plugins, name)) return this.writeChain;
    delete this.state.plugins[name];
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

  private ensureLoaded(): Promise<PersistedState> {
    return this.loaded ?? this.load();
  }

  private async writeToDisk(text: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
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
      state.plugins[name] = { disabled: entry['disabled'], reason: entry['reason'], since: entry['since'] };
    } else {
      warnings.push(`ignored malformed entry for plugin "${name}"`);
    }
  }
  return { state, warnings };
}

function emptyState(): PersistedState {
  // Null prototype: plugin names such as "__proto__" are plain keys.
  return { version: 1, plugins: Object.create(null) as Record<string, PersistedPluginState> };
}

function cloneState(s: PersistedState): PersistedState {
  const out = emptyState();
  for (const [k, v] of Object.entries(s.plugins)) out.plugins[k] = { ...v };
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
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
