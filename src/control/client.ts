/**
 * A client for the daemon's control socket: NDJSON JSON-RPC 2.0 over a unix socket (docs/control-api.md, "Framing and JSON-RPC conformance").
 */
import { createConnection, type Socket } from 'node:net';
import { ErrorCodes, RpcError, type MethodName } from '../protocol/index.js';
import type { ControlParams, ControlResult } from './methods.js';
import { LineBatcher, MAX_LINE_BYTES, readLines } from '../rpc/line-reader.js';

/** The daemon cannot be reached: nothing at the path, nothing listening, no permission, or it hung up. */
export class DaemonUnreachableError extends Error {
  readonly socketPath: string;
  /** `cause` is the system error behind it (`ENOENT`, `ECONNREFUSED`, …), when there is one. */
  constructor(socketPath: string, reason: string, cause?: unknown) {
    super(`cannot reach the warden daemon at ${socketPath}: ${reason}`, cause === undefined ? undefined : { cause });
    this.name = 'DaemonUnreachableError';
    this.socketPath = socketPath;
  }
}

/** The connection closed while requests were still waiting for their answers. */
export class ConnectionClosedError extends DaemonUnreachableError {
  constructor(socketPath: string, method: string) {
    super(socketPath, `the daemon closed the connection before answering '${method}'`);
    this.name = 'ConnectionClosedError';
    // Replace the generic prefix: the daemon *was* reached.
    this.message = `the warden daemon at ${socketPath} closed the connection before answering '${method}'`;
  }
}

/** The daemon answered a request with a JSON-RPC error: the protocol's `RpcError`, `(code, message, data?)`, named for where it came from. */
export class DaemonError extends RpcError {
  constructor(code: number, message: string, data?: unknown) {
    super(code, message, data);
    this.name = 'DaemonError';
  }
}

export interface ConnectOptions {
  /** How long to wait for the connection itself (default 5000 ms). */
  timeoutMs?: number;
}

export interface RequestOptions {
  /** Reject with a `DaemonUnreachableError` when no answer came within this time (default: wait). */
  timeoutMs?: number;
}

export type NotificationHandler = (params: unknown) => void;

export interface ControlClient {
  readonly socketPath: string;
  /** Sends a request; resolves with its result, rejects with `DaemonError` on an error answer. Typed by `ControlMethods`. */
  request<M extends MethodName>(method: M, params: ControlParams<M>, options?: RequestOptions): Promise<ControlResult<M>>;
  /**
   * Any other method name, or a method name held in a plain `string`: the result is what the caller says it is. A
   * literal method name of `ControlMethods` with the wrong params does not land here: it is a compile error.
   */
  request<T = unknown, N extends string = string>(
    method: N & (N extends MethodName ? never : unknown),
    params?: unknown,
    options?: RequestOptions,
  ): Promise<T>;
  /** Registers a handler for a notification from the daemon; returns a function that removes it. */
  onNotification(method: string, handler: NotificationHandler): () => void;
  /** Hangs up; pending requests reject. Resolves once the socket is closed. */
  close(): Promise<void>;
  /** Resolves when the connection has closed, for whatever reason. */
  readonly closed: Promise<void>;
}

interface Pending {
  method: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer?: NodeJS.Timeout;
}

const REASONS: Record<string, string> = {
  ENOENT: 'no such file (is it running?)',
  ECONNREFUSED: 'connection refused (is it running?)',
  EACCES: 'permission denied (is your user in the socket\'s group?)',
  EPERM: 'permission denied',
  ENOTSOCK: 'not a socket',
  ENOTDIR: 'a component of the path is not a folder',
  ENAMETOOLONG: 'path too long for a unix socket',
  ECONNRESET: 'connection reset by the daemon',
  EPIPE: 'connection closed by the daemon',
};

/** A short human reason for a connection error. */
export function describeSocketError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code && REASONS[code]) return REASONS[code];
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Opens a connection to the daemon's control socket. Rejects with `DaemonUnreachableError`. */
export async function connectControl(socketPath: string, options: ConnectOptions = {}): Promise<ControlClient> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = createConnection({ path: socketPath });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new DaemonUnreachableError(socketPath, `no connection after ${timeoutMs} ms`));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (error) => {
      clearTimeout(timer);
      s.destroy();
      reject(new DaemonUnreachableError(socketPath, describeSocketError(error), error));
    });
  });
  return new Client(socketPath, socket);
}

