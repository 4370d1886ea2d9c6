import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IgnoreRules } from '../../src/reload/ignore.js';
import { PluginsWatcher, type LoadedBefore, type PluginFolderChange } from '../../src/reload/watcher.js';
import { waitFor } from '../helpers/wait.js';

export const DEBOUNCE_MS = 60;

/** A real temp pluginsDir, plugin folders in it, and watchers that record what they report. */
export class Harness {
  readonly dir = mkdtempSync(join(tmpdir(), 'warden-reload-'));
  readonly pluginsDir = join(this.dir, 'plugins');
  private readonly watchers: PluginsWatcher[] = [];
  private barrierCount = 0;

  constructor(createPluginsDir = true) {
    if (createPluginsDir) mkdirSync(this.pluginsDir);
  }

  plugin(name: string, files: Record<string, string> = {}, withManifest = true): string {
    const dir = join(this.pluginsDir, name);
    mkdirSync(dir, { recursive: true });
    if (withManifest) writeFileSync(join(dir, 'plugin.json'), JSON.stringify({ name, version: '1.0.0', main: 'index.js' }));
    for (const [file, content] of Object.entries(files)) this.write(name, file, content);
    return dir;
  }

  write(name: string, file: string, content: string): string {
    const path = join(this.pluginsDir, name, file);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, content);
    return path;
  }

  async watch(rulesFor: (dir: string) => IgnoreRules = () => ({ runtimePaths: [] }), rootPollMs = 50, loaded?: LoadedBefore): Promise<Recorder> {
    const recorder = new Recorder();
    const watcher = new PluginsWatcher({
      pluginsDir: this.pluginsDir,
      debounceMs: DEBOUNCE_MS,
      rootPollMs,
      rulesFor,
      onChange: (c) => recorder.changes.push(c),
      onError: (e) => recorder.errors.push(e),
    });
    recorder.watcher = watcher;
    this.watchers.push(watcher);
    await watcher.start(loaded);
    return recorder;
  }

  /**
   * Proves a quiet spell without sleeping: two real edits, one after the other, in a folder of its own
   * (`barrier`, which must be watched). Anything the watcher was going to report from earlier events
   * has been decided by the time the second one is reported.
   */
  async barrier(recorder: Recorder): Promise<void> {
    for (let i = 0; i < 2; i++) {
      const before = recorder.of('barrier').length;
      this.write('barrier', 'tick.txt', `tick ${++this.barrierCount}`);
      await waitFor('barrier change', () => recorder.of('barrier').length > before, { timeoutMs: 5000 });
    }
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.watchers.map((w) => w.close()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class Recorder {
  watcher!: PluginsWatcher;
  readonly changes: PluginFolderChange[] = [];
  readonly errors: Error[] = [];

  /** Reports about one plugin folder (by folder name). */
  of(name: string): PluginFolderChange[] {
    return this.changes.filter((c) => c.dir.endsWith(`/${name}`));
  }

  /** Reports other than the barrier's, as `kind name` strings. */
  summary(): string[] {
    return this.changes.filter((c) => !c.dir.endsWith('/barrier')).map((c) => `${c.kind} ${c.dir.split('/').pop()}`);
  }

  async next(what: string, count = 1): Promise<string[]> {
    await waitFor(what, () => this.summary().length >= count, { timeoutMs: 5000 });
    return this.summary();
  }
}
