import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { afterEach } from 'vitest';
import { listenControl, type ControlMethod, type ControlServer } from '../../src/control/server.js';
import { createLineReader } from '../../src/rpc/line-reader.js';

export type Message = any;

const servers: ControlServer[] = [];
const sockets: Socket[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => server.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** What the server logged, one parsed pino line each. */
export interface CapturedLog {
  logger: Logger;
  lines: Array<{ level: number; msg: string }>;
}

/** A pino logger that keeps its lines for the test to read. */
export function captureLog(): CapturedLog {
  const lines: CapturedLog['lines'] = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

/** The real control server on a socket in a temp folder, closed after the test. */
export async function serve(methods: Record<string, ControlMethod>, logger: Logger = pino({ level: 'silent' })): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-control-'));
  dirs.push(dir);
  const path = join(dir, 'control.sock');
  servers.push(await listenControl({ path, mode: 0o600, group: null }, methods, logger));
  return path;
}

/** A raw client connection: every line the server writes, parsed, and whether the server has closed its side. */
export class RawClient {
  readonly messages: Message[] = [];
  serverEnded = false;
  private readonly listeners = new Set<() => void>();

  private constructor(readonly socket: Socket) {
    const reader = createLineReader({ onLine: (line) => this.messages.push(JSON.parse(line)) });
    socket.on('data', (chunk: Buffer) => {
      reader.push(chunk);
      this.changed();
    });
    socket.on('end', () => {
      this.serverEnded = true;
      this.changed();
    });
    socket.on('close', () => this.changed());
    socket.on('error', () => this.changed());
  }

  /** Connects to `path`; the socket is destroyed after the test. */
  static async connect(path: string): Promise<RawClient> {
    const socket = createConnection({ path, allowHalfOpen: true });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  send(text: string): void {
    this.socket.write(text);
  }

  /** Resolves with `check`'s first value other than undefined; rejects after `timeoutMs` saying what was seen. */
  until<T>(what: string, check: () => T | undefined, timeoutMs = 10_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const attempt = (): void => {
        const value = check();
        if (value === undefined) return;
        done();
        resolve(value);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received ${JSON.stringify(this.messages)}, server ended: ${this.serverEnded}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(attempt);
      };
      this.listeners.add(attempt);
      attempt();
    });
  }

  /** Waits for the server to close its side, then resolves with everything it wrote. */
  untilServerEnds(timeoutMs?: number): Promise<Message[]> {
    return this.until('the server to close its side', () => (this.serverEnded ? this.messages : undefined), timeoutMs);
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
