// JSON-RPC 2.0 on the control socket, row by row from the specification's section 7 "Examples"
// (https://www.jsonrpc.org/specification#examples), then the rules of its sections 4–6 that the
// examples leave out, against the real server; then the daemon's own methods on a real daemon.
import { afterEach, describe, expect, it } from 'vitest';
import { RpcError } from '../../src/protocol/index.js';
import type { ControlMethod } from '../../src/control/server.js';
import { bootDaemon, type Sandbox, type TestDaemon } from '../helpers/daemon.js';
import { captureLog, RawClient, serve, type Message } from './helpers.js';

/** The methods the specification's examples call: positional and named params, notifications. */
function specMethods(notified: unknown[]): Record<string, ControlMethod> {
  const numbers = (params: unknown): number[] => {
    if (!Array.isArray(params) || !params.every((n) => typeof n === 'number')) throw new RpcError(-32602, 'Invalid params');
    return params;
  };
  return {
    subtract: (params) => {
      if (Array.isArray(params)) {
        const [minuend, subtrahend] = numbers(params);
        return minuend! - subtrahend!;
      }
      const { minuend, subtrahend } = params as { minuend: number; subtrahend: number };
      return minuend - subtrahend;
    },
    sum: (params) => numbers(params).reduce((a, b) => a + b, 0),
    get_data: () => ['hello', 5],
    update: (params) => void notified.push(['update', params]),
    notify_hello: (params) => void notified.push(['notify_hello', params]),
    notify_sum: (params) => void notified.push(['notify_sum', params]),
  };
}

