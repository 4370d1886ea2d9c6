/**
 * The built CLI against a fake daemon on a real unix socket: output, global options, exit codes.
 */
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeRpcError, startFakeDaemon, tempDir, type FakeDaemon } from './helpers/fake-daemon.js';
import { PLUGINS, STATUS, pluginStatus } from './helpers/fixtures.js';
import { killLeftovers, runCli } from './helpers/run-cli.js';

let daemon: FakeDaemon;
let reloadResult: { ok: boolean; error?: string } = { ok: true };
let cwd: string; // an empty folder: no config/warden.yaml
let slowpokeLooks = 0; // plugin.get calls for a plugin that someone else is starting

beforeAll(async () => {
  cwd = tempDir('warden-cwd-');
  daemon = await startFakeDaemon({
    status: () => STATUS,
    'plugin.get': (params) => {
      const name = (params as { name: string }).name;
      if (name === 'slowpoke') return pluginStatus({ name, state: ++slowpokeLooks < 3 ? 'starting' : 'running', pid: 77 });
      if (name === 'stuck') return pluginStatus({ name, state: 'starting', pid: null });
      const p = PLUGINS.find((x) => x.name === name);
      if (!p) throw new FakeRpcError(-32001, `unknown plugin: ${name}`);
      return {
        ...p,
        recentErrors: [{ time: '2025-01-01T00:00:00.000Z', method: 'ping', message: 'boom', code: -32000 }],
        schedules: [{ cron: '*/5 * * * *', method: 'poll', nextRun: '2025-01-01T00:05:00.000Z', lastRun: { ok: false, error: 'timed out' }, runs: 3, skippedOverlap: 1, skippedNotRunning: 0 }],
        events: { queued: 2, delivered: 40, dropped: 0 },
      };
    },
    'plugin.start': (params) => {
      const name = (params as { name: string }).name;
      if (name === 'nope') throw new FakeRpcError(-32001, 'unknown plugin: nope');
      if (name === 'broken') throw new FakeRpcError(-32007, 'broken is invalid: plugin.json: name: required');
      if (name === 'slowpoke') return pluginStatus({ name, state: 'starting', pid: 77 });
      if (name === 'crashy') return crashed(name);
      return pluginStatus({ name, pid: 123 });
    },
    'plugin.restart': (params) => {
      const name = (params as { name: string }).name;
      if (name === 'crashy') return crashed(name);
      if (name === 'stopped-meanwhile') {
        return pluginStatus({
          name,
          state: 'stopped',
          pid: null,
          startedAt: null,
          lastError: { time: '2025-01-01T00:00:00.000Z', kind: 'hang', message: 'no answer to warden.health within 2000ms' },
        });
      }
      return pluginStatus({ name, pid: 124 });
    },
    'plugin.enable': (params) => {
      const name = (params as { name: string }).name;
      if (name === 'feed-reader') {
        return pluginStatus({ name, state: 'waiting', pid: null, startedAt: null, reason: 'waiting for the operator to approve: network; run `warden plugin grant feed-reader`' });
      }
      return pluginStatus({ name, pid: 125 });
    },
    'plugin.stop': (params) => pluginStatus({ name: (params as { name: string }).name, state: 'stopped', pid: null, startedAt: null }),
    'plugin.disable': (params) =>
      pluginStatus({ name: (params as { name: string }).name, state: 'disabled', pid: null, reason: 'disabled by the operator' }),
    'plugin.call': (params) => {
      const p = params as { method: string; params?: unknown };
      if (p.method === 'slow') throw new FakeRpcError(-32004, 'call timed out after 50 ms');
      return { echoed: p.params ?? null, nested: { list: [1, 2] } };
    },
    'logs.tail': () => ({
      entries: [
        { time: '2025-01-02T03:04:05.678Z', level: 'info', plugin: 'echo', msg: 'hello', pid: 4242 },
        { time: '2025-01-02T03:04:06.000Z', level: 'warn', msg: 'daemon says "hi"' },
      ],
    }),
    'daemon.reload': () => reloadResult,
    'plugin.grant': (params) => {
      const name = (params as { name: string }).name;
      if (name === 'nope') throw new FakeRpcError(-32001, 'unknown plugin: nope');
      return pluginStatus({ name, pid: 321 });
    },
    'plugin.revoke': (params) => {
      const name = (params as { name: string }).name;
      return pluginStatus({
        name,
        state: 'waiting',
        pid: null,
        startedAt: null,
        usage: null,
        reason: `waiting for the operator to approve: network, env FEED_TOKEN; run \`warden plugin grant ${name}\``,
      });
    },
  });
});

