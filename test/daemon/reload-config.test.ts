/**
 * The real daemon and CLI on config problems an operator meets: a socket.group the host does not
 * have, several mistakes at once, a pluginsDir that is not there yet, and what `warden reload` says.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, FAST_DEFAULTS, Sandbox, spawnDaemon, TestDaemon, type DaemonProcess } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
const NO_SUCH_GROUP = 'no-such-group-for-warden-tests';

let sandbox: Sandbox | null = null;
let daemon: TestDaemon | null = null;
let spawned: DaemonProcess | null = null;

afterEach(async () => {
  if (spawned && spawned.proc.exitCode === null && spawned.proc.signalCode === null) {
    spawned.proc.kill('SIGKILL');
    await spawned.exit;
  }
  spawned = null;
  await daemon?.cleanup();
  daemon = null;
  sandbox?.remove();
  sandbox = null;
});

/** The real CLI; resolves with its exit code and output whatever the code. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env['WARDEN_SOCKET'];
  delete env['WARDEN_CONFIG'];
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env, timeout: 15_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The daemon's stdout log entries (one JSON object a line) whose message includes `text`. */
function logged(proc: DaemonProcess, text: string): Array<{ level: string; msg: string }> {
  return proc.stdout
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: string; msg: string })
    .filter((entry) => entry.msg.includes(text));
}

/** Spawns the daemon on a config that must be refused; resolves once it has exited. */
async function refusedAtStart(config: Record<string, unknown>) {
  sandbox = new Sandbox();
  sandbox.writeConfig(config);
  spawned = spawnDaemon(sandbox);
  const exit = await Promise.race([
    spawned.exit,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the daemon did not exit within 10s')), 10_000)),
  ]);
  return { exit, stdout: spawned.stdout.join(''), stderr: spawned.stderr.join('') };
}

describe('config refused at start: exit 78, every problem on stderr', () => {
  it('a socket.group that does not exist: one line naming socket.group, before anything starts', async () => {
    const { exit, stdout, stderr } = await refusedAtStart({ socket: { path: 'var/warden.sock', group: NO_SUCH_GROUP } });
    expect(exit).toEqual({ code: 78, signal: null });
    expect(stderr).toBe(`config: socket.group: no group named "${NO_SUCH_GROUP}" in /etc/group\n`);
    expect(stdout).toBe('');
    expect(existsSync(sandbox!.socketPath)).toBe(false);
    expect(existsSync(join(sandbox!.dir, 'var/logs'))).toBe(false);
  });

  it('several problems: each on its own line, with suggestions', async () => {
    const { exit, stderr } = await refusedAtStart({
      socket: { path: 'var/warden.sock', group: NO_SUCH_GROUP },
      sampling: { intervalMS: 500 },
      defaults: { limits: { memoryMb: 0 } },
    });
    expect(exit.code).toBe(78);
    expect(stderr.split('\n').filter(Boolean).sort()).toEqual(
      [
        'config: sampling.intervalMS: unknown key; did you mean intervalMs?',
        'config: defaults.limits.memoryMb: must be a positive integer, got 0',
        `config: socket.group: no group named "${NO_SUCH_GROUP}" in /etc/group`,
      ].sort(),
    );
  });

  it('a syntax error: its line and column', async () => {
    sandbox = new Sandbox();
    writeFileSync(sandbox.configPath, '{\n  "pluginsDir": "plugins",\n  "stateDir": "var"\n  "socket": { "path": "var/warden.sock" }\n}\n');
    spawned = spawnDaemon(sandbox);
    expect((await spawned.exit).code).toBe(78);
    expect(spawned.stderr.join('')).toBe(`config: ${sandbox.configPath}: line 4, column 3: Missing , between flow map items\n`);
  });
});

describe('a pluginsDir that is not there', () => {
  it('is said once at start and on each reload; the daemon runs, and loads plugins once it appears', async () => {
    sandbox = new Sandbox();
    const missing = join(sandbox.dir, 'later');
    const config = { pluginsDir: 'later', defaults: FAST_DEFAULTS };
    sandbox.writeConfig(config);
    daemon = new TestDaemon(sandbox);
    await daemon.start();
    const proc = daemon.daemon!;
    const warning = `pluginsDir ${missing} does not exist; no plugins are loaded until it does`;
    const entries = await waitFor('the pluginsDir warning in the log', () => {
      const found = logged(proc, 'pluginsDir');
      return found.length > 0 ? found : undefined;
    });
    expect(entries).toEqual([expect.objectContaining({ level: 'warn', msg: warning })]);
    expect((await daemon.request<{ plugins: unknown[] }>('status')).plugins).toEqual([]);

    // A reload that changes a key bound at start: both warnings reach the operator, exit code 0.
    sandbox.writeConfig({ ...config, socket: { path: 'var/warden.sock', mode: '0600' } });
    const reloaded = await cli(['--socket', sandbox.socketPath, 'reload']);
    expect(reloaded).toEqual({
      code: 0,
      stdout: 'config reloaded\n',
      stderr: `warning: config reload: socket take effect after a daemon restart\nwarning: ${warning}\n`,
    });
    await waitFor('the second pluginsDir warning in the log', () => logged(proc, 'pluginsDir').length === 2);

    // It appears: the daemon finds the plugin on its own, and says nothing more about it.
    mkdirSync(missing);
    const alpha = join(missing, 'alpha');
    sandbox.addPlugin('alpha'); // made under sandbox.pluginsDir, moved into place in one rename
    renameSync(join(sandbox.pluginsDir, 'alpha'), alpha);
    await daemon.waitForState('alpha', 'running', 15_000);
    expect(await daemon.request('daemon.reload')).toEqual({
      ok: true,
      warnings: ['config reload: socket take effect after a daemon restart'],
    });
    expect(logged(proc, 'does not exist')).toHaveLength(2);
  });
});

describe('warden reload', () => {
  it('a refused config: every problem, exit 1, the running config stays', async () => {
    sandbox = new Sandbox();
    sandbox.writeConfig({ defaults: FAST_DEFAULTS });
    daemon = new TestDaemon(sandbox);
    await daemon.start();
    writeFileSync(
      sandbox.configPath,
      JSON.stringify({ pluginsDir: 'plugins', socket: { path: 'var/warden.sock', group: NO_SUCH_GROUP }, logging: { dir: 'var/logs', keep: 0 }, samplng: {} }),
    );
    const refused = await cli(['--socket', sandbox.socketPath, 'reload']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toBe(
      [
        'error: config not reloaded:',
        'config: logging.keep: must be a positive integer, got 0',
        'config: samplng: unknown key; did you mean sampling?',
        `config: socket.group: no group named "${NO_SUCH_GROUP}" in /etc/group`,
        '',
      ].join('\n'),
    );
    expect((await daemon.request<{ pid: number }>('status')).pid).toBe(daemon.daemon!.proc.pid);

    // Put right (nothing bound at start changed): no warnings, as before.
    sandbox.writeConfig({ defaults: FAST_DEFAULTS });
    expect(await cli(['--socket', sandbox.socketPath, 'reload'])).toEqual({ code: 0, stdout: 'config reloaded\n', stderr: '' });
    expect(await daemon.request('daemon.reload')).toEqual({ ok: true });
  });
});
