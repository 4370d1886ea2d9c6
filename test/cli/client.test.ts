/** The control client against a fake daemon on a real unix socket. */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConnectionClosedError,
  DaemonError,
  DaemonUnreachableError,
  connectControl,
  type ControlClient,
} from '../../src/control/client.js';
import { ErrorCode, Method } from '../../src/protocol/index.js';
import { FakeRpcError, startFakeDaemon, tempDir, type FakeDaemon } from './helpers/fake-daemon.js';

let daemon: FakeDaemon | undefined;
let client: ControlClient | undefined;
afterEach(async () => {
  await client?.close();
  await daemon?.close();
  client = undefined;
  daemon = undefined;
});

describe('connectControl', () => {
  it('sends requests and matches the answers, out of order too', async () => {
    daemon = await startFakeDaemon({
      slow: async () => {
        await new Promise((r) => setTimeout(r, 50));
        return 'slow';
      },
      fast: (params) => ({ got: params }),
    });
    client = await connectControl(daemon.socketPath);
    const [slow, fast] = await Promise.all([client.request('slow'), client.request('fast', { a: 1 })]);
    expect(slow).toBe('slow');
    expect(fast).toEqual({ got: { a: 1 } });
  });

  it('rejects with DaemonError on an error answer', async () => {
    daemon = await startFakeDaemon({
      [Method.PluginStart]: () => {
        throw new FakeRpcError(ErrorCode.UnknownPlugin, 'unknown plugin: x', { name: 'x' });
      },
    });
    client = await connectControl(daemon.socketPath);
    const error = await client.request(Method.PluginStart, { name: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DaemonError);
    expect(error).toMatchObject({ code: -32001, message: 'unknown plugin: x', data: { name: 'x' } });
  });

  it('delivers notifications to their handlers', async () => {
    daemon = await startFakeDaemon({
      go: (_params, connection) => {
        connection.afterResponse(() => connection.notify('logs.entry', { msg: 'hi' }));
        return null;
      },
    });
    client = await connectControl(daemon.socketPath);
    const seen = new Promise((resolve) => client!.onNotification('logs.entry', resolve));
    await client.request('go');
    expect(await seen).toEqual({ msg: 'hi' });
  });

  it('rejects pending requests when the socket closes, and resolves `closed`', async () => {
    daemon = await startFakeDaemon({ hang: (_params, connection) => connection.end() as never });
    client = await connectControl(daemon.socketPath);
    const error = await client.request('hang').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionClosedError);
    expect(error).toBeInstanceOf(DaemonUnreachableError);
    expect((error as Error).message).toBe(`the warden daemon at ${daemon.socketPath} closed the connection before answering 'hang'`);
    await client.closed;
    await expect(client.request('again')).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  it('rejects with DaemonUnreachableError naming the path', async () => {
    const dir = tempDir();
    const path = join(dir, 'none.sock');
    try {
      const error = await connectControl(path).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DaemonUnreachableError);
      expect(error).toMatchObject({
        socketPath: path,
        message: `cannot reach the warden daemon at ${path}: no such file (is it running?)`,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('times a request out when asked to', async () => {
    daemon = await startFakeDaemon({ never: () => new Promise(() => {}) });
    client = await connectControl(daemon.socketPath);
    await expect(client.request('never', {}, { timeoutMs: 50 })).rejects.toThrow(/no answer to 'never' within 50 ms/);
  });
});
