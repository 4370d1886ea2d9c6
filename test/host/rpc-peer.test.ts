import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { PluginHost } from '../../src/host/plugin-host.js';
import { NO_ANSWER, RpcPeer, type PeerChannel } from '../../src/host/rpc-peer.js';
import { createLogSystem } from '../../src/logging/index.js';
import { ErrorCodes, RpcError } from '../../src/protocol/index.js';

/** A peer whose writes are recorded as parsed lines, and whose plugin requests go to `handlers`. */
function recordingPeer(handlers: Record<string, (params: unknown) => unknown> = {}) {
  const written: Array<Record<string, unknown>> = [];
  const stray: string[] = [];
  let writes = 0;
  const channel: PeerChannel = {
    write(text, done) {
      writes += 1;
      for (const line of text.split('\n').filter(Boolean)) written.push(JSON.parse(line) as Record<string, unknown>);
      done?.(null);
      return true;
    },
    onRequest(method, params) {
      const handler = handlers[method];
      if (!handler) throw new RpcError(ErrorCodes.MethodNotFound, `Method not found: ${method}`);
      return handler(params);
    },
    onStray: (line) => stray.push(line),
  };
  return { peer: new RpcPeer(channel), written, stray, writes: () => writes };
}

/** Lets the peer's queued write go out. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('RpcPeer', () => {
  it('matches answers by id, out of order, and sends the requests of one tick in one write', async () => {
    const { peer, written, writes } = recordingPeer();
    const first = peer.request('a', { n: 1 }, 0);
    const second = peer.request('b', [2], 0);
    await tick();
    expect(writes()).toBe(1);
    expect(written).toEqual([
      { jsonrpc: '2.0', id: 1, method: 'a', params: { n: 1 } },
      { jsonrpc: '2.0', id: 2, method: 'b', params: [2] },
    ]);
    peer.receive('{"jsonrpc":"2.0","id":2,"result":"two"}');
    peer.receive('{"jsonrpc":"2.0","id":1,"error":{"code":1001,"message":"no","data":{"why":1}}}');
    await expect(second).resolves.toBe('two');
    await expect(first).rejects.toMatchObject({ code: 1001, message: 'no', data: { why: 1 } });
    expect(peer.inFlight).toBe(0);
  });

  it('ignores answers to unknown, late, string and null ids, and a second answer to the same id', async () => {
    const { peer, stray } = recordingPeer();
    const call = peer.request('slow', {}, 30);
    await expect(call).rejects.toMatchObject({ code: ErrorCodes.CallTimeout, message: 'slow timed out after 30ms' });
    const live = peer.request('live', {}, 0);
    for (const line of [
      '{"jsonrpc":"2.0","id":1,"result":"late"}',
      '{"jsonrpc":"2.0","id":99,"result":"unknown"}',
      '{"jsonrpc":"2.0","id":"2","result":"string id"}',
      '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}',
    ]) {
      peer.receive(line);
    }
    expect(peer.inFlight).toBe(1);
    peer.receive('{"jsonrpc":"2.0","id":2,"result":"mine"}');
    peer.receive('{"jsonrpc":"2.0","id":2,"result":"again"}');
    await expect(live).resolves.toBe('mine');
    expect(stray).toEqual([]);
  });

  it('hands garbage, bare values, batches and non-2.0 objects to onStray, and stays usable', async () => {
    const { peer, stray } = recordingPeer();
    const lines = ['not json', '42', 'null', '"text"', '[{"jsonrpc":"2.0","id":1,"result":1}]', '{"id":1,"result":1}', '{"jsonrpc":"1.0","id":1}'];
    const call = peer.request('x', {}, 0);
    for (const line of lines) peer.receive(line);
    expect(stray).toEqual(lines);
    peer.receive('{"jsonrpc":"2.0","id":1,"result":null}');
    await expect(call).resolves.toBeNull();
  });

  it('turns a malformed error answer into an internal error, and a missing result into null', async () => {
    const { peer } = recordingPeer();
    const bad = peer.request('m', {}, 0);
    const bare = peer.request('n', {}, 0);
    peer.receive('{"jsonrpc":"2.0","id":1,"error":"boom"}');
    peer.receive('{"jsonrpc":"2.0","id":2}');
    await expect(bad).rejects.toMatchObject({ code: ErrorCodes.InternalError, message: 'the plugin answered m with a malformed error' });
    await expect(bare).resolves.toBeNull();
  });

  it("answers the plugin's requests (sync, async, thrown, unknown, invalid), never a notification nor a NO_ANSWER", async () => {
    const seen: unknown[] = [];
    const { peer, written } = recordingPeer({
      'warden.emit': (params) => {
        seen.push(params);
        return NO_ANSWER;
      },
      'warden.null': () => null,
      'warden.call': async (params) => ({ echoed: params }),
      'warden.fail': async () => {
        throw new RpcError(ErrorCodes.PermissionDenied, 'not yours', { plugin: 'x' });
      },
      'warden.crash': () => {
        throw new Error('bug');
      },
    });
    peer.receive('{"jsonrpc":"2.0","method":"warden.emit","params":{"topic":"t"}}');
    peer.receive('{"jsonrpc":"2.0","id":"s","method":"warden.emit","params":{}}');
    peer.receive('{"jsonrpc":"2.0","id":"n","method":"warden.null"}');
    peer.receive('{"jsonrpc":"2.0","id":7,"method":"warden.call","params":{"a":1}}');
    peer.receive('{"jsonrpc":"2.0","id":8,"method":"warden.fail"}');
    peer.receive('{"jsonrpc":"2.0","id":9,"method":"warden.crash"}');
    peer.receive('{"jsonrpc":"2.0","id":10,"method":"nope"}');
    peer.receive('{"jsonrpc":"2.0","method":"nope"}');
    peer.receive('{"jsonrpc":"2.0","id":11,"method":5}');
    peer.receive('{"jsonrpc":"2.0","id":{"x":1},"method":"warden.emit"}');
    await tick();
    expect(seen).toEqual([{ topic: 't' }, {}]);
    expect(written).toEqual([
      { jsonrpc: '2.0', id: 'n', result: null },
      { jsonrpc: '2.0', id: 9, error: { code: ErrorCodes.InternalError, message: 'bug' } },
      { jsonrpc: '2.0', id: 10, error: { code: ErrorCodes.MethodNotFound, message: 'Method not found: nope' } },
      { jsonrpc: '2.0', id: 11, error: { code: ErrorCodes.InvalidRequest, message: 'Invalid Request' } },
      { jsonrpc: '2.0', id: null, error: { code: ErrorCodes.InvalidRequest, message: 'Invalid Request' } },
      { jsonrpc: '2.0', id: 7, result: { echoed: { a: 1 } } },
      { jsonrpc: '2.0', id: 8, error: { code: ErrorCodes.PermissionDenied, message: 'not yours', data: { plugin: 'x' } } },
    ]);
  });

  it('fails pending calls when closed, later ones at once, and wakes idle waiters', async () => {
    const { peer } = recordingPeer();
    const pending = peer.request('a', {}, 0);
    const idle = peer.idle(10_000);
    peer.close(ErrorCodes.PluginExited, 'exited during the call', 'exited');
    await expect(pending).rejects.toMatchObject({ code: ErrorCodes.PluginExited, message: 'exited during the call' });
    await idle;
    await expect(peer.request('b', {}, 0)).rejects.toMatchObject({ code: ErrorCodes.PluginExited, message: 'exited' });
  });
});

/** A plugin with no SDK that misbehaves on its stdout in every way the host must survive. */
const HOSTILE = `
let buf = '';
let askId = null;
const out = (o) => process.stdout.write(typeof o === 'string' ? o : JSON.stringify(o) + '\\n');
process.stdin.on('data', (chunk) => {
  buf += chunk;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const m = JSON.parse(buf.slice(0, i));
    buf = buf.slice(i + 1);
    if (m.method === 'warden.initialize') out({ jsonrpc: '2.0', id: m.id, result: { methods: ['noisy', 'huge', 'ask'] } });
    else if (m.method === 'noisy') {
      out('garbage line\\n');
      out([{ jsonrpc: '2.0', id: m.id, result: 'batch' }]);
      out({ jsonrpc: '2.0', id: m.id + 1000, result: 'unknown id' });
      out({ jsonrpc: '2.0', id: String(m.id), result: 'string id' });
      out({ jsonrpc: '2.0', id: m.id, result: 'the answer' });
      out({ jsonrpc: '2.0', id: m.id, result: 'a second answer' });
    } else if (m.method === 'huge') out('{"jsonrpc":"2.0","id":' + m.id + ',"result":"' + 'x'.repeat(2 * 1024 * 1024) + '"}\\n');
    else if (m.method === 'ask') {
      askId = m.id;
      out({ jsonrpc: '2.0', id: 'q', method: 'warden.call', params: { plugin: 'other', method: 'm', params: { from: m.id } } });
    } else if (m.id === 'q') out({ jsonrpc: '2.0', id: askId, result: m });
    else if (m.id !== undefined) out({ jsonrpc: '2.0', id: m.id, result: null });
  }
});
process.stdin.on('end', () => process.exit(0));
`;

