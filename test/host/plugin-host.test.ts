import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ExitInfo } from '../../src/host/exit.js';
import { PluginHost, STOP_KILL_GRACE_MS } from '../../src/host/plugin-host.js';
import type { LaunchSpec } from '../../src/sandbox/launch.js';
import { createLogSystem } from '../../src/logging/index.js';
import { detectCapabilities } from '../../src/sandbox/capabilities.js';
import { planLaunch } from '../../src/sandbox/launch.js';
import { REPO } from '../helpers/daemon.js';
import { testManifest } from '../helpers/manifest.js';
import { isAlive, waitFor } from '../helpers/wait.js';

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

/** The stubborn fixture as a plain child of the test (no wall): only SIGKILL ends it. */
const STUBBORN = join(REPO, 'test/fixtures/stubborn');
const plainStubborn: LaunchSpec = { file: process.execPath, args: [join(STUBBORN, 'index.js')], cwd: STUBBORN, env: { PATH: process.env.PATH ?? '' } };

/** A cgroup v1 freezer: a frozen task takes SIGKILL but does not die until thawed (v2 lets it die). */
const FREEZER = '/sys/fs/cgroup/freezer';
const canFreeze = ((): boolean => {
  try {
    accessSync(FREEZER, constants.W_OK);
    return existsSync(join(FREEZER, 'cgroup.procs'));
  } catch {
    return false;
  }
})();
const frozen: string[] = [];
let freezes = 0;

function freeze(pid: number): string {
  const dir = join(FREEZER, `warden-test-${process.pid}-${++freezes}`);
  mkdirSync(dir);
  frozen.push(dir);
  writeFileSync(join(dir, 'cgroup.procs'), String(pid));
  writeFileSync(join(dir, 'freezer.state'), 'FROZEN');
  return dir;
}

const thaw = (dir: string): void => writeFileSync(join(dir, 'freezer.state'), 'THAWED');
const procsIn = (dir: string): number[] => readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);

// Registered after the hosts' kill, so it runs before it: thaw, kill what is left, remove the folder.
afterEach(async () => {
  for (const dir of frozen.splice(0)) {
    thaw(dir);
    for (const pid of procsIn(dir)) process.kill(pid, 'SIGKILL');
    await waitFor(`${dir} to empty`, () => procsIn(dir).length === 0);
    rmdirSync(dir);
  }
});

/** stop's bound: its timeout plus the fixed grace for the kill, with slack for a busy machine. */
const withinBound = (elapsed: number, timeoutMs: number): void => {
  expect(elapsed).toBeGreaterThanOrEqual(timeoutMs + STOP_KILL_GRACE_MS - 50);
  expect(elapsed).toBeLessThan(timeoutMs + STOP_KILL_GRACE_MS + 1000);
};

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

  it.skipIf(!canFreeze)(
    `resolves within timeout + grace for a process SIGKILL cannot end yet (frozen by the cgroup v1 freezer), and reports its real exit later${canFreeze ? '' : ' (skipped: no writable cgroup v1 freezer)'}`,
    async () => {
      const exits: ExitInfo[] = [];
      const stuck = host(STUBBORN, 'frozen', { launch: plainStubborn, onExit: (exit) => exits.push(exit), killTree: () => new Promise<void>(() => undefined) });
      await stuck.start({ config: {}, state: null });
      const pid = stuck.pid!;
      const dir = freeze(pid);
      await waitFor('the freeze', () => readFileSync(join(dir, 'freezer.state'), 'utf8').trim() === 'FROZEN');
      const started = Date.now();
      const exit = await stuck.stop(600);
      withinBound(Date.now() - started, 600);
      expect(exit).toEqual({ code: null, signal: null, unconfirmed: true });
      expect(stuck.exited).toBe(false);
      expect(isAlive(pid)).toBe(true);
      expect(exits).toEqual([]);
      // Still watched: once thawed the pending SIGKILL ends it, and the exit reaches every waiter.
      const later = stuck.waitForExit();
      thaw(dir);
      expect(await later).toMatchObject({ signal: 'SIGKILL' });
      expect(stuck.exited).toBe(true);
      expect(exits).toEqual([expect.objectContaining({ signal: 'SIGKILL' })]);
      expect(isAlive(pid)).toBe(false);
    },
    20_000,
  );

  it('resolves within timeout + grace when SIGTERM and SIGKILL seemingly do nothing and the cgroup kill never finishes', async () => {
    const realKill = process.kill.bind(process);
    const stuck = host(STUBBORN, 'unkillable', { launch: plainStubborn, killTree: () => new Promise<void>(() => undefined) });
    await stuck.start({ config: {}, state: null });
    const pid = stuck.pid!;
    const signals = vi.spyOn(process, 'kill').mockImplementation((target, signal) => (signal === 'SIGTERM' || signal === 'SIGKILL' ? true : realKill(target, signal)));
    let exit: ExitInfo;
    const started = Date.now();
    try {
      exit = await stuck.stop(600, { graceful: false });
    } finally {
      signals.mockRestore();
    }
    withinBound(Date.now() - started, 600);
    expect(exit).toEqual({ code: null, signal: null, unconfirmed: true });
    expect(isAlive(pid)).toBe(true);
    const later = stuck.waitForExit();
    realKill(pid, 'SIGKILL');
    expect(await later).toMatchObject({ signal: 'SIGKILL' });
  }, 20_000);

  it('a forced stop returns the exit it saw once its bound passes, though the cgroup kill never finishes', async () => {
    const stuck = host(STUBBORN, 'forced', { launch: plainStubborn, killTree: () => new Promise<void>(() => undefined) });
    await stuck.start({ config: {}, state: null });
    const pid = stuck.pid!;
    const started = Date.now();
    const exit = await stuck.stop(600, { force: true });
    withinBound(Date.now() - started, 600);
    expect(exit).toMatchObject({ code: null, signal: 'SIGKILL' });
    expect(exit).not.toHaveProperty('unconfirmed');
    expect(isAlive(pid)).toBe(false);
  }, 20_000);

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
