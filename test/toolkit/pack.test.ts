// warden plugin pack: npm's tarball layout, reproducible, with its sha256; what is left out; refusals.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { list } from 'tar';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/daemon.js';
import { packPlugin } from '../../src/toolkit/package/pack.js';

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function temp(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `warden-pack-${label}-`));
  temps.push(dir);
  return dir;
}

/** A plugin folder with what must be packed and what must not. */
function pluginFolder(): string {
  const dir = temp('src');
  writeFileSync(join(dir, 'plugin.json'), JSON.stringify({ name: 'packed', version: '1.2.3', main: 'index.js', permissions: { fs: { write: ['./out'] } } }));
  writeFileSync(join(dir, 'index.js'), "import { definePlugin } from 'warden/sdk';\ndefinePlugin({ methods: { ping: () => 'pong' } });\n");
  mkdirSync(join(dir, 'lib'));
  writeFileSync(join(dir, 'lib', 'util.js'), 'export const x = 1;\n');
  for (const skipped of ['node_modules/dep', '.git', '__pycache__', 'out', 'venv']) mkdirSync(join(dir, skipped), { recursive: true });
  writeFileSync(join(dir, 'node_modules/dep/index.js'), '');
  writeFileSync(join(dir, 'out/result.json'), '{}');
  writeFileSync(join(dir, 'venv/pyvenv.cfg'), 'home = /usr/bin\n');
  writeFileSync(join(dir, 'old-1.0.0.tgz'), 'x');
  symlinkSync('/etc/passwd', join(dir, 'passwd-link'));
  return dir;
}

async function entries(file: string): Promise<string[]> {
  const names: string[] = [];
  await list({ file, onReadEntry: (entry) => void names.push(entry.path) });
  return names;
}

describe('warden plugin pack', () => {
  it('packs under package/, leaves out dependencies, caches, runtime data and links, and gives the same bytes twice', async () => {
    const dir = pluginFolder();
    const out = temp('out');
    const first = await packPlugin(dir, { outDir: out });
    expect(first.file).toBe(join(out, 'packed-1.2.3.tgz'));
    expect(first.files).toEqual(['index.js', 'lib/util.js', 'plugin.json']);
    expect(await entries(first.file)).toEqual(['package/index.js', 'package/lib/util.js', 'package/plugin.json']);
    expect(first.skipped).toEqual([
      { path: 'out', why: 'one of its fs.write folders (runtime data)' },
      { path: 'passwd-link', why: 'a symbolic link (never packed)' },
      { path: 'venv', why: 'a Python virtual environment' },
    ]);
    const bytes = readFileSync(first.file);
    expect(first.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(first.integrity).toBe(`sha512-${createHash('sha512').update(bytes).digest('base64')}`);
    expect(readFileSync(`${first.file}.sha256`, 'utf8')).toBe(`${first.sha256}  packed-1.2.3.tgz\n`);
    expect(spawnSync('sha256sum', ['-c', 'packed-1.2.3.tgz.sha256'], { cwd: out }).status).toBe(0);

    const again = await packPlugin(dir, { outDir: temp('again') });
    expect(again.sha256).toBe(first.sha256);
    // npm reads it as a package tarball would be read: a package/ prefix and regular files.
    const listed = spawnSync('tar', ['-tzvf', first.file], { encoding: 'utf8' });
    expect(listed.stdout).toContain('1985-10-26');
  });

  it('through the CLI: prints the file, sha256 and integrity; a folder without a valid plugin.json is refused with nothing written', () => {
    const dir = pluginFolder();
    const out = temp('cli');
    const run = spawnSync(process.execPath, [CLI, 'plugin', 'pack', dir, '--out', out], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^packed .*packed-1\.2\.3\.tgz \(3 files, [\d.]+ KiB\)\nsha256 [0-9a-f]{64}\nintegrity sha512-/);
    const json = spawnSync(process.execPath, [CLI, 'plugin', 'pack', dir, '--out', out, '--json'], { encoding: 'utf8' });
    expect(JSON.parse(json.stdout)).toMatchObject({ files: ['index.js', 'lib/util.js', 'plugin.json'] });

    const broken = temp('broken');
    writeFileSync(join(broken, 'plugin.json'), JSON.stringify({ name: 'Bad Name', version: '1' }));
    const empty = temp('empty-out');
    const refused = spawnSync(process.execPath, [CLI, 'plugin', 'pack', broken, '--out', empty], { encoding: 'utf8' });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('plugin.json: name');
    expect(spawnSync('ls', ['-A', empty], { encoding: 'utf8' }).stdout).toBe('');
  });
});
