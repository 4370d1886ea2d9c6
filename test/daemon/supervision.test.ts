import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonError } from '../../src/control/client.js';
import { FAST_DEFAULTS, REPO, Sandbox, TestDaemon, bootDaemon, type PluginSpec } from '../helpers/daemon.js';
import { isAlive, waitFor } from '../helpers/wait.js';

let sandbox: Sandbox;
let daemon: TestDaemon;

async function boot(config: Record<string, unknown> = {}, plugins: Record<string, PluginSpec> = {}) {
  ({ sandbox, daemon } = await bootDaemon(config, plugins));
}

async function callError(promise: Promise<unknown>): Promise<DaemonError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DaemonError);
  return error as DaemonError;
}

afterEach(async () => {
  await daemon?.cleanup();
  sandbox?.remove();
});

describe('supervision', () => {
  it('runs plugins and routes calls, while an invalid manifest leaves the others running', async () => {
    await boot({}, {
      alpha: {},
      broken: { manifest: { version: 'one' } },
      python: { from: join(REPO, 'plugins/hello-python') },
    });
    await daemon.waitForState('alpha', 'running');
    expect(await daemon.call('alpha', 'echo', { hi: 1 })).toEqual({ hi: 1 });

    const broken = await daemon.status('broken');
    expect(broken.state).toBe('invalid');
    expect(broken.reason).toMatch(/version/);

    await daemon.waitForState('hello-python', 'running');
    expect(await daemon.call('hello-python', 'hello', { name: 'warden' })).toEqual({ greeting: 'Hello, warden!' });
  });

  it('restarts a plugin killed with SIGKILL and it answers again', async () => {
    await boot({}, { alpha: {} });
    const before = await daemon.waitForState('alpha', 'running');
    process.kill(before.pid!, 'SIGKILL');
    const after = await waitFor('a new alpha process', async () => {
      const status = await daemon.status('alpha');
      return status.state === 'running' && status.pid !== before.pid ? status : undefined;
    });
    expect(after.restarts).toBe(1);
    expect(after.lastError).toMatchObject({ kind: 'crash', message: expect.stringMatching(/SIGKILL/) });
    expect(await daemon.call('alpha', 'echo', 'again')).toBe('again');
  });

  it('kills and restarts a plugin that stops answering health checks', async () => {
    await boot({}, { alpha: {} });
    const before = await daemon.waitForState('alpha', 'running');
    await callError(daemon.call('alpha', 'hang', {}, 300));
    const after = await waitFor('alpha restarted after the hang', async () => {
      const status = await daemon.status('alpha');
      return status.state === 'running' && status.pid !== before.pid ? status : undefined;
    });
    expect(after.lastError?.kind).toBe('hang');
    expect(isAlive(before.pid!)).toBe(false);
  });

  it('disables a crash loop with the reason, keeps it disabled across a daemon restart, and enable revives it', async () => {
    await boot(
      { defaults: { ...FAST_DEFAULTS, restart: { initialDelayMs: 10, maxDelayMs: 50, maxRestarts: 3, windowMs: 60000 } } },
      { loop: { files: { 'crash-on-start': '' } }, steady: {} },
    );
    const disabled = await daemon.waitForState('loop', 'disabled');
    expect(disabled.reason).toMatch(/^4 failures in 60s; last: start: exited during start \(exit code 3/);
    expect(disabled.lastError?.kind).toBe('start');
    expect((await daemon.status('steady')).state).toBe('running');

    expect(await daemon.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    await daemon.start();
    const again = await daemon.status('loop');
    expect(again.state).toBe('disabled');
    expect(again.reason).toBe(disabled.reason);

    rmSync(join(sandbox.pluginsDir, 'loop/crash-on-start'));
    const enabled = await daemon.request<{ state: string }>('plugin.enable', { name: 'loop' });
    expect(enabled.state).toBe('running');
    expect(await daemon.call('loop', 'echo', 1)).toBe(1);
  });

  it('backs off between restarts instead of spinning', async () => {
    await boot(
      { defaults: { ...FAST_DEFAULTS, restart: { initialDelayMs: 400, maxDelayMs: 5000, maxRestarts: 10, windowMs: 60000 } } },
      { loop: { files: { 'crash-on-start': '' } } },
    );
    const status = await daemon.waitForState('loop', 'backoff');
    expect(status.reason).toMatch(/restarting in \d+ms/);
    expect(status.lastError?.kind).toBe('start');
  });

  it('answers a call in flight with -32006 when the plugin dies, and times out a slow call with -32004', async () => {
    await boot({}, { alpha: {} });
    const running = await daemon.waitForState('alpha', 'running');
    const pending = daemon.call('alpha', 'sleep', { ms: 10_000 });
    await waitFor('the call to be in flight', () => true);
    setTimeout(() => process.kill(running.pid!, 'SIGKILL'), 100);
    expect((await callError(pending)).code).toBe(-32006);

    await daemon.waitForState('alpha', 'running');
    const slow = await callError(daemon.call('alpha', 'sleep', { ms: 2000 }, 100));
    expect(slow.code).toBe(-32004);
    expect(slow.message).toMatch(/timed out after 100ms/);
  });

  it('opens the circuit after consecutive failures and closes it after a successful trial', async () => {
    await boot({ defaults: { ...FAST_DEFAULTS, circuit: { failureThreshold: 3, cooldownMs: 300 } } }, { alpha: {} });
    await daemon.waitForState('alpha', 'running');
    for (let i = 0; i < 3; i++) expect((await callError(daemon.call('alpha', 'fail'))).code).toBe(1001);
    expect((await daemon.status('alpha')).circuit).toBe('open');
    expect((await callError(daemon.call('alpha', 'echo', 1))).code).toBe(-32003);
    // Unknown methods are the caller's mistake: they do not count.
    await waitFor('half-open', async () => (await daemon.status('alpha')).circuit === 'half-open');
    expect(await daemon.call('alpha', 'echo', 2)).toBe(2);
    const status = await daemon.status('alpha');
    expect(status.circuit).toBe('closed');
    expect(status.recentErrors).toHaveLength(3);
    expect(status.recentErrors[0]).toMatchObject({ method: 'fail', message: 'boom', stack: expect.stringContaining('Error') });
  });

  it('keeps serving through garbage and a 5 MiB line on stdout, with bounded daemon memory', async () => {
    await boot({}, { alpha: {} });
    await daemon.waitForState('alpha', 'running');
    const rssBefore = daemonRssBytes(daemon.daemon!.proc.pid!);
    expect(await daemon.call('alpha', 'garbage')).toBe('ok');
    for (let i = 0; i < 3; i++) expect(await daemon.call('alpha', 'bigline', { mb: 5 })).toBe('ok');
    expect(await daemon.call('alpha', 'echo', 'still here')).toBe('still here');
    const growth = daemonRssBytes(daemon.daemon!.proc.pid!) - rssBefore;
    expect(growth).toBeLessThan(40 * 1024 * 1024);
    const { entries } = await daemon.request<{ entries: Array<{ msg: string; stdout?: string }> }>('logs.tail', { name: 'alpha', lines: 50 });
    expect(entries.some((e) => e.stdout === 'this is not json')).toBe(true);
    expect(entries.some((e) => /dropped a stdout line of \d+ bytes/.test(e.msg))).toBe(true);
    expect((await daemon.status('alpha')).restarts).toBe(0);

    // An answer too long for one line is dropped; the caller hears so at once, not at its timeout.
    const started = Date.now();
    const tooLong = await callError(daemon.call('alpha', 'hugeAnswer', { mb: 2 }, 20_000));
    expect(tooLong.code).toBe(-32603);
    expect(tooLong.message).toMatch(/answer of \d+ bytes is over the 1 MiB line limit/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('serves a plugin stderr line through logs.tail', async () => {
    await boot({}, { alpha: {} });
    await daemon.waitForState('alpha', 'running');
    await daemon.call('alpha', 'say', { text: 'hello from stderr' });
    const entry = await waitFor('the stderr line in the log', async () => {
      const { entries } = await daemon.request<{ entries: Array<Record<string, unknown>> }>('logs.tail', { name: 'alpha' });
      return entries.find((e) => e.msg === 'hello from stderr');
    });
    expect(entry).toMatchObject({ level: 'info', plugin: 'alpha', pid: expect.any(Number), restarts: 0 });
  });
});

function daemonRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) * 1024;
}

describe('why a start failed', () => {
  it('names the error line of a plugin that cannot load, not node\'s version banner, and logs it at warn', async () => {
    await boot({}, { broken: { files: { 'index.js': 'const x = ;\n' } } });
    const status = await waitFor('the failed start to be recorded', async () => {
      const s = await daemon.status('broken');
      return s.lastError?.kind === 'start' ? s : undefined;
    });
    expect(status.lastError!.message).toMatch(/SyntaxError: Unexpected token/);
    expect(status.lastError!.message).not.toMatch(/Node\.js v\d/);
    const { entries } = await daemon.request<{ entries: Array<{ level: string; msg: string }> }>('logs.tail', { name: 'broken', level: 'warn' });
    expect(entries.some((e) => e.level === 'warn' && /SyntaxError/.test(e.msg))).toBe(true);
  });

  it('names the error in the reason, in backoff and once disabled', async () => {
    await boot(
      { defaults: { ...FAST_DEFAULTS, restart: { initialDelayMs: 400, maxDelayMs: 400, maxRestarts: 1, windowMs: 60000 } } },
      { broken: { files: { 'index.js': 'const x = ;\n' } } },
    );
    const backoff = await daemon.waitForState('broken', 'backoff');
    expect(backoff.reason).toMatch(/^start: exited during start \(.*SyntaxError: Unexpected token.*\); restarting in \d+ms$/);
    const disabled = await daemon.waitForState('broken', 'disabled');
    expect(disabled.reason).toMatch(/^2 failures in 60s; last: start: exited during start \(.*SyntaxError: Unexpected token/);
    expect(disabled.lastError).toMatchObject({ kind: 'start', message: expect.stringMatching(/SyntaxError: Unexpected token/) });
    expect(disabled.restarts).toBe(1);
  });

  it('names the error of a failed reload in the reason and lastError, and the old version keeps serving', async () => {
    await boot({ hotReload: { enabled: false } }, { alpha: {} });
    const before = await daemon.waitForState('alpha', 'running');
    writeFileSync(join(sandbox.pluginsDir, 'alpha/index.js'), 'const x = ;\n');
    // A changed plugins.alpha.config swaps it blue/green: the new instance loads the broken file.
    sandbox.writeConfig({ hotReload: { enabled: false }, defaults: FAST_DEFAULTS, plugins: { alpha: { config: { v: 2 } } } });
    expect(await daemon.request('daemon.reload')).toEqual({ ok: true });
    const status = await daemon.status('alpha');
    expect(status).toMatchObject({ state: 'running', pid: before.pid, restarts: 0 });
    expect(status.reason).toMatch(/^reload failed: exited during start \(.*SyntaxError: Unexpected token/);
    expect(status.lastError).toMatchObject({ kind: 'reload', message: expect.stringMatching(/SyntaxError: Unexpected token/) });
    expect(status.lastError!.message).not.toMatch(/Node\.js v\d/);
    expect(await daemon.call('alpha', 'echo', 'still')).toBe('still');
  });
});
