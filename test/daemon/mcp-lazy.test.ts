// A lazy MCP server: started once to learn its tools (a version warden has not seen), stopped as soon as it
// is idle, listed by rpc.discover while it sleeps (remembered in the state dir, across a daemon restart),
// its params checked against the remembered inputSchema without waking it, woken by a call, stopped again
// after idleStopMs; a new version is listed again.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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
const lazy = { from: SERVER, manifest: { protocol: 'mcp', main: undefined, command: ['node', 'server.mjs'], activation: 'lazy', idleStopMs: 1500 } };

type Discovery = { methods: Array<{ name: string; 'x-warden-params'?: unknown }> };
const toolNames = async (d: TestDaemon) => (await d.request<Discovery>('rpc.discover')).methods.map((m) => m.name).filter((n) => n.startsWith('sleepy.'));
const asleep = async (d: TestDaemon) => {
  const s = await d.status('sleepy');
  return s.state === 'stopped' && s.reason === 'idle' && s.pid === null ? s : undefined;
};

describe('a lazy MCP plugin', () => {
  it('is listed while it sleeps: its tools learnt once, remembered across a daemon restart, its params checked without waking it', async () => {
    ({ sandbox, daemon } = await bootDaemon({}, { sleepy: lazy }));
    const memory = join(sandbox.stateDir, 'mcp-tools/sleepy.json');
    // Never seen at this version: started once to list its tools, then stopped at once.
    await waitFor('its tools to be learnt', () => existsSync(memory));
    await waitFor('it to sleep again', () => asleep(daemon!));
    expect(JSON.parse(readFileSync(memory, 'utf8'))).toMatchObject({ version: '1.0.0', tools: expect.arrayContaining([expect.objectContaining({ name: 'add' })]) });
    expect(await toolNames(daemon)).toEqual(['sleepy.add', 'sleepy.ask', 'sleepy.fail', 'sleepy.freeze', 'sleepy.grow']);
    const described = await daemon.request<{ methods: Array<{ name: string; served: unknown; params: unknown }> }>('plugin.describe', { name: 'sleepy' });
    expect(described.methods.find((m) => m.name === 'add')).toMatchObject({ served: null, params: { required: ['a', 'b'] } });

    // Params that do not fit the remembered inputSchema never wake it.
    const bad = await daemon.callError('sleepy', 'add', { a: 'x', b: 1 });
    expect([bad.code, bad.message]).toEqual([-32602, 'params.a: must be integer']);
    expect(await asleep(daemon)).toBeDefined();

    // A call wakes it; idle for idleStopMs, it sleeps again.
    expect(await daemon.call('sleepy', 'add', { a: 20, b: 22 })).toMatchObject({ structuredContent: { sum: 42 } });
    expect((await daemon.status('sleepy')).state).toBe('running');
    await waitFor('the idle stop', () => asleep(daemon!), { timeoutMs: 10_000 });

    // After a restart of the daemon it is listed without being started.
    expect((await daemon.stop()).code).toBe(0);
    await daemon.start();
    await waitFor('it to rest idle', () => asleep(daemon!));
    expect(await toolNames(daemon)).toEqual(['sleepy.add', 'sleepy.ask', 'sleepy.fail', 'sleepy.freeze', 'sleepy.grow']);
    // Learnt once in all: the second daemon did not start it.
    const log = readFileSync(join(sandbox.stateDir, 'logs/warden.log'), 'utf8').split('\n').filter((l) => l.includes('"plugin":"sleepy"'));
    expect(log.filter((l) => l.includes('starting it once to list them'))).toHaveLength(1);
    expect(log.filter((l) => l.includes('running (pid'))).toHaveLength(2);
  });

  it('a new version is listed afresh; a damaged memory file is dropped with a warning and learnt again', async () => {
    ({ sandbox, daemon } = await bootDaemon({ hotReload: { enabled: true, debounceMs: 50 } }, { sleepy: lazy }));
    const memory = join(sandbox.stateDir, 'mcp-tools/sleepy.json');
    await waitFor('its tools to be learnt', () => existsSync(memory));
    await waitFor('it to sleep', () => asleep(daemon!));

    // A new version whose server lists one more tool: started once more, while it sleeps, to list it.
    const dir = join(sandbox.pluginsDir, 'sleepy');
    const server = readFileSync(join(dir, 'server.mjs'), 'utf8');
    writeFileSync(join(dir, 'server.mjs'), server.replace("const tools = [", "const tools = [\n  { name: 'more', description: 'In 1.1.0.', inputSchema: { type: 'object' } },"));
    const manifest = JSON.parse(readFileSync(join(dir, 'plugin.json'), 'utf8'));
    writeFileSync(join(dir, 'plugin.json'), JSON.stringify({ ...manifest, version: '1.1.0' }));
    await waitFor('the new version to be listed', async () => (await toolNames(daemon!)).includes('sleepy.more'), { timeoutMs: 10_000 });
    await waitFor('the new version remembered', () => JSON.parse(readFileSync(memory, 'utf8')).version === '1.1.0');
    await waitFor('it to sleep again', () => asleep(daemon!));

    // A memory file that is not one: dropped, said in the log, and the tools learnt again.
    expect((await daemon.stop()).code).toBe(0);
    writeFileSync(memory, '{"version": 7');
    await daemon.start();
    await waitFor('the tools learnt again', async () => (await toolNames(daemon!)).includes('sleepy.more'));
    const log = readFileSync(join(sandbox.stateDir, 'logs/warden.log'), 'utf8');
    expect(log).toContain('sleepy.json: not a remembered tool list; removed');
  });
});
