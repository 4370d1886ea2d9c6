import { chmod, chown, lstat, mkdir, readFile, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { ErrorCodes, Notification, RpcError } from '../protocol/index.js';
import { createLineReader, MAX_LINE_BYTES } from '../rpc/line-reader.js';

/** One client of the control socket, as a method handler sees it. */
export interface ControlConnection {
  /** Sends a notification (e.g. `logs.entry`); a no-op once the client has hung up. */
  notify(method: string, params: unknown): void;
  /** Runs `fn` once the answer to the current request (or its batch) has been written. */
  afterResponse(fn: () => void): void;
  /** Runs `fn` once the connection has closed (the client hung up, or half-closed and got every answer). */
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
 * Serves NDJSON JSON-RPC 2.0 on a unix socket: requests, notifications and batches (specification §4–6).
 * A malformed request gets a JSON-RPC error; nothing a client sends can take the daemon down. A client
 * that half-closes its side after sending (`… | nc -N`, socat, `shutdown(SHUT_WR)`) still gets every
 * answer; then the daemon closes the connection too (a `logs.tail` follow ends there).
 */
export async function listenControl(
  options: ControlSocketOptions,
  methods: Record<string, ControlMethod>,
  logger: Logger,
): Promise<ControlServer> {
  await clearStaleSocket(options.path);
  await mkdir(dirname(options.path), { recursive: true });
  const dispatch = dispatcher(new Map(Object.entries(methods)), logger);
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serveConnection(socket, dispatch, logger);
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

/** Answers one parsed line for one connection: the response to write, or undefined when none is owed. */
type Dispatch = (message: unknown, connection: ControlConnection) => Promise<unknown>;

/** One client: its lines in, its answers and notifications out, its subscriptions ended when it goes. */
function serveConnection(socket: Socket, dispatch: Dispatch, logger: Logger): void {
  let closed = false;
  let clientEnded = false;
  let unanswered = 0;
  const closeHandlers: Array<() => void> = [];
  const write = (message: unknown): void => {
    if (!closed && socket.writable) socket.write(`${JSON.stringify(message)}\n`);
  };
  const notify = boundedNotify(socket, write);
  const onClose = (fn: () => void): void => void (closed ? fn() : closeHandlers.push(fn));
  /** A client that has half-closed is done asking: once every line it sent is answered, close our side. */
  const endIfAnswered = (): void => {
    if (clientEnded && unanswered === 0 && !socket.writableEnded) socket.end();
  };
  const reader = createLineReader({
    maxLineBytes: MAX_LINE_BYTES,
    onLine: (line) => {
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch (error) {
        write(errorResponse(null, ErrorCodes.ParseError, `parse error: ${(error as Error).message}`));
        return;
      }
      const deferred: Array<() => void> = [];
      unanswered += 1;
      dispatch(message, { notify, onClose, afterResponse: (fn) => deferred.push(fn) })
        .then((response) => {
          if (response !== undefined) write(response);
          for (const fn of deferred) fn();
        })
        .catch((error: Error) => logger.error({ stack: error?.stack }, `control request failed: ${error?.message}`))
        .finally(() => {
          unanswered -= 1;
          endIfAnswered();
        });
    },
    onOverflow: (bytes) => write(errorResponse(null, ErrorCodes.InvalidRequest, `request of ${bytes} bytes is over the 1 MiB limit`)),
  });
  socket.on('data', (chunk: Buffer) => reader.push(chunk));
  socket.once('end', () => {
    reader.end(); // a last request without its newline still counts
    clientEnded = true;
    endIfAnswered();
  });
  socket.on('error', () => undefined); // a client vanishing mid-answer is not the daemon's problem
  socket.once('close', () => {
    closed = true;
    for (const fn of closeHandlers.splice(0)) fn();
  });
}

/** A JSON-RPC 2.0 id (§4): a string, a number, or null. */
type RequestId = string | number | null;

/** A valid Request object (§4); without `id` it is a notification, never answered. */
interface Request {
  method: string;
  params?: unknown;
  id?: RequestId;
}

/** An id may be echoed back only when it is one of the three kinds §4 allows. */
function isRequestId(value: unknown): value is RequestId {
  return typeof value === 'string' || typeof value === 'number' || value === null;
}

/** A Request object is a JSON object: not null, not an array (a batch). */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** §4: "jsonrpc" exactly "2.0", "method" a string, "params" (when present) an array or an object, "id" (when present) a string, number or null. */
function isRequest(message: unknown): message is Request {
  return (
    isPlainObject(message) &&
    message.jsonrpc === '2.0' &&
    typeof message.method === 'string' &&
    (message.params === undefined || (typeof message.params === 'object' && message.params !== null)) &&
    (message.id === undefined || isRequestId(message.id))
  );
}

/**
 * Answers requests with `methods`: a single request (or notification), or a batch, whose answers come
 * back as an array in the order of its requests, leaving out notifications; nothing at all for a batch
 * of notifications (§6). An invalid request is answered with its id when it has a valid one, else null.
 */
function dispatcher(methods: Map<string, ControlMethod>, logger: Logger): Dispatch {
  const answerOne = async (message: unknown, connection: ControlConnection): Promise<unknown> => {
    if (!isRequest(message)) {
      const id = isPlainObject(message) && isRequestId(message.id) ? message.id : null;
      return errorResponse(id, ErrorCodes.InvalidRequest, 'Invalid Request');
    }
    const id = message.id ?? null;
    const handler = methods.get(message.method);
    let response: unknown;
    if (!handler) response = errorResponse(id, ErrorCodes.MethodNotFound, 'Method not found');
    else {
      try {
        response = { jsonrpc: '2.0', id, result: (await handler(message.params, connection)) ?? null };
      } catch (error) {
        // Expected errors (unknown plugin, bad params) are answers, not incidents; anything else is a bug to log.
        if (error instanceof RpcError) response = errorResponse(id, error.code, error.message, error.data);
        else {
          logger.error({ method: message.method, stack: (error as Error)?.stack }, `control method ${message.method} failed`);
          response = errorResponse(id, ErrorCodes.InternalError, `internal error: ${(error as Error)?.message ?? error}`);
        }
      }
    }
    return message.id === undefined ? undefined : response;
  };
  return async (message, connection) => {
    if (!Array.isArray(message)) return answerOne(message, connection);
    if (message.length === 0) return errorResponse(null, ErrorCodes.InvalidRequest, 'Invalid Request');
    const answers = (await Promise.all(message.map((one) => answerOne(one, connection)))).filter((answer) => answer !== undefined);
    return answers.length > 0 ? answers : undefined;
  };
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

/** A JSON-RPC error response; `data` only when there is something in it. */
function errorResponse(id: RequestId, code: number, message: string, data?: unknown) {
  return { jsonrpc: '2.0', id, error: data === undefined || data === null ? { code, message } : { code, message, data } };
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
