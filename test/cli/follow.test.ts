/** `warden logs -f`: the backlog, then followed entries, until SIGINT (exit 0) or the daemon hangs up (69). */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeDaemon, tempDir, type FakeConnection, type FakeDaemon } from './helpers/fake-daemon.js';
import { killLeftovers, spawnCli } from './helpers/run-cli.js';

const entry = (n: number) => ({ time: `2025-01-02T03:04:0${n}.000Z`, level: 'info', plugin: 'echo', msg: `line ${n}` });

let daemon: FakeDaemon | undefined;
let cwd: string | undefined;
afterEach(async () => {
  killLeftovers();
  await daemon?.close();
  if (cwd) rmSync(cwd, { recursive: true, force: true });
  daemon = undefined;
  cwd = undefined;
});

async function followDaemon(): Promise<{ daemon: FakeDaemon; follower: Promise<FakeConnection> }> {
  let found: (c: FakeConnection) => void = () => {};
  const follower = new Promise<FakeConnection>((resolve) => (found = resolve));
  const d = await startFakeDaemon({
    'logs.tail': (params, connection) => {
      if ((params as { follow?: boolean }).follow) connection.afterResponse(() => found(connection));
      return { entries: [entry(1)] };
    },
  });
  return { daemon: d, follower };
}

describe('warden logs -f', () => {
  it('prints the backlog and followed entries, and exits 0 on SIGINT', async () => {
    const started = await followDaemon();
    daemon = started.daemon;
    cwd = tempDir('warden-cwd-');
    const cli = spawnCli(['logs', 'echo', '-f', '--json', '--socket', daemon.socketPath], { cwd });
    const connection = await started.follower;
    expect(daemon.requests).toEqual([{ method: 'logs.tail', params: { name: 'echo', follow: true } }]);
    connection.notify('logs.entry', entry(2));
    connection.notify('logs.entry', entry(3));
    await cli.waitForStdout('line 3');
    cli.child.kill('SIGINT');
    const r = await cli.done;
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l).msg)).toEqual(['line 1', 'line 2', 'line 3']);
  });

  it('prints readable lines while following', async () => {
    const started = await followDaemon();
    daemon = started.daemon;
    cwd = tempDir('warden-cwd-');
    const cli = spawnCli(['--socket', daemon.socketPath, 'logs', '--follow'], { cwd });
    (await started.follower).notify('logs.entry', entry(2));
    await cli.waitForStdout('line 2');
    cli.child.kill('SIGINT');
    const r = await cli.done;
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('2025-01-02T03:04:01.000Z INFO  [echo] line 1\n2025-01-02T03:04:02.000Z INFO  [echo] line 2\n');
  });

  it('exits 69 when the daemon hangs up', async () => {
    const started = await followDaemon();
    daemon = started.daemon;
    cwd = tempDir('warden-cwd-');
    const cli = spawnCli(['--socket', daemon.socketPath, 'logs', '-f'], { cwd });
    (await started.follower).end();
    const r = await cli.done;
    expect(r.code).toBe(69);
    expect(r.stderr).toBe(`error: the warden daemon at ${daemon.socketPath} closed the connection\n`);
  });
});