afterAll(async () => {
  await daemon?.close();
  rmSync(cwd, { recursive: true, force: true });
});

afterEach(() => {
  killLeftovers();
  daemon.requests.length = 0;
  reloadResult = { ok: true };
  slowpokeLooks = 0;
});

function crashed(name: string) {
  return pluginStatus({
    name,
    state: 'backoff',
    pid: null,
    startedAt: null,
    restarts: 1,
    reason: 'start failed: exited with code 3 during the handshake; restarting in 100ms',
    lastError: { time: '2025-01-01T00:00:00.000Z', kind: 'start', message: 'exited with code 3 during the handshake' },
  });
}

const opts = () => ({ cwd });
const S = () => ['--socket', daemon.socketPath];

describe('warden status', () => {
  it('prints a header and an aligned table', async () => {
    const r = await runCli([...S(), 'status'], opts());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('warden 1.0.0 · pid 999 · up 2h05m · 3 plugins, 1 running');
    const header = lines.find((l) => l.startsWith('NAME'))!;
    expect(header.split(/\s+/)).toEqual(['NAME', 'VERSION', 'KIND', 'STATE', 'PID', 'UPTIME', 'CPU', 'MEM', 'FDS', 'PROCS', 'RESTARTS', 'CIRCUIT', 'REASON']);
    const rows = lines.slice(lines.indexOf(header) + 1);
    expect(rows).toHaveLength(3);
    // Columns line up: every row's STATE starts where the header's does.
    const col = header.indexOf('STATE');
    for (const row of rows) expect(row.slice(col)).toMatch(/^(running|backoff|invalid) /);
    const echo = rows.find((l) => l.startsWith('echo '))!;
    expect(echo.split(/\s+/)).toEqual(['echo', '1.0.0', 'service', 'running', '4242', expect.stringMatching(/^3m1[123]s$/), '2%', '30.0M', '12', '1', '0', 'closed', '-']);
    const feed = rows.find((l) => l.startsWith('feed-reader'))!;
    expect(feed).toMatch(/feed-reader +1\.2\.0 +connector +backoff +- +- +- +- +- +- +3 +open +crashed/);
    // stdout is not a TTY: the reason is printed whole.
    expect(feed).toContain('past any narrow terminal');
    expect(rows.find((l) => l.startsWith('broken'))).toMatch(/broken +- +service +invalid .*plugin\.json: name: required$/);
  });

  it('--json prints the plugins array', async () => {
    const r = await runCli([...S(), 'status', '--json'], opts());
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(PLUGINS);
  });

  it('status NAME shows one plugin in detail', async () => {
    const r = await runCli(['status', 'echo', ...S()], opts());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^state: +running$/m);
    expect(r.stdout).toMatch(/enforcement: memoryMb=sampling · handles=rlimit\+sampling/);
    expect(r.stdout).toContain('ping: boom (code -32000)');
    expect(r.stdout).toMatch(/^usage: +cpu 1\.5% · memory 30\.0 MiB/m);
    expect(r.stdout).toMatch(/^permissions: +read none · write none · network no · child processes no · env none$/m);
    expect(r.stdout).toMatch(/^events: +40 delivered · 2 queued · 0 dropped$/m);
    expect(r.stdout).toMatch(/^schedule: +\*\/5 \* \* \* \* poll · next 2025-01-01T00:05:00\.000Z · last failed: timed out · 3 runs, 1 skipped$/m);
    expect(daemon.requests).toEqual([{ method: 'plugin.get', params: { name: 'echo' } }]);
  });

  it('accepts the global options before or after the subcommand', async () => {
    const variants = [
      ['--socket', daemon.socketPath, '--json', 'status'],
      ['status', '--socket', daemon.socketPath, '--json'],
      ['--json', 'status', '--socket', daemon.socketPath],
      [`--socket=${daemon.socketPath}`, 'status', '--json'],
    ];
    for (const args of variants) {
      const r = await runCli(args, opts());
      expect(r.code, args.join(' ')).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(PLUGINS);
    }
  });

  it('honours WARDEN_SOCKET, and --socket over it', async () => {
    const r = await runCli(['status', '--json'], { cwd, env: { WARDEN_SOCKET: daemon.socketPath } });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(PLUGINS);
    const over = await runCli([...S(), 'status'], { cwd, env: { WARDEN_SOCKET: join(cwd, 'elsewhere.sock') } });
    expect(over.code).toBe(0);
  });
});

