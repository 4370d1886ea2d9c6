/**
 * The tools each MCP plugin served at its last run, kept in `stateDir/mcp-tools/NAME.json` so that a lazy
 * MCP server asleep (even since before the daemon's restart) is still listed by `rpc.discover` and
 * `warden mcp`, and a call's params are checked before it is woken (docs/manifest.md, "protocol: mcp").
 * A memory holds for the plugin version that served it. Reads happen once at start; writes are
 * atomic, one at a time per plugin, and never fail a caller: a write that fails is logged.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { McpTool } from '../protocol/index.js';

/** What is remembered of one plugin. */
export interface RememberedTools {
  /** The plugin version that listed them. */
  version: string;
  tools: McpTool[];
  /** ISO time they were listed. */
  at: string;
}

/** The folder under stateDir. */
export const TOOL_MEMORY_DIR = 'mcp-tools';
/** A tool list bigger than this (as JSON) is kept in memory only: a hostile server cannot fill the state dir. */
export const MAX_REMEMBERED_BYTES = 4 * 1024 * 1024;

/** The part of the memory a plugin uses. */
export interface ToolRecall {
  get(name: string): RememberedTools | undefined;
  remember(name: string, version: string, tools: readonly McpTool[]): void;
}

export class ToolMemory implements ToolRecall {
  private readonly entries = new Map<string, RememberedTools>();
  private readonly writes = new Map<string, Promise<void>>();
  /** The list each entry was last remembered from: handed the same list again (every start and stop), nothing is compared. */
  private readonly sources = new Map<string, readonly McpTool[]>();

  /** `stateDir` null: nothing persists (a daemon without a state dir, and tests). */
  constructor(
    private readonly stateDir: string | null,
    private readonly onWriteError: (message: string) => void = () => undefined,
  ) {}

  private get dir(): string | null {
    return this.stateDir === null ? null : join(this.stateDir, TOOL_MEMORY_DIR);
  }

  /** Reads every remembered list; returns a warning for each file it could not use (and removes that file). */
  async load(): Promise<string[]> {
    const dir = this.dir;
    if (dir === null) return [];
    let files: string[];
    try {
      files = await readdir(dir);
    } catch {
      return []; // none yet
    }
    const warnings: string[] = [];
    for (const file of files.filter((f) => f.endsWith('.json'))) {
      const path = join(dir, file);
      const parsed = parseEntry(await readFile(path, 'utf8').catch(() => ''));
      if (parsed) this.entries.set(file.slice(0, -'.json'.length), parsed);
      else {
        warnings.push(`${path}: not a remembered tool list; removed (the plugin's next run lists its tools again)`);
        await rm(path, { force: true });
      }
    }
    return warnings;
  }

  get(name: string): RememberedTools | undefined {
    return this.entries.get(name);
  }

  /** Remembers what a running instance listed; written to disk only when it differs from what was remembered. */
  remember(name: string, version: string, tools: readonly McpTool[]): void {
    const known = this.entries.get(name);
    const same = known?.version === version && (this.sources.get(name) === tools || JSON.stringify(known.tools) === JSON.stringify(tools));
    this.sources.set(name, tools);
    if (same) return;
    const entry: RememberedTools = { version, tools: [...tools], at: new Date().toISOString() };
    this.entries.set(name, entry);
    const dir = this.dir;
    if (dir === null) return;
    const text = `${JSON.stringify(entry)}\n`;
    if (Buffer.byteLength(text) > MAX_REMEMBERED_BYTES) {
      this.onWriteError(`${name}'s tool list is over ${MAX_REMEMBERED_BYTES} bytes: remembered until the daemon stops, not written to disk`);
      return;
    }
    const previous = this.writes.get(name) ?? Promise.resolve();
    const write = previous
      .then(async () => {
        await mkdir(dir, { recursive: true });
        const { default: writeFileAtomic } = await import('write-file-atomic');
        await writeFileAtomic(join(dir, `${name}.json`), text);
      })
      .catch((error: Error) => this.onWriteError(`could not remember ${name}'s tools: ${error.message}`))
      .finally(() => {
        if (this.writes.get(name) === write) this.writes.delete(name);
      });
    this.writes.set(name, write);
  }

  /** Settles once every write begun so far has (the daemon's shutdown waits for it). */
  async flush(): Promise<void> {
    await Promise.all([...this.writes.values()]);
  }
}

// Why: the file is the daemon's own, but a torn or hand-edited one must not put garbage in rpc.discover.
function parseEntry(text: string): RememberedTools | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null) return null;
  const { version, tools, at } = raw as Record<string, unknown>;
  if (typeof version !== 'string' || typeof at !== 'string' || !Array.isArray(tools)) return null;
  const valid = tools.every((t) => typeof t === 'object' && t !== null && typeof (t as McpTool).name === 'string');
  return valid ? { version, tools: tools as McpTool[], at } : null;
}
