/**
 * `main` must be JavaScript node can run: a TypeScript entry (which node 20 cannot run) or any other
 * non-JavaScript file makes the plugin `invalid` at discovery, with what to do, instead of crash-looping
 * until it is disabled.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { discoverPlugins, loadPlugin } from '../../src/manifest/discover.js';
import { javaScriptEntryProblem, typeScriptEntryProblem, validateEntry } from '../../src/manifest/validate-entry.js';

let tmp: string;

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'warden-entry-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** tmp/<folder> with a plugin.json whose main is `main`, and the given files (empty). */
async function plugin(folder: string, main: string, files: string[]): Promise<string> {
  const dir = path.join(tmp, folder);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'plugin.json'), JSON.stringify({ name: folder, version: '1.0.0', main }));
  for (const f of files) {
    await mkdir(path.dirname(path.join(dir, f)), { recursive: true });
    await writeFile(path.join(dir, f), '');
  }
  return dir;
}

const tsReason = (main: string) =>
  `plugin.json: main: ${main} is TypeScript, which node 20 cannot run; compile it (tsc) and point main at the .js file`;

describe('a TypeScript main', () => {
  test.each(['index.ts', 'index.mts', 'index.cts', 'src/app.tsx', 'INDEX.TS', 'types.d.ts'])('%s is invalid, with the fix in the reason', async (main) => {
    const dir = await plugin('ts-plugin', main, [main]);
    expect(await loadPlugin(dir)).toEqual({
      ok: false,
      dir,
      name: 'ts-plugin',
      version: '1.0.0',
      kind: 'service',
      reason: tsReason(main),
    });
  });

  test('the reason is the exact sentence authors see in `warden status`', () => {
    expect(typeScriptEntryProblem('index.ts')).toBe(
      'plugin.json: main: index.ts is TypeScript, which node 20 cannot run; compile it (tsc) and point main at the .js file',
    );
  });

  test('says so even when the .ts file is missing: compiling is the fix either way', async () => {
    const dir = await plugin('ts-missing', 'index.ts', []);
    expect(await loadPlugin(dir)).toMatchObject({ ok: false, reason: tsReason('index.ts') });
  });

  test('makes only that plugin invalid: the others are discovered as usual', async () => {
    await plugin('compiled', 'dist/index.js', ['dist/index.js', 'src/index.ts']);
    await plugin('uncompiled', 'src/index.ts', ['src/index.ts']);
    const found = await discoverPlugins(tmp);
    expect(found.map((p) => (p.ok ? { ok: true, name: p.manifest.name } : { ok: false, name: p.name, reason: p.reason }))).toEqual([
      { ok: true, name: 'compiled' },
      { ok: false, name: 'uncompiled', reason: tsReason('src/index.ts') },
    ]);
  });
});

describe('a main that is not JavaScript', () => {
  test.each(['main.py', 'server', 'index.jsx', 'data.json', 'addon.node', 'index.JS', 'index.js.bak'])('%s is invalid', async (main) => {
    const dir = await plugin('other', main, [main]);
    const r = await loadPlugin(dir);
    expect(r.ok).toBe(false);
    const reason = r.ok ? '' : r.reason;
    expect(reason).toBe(
      `plugin.json: main: ${main} is not a JavaScript file (.js, .mjs or .cjs), which is all node runs; ` +
        'point main at one, or start any other executable with "command" instead (e.g. ["python3", "main.py"])',
    );
  });

  test('a missing one is reported as missing first (the existing "not found" reason)', async () => {
    const dir = await plugin('gone', 'lib', ['lib/x.js']);
    expect(await loadPlugin(dir)).toMatchObject({ ok: false, reason: `plugin.json: main: "lib" not found in ${dir}` });
  });
});

describe('a JavaScript main', () => {
  test.each(['index.js', 'index.mjs', 'index.cjs', 'dist/main.js', '.hidden/main.js', 'v1.2/index.mjs'])('%s is valid', async (main) => {
    const dir = await plugin('js', main, [main]);
    expect(await loadPlugin(dir)).toMatchObject({ ok: true, dir, manifest: { name: 'js', main } });
  });

  test('the pure checks agree', async () => {
    for (const main of ['index.js', 'a/b.mjs', 'c.cjs']) {
      expect(typeScriptEntryProblem(main)).toBeNull();
      expect(javaScriptEntryProblem(main)).toBeNull();
    }
    expect(javaScriptEntryProblem('index.ts')).toBe(tsReason('index.ts'));
    // A dotfile has no extension.
    expect(javaScriptEntryProblem('.js')).toMatch(/is not a JavaScript file/);
  });

  test('validateEntry: TypeScript first, then the caller\'s location check, then the extension', async () => {
    const calls: string[] = [];
    const located = (answer: string | null) => async () => {
      calls.push('located');
      return answer;
    };
    expect(await validateEntry('index.ts', located('missing'))).toBe(tsReason('index.ts'));
    expect(calls).toEqual([]);
    expect(await validateEntry('main.py', located('missing'))).toBe('missing');
    expect(await validateEntry('main.py', located(null))).toMatch(/^plugin\.json: main: main\.py is not a JavaScript file/);
    expect(await validateEntry('index.js', located(null))).toBeNull();
    expect(calls).toEqual(['located', 'located', 'located']);
  });
});
