/**
 * warden as an MCP client of a `"protocol": "mcp"` plugin (contract section 10): the handshake
 * (`initialize`, then `notifications/initialized`), its tools as methods (`tools/list`, every page), a call
 * as `tools/call` whose `isError` result is an error answer, and what warden answers to the requests an MCP
 * server may send its client. Pure mapping over a peer: the host does the I/O.
 */
import { ErrorCodes, isReservedMethod, PLUGIN_ERROR_CODE, RESERVED_METHOD_PREFIXES_TEXT, RpcError, type McpTool } from '../protocol/index.js';

export type { McpTool };

/** The MCP revision warden asks for; the server answers the one it speaks (recorded and shown). */
export const MCP_PROTOCOL_VERSION = '2025-06-18';

/** What the handshake learnt. */
export interface McpSession {
  protocolVersion: string;
  serverInfo: { name?: string; version?: string } | null;
  tools: McpTool[];
}

/** The requests warden sends (the host's peer). */
export interface McpPeer {
  request(method: string, params: unknown, timeoutMs: number): Promise<unknown>;
  notify(method: string, params: unknown): void;
  /** Told when the tool list is cut short (too many pages, tools or bytes). */
  warn(message: string): void;
}

/** The most pages of `tools/list` followed (a server that never stops paging is cut off there). */
export const MAX_TOOL_PAGES = 20;
/** The most tools kept of one server, and the most JSON they may add up to: the daemon's memory stays bounded. */
export const MAX_TOOLS = 1000;
export const MAX_TOOLS_BYTES = 4 * 1024 * 1024;

// Why: an answer from a hostile server is checked for shape before anything is taken from it.
function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Every tool, following `nextCursor`, within MAX_TOOL_PAGES, MAX_TOOLS and MAX_TOOLS_BYTES (the rest is
 * left out, and the peer told); tools without a string name, and names warden reserves, are left out.
 */
export async function listTools(peer: McpPeer, timeoutMs: number): Promise<McpTool[]> {
  const tools: McpTool[] = [];
  let bytes = 0;
  let cursor: string | undefined;
  for (let page = 0; ; page++) {
    if (page === MAX_TOOL_PAGES) {
      peer.warn(`tools/list: more than ${MAX_TOOL_PAGES} pages; the tools after them are left out`);
      break;
    }
    const answer = await peer.request('tools/list', cursor === undefined ? {} : { cursor }, timeoutMs);
    const list = isObject(answer) && Array.isArray(answer['tools']) ? answer['tools'] : [];
    for (const tool of list) {
      if (!isObject(tool) || typeof tool['name'] !== 'string' || tool['name'] === '') continue;
      if (isReservedMethod(tool['name'])) {
        peer.warn(`tools/list: the tool ${JSON.stringify(tool['name'].slice(0, 80))} is left out: names starting with ${RESERVED_METHOD_PREFIXES_TEXT} are warden's`);
        continue;
      }
      const kept: McpTool = {
        name: tool['name'],
        ...(typeof tool['description'] === 'string' ? { description: tool['description'] } : {}),
        ...(isObject(tool['inputSchema']) ? { inputSchema: tool['inputSchema'] } : {}),
        ...(isObject(tool['outputSchema']) ? { outputSchema: tool['outputSchema'] } : {}),
      };
      bytes += JSON.stringify(kept).length;
      if (tools.length === MAX_TOOLS || bytes > MAX_TOOLS_BYTES) {
        peer.warn(`tools/list: over ${MAX_TOOLS} tools or ${MAX_TOOLS_BYTES} bytes of them; the rest are left out`);
        return tools;
      }
      tools.push(kept);
    }
    cursor = isObject(answer) && typeof answer['nextCursor'] === 'string' && answer['nextCursor'] !== '' ? answer['nextCursor'] : undefined;
    if (cursor === undefined) break;
  }
  return tools;
}

/** `initialize`, `notifications/initialized`, then the tools: the plugin is up once this resolves. */
export async function mcpHandshake(peer: McpPeer, client: { name: string; version: string }, timeoutMs: number): Promise<McpSession> {
  const answer = await peer.request('initialize', { protocolVersion: MCP_PROTOCOL_VERSION, capabilities: {}, clientInfo: client }, timeoutMs);
  if (!isObject(answer) || typeof answer['protocolVersion'] !== 'string') {
    throw new RpcError(ErrorCodes.InternalError, 'its initialize answer has no protocolVersion');
  }
  peer.notify('notifications/initialized', {});
  const info = isObject(answer['serverInfo']) ? (answer['serverInfo'] as McpSession['serverInfo']) : null;
  return { protocolVersion: answer['protocolVersion'], serverInfo: info, tools: await listTools(peer, timeoutMs) };
}

/** The params of a call as `tools/call` takes them. */
export function toolCall(method: string, params: unknown): { name: string; arguments: unknown } {
  return { name: method, arguments: params ?? {} };
}

/** A `tools/call` result as warden answers it: the result itself, or (isError) an error with the tool's text. */
export function toolResult(result: unknown): unknown {
  if (!isObject(result) || result['isError'] !== true) return result;
  const content = Array.isArray(result['content']) ? result['content'] : [];
  const text = content
    .filter((c): c is Record<string, unknown> => isObject(c) && c['type'] === 'text' && typeof c['text'] === 'string')
    .map((c) => c['text'] as string)
    .join('\n');
  throw new RpcError(PLUGIN_ERROR_CODE, text || 'the tool reported an error', { content });
}

/**
 * A request an MCP server sends its client. warden offers no roots, no sampling and no elicitation: each
 * gets an answer (an empty root list, a pong) or a refusal, never silence.
 */
export function serverRequest(method: string): unknown {
  if (method === 'ping') return {};
  if (method === 'roots/list') return { roots: [] };
  throw new RpcError(ErrorCodes.MethodNotFound, `warden does not offer ${method} to MCP servers`);
}
