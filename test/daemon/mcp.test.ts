// "protocol": "mcp" plugins: an MCP server on stdio, supervised like any plugin behind the wall. Its tools
// are its methods (inputSchema checked at the edge), isError is an error answer, requests it sends its
// client are answered or refused, a changed tool list is followed, and one that never answers initialize
// fails its start with that said.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bootDaemon, REPO, type Sandbox, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

let sandbox: Sandbox | undefined;
let daemon: TestDaemon | undefined;
afterEach(async () => {
  await daemon?.cleanup();
  sandbox?.remove();
  sandbox = daemon = undefined;
});

const SERVER = join(REPO, 'test/fixtures/mcp-server');
const mcp = (args: string[] = []) => ({ from: SERVER, manifest: { protocol: 'mcp', main: undefined, command: ['node', 'server.mjs', ...args] } });

describe('MCP plugins', () => {
  it('runs an MCP server behind the wall: tools as methods, inputSchema at the edge, isError, its requests to the client, list_changed, restart', async () => {
    ({ sandbox, daemon } = await bootDaemon({}, { tools: mcp() }));
    const status = await daemon.waitForState('tools', 'running');
    expect(status.enforcement).toMatchObject({ fs: expect.stringContaining('mount-namespace'), network: 'namespace' });
    const details = await daemon.request<{ mcp: unknown }>('plugin.get', { name: 'tools' });
    expect(details.mcp).toEqual({ protocolVersion: '2025-03-26', serverInfo: { name: 'fixture-mcp', version: '0.0.1' } });

    expect(await daemon.call('tools', 'add', { a: 2, b: 3 })).toEqual({ content: [{ type: 'text', text: '5' }], structuredContent: { sum: 5 } });
    const bad = await daemon.callError('tools', 'add', { a: 'two', b: 3 });
    expect([bad.code, bad.message]).toEqual([-32602, 'params.a: must be integer']);
    const failed = await daemon.callError('tools', 'fail', {});
    expect([failed.code, failed.message]).toEqual([-32000, 'it failed on purpose']);
    expect(await daemon.call('tools', 'ask', {})).toMatchObject({
      structuredContent: { roots: { result: { roots: [] } }, sampling: { error: { code: -32601, message: 'warden does not offer sampling/createMessage to MCP servers' } } },
    });

    const described = await daemon.request<{ methods: Array<{ name: string; description: string; params: unknown }> }>('plugin.describe', { name: 'tools' });
    expect(described.methods.find((m) => m.name === 'add')).toMatchObject({ description: 'Adds two integers.', params: { required: ['a', 'b'] } });
    await daemon.call('tools', 'grow', {});
    await waitFor('the new tool to be served', async () => (await daemon!.call('tools', 'extra', {}).catch(() => null)) !== null);
    expect(await daemon.call('tools', 'extra', {})).toEqual({ content: [{ type: 'text', text: 'extra!' }] });

    const before = await daemon.status('tools');
    process.kill(before.pid!, 'SIGKILL');
    await waitFor('the server to be restarted', async () => {
      const s = await daemon!.status('tools');
      return s.state === 'running' && s.pid !== before.pid;
    });
    expect(await daemon.call('tools', 'add', { a: 1, b: 1 })).toMatchObject({ structuredContent: { sum: 2 } });
    // Stopping closes its stdin (MCP's stdio rule) and it exits by itself.
    await daemon.request('plugin.stop', { name: 'tools' });
    expect((await daemon.status('tools')).state).toBe('stopped');
  });

  it('health is ping: a server that stops answering it is a hang and is restarted; one that never answers it is judged by its calls alone', async () => {
    ({ sandbox, daemon } = await bootDaemon({}, { tools: mcp(), quiet: mcp(['noping']) }));
    const before = await daemon.waitForState('tools', 'running');
    await daemon.waitForState('quiet', 'running');
    await daemon.call('tools', 'freeze', {});
    const after = await waitFor('the hang to be caught and the server restarted', async () => {
      const s = await daemon!.status('tools');
      return s.state === 'running' && s.pid !== before.pid ? s : undefined;
    });
    expect(after.lastError).toMatchObject({ kind: 'hang', message: expect.stringContaining('no answer to ping within 500ms') });

    // Health ticks every 200ms: the server that ignores ping has outlived many of them.
    const quiet = await daemon.status('quiet');
    expect([quiet.state, quiet.restarts, quiet.lastError]).toEqual(['running', 0, null]);
    expect(await daemon.call('quiet', 'add', { a: 1, b: 2 })).toMatchObject({ structuredContent: { sum: 3 } });
    const { entries } = await daemon.request<{ entries: Array<{ msg: string }> }>('logs.tail', { name: 'quiet', lines: 1000 });
    expect(entries.map((l) => l.msg)).toContain('no answer to ping within 500ms: its health is judged by its calls alone');
  });

  it('a server that never answers initialize fails its start, saying so', async () => {
    ({ sandbox, daemon } = await bootDaemon({ defaults: { startTimeoutMs: 1500, restart: { initialDelayMs: 10_000, maxDelayMs: 10_000, maxRestarts: 5, windowMs: 60_000 } } }, { mute: mcp(['mute']) }));
    const status = await waitFor('the failed start', async () => {
      const s = await daemon!.status('mute');
      return s.lastError ? s : undefined;
    });
    expect(status.lastError).toMatchObject({ kind: 'start', message: 'no answer to initialize within 1500ms' });
  });
});
