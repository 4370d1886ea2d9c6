import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nofileLimit } from '../../src/sandbox/launch.js';
import { CAPABILITIES, PROBE, Tracker, cmdline } from './helpers.js';

const tracker = new Tracker();
const servers: Server[] = [];
afterEach(async () => {
  await tracker.cleanup();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A loopback TCP server that accepts and hangs up; resolves to its port. */
async function loopbackServer(): Promise<number> {
  const server = createServer((socket) => socket.end());
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

describe('environment', () => {
  it('passes only the minimal set and declared names, never a secret from the parent', async () => {
    process.env.FAKE_SECRET = 'hunter2';
    process.env.FAKE_DECLARED = 'token';
    try {
      const { call, plan } = await tracker.start({ declared: { env: ['FAKE_DECLARED'] } });
      const env = (await call('env')) as Record<string, string>;
      expect(env.FAKE_SECRET).toBeUndefined();
      expect(env.FAKE_DECLARED).toBe('token');
      expect(env.HOME).toBe(PROBE);
      expect(env.WARDEN_PLUGIN_NAME).toBe('probe');
      expect(Object.keys(env).filter((k) => k.startsWith('NODE_'))).toEqual([]);
      expect(plan.enforcement.env).toBe(CAPABILITIES.wall ? 'clearenv' : 'env-allowlist');
    } finally {
      delete process.env.FAKE_SECRET;
      delete process.env.FAKE_DECLARED;
    }
  });

  it('lets the operator take a declared variable away', async () => {
    process.env.FAKE_DECLARED = 'token';
    try {
      const { call } = await tracker.start({ declared: { env: ['FAKE_DECLARED'] }, override: { env: [] } });
      expect(((await call('env')) as Record<string, string>).FAKE_DECLARED).toBeUndefined();
    } finally {
      delete process.env.FAKE_DECLARED;
    }
  });
});

describe('network', () => {
  const reason = 'no network namespace on this host (status says network: unenforced)';
  it.skipIf(!CAPABILITIES.wall && !CAPABILITIES.netns)(`network:false cannot reach a loopback server (skipped when: ${reason})`, async () => {
    const port = await loopbackServer();
    const { call, plan } = await tracker.start({ declared: { network: false } });
    expect(plan.enforcement.network).toBe('namespace');
    expect(await call('connect', { host: '127.0.0.1', port })).toMatchObject({ ok: false });
  });

  it('network:true reaches it', async () => {
    const port = await loopbackServer();
    const { call, plan } = await tracker.start({ declared: { network: true } });
    expect(plan.enforcement.network).toBe('allowed');
    expect(await call('connect', { host: '127.0.0.1', port })).toEqual({ ok: true });
  });

  it.skipIf(!CAPABILITIES.wall && !CAPABILITIES.netns)('the operator can cut a declared network off, also for command plugins', async () => {
    const port = await loopbackServer();
    const { call, host, plan } = await tracker.start({
      declared: { network: true },
      override: { network: false },
      manifest: { main: undefined, command: [process.execPath, 'index.js'] },
    });
    expect(plan.enforcement).toMatchObject({ network: 'namespace', fs: CAPABILITIES.wall ? 'mount-namespace' : 'unenforced', childProcess: 'unenforced' });
    expect(await call('connect', { host: '127.0.0.1', port })).toMatchObject({ ok: false });
    expect(cmdline(host.pid!)).toEqual([process.execPath, 'index.js']);
  });
});

describe.skipIf(!CAPABILITIES.shell)('RLIMIT_NOFILE', () => {
  it('fails the open past handles + margin with EMFILE', async () => {
    const { call, host, plan } = await tracker.start({ limits: { handles: 32 } });
    const n = nofileLimit(32);
    expect(n).toBe(40);
    expect(plan.enforcement.handles).toBe('rlimit+sampling');
    expect(readFileSync(`/proc/${host.pid}/limits`, 'utf8')).toMatch(new RegExp(`Max open files\\s+${n}\\s+${n}`));
    const result = (await call('open', { path: join(PROBE, 'plugin.json'), count: 200 })) as { opened: number; code: string };
    expect(result.code).toBe('EMFILE');
    expect(result.opened).toBeLessThan(n);
    await call('closeAll');
  });
});
