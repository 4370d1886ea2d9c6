import { chmod, chown, lstat, mkdir, readFile, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { ErrorCodes, Notification, RpcError } from '../protocol/index.js';
import { createLineReader, LineBatcher, MAX_LINE_BYTES } from '../rpc/line-reader.js';

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

/**
 * Answers one parsed line for one connection: the serialized response to write (or a promise of it), or
 * undefined when none is owed. Synchronous when every handler involved answers synchronously.
 */
type Dispatch = (message: unknown, connection: ControlConnection) => string | undefined | Promise<string | undefined>;

/** One client: its lines in, its answers and notifications out, its subscriptions ended when it goes. */
function serveConnection(socket: Socket, dispatch: Dispatch, logger: Logger): void {
  let closed = false;
  let clientEnded = false;
  let unanswered = 0;
  const closeHandlers: Array<() => void> = [];
  // Lines written in one tick (the answers to a chunk of pipelined requests) leave in one write, in order.
  const out = new LineBatcher((text) => {
    if (!closed && socket.writable) socket.write(text);
  });
  const writeLine = (line: string): void => {
    if (!closed) out.push(line);
  };
  const write = (message: unknown): void => writeLine(`${JSON.stringify(message)}\n`);
  const notify = boundedNotify(socket, write, () => socket.writableLength + out.queuedLength);
  const onClose = (fn: () => void): void => void (closed ? fn() : closeHandlers.push(fn));
  /** A client that has half-closed is done asking: once every line it sent is answered, close our side. */
  const endIfAnswered = (): void => {
    if (!clientEnded || unanswered !== 0 || socket.writableEnded) return;
    out.flush();
    socket.end();
  };
  /** The answer to one line is out (or none was owed): what waited for it runs, in order. */
  const answered = (response: string | undefined, deferred: Array<() => void> | null): void => {
    if (response !== undefined) writeLine(`${response}\n`);
    if (deferred) for (const fn of deferred) fn();
    unanswered -= 1;
    endIfAnswered();
  };
  const failed = (error: Error, deferred: Array<() => void> | null): void => {
    logger.error({ stack: error?.stack }, `control request failed: ${error?.message}`);
    answered(undefined, deferred);
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
      let deferred: Array<() => void> | null = null;
      const connection: ControlConnection = { notify, onClose, afterResponse: (fn) => (deferred ??= []).push(fn) };
      unanswered += 1;
      let outcome: ReturnType<Dispatch>;
      try {
        outcome = dispatch(message, connection);
      } catch (error) {
        return failed(error as Error, deferred);
      }
      if (!(outcome instanceof Promise)) return answered(outcome, deferred);
      outcome.then(
        (response) => answered(response, deferred),
        (error: Error) => failed(error, deferred),
      );
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
    out.take();
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
 * A handler that answers synchronously is answered without a promise in between.
 */
function dispatcher(methods: Map<string, ControlMethod>, logger: Logger): Dispatch {
  /** The serialized error answer for what a handler threw: expected errors are answers, anything else is a bug to log. */
  const failure = (id: RequestId, method: string, error: unknown): string => {
    if (error instanceof RpcError) return JSON.stringify(errorResponse(id, error.code, error.message, error.data));
    logger.error({ method, stack: (error as Error)?.stack }, `control method ${method} failed`);
    return JSON.stringify(errorResponse(id, ErrorCodes.InternalError, `internal error: ${(error as Error)?.message ?? error}`));
  };
  /** The serialized success answer; a result JSON cannot hold (a cycle, a BigInt) is an internal error. */
  const success = (id: RequestId, method: string, result: unknown): string => {
    try {
      return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${JSON.stringify(result ?? null)}}`;
    } catch (error) {
      return failure(id, method, error);
    }
  };
  const answerOne = (message: unknown, connection: ControlConnection): string | undefined | Promise<string | undefined> => {
    if (!isRequest(message)) {
      const id = isPlainObject(message) && isRequestId(message.id) ? message.id : null;
      return JSON.stringify(errorResponse(id, ErrorCodes.InvalidRequest, 'Invalid Request'));
    }
    const notification = message.id === undefined;
    const id = message.id ?? null;
    const method = message.method;
    const handler = methods.get(method);
    if (!handler) return notification ? undefined : JSON.stringify(errorResponse(id, ErrorCodes.MethodNotFound, 'Method not found'));
    let result: unknown;
    try {
      result = handler(message.params, connection);
    } catch (error) {
      const answer = failure(id, method, error);
      return notification ? undefined : answer;
    }
    if (!(result instanceof Promise)) return notification ? undefined : success(id, method, result);
    return result.then(
      (value) => (notification ? undefined : success(id, method, value)),
      (error) => {
        const answer = failure(id, method, error);
        return notification ? undefined : answer;
      },
    );
  };
  return (message, connection) => {
    if (!Array.isArray(message)) return answerOne(message, connection);
    if (message.length === 0) return JSON.stringify(errorResponse(null, ErrorCodes.InvalidRequest, 'Invalid Request'));
    return Promise.all(message.map((one) => answerOne(one, connection))).then((answers) => {
      const owed = answers.filter((answer): answer is string => answer !== undefined);
      return owed.length > 0 ? `[${owed.join(',')}]` : undefined;
    });
  };
}

/**
 * Notifications for a client that may not be reading: while more than MAX_QUEUED_NOTIFY_BYTES wait for it
 * (`queued`: in its socket queue and in this tick's batch) they are dropped and counted; once it drains (or a later one fits), one `logs.entry`
 * with a synthetic warn entry says how many were lost — never one per drop.
 */
function boundedNotify(socket: Socket, write: (message: unknown) => void, queued: () => number): (method: string, params: unknown) => void {
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
    if (queued() > MAX_QUEUED_NOTIFY_BYTES) {
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
