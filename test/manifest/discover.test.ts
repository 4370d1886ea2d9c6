import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { discoverPlugins, jsonErrorOffset, loadPlugin, MAX_MANIFEST_BYTES } from '../../src/manifest/discover.js';
import type { DiscoveredPlugin } from '../../src/manifest/types.js';

let tmp: string;
let pluginsDir: string;

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'warden-discover-'));
  pluginsDir = path.join(tmp, 'plugins');
  await mkdir(pluginsDir);
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Makes pluginsDir/<folder> with the given plugin.json (object → JSON, string → as is) and files. */
async function plugin(folder: string, manifest: unknown, files: string[] = ['index.js']): Promise<string> {
  const dir = path.join(pluginsDir, folder);
  await mkdir(dir, { recursive: true });
  if (manifest !== undefined) {
    await writeFile(path.join(dir, 'plugin.json'), typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
  }
  for (const f of files) {
    await mkdir(path.dirname(path.join(dir, f)), { recursive: true });
    await writeFile(path.join(dir, f), '');
  }
  return dir;
}

const good = (name: string, extra: Record<string, unknown> = {}) => ({ name, version: '1.0.0', main: 'index.js', ...extra });

function summary(list: DiscoveredPlugin[]) {
  return list.map((p) =>
    p.ok
      ? { ok: true, name: p.manifest.name, folder: path.basename(p.dir) }
      : { ok: false, name: p.name, folder: path.basename(p.dir), version: p.version, kind: p.kind, reason: p.reason },
  );
}

describe('discoverPlugins', () => {
  test('a mix of good, broken and non-plugin folders', async () => {
    await plugin('alpha', good('alpha', { kind: 'processor' }));
    await plugin('zeta-folder', good('beta'));
    await plugin('broken', '{ "name": "broken", ');
    await plugin('invalid', { name: 'gamma', version: '2.0.0', kind: 'analyzer', main: 'index.js', limits: { memoryMb: -1 } });
    const noMain = await plugin('no-main', good('delta'), []);
    const dup = await plugin('alpha-copy', good('alpha', { version: '9.9.9' }));
    await plugin('.hidden', good('hidden'));
    await plugin('node_modules', good('nm'));
    await plugin('not-a-plugin', undefined, ['README.md']);
    await writeFile(path.join(pluginsDir, 'stray-file.json'), '{}');

    const found = await discoverPlugins(pluginsDir);
    expect(summary(found)).toEqual([
      { ok: true, name: 'alpha', folder: 'alpha' },
      {
        ok: false,
        name: 'alpha',
        folder: 'alpha-copy',
        version: '9.9.9',
        kind: 'service',
        reason: `duplicate plugin name "alpha" (also in ${path.join(pluginsDir, 'alpha')})`,
      },
      { ok: true, name: 'beta', folder: 'zeta-folder' },
      {
        ok: false,
        name: 'broken',
        folder: 'broken',
        version: null,
        kind: 'service',
        reason: 'plugin.json: not valid JSON: line 1, column 20: Expected double-quoted property name',
      },
      {
        ok: false,
        name: 'delta',
        folder: 'no-main',
        version: '1.0.0',
        kind: 'service',
        reason: `plugin.json: main: "index.js" not found in ${noMain}`,
      },
      {
        ok: false,
        name: 'gamma',
        folder: 'invalid',
        version: '2.0.0',
        kind: 'analyzer',
        reason: 'plugin.json: limits.memoryMb: expected a positive integer, got -1',
      },
    ]);
    expect(found.every((p) => path.isAbsolute(p.dir))).toBe(true);
    expect(found.find((p) => path.basename(p.dir) === 'alpha-copy')?.dir).toBe(dup);
  });

  test('a missing pluginsDir is an empty list', async () => {
    expect(await discoverPlugins(path.join(tmp, 'nowhere'))).toEqual([]);
  });

  test('an empty pluginsDir is an empty list', async () => {
    expect(await discoverPlugins(pluginsDir)).toEqual([]);
  });

  test('an invalid duplicate does not take the name from a valid plugin', async () => {
    await plugin('a-broken', good('same', { version: 'nope' }));
    await plugin('b-good', good('same'));
    const found = summary(await discoverPlugins(pluginsDir));
    expect(found.map((p) => [p.name, p.folder, p.ok])).toEqual([
      ['same', 'a-broken', false],
      ['same', 'b-good', true],
    ]);
    expect(found[0]).toMatchObject({ reason: 'plugin.json: version: "nope" is not a semver version' });
  });

  test('a symlinked plugin folder counts', async () => {
    const elsewhere = path.join(tmp, 'elsewhere');
    await mkdir(elsewhere);
    await writeFile(path.join(elsewhere, 'plugin.json'), JSON.stringify(good('linked')));
    await writeFile(path.join(elsewhere, 'index.js'), '');
    await symlink(elsewhere, path.join(pluginsDir, 'linked'));
    expect(summary(await discoverPlugins(pluginsDir))).toEqual([{ ok: true, name: 'linked', folder: 'linked' }]);
  });
});

describe('loadPlugin', () => {
  test('a valid folder with main in a subfolder', async () => {
    const dir = await plugin('p', good('p', { main: 'dist/main.js' }), ['dist/main.js']);
    const r = await loadPlugin(dir);
    expect(r).toMatchObject({ ok: true, dir, manifest: { name: 'p', main: 'dist/main.js' } });
  });

  test('a command plugin needs no main file', async () => {
    const dir = await plugin('py', { name: 'py', version: '1.0.0', command: ['python3', 'main.py'] }, []);
    expect((await loadPlugin(dir)).ok).toBe(true);
  });

  test('main that is a folder is not found', async () => {
    const dir = await plugin('p', good('p', { main: 'lib' }), ['lib/x.js']);
    expect(await loadPlugin(dir)).toMatchObject({ ok: false, reason: `plugin.json: main: "lib" not found in ${dir}` });
  });

  test('main that is a symlink out of the folder', async () => {
    const outside = path.join(tmp, 'outside.js');
    await writeFile(outside, '');
    const dir = await plugin('p', good('p'), []);
    await symlink(outside, path.join(dir, 'index.js'));
    expect(await loadPlugin(dir)).toMatchObject({
      ok: false,
      name: 'p',
      reason: `plugin.json: main: "index.js" resolves outside ${dir}`,
    });
  });

  test('an invalid name falls back to the folder name', async () => {
    const dir = await plugin('my-folder', good('Not Valid'));
    expect(await loadPlugin(dir)).toMatchObject({ ok: false, name: 'my-folder', version: '1.0.0' });
  });

  test('engines mismatch keeps the declared name', async () => {
    const dir = await plugin('x', good('future', { engines: { warden: '>=2' } }));
    expect(await loadPlugin(dir)).toMatchObject({
      ok: false,
      name: 'future',
      reason: 'plugin.json: engines.warden ">=2" is not satisfied by warden 1.0.0',
    });
  });

  test('a folder without plugin.json, and a UTF-8 BOM', async () => {
    const empty = await plugin('empty', undefined, []);
    expect(await loadPlugin(empty)).toMatchObject({
      ok: false,
      name: 'empty',
      version: null,
      reason: `plugin.json: not found in ${empty}`,
    });
    const bom = await plugin('bom', `\uFEFF${JSON.stringify(good('bom'))}`);
    expect((await loadPlugin(bom)).ok).toBe(true);
  });

  test('a plugin.json over 1 MiB is refused unread, under its folder name; the others still load', async () => {
    expect(MAX_MANIFEST_BYTES).toBe(1024 * 1024);
    // Valid JSON, a valid manifest even: only its size is wrong.
    const padded = (bytes: number) => {
      const base = JSON.stringify(good('huge', { description: '' }));
      return base.replace('"description":""', `"description":"${'x'.repeat(bytes - base.length)}"`);
    };
    const twoMb = padded(2 * 1024 * 1024);
    expect(Buffer.byteLength(twoMb)).toBe(2 * 1024 * 1024);
    await plugin('big-folder', twoMb);
    await plugin('fine', good('fine'));
    expect(summary(await discoverPlugins(pluginsDir))).toEqual([
      {
        ok: false,
        name: 'big-folder',
        folder: 'big-folder',
        version: null,
        kind: 'service',
        reason: 'plugin.json is 2097152 bytes; the limit is 1048576 (1 MiB)',
      },
      { ok: true, name: 'fine', folder: 'fine' },
    ]);

    const atLimit = await plugin('at-limit', padded(MAX_MANIFEST_BYTES));
    expect(await loadPlugin(atLimit)).toMatchObject({ ok: true });
    const oneOver = await plugin('one-over', padded(MAX_MANIFEST_BYTES + 1));
    expect(await loadPlugin(oneOver)).toMatchObject({ ok: false, reason: 'plugin.json is 1048577 bytes; the limit is 1048576 (1 MiB)' });
  });

  test('a 50 MB plugin.json costs nothing to refuse', async () => {
    const dir = await plugin('sparse', undefined, []);
    await writeFile(path.join(dir, 'plugin.json'), '');
    await truncate(path.join(dir, 'plugin.json'), 50 * 1024 * 1024); // sparse: no 50 MB on disk
    const before = process.memoryUsage().arrayBuffers;
    const started = Date.now();
    expect(await loadPlugin(dir)).toMatchObject({ ok: false, name: 'sparse', reason: 'plugin.json is 52428800 bytes; the limit is 1048576 (1 MiB)' });
    expect(Date.now() - started).toBeLessThan(500);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(10 * 1024 * 1024);
  });

  test('a plugin.json that is a FIFO is refused at once instead of hanging discovery', async () => {
    const dir = await plugin('fifo', undefined, []);
    execFileSync('mkfifo', [path.join(dir, 'plugin.json')]);
    expect(await loadPlugin(dir)).toMatchObject({ ok: false, name: 'fifo', reason: 'plugin.json is not a regular file' });
  });
});

describe('what an invalid plugin.json says', () => {
  const reasonFor = async (text: string) => {
    const dir = await plugin('p', text);
    const r = await loadPlugin(dir);
    if (r.ok) throw new Error('expected invalid');
    return r.reason;
  };

  test.each([
    ['a missing comma', '{\n  "name": "p",\n  "version": "1.0.0"\n  "main": "index.js"\n}\n', "line 4, column 3: Expected ',' or '}' after property value"],
    ['a trailing comma', '{\n  "name": "p",\n  "main": "index.js",\n}\n', 'line 4, column 1: Expected double-quoted property name'],
    ['a bad literal (no position from JSON.parse)', '{\n  "name": "p",\n  "enabled": tru\n}\n', "line 3, column 17: Unexpected token '\\n'"],
    ['a trailing comma in a list (no position from JSON.parse)', '{\n  "command": ["a",\n    ]\n}', "line 3, column 5: Unexpected token ']'"],
    ['the end of the text', '{\n  "name": "p",\n\n', 'line 2, column 15: Expected double-quoted property name'],
    ['an unterminated string', '{\n  "name": "p",\n  "main": "index.js', 'line 3, column 20: Unterminated string'],
    ['an empty file', '', 'line 1, column 1: Unexpected end of JSON input'],
    ['single quotes', "{\n  'name': 'p'\n}", "line 2, column 3: Expected property name or '}'"],
    ['text after the object', '{"name": "p"}\n}\n', 'line 2, column 1: Unexpected non-whitespace character after JSON'],
    ['a raw newline in a string', '{\n  "name": "p\n"\n}', 'line 2, column 13: Bad control character in string literal'],
  ])('%s: line and column, not a character offset', async (_label, text, where) => {
    expect(await reasonFor(text)).toBe(`plugin.json: not valid JSON: ${where}`);
  });

  test('every schema problem, joined with "; "', async () => {
    const reason = await reasonFor(JSON.stringify({ name: 'p', version: 'one', mian: 'index.js', limits: { memoryMb: -1 } }));
    expect(reason).toBe(
      [
        'plugin.json: version: "one" is not a semver version',
        'plugin.json: limits.memoryMb: expected a positive integer, got -1',
        'plugin.json: mian: unknown key; did you mean main?',
        'plugin.json: exactly one of "main" and "command" is required',
      ].join('; '),
    );
  });

  test('the scan agrees with JSON.parse where JSON.parse gives a position', () => {
    const samples = ['{"a": 1,}', '{"a" 1}', '{x}', '{"a": "b\n"}', '{"a": 1} x', '{"a": 01}', '{"a": "\\q"}', '{"a": -}', '{"a": 1.}', '{"a": 1e}', '[1, 2', '{"a": "\\u12G4"}'];
    for (const text of samples) {
      let position: number | null = null;
      try {
        JSON.parse(text);
      } catch (err) {
        const m = /at position (\d+)/.exec((err as Error).message);
        if (m) position = Number(m[1]);
      }
      if (position !== null) expect(jsonErrorOffset(text), text).toBe(position);
      else expect(jsonErrorOffset(text), text).not.toBeNull();
    }
    for (const valid of ['{}', '[]', ' {"a": [1, -2.5e+3, true, false, null, "x\\u00e9\\n"]} ', '"s"', '0']) {
      expect(jsonErrorOffset(valid), valid).toBeNull();
    }
  });
});
