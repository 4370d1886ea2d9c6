import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fingerprintPlugin, type ChangeStamp } from '../../src/reload/fingerprint.js';
import { CTIME_SLACK_MS } from '../../src/reload/watcher.js';
import { waitFor } from '../helpers/wait.js';
import { Harness } from './harness.js';

let h: Harness;
beforeEach(() => {
  h = new Harness();
});
afterEach(async () => {
  await h.cleanup();
});

/** The newest ctime under the plugin folders so far: the moment "the daemon read them", just after. */
async function newestCtime(...names: string[]): Promise<number> {
  let newest = 0;
  for (const name of names) {
    const stamp: ChangeStamp = { newestCtimeMs: 0 };
    await fingerprintPlugin(join(h.pluginsDir, name), { runtimePaths: [] }, stamp);
    newest = Math.max(newest, stamp.newestCtimeMs);
  }
  return newest;
}

/** Waits (on the filesystem's own clock, with a deadline) until a new write gets a ctime after `ms`. */
async function clockPast(ms: number): Promise<void> {
  const probe = join(h.dir, 'clock-probe');
  await waitFor('the ctime clock to move on', () => {
    writeFileSync(probe, String(Math.random()));
    return statSync(probe).ctimeMs > ms;
  }, { intervalMs: 2 });
}

describe('PluginsWatcher started after the daemon loaded its plugins', () => {
  it('reports what changed between the load and the end of its scan: added, changed, removed; not the rest', async () => {
    h.plugin('barrier');
    h.plugin('same', { 'index.js': 'v1' });
    h.plugin('edited', { 'index.js': 'v1' });
    h.plugin('nested', { 'lib/deep/a.js': 'v1' });
    h.plugin('shrunk', { 'index.js': 'v1', 'extra.js': 'x' });
    h.plugin('gone', { 'index.js': 'v1' });
    const names = ['barrier', 'same', 'edited', 'nested', 'shrunk', 'gone'];
    const loadedAt = await newestCtime(...names);
    await clockPast(loadedAt);
    // Between the daemon's read and the watcher's scan:
    h.write('edited', 'index.js', 'v2');
    h.write('nested', 'lib/deep/a.js', 'v2');
    rmSync(join(h.pluginsDir, 'shrunk', 'extra.js'));
    rmSync(join(h.pluginsDir, 'gone'), { recursive: true });
    h.plugin('fresh', { 'index.js': 'v1' });
    const r = await h.watch(undefined, 50, {
      dirs: names.map((name) => join(h.pluginsDir, name)),
      // Just after the newest ctime of what was read, as the daemon's clock would have it.
      sinceMs: loadedAt + 0.001 + CTIME_SLACK_MS,
    });
    await r.next('the catch-up', 5);
    await h.barrier(r);
    expect(r.summary().sort()).toEqual(['added fresh', 'changed edited', 'changed nested', 'changed shrunk', 'removed gone']);
    expect(r.errors).toEqual([]);
    // Later edits are reported as usual, against the catch-up's fingerprints.
    h.write('same', 'index.js', 'v3');
    await r.next('a later change', 6);
    expect(r.of('same').map((c) => c.kind)).toEqual(['changed']);
  });

  it('does not count a runtime folder made after the load (an fs.write folder the daemon makes at launch)', async () => {
    h.plugin('barrier');
    h.plugin('writer', { 'index.js': 'v1' });
    const loadedAt = await newestCtime('barrier', 'writer');
    await clockPast(loadedAt);
    const out = join(h.pluginsDir, 'writer', 'out');
    mkdirSync(out);
    writeFileSync(join(out, 'data.txt'), 'written while it runs');
    const r = await h.watch((dir) => ({ runtimePaths: dir.endsWith('writer') ? [out] : [] }), 50, {
      dirs: ['barrier', 'writer'].map((name) => join(h.pluginsDir, name)),
      sinceMs: loadedAt + 0.001 + CTIME_SLACK_MS,
    });
    await h.barrier(r);
    expect(r.summary()).toEqual([]);
    // An edit beside it still counts.
    h.write('writer', 'index.js', 'v2');
    await r.next('a later change', 1);
    expect(r.summary()).toEqual(['changed writer']);
  });

  it('counts an edit made within the slack before the load (one needless reload, never a missed one)', async () => {
    h.plugin('barrier');
    const barrierAt = await newestCtime('barrier');
    await clockPast(barrierAt + CTIME_SLACK_MS);
    h.plugin('recent', { 'index.js': 'v1' });
    const loadedAt = await newestCtime('barrier', 'recent');
    // Loaded just after the edit, within the slack.
    const r = await h.watch(undefined, 50, { dirs: ['barrier', 'recent'].map((name) => join(h.pluginsDir, name)), sinceMs: loadedAt + CTIME_SLACK_MS - 1 });
    await r.next('the catch-up', 1);
    expect(r.summary()).toEqual(['changed recent']);
  });

  it('reports every loaded plugin removed when pluginsDir is gone before the scan, and adds them back when it returns', async () => {
    h.plugin('a', { 'index.js': 'v1' });
    const dirs = [join(h.pluginsDir, 'a')];
    rmSync(h.pluginsDir, { recursive: true });
    const r = await h.watch(undefined, 50, { dirs, sinceMs: Date.now() });
    expect(await r.next('removed')).toEqual(['removed a']);
    mkdirSync(h.pluginsDir);
    h.plugin('a', { 'index.js': 'v2' });
    expect(await r.next('added', 2)).toEqual(['removed a', 'added a']);
  });
});
