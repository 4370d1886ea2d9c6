// warden plugin install / remove: from a folder, a .tgz (with --sha256) and an npm registry stand-in with a
// dependency; every refusal (wrong sha256, corrupted or hostile tarball, invalid plugin, already installed)
// leaves pluginsDir exactly as it was.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from 'tar';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/daemon.js';
import { startRegistry } from '../helpers/registry.js';
import { packPlugin } from '../../src/toolkit/package/pack.js';
import { installPlugin, SOURCE_FILE } from '../../src/toolkit/package/install.js';
import { updatePlugin } from '../../src/toolkit/package/update.js';

const temps: string[] = [];
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function temp(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `warden-install-${label}-`));
  temps.push(dir);
  return dir;
}

function pluginFolder(name = 'greeter', manifest: Record<string, unknown> = {}): string {
  const dir = temp('src');
  writeFileSync(join(dir, 'plugin.json'), JSON.stringify({ name, version: '1.0.0', main: 'index.js', ...manifest }));
  writeFileSync(join(dir, 'index.js'), "import { definePlugin } from 'warden/sdk';\ndefinePlugin({ methods: { hi: () => 'hi' } });\n");
  return dir;
}

async function refused(spec: string, options: Parameters<typeof installPlugin>[1]): Promise<string> {
  const before = readdirSync(options.pluginsDir);
  const error = await installPlugin(spec, options).then(
    () => null,
    (e: Error) => e,
  );
  expect(error?.name).toBe('InstallError');
  expect(readdirSync(options.pluginsDir)).toEqual(before); // nothing half-installed, no staging folder
  return error!.message;
}

describe('warden plugin install', () => {
  it('installs a folder (without its links or node_modules), says what it asks for, and refuses a second copy', async () => {
    const src = pluginFolder('greeter', { permissions: { network: true, env: ['TOKEN'] } });
    mkdirSync(join(src, 'node_modules/x'), { recursive: true });
    symlinkSync('/etc/shadow', join(src, 'shadow'));
    const pluginsDir = temp('plugins');
    const result = await installPlugin(src, { pluginsDir });
    expect(result).toMatchObject({ name: 'greeter', version: '1.0.0', dir: join(pluginsDir, 'greeter'), sha256: null, asks: ['network', 'env TOKEN'] });
    expect(result.audit.score).toBeGreaterThan(0);
    expect(readdirSync(join(pluginsDir, 'greeter')).sort()).toEqual(['index.js', 'plugin.json']);
    expect(await refused(src, { pluginsDir })).toContain('greeter is already installed');
    expect(await refused(temp('empty'), { pluginsDir })).toContain('not a valid plugin');
  });

  it('gives a Python plugin with requirements.txt a venv of its own inside its folder', { timeout: 120_000 }, async () => {
    const src = temp('py');
    writeFileSync(join(src, 'plugin.json'), JSON.stringify({ name: 'py-deps', version: '1.0.0', command: ['.venv/bin/python', 'main.py'] }));
    writeFileSync(join(src, 'main.py'), 'import sys\n');
    writeFileSync(join(src, 'requirements.txt'), '# nothing to fetch: the venv and pip run, offline\n');
    const pluginsDir = temp('plugins');
    const result = await installPlugin(src, { pluginsDir });
    expect(result.dependencies).toBe('a venv in .venv from requirements.txt');
    expect(existsSync(join(pluginsDir, 'py-deps/.venv/bin/python'))).toBe(true);
    expect(readFileSync(join(pluginsDir, 'py-deps/.venv/pyvenv.cfg'), 'utf8')).toContain('home = ');
  });

  it('installs a packed .tgz whose sha256 matches, and refuses a wrong sha256, a corrupted tarball and one holding a link', async () => {
    const packed = await packPlugin(pluginFolder(), { outDir: temp('packed') });
    const pluginsDir = temp('plugins');
    expect(await refused(packed.file, { pluginsDir, sha256: '0'.repeat(64) })).toBe(`sha256 mismatch: the tarball is ${packed.sha256}, --sha256 says ${'0'.repeat(64)}`);
    const result = await installPlugin(packed.file, { pluginsDir, sha256: packed.sha256.toUpperCase() });
    expect(result).toMatchObject({ name: 'greeter', sha256: packed.sha256, integrity: packed.integrity });
    rmSync(result.dir, { recursive: true });

    const corrupted = join(temp('bad'), 'greeter-1.0.0.tgz');
    writeFileSync(corrupted, readFileSync(packed.file));
    truncateSync(corrupted, Math.floor(readFileSync(packed.file).length / 2));
    expect(await refused(corrupted, { pluginsDir })).toMatch(/^greeter-1\.0\.0\.tgz is not a readable \.tgz/);

    const hostile = temp('hostile');
    mkdirSync(join(hostile, 'package'));
    writeFileSync(join(hostile, 'package/plugin.json'), JSON.stringify({ name: 'greeter', version: '1.0.0', main: 'index.js' }));
    writeFileSync(join(hostile, 'package/index.js'), '');
    symlinkSync('/etc/shadow', join(hostile, 'package/shadow'));
    await create({ gzip: true, file: join(hostile, 'evil.tgz'), cwd: hostile }, ['package']);
    expect(await refused(join(hostile, 'evil.tgz'), { pluginsDir })).toBe('evil.tgz refused: it holds a link (package/shadow), which an install never unpacks');
  });

  it('installs npm:PACKAGE from a registry, checked against its integrity, with its own dependency', async () => {
    const registry = await registryStandIn();
    const pluginsDir = temp('plugins');
    const result = await installPlugin('npm:warden-demo-plugin@^1.0.0', { pluginsDir, registry: registry.url });
    expect(result).toMatchObject({ name: 'demo-plugin', version: '1.0.0', integrity: registry.integrity, dependencies: 'npm install --ignore-scripts (no lockfile shipped: resolved now)' });
    expect(JSON.parse(readFileSync(join(pluginsDir, 'demo-plugin/node_modules/tiny-dep/package.json'), 'utf8'))).toMatchObject({ name: 'tiny-dep' });
    expect(await refused('npm:no-such-package-here', { pluginsDir, registry: registry.url })).toMatch(/^npm could not fetch no-such-package-here/);
  });

  it('refuses a plugin whose package.json is not JSON, with the reason and nothing installed', async () => {
    const src = pluginFolder();
    writeFileSync(join(src, 'package.json'), '{ "dependencies": ');
    expect(await refused(src, { pluginsDir: temp('plugins') })).toMatch(/^its package\.json is not valid JSON: /);
  });

  it('through the CLI: installs into the configured pluginsDir and removes it again; a wrong --sha256 exits 1 with nothing installed', async () => {
    const operator = temp('operator');
    mkdirSync(join(operator, 'config'));
    writeFileSync(join(operator, 'config/warden.yaml'), JSON.stringify({ pluginsDir: '../plugins', stateDir: '../var' }));
    const packed = await packPlugin(pluginFolder(), { outDir: operator });
    const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, 'plugin', ...args], { cwd: operator, encoding: 'utf8', env: { ...process.env, WARDEN_CONFIG: '' } });
    const wrong = cli('install', packed.file, '--sha256', 'f'.repeat(64));
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('sha256 mismatch');
    expect(wrong.stderr).toContain('nothing was installed');
    const ok = cli('install', packed.file, '--sha256', packed.sha256);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain(`installed greeter 1.0.0 in ${join(operator, 'plugins/greeter')}`);
    expect(ok.stdout).toContain('it asks for nothing beyond its own folder');
    const removed = cli('remove', 'greeter');
    expect(removed.status).toBe(0);
    expect(readdirSync(join(operator, 'plugins'))).toEqual([]);
    expect(cli('remove', 'greeter').status).toBe(1);
    expect(existsSync(join(operator, 'plugins'))).toBe(true);
  });
});