const invalidRequest = (id: unknown = null): Message => ({ jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' }, id });
const parseError: Message = { jsonrpc: '2.0', error: { code: -32700, message: expect.stringMatching(/^parse error/i) }, id: null };
const methodNotFound = (id: unknown): Message => ({ jsonrpc: '2.0', error: { code: -32601, message: 'Method not found' }, id });
const result = (id: unknown, value: unknown): Message => ({ jsonrpc: '2.0', result: value, id });

/**
 * Sends `line` on a fresh connection and half-closes it; resolves with what the server wrote before it
 * closed its side (it answers everything it accepted first): undefined when it wrote nothing.
 */
async function answerTo(path: string, line: string): Promise<Message | undefined> {
  const client = await RawClient.connect(path);
  client.send(`${line}\n`);
  client.socket.end();
  const written = await client.untilServerEnds();
  expect(written.length).toBeLessThanOrEqual(1);
  return written[0];
}

const SPEC_EXAMPLES: Array<{ example: string; send: string; answer: Message | undefined; notified?: unknown[] }> = [
  { example: 'rpc call with positional parameters', send: '{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}', answer: result(1, 19) },
  { example: 'rpc call with positional parameters (reversed)', send: '{"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}', answer: result(2, -19) },
  { example: 'rpc call with named parameters', send: '{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}', answer: result(3, 19) },
  { example: 'rpc call with named parameters (other order)', send: '{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4}', answer: result(4, 19) },
  { example: 'a Notification', send: '{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}', answer: undefined, notified: [['update', [1, 2, 3, 4, 5]]] },
  { example: 'a Notification of a method that does not exist', send: '{"jsonrpc": "2.0", "method": "foobar"}', answer: undefined },
  { example: 'rpc call of non-existent method', send: '{"jsonrpc": "2.0", "method": "foobar", "id": "1"}', answer: methodNotFound('1') },
  { example: 'rpc call with invalid JSON', send: '{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]', answer: parseError },
  { example: 'rpc call with invalid Request object', send: '{"jsonrpc": "2.0", "method": 1, "params": "bar"}', answer: invalidRequest() },
  {
    example: 'rpc call Batch, invalid JSON',
    send: '[ {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"}, {"jsonrpc": "2.0", "method" ]',
    answer: parseError,
  },
  { example: 'rpc call with an empty Array', send: '[]', answer: invalidRequest() },
  { example: 'rpc call with an invalid Batch (but not empty)', send: '[1]', answer: [invalidRequest()] },
  { example: 'rpc call with invalid Batch', send: '[1,2,3]', answer: [invalidRequest(), invalidRequest(), invalidRequest()] },
  {
    example: 'rpc call Batch',
    send: `[
        {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
        {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
    ]`.replace(/\n/g, ''),
    answer: [result('1', 7), result('2', 19), invalidRequest(), methodNotFound('5'), result('9', ['hello', 5])],
    notified: [['notify_hello', [7]]],
  },
  {
    example: 'rpc call Batch (all notifications)',
    send: '[{"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]}, {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}]',
    answer: undefined,
    notified: [['notify_sum', [1, 2, 4]], ['notify_hello', [7]]],
  },
];

const OTHER_RULES: Array<{ rule: string; send: string; answer: Message | undefined }> = [
  { rule: 'a batch of one request is answered with an array of one response', send: '[{"jsonrpc":"2.0","method":"get_data","id":1}]', answer: [result(1, ['hello', 5])] },
  { rule: 'a batch of one invalid request and notifications: an array of one error', send: '[{"jsonrpc":"2.0","method":"update"},{"jsonrpc":"2.0","method":7}]', answer: [invalidRequest()] },
  { rule: 'a top-level null is an invalid Request', send: 'null', answer: invalidRequest() },
  { rule: 'a top-level string is an invalid Request', send: '"subtract"', answer: invalidRequest() },
  { rule: 'an object as id: invalid, answered with id null', send: '{"jsonrpc":"2.0","method":"get_data","id":{"a":1}}', answer: invalidRequest() },
  { rule: 'an array as id: invalid, answered with id null', send: '{"jsonrpc":"2.0","method":"get_data","id":[1]}', answer: invalidRequest() },
  { rule: 'a boolean as id: invalid, answered with id null', send: '{"jsonrpc":"2.0","method":"get_data","id":true}', answer: invalidRequest() },
  { rule: 'a string as params: invalid (the id, being valid, is echoed)', send: '{"jsonrpc":"2.0","method":"sum","params":"bar","id":5}', answer: invalidRequest(5) },
  { rule: 'a number as params: invalid', send: '{"jsonrpc":"2.0","method":"sum","params":3,"id":6}', answer: invalidRequest(6) },
  { rule: 'null as params: invalid (params, when present, is structured)', send: '{"jsonrpc":"2.0","method":"get_data","params":null,"id":7}', answer: invalidRequest(7) },
  { rule: 'jsonrpc "1.0": invalid', send: '{"jsonrpc":"1.0","method":"get_data","id":8}', answer: invalidRequest(8) },
  { rule: 'no jsonrpc member: invalid', send: '{"method":"get_data","id":9}', answer: invalidRequest(9) },
  { rule: 'no method member: invalid', send: '{"jsonrpc":"2.0","id":10}', answer: invalidRequest(10) },
  { rule: 'a Response object sent to the server: invalid', send: '{"jsonrpc":"2.0","result":1,"id":11}', answer: invalidRequest(11) },
  { rule: 'an invalid request without id (a would-be notification) is still answered', send: '{"jsonrpc":"2.0","method":"update","params":"x"}', answer: invalidRequest() },
  { rule: 'id null is a request, not a notification: answered with id null', send: '{"jsonrpc":"2.0","method":"get_data","id":null}', answer: result(null, ['hello', 5]) },
  { rule: 'a fractional id is echoed as it came', send: '{"jsonrpc":"2.0","method":"get_data","id":1.5}', answer: result(1.5, ['hello', 5]) },
  { rule: 'params absent is fine', send: '{"jsonrpc":"2.0","method":"get_data","id":12}', answer: result(12, ['hello', 5]) },
];

describe('the control server, against the JSON-RPC 2.0 specification', () => {
  it.each(SPEC_EXAMPLES)('§7 $example', async ({ send, answer, notified }) => {
    const calls: unknown[] = [];
    const path = await serve(specMethods(calls));
    expect(await answerTo(path, send)).toEqual(answer);
    expect(calls).toEqual(notified ?? []);
  });

  it.each(OTHER_RULES)('$rule', async ({ send, answer }) => {
    const path = await serve(specMethods([]));
    expect(await answerTo(path, send)).toEqual(answer);
  });

  it('answers a top-level null with -32600 and logs no error for it', async () => {
    const log = captureLog();
    const path = await serve(specMethods([]), log.logger);
    expect(await answerTo(path, 'null')).toEqual(invalidRequest());
    expect(await answerTo(path, '[null]')).toEqual([invalidRequest()]);
    expect(log.lines.filter((line) => line.level >= 40)).toEqual([]);
  });

  it('answers an unexpected failure of a method with -32603 and logs it; an RpcError is an answer, not logged', async () => {
    const log = captureLog();
    const path = await serve(
      {
        broken: () => {
          throw new TypeError('a bug');
        },
        refuses: () => {
          throw new RpcError(-32001, 'unknown plugin: x', { name: 'x' });
        },
      },
      log.logger,
    );
    expect(await answerTo(path, '[{"jsonrpc":"2.0","method":"broken","id":1},{"jsonrpc":"2.0","method":"refuses","id":2}]')).toEqual([
      { jsonrpc: '2.0', error: { code: -32603, message: 'internal error: a bug' }, id: 1 },
      { jsonrpc: '2.0', error: { code: -32001, message: 'unknown plugin: x', data: { name: 'x' } }, id: 2 },
    ]);
    expect(log.lines.filter((line) => line.level >= 50).map((line) => line.msg)).toEqual(['control method broken failed']);
  });
});

describe("the daemon's control socket", () => {
  let sandbox: Sandbox;
  let daemon: TestDaemon;

  afterEach(async () => {
    await daemon?.cleanup();
    sandbox?.remove();
  });

  it('answers its real methods and unknown ones alike, singly and in batches, and null without logging an error', async () => {
    ({ sandbox, daemon } = await bootDaemon());
    const path = sandbox.socketPath;
    const status = { jsonrpc: '2.0', id: 1, result: expect.objectContaining({ version: expect.any(String), pid: daemon.daemon!.proc.pid, plugins: [] }) };
    const rows: Array<[string, Message | undefined]> = [
      ['{"jsonrpc":"2.0","id":1,"method":"status","params":{}}', status],
      ['{"jsonrpc":"2.0","id":2,"method":"no.such.method"}', methodNotFound(2)],
      ['[{"jsonrpc":"2.0","id":1,"method":"status"}]', [status]],
      ['[{"jsonrpc":"2.0","id":1,"method":"status"},{"jsonrpc":"2.0","id":2,"method":"no.such.method"},{"jsonrpc":"2.0","method":"status"}]', [status, methodNotFound(2)]],
      ['[{"jsonrpc":"2.0","method":"status"},{"jsonrpc":"2.0","method":"no.such.method"}]', undefined],
      ['{"jsonrpc":"2.0","id":3,"method":"plugin.get","params":"alpha"}', invalidRequest(3)],
      ['null', invalidRequest()],
      ['[]', invalidRequest()],
    ];
    for (const [send, answer] of rows) expect(await answerTo(path, send), send).toEqual(answer);
    const { entries } = await daemon.request<{ entries: Array<{ msg: string }> }>('logs.tail', { level: 'error' });
    expect(entries.map((entry) => entry.msg)).toEqual([]);
  });
});
