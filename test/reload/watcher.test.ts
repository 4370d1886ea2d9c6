import { mkdirSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fingerprintPlugin, MAX_FOLDER_DEPTH } from '../../src/reload/fingerprint.js';
import { DEBOUNCE_MS, Harness } from './harness.js';

let h: Harness;
beforeEach(() => {
  h = new Harness();
});
afterEach(async () => {
  await h.cleanup();
});

describe('PluginsWatcher', () => {
  it('does not report existing plugins, and records their fingerprints', async () => {
    h.plugin('barrier');
    h.plugin('old', { 'index.js': 'v1' });
    const r = await h.watch();
    utimesSync(join(h.pluginsDir, 'old/index.js'), new Date(), new Date(Date.now() + 5000));
    await h.barrier(r);
    expect(r.summary()).toEqual([]);
    expect(r.errors).toEqual([]);
  });

  it('a new folder with plugin.json → one added', async () => {
    h.plugin('barrier');
    const r = await h.watch();
    h.plugin('fresh', { 'index.js': 'code', 'lib/util.js': 'more' });
    expect(await r.next('added')).toEqual(['added fresh']);
    await h.barrier(r);
    expect(r.summary()).toEqual(['added fresh']);
    expect(r.of('fresh')[0]!.dir).toBe(join(h.pluginsDir, 'fresh'));
  });

  it('a folder without plugin.json is nothing until plugin.json arrives', async () => {
    h.plugin('barrier');
    const r = await h.watch();
    h.plugin('later', { 'index.js': 'code' }, false);
    await h.barrier(r);
    expect(r.summary()).toEqual([]);
    writeFileSync(join(h.pluginsDir, 'later/plugin.json'), '{"name":"later"}');
    expect(await r.next('added')).toEqual(['added later']);
  });

  it('removing a folder, or only its plugin.json → removed', async () => {
    h.plugin('barrier');
    h.plugin('a', { 'index.js': 'a' });
    h.plugin('b', { 'index.js': 'b' });
    const r = await h.watch();
    rmSync(join(h.pluginsDir, 'a'), { recursive: true });
    expect(await r.next('removed a')).toEqual(['removed a']);
    rmSync(join(h.pluginsDir, 'b/plugin.json'));
    expect(await r.next('removed b', 2)).toEqual(['removed a', 'removed b']);
    await h.barrier(r);
    expect(r.summary()).toEqual(['removed a', 'removed b']);
  });

  it('renaming a folder → removed + added', async () => {
    h.plugin('barrier');
    h.plugin('before', { 'index.js': 'x' });
    const r = await h.watch();
    renameSync(join(h.pluginsDir, 'before'), join(h.pluginsDir, 'after'));
    await r.next('both reports', 2);
    await h.barrier(r);
    expect(r.summary().sort()).toEqual(['added after', 'removed before']);
  });

  it('editing a file → one changed with the new fingerprint', async () => {
    h.plugin('p', { 'index.js': 'v1' });
    const r = await h.watch();
    h.write('p', 'index.js', 'v2');
    await r.next('changed');
    const change = r.changes[0]!;
    expect(change.kind).toBe('changed');
    const now = await fingerprintPlugin(join(h.pluginsDir, 'p'), { runtimePaths: [] });
    expect(change.kind === 'changed' && change.fingerprint).toBe(now);
  });

  it('a change in a nested subfolder → changed', async () => {
    h.plugin('barrier');
    h.plugin('p', { 'src/deep/er/mod.js': 'v1' });
    const r = await h.watch();
    h.write('p', 'src/deep/er/mod.js', 'v2');
    expect(await r.next('changed')).toEqual(['changed p']);
    h.write('p', 'src/deep/new-folder/new.js', 'new');
    expect(await r.next('changed again', 2)).toEqual(['changed p', 'changed p']);
  });

  it('a burst of 20 writes in 30 ms → exactly one changed', async () => {
    h.plugin('barrier');
    h.plugin('p', { 'index.js': 'v0' });
    const r = await h.watch();
    const started = Date.now();
    for (let i = 1; i <= 20; i++) {
      h.write('p', i % 2 ? 'index.js' : `lib/f${i}.js`, `v${i}`);
      await new Promise((resolve) => setTimeout(resolve, 1)); // spread the burst over ~30 ms
    }
    expect(Date.now() - started).toBeLessThan(DEBOUNCE_MS * 3); // a burst, not a trickle
    await r.next('changed');
    await h.barrier(r);
    expect(r.summary()).toEqual(['changed p']);
  });

  it('an editor save dance (write temp, rename over, swap file) → one changed', async () => {
    h.plugin('barrier');
    h.plugin('p', { 'index.js': 'v1' });
    const r = await h.watch();
    h.write('p', '.index.js.swp', 'swap');
    h.write('p', '4913', '');
    rmSync(join(h.pluginsDir, 'p/4913'));
    h.write('p', 'index.js.tmp', 'v2');
    renameSync(join(h.pluginsDir, 'p/index.js.tmp'), join(h.pluginsDir, 'p/index.js'));
    h.write('p', 'index.js~', 'v1');
    rmSync(join(h.pluginsDir, 'p/.index.js.swp'));
    await r.next('changed');
    await h.barrier(r);
    expect(r.summary()).toEqual(['changed p']);
  });

  it('a touch (utimes only) or rewriting identical bytes → nothing', async () => {
    h.plugin('barrier');
    h.plugin('p', { 'index.js': 'same' });
    const r = await h.watch();
    utimesSync(join(h.pluginsDir, 'p/index.js'), new Date(), new Date(Date.now() + 60_000));
    await h.barrier(r);
    h.write('p', 'index.js', 'same');
    writeFileSync(join(h.pluginsDir, 'p/plugin.json'), JSON.stringify({ name: 'p', version: '1.0.0', main: 'index.js' }));
    await h.barrier(r);
    expect(r.summary()).toEqual([]);
    h.write('p', 'index.js', 'different');
    expect(await r.next('changed')).toEqual(['changed p']);
  });

  it('ignores node_modules, .git, dotfiles, swap files and declared runtime paths', async () => {
    h.plugin('barrier');
    const dir = h.plugin('p', { 'index.js': 'v1', 'src/keep.js': 'k' }); // src/ exists: only ignored paths appear
    const r = await h.watch((d) => ({ runtimePaths: d === dir ? [join(dir, 'out'), join(dir, 'p.log')] : [] }));
    h.write('p', 'node_modules/dep/index.js', 'x');
    h.write('p', '.git/HEAD', 'ref: refs/heads/main');
    h.write('p', '.env', 'A=1');
    h.write('p', 'src/.cache/x', '1');
    h.write('p', 'index.js.swp', 'swap');
    h.write('p', 'out/result.txt', 'output');
    h.write('p', 'p.log', 'a log line');
    await h.barrier(r);
    expect(r.summary()).toEqual([]);
    h.write('p', 'index.js', 'v2');
    expect(await r.next('changed')).toEqual(['changed p']);
  });

  it('compares against setFingerprint()', async () => {
    h.plugin('p', { 'index.js': 'v1' });
    const r = await h.watch();
    r.watcher.setFingerprint(join(h.pluginsDir, 'p'), 'what the daemon loaded');
    utimesSync(join(h.pluginsDir, 'p/index.js'), new Date(), new Date(Date.now() + 5000));
    expect(await r.next('changed')).toEqual(['changed p']);
  });

  it('close() stops reports', async () => {
    h.plugin('barrier');
    h.plugin('p', { 'index.js': 'v1' });
    const closed = await h.watch();
    const witness = await h.watch();
    await closed.watcher.close();
    h.write('p', 'index.js', 'v2');
    h.plugin('newcomer');
    await witness.next('witness sees both', 2);
    await h.barrier(witness);
    expect(closed.changes).toEqual([]);
  });

  it('a pluginsDir that appears later: its plugins are added; deleting it removes them', async () => {
    rmSync(h.pluginsDir, { recursive: true });
    const r = await h.watch();
    mkdirSync(h.pluginsDir);
    h.plugin('first', { 'index.js': 'x' });
    expect(await r.next('added first')).toEqual(['added first']);
    rmSync(h.pluginsDir, { recursive: true });
    expect(await r.next('removed first', 2)).toEqual(['added first', 'removed first']);
    mkdirSync(h.pluginsDir);
    h.plugin('second');
    expect(await r.next('added second', 3)).toEqual(['added first', 'removed first', 'added second']);
    expect(r.errors).toEqual([]);
  });
});

