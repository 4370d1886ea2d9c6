// warden's MCP client, over a peer that answers from a script: the handshake, paging through tools/list
// within its bounds, reserved tool names, isError results and the requests a server sends its client.
import { describe, expect, it } from 'vitest';
import { listTools, mcpHandshake, MAX_TOOL_PAGES, MAX_TOOLS, serverRequest, toolResult, type McpPeer } from '../../src/host/mcp-client.js';
import { RpcError } from '../../src/protocol/index.js';

/** A peer whose tools/list pages come from `page(n)`; what it was told is kept. */
function peer(page: (n: number) => unknown, initialize: unknown = { protocolVersion: '2025-03-26', serverInfo: { name: 's' } }) {
  const sent: Array<{ method: string; params: unknown }> = [];
  const warnings: string[] = [];
  let pages = 0;
  const p: McpPeer = {
    request: async (method, params) => {
      sent.push({ method, params });
      return method === 'initialize' ? initialize : page(pages++);
    },
    notify: (method, params) => void sent.push({ method, params }),
    warn: (message) => void warnings.push(message),
  };
  return { p, sent, warnings, pages: () => pages };
}
const tool = (name: string, extra: Record<string, unknown> = {}) => ({ name, inputSchema: { type: 'object' }, ...extra });

describe('the MCP client', () => {
  it('handshakes (initialize, notifications/initialized, tools/list) and follows every page', async () => {
    const { p, sent } = peer((n) => (n === 0 ? { tools: [tool('a')], nextCursor: 'c1' } : { tools: [tool('b'), { description: 'no name' }, 7] }));
    const session = await mcpHandshake(p, { name: 'warden', version: '1.0.0' }, 1000);
    expect(session).toEqual({ protocolVersion: '2025-03-26', serverInfo: { name: 's' }, tools: [tool('a'), tool('b')] });
    expect(sent.map((s) => s.method)).toEqual(['initialize', 'notifications/initialized', 'tools/list', 'tools/list']);
    expect(sent[3]!.params).toEqual({ cursor: 'c1' });
  });

  it('refuses an initialize answer without a protocolVersion', async () => {
    const { p } = peer(() => ({ tools: [] }), { serverInfo: {} });
    await expect(mcpHandshake(p, { name: 'warden', version: '1' }, 1000)).rejects.toThrow('its initialize answer has no protocolVersion');
  });

  it('bounds what a server can make it hold: pages, tools, and names warden reserves', async () => {
    const endless = peer((n) => ({ tools: [tool(`t${n}`)], nextCursor: `c${n}` }));
    expect(await listTools(endless.p, 1000)).toHaveLength(MAX_TOOL_PAGES);
    expect(endless.pages()).toBe(MAX_TOOL_PAGES);
    expect(endless.warnings).toEqual([`tools/list: more than ${MAX_TOOL_PAGES} pages; the tools after them are left out`]);

    const many = peer(() => ({ tools: Array.from({ length: MAX_TOOLS + 5 }, (_, i) => tool(`t${i}`)) }));
    expect(await listTools(many.p, 1000)).toHaveLength(MAX_TOOLS);
    expect(many.warnings[0]).toMatch(/^tools\/list: over 1000 tools or 4194304 bytes of them/);

    const big = peer(() => ({ tools: Array.from({ length: 10 }, (_, i) => tool(`t${i}`, { description: 'x'.repeat(1024 * 1024) })) }));
    expect(await listTools(big.p, 1000)).toHaveLength(3);

    const reserved = peer(() => ({ tools: [tool('warden.health'), tool('rpc.discover'), tool('ok')] }));
    expect((await listTools(reserved.p, 1000)).map((t) => t.name)).toEqual(['ok']);
    expect(reserved.warnings).toHaveLength(2);
  });

  it('answers a result as it is, and an isError result as an error with the text', () => {
    const result = { content: [{ type: 'text', text: 'fine' }] };
    expect(toolResult(result)).toBe(result);
    let error: unknown;
    try {
      toolResult({ isError: true, content: [{ type: 'text', text: 'bad' }, { type: 'image' }, { type: 'text', text: 'worse' }] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RpcError);
    expect([(error as RpcError).code, (error as RpcError).message]).toEqual([-32000, 'bad\nworse']);
    expect(() => toolResult({ isError: true })).toThrow('the tool reported an error');
  });

  it('answers or refuses what a server asks of its client', () => {
    expect(serverRequest('ping')).toEqual({});
    expect(serverRequest('roots/list')).toEqual({ roots: [] });
    expect(() => serverRequest('elicitation/create')).toThrow('warden does not offer elicitation/create to MCP servers');
  });
});
