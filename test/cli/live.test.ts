/**
 * The built CLI against a real daemon: it finds the daemon through a config just edited into an invalid
 * state, and start/restart/enable judge the plugin's state afterwards.
 */
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FAST_DEFAULTS, Sandbox, TestDaemon } from '../helpers/daemon.js';
import { killLeftovers, runCli } from './helpers/run-cli.js';

/** The repository's layout (config/warden.yaml beside plugins/), with the socket somewhere of its own. */
class OperatorFolder extends Sandbox {
  override readonly configPath = join(this.dir, 'config', 'warden.yaml');
  override readonly socketPath = join(this.dir, 'run', 'control.sock');
}

let folder: OperatorFolder | undefined;
let daemon: TestDaemon | undefined;
let elsewhere: string | undefined;

afterEach(async () => {
  killLeftovers();
  await daemon?.cleanup();
  folder?.remove();
  if (elsewhere) rmSync(elsewhere, { recursive: true, force: true });
  folder = daemon = elsewhere = undefined;
});

async function boot(config: Record<string, unknown> = {}): Promise<{ folder: OperatorFolder; daemon: TestDaemon }> {
  folder = new OperatorFolder();
  folder.addPlugin('flaky');
  mkdirSync(join(folder.dir, 'config'));
  const write = (extra: string): void =>
    writeFileSync(
      folder!.configPath,
      `${JSON.stringify({ pluginsDir: '../plugins', stateDir: '../var', socket: { path: '../run/control.sock' }, logging: { dir: '../var/logs' }, hotReload: { enabled: false }, ...config }, null, 2)}\n${extra}`,
    );
  write('');
  daemon = new TestDaemon(folder);
  await daemon.start();
  await daemon.waitForState('flaky', 'running');
  return { folder, daemon };
}

describe('warden reload with a config just edited into an invalid state', () => {
  it("reaches the daemon through the config's socket.path and shows the refusal naming the bad key", async () => {
    const { folder } = await boot({ defaults: FAST_DEFAULTS });
    // The operator's edit: YAML still, but a wrong value (the daemon keeps running the previous config).
    writeFileSync(
      folder.configPath,
      'pluginsDir: ../plugins\nstateDir: ../var\nsocket: { path: ../run/control.sock }\nlogging: { dir: ../var/logs }\nsampling: { intervalMs: fast }\n',
    );
    const here = await runCli(['reload'], { cwd: folder.dir });
    expect(here.code).toBe(1);
    expect(here.stderr).toMatch(/^error: config not reloaded: .*sampling\.intervalMs/);

    // From any other folder, through $WARDEN_CONFIG.
    elsewhere = mkdtempSync(join(tmpdir(), 'warden-elsewhere-'));
    const there = await runCli(['reload'], { cwd: elsewhere, env: { WARDEN_CONFIG: folder.configPath } });
    expect(there.code).toBe(1);
    expect(there.stderr).toMatch(/^error: config not reloaded: .*sampling\.intervalMs/);
  });
});

describe('start, restart and enable of a plugin that does not come back running', () => {
  it('exit 1 with its state and reason; 0 once it runs', async () => {
    // A slow backoff keeps it in backoff, rather than used up and disabled, while the test looks.
    const restart = { initialDelayMs: 10_000, maxDelayMs: 10_000, maxRestarts: 5, windowMs: 60_000 };
    const { folder, daemon } = await boot({ defaults: { ...FAST_DEFAULTS, restart } });
    const marker = join(folder.pluginsDir, 'flaky', 'crash-on-start'); // the chaos plugin exits at start while it exists
    writeFileSync(marker, '');
    const opts = { cwd: folder.dir };

    const restarted = await runCli(['restart', 'flaky'], opts);
    expect(restarted.stdout).toBe('');
    expect(restarted.stderr).toMatch(/^error: flaky is not running after restart: backoff — .+\n$/);
    expect(restarted.code).toBe(1);
    const started = await runCli(['start', 'flaky', '--json'], opts);
    expect(started.code).toBe(1);
    expect(JSON.parse(started.stdout)).toMatchObject({ name: 'flaky', state: 'backoff', lastError: { kind: 'start' } });
    expect(started.stderr).toMatch(/^error: flaky is not running after start: backoff — .+\n$/);

    expect((await runCli(['disable', 'flaky'], opts)).code).toBe(0);
    const enabled = await runCli(['enable', 'flaky'], opts);
    expect(enabled.code).toBe(1);
    expect(enabled.stderr).toMatch(/^error: flaky is not running after enable: backoff — .+\n$/);

    unlinkSync(marker);
    const fixed = await runCli(['restart', 'flaky'], opts);
    expect(fixed.stderr).toBe('');
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toMatch(/^flaky: running \(pid \d+\)\n$/);
    await daemon.status('flaky'); // its pid, for the clean-up
  });
});