describe('PluginsWatcher in a hostile pluginsDir', () => {
  /** `deep/d0/d1/…/d{levels-1}`: the folder at `level` below the plugin folder. */
  const nested = (dir: string, level: number) => join(dir, ...Array.from({ length: level }, (_, i) => `d${i}`));

  it('follows no symlink out of pluginsDir and stops at the depth limit: bounded start, changes still reported', async () => {
    h.plugin('barrier');
    h.plugin('p', { 'index.js': 'v1' });
    symlinkSync('/', join(h.pluginsDir, 'evil'));
    symlinkSync('/', join(h.pluginsDir, 'p', 'escape'));
    const deep = h.plugin('deep', { 'index.js': 'd' });
    mkdirSync(nested(deep, 50), { recursive: true });
    const rssBefore = process.memoryUsage().rss;
    const started = Date.now();
    const r = await h.watch();
    expect(Date.now() - started).toBeLessThan(2000);
    // pluginsDir's own entries, the plugin files, and MAX_FOLDER_DEPTH + 1 levels of `deep`: tens, not millions.
    expect(r.watcher.watchedEntries()).toBeLessThan(30); // 20 here; 61 without the depth limit
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(100 * 1024 * 1024);

    h.write('p', 'index.js', 'v2');
    expect(await r.next('changed p')).toEqual(['changed p']);
    // The deepest folder watched is also the deepest fingerprinted: a change there counts, one below it does not.
    writeFileSync(join(nested(deep, MAX_FOLDER_DEPTH), 'edge.txt'), 'seen');
    expect(await r.next('changed deep', 2)).toEqual(['changed p', 'changed deep']);
    writeFileSync(join(nested(deep, MAX_FOLDER_DEPTH + 1), 'below.txt'), 'unseen');
    writeFileSync(join(nested(deep, 50), 'bottom.txt'), 'unseen');
    await h.barrier(r);
    expect(r.summary()).toEqual(['changed p', 'changed deep']);
    expect(r.errors).toEqual([]);
  });

  it('a plugin folder that is a symlink: only its plugin.json and main are watched and count', async () => {
    h.plugin('barrier');
    const outside = join(h.dir, 'outside');
    mkdirSync(join(outside, 'lib'), { recursive: true });
    const manifest = (main: string) => JSON.stringify({ name: 'linked', version: '1.0.0', main });
    writeFileSync(join(outside, 'plugin.json'), manifest('index.js'));
    writeFileSync(join(outside, 'index.js'), 'v1');
    writeFileSync(join(outside, 'lib/x.js'), 'x1');
    symlinkSync('/', join(outside, 'root'));
    symlinkSync(outside, join(h.pluginsDir, 'linked'));
    const r = await h.watch();
    expect(r.watcher.watchedEntries()).toBeLessThan(20);

    writeFileSync(join(outside, 'index.js'), 'v2');
    expect(await r.next('changed linked')).toEqual(['changed linked']);
    writeFileSync(join(outside, 'lib/x.js'), 'x2'); // behind the link: neither watched nor counted
    await h.barrier(r);
    expect(r.summary()).toEqual(['changed linked']);

    writeFileSync(join(outside, 'lib/main2.js'), 'm1');
    writeFileSync(join(outside, 'plugin.json'), manifest('lib/main2.js'));
    expect(await r.next('new main', 2)).toEqual(['changed linked', 'changed linked']);
    writeFileSync(join(outside, 'lib/main2.js'), 'm2'); // the watch followed the manifest to the new main
    expect(await r.next('new main edited', 3)).toHaveLength(3);

    rmSync(join(h.pluginsDir, 'linked'));
    expect(await r.next('removed', 4)).toEqual(['changed linked', 'changed linked', 'changed linked', 'removed linked']);
    expect(r.errors).toEqual([]);
  });

  it('a pluginsDir that is itself a symlink is still watched, and reports paths under it', async () => {
    const s = new Harness(false);
    try {
      mkdirSync(join(s.dir, 'real'));
      symlinkSync(join(s.dir, 'real'), s.pluginsDir);
      s.plugin('barrier');
      s.plugin('p', { 'index.js': 'v1' });
      const r = await s.watch();
      s.write('p', 'index.js', 'v2');
      expect(await r.next('changed')).toEqual(['changed p']);
      expect(r.changes[0]!.dir).toBe(join(s.pluginsDir, 'p'));
      s.plugin('fresh');
      expect(await r.next('added', 2)).toEqual(['changed p', 'added fresh']);
      await s.barrier(r);
      expect(r.errors).toEqual([]);
    } finally {
      await s.cleanup();
    }
  });
});

