import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectControl, type ControlClient } from '../dist/control/client.js';
import { PACKAGE_ROOT } from '../dist/version.js';

/** Polls `probe` until it returns something other than undefined (errors count as "not yet"). */
export async function until<T>(probe: () => Promise<T | undefined>, intervalMs = 10, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error('bench: timed out waiting for the daemon');
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export interface BenchDaemon {
  client: ControlClient;
  pid: number;
  /** The scratch folder: under the package's var/ (`warden/sdk` resolves by self-reference), or outside it. */
  dir: string;
}

/**
 * A real daemon in a scratch folder: `prepare` lays out plugins, `config` is merged over a quiet
 * default; `fn` runs once the socket answers and `ready` holds. Everything is removed afterwards.
 */
export async function withBenchDaemon<T>(options: {
  /** Lay the scratch folder outside the package, where an operator's plugins live. */
  outside?: boolean;
  /** A command the daemon runs under (e.g. a mount namespace that hides the cgroup folders). */
  wrapper?: string[];
  config?: (dir: string) => Record<string, unknown>;
  prepare?: (dir: string) => void;
  ready: (client: ControlClient) => Promise<boolean>;
  /** How often `ready` is asked (default 20 ms). */
  readyIntervalMs?: number;
  fn: (daemon: BenchDaemon) => Promise<T>;
}): Promise<T> {
  const base = options.outside ? tmpdir() : join(PACKAGE_ROOT, 'var');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'warden-bench-'));
  // Plugins run as another user when the daemon is root: they must be able to enter their folders.
  chmodSync(dir, 0o755);
  options.prepare?.(dir);
  const socketPath = join(dir, 'warden.sock');
  const config = {
    pluginsDir: join(dir, 'plugins'),
    stateDir: join(dir, 'var'),
    socket: { path: socketPath },
    logging: { dir: join(dir, 'logs'), level: 'warn' },
    ...options.config?.(dir),
  };
  writeFileSync(join(dir, 'warden.yaml'), JSON.stringify(config));
  const argv = [...(options.wrapper ?? []), process.execPath, join(PACKAGE_ROOT, 'dist/cli/main.js'), 'daemon', '--config', join(dir, 'warden.yaml')];
  const daemon = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    const client = await until(() => connectControl(socketPath, { timeoutMs: 500 }), 20);
    try {
      await until(async () => ((await options.ready(client)) ? true : undefined), options.readyIntervalMs ?? 20, 120_000);
      return await options.fn({ client, pid: daemon.pid!, dir });
    } finally {
      await client.close();
    }
  } finally {
    // A daemon that already exited (a failed start, a crash) emits no second 'exit': waiting for one would hang and skip the cleanup.
    if (daemon.exitCode === null && daemon.signalCode === null) {
      daemon.kill('SIGTERM');
      await new Promise((resolve) => daemon.once('exit', resolve));
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
