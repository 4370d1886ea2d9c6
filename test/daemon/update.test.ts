// warden plugin install npm:… into a running daemon, then update: under load with 0 failed calls, a dry run
// that passes over a version a dependent's range refuses, and an update that fails its start, rolled back.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../helpers/daemon.js';
import { afterEach, describe, expect, it } from 'vitest';
import { installPlugin } from '../../src/toolkit/package/install.js';
import { updatePlugin } from '../../src/toolkit/package/update.js';
import { bootDaemon, type Sandbox, type TestDaemon } from '../helpers/daemon.js';
import { runCliAsync } from '../helpers/run-cli.js';
import { startRegistry, type Registry } from '../helpers/registry.js';
import { waitFor } from '../helpers/wait.js';

let sandbox: Sandbox | undefined;
let daemon: TestDaemon | undefined;
let registry: Registry | undefined;
let work: string | undefined;

afterEach(async () => {
  await daemon?.cleanup();
  sandbox?.remove();
  await registry?.close();
  if (work) rmSync(work, { recursive: true, force: true });
  sandbox = daemon = registry = work = undefined;
});

/** One release of the demo plugin: `version()` answers its version; `broken` throws at start. */
function release(version: string, broken = false) {
  return {
    name: 'warden-demo-plugin',
    version,
    files: {
      'plugin.json': JSON.stringify({ name: 'demo', version, main: 'index.js' }),
      'index.js': broken
        ? "throw new Error('this release is broken');\n"
        : `import { definePlugin } from 'warden/sdk';\ndefinePlugin({ methods: { version: () => '${version}', echo: (p) => p } });\n`,
    },
    extra: { type: 'module' },
  };
}

const runCli = (args: string[], env: NodeJS.ProcessEnv) => runCliAsync(args, { env });

/** A release of an MCP server without plugin.json (test/fixtures/mcp-package), which keeps notes in DATA_DIR. */
function notesRelease(version: string) {
  return {
    name: 'acme-notes',
    version,
    files: { 'index.mjs': readFileSync(join(REPO, 'test/fixtures/mcp-package/index.mjs'), 'utf8') },
    extra: { type: 'module', mcpName: 'io.github.acme/notes', bin: { 'acme-notes': 'index.mjs' } },
  };
}

