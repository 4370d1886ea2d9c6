import { closeSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fingerprintPlugin, MAX_FINGERPRINT_ENTRIES, MAX_FOLDER_DEPTH } from '../../src/reload/fingerprint.js';
import { isIgnored, type IgnoreRules } from '../../src/reload/ignore.js';

let dir: string;
const none: IgnoreRules = { runtimePaths: [] };
const put = (file: string, content: string) => {
  mkdirSync(join(dir, file, '..'), { recursive: true });
  writeFileSync(join(dir, file), content);
};
const fp = (rules: IgnoreRules = none) => fingerprintPlugin(dir, rules);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'warden-fp-'));
  put('plugin.json', '{"name":"p"}');
  put('index.js', 'v1');
  put('lib/a/b.js', 'deep');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('fingerprintPlugin', () => {
  it('is stable across calls and changes with content', async () => {
    const first = await fp();
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(await fp()).toBe(first);
    put('index.js', 'v2');
    const second = await fp();
    expect(second).not.toBe(first);
    put('index.js', 'v1');
    expect(await fp()).toBe(first); // back to the same bytes, back to the same fingerprint
  });

  it('ignores mtime and identical re-saves', async () => {
    const before = await fp();
    utimesSync(join(dir, 'index.js'), new Date(0), new Date(0));
    put('lib/a/b.js', 'deep');
    expect(await fp()).toBe(before);
  });

  it('sees nested changes, new files, renames and deletions; not empty folders', async () => {
    const seen = new Set([await fp()]);
    put('lib/a/b.js', 'deeper');
    const edited = await fp();
    seen.add(edited);
    put('lib/new.js', '');
    seen.add(await fp());
    renameSync(join(dir, 'lib/new.js'), join(dir, 'lib/renamed.js'));
    seen.add(await fp());
    expect(seen.size).toBe(4);
    rmSync(join(dir, 'lib/renamed.js'));
    const afterDelete = await fp();
    expect(afterDelete).toBe(edited);
    mkdirSync(join(dir, 'empty'));
    expect(await fp()).toBe(afterDelete);
  });

  it('leaves out ignored files and runtime paths', async () => {
    const rules = { runtimePaths: [join(dir, 'out'), join(dir, 'run.log')] };
    const before = await fp(rules);
    put('node_modules/x/index.js', 'x');
    put('.git/HEAD', 'ref');
    put('.env', 'A=1');
    put('lib/.hidden', 'h');
    put('index.js~', 'backup');
    put('index.js.swp', 's');
    put('index.js.swx', 's');
    put('4913', '');
    put('.#index.js', 'lock');
    put('out/result.json', '{}');
    put('run.log', 'line');
    expect(await fp(rules)).toBe(before);
    expect(await fp(none)).not.toBe(before); // the runtime paths only drop out when declared
  });

  it('hashes a symlinked file by content and a symlinked folder by target', async () => {
    put('real/data.txt', 'one');
    symlinkSync(join(dir, 'real/data.txt'), join(dir, 'link.txt'));
    symlinkSync(join(dir, 'real'), join(dir, 'linkdir'));
    const before = await fp();
    put('real/data.txt', 'two');
    const after = await fp(); // changed through both the file and the link to it
    expect(after).not.toBe(before);
    rmSync(join(dir, 'linkdir'));
    symlinkSync(join(dir, 'lib'), join(dir, 'linkdir'));
    expect(await fp()).not.toBe(after);
  });

  it('rejects for a folder that does not exist', async () => {
    await expect(fingerprintPlugin(join(dir, 'nope'), none)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('fingerprintPlugin on hostile folders', () => {
  let outside: string;
  beforeEach(() => {
    outside = mkdtempSync(join(tmpdir(), 'warden-fp-outside-'));
  });
  afterEach(() => rmSync(outside, { recursive: true, force: true }));

  it('never reads through a symlink out of the plugin folder: only the link itself counts', async () => {
    writeFileSync(join(outside, 'secret.txt'), 'one');
    writeFileSync(join(outside, 'other.txt'), 'other');
    symlinkSync(join(outside, 'secret.txt'), join(dir, 'secret.txt'));
    symlinkSync('/', join(dir, 'root'));
    symlinkSync('/dev/zero', join(dir, 'zero'));
    const before = await fp();
    writeFileSync(join(outside, 'secret.txt'), 'two');
    expect(await fp()).toBe(before); // its content is not read
    rmSync(join(dir, 'secret.txt'));
    symlinkSync(join(outside, 'other.txt'), join(dir, 'secret.txt'));
    expect(await fp()).not.toBe(before); // where it points still counts
  });

  it('walks at most MAX_FOLDER_DEPTH folders down', async () => {
    const level = (n: number) => Array.from({ length: n }, (_, i) => `d${i}`).join('/');
    put(`${level(MAX_FOLDER_DEPTH)}/edge.js`, 'v1');
    put(`${level(MAX_FOLDER_DEPTH + 1)}/below.js`, 'v1');
    put(`${level(40)}/bottom.js`, 'v1');
    const before = await fp();
    put(`${level(MAX_FOLDER_DEPTH + 1)}/below.js`, 'v2');
    put(`${level(40)}/bottom.js`, 'v2');
    expect(await fp()).toBe(before);
    put(`${level(MAX_FOLDER_DEPTH)}/edge.js`, 'v2');
    expect(await fp()).not.toBe(before);
  });

  it('looks at no more than MAX_FINGERPRINT_ENTRIES entries', async () => {
    // `a/` (walked first) uses up the budget; `lib/` after it is not read, top-level files still count.
    // Dotfiles, so that the test hashes nothing: what counts is every entry looked at, ignored or not.
    mkdirSync(join(dir, 'a'));
    for (let i = 0; i < MAX_FINGERPRINT_ENTRIES + 10; i++) closeSync(openSync(join(dir, 'a', `.f${i}`), 'w'));
    put('z.js', 'v1');
    const before = await fp();
    put('lib/a/b.js', 'changed beyond the budget');
    expect(await fp()).toBe(before);
    put('z.js', 'v2');
    expect(await fp()).not.toBe(before);
  });

  it('a plugin folder that is itself a symlink counts by its plugin.json and main only', async () => {
    const manifest = (main: string) => JSON.stringify({ name: 'linked', version: '1.0.0', main });
    writeFileSync(join(outside, 'plugin.json'), manifest('index.js'));
    writeFileSync(join(outside, 'index.js'), 'v1');
    mkdirSync(join(outside, 'lib'));
    writeFileSync(join(outside, 'lib/x.js'), 'x1');
    symlinkSync('/', join(outside, 'root'));
    const linked = join(dir, 'linked');
    symlinkSync(outside, linked);
    const fpl = () => fingerprintPlugin(linked, none);
    const first = await fpl();
    writeFileSync(join(outside, 'lib/x.js'), 'x2');
    expect(await fpl()).toBe(first);
    writeFileSync(join(outside, 'index.js'), 'v2');
    const second = await fpl();
    expect(second).not.toBe(first);
    writeFileSync(join(outside, 'plugin.json'), manifest('lib/x.js'));
    const third = await fpl();
    expect(third).not.toBe(second);
    writeFileSync(join(outside, 'lib/x.js'), 'x3'); // now main: it counts
    expect(await fpl()).not.toBe(third);

    writeFileSync(join(dir, 'secret.txt'), 's1');
    writeFileSync(join(outside, 'plugin.json'), manifest(`../${basename(dir)}/secret.txt`));
    const escaping = await fpl();
    writeFileSync(join(dir, 'secret.txt'), 's2'); // a main outside the link's target is not read
    expect(await fpl()).toBe(escaping);
  });
});

describe('isIgnored', () => {
  const root = '/srv/plugins/p';
  const check = (rel: string, rules: IgnoreRules = none) => isIgnored(rel, join(root, rel), rules);

  it('ignores tooling and editor files at any depth', () => {
    for (const rel of ['node_modules', 'node_modules/x/y.js', 'src/node_modules/z', '.git', '.git/HEAD', '.env',
      'src/.cache/x', 'a.js~', 'a.js.swp', 'src/.a.js.swx', '4913', 'src/4913', '.#a.js', '#a.js#']) {
      expect(check(rel), rel).toBe(true);
    }
  });

  it('keeps plugin content', () => {
    for (const rel of ['', 'plugin.json', 'index.js', 'src/lib/x.js', 'data/49130', 'a.swp.js', 'out2/x']) {
      expect(check(rel), rel).toBe(false);
    }
  });

  it('ignores declared runtime paths (folders and files), not their look-alikes', () => {
    const rules = { runtimePaths: [join(root, 'out'), join(root, 'logs/p.log')] };
    expect(check('out', rules)).toBe(true);
    expect(check('out/a/b.txt', rules)).toBe(true);
    expect(check('logs/p.log', rules)).toBe(true);
    expect(check('output/a.txt', rules)).toBe(false);
    expect(check('logs/other.log', rules)).toBe(false);
  });

  it('disregards a runtime path that would cover the whole plugin folder', () => {
    expect(check('index.js', { runtimePaths: [root] })).toBe(false);
    expect(check('index.js', { runtimePaths: ['/srv'] })).toBe(false);
  });
});
