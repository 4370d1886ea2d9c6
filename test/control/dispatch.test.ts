import { describe, expect, it } from 'vitest';
import { ErrorCodes, RpcError } from '../../src/protocol/index.js';
import { captureLog, RawClient, serve } from './helpers.js';

/** Sync and async handlers alike: the dispatcher answers a synchronous one without a promise in between. */
const methods = {
  sync: (params: unknown) => params,
  async: async (params: unknown) => params,
  later: (params: unknown) => new Promise((resolve) => setTimeout(() => resolve(params), 20)),
  refuse: () => {
    throw new RpcError(ErrorCodes.UnknownPlugin, 'no such plugin');
  },
  cyclic: () => {
    const value: Record<string, unknown> = {};
    value.self = value;
    return value;
  },
  big: () => 10n,
};

describe('the control server dispatcher', () => {
  it('answers many pipelined requests, sync and async, each once and with its own id', async () => {
    const path = await serve(methods);
    const client = await RawClient.connect(path);
    const lines: string[] = [];
    for (let i = 0; i < 600; i++) lines.push(JSON.stringify({ jsonrpc: '2.0', id: i, method: ['sync', 'async', 'later'][i % 3], params: [i] }));
    client.send(`${lines.join('\n')}\n`);
    const answers = await client.until('600 answers', () => (client.messages.length >= 600 ? client.messages : undefined));
    expect(answers).toHaveLength(600);
    const byId = new Map(answers.map((a) => [a.id, a.result]));
    for (let i = 0; i < 600; i++) expect(byId.get(i)).toEqual([i]);
  });

  it('answers a result JSON cannot hold (a cycle, a BigInt) with -32603 instead of silence, and logs it', async () => {
    const log = captureLog();
    const path = await serve(methods, log.logger);
    const client = await RawClient.connect(path);
    client.send('{"jsonrpc":"2.0","id":1,"method":"cyclic"}\n{"jsonrpc":"2.0","id":2,"method":"big"}\n{"jsonrpc":"2.0","id":3,"method":"sync","params":{"ok":true}}\n');
    const answers = await client.until('3 answers', () => (client.messages.length >= 3 ? client.messages : undefined));
    expect(answers.map((a) => [a.id, a.error?.code ?? a.result])).toEqual([
      [1, ErrorCodes.InternalError],
      [2, ErrorCodes.InternalError],
      [3, { ok: true }],
    ]);
    expect(log.lines.filter((l) => l.level === 50)).toHaveLength(2);
  });

  it('keeps batch answers in request order across sync, async and failing members, and leaves out notifications', async () => {
    const path = await serve(methods);
    const client = await RawClient.connect(path);
    client.send(
      `${JSON.stringify([
        { jsonrpc: '2.0', id: 'a', method: 'later', params: { n: 1 } },
        { jsonrpc: '2.0', method: 'sync', params: { n: 2 } },
        { jsonrpc: '2.0', id: 'b', method: 'refuse' },
        { jsonrpc: '2.0', id: 'c', method: 'sync', params: { n: 3 } },
        { jsonrpc: '2.0', id: 'd', method: 'nope' },
      ])}\n`,
    );
    const [batch] = await client.until('the batch answer', () => (client.messages.length >= 1 ? client.messages : undefined));
    expect(batch).toEqual([
      { jsonrpc: '2.0', id: 'a', result: { n: 1 } },
      { jsonrpc: '2.0', id: 'b', error: { code: ErrorCodes.UnknownPlugin, message: 'no such plugin' } },
      { jsonrpc: '2.0', id: 'c', result: { n: 3 } },
      { jsonrpc: '2.0', id: 'd', error: { code: ErrorCodes.MethodNotFound, message: 'Method not found' } },
    ]);
  });

  it('answers garbage and an oversized line with errors, then keeps serving the same connection', async () => {
    const path = await serve(methods);
    const client = await RawClient.connect(path);
    client.send(`not json\n{"jsonrpc":"2.0","id":1,"params":"x"}\n${'y'.repeat(1024 * 1024 + 10)}\n{"jsonrpc":"2.0","id":2,"method":"sync","params":[2]}\n`);
    const answers = await client.until('4 answers', () => (client.messages.length >= 4 ? client.messages : undefined));
    expect(answers.map((a) => [a.id, a.error?.code ?? a.result])).toEqual([
      [null, ErrorCodes.ParseError],
      [1, ErrorCodes.InvalidRequest],
      [null, ErrorCodes.InvalidRequest],
      [2, [2]],
    ]);
  });
});
