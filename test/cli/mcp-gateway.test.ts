// The gateway's failure paths, over in-memory streams against a stand-in daemon: garbage, an unknown
// method, a tool name that is not PLUGIN.METHOD, an answer to nothing, a daemon error, and the end of input.
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ControlClient } from '../../src/control/client.js';
import { asToolResult, serveMcp, toolsOf } from '../../src/cli/mcp-gateway.js';
import { RpcError } from '../../src/protocol/index.js';
import { waitFor } from '../helpers/wait.js';

/** A daemon that knows one method and refuses every call with -32002. */
const daemon = {
  request: async (method: string) => {
    if (method === 'rpc.discover') return { methods: [{ name: 'p.m', description: 'does m', 'x-warden-params': { type: 'array' } }] };
    throw new RpcError(-32002, 'plugin p is not running (stopped)');
  },
} as unknown as ControlClient;

async function session(lines: string[]): Promise<Array<Record<string, unknown>>> {
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  output.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const served = serveMcp(daemon, { input, output }, { pollMs: 60_000 });
  for (const line of lines) input.write(`${line}\n`);
  await new Promise((resolve) => setTimeout(resolve, 50));
  input.end();
  await served;
  return text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('warden mcp on bad input', () => {
  it('answers garbage, unknown methods, bad tool names and daemon errors, ignores answers to nothing, and ends with its input', async () => {
    const answers = await session([
      'not json',
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'resources/list' }),
      JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'nodot', arguments: {} } }),
      JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'p.m', arguments: {} } }),
      JSON.stringify({ jsonrpc: '2.0', id: 99, result: {} }),
      JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/list' }),
    ]);
    const byId = new Map(answers.map((a) => [a.id, a]));
    expect(byId.get(null)).toMatchObject({ error: { code: -32700 } });
    expect(byId.get(1)).toMatchObject({ error: { code: -32601, message: 'Method not found: resources/list' } });
    expect(byId.get(2)).toMatchObject({ result: { isError: true, content: [{ text: 'no tool "nodot": tools are named PLUGIN.METHOD' }] } });
    expect(byId.get(3)).toMatchObject({ result: { isError: true, content: [{ text: '-32002 plugin p is not running (stopped)' }] } });
    expect(byId.has(99)).toBe(false);
    // A params schema that is not an object schema is offered as an object one (MCP requires it).
    expect(byId.get(4)).toMatchObject({ result: { tools: [{ name: 'p.m', description: 'does m', inputSchema: { type: 'object' } }] } });
  });

  it('stops reading a client that does not read its answers, and reads on once it does', async () => {
    const input = new PassThrough();
    let release: (() => void) | null = null;
    let written = 0;
    let text = '';
    // A client that takes one write and then nothing until released.
    const output = new Writable({
      highWaterMark: 64,
      write(chunk: Buffer, _encoding, done) {
        written += chunk.length;
        text += chunk.toString();
        release = done;
      },
    });
    const served = serveMcp(daemon, { input, output }, { pollMs: 60_000 });
    const ping = (id: number) => input.write(`${JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' })}\n`);
    for (let id = 0; id < 50; id++) ping(id);
    await waitFor('the gateway to stop reading', () => input.isPaused());
    const stuck = written;
    for (let id = 50; id < 100; id++) ping(id);
    expect(written).toBe(stuck);
    // The client reads again: so does the gateway, and every ping is answered.
    const drainAll = () => {
      const next = release;
      release = null;
      next?.();
    };
    await waitFor('every answer written', () => {
      drainAll();
      return text.split('\n').length - 1 === 100;
    });
    expect(input.isPaused()).toBe(false);
    input.end();
    await served;
  });

  it('gives non-MCP results as JSON text, structured when an object, and passes an MCP tool result through', () => {
    expect(asToolResult(5)).toEqual({ content: [{ type: 'text', text: '5' }] });
    expect(asToolResult({ a: 1 })).toEqual({ content: [{ type: 'text', text: '{"a":1}' }], structuredContent: { a: 1 } });
    const own = { content: [{ type: 'text', text: 'x' }], isError: false };
    expect(asToolResult(own)).toBe(own);
    expect(toolsOf({})).toEqual([]);
  });
});
