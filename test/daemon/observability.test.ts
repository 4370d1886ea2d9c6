import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bootDaemon, REPO, type Sandbox, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

const HOG = join(REPO, 'test/fixtures/hog');
let sandbox: Sandbox;
let daemon: TestDaemon;

afterEach(async () => {
  await daemon?.cleanup();
  sandbox?.remove();
});

/** A port that was free a moment ago (the daemon needs a fixed one in its config). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('what an operator can see', () => {
  it('serves Prometheus metrics when metrics.listen is set', async () => {
    const port = await freePort();
    ({ sandbox, daemon } = await bootDaemon({ metrics: { listen: `127.0.0.1:${port}` }, sampling: { intervalMs: 200 } }, { alpha: {} }));
    await daemon.waitForState('alpha', 'running');
    await daemon.call('alpha', 'echo', 1);
    await daemon.call('alpha', 'fail').catch(() => undefined);
    await daemon.call('alpha', 'no-such-method').catch(() => undefined);
    const text = await waitFor('usage in the metrics', async () => {
      const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return body.includes('warden_plugin_memory_bytes{plugin="alpha"}') ? body : undefined;
    });
    expect(text).toMatch(/warden_plugin_state\{plugin="alpha",state="running"\} 1/);
    expect(text).toMatch(/warden_plugin_calls_total\{plugin="alpha",method="echo"\} 1/);
    expect(text).toMatch(/warden_plugin_call_failures_total\{plugin="alpha",method="fail"\} 1/);
    // Undeclared method names share one label, so callers cannot grow the series without bound.
    expect(text).toMatch(/warden_plugin_calls_total\{plugin="alpha",method="other"\} 1/);
    expect(text).toMatch(/warden_plugin_call_duration_seconds_count\{plugin="alpha",method="echo"\} 1/);
    expect(text).toMatch(/warden_plugin_circuit_state\{plugin="alpha"\} 0/);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
  });

  it('shows the effective permissions and what enforces each limit, and keeps secrets out of the environment', async () => {
    ({ sandbox, daemon } = await (async () => {
      process.env.WARDEN_TEST_SECRET = 'hunter2';
      process.env.WARDEN_TEST_DECLARED = 'visible';
      try {
        return await bootDaemon(
          { plugins: { guarded: { permissions: { network: true, fs: { read: ['./data'] }, env: ['WARDEN_TEST_DECLARED'] } } } },
          { guarded: { from: HOG, manifest: { main: 'index.js', permissions: { env: ['WARDEN_TEST_DECLARED'] } } } },
        );
      } finally {
        delete process.env.WARDEN_TEST_SECRET;
        delete process.env.WARDEN_TEST_DECLARED;
      }
    })());
    const status = await daemon.waitForState('guarded', 'running');
    expect(await daemon.call('guarded', 'env', { name: 'WARDEN_TEST_SECRET' })).toBeNull();
    expect(await daemon.call('guarded', 'env', { name: 'WARDEN_TEST_DECLARED' })).toBe('visible');
    expect(await daemon.call('guarded', 'env', { name: 'NODE_EXTRA_CA_CERTS' })).toBeNull();
    expect(status.permissions).toEqual({
      fs: { read: [join(sandbox.pluginsDir, 'guarded/data')], write: [] },
      network: true,
      childProcess: false,
      env: ['WARDEN_TEST_DECLARED'],
    });
    expect(status.enforcement).toMatchObject({
      memoryMb: 'cgroup+sampling',
      handles: 'rlimit+sampling',
      fs: 'mount-namespace+node-permission',
      network: 'allowed',
      childProcess: 'node-permission',
      env: 'clearenv',
      signals: 'pid-namespace',
      identity: 'setpriv:nobody',
      syscalls: 'seccomp',
    });
  });
});
