import { readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonError } from '../../src/control/client.js';
import { bootDaemon, FAST_DEFAULTS, type PluginSpec, type Sandbox, type TestDaemon } from '../helpers/daemon.js';
import { isAlive, waitFor } from '../helpers/wait.js';

let sandbox: Sandbox;
let daemon: TestDaemon;

const HOT = { hotReload: { enabled: true, debounceMs: 100 } };

async function boot(plugins: Record<string, PluginSpec>) {
  ({ sandbox, daemon } = await bootDaemon({ ...HOT, defaults: FAST_DEFAULTS }, plugins));
}

function editFile(dir: string, file: string, change: (text: string) => string): void {
  const path = join(dir, file);
  writeFileSync(path, change(readFileSync(path, 'utf8')));
}

afterEach(async () => {
  await daemon?.cleanup();
  sandbox?.remove();
});

describe('hot reload', () => {
  it('starts a plugin folder that appears and stops one that is removed', async () => {
    await boot({ alpha: {} });
    await daemon.waitForState('alpha', 'running');
    sandbox.addPlugin('newcomer');
    const newcomer = await daemon.waitForState('newcomer', 'running');
    expect(await daemon.call('newcomer', 'echo', 'hi')).toBe('hi');
    rmSync(join(sandbox.pluginsDir, 'newcomer'), { recursive: true });
    await waitFor('newcomer to be gone', async () => {
      const error = await daemon.status('newcomer').then(() => null, (e: unknown) => e);
      return error instanceof DaemonError && error.code === -32001;
    });
    await waitFor('its process to be gone', () => !isAlive(newcomer.pid!));
  });

  it('swaps in an edited plugin under a steady stream of calls without failing one, carrying its state', async () => {
    await boot({ alpha: {} });
    const before = await daemon.waitForState('alpha', 'running');
    for (let i = 0; i < 5; i++) await daemon.call('alpha', 'count');
    const client = await daemon.client();
    let calls = 0;
    const failures: unknown[] = [];
    const stream = setInterval(() => {
      calls++;
      client.request('plugin.call', { name: 'alpha', method: 'echo', params: calls }).catch((error: unknown) => failures.push(error));
    }, 10);
    try {
      editFile(join(sandbox.pluginsDir, 'alpha'), 'index.js', (text) => text.replace('echo: (params) => params,', 'echo: (params) => ({ v2: params }),'));
      await waitFor('the new code to answer', async () => {
        const answer = await daemon.call<{ v2?: unknown }>('alpha', 'echo', 'x');
        return typeof answer === 'object' && answer !== null && 'v2' in answer;
      });
      const settle = calls + 50; // another half second of calls against the new instance
      await waitFor('more calls', () => calls >= settle);
    } finally {
      clearInterval(stream);
    }
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(50);
    const after = await daemon.status('alpha');
    expect(after.pid).not.toBe(before.pid);
    expect(after.restarts).toBe(0);
    expect(await daemon.call('alpha', 'count')).toBe(6);
    await waitFor('the old process to be gone', () => !isAlive(before.pid!));
  });

  it.each([
    ['a syntax error', (dir: string) => editFile(dir, 'index.js', (t) => `${t}\nthis is not javascript(\n`), /exited during start/],
    ['an invalid manifest', (dir: string) => writeFileSync(join(dir, 'plugin.json'), '{ "name": "alpha", '), /plugin\.json: not valid JSON/],
    ['a crash on start', (dir: string) => writeFileSync(join(dir, 'crash-on-start'), ''), /exited during start \(exit code 3/],
  ])('keeps the old version serving after %s, and reloads the next good change', async (_what, breakIt, cause) => {
    await boot({ alpha: {} });
    const before = await daemon.waitForState('alpha', 'running');
    const dir = join(sandbox.pluginsDir, 'alpha');
    const original = { index: readFileSync(join(dir, 'index.js'), 'utf8'), manifest: readFileSync(join(dir, 'plugin.json'), 'utf8') };
    breakIt(dir);
    const failed = await waitFor('the reload to fail', async () => {
      const status = await daemon.status('alpha');
      return status.lastError?.kind === 'reload' ? status : undefined;
    });
    expect(failed.state).toBe('running');
    expect(failed.pid).toBe(before.pid);
    expect(failed.reason).toMatch(/^reload failed: /);
    expect(failed.lastError!.message).toMatch(cause);
    expect(failed.restarts).toBe(0);
    expect(await daemon.call('alpha', 'echo', 'still')).toBe('still');

    rmSync(join(dir, 'crash-on-start'), { force: true });
    writeFileSync(join(dir, 'plugin.json'), original.manifest.replace('"1.0.0"', '"1.1.0"'));
    writeFileSync(join(dir, 'index.js'), original.index);
    const fixed = await waitFor('the fixed version to run', async () => {
      const status = await daemon.status('alpha');
      return status.version === '1.1.0' && status.pid !== before.pid ? status : undefined;
    });
    expect(fixed.reason).toBeNull();
    expect(await daemon.call('alpha', 'version')).toBe('1.1.0');
  });

  it('does not reload on a touch that changes no content', async () => {
    await boot({ alpha: {} });
    const before = await daemon.waitForState('alpha', 'running');
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(sandbox.pluginsDir, 'alpha/index.js'), later, later);
    writeFileSync(join(sandbox.pluginsDir, 'alpha/plugin.json'), readFileSync(join(sandbox.pluginsDir, 'alpha/plugin.json')));
    // A barrier: a real change elsewhere, reported after the same debounce.
    sandbox.addPlugin('barrier');
    await daemon.waitForState('barrier', 'running');
    expect((await daemon.status('alpha')).pid).toBe(before.pid);
  });

  it('picks up an edit made while the first plugins start (before the watcher has scanned), and reloads nothing else', async () => {
    await boot({ alpha: {}, beta: {} });
    // The socket answers before the plugins start and before the watcher's first scan is done.
    editFile(join(sandbox.pluginsDir, 'alpha'), 'index.js', (text) => text.replace('echo: (params) => params,', 'echo: (params) => ({ v2: params }),'));
    await waitFor('the edited code to answer', async () => {
      const answer = await daemon.call<{ v2?: unknown }>('alpha', 'echo', 'x').catch(() => null);
      return typeof answer === 'object' && answer !== null && 'v2' in answer;
    }, { timeoutMs: 15_000 });
    const logs = () => daemon.daemon!.stdout.join('');
    await waitFor('the watcher to be up', () => logs().includes('for plugin changes'));
    // A barrier: a real change elsewhere, reported after the same debounce.
    sandbox.addPlugin('barrier');
    await daemon.waitForState('barrier', 'running');
    const beta = await daemon.status('beta');
    expect(beta.restarts).toBe(0);
    expect(logs()).not.toMatch(/plugin folder changed: [^"]*beta/);
  });
});
