import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connectControl, type ControlClient, type DaemonError } from '../../src/control/client.js';
import type { PluginStatus } from '../../src/protocol/index.js';
import { isAlive, waitFor } from './wait.js';

export const REPO = resolve(import.meta.dirname, '../..');
export const CLI = join(REPO, 'dist/cli/main.js');
export const CHAOS = join(REPO, 'test/fixtures/chaos');

/** Fast policies so failure paths play out in a test's time. */
export const FAST_DEFAULTS = {
  startTimeoutMs: 5000,
  stopTimeoutMs: 2000,
  health: { intervalMs: 200, timeoutMs: 500 },
  restart: { initialDelayMs: 20, maxDelayMs: 200, maxRestarts: 5, windowMs: 60000 },
};

export interface PluginSpec {
  /** Copy this folder (default: the chaos fixture). */
  from?: string;
  manifest?: Record<string, unknown>;
  files?: Record<string, string>;
}

/** A temp folder with a config, a plugins folder and a var folder, like a real install. */
export class Sandbox {
  readonly dir = mkdtempSync(join(tmpdir(), 'warden-test-'));
  readonly pluginsDir = join(this.dir, 'plugins');
  readonly configPath = join(this.dir, 'warden.yaml');
  readonly socketPath = join(this.dir, 'var/warden.sock');
  readonly stateDir = join(this.dir, 'var');

  constructor() {
    mkdirSync(this.pluginsDir, { recursive: true });
  }

  writeConfig(config: Record<string, unknown> = {}): void {
    // JSON is valid YAML; relative paths resolve against this folder.
    writeFileSync(this.configPath, JSON.stringify({ pluginsDir: 'plugins', stateDir: 'var', socket: { path: 'var/warden.sock' }, logging: { dir: 'var/logs' }, ...config }, null, 2));
  }

  addPlugin(name: string, spec: PluginSpec = {}): string {
    const dir = join(this.pluginsDir, name);
    cpSync(spec.from ?? CHAOS, dir, { recursive: true });
    if (!spec.from || spec.manifest) {
      const manifest = { name, version: '1.0.0', main: 'index.js', engines: { warden: '^1.0.0' }, ...spec.manifest };
      writeFileSync(join(dir, 'plugin.json'), JSON.stringify(manifest, null, 2));
    }
    for (const [file, content] of Object.entries(spec.files ?? {})) writeFileSync(join(dir, file), content);
    return dir;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface DaemonProcess {
  proc: ChildProcess;
  stdout: string[];
  stderr: string[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs the built daemon on `sandbox`; `wrapper` (e.g. setpriv to another user) goes in front of node. */
export function spawnDaemon(sandbox: Sandbox, env: NodeJS.ProcessEnv = {}, wrapper: string[] = [], cli = CLI): DaemonProcess {
  const argv = [...wrapper, process.execPath, cli, 'daemon', '--config', sandbox.configPath];
  const proc = spawn(argv[0]!, argv.slice(1), {
    cwd: sandbox.dir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => stdout.push(chunk));
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { proc, stdout, stderr, exit };
}

/** A running daemon in a sandbox, with a control connection, that cleans up every process it started. */
export class TestDaemon {
  daemon: DaemonProcess | null = null;
  private clients: ControlClient[] = [];
  private readonly seenPids = new Set<number>();

  constructor(readonly sandbox: Sandbox) {}

  async start(env: NodeJS.ProcessEnv = {}, wrapper: string[] = [], cli = CLI): Promise<void> {
    this.daemon = spawnDaemon(this.sandbox, env, wrapper, cli);
    const daemon = this.daemon;
    await waitFor(`the daemon's socket at ${this.sandbox.socketPath}`, async () => {
      if (daemon.proc.exitCode !== null) {
        throw new Error(`daemon exited with ${daemon.proc.exitCode}: ${daemon.stderr.join('')}`);
      }
      const client = await connectControl(this.sandbox.socketPath, { timeoutMs: 500 });
      this.clients.push(client);
      return true;
    });
  }

  async client(): Promise<ControlClient> {
    const client = await connectControl(this.sandbox.socketPath);
    this.clients.push(client);
    return client;
  }

  async request<T = unknown>(method: string, params: unknown = {}): Promise<T> {
    const client = this.clients.at(-1) ?? (await this.client());
    return client.request<T>(method, params);
  }

  async status(name: string): Promise<PluginStatus & { recentErrors: unknown[] }> {
    const status = await this.request<PluginStatus & { recentErrors: unknown[] }>('plugin.get', { name });
    if (status.pid) this.seenPids.add(status.pid);
    return status;
  }

  async waitForState(name: string, state: string, timeoutMs = 10_000): Promise<PluginStatus> {
    let last: PluginStatus | null = null;
    try {
      return await waitFor(`${name} to be ${state}`, async () => {
        const status = (last = await this.status(name));
        return status.state === state ? status : undefined;
      }, { timeoutMs });
    } catch (error) {
      // Say where it got stuck: the last state, reason and error are what a reader needs.
      const seen = last as PluginStatus | null;
      const where = seen ? ` (last seen ${seen.state}: ${seen.reason ?? 'no reason'}; lastError: ${seen.lastError?.message ?? 'none'})` : '';
      throw new Error(`${(error as Error).message}${where}`);
    }
  }

  async call<T = unknown>(name: string, method: string, params?: unknown, timeoutMs?: number): Promise<T> {
    return this.request<T>('plugin.call', { name, method, params, ...(timeoutMs ? { timeoutMs } : {}) });
  }

  /** The error a call is answered with; throws when the call succeeds. */
  async callError(name: string, method: string, params?: unknown): Promise<DaemonError> {
    try {
      await this.call(name, method, params);
    } catch (error) {
      return error as DaemonError;
    }
    throw new Error(`${name}.${method} did not fail`);
  }

  /** Stops the daemon with a signal and waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    await Promise.all(this.clients.splice(0).map((client) => client.close().catch(() => undefined)));
    const daemon = this.daemon!;
    if (daemon.proc.exitCode === null && daemon.proc.signalCode === null) daemon.proc.kill(signal);
    return daemon.exit;
  }

  pidsSeen(): number[] {
    return [...this.seenPids];
  }

  /** Kills the daemon and every plugin process group it was seen to run. Safe to call twice. */
  async cleanup(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((client) => client.close().catch(() => undefined)));
    const proc = this.daemon?.proc;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await this.daemon!.exit;
    }
    for (const pid of this.seenPids) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await waitFor('every plugin process to be gone', () => [...this.seenPids].every((pid) => !isAlive(pid)), { timeoutMs: 5000 });
  }
}

/** A sandbox with the fast defaults, the given plugins, and a daemon started on it. */
export async function bootDaemon(
  config: Record<string, unknown> = {},
  plugins: Record<string, PluginSpec> = {},
): Promise<{ sandbox: Sandbox; daemon: TestDaemon }> {
  const sandbox = new Sandbox();
  sandbox.writeConfig({ defaults: FAST_DEFAULTS, ...config });
  for (const [name, spec] of Object.entries(plugins)) sandbox.addPlugin(name, spec);
  const daemon = new TestDaemon(sandbox);
  await daemon.start();
  return { sandbox, daemon };
}
