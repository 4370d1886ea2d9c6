import { execFile } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonError } from '../../src/control/client.js';
import { CLI, FAST_DEFAULTS, REPO, Sandbox, spawnDaemon, TestDaemon, bootDaemon, type PluginSpec } from '../helpers/daemon.js';
import { descendantsOf, isAlive, waitFor } from '../helpers/wait.js';
import { join } from 'node:path';

const run = promisify(execFile);
let sandbox: Sandbox;
let daemon: TestDaemon;
let extra: TestDaemon | null = null;

async function boot(config: Record<string, unknown> = {}, plugins: Record<string, PluginSpec> = {}) {
  ({ sandbox, daemon } = await bootDaemon(config, plugins));
}

async function rejection(promise: Promise<unknown>): Promise<DaemonError> {
  const error = await promise.then(() => new Error('expected a rejection'), (e: unknown) => e);
  expect(error).toBeInstanceOf(DaemonError);
  return error as DaemonError;
}

/** Runs the real CLI; resolves with its exit code and output whatever the code. */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

afterEach(async () => {
  await extra?.cleanup();
  extra = null;
  await daemon?.cleanup();
  sandbox?.remove();
});

describe('the daemon', () => {
  it('stops every plugin and its children on SIGTERM, then exits 0', async () => {
    await boot({ permissions: { approval: 'declared' } }, { alpha: { manifest: { permissions: { childProcess: true } } }, beta: {}, python: { from: join(REPO, 'plugins/hello-python') } });
    const alpha = await daemon.waitForState('alpha', 'running');
    const beta = await daemon.waitForState('beta', 'running');
    const python = await daemon.waitForState('hello-python', 'running');
    await daemon.call<number>('alpha', 'spawnSleeper'); // its pid inside alpha's pid namespace
    const child = await waitFor('the sleeper, as the host sees it', () => descendantsOf(alpha.pid!)[0]);
    expect(isAlive(child)).toBe(true);
    expect(await daemon.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    for (const pid of [alpha.pid!, beta.pid!, python.pid!, child]) expect(isAlive(pid)).toBe(false);
  });

  it('forces the shutdown on a second signal when a plugin will not stop', async () => {
    await boot({ defaults: { ...FAST_DEFAULTS, stopTimeoutMs: 30_000 } }, { stubborn: { from: join(REPO, 'test/fixtures/stubborn'), manifest: { main: 'index.js' } } });
    const stubborn = await daemon.waitForState('stubborn', 'running');
    const proc = daemon.daemon!.proc;
    proc.kill('SIGTERM');
    await waitFor('the shutdown to begin', async () => daemon.daemon!.stdout.join('').includes('stopping every plugin') || undefined);
    const started = Date.now();
    proc.kill('SIGTERM');
    expect(await daemon.daemon!.exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(3000);
    await waitFor('the stubborn plugin to be gone', () => !isAlive(stubborn.pid!));
  });

  it('takes every plugin down within seconds when the daemon is killed with SIGKILL', async () => {
    await boot({}, { alpha: {}, python: { from: join(REPO, 'plugins/hello-python') } });
    const alpha = await daemon.waitForState('alpha', 'running');
    const python = await daemon.waitForState('hello-python', 'running');
    await daemon.stop('SIGKILL');
    await waitFor('plugins to die with the daemon', () => !isAlive(alpha.pid!) && !isAlive(python.pid!), { timeoutMs: 5000 });
  });

  it('creates the socket with the configured mode and answers a malformed request with an error', async () => {
    await boot({ socket: { path: 'var/warden.sock', mode: '0600' } }, { alpha: {} });
    expect(statSync(sandbox.socketPath).mode & 0o777).toBe(0o600);
    const answers = await rawExchange(sandbox.socketPath, ['this is not json', '{"jsonrpc":"2.0","id":7,"method":"no.such"}', '{"jsonrpc":"2.0","id":8,"method":"plugin.get","params":{}}']);
    expect(answers[0]).toMatchObject({ id: null, error: { code: -32700 } });
    expect(answers[1]).toMatchObject({ id: 7, error: { code: -32601 } });
    expect(answers[2]).toMatchObject({ id: 8, error: { code: -32602, message: expect.stringMatching(/params.name/) } });
    expect((await daemon.request<{ plugins: unknown[] }>('status')).plugins).toHaveLength(1);

    // A request line over 1 MiB is refused without being buffered whole; the connection and the daemon carry on.
    const huge = `{"jsonrpc":"2.0","id":9,"method":"status","params":{"pad":"${'x'.repeat(2 * 1024 * 1024)}"}}`;
    const [refused, next] = await rawExchange(sandbox.socketPath, [huge, '{"jsonrpc":"2.0","id":10,"method":"status"}']);
    expect(refused).toMatchObject({ id: null, error: { code: -32600, message: expect.stringMatching(/over the 1 MiB limit/) } });
    expect(next).toMatchObject({ id: 10, result: { plugins: [expect.objectContaining({ name: 'alpha' })] } });
  });

  it('refuses to start beside a live daemon, and replaces a stale socket file', async () => {
    await boot();
    const second = spawnDaemon(sandbox);
    expect((await second.exit).code).toBe(69);
    expect(second.stderr.join('')).toMatch(/already listening on .*warden\.sock/);

    await daemon.stop('SIGKILL'); // leaves the socket file behind
    expect(statSync(sandbox.socketPath).isSocket()).toBe(true);
    extra = new TestDaemon(sandbox);
    await extra.start();
    expect((await extra.request<{ pid: number }>('status')).pid).toBe(extra.daemon!.proc.pid);
  });

  it('refuses an invalid config on reload and SIGHUP, keeping the running one, and applies a valid one', async () => {
    await boot({}, { alpha: {} });
    await daemon.waitForState('alpha', 'running');
    writeFileSync(sandbox.configPath, 'sampling: { intervalMs: fast }\n');
    const refused = await daemon.request<{ ok: boolean; error?: string }>('daemon.reload');
    expect(refused).toEqual({ ok: false, error: 'config: sampling.intervalMs: expected a number, got "fast"' });
    expect((await cli(['reload', '--socket', sandbox.socketPath])).code).toBe(1);
    daemon.daemon!.proc.kill('SIGHUP');
    await waitFor('the SIGHUP refusal in the log', async () => {
      const { entries } = await daemon.request<{ entries: Array<{ msg: string }> }>('logs.tail', { level: 'error' });
      return entries.some((e) => e.msg.includes('reload refused'));
    });
    expect(await daemon.call('alpha', 'echo', 1)).toBe(1);

    sandbox.writeConfig({ defaults: { ...FAST_DEFAULTS, limits: { memoryMb: 64 } } });
    expect(await daemon.request('daemon.reload')).toEqual({ ok: true });
    expect((await daemon.status('alpha')).limits.memoryMb).toBe(64);
  });

  it('carries out operator commands where they make sense and answers -32007 where not', async () => {
    await boot({}, { alpha: {}, broken: { manifest: { main: 'missing.js' } } });
    await daemon.waitForState('alpha', 'running');
    expect((await rejection(daemon.request('plugin.start', { name: 'broken' }))).code).toBe(-32007);
    expect((await rejection(daemon.request('plugin.start', { name: 'nope' }))).code).toBe(-32001);

    const stopped = await daemon.request<{ state: string; pid: null }>('plugin.stop', { name: 'alpha' });
    expect(stopped).toMatchObject({ state: 'stopped', pid: null });
    expect((await rejection(daemon.call('alpha', 'echo', 1))).code).toBe(-32002);
    expect((await daemon.request<{ state: string }>('plugin.stop', { name: 'alpha' })).state).toBe('stopped');
    expect((await daemon.request<{ state: string }>('plugin.start', { name: 'alpha' })).state).toBe('running');

    const before = await daemon.status('alpha');
    const restarted = await daemon.request<{ state: string; pid: number }>('plugin.restart', { name: 'alpha' });
    expect(restarted.state).toBe('running');
    expect(restarted.pid).not.toBe(before.pid);

    const disabled = await daemon.request<{ state: string; reason: string }>('plugin.disable', { name: 'alpha' });
    expect(disabled).toMatchObject({ state: 'disabled', reason: 'disabled by the operator' });
    expect((await rejection(daemon.request('plugin.start', { name: 'alpha' }))).message).toMatch(/warden enable/);
    expect((await daemon.request<{ state: string }>('plugin.enable', { name: 'alpha' })).state).toBe('running');
  });

  it('fails a start that gets no handshake within startTimeoutMs', async () => {
    await boot(
      { defaults: { ...FAST_DEFAULTS, startTimeoutMs: 300, restart: { initialDelayMs: 5000, maxDelayMs: 5000, maxRestarts: 5, windowMs: 60000 } } },
      { slow: { manifest: { config: { hangOnStart: true } } } },
    );
    const status = await daemon.waitForState('slow', 'backoff');
    expect(status.lastError).toMatchObject({ kind: 'start', message: 'no answer to warden.initialize within 300ms' });
  });

  it('works end to end through the CLI, with the exit codes of the contract', async () => {
    await boot({}, { alpha: {} });
    await daemon.waitForState('alpha', 'running');
    const socket = ['--socket', sandbox.socketPath];
    const status = await cli(['status', ...socket]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/alpha\s+1\.0\.0\s+service\s+running/);
    const call = await cli(['call', 'alpha', 'echo', '{"x":1}', ...socket]);
    expect(call).toMatchObject({ code: 0 });
    expect(JSON.parse(call.stdout)).toEqual({ x: 1 });
    expect((await cli(['call', 'nope', 'echo', ...socket])).code).toBe(1);
    expect((await cli(['call', 'alpha', 'echo', '{bad', ...socket])).code).toBe(2);
    const logs = await cli(['logs', 'alpha', '--json', '-n', '5', ...socket]);
    expect(logs.code).toBe(0);
    for (const line of logs.stdout.trim().split('\n')) expect(JSON.parse(line)).toHaveProperty('plugin', 'alpha');

    await daemon.stop('SIGTERM');
    const down = await cli(['status'], { WARDEN_SOCKET: sandbox.socketPath });
    expect(down.code).toBe(69);
    expect(down.stderr).toContain(sandbox.socketPath);
  });

  it('writes its log to a file under logging.dir', async () => {
    await boot({}, { alpha: {} });
    await daemon.waitForState('alpha', 'running');
    await daemon.stop('SIGTERM');
    const lines = readFileSync(join(sandbox.dir, 'var/logs/warden.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.some((l) => l.plugin === 'alpha' && l.msg === 'chaos alpha ready')).toBe(true);
    expect(lines.some((l) => /all plugins stopped/.test(l.msg))).toBe(true);
  });
});

/** Writes raw lines on the control socket and collects one answer per line. */
function rawExchange(path: string, lines: string[]): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    const answers: Array<Record<string, unknown>> = [];
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString();
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        answers.push(JSON.parse(buffer.slice(0, newline)));
        buffer = buffer.slice(newline + 1);
      }
      if (answers.length === lines.length) {
        socket.end();
        resolve(answers.sort((a, b) => order(a) - order(b)));
      }
    });
    socket.on('error', reject);
    socket.write(lines.map((l) => `${l}\n`).join(''));
  });
}

function order(answer: Record<string, unknown>): number {
  return typeof answer.id === 'number' ? answer.id : -1;
}
