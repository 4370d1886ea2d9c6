/**
 * `warden mcp`: an MCP server on this process's stdio that offers every method a call through the daemon
 * would reach (`rpc.discover`) as a tool named `PLUGIN.METHOD`, with its params schema as the tool's
 * inputSchema. Each `tools/call` is a `plugin.call` on the control socket, so it goes through warden's call
 * path (timeouts, circuit, params checked at the edge, metrics). The tool list follows the plugin set
 * (`notifications/tools/list_changed`). Who may use it is the control socket's own permission.
 */
import type { Readable, Writable } from 'node:stream';
import type { ControlClient } from '../control/client.js';
import { MCP_PROTOCOL_VERSION } from '../host/mcp-client.js';
import { Method, RpcError } from '../protocol/index.js';
import { createLineReader, LineBatcher } from '../rpc/line-reader.js';
import { WARDEN_VERSION } from '../version.js';

/** MCP revisions this server speaks (it answers a client's own when listed here). */
const SUPPORTED = new Set(['2024-11-05', '2025-03-26', MCP_PROTOCOL_VERSION]);

interface Tool {
  name: string;
  description?: string;
  inputSchema: Record<string, unknown>;
}

// Why: a JSON value is an object in the sense a schema or a structured result needs.
function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The tools: each OpenRPC method of rpc.discover, its full params schema as inputSchema (an object schema, as MCP requires). */
export function toolsOf(discovery: Record<string, unknown>): Tool[] {
  const methods = Array.isArray(discovery['methods']) ? (discovery['methods'] as Array<Record<string, unknown>>) : [];
  return methods.map((m) => {
    const params = m['x-warden-params'];
    const inputSchema = isObject(params) && params['type'] === 'object' ? params : { type: 'object' };
    const description = typeof m['description'] === 'string' ? m['description'] : undefined;
    return { name: String(m['name']), ...(description ? { description } : {}), inputSchema };
  });
}

/** A plugin's answer as a tool result: an MCP plugin's own result as it is, anything else as JSON text (and structured when an object). */
export function asToolResult(result: unknown): Record<string, unknown> {
  if (isObject(result) && Array.isArray(result['content'])) return result;
  return { content: [{ type: 'text', text: JSON.stringify(result ?? null) }], ...(isObject(result) ? { structuredContent: result } : {}) };
}

/** Serves MCP on `input`/`output` until `input` ends; tools come from the daemon behind `client`. */
export function serveMcp(client: ControlClient, io: { input: Readable; output: Writable }, options: { pollMs?: number } = {}): Promise<void> {
  // A client that does not read its answers stops being read from (pause until drain): the gateway's buffers stay bounded.
  let draining = false;
  const out = new LineBatcher((text) => {
    if (io.output.write(text) || draining) return;
    draining = true;
    io.input.pause();
    io.output.once('drain', () => {
      draining = false;
      io.input.resume();
    });
  });
  const send = (message: unknown): void => out.push(`${JSON.stringify(message)}\n`);
  let listed: string | null = null; // the tool names last given in tools/list
  let ready = false;

  const tools = async (): Promise<Tool[]> => toolsOf(await client.request(Method.RpcDiscover, {}));
  const call = async (params: Record<string, unknown>): Promise<unknown> => {
    const name = typeof params['name'] === 'string' ? params['name'] : '';
    const dot = name.indexOf('.');
    if (dot <= 0) return { content: [{ type: 'text', text: `no tool ${JSON.stringify(name)}: tools are named PLUGIN.METHOD` }], isError: true };
    try {
      const result = await client.request(Method.PluginCall, { name: name.slice(0, dot), method: name.slice(dot + 1), params: params['arguments'] ?? {} });
      return asToolResult(result);
    } catch (error) {
      const e = error as RpcError;
      return { content: [{ type: 'text', text: `${e.code ?? ''} ${e.message}`.trim() }], isError: true };
    }
  };
  const answer = async (id: unknown, method: string, params: Record<string, unknown>): Promise<void> => {
    try {
      let result: unknown;
      if (method === 'initialize') {
        const asked = typeof params['protocolVersion'] === 'string' ? params['protocolVersion'] : '';
        result = { protocolVersion: SUPPORTED.has(asked) ? asked : MCP_PROTOCOL_VERSION, capabilities: { tools: { listChanged: true } }, serverInfo: { name: 'warden', version: WARDEN_VERSION } };
      } else if (method === 'ping') result = {};
      else if (method === 'tools/list') {
        const list = await tools();
        listed = list.map((t) => t.name).join('\n');
        result = { tools: list };
      } else if (method === 'tools/call') result = await call(params);
      else throw new RpcError(-32601, `Method not found: ${method}`);
      send({ jsonrpc: '2.0', id, result });
    } catch (error) {
      const e = error as RpcError;
      send({ jsonrpc: '2.0', id, error: { code: typeof e.code === 'number' ? e.code : -32603, message: e.message } });
    }
  };

  const reader = createLineReader({
    onLine: (line) => {
      let m: Record<string, unknown>;
      try {
        m = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return send({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
      }
      if (typeof m['method'] !== 'string') return; // an answer to nothing we asked
      if (m['method'] === 'notifications/initialized') ready = true;
      if (m['id'] === undefined) return;
      void answer(m['id'], m['method'], isObject(m['params']) ? m['params'] : {});
    },
  });

  // The plugin set changes (hot reload, a start, a stop): the client hears of it once it has listed the tools.
  const poll = setInterval(() => {
    if (!ready || listed === null) return;
    tools().then(
      (list) => {
        const names = list.map((t) => t.name).join('\n');
        if (names === listed) return;
        listed = names;
        send({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
      },
      () => undefined,
    );
  }, options.pollMs ?? 1000);

  return new Promise((resolve) => {
    io.input.on('data', (chunk: Buffer) => reader.push(chunk));
    io.input.once('end', () => {
      clearInterval(poll);
      out.flush();
      resolve();
    });
  });
}