describe('PluginHost with a hostile plugin (a real process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-rpc-peer-'));
  const logs = createLogSystem({ level: 'debug', dir: null, maxBytes: 1 << 20, keep: 1 });
  const hosts: PluginHost[] = [];
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.stop(2000)));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Starts the hostile plugin unwalled; `calls` records what it asked of the daemon. */
  async function start(calls: unknown[] = []): Promise<PluginHost> {
    writeFileSync(join(dir, 'index.js'), HOSTILE);
    const host = new PluginHost({
      name: 'hostile',
      version: '1.0.0',
      launch: { file: process.execPath, args: [join(dir, 'index.js')], cwd: dir, env: { PATH: process.env.PATH ?? '' } },
      loggerFor: (pid) => logs.pluginLogger('hostile', { pid, restarts: 0 }),
      requests: {
        call: async (plugin, method, params) => {
          calls.push({ plugin, method, params });
          return 'from other';
        },
        emit: () => undefined,
      },
      startTimeoutMs: 5000,
      health: { intervalMs: 60_000, timeoutMs: 1000 },
    });
    hosts.push(host);
    await host.start({ config: {}, state: null });
    return host;
  }

  it('takes the right answer among garbage, a batch, unknown, string and repeated ids, and keeps serving', async () => {
    const host = await start();
    expect(host.methods).toEqual(['noisy', 'huge', 'ask']);
    await expect(host.request('noisy', {}, 2000)).resolves.toBe('the answer');
    await expect(host.request('noisy', {}, 2000)).resolves.toBe('the answer');
    await expect(host.request('plain', {}, 2000)).resolves.toBeNull();
  });

  it('fails a call whose answer is over the line limit at once, not at its timeout, and keeps serving', async () => {
    const host = await start();
    const began = Date.now();
    await expect(host.request('huge', {}, 20_000)).rejects.toMatchObject({ code: ErrorCodes.InternalError, message: expect.stringContaining('over the 1 MiB line limit') });
    expect(Date.now() - began).toBeLessThan(5000);
    await expect(host.request('plain', {}, 2000)).resolves.toBeNull();
  });

  it("answers the plugin's warden.call while its own call is pending", async () => {
    const calls: unknown[] = [];
    const host = await start(calls);
    const answer = (await host.request('ask', {}, 2000)) as { id: string; result: unknown };
    expect(answer).toEqual({ jsonrpc: '2.0', id: 'q', result: 'from other' });
    expect(calls).toEqual([{ plugin: 'other', method: 'm', params: { from: expect.any(Number) } }]);
  });
});
