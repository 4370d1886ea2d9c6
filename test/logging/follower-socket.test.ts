import { createConnection, Socket } from 'node:net';
import path from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { listenControl, MAX_QUEUED_NOTIFY_BYTES, type ControlMethod, type ControlServer } from '../../src/control/server.js';
import { createLogSystem, type LogEntry, type LogSystem } from '../../src/logging/index.js';
import { createLineReader } from '../../src/rpc/line-reader.js';
import { waitFor } from '../helpers/wait.js';
import { tempDir } from './helpers.js';

let server: ControlServer | undefined;
let client: Socket | undefined;
let logs: LogSystem | undefined;

afterEach(async () => {
  vi.restoreAllMocks();
  client?.destroy();
  await server?.close();
  await logs?.close();
  server = client = logs = undefined;
});

/** `logs.tail` with follow, as the daemon's control methods do it: entries from now on, as notifications. */
function followMethod(system: LogSystem): ControlMethod {
  return (_params, connection) => {
    connection.afterResponse(() => connection.onClose(system.follow({}, (entry) => connection.notify('logs.entry', entry))));
    return { entries: [] };
  };
}

describe('a log follower that stops reading', () => {
  it('cannot grow the daemon: notifications are dropped past the bound, then counted in one entry', async () => {
    logs = createLogSystem({ level: 'info', dir: null, maxBytes: 1 << 20, keep: 1 });
    const socketPath = path.join(tempDir(), 'control.sock');
    server = await listenControl({ path: socketPath, mode: 0o600, group: null }, { 'logs.tail': followMethod(logs) }, pino({ level: 'silent' }));

    const received: Array<{ id?: number; method?: string; params?: LogEntry }> = [];
    const reader = createLineReader({ onLine: (line) => received.push(JSON.parse(line)) });
    client = createConnection(socketPath);
    client.on('data', (chunk: Buffer) => reader.push(chunk));
    await new Promise((resolve) => client!.once('connect', resolve));
    const writes = vi.spyOn(Socket.prototype, 'write'); // to find the server's end of the connection
    client.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'logs.tail', params: { follow: true } })}\n`);
    await waitFor('the answer', () => received.some((m) => m.id === 1));
    const serverSide = writes.mock.contexts.find((s): s is Socket => s instanceof Socket && s !== client);
    expect(serverSide).toBeDefined();
    vi.restoreAllMocks();

    client.pause(); // a `warden logs -f` piped into a pager nobody scrolls
    const ENTRIES = 20_000;
    const text = 'x'.repeat(1000);
    let maxQueued = 0;
    for (let i = 0; i < ENTRIES; i++) {
      logs.logger.info({ i }, text);
      if (i % 500 === 499) {
        maxQueued = Math.max(maxQueued, serverSide!.writableLength);
        await tick(); // let the socket flush what the kernel takes
      }
    }
    maxQueued = Math.max(maxQueued, serverSide!.writableLength);
    // ~20 MB of entries; without the bound nearly all of it would wait in the daemon's memory.
    expect(maxQueued).toBeGreaterThan(MAX_QUEUED_NOTIFY_BYTES / 2);
    expect(maxQueued).toBeLessThan(MAX_QUEUED_NOTIFY_BYTES + 4096);

    client.resume();
    const notice = await waitFor('the dropped notice', () =>
      received.find((m) => m.method === 'logs.entry' && m.params?.droppedEntries !== undefined),
    );
    const delivered = received.filter((m) => m.method === 'logs.entry' && typeof m.params?.i === 'number');
    const dropped = notice.params!.droppedEntries as number;
    expect(dropped).toBeGreaterThan(0);
    expect(delivered.length + dropped).toBe(ENTRIES);
    expect(notice.params).toMatchObject({
      level: 'warn',
      time: expect.any(String),
      msg: `dropped ${dropped} log entries for this client: it was not reading fast enough`,
    });
    expect(received.indexOf(notice)).toBe(received.length - 1); // after everything that was kept

    // Reading again, it follows as before.
    logs.logger.info('after');
    await waitFor('a live entry again', () => received.at(-1)?.params?.msg === 'after');
  });
});
