import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLineReader } from '../../src/rpc/line-reader.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

export type Message = Record<string, any>;

/** Rebuilds (npm run build) when dist/sdk is missing or older than its sources. */
export function ensureSdkBuilt(): void {
  const sources = [
    ...readdirSync(join(ROOT, 'src/sdk')).filter((f) => f.endsWith('.ts')).map((f) => join(ROOT, 'src/sdk', f)),
    join(ROOT, 'src/rpc/line-reader.ts'),
  ];
  const built = (src: string): string => src.replace(`${ROOT}/src/`, `${ROOT}/dist/`).replace(/\.ts$/, '.js');
  const stale = sources.some((src) => !existsSync(built(src)) || statSync(built(src)).mtimeMs < statSync(src).mtimeMs);
  if (!stale) return;
  // tsc emits even when files outside the SDK do not type-check yet; only the output matters here.
  spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json')], { stdio: 'ignore' });
  for (const src of sources) if (!existsSync(built(src))) throw new Error(`build did not produce ${built(src)}`);
}

const live = new Set<PluginProcess>();

/** Kills every plugin process a test started and waits for each to be gone. For afterEach. */
export async function killAll(): Promise<void> {
  const all = [...live];
  live.clear();
  await Promise.all(all.map((p) => p.kill()));
}

/** A plugin child process spoken to in NDJSON, as the daemon would. */
export class PluginProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly messages: Message[] = [];
  /** Responses (no method) by id. */
  readonly answers = new Map<unknown, Message>();
  /** stdout lines that were not JSON (there should be none). */
  readonly nonJson: string[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private nextId = 1000;
  private listeners = new Set<() => void>();

  constructor(command: string, args: string[], cwd: string) {
    this.child = spawn(command, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(this);
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    this.child.once('error', (err) => {
      this.stderr += `spawn error: ${err.message}\n`;
    });
    this.child.stdin.on('error', () => {}); // EPIPE when the plugin is gone: the test will notice
    const reader = createLineReader({
      onLine: (line) => {
        try {
          const message = JSON.parse(line) as Message;
          this.messages.push(message);
          if (message.method === undefined && message.id !== undefined) this.answers.set(message.id, message);
        } catch {
          this.nonJson.push(line);
        }
        this.notify();
      },
    });
    this.child.stdout.on('data', (chunk: Buffer) => reader.push(chunk));
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
      this.notify();
    });
    this.child.once('exit', () => this.notify());
  }

  static node(file: string, cwd: string, extraArgs: string[] = []): PluginProcess {
    return new PluginProcess(process.execPath, [...extraArgs, file], cwd);
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  send(message: Message | string): void {
    this.child.stdin.write(`${typeof message === 'string' ? message : JSON.stringify(message)}\n`);
  }

  /** Resolves once `check` returns something other than undefined; rejects after `timeoutMs`. */
  until<T>(check: () => T | undefined, what: string, timeoutMs = 5000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const attempt = (): boolean => {
        const value = check();
        if (value === undefined) return false;
        cleanup();
        resolve(value);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}\nstdout: ${JSON.stringify(this.messages).slice(-2000)}\nstderr: ${this.stderr.slice(-2000)}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const listener = (): void => void attempt();
      this.listeners.add(listener);
      attempt();
    });
  }

  waitFor(predicate: (m: Message) => boolean, what: string, timeoutMs?: number): Promise<Message> {
    return this.until(() => this.messages.find(predicate), what, timeoutMs);
  }

  waitForStderr(text: string, timeoutMs?: number): Promise<string> {
    return this.until(() => (this.stderr.includes(text) ? this.stderr : undefined), `stderr to contain ${JSON.stringify(text)}`, timeoutMs);
  }

  /** Sends a request and resolves with the whole response message. */
  request(method: string, params?: unknown, timeoutMs?: number): Promise<Message> {
    const id = this.nextId++;
    this.send(params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params });
    return this.until(() => this.answers.get(id), `the answer to ${method} (id ${id})`, timeoutMs);
  }

  /** Sends a request and resolves with its result; rejects when it answers with an error. */
  async call(method: string, params?: unknown): Promise<unknown> {
    const answer = await this.request(method, params);
    if (answer.error) throw new Error(`${method} failed: ${JSON.stringify(answer.error)}`);
    return answer.result;
  }

  initialize(params: Partial<{ name: string; version: string; config: unknown; state: unknown }> = {}): Promise<unknown> {
    return this.call('warden.initialize', { protocol: 1, name: 'test', version: '1.0.0', config: {}, state: null, ...params });
  }

  notification(method: string, params?: unknown): void {
    this.send({ jsonrpc: '2.0', method, params });
  }

  /** Waits for the process to exit, failing after `timeoutMs`. */
  waitExit(timeoutMs = 5000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`process did not exit within ${timeoutMs} ms\nstderr: ${this.stderr.slice(-2000)}`)), timeoutMs);
    });
    return Promise.race([this.exited, timeout]).finally(() => clearTimeout(timer));
  }

  async kill(): Promise<void> {
    live.delete(this);
    if (this.child.exitCode !== null || this.child.signalCode !== null || this.child.pid === undefined) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}