class Client implements ControlClient {
  readonly closed: Promise<void>;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly handlers = new Map<string, Set<NotificationHandler>>();
  private isClosed = false;
  private closeError: Error | undefined;
  /** Requests made in one tick leave in one write, in order. */
  private readonly out = new LineBatcher((text) => {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(text);
  });

  constructor(
    readonly socketPath: string,
    private readonly socket: Socket,
  ) {
    socket.setNoDelay?.(true);
    readLines(socket, {
      maxLineBytes: MAX_LINE_BYTES * 64, // answers (status of many plugins, log tails) may be large
      onLine: (line) => this.onLine(line),
    });
    socket.on('error', (error) => {
      this.closeError = error;
    });
    this.closed = new Promise<void>((resolve) => {
      socket.once('close', () => {
        this.isClosed = true;
        this.failPending();
        resolve();
      });
    });
  }

  request<T = unknown>(method: string, params?: unknown, options: RequestOptions = {}): Promise<T> {
    if (this.isClosed || this.socket.destroyed || !this.socket.writable) {
      return Promise.reject(new ConnectionClosedError(this.socketPath, method));
    }
    const id = this.nextId++;
    const message: Record<string, unknown> = { jsonrpc: '2.0', id, method };
    if (params !== undefined) message.params = params;
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { method, resolve: resolve as (value: unknown) => void, reject };
      if (options.timeoutMs !== undefined) {
        entry.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new DaemonUnreachableError(this.socketPath, `no answer to '${method}' within ${options.timeoutMs} ms`));
        }, options.timeoutMs);
      }
      this.pending.set(id, entry);
      this.send(`${JSON.stringify(message)}\n`);
    });
  }

  onNotification(method: string, handler: NotificationHandler): () => void {
    let set = this.handlers.get(method);
    if (!set) this.handlers.set(method, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  async close(): Promise<void> {
    this.out.flush();
    if (!this.isClosed) this.socket.end();
    // A peer that never finishes its half of the close must not keep us waiting.
    const timer = setTimeout(() => this.socket.destroy(), 1000);
    await this.closed;
    clearTimeout(timer);
  }

  private onLine(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      return; // not JSON: nothing a client can do with it
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) return;
    const m = message as { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: unknown };
    if (typeof m.method === 'string') {
      if (m.id === undefined || m.id === null) {
        for (const handler of this.handlers.get(m.method) ?? []) handler(m.params);
      } else {
        // The daemon does not call its clients; say so rather than leave it waiting.
        this.send(`${JSON.stringify({ jsonrpc: '2.0', id: m.id, error: { code: ErrorCodes.MethodNotFound, message: `method not found: ${m.method}` } })}\n`);
      }
      return;
    }
    if (m.id === null && m.error !== undefined) {
      // The daemon could not read one of our requests; it cannot say which, so fail them all.
      const error = toDaemonError(m.error);
      for (const [id, entry] of this.pending) {
        this.pending.delete(id);
        if (entry.timer) clearTimeout(entry.timer);
        entry.reject(error);
      }
      return;
    }
    if (typeof m.id !== 'number') return;
    const entry = this.pending.get(m.id);
    if (!entry) return;
    this.pending.delete(m.id);
    if (entry.timer) clearTimeout(entry.timer);
    if (m.error !== undefined) entry.reject(toDaemonError(m.error));
    else entry.resolve(m.result);
  }

  /** Queues a line for this tick's write. */
  private send(line: string): void {
    this.out.push(line);
  }

  /** Rejects every request still waiting: the connection is gone. */
  private failPending(): void {
    for (const [id, entry] of this.pending) {
      this.pending.delete(id);
      if (entry.timer) clearTimeout(entry.timer);
      const error = new ConnectionClosedError(this.socketPath, entry.method);
      if (this.closeError) error.message += ` (${describeSocketError(this.closeError)})`;
      entry.reject(error);
    }
  }
}

function toDaemonError(raw: unknown): DaemonError {
  const e = (typeof raw === 'object' && raw !== null ? raw : {}) as { code?: unknown; message?: unknown; data?: unknown };
  const code = typeof e.code === 'number' ? e.code : ErrorCodes.InternalError;
  const message = typeof e.message === 'string' ? e.message : 'unknown error';
  return new DaemonError(code, message, e.data);
}
