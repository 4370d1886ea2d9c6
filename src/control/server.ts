import { chmod, chown, lstat, mkdir, readFile, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { JSONRPCErrorException, JSONRPCServer, type JSONRPCRequest } from 'json-rpc-2.0';
import type { Logger } from 'pino';
import { ErrorCodes, RpcError } from '../host/rpc-error.js';
import { createLineReader, MAX_LINE_BYTES } from '../rpc/line-reader.js';
import { Notification } from './protocol.js';

/** One client of the control socket, as a method handler sees it. */
export interface ControlConnection {
  /** Sends a notification (e.g. `logs.entry`); a no-op once the client has hung up. */
  notify(method: string, params: unknown): void;
  /** Runs `fn` once the answer to the current request has been written. */
  afterResponse(fn: () => void): void;
  onClose(fn: () => void): void;
}

export type ControlMethod = (params: unknown, connection: ControlConnection) => unknown;

export interface ControlSocketOptions {
  path: string;
  mode: number;
  group: string | null;
}

export interface ControlServer {
  close(): Promise<void>;
}

export class SocketInUseError extends Error {}

/**
 * What may wait in a client's socket queue before notifications to it are dropped: a `logs.tail -f`
 * that stops reading (a paused terminal, a stuck pipe) must not make the daemon hold every entry since.
 */
export const MAX_QUEUED_NOTIFY_BYTES = 4 * 1024 * 1024;

/**
 * Serves NDJSON JSON-RPC 2.0 on a unix socket. A malformed request gets a JSON-RPC error;
 * nothing a client sends can take the daemon down.
 */
export async function listenControl(
  options: ControlSocketOptions,
  methods: Record<string, ControlMethod>,
  logger: Logger,
): Promise<ControlServer> {
  await clearStaleSocket(options.path);
  await mkdir(dirname(options.path), { recursive: true });
  // Expected errors (unknown plugin, bad params) are answers, not incidents; unexpected ones are logged below.
  const rpc = new JSONRPCServer<ConnectionState>({ errorListener: () => undefined });
  for (const [name, handler] of Object.entries(methods)) {
    rpc.addMethod(name, async (params, connection) => {
      try {
        return (await handler(params, connection)) ?? null;
      } catch (error) {
        if (error instanceof RpcError) throw new JSONRPCErrorException(error.message, error.code, error.data);
        logger.error({ method: name, stack: (error as Error)?.stack }, `control method ${name} failed`);
        throw new JSONRPCErrorException(`internal error: ${(error as Error)?.message ?? error}`, ErrorCodes.InternalError);
      }
    });
  }
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serveConnection(socket, rpc, logger);
  });
  // No moment where the socket exists with looser permissions than configured.
  const previousUmask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(previousUmask);
  }
  server.on('error', (error) => logger.error(`control socket error: ${error.message}`));
  await chmod(options.path, options.mode);
  if (options.group !== null) await chown(options.path, -1, await groupId(options.group));
  return {
    close: () => closeServer(server, sockets, options.path),
  };
}

interface ConnectionState extends ControlConnection {
  flushAfterResponse(): void;
}

function serveConnection(socket: Socket, rpc: JSONRPCServer<ConnectionState>, logger: Logger): void {
  let closed = false;
  const closeHandlers: Array<() => void> = [];
  let deferred: Array<() => void> = [];
  const write = (message: unknown): void => {
    if (!closed && socket.writable) socket.write(`${JSON.stringify(message)}\n`);
  };
  const notify = boundedNotify(socket, write);
  const connection: ConnectionState = {
    notify,
    afterResponse: (fn) => deferred.push(fn),
    onClose: (fn) => (closed ? fn() : closeHandlers.push(fn)),
    flushAfterResponse: () => {
      const run = deferred;
      deferred = [];
      for (const fn of run) fn();
    },
  };
  const reader = createLineReader({
    maxLineBytes: MAX_LINE_BYTES,
    onLine: (line) => {
      let request: unknown;
      try {
        request = JSON.parse(line);
      } catch (error) {
        write(errorResponse(null, ErrorCodes.ParseError, `parse error: ${(error as Error).message}`));
        return;
      }
      Promise.resolve(rpc.receive(request as JSONRPCRequest, connection)).then(
        (response) => {
          if (response) write(response);
          connection.flushAfterResponse();
        },
        (error: Error) => {
          write(errorResponse(null, ErrorCodes.InternalError, error.message));
          logger.error(`control request failed: ${error.message}`);
        },
      );
    },
    onOverflow: (bytes) => write(errorResponse(null, ErrorCodes.InvalidRequest, `request of ${bytes} bytes is over the 1 MiB limit`)),
  });
  socket.on('data', (chunk: Buffer) => reader.push(chunk));
  socket.on('error', () => undefined); // a client vanishing mid-answer is not the daemon's problem
  socket.once('close', () => {
    closed = true;
    for (const fn of closeHandlers.splice(0)) fn();
  });
}

/**
 * Notifications for a client that may not be reading: while more than MAX_QUEUED_NOTIFY_BYTES wait in
 * its socket queue they are dropped and counted; once it drains (or a later one fits), one `logs.entry`
 * with a synthetic warn entry says how many were lost — never one per drop.
 */
function boundedNotify(socket: Socket, write: (message: unknown) => void): (method: string, params: unknown) => void {
  let dropped = 0;
  /** The one entry about what was lost, then back to normal; also the 'drain' listener. */
  const sendNotice = (): void => {
    socket.removeListener('drain', sendNotice);
    if (dropped === 0) return;
    const count = dropped;
    dropped = 0;
    const entry = {
      time: new Date().toISOString(),
      level: 'warn',
      droppedEntries: count,
      msg: `dropped ${count} log entr${count === 1 ? 'y' : 'ies'} for this client: it was not reading fast enough`,
    };
    write({ jsonrpc: '2.0', method: Notification.LogsEntry, params: entry });
  };
  return (method, params) => {
    if (socket.writableLength > MAX_QUEUED_NOTIFY_BYTES) {
      if (dropped++ === 0) socket.once('drain', sendNotice);
      return;
    }
    sendNotice();
    write({ jsonrpc: '2.0', method, params });
  };
}

function errorResponse(id: number | string | null, code: number, message: string) {
  return { jsonrpc: '2.0', id, error: { code, message } };
}

/** Removes a socket file left by a dead daemon; refuses when a live one answers on it. */
async function clearStaleSocket(path: string): Promise<void> {
  const stats = await lstat(path).catch(() => null);
  if (!stats) return;
  if (!stats.isSocket()) throw new SocketInUseError(`${path} exists and is not a socket; refusing to replace it`);
  const alive = await new Promise<boolean>((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new SocketInUseError(`another warden daemon is already listening on ${path}`);
  await unlink(path);
}

async function groupId(group: string): Promise<number> {
  if (/^\d+$/.test(group)) return Number(group);
  const lines = (await readFile('/etc/group', 'utf8')).split('\n');
  for (const line of lines) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined) return Number(gid);
  }
  throw new Error(`socket.group: no such group "${group}"`);
}

async function closeServer(server: Server, sockets: Set<Socket>, path: string): Promise<void> {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await unlink(path).catch(() => undefined);
}
