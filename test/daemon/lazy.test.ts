// Lazy activation with a real daemon and real plugins: no process until needed, started by a call, an
// event, a schedule or a dependent's call, stopped once idle; the operator's stop apart; what the CLI shows.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonError } from '../../src/control/client.js';
import { ErrorCodes } from '../../src/protocol/index.js';
import { bootDaemon, CLI, REPO, type PluginSpec, type Sandbox, type TestDaemon } from '../helpers/daemon.js';
import { isAlive, waitFor } from '../helpers/wait.js';

const MINIMAL = join(REPO, 'test/fixtures/minimal');

let sandbox: Sandbox;
let daemon: TestDaemon;

afterEach(async () => {
  await daemon?.cleanup();
  sandbox?.remove();
});

/** A minimal hand-written plugin (no SDK), lazy unless said otherwise. */
function lazy(name: string, manifest: Record<string, unknown> = {}): PluginSpec {
  return { from: MINIMAL, manifest: { name, version: '1.0.0', main: 'index.js', activation: 'lazy', idleStopMs: 60_000, ...manifest } };
}

async function boot(plugins: Record<string, PluginSpec>): Promise<void> {
  // No hot reload: a reload's blue/green swap would move the snapshot on by itself.
  ({ sandbox, daemon } = await bootDaemon({ hotReload: { enabled: false } }, plugins));
}

/** The error a control request failed with. */
async function failure(promise: Promise<unknown>): Promise<DaemonError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DaemonError);
  return error as DaemonError;
}

describe('a lazy plugin', () => {
  it('has no process until its first call, which starts it and succeeds; `warden status` shows it idle', async () => {
    await boot({ sleepy: lazy('sleepy'), awake: lazy('awake', { activation: 'eager' }) });
    await daemon.waitForState('awake', 'running');
    expect(await daemon.status('sleepy')).toMatchObject({ state: 'stopped', reason: 'idle', pid: null });
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'status', '--socket', sandbox.socketPath]);
    expect(stdout).toMatch(/^sleepy\s.*\sstopped\s.*\sidle\s*$/m);

    const started = Date.now();
    expect(await daemon.call('sleepy', 'echo', { hello: 1 })).toEqual({ hello: 1 });
    const ms = Date.now() - started;
    const status = await daemon.status('sleepy');
    expect(status).toMatchObject({ state: 'running', reason: null, restarts: 0, lastError: null });
    expect(status.pid).toBeGreaterThan(0);
    console.log(`first call to an idle lazy plugin answered in ${ms} ms`);
  });

  it('stops after idleStopMs without calls, shows stopped/idle, and the next call starts it with its snapshot', async () => {
    await boot({ napper: lazy('napper', { idleStopMs: 400 }) });
    expect(await daemon.call('napper', 'state')).toBe(0);
    const pid = (await daemon.status('napper')).pid!;
    const idle = await daemon.waitForState('napper', 'stopped', 5000);
    expect(idle).toMatchObject({ reason: 'idle', pid: null, lastError: null });
    await waitFor(`pid ${pid} to be gone`, () => !isAlive(pid));
    // warden.snapshot was asked before the idle stop and handed to the next instance.
    expect(await daemon.call('napper', 'state')).toBe(1);
    expect((await daemon.status('napper')).pid).not.toBe(pid);
  });

  it('an event it subscribes to starts it and is delivered; so does a schedule', async () => {
    await boot({
      listener: lazy('listener', { subscribes: ['item.*'] }),
      ticker: lazy('ticker', { schedules: [{ cron: '* * * * * *', method: 'ping' }] }),
    });
    await daemon.request('events.publish', { topic: 'item.new', data: { n: 1 } });
    await daemon.waitForState('listener', 'running');
    await waitFor('the event to be delivered', async () => (await daemon.request<{ events: { delivered: number } }>('plugin.get', { name: 'listener' })).events.delivered === 1);
    await daemon.waitForState('ticker', 'running', 5000);
    await waitFor('a scheduled run to succeed', async () => {
      const details = await daemon.request<{ schedules: Array<{ lastRun: { ok: boolean } | null }> }>('plugin.get', { name: 'ticker' });
      return details.schedules[0]?.lastRun?.ok;
    }, { timeoutMs: 5000 });
  });

  it('an eager dependent runs without it, its warden.call starts it, its idle stop leaves the dependent running, the operator stopping it does not', async () => {
    await boot({
      lib: lazy('lib', { idleStopMs: 800 }),
      app: { manifest: { dependencies: { lib: '^1.0.0' } } }, // the chaos fixture (SDK): callDependency
    });
    const app = await daemon.waitForState('app', 'running');
    expect(await daemon.status('lib')).toMatchObject({ state: 'stopped', reason: 'idle' });
    expect(await daemon.call('app', 'callDependency', { plugin: 'lib', method: 'echo', params: 'via app' })).toBe('via app');
    expect(await daemon.status('lib')).toMatchObject({ state: 'running' });

    await daemon.waitForState('lib', 'stopped', 5000);
    expect(await daemon.status('lib')).toMatchObject({ reason: 'idle' });
    expect(await daemon.status('app')).toMatchObject({ state: 'running', pid: app.pid });

    await daemon.request('plugin.stop', { name: 'lib' }); // at rest: now the operator's stop
    expect(await daemon.waitForState('app', 'waiting')).toMatchObject({ reason: 'waiting for lib: it is stopped' });
    await daemon.request('plugin.start', { name: 'lib' });
    await daemon.waitForState('app', 'running');
  });

  it('a lazy plugin called starts its lazy dependencies first', async () => {
    await boot({ base: lazy('base'), top: lazy('top', { dependencies: { base: '^1.0.0' } }) });
    // The socket answers before every plugin is through its first launch: wait for top's rest.
    await waitFor('top to rest idle', async () => (await daemon.status('top')).reason === 'idle');
    expect(await daemon.status('top')).toMatchObject({ state: 'stopped', reason: 'idle' });
    expect(await daemon.call('top', 'ping')).toBe('pong');
    const [base, top] = [await daemon.status('base'), await daemon.status('top')];
    expect(base.state).toBe('running');
    expect(Date.parse(base.startedAt!)).toBeLessThanOrEqual(Date.parse(top.startedAt!));
  });

  it("the operator's stop is not idle: a call fails until `warden start`, which starts it", async () => {
    await boot({ held: lazy('held') });
    const stopped = await daemon.request('plugin.stop', { name: 'held' });
    expect(stopped).toMatchObject({ state: 'stopped', reason: null });
    const error = await failure(daemon.call('held', 'ping'));
    expect(error.code).toBe(ErrorCodes.NotRunning);
    expect(await daemon.request('plugin.start', { name: 'held' })).toMatchObject({ state: 'running' });
    expect(await daemon.call('held', 'ping')).toBe('pong');
  });
});