describe('plugin actions', () => {
  it('prints a one-line result', async () => {
    const r = await runCli([...S(), 'start', 'echo'], opts());
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('echo: running (pid 123)\n');
    expect(daemon.requests).toEqual([{ method: 'plugin.start', params: { name: 'echo' } }]);
    expect((await runCli([...S(), 'stop', 'echo'], opts())).stdout).toBe('echo: stopped\n');
    expect((await runCli([...S(), 'disable', 'echo'], opts())).stdout).toBe('echo: disabled — disabled by the operator\n');
  });

  it('--json prints the PluginStatus', async () => {
    const r = await runCli(['start', 'echo', '--json', ...S()], opts());
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'echo', state: 'running', pid: 123 });
  });

  it('start, restart and enable exit 1 with the state and reason when the plugin is not running afterwards', async () => {
    const restart = await runCli([...S(), 'restart', 'crashy'], opts());
    expect(restart.code).toBe(1);
    expect(restart.stdout).toBe('');
    expect(restart.stderr).toBe(
      'error: crashy is not running after restart: backoff — start failed: exited with code 3 during the handshake; restarting in 100ms\n',
    );
    const start = await runCli([...S(), 'start', 'crashy'], opts());
    expect(start.code).toBe(1);
    expect(start.stderr).toBe(
      'error: crashy is not running after start: backoff — start failed: exited with code 3 during the handshake; restarting in 100ms\n',
    );
    const enable = await runCli([...S(), 'enable', 'feed-reader'], opts());
    expect(enable.code).toBe(1);
    expect(enable.stderr).toBe(
      'error: feed-reader is not running after enable: waiting — waiting for the operator to approve: network; run `warden plugin grant feed-reader`\n',
    );
    // No reason: the last error says what happened.
    const meanwhile = await runCli([...S(), 'restart', 'stopped-meanwhile'], opts());
    expect(meanwhile.code).toBe(1);
    expect(meanwhile.stderr).toBe(
      'error: stopped-meanwhile is not running after restart: stopped — last error (2025-01-01T00:00:00.000Z) hang: no answer to warden.health within 2000ms\n',
    );
    // And when it is running: 0.
    expect(await runCli([...S(), 'restart', 'echo'], opts())).toMatchObject({ code: 0, stdout: 'echo: running (pid 124)\n', stderr: '' });
    expect(await runCli([...S(), 'enable', 'echo'], opts())).toMatchObject({ code: 0, stdout: 'echo: running (pid 125)\n', stderr: '' });
  });

  it('with --json, prints the PluginStatus and still exits 1 when it is not running', async () => {
    const r = await runCli([...S(), '--json', 'restart', 'crashy'], opts());
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'crashy', state: 'backoff' });
    expect(r.stderr).toContain('crashy is not running after restart: backoff');
  });

  it('waits for a plugin that someone else is starting before judging', async () => {
    const r = await runCli([...S(), 'start', 'slowpoke'], opts());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('slowpoke: running (pid 77)\n');
    expect(daemon.requests.map((q) => q.method)).toEqual(['plugin.start', 'plugin.get', 'plugin.get', 'plugin.get']);
  });

  it('stop and disable are judged by the daemon alone', async () => {
    expect((await runCli([...S(), 'stop', 'crashy'], opts())).code).toBe(0);
    expect((await runCli([...S(), 'disable', 'crashy'], opts())).code).toBe(0);
  });

  it('exits 1 with the message and code when the daemon answers an error', async () => {
    const r = await runCli([...S(), 'start', 'nope'], opts());
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('error: unknown plugin: nope (code -32001)\n');
    const invalid = await runCli([...S(), 'start', 'broken'], opts());
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('(code -32007)');
  });
});

