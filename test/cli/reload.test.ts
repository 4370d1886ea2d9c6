/**
 * `warden reload` against a fake daemon: warnings the daemon hands back are shown, every problem of a
 * refused config is listed, and the exit codes stay 0 and 1.
 */
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ReloadResult } from '../../src/protocol/index.js';
import { startFakeDaemon, tempDir, type FakeDaemon } from './helpers/fake-daemon.js';
import { killLeftovers, runCli } from './helpers/run-cli.js';

let daemon: FakeDaemon;
let reloadResult: ReloadResult = { ok: true };
let cwd: string;

beforeAll(async () => {
  cwd = tempDir('warden-cwd-');
  daemon = await startFakeDaemon({ 'daemon.reload': () => reloadResult });
});

afterAll(async () => {
  await daemon?.close();
  rmSync(cwd, { recursive: true, force: true });
});

afterEach(() => {
  killLeftovers();
  reloadResult = { ok: true };
});

const reload = (...extra: string[]) => runCli(['--socket', daemon.socketPath, 'reload', ...extra], { cwd });

describe('warden reload', () => {
  it('prints each warning on stderr after "config reloaded", and exits 0', async () => {
    reloadResult = {
      ok: true,
      warnings: [
        'config reload: socket, metrics.listen take effect after a daemon restart',
        'pluginsDir /srv/plugins does not exist; no plugins are loaded until it does',
      ],
    };
    const r = await reload();
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('config reloaded\n');
    expect(r.stderr).toBe(
      'warning: config reload: socket, metrics.listen take effect after a daemon restart\n' +
        'warning: pluginsDir /srv/plugins does not exist; no plugins are loaded until it does\n',
    );
  });

  it('no warnings: nothing on stderr', async () => {
    reloadResult = { ok: true, warnings: [] };
    const r = await reload();
    expect(r).toMatchObject({ code: 0, stdout: 'config reloaded\n', stderr: '' });
  });

  it('--json prints the result with its warnings, and nothing else', async () => {
    reloadResult = { ok: true, warnings: ['config reload: socket take effect after a daemon restart'] };
    const r = await reload('--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(reloadResult);
    expect(r.stderr).toBe('');
  });

  it('a refused config: every problem on its own line, exit 1', async () => {
    reloadResult = {
      ok: false,
      error: [
        'config: sampling.intervalMS: unknown key; did you mean intervalMs?',
        'config: logging.keep: must be a positive integer, got 0',
      ].join('\n'),
    };
    const r = await reload();
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'error: config not reloaded:\n' +
        'config: sampling.intervalMS: unknown key; did you mean intervalMs?\n' +
        'config: logging.keep: must be a positive integer, got 0\n',
    );
  });
});
