// plugins/notifier: warden's lifecycle events reach a webhook (a loopback HTTP server here) for the
// changes an operator must hear of, rate-limited, from behind the wall with the network granted.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { bootDaemon, CLI, REPO, type Sandbox, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

let sandbox: Sandbox | undefined;
let daemon: TestDaemon | undefined;
let server: Server | undefined;

afterEach(async () => {
  await daemon?.cleanup();
  sandbox?.remove();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  sandbox = daemon = server = undefined;
});

/** A webhook on 127.0.0.1 that keeps every JSON body posted to it. */
async function webhook(): Promise<{ url: string; bodies: Array<Record<string, unknown>> }> {
  const bodies: Array<Record<string, unknown>> = [];
  server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      bodies.push(JSON.parse(text) as Record<string, unknown>);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies };
}

describe('plugins/notifier', () => {
  it('posts a disable to its webhook, skips routine changes, and drops what is over its burst', async () => {
    const hook = await webhook();
    ({ sandbox, daemon } = await bootDaemon(
      { plugins: { notifier: { permissions: { network: true }, config: { url: hook.url, burst: 2, windowMs: 600_000 } } } },
      { notifier: { from: join(REPO, 'plugins/notifier') }, victim: {} },
    ));
    await daemon.waitForState('notifier', 'running');
    expect(await daemon.call('notifier', 'stats')).toEqual({ sent: 0, dropped: 0, failed: 0, lastError: null });
    await daemon.waitForState('victim', 'running');

    await daemon.request('plugin.disable', { name: 'victim' });
    await waitFor('the disable to be posted', () => hook.bodies.length === 1);
    expect(hook.bodies[0]).toMatchObject({ kind: 'disabled', plugin: 'victim', from: 'stopping', to: 'disabled', reason: 'disabled by the operator', droppedSoFar: 0 });

    // enable → starting → running is routine: nothing posted. Two more disables: one fits the burst of 2.
    for (let i = 0; i < 2; i++) {
      await daemon.request('plugin.enable', { name: 'victim' });
      await daemon.waitForState('victim', 'running');
      await daemon.request('plugin.disable', { name: 'victim' });
    }
    const stats = await waitFor('the third disable to be dropped', async () => {
      const s = await daemon!.call<{ sent: number; dropped: number }>('notifier', 'stats');
      return s.sent + s.dropped === 3 ? s : undefined;
    });
    expect(stats).toEqual({ sent: 2, dropped: 1, failed: 0, lastError: null });
    expect(hook.bodies.map((b) => b.kind)).toEqual(['disabled', 'disabled']);
  });

  it('waits for the operator to approve its network, and the grant shows its audit', async () => {
    ({ sandbox, daemon } = await bootDaemon({}, { notifier: { from: join(REPO, 'plugins/notifier') } }));
    const status = await daemon.waitForState('notifier', 'waiting');
    expect(status.reason).toContain('network');
    // The operator's grant shows the audit of what it is approving.
    const grant = spawnSync(process.execPath, [CLI, 'plugin', 'grant', 'notifier', '--socket', sandbox.socketPath], {
      encoding: 'utf8',
      env: { ...process.env, WARDEN_CONFIG: sandbox.configPath },
    });
    expect(grant.status).toBe(0);
    expect(grant.stdout).toMatch(/^notifier: (running|starting).*\naudit: score 100\/100, 0 undeclared uses\n$/);
    await daemon.waitForState('notifier', 'running');
  });
});