describe('warden plugin grant|revoke', () => {
  it('grant prints the new state', async () => {
    const r = await runCli([...S(), 'plugin', 'grant', 'feed-reader'], opts());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // Then the audit of its folder, or why there is none (this config's pluginsDir has no feed-reader).
    expect(r.stdout).toMatch(/^feed-reader: running \(pid 321\)\naudit: (no folder of feed-reader under .*|score \d+\/100.*)\n/);
    expect(daemon.requests).toEqual([{ method: 'plugin.grant', params: { name: 'feed-reader' } }]);
  });

  it('revoke prints the waiting reason', async () => {
    const r = await runCli(['plugin', 'revoke', 'feed-reader', ...S()], opts());
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'feed-reader: waiting — waiting for the operator to approve: network, env FEED_TOKEN; run `warden plugin grant feed-reader`\n',
    );
    expect(daemon.requests).toEqual([{ method: 'plugin.revoke', params: { name: 'feed-reader' } }]);
  });

  it('--json prints the PluginStatus, wherever it is given', async () => {
    for (const args of [['--json', 'plugin', 'grant', 'echo'], ['plugin', 'grant', 'echo', '--json'], ['plugin', '--json', 'revoke', 'echo']]) {
      const r = await runCli([...S(), ...args], opts());
      expect(r.code, args.join(' ')).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ name: 'echo', state: args.includes('revoke') ? 'waiting' : 'running' });
    }
  });

  it('exits 1 with the message and code when the daemon answers an error', async () => {
    const r = await runCli([...S(), 'plugin', 'grant', 'nope'], opts());
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('error: unknown plugin: nope (code -32001)\n');
  });

  it('exits 69 when the daemon cannot be reached', async () => {
    const path = join(cwd, 'absent.sock');
    const r = await runCli(['--socket', path, 'plugin', 'revoke', 'echo'], opts());
    expect(r.code).toBe(69);
    expect(r.stderr).toContain(path);
  });

  it("lists the toolkit's commands in its help", async () => {
    const r = await runCli(['plugin', '--help'], opts());
    expect(r.code).toBe(0);
    const commands = [...r.stdout.matchAll(/^ {2}(\w+)\b/gm)].map((m) => m[1]);
    expect(commands.filter((c) => c !== 'help')).toEqual(['grant', 'revoke', 'new', 'validate', 'test', 'audit', 'describe', 'pack', 'install', 'remove', 'update']);
    expect(r.stdout).toContain('Examples:');
  });
});

