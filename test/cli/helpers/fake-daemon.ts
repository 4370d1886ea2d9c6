/**
 * A tiny stand-in for the daemon's control socket: a real unix socket server, in the test's process,
 * speaking NDJSON JSON-RPC 2.0. Handlers answer per method; throwing a FakeRpcError answers an error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class FakeRpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

export interface FakeConnection {
  notify(method: string, params: unknown): void;
  /** Runs after the current answer has been written. */
  afterResponse(fn: () => void): void;
  end(): void;
}

export type FakeHandler = (params: unknown, connection: FakeConnection) => unknown;

export interface FakeDaemon {
  dir: string;
  socketPath: string;
  /** Every request received, in order. */
  requests: { method: string; params: unknown }[];
  connections: Set<Socket>;
  close(): Promise<void>;
}

/** A fresh temp folder (short, for unix socket paths); removed by the returned cleanup. */
export function tempDir(prefix = 'warden-cli-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function startFakeDaemon(handlers: Record<string, FakeHandler>, dir = tempDir()): Promise<FakeDaemon> {
  const socketPath = join(dir, 'warden.sock');
  const requests: FakeDaemon['requests'] = [];
  const connections = new Set<Socket>();
  const server: Server = createServer((socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => {});
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        void answer(socket, line);
      }
    });
  });

  const write = (socket: Socket, message: unknown): void => {
    if (!socket.destroyed) socket.write(`${JSON.stringify(message)}\n`);
  };

  async function answer(socket: Socket, line: string): Promise<void> {
    let request: { id?: unknown; method?: unknown; params?: unknown };
    try {
      request = JSON.parse(line);
    } catch {
      write(socket, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } });
      return;
    }
    const method = String(request.method);
    requests.push({ method, params: request.params });
    const after: (() => void)[] = [];
    const connection: FakeConnection = {
      notify: (m, params) => write(socket, { jsonrpc: '2.0', method: m, params }),
      afterResponse: (fn) => after.push(fn),
      end: () => socket.end(),
    };
    const handler = handlers[method];
    try {
      if (!handler) throw new FakeRpcError(-32601, `method not found: ${method}`);
      const result = await handler(request.params, connection);
      write(socket, { jsonrpc: '2.0', id: request.id, result: result ?? null });
    } catch (error) {
      const e = error instanceof FakeRpcError ? error : new FakeRpcError(-32603, String(error));
      write(socket, { jsonrpc: '2.0', id: request.id, error: { code: e.code, message: e.message, data: e.data } });
    }
    for (const fn of after) fn();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });

  return {
    dir,
    socketPath,
    requests,
    connections,
    async close() {
      for (const socket of connections) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