describe('warden plugin update', () => {
  it('updates an MCP server whose plugin.json install generated: generated again with the same --env, its data folder kept', { timeout: 90_000 }, async () => {
    work = mkdtempSync(join(tmpdir(), 'warden-update-'));
    registry = await startRegistry(work, [notesRelease('0.3.1'), notesRelease('0.4.0')]);
    ({ sandbox, daemon } = await bootDaemon({ hotReload: { enabled: true, debounceMs: 100 } }));
    const installed = await installPlugin('npm:acme-notes@0.3.1', { pluginsDir: sandbox.pluginsDir, registry: registry.url, env: { SOME_API_TOKEN: 'set-at-install' } });
    expect(installed.generated?.environment).toEqual({ DATA_DIR: './data', SOME_API_TOKEN: 'set-at-install' });
    await daemon.waitForState('acme-notes', 'running');
    expect(await daemon.call('acme-notes', 'add', { text: 'kept across the update' })).toMatchObject({ structuredContent: { count: 1 } });

    const update = await runCli(['plugin', 'update', 'acme-notes', '--socket', sandbox.socketPath], { ...process.env, WARDEN_CONFIG: sandbox.configPath });
    expect([update.status, update.stderr]).toEqual([0, '']);
    expect(update.stdout).toBe('acme-notes: updated 0.3.1 -> 0.4.0, serving\n');
    const manifest = JSON.parse(readFileSync(join(sandbox.pluginsDir, 'acme-notes/plugin.json'), 'utf8'));
    expect(manifest).toMatchObject({ version: '0.4.0', protocol: 'mcp', environment: { DATA_DIR: './data', SOME_API_TOKEN: 'set-at-install' } });
    expect(await daemon.call('acme-notes', 'list', {})).toMatchObject({ structuredContent: { notes: ['kept across the update'], token: true } });
  });


  it('an update whose data folder cannot be carried fails with that reason, and swaps nothing', async () => {
    work = mkdtempSync(join(tmpdir(), 'warden-update-'));
    registry = await startRegistry(work, [notesRelease('0.3.1'), notesRelease('0.4.0')]);
    const pluginsDir = join(work, 'plugins');
    await installPlugin('npm:acme-notes@0.3.1', { pluginsDir, registry: registry.url, env: { SOME_API_TOKEN: 'x' } });
    writeFileSync(join(pluginsDir, 'acme-notes/data/notes.txt'), 'kept\n');
    execFileSync('mkfifo', [join(pluginsDir, 'acme-notes/data/pipe')]);
    await expect(updatePlugin('acme-notes', { pluginsDir })).rejects.toThrow(/^could not carry its \.\/data into the new version \(nothing was swapped\): /);
    expect(JSON.parse(readFileSync(join(pluginsDir, 'acme-notes/plugin.json'), 'utf8')).version).toBe('0.3.1');
    expect(readFileSync(join(pluginsDir, 'acme-notes/data/notes.txt'), 'utf8')).toBe('kept\n');
    expect(readdirSync(pluginsDir)).toEqual(['acme-notes']);
  });

  it('installs from the registry into a running daemon, updates under load without a failed call, plans past a dependent range, and rolls back a release that fails to start', { timeout: 90_000 }, async () => {
    work = mkdtempSync(join(tmpdir(), 'warden-update-'));
    registry = await startRegistry(work, [release('1.0.0'), release('1.1.0'), release('1.2.0', true), release('2.0.0')]);
    ({ sandbox, daemon } = await bootDaemon({ hotReload: { enabled: true, debounceMs: 100 } }, { consumer: { manifest: { dependencies: { demo: '^1.0.0' } } } }));
    await daemon.waitForState('consumer', 'waiting');
    const installed = await installPlugin('npm:warden-demo-plugin@1.0.0', { pluginsDir: sandbox.pluginsDir, registry: registry.url });
    expect(installed.integrity).toBe(registry.integrity.get('warden-demo-plugin@1.0.0'));
    await daemon.waitForState('demo', 'running');
    await daemon.waitForState('consumer', 'running');
    expect(await daemon.call('demo', 'version')).toBe('1.0.0');

    const cli = (...args: string[]) => ['plugin', 'update', ...args, '--socket', sandbox!.socketPath];
    const env = { ...process.env, WARDEN_CONFIG: sandbox.configPath };

    // Under load: a call every few ms while the CLI swaps 1.1.0 in.
    let calls = 0;
    const failures: string[] = [];
    let loading = true;
    const load = (async () => {
      while (loading) {
        calls += 1;
        await daemon!.call('demo', 'echo', { n: calls }).catch((error: Error) => failures.push(error.message));
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    const update = await runCli(cli('demo', '--to', '1.1.0'), env);
    loading = false;
    await load;
    expect(update.stderr).toBe('');
    expect(update.status).toBe(0);
    expect(update.stdout).toBe('demo: updated 1.0.0 -> 1.1.0, serving\n');
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(10);
    expect(await daemon.call('demo', 'version')).toBe('1.1.0');

    const plan = await runCli([...cli('demo', '--dry-run'), '--json'], env);
    expect(plan.status).toBe(0);
    expect(JSON.parse(plan.stdout)).toMatchObject({
      from: '1.1.0',
      to: '1.2.0',
      outcome: 'planned',
      rejected: [{ version: '2.0.0', why: 'consumer depends on demo ^1.0.0' }],
    });

    const broken = await runCli(cli('demo'), env);
    expect(broken.status).toBe(1);
    expect(broken.stdout).toMatch(/^demo: 1\.2\.0 failed to start \(.*this release is broken.*\); rolled back to 1\.1\.0, which kept serving/);
    expect(await daemon.call('demo', 'version')).toBe('1.1.0');
    expect(JSON.parse(readFileSync(join(sandbox.pluginsDir, 'demo/plugin.json'), 'utf8')).version).toBe('1.1.0');
    expect(readdirSync(sandbox.pluginsDir).sort()).toEqual(['consumer', 'demo']);
    await waitFor('demo to serve 1.1.0 from its restored folder', async () => (await daemon!.status('demo')).state === 'running');

    const removed = await runCli(['plugin', 'remove', 'demo'], env);
    expect(removed.status).toBe(0);
    await waitFor('demo to be gone from the daemon', async () => {
      const { plugins } = await daemon!.request<{ plugins: Array<{ name: string }> }>('status');
      return !plugins.some((p) => p.name === 'demo');
    });
  });
});
