// Permissions beyond its own folder wait for the operator (docs/manifest.md, "Permissions"): a plugin that asks for
// network or an env name is `waiting` until `plugin.grant` (socket or CLI), and goes back on
// `plugin.revoke`; a hot reload that asks for more than was approved keeps the old version running.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';
import { LANGS, attacker, bootWall, teardown, type WallBoot } from './helpers.js';

const run = promisify(execFile);
const SECRET = 'granted-wall-token';

describe.each(LANGS)('approval of a $lang plugin', (lang) => {
  let boot: WallBoot | undefined;
  let server: Server | undefined;
  let port = 0;

  beforeAll(async () => {
    server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
    boot = await bootWall(
      { hotReload: { enabled: true, debounceMs: 50 } },
      {
        netter: attacker(lang, { permissions: { network: true, fs: { write: ['./out'] } } }),
        reloader: attacker(lang),
        envy: attacker(lang, { permissions: { env: ['WARDEN_WALL_TOKEN'] } }),
      },
      { WARDEN_WALL_TOKEN: SECRET },
    );
  });
  afterAll(async () => {
    await teardown(boot);
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  });

  it('network: waiting with the grant command, running once granted, waiting again once revoked', async () => {
    const { daemon } = boot!;
    const waiting = await daemon.waitForState('netter', 'waiting');
    expect(waiting.reason).toContain('network');
    expect(waiting.reason).toContain('warden plugin grant netter');
    expect(waiting.pid).toBeNull();

    const granted = await daemon.request<{ name: string }>('plugin.grant', { name: 'netter' });
    expect(granted.name).toBe('netter');
    const running = await daemon.waitForState('netter', 'running');
    expect(running.enforcement.network).toBe('allowed');
    expect(running.reason).toBeNull();
    // Granted means granted: the host's loopback is reachable (no network namespace of its own).
    expect(await daemon.call('netter', 'connectTcp', { host: '127.0.0.1', port })).toEqual({ ok: true });

    await daemon.request('plugin.revoke', { name: 'netter' });
    const again = await daemon.waitForState('netter', 'waiting');
    expect(again.reason).toContain('warden plugin grant netter');
    expect(again.pid).toBeNull();
  });

  it('a hot reload that asks for network keeps the old version until the grant', async () => {
    const { daemon, sandbox } = boot!;
    const before = await daemon.waitForState('reloader', 'running');
    expect(before.version).toBe('1.0.0');
    const file = join(sandbox.pluginsDir, 'reloader', 'plugin.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...manifest, version: '1.1.0', permissions: { ...manifest.permissions, network: true } }, null, 2));

    const refused = await waitFor('the reload to be refused', async () => {
      const status = await daemon.status('reloader');
      return status.reason?.startsWith('reload failed:') ? status : undefined;
    });
    expect(refused.reason).toContain('network');
    expect(refused.reason).toContain('warden plugin grant reloader');
    expect(refused).toMatchObject({ state: 'running', version: '1.0.0', pid: before.pid });
    expect(refused.lastError).toMatchObject({ kind: 'reload' });
    expect(refused.enforcement.network).toBe('namespace');
    expect(await daemon.call('reloader', 'whoami')).toMatchObject({ lang: lang.lang });

    await daemon.request('plugin.grant', { name: 'reloader' });
    const after = await waitFor('the new version to run', async () => {
      const status = await daemon.status('reloader');
      return status.state === 'running' && status.version === '1.1.0' ? status : undefined;
    });
    expect(after.pid).not.toBe(before.pid);
    expect(after.enforcement.network).toBe('allowed');
    expect(after.reason).toBeNull();
    expect(await daemon.call('reloader', 'connectTcp', { host: '127.0.0.1', port })).toEqual({ ok: true });
  });

  it('env: `warden plugin grant NAME` on the CLI exits 0 and the granted name is passed', async () => {
    const { daemon, sandbox } = boot!;
    const waiting = await daemon.waitForState('envy', 'waiting');
    expect(waiting.reason).toContain('env WARDEN_WALL_TOKEN');
    expect(waiting.reason).toContain('warden plugin grant envy');
    // execFile rejects on any exit code but 0: resolving is the exit-0 assertion.
    const cli = await run(process.execPath, [CLI, '--socket', sandbox.socketPath, 'plugin', 'grant', 'envy']);
    expect(cli.stdout).toContain('envy');
    await daemon.waitForState('envy', 'running');
    const env = await daemon.call<{ value: Record<string, string> }>('envy', 'env');
    expect(env.value.WARDEN_WALL_TOKEN).toBe(SECRET);
  });
});