describe('warden call', () => {
  it('sends the params and prints the result as pretty JSON', async () => {
    const r = await runCli([...S(), 'call', 'echo', 'say', '{"text":"hi"}', '--timeout', '2500'], opts());
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${JSON.stringify({ echoed: { text: 'hi' }, nested: { list: [1, 2] } }, null, 2)}\n`);
    expect(daemon.requests).toEqual([
      { method: 'plugin.call', params: { name: 'echo', method: 'say', params: { text: 'hi' }, timeoutMs: 2500 } },
    ]);
  });

  it('leaves params out when none are given', async () => {
    const r = await runCli([...S(), 'call', 'echo', 'ping'], opts());
    expect(r.code).toBe(0);
    expect(daemon.requests[0]).toEqual({ method: 'plugin.call', params: { name: 'echo', method: 'ping' } });
  });

  it('exits 1 on a call error', async () => {
    const r = await runCli([...S(), 'call', 'echo', 'slow'], opts());
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: call timed out after 50 ms (code -32004)\n');
  });
});

describe('warden logs', () => {
  it('--json prints one entry per line', async () => {
    const r = await runCli([...S(), '--json', 'logs', 'echo', '-n', '5', '--level', 'info'], opts());
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0]!)).toEqual({ time: '2025-01-02T03:04:05.678Z', level: 'info', plugin: 'echo', msg: 'hello', pid: 4242 });
    expect(JSON.parse(lines[1]!)).toMatchObject({ level: 'warn' });
    expect(daemon.requests).toEqual([{ method: 'logs.tail', params: { name: 'echo', lines: 5, level: 'info' } }]);
  });

  it('prints readable lines', async () => {
    const r = await runCli([...S(), 'logs'], opts());
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      '2025-01-02T03:04:05.678Z INFO  [echo] hello pid=4242\n2025-01-02T03:04:06.000Z WARN  daemon says "hi"\n',
    );
    expect(daemon.requests).toEqual([{ method: 'logs.tail', params: {} }]);
  });
});

describe('warden reload', () => {
  it('ok → exit 0', async () => {
    const r = await runCli([...S(), 'reload'], opts());
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('config reloaded\n');
  });

  it('ok:false → the error on stderr and exit 1', async () => {
    reloadResult = { ok: false, error: 'config: sampling.intervalMs: must be a positive integer, got -5' };
    const r = await runCli([...S(), 'reload'], opts());
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: config not reloaded: config: sampling.intervalMs: must be a positive integer, got -5\n');
  });
});

describe('usage errors exit 2 without contacting the daemon', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['unknown option', ['status', '--bogus'], /unknown option '--bogus'/],
    ['missing argument', ['start'], /missing required argument 'name'/],
    ['plugin grant without a name', ['plugin', 'grant'], /missing required argument 'name'/],
    ['plugin revoke with two names', ['plugin', 'revoke', 'a', 'b'], /too many arguments/],
    ['an unknown plugin subcommand', ['plugin', 'frobnicate'], /unknown command 'frobnicate'/],
    ['plugin without a subcommand', ['plugin'], /Usage: warden plugin/],
    ['too many arguments', ['start', 'a', 'b'], /too many arguments/],
    ['params that are not JSON', ['call', 'echo', 'say', '{text: hi}'], /^warden call: params are not valid JSON: /],
    ['params that are not structured', ['call', 'echo', 'say', '42'], /params must be a JSON object or array/],
    ['bad -n', ['logs', '-n', 'ten'], /-n must be a whole number/],
    ['negative -n', ['logs', '-n', '-3'], /./],
    ['unknown --level', ['logs', '--level', 'loud'], /Allowed choices are trace, debug, info, warn, error, fatal/],
    ['bad --timeout', ['call', 'echo', 'say', '--timeout', '0'], /--timeout must be a whole number/],
    ['no command', [], /Usage: warden/],
  ];
  for (const [what, args, message] of cases) {
    it(what, async () => {
      const r = await runCli([...S(), ...args], opts());
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(daemon.requests).toEqual([]);
    });
  }
});

describe('help and version', () => {
  it('--version prints the package version', async () => {
    const r = await runCli(['--version'], opts());
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('1.0.0');
  });

  it('--help lists the working commands only, with examples', async () => {
    const r = await runCli(['--help'], opts());
    expect(r.code).toBe(0);
    for (const command of ['status', 'start', 'stop', 'restart', 'enable', 'disable', 'call', 'logs', 'reload', 'daemon', 'plugin']) {
      expect(r.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
    expect(r.stdout).toContain('Examples:');
  });

  it('every subcommand has --help with the global options', async () => {
    for (const command of ['status', 'start', 'call', 'logs', 'reload', 'daemon', 'plugin grant', 'plugin revoke']) {
      const r = await runCli([...command.split(' '), '--help'], opts());
      expect(r.code, command).toBe(0);
      expect(r.stdout, command).toContain('--socket <path>');
      expect(r.stdout, command).toMatch(/Examples?:/);
    }
  });
});

describe('an unreachable daemon exits 69 and names the socket', () => {
  // Where the CLI looks without --socket: test/cli/socket.test.ts.
  it('when the socket file is absent', async () => {
    const path = join(cwd, 'absent.sock');
    const r = await runCli(['--socket', path, 'status'], opts());
    expect(r.code).toBe(69);
    expect(r.stderr).toBe(`error: cannot reach the warden daemon at ${path} (from --socket): no such file; is it running? start it with \`warden daemon\`\n`);
  });

  it('when nothing listens on the socket', async () => {
    // A socket file whose listener died: a process that binds it and is SIGKILLed leaves it behind.
    const path = join(cwd, 'stale.sock');
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [
        '-e',
        `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`,
      ]);
      child.on('error', reject);
      child.on('exit', () => resolve());
    });
    expect(existsSync(path)).toBe(true);
    const r = await runCli(['status', '--socket', path], opts());
    expect(r.code).toBe(69);
    expect(r.stderr).toBe(`error: cannot reach the warden daemon at ${path} (from --socket): connection refused; is it running? start it with \`warden daemon\`\n`);
  });
});
