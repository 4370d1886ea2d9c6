// The wall against a hostile plugin, in JS and in Python, against a real daemon (CONTRACT §7):
// signals, the control socket, the daemon's files and secrets, writes, identity and its view of
// processes. One daemon per language: none of these attacks is meant to change anything.
//
// The JS attacker has childProcess granted (by the operator's config) so that every file attack is
// also tried through /bin/sh (`via: 'child'`), where node's permission model no longer stands in
// front of the wall: what is left is what the kernel enforces.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { createServer, type Server } from 'node:net';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/daemon.js';
import { LANGS, attacker, bootWall, teardown, type WallBoot } from './helpers.js';

type Outcome = { ok: boolean; code?: unknown; value?: unknown };
const SECRET = 'hunter2-wall-secret';

describe.each(LANGS)('the wall holds a hostile $lang plugin', (lang) => {
  let boot: WallBoot | undefined;
  let daemonPid = 0;
  /** Attack routes: in-process for both; for JS also through a shell, past node's permission model. */
  const vias = lang.lang === 'js' ? (['node', 'child'] as const) : (['node'] as const);
  const call = <T = any>(method: string, params: unknown = {}) => boot!.daemon.call<T>('attacker', method, params);

  beforeAll(async () => {
    boot = await bootWall(
      { plugins: { attacker: { permissions: { childProcess: true } } } },
      { attacker: attacker(lang), sibling: attacker(lang) },
      { WARDEN_TEST_SECRET: SECRET },
    );
    await boot.daemon.waitForState('attacker', 'running');
    await boot.daemon.waitForState('sibling', 'running');
    daemonPid = (await boot.daemon.request<{ pid: number }>('status')).pid;
    // A grant writes state.json, so the daemon's state file exists on the host while the plugin tries it.
    await boot.daemon.request('plugin.grant', { name: 'attacker' });
  });
  afterAll(() => teardown(boot));

  it('the daemon survives killParent and a SIGKILL aimed at its pid', async () => {
    const { daemon } = boot!;
    const before = await daemon.status('attacker');
    expect(daemonPid).toBe(daemon.daemon!.proc.pid);
    const parent = await call<Outcome & { ppid: number }>('killParent', { signal: 'SIGKILL' });
    const direct = await call<Outcome>('kill', { pid: daemonPid, signal: 9 });
    // Inside its pid namespace the daemon's pid does not exist; its parent is the sandbox's init, which it may not signal.
    expect(direct).toEqual({ ok: false, code: 'ESRCH' });
    expect(parent).toMatchObject({ ppid: 1, ok: false });
    expect(daemon.daemon!.proc.exitCode).toBeNull();
    const status = await daemon.request<{ pid: number }>('status');
    expect(status.pid).toBe(daemonPid);
    const after = await daemon.status('attacker');
    expect(after).toMatchObject({ state: 'running', pid: before.pid, restarts: before.restarts });
  });

  it('a sibling survives kill of its host pid (ESRCH inside the pid namespace)', async () => {
    const { daemon } = boot!;
    const sibling = await daemon.status('sibling');
    expect(sibling.pid).toBeGreaterThan(1);
    for (const signal of [9, 'SIGTERM', 'SIGSTOP']) {
      expect(await call('kill', { pid: sibling.pid, signal }), `kill -${signal} ${sibling.pid}`).toEqual({ ok: false, code: 'ESRCH' });
    }
    expect(await daemon.call('sibling', 'whoami')).toMatchObject({ lang: lang.lang });
    expect(await daemon.status('sibling')).toMatchObject({ state: 'running', pid: sibling.pid, restarts: 0 });
  });

  it('the control socket is unreachable, and no other plugin can be disabled through it or the daemon', async () => {
    const { daemon, sandbox } = boot!;
    expect(existsSync(sandbox.socketPath)).toBe(true);
    expect(await call('connect', { path: sandbox.socketPath })).toEqual({ ok: false, code: 'ENOENT' });
    const disable = { method: 'plugin.disable', params: { name: 'sibling' } };
    expect(await call('connect', { path: sandbox.socketPath, send: disable })).toEqual({ ok: false, code: 'ENOENT' });
    // Through the daemon: only dependencies may be called (-32005), and there is no lifecycle method to call.
    expect(await call('callPlugin', { plugin: 'sibling', method: 'whoami' })).toMatchObject({ ok: false, code: -32005 });
    expect(await call('callPlugin', { plugin: 'warden', method: 'plugin.disable', params: { name: 'sibling' } })).toMatchObject({ ok: false });
    expect(await daemon.status('sibling')).toMatchObject({ state: 'running', reason: null });
  });

  it("cannot read the host's secrets, the daemon's files, another plugin's folder or the daemon's home", async () => {
    const { sandbox } = boot!;
    const stateFile = join(sandbox.stateDir, 'state.json');
    // A secret in the daemon's home; only warden's own SDK may be bound from there (when warden is installed in it).
    const homeSecret = join(homedir(), `.warden-test-secret-${process.pid}`);
    writeFileSync(homeSecret, 'hunter2');
    const targets = [
      '/etc/shadow',
      `/proc/${daemonPid}/environ`,
      `/proc/${daemonPid}/cmdline`,
      stateFile,
      sandbox.configPath,
      join(sandbox.stateDir, 'logs'),
      join(sandbox.pluginsDir, 'sibling'),
      join(sandbox.pluginsDir, 'sibling/plugin.json'),
      homeSecret,
    ];
    // Each target is there on the host: a failure below is the wall, not a missing file.
    for (const path of targets.filter((p) => !p.startsWith('/proc/'))) expect(existsSync(path), path).toBe(true);
    const outcomes: Record<string, Outcome> = {};
    for (const via of vias) {
      for (const path of targets) outcomes[`${via} ${path}`] = await call<Outcome>('read', { path, via });
    }
    rmSync(homeSecret, { force: true });
    const denied = Object.fromEntries(Object.keys(outcomes).map((key) => [key, expect.objectContaining({ ok: false })]));
    expect(outcomes).toEqual(denied);
    // Listing the home shows nothing of it, at most the empty path down to warden's own package.
    const towardsPackage = relative(homedir(), REPO).startsWith('..') ? [] : [relative(homedir(), REPO).split('/')[0]];
    for (const via of vias) {
      const listing = await call<Outcome>('read', { path: homedir(), via });
      if (!listing.ok) continue;
      // `ls` through a child prints names; node and python list the folder as {entries}.
      const value = listing.value as string | { entries?: string[] };
      const names = typeof value === 'string' ? value.split(/\s+/).filter(Boolean) : value.entries ?? [];
      expect(names, `${via} ${homedir()}`).toEqual(towardsPackage);
    }
  });

  it("holds no secret from the daemon's environment", async () => {
    for (const via of vias) {
      const env = await call<{ ok: boolean; value: Record<string, string> }>('env', { via });
      expect(env.ok).toBe(true);
      expect(env.value.WARDEN_TEST_SECRET, via).toBeUndefined();
      expect(Object.entries(env.value).filter(([, v]) => v.includes(SECRET)), via).toEqual([]);
      expect(env.value.WARDEN_PLUGIN_NAME).toBe('attacker');
    }
  });

  it('writes nowhere but its fs.write folder and its private /tmp', async () => {
    const { sandbox } = boot!;
    const dir = join(sandbox.pluginsDir, 'attacker');
    const manifest = readFileSync(join(dir, 'plugin.json'), 'utf8');
    const tmpName = `/tmp/warden-wall-${lang.lang}-${process.pid}-${Date.now()}`;
    for (const via of vias) {
      const refused = {
        ownManifest: await call<Outcome>('write', { path: join(dir, 'plugin.json'), via }),
        ownNewFile: await call<Outcome>('write', { path: join(dir, `pwned-${via}`), via }),
        pluginsDir: await call<Outcome>('write', { path: join(sandbox.pluginsDir, `pwned-${via}`), via }),
        siblingFolder: await call<Outcome>('write', { path: join(sandbox.pluginsDir, 'sibling', `pwned-${via}`), via }),
        stateDir: await call<Outcome>('write', { path: join(sandbox.stateDir, `pwned-${via}`), via }),
        config: await call<Outcome>('write', { path: sandbox.configPath, via }),
        usr: await call<Outcome>('write', { path: `/usr/pwned-${via}`, via }),
      };
      expect(refused, via).toEqual(Object.fromEntries(Object.keys(refused).map((k) => [k, expect.objectContaining({ ok: false })])));
      // The granted fs.write folder inside its own folder is writable, and the write lands on the host.
      expect(await call('write', { path: join(dir, 'out', `ok-${via}`), data: `written by ${via}`, via }), via).toMatchObject({ ok: true });
      expect(readFileSync(join(dir, 'out', `ok-${via}`), 'utf8')).toBe(`written by ${via}`);
      // /tmp is its own: what it writes there is not on the host. (A JS plugin's own fs calls are
      // refused there by node's permission model first; through a child the write succeeds, privately.)
      const tmp = await call<Outcome>('write', { path: `${tmpName}-${via}`, via });
      if (lang.lang === 'js' && via === 'node') expect(tmp).toEqual({ ok: false, code: 'ERR_ACCESS_DENIED' });
      else expect(tmp, via).toMatchObject({ ok: true });
      expect(existsSync(`${tmpName}-${via}`)).toBe(false);
    }
    expect(readFileSync(join(dir, 'plugin.json'), 'utf8')).toBe(manifest);
    expect(existsSync(join(dir, 'pwned-node'))).toBe(false);
    expect(existsSync(join(sandbox.pluginsDir, 'pwned-node'))).toBe(false);
    expect(existsSync(join(sandbox.stateDir, 'pwned-node'))).toBe(false);
  });

  it('runs as nobody with no capabilities, no_new_privs and a seccomp filter', async () => {
    // node may not read /proc under its permission model: the JS attacker reads its status through a child,
    // which inherits the same credentials, capability sets, no_new_privs and filter.
    const identity = await call<{ uid: number; gid: number; euid: number; status: string[] | null }>('identity', {
      via: lang.lang === 'js' ? 'child' : 'node',
    });
    expect(identity).toMatchObject({ uid: 65534, euid: 65534, gid: 65534 });
    const line = (key: string) => identity.status?.find((l) => l.startsWith(`${key}:`))?.split(/\s+/).slice(1).join(' ');
    expect(line('Uid')).toBe('65534 65534 65534 65534');
    expect(line('CapEff')).toBe('0000000000000000');
    expect(line('CapPrm')).toBe('0000000000000000');
    expect(line('CapAmb')).toBe('0000000000000000');
    expect(line('NoNewPrivs')).toBe('1');
    expect(line('Seccomp')).toBe('2');
  });

  it('sees only its own pid namespace: a handful of pids, no daemon, no sibling', async () => {
    const { daemon } = boot!;
    const sibling = await daemon.status('sibling');
    const procs = await call<{ ok: boolean; value: Array<{ pid: number; cmdline: string }> }>('procs', {
      via: lang.lang === 'js' ? 'child' : 'node',
    });
    expect(procs.ok).toBe(true);
    const pids = procs.value.map((p) => p.pid);
    expect(pids).toContain(1);
    expect(pids.length).toBeLessThanOrEqual(8);
    expect(pids).not.toContain(daemonPid);
    expect(pids).not.toContain(sibling.pid);
    expect(procs.value.filter((p) => p.cmdline.includes('daemon --config'))).toEqual([]);
  });

  it('has no network: a loopback server on the host is out of reach', async () => {
    const server: Server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      expect(await call('connectTcp', { host: '127.0.0.1', port })).toMatchObject({ ok: false });
      expect((await boot!.daemon.status('attacker')).enforcement.network).toBe('namespace');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
