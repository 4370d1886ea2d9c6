// A PluginHost speaking MCP to a scripted server (no wall): what it does when the server says its tools
// changed and the tools/list that follows fails, or when the changes come faster than the listings.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { PluginHost } from '../../src/host/plugin-host.js';
import { createLogSystem } from '../../src/logging/index.js';
import { waitFor } from '../helpers/wait.js';

const logs = createLogSystem({ level: 'debug', dir: null, maxBytes: 1 << 20, keep: 1 });
const dir = mkdtempSync(join(tmpdir(), 'warden-mcp-host-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hosts: PluginHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.kill()));
});

/**
 * A server whose tools/list answers come from LISTS in turn (the last one repeated): a list of names, an
 * error, or { delayMs, names } answered late. `change` sends tools/list_changed `times` times.
 */
const SERVER = `
const lists = JSON.parse(process.env.LISTS);
let listed = 0;
const send = (m) => process.stdout.write(JSON.stringify({ jsonrpc: '2.0', ...m }) + '\\n');
const tools = (names) => names.map((name) => ({ name, inputSchema: { type: 'object' } }));
let buf = '';
process.stdin.on('data', (chunk) => {
  buf += chunk;
  for (let i = buf.indexOf('\\n'); i >= 0; i = buf.indexOf('\\n')) {
    const m = JSON.parse(buf.slice(0, i));
    buf = buf.slice(i + 1);
    if (m.method === 'initialize') send({ id: m.id, result: { protocolVersion: '2025-06-18', serverInfo: { name: 'scripted' } } });
    else if (m.method === 'ping') send({ id: m.id, result: {} });
    else if (m.method === 'tools/list') {
      const list = lists[Math.min(listed++, lists.length - 1)];
      if (list === 'error') send({ id: m.id, error: { code: -32603, message: 'tools are being rebuilt' } });
      else if (Array.isArray(list)) send({ id: m.id, result: { tools: tools(list) } });
      else setTimeout(() => send({ id: m.id, result: { tools: tools(list.names) } }), list.delayMs);
    } else if (m.method === 'tools/call') {
      for (let n = 0; n < (m.params.arguments.times ?? 1); n++) send({ method: 'notifications/tools/list_changed' });
      send({ id: m.id, result: { content: [{ type: 'text', text: 'listed ' + listed } ] } });
    }
  }
});
process.stdin.on('end', () => process.exit(0));
`;
writeFileSync(join(dir, 'server.js'), SERVER);

function mcpHost(name: string, lists: unknown[]): PluginHost {
  const h = new PluginHost({
    name,
    version: '1.0.0',
    protocol: 'mcp',
    launch: { file: process.execPath, args: [join(dir, 'server.js')], cwd: dir, env: { PATH: process.env.PATH ?? '', LISTS: JSON.stringify(lists) } },
    loggerFor: (pid) => logs.pluginLogger(name, { pid, restarts: 0 }),
    requests: { call: async () => null, emit: () => undefined },
    startTimeoutMs: 5000,
    health: { intervalMs: 60_000, timeoutMs: 1000 },
  });
  hosts.push(h);
  return h;
}

const warnings = (name: string) => logs.tail({ name, lines: 100, level: 'warn' }).map((e) => e.msg);

describe('an MCP plugin host', () => {
  it('keeps the tools it had when the tools/list after tools/list_changed fails, saying why', async () => {
    const h = mcpHost('relist-fails', [['change'], 'error']);
    await h.start({ config: {}, state: null });
    expect(h.methods).toEqual(['change']);
    await h.request('change', {}, 1000);
    await waitFor('the failed listing to be logged', () => warnings('relist-fails').some((m) => m.includes('tools/list after tools/list_changed failed')));
    expect(warnings('relist-fails')).toContain('tools/list after tools/list_changed failed: tools are being rebuilt');
    expect(h.methods).toEqual(['change']);
    expect(h.declares('change')).toBe(true);
    expect(h.mcpSession?.tools.map((t) => t.name)).toEqual(['change']);
    // Still served: the handshake's listing and the failed one, nothing since.
    expect(await h.request('change', { times: 0 }, 1000)).toMatchObject({ content: [{ text: 'listed 2' }] });
  });

  it('lists once at a time however many changes arrive, and ends with the tools of the last listing', async () => {
    // The first listing after the changes answers late; the changes that came meanwhile get one more.
    const h = mcpHost('relist-flood', [['change'], { delayMs: 200, names: ['change', 'stale'] }, ['change', 'fresh']]);
    await h.start({ config: {}, state: null });
    await h.request('change', { times: 50 }, 1000);
    await waitFor('the last listing to be taken', () => h.methods.includes('fresh'));
    expect(h.methods).toEqual(['change', 'fresh']);
    // Two listings after the handshake's, not fifty.
    expect(await h.request('change', { times: 0 }, 1000)).toMatchObject({ content: [{ text: 'listed 3' }] });
  });
});
