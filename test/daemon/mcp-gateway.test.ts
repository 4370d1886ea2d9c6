// `warden mcp` driven by the MCP TypeScript SDK's own client over stdio: it lists and calls the tools of a
// warden plugin and of an MCP plugin through the daemon, and tells the client when the plugin set changes.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { bootDaemon, CLI, REPO, type Sandbox, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

let sandbox: Sandbox | undefined;
let daemon: TestDaemon | undefined;
let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  await daemon?.cleanup();
  sandbox?.remove();
  sandbox = daemon = client = undefined;
});

const CALCULATOR = `import { definePlugin } from 'warden/sdk';
definePlugin({ methods: { add: ({ a, b }) => a + b, info: () => ({ ok: true }) } });
`;

describe('warden mcp', () => {
  it('offers a warden plugin and an MCP plugin as tools to a real MCP client, and follows the plugin set', { timeout: 60_000 }, async () => {
    ({ sandbox, daemon } = await bootDaemon({ hotReload: { enabled: true, debounceMs: 100 } }, {
      calc: {
        manifest: {
          main: 'index.mjs',
          methods: { add: { description: 'Adds two integers.', params: { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'integer' } }, required: ['a', 'b'] } } },
        },
        files: { 'index.mjs': CALCULATOR },
      },
      tools: { from: join(REPO, 'test/fixtures/mcp-server'), manifest: { protocol: 'mcp', main: undefined, command: ['node', 'server.mjs'] } },
    }));
    await daemon.waitForState('calc', 'running');
    await daemon.waitForState('tools', 'running');

    client = new Client({ name: 'warden-test', version: '1.0.0' });
    let changed = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => void (changed += 1));
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp', '--socket', sandbox.socketPath], stderr: 'pipe' }));
    expect(client.getServerVersion()).toMatchObject({ name: 'warden' });

    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['calc.add', 'calc.info', 'tools.add', 'tools.fail']));
    expect(tools.find((t) => t.name === 'calc.add')).toMatchObject({ description: 'Adds two integers.', inputSchema: { type: 'object', required: ['a', 'b'] } });

    expect(await client.callTool({ name: 'calc.add', arguments: { a: 2, b: 3 } })).toMatchObject({ content: [{ type: 'text', text: '5' }] });
    expect(await client.callTool({ name: 'calc.info', arguments: {} })).toMatchObject({ structuredContent: { ok: true } });
    expect(await client.callTool({ name: 'tools.add', arguments: { a: 4, b: 5 } })).toMatchObject({ structuredContent: { sum: 9 } });
    // The daemon's own checks hold through the gateway: bad params, a tool's error, an unknown plugin.
    expect(await client.callTool({ name: 'calc.add', arguments: { a: 'x', b: 1 } })).toMatchObject({ isError: true, content: [{ text: '-32602 params.a: must be integer' }] });
    expect(await client.callTool({ name: 'tools.fail', arguments: {} })).toMatchObject({ isError: true, content: [{ text: '-32000 it failed on purpose' }] });
    expect(await client.callTool({ name: 'ghost.x', arguments: {} })).toMatchObject({ isError: true });

    // A new plugin appears (hot reload): the client is told, and lists it.
    sandbox.addPlugin('late', { manifest: { main: 'index.mjs' }, files: { 'index.mjs': CALCULATOR } });
    await daemon.waitForState('late', 'running');
    await waitFor('the client to hear of the change', () => changed > 0);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(expect.arrayContaining(['late.add']));
  });

  it('lists a lazy MCP server while it sleeps, and a call through it wakes the server', { timeout: 60_000 }, async () => {
    const manifest = { protocol: 'mcp', main: undefined, command: ['node', 'server.mjs'], activation: 'lazy', idleStopMs: 60_000 };
    ({ sandbox, daemon } = await bootDaemon({}, { sleepy: { from: join(REPO, 'test/fixtures/mcp-server'), manifest } }));
    // Started once to learn its tools, then asleep.
    await waitFor('it to sleep with its tools known', async () => {
      const s = await daemon!.status('sleepy');
      return s.state === 'stopped' && s.reason === 'idle' && existsSync(join(sandbox!.stateDir, 'mcp-tools/sleepy.json'));
    });
    client = new Client({ name: 'warden-test', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp', '--socket', sandbox.socketPath], stderr: 'pipe' }));
    const { tools } = await client.listTools();
    expect(tools.find((t) => t.name === 'sleepy.add')).toMatchObject({ description: 'Adds two integers.', inputSchema: { required: ['a', 'b'] } });
    expect((await daemon.status('sleepy')).state).toBe('stopped');
    expect(await client.callTool({ name: 'sleepy.add', arguments: { a: 1, b: 2 } })).toMatchObject({ structuredContent: { sum: 3 } });
    expect((await daemon.status('sleepy')).state).toBe('running');
  });
});
