import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PluginHost } from '../../src/host/plugin-host.js';
import { createLogSystem } from '../../src/logging/index.js';
import { detectCapabilities } from '../../src/sandbox/capabilities.js';
import { planLaunch } from '../../src/sandbox/launch.js';
import { REPO } from '../helpers/daemon.js';
import { testManifest } from '../helpers/manifest.js';
import { isAlive } from '../helpers/wait.js';

const logs = createLogSystem({ level: 'debug', dir: null, maxBytes: 1 << 20, keep: 1 });
const hosts: PluginHost[] = [];


const CAPABILITIES = await detectCapabilities();

function host(dir: string, name: string, overrides: Partial<ConstructorParameters<typeof PluginHost>[0]> = {}): PluginHost {
  const h = new PluginHost({
    name,
    version: '1.0.0',
    launch: planLaunch({
      dir,
      manifest: testManifest({ name }),
      permissions: testManifest().permissions,
      limits: { memoryMb: 256, cpuPercent: 100, handles: 256, processes: 16 },
      capabilities: CAPABILITIES,
    }).launch,
    loggerFor: (pid) => logs.pluginLogger(name, { pid, restarts: 0 }),
    requests: { call: async () => null, emit: () => undefined },
    startTimeoutMs: 5000,
    health: { intervalMs: 60_000, timeoutMs: 1000 },
    ...overrides,
  });
  hosts.push(h);
  return h;
}

afterEach(() => {
  for (const h of hosts.splice(0)) h.kill();
});

describe('PluginHost', () => {
  it('climbs the kill ladder to SIGKILL for a plugin that ignores shutdown, stdin EOF and SIGTERM', async () => {
    const stubborn = host(join(REPO, 'test/fixtures/stubborn'), 'stubborn');
    await stubborn.start({ config: {}, state: null });
    const pid = stubborn.pid!;
    const started = Date.now();
    const exit = await stubborn.stop(600);
    const elapsed = Date.now() - started;
    expect(exit.signal).toBe('SIGKILL');
    expect(elapsed).toBeGreaterThanOrEqual(550);
    expect(elapsed).toBeLessThan(3000);
    expect(isAlive(pid)).toBe(false);
    const said = logs.tail({ name: 'stubborn' }).map((e) => e.msg);
    expect(said).toEqual(expect.arrayContaining(['ignoring stdin EOF', 'ignoring SIGTERM']));
  });

  it('stops a well-behaved SDK plugin with warden.shutdown, long before the deadline', async () => {
    const echo = host(join(REPO, 'plugins/echo'), 'echo');
    await echo.start({ config: {}, state: null });
    const started = Date.now();
    const exit = await echo.stop(5000);
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('reports a hang when health checks go unanswered', async () => {
    let hang = '';
    const chaos = host(join(REPO, 'test/fixtures/chaos'), 'chaos', {
      health: { intervalMs: 50, timeoutMs: 200 },
      onHang: (message) => (hang = message),
    });
    await chaos.start({ config: {}, state: null });
    await chaos.request('hang', {}, 100).catch(() => undefined);
    await expect.poll(() => hang, { timeout: 3000 }).toBe('no answer to warden.health within 200ms');
  });

  it('fails the start of a command that does not exist with a clear message', async () => {
    const dir = join(REPO, 'test/fixtures/stubborn');
    const ghost = new PluginHost({
      name: 'ghost',
      version: '1.0.0',
      launch: { file: '/nonexistent/binary', args: [], cwd: dir, env: {} },
      loggerFor: (pid) => logs.pluginLogger('ghost', { pid, restarts: 0 }),
      requests: { call: async () => null, emit: () => undefined },
      startTimeoutMs: 2000,
      health: { intervalMs: 60_000, timeoutMs: 1000 },
    });
    hosts.push(ghost);
    await expect(ghost.start({ config: {}, state: null })).rejects.toThrow(/exited during start \(could not start: .*ENOENT/);
  });
});
