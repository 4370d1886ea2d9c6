// A client that sends its requests and then half-closes its side (`echo … | nc -U -N`, socat, a Python
// client calling shutdown(SHUT_WR)) still gets every answer; then the daemon closes the connection.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlConnection } from '../../src/control/server.js';
import { bootDaemon, type Sandbox, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';
import { RawClient, serve } from './helpers.js';

const run = promisify(execFile);

/** Sends stdin's bytes to the socket, shuts down its writing side, prints what comes back until EOF. */
const PYTHON_CLIENT = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(15)
s.connect(sys.argv[1])
s.sendall(sys.stdin.buffer.read())
s.shutdown(socket.SHUT_WR)
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    sys.stdout.buffer.write(chunk)
s.close()
`;

const request = (id: number, method: string, params: unknown): string => JSON.stringify({ jsonrpc: '2.0', id, method, params });
const slowCall = (id: number, ms: number): string => request(id, 'plugin.call', { name: 'slow', method: 'sleep', params: { ms } });

describe('a client that half-closes after its requests, against a real daemon', () => {
  let sandbox: Sandbox;
  let daemon: TestDaemon;

  beforeAll(async () => {
    ({ sandbox, daemon } = await bootDaemon({}, { slow: {} }));
    await daemon.waitForState('slow', 'running');
  });

  afterAll(async () => {
    await daemon?.cleanup();
    sandbox?.remove();
  });

  it('gets the answer to a plugin call that answers later (node socket.end()), then the daemon closes', async () => {
    const client = await RawClient.connect(sandbox.socketPath);
    client.send(`${slowCall(1, 300)}\n`);
    client.socket.end();
    expect(await client.untilServerEnds()).toEqual([{ jsonrpc: '2.0', id: 1, result: 'slept' }]);
  });

  it('answers everything accepted before closing: pipelined calls and a last line without a newline', async () => {
    const client = await RawClient.connect(sandbox.socketPath);
    client.send(`${slowCall(1, 400)}\n${request(2, 'plugin.call', { name: 'slow', method: 'echo', params: { a: 1 } })}\n${slowCall(3, 200)}`);
    client.socket.end();
    const answers = await client.untilServerEnds();
    expect([...answers].sort((a, b) => a.id - b.id)).toEqual([
      { jsonrpc: '2.0', id: 1, result: 'slept' },
      { jsonrpc: '2.0', id: 2, result: { a: 1 } },
      { jsonrpc: '2.0', id: 3, result: 'slept' },
    ]);
  });

  it('gets the answer when a python client shuts down its writing side (SHUT_WR)', async () => {
    const child = run('python3', ['-c', PYTHON_CLIENT, sandbox.socketPath], { timeout: 20_000, killSignal: 'SIGKILL' });
    child.child.stdin!.end(`${slowCall(7, 300)}\n${request(8, 'status', {})}\n`);
    const { stdout } = await child;
    const answers = stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(answers).toHaveLength(2);
    expect(answers.find((a) => a.id === 7)).toEqual({ jsonrpc: '2.0', id: 7, result: 'slept' });
    expect(answers.find((a) => a.id === 8)).toMatchObject({ jsonrpc: '2.0', id: 8, result: { plugins: [expect.objectContaining({ name: 'slow' })] } });
  });
});

describe('a half-closed connection, against the control server', () => {
  it('answers a follow request, then closes and ends the subscription: a half-closed client is done', async () => {
    let subscriber: ControlConnection | undefined;
    let unsubscribed = false;
    const path = await serve({
      watch: (_params, connection) => {
        connection.afterResponse(() => {
          subscriber = connection;
          connection.onClose(() => (unsubscribed = true));
        });
        return { watching: true };
      },
    });
    const client = await RawClient.connect(path);
    client.send(`${request(1, 'watch', {})}\n`);
    client.socket.end();
    expect(await client.untilServerEnds()).toEqual([{ jsonrpc: '2.0', id: 1, result: { watching: true } }]);
    expect(subscriber).toBeDefined();
    await waitFor('the subscription to end with the connection', () => unsubscribed);
    subscriber!.notify('tick', { n: 1 }); // a no-op now
  });

  it('closes once the last pending answer is written, not before', async () => {
    let release: (value: string) => void = () => undefined;
    const path = await serve({
      later: () => new Promise<string>((resolve) => (release = resolve)),
      now: () => 'now',
    });
    const client = await RawClient.connect(path);
    client.send(`${request(1, 'later', {})}\n${request(2, 'now', {})}\n`);
    client.socket.end();
    await client.until('the quick answer', () => client.messages.find((m) => m.id === 2));
    expect(client.serverEnded).toBe(false);
    release('later');
    expect(await client.untilServerEnds()).toEqual([
      { jsonrpc: '2.0', id: 2, result: 'now' },
      { jsonrpc: '2.0', id: 1, result: 'later' },
    ]);
  });
});
