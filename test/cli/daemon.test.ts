/** `warden daemon [--config FILE]` hands the right config to the daemon (its behaviour is tested elsewhere). */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/fake-daemon.js';
import { killLeftovers, runCli, spawnCli } from './helpers/run-cli.js';

let dir: string | undefined;
afterEach(() => {
  killLeftovers();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('warden daemon', () => {
  it('--config FILE: an invalid config exits 78 with one line', async () => {
    dir = tempDir();
    writeFileSync(join(dir, 'bad.yaml'), 'sampling: { intervalMs: -5 }\n');
    const r = await runCli(['daemon', '--config', join(dir, 'bad.yaml')], { cwd: dir });
    expect(r.code).toBe(78);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('sampling.intervalMs');
  });

  it('without --config: WARDEN_CONFIG, else config/warden.yaml', async () => {
    dir = tempDir();
    writeFileSync(join(dir, 'env.yaml'), 'logging: { level: loud }\n');
    const viaEnv = await runCli(['daemon'], { cwd: dir, env: { WARDEN_CONFIG: join(dir, 'env.yaml') } });
    expect(viaEnv.code).toBe(78);
    expect(viaEnv.stderr).toContain('logging.level');
    mkdirSync(join(dir, 'config'));
    writeFileSync(join(dir, 'config', 'warden.yaml'), 'hotReload: { enabled: maybe }\n');
    const byDefault = await runCli(['daemon'], { cwd: dir });
    expect(byDefault.code).toBe(78);
    expect(byDefault.stderr).toContain('hotReload.enabled');
  });

  it('runs in the foreground, answers the CLI, and exits 0 on SIGTERM', async () => {
    dir = tempDir();
    mkdirSync(join(dir, 'plugins'));
    writeFileSync(join(dir, 'w.yaml'), 'pluginsDir: ./plugins\nstateDir: ./var\nsocket: { path: ./var/w.sock }\nlogging: { dir: ./var/logs }\n');
    const daemon = spawnCli(['daemon', '--config', join(dir, 'w.yaml')], { cwd: dir, timeoutMs: 25_000 });
    const socket = join(dir, 'var', 'w.sock');
    let status = await runCli(['--socket', socket, 'status', '--json'], { cwd: dir });
    for (let i = 0; i < 50 && status.code === 69; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = await runCli(['--socket', socket, 'status', '--json'], { cwd: dir });
    }
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toEqual([]);
    daemon.child.kill('SIGTERM');
    expect((await daemon.done).code).toBe(0);
  });
});