describe('warden plugin update refuses before fetching anything', () => {
  it('a plugin whose install record is not JSON, or names no package, leaving its folder as it was', async () => {
    const pluginsDir = temp('plugins');
    await installPlugin(pluginFolder(), { pluginsDir });
    const record = join(pluginsDir, 'greeter', SOURCE_FILE);
    const update = () => updatePlugin('greeter', { pluginsDir }).then(() => null, (e: Error) => e);

    writeFileSync(record, '{ "package": ');
    const broken = await update();
    expect(broken?.name).toBe('InstallError');
    expect(broken?.message).toContain(`${record} is not readable JSON`);

    writeFileSync(record, 'null');
    expect((await update())?.message).toBe(`${record} names no package: remove the plugin and install it again`);
    expect(readdirSync(pluginsDir)).toEqual(['greeter']);
    expect(readdirSync(join(pluginsDir, 'greeter')).sort()).toEqual([SOURCE_FILE, 'index.js', 'plugin.json']);
  });
});

/** warden-demo-plugin 1.0.0 (a plugin) and tiny-dep 1.0.0 (its dependency), served by a registry stand-in. */
async function registryStandIn(): Promise<{ url: string; integrity: string }> {
  const registry = await startRegistry(temp('registry'), [
    { name: 'tiny-dep', version: '1.0.0', files: { 'index.js': 'export const tiny = 42;\n' }, extra: { type: 'module', main: 'index.js' } },
    {
      name: 'warden-demo-plugin',
      version: '1.0.0',
      files: {
        'plugin.json': JSON.stringify({ name: 'demo-plugin', version: '1.0.0', main: 'index.js' }),
        'index.js': "import { definePlugin } from 'warden/sdk';\nimport { tiny } from 'tiny-dep';\ndefinePlugin({ methods: { tiny: () => tiny } });\n",
      },
      extra: { type: 'module', dependencies: { 'tiny-dep': '1.0.0' } },
    },
  ]);
  closers.push(registry.close);
  return { url: registry.url, integrity: registry.integrity.get('warden-demo-plugin@1.0.0')! };
}
