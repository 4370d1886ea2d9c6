// The real MCP server @modelcontextprotocol/server-memory, installed from the npm registry with
// `warden plugin install` (it has no plugin.json: one is generated), run behind the wall: its tools are
// methods, a create_entities then read_graph round trip through `warden call`, its memory file lands only
// in its granted data folder, kill -9 restarts it with its memory intact, a hot reload swaps it, and lazy
// it sleeps until a call and again once idle.
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAST_DEFAULTS, Sandbox, TestDaemon } from '../helpers/daemon.js';
import { runCliAsync } from '../helpers/run-cli.js';
import { waitFor } from '../helpers/wait.js';

const PACKAGE = 'npm:@modelcontextprotocol/server-memory@2026.8.31';
const NAME = 'server-memory';

/** Where the package is installed once for every test here; each test copies it into its own daemon's plugins folder. */
let installed: string;
let installOutput = '';
let sandbox: Sandbox | undefined;
let daemon: TestDaemon | undefined;

beforeAll(async () => {
  const home = mkdtempSync(join(tmpdir(), 'warden-mcp-memory-'));
  writeFileSync(join(home, 'warden.yaml'), JSON.stringify({ pluginsDir: 'plugins' }));
  const run = await runCliAsync(['plugin', 'install', PACKAGE], { env: { WARDEN_CONFIG: join(home, 'warden.yaml') } });
  installOutput = run.stdout + run.stderr;
  if (run.status !== 0) throw new Error(`warden plugin install ${PACKAGE} failed (${run.status}): ${installOutput}`);
  installed = join(home, 'plugins', NAME);
}, 180_000);

afterAll(() => {
  if (installed) rmSync(join(installed, '../..'), { recursive: true, force: true });
});

afterEach(async () => {
  await daemon?.cleanup();
  sandbox?.remove();
  sandbox = daemon = undefined;
});

/** A daemon whose plugins folder holds a copy of the installed server, its plugin.json changed by `patch`. */
async function boot(patch: Record<string, unknown> = {}, config: Record<string, unknown> = {}): Promise<{ dir: string; d: TestDaemon; s: Sandbox }> {
  const s = new Sandbox();
  s.writeConfig({ defaults: FAST_DEFAULTS, ...config });
  const dir = join(s.pluginsDir, NAME);
  cpSync(installed, dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, 'plugin.json'), 'utf8'));
  writeFileSync(join(dir, 'plugin.json'), JSON.stringify({ ...manifest, ...patch }, null, 2));
  const d = new TestDaemon(s);
  await d.start();
  sandbox = s;
  daemon = d;
  return { dir, d, s };
}

/** `warden call NAME METHOD PARAMS --json` against this test's daemon. */
async function wardenCall(s: Sandbox, method: string, params: unknown): Promise<{ structuredContent?: unknown; content: Array<{ text: string }> }> {
  const run = await runCliAsync(['call', NAME, method, JSON.stringify(params), '--json', '--socket', s.socketPath]);
  if (run.status !== 0) throw new Error(`warden call ${method} exited ${run.status}: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

/** Every file under `dir` except node_modules, relative. */
function filesIn(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .filter((f) => !f.startsWith('node_modules'))
    .sort();
}

const ALICE = { entities: [{ name: 'Alice', entityType: 'person', observations: ['runs warden'] }] };

describe('@modelcontextprotocol/server-memory as a warden plugin', { timeout: 60_000 }, () => {
  it('installs with a generated plugin.json and no grant to wait for', () => {
    const manifest = JSON.parse(readFileSync(join(installed, 'plugin.json'), 'utf8'));
    expect(manifest).toMatchObject({ name: NAME, protocol: 'mcp', main: 'dist/index.js', permissions: { fs: { write: ['./data'] } } });
    expect(manifest.environment.MEMORY_FILE_PATH).toMatch(/^\.\/data\//);
    expect(existsSync(join(installed, 'node_modules/@modelcontextprotocol/sdk/package.json'))).toBe(true);
    expect(installOutput).toContain('MEMORY_FILE_PATH');
  });

  it('runs behind the wall: tools as methods, create_entities then read_graph through warden call, its memory only in ./data', async () => {
    const { dir, d, s } = await boot();
    const before = filesIn(dir);
    const status = await d.waitForState(NAME, 'running', 15_000);
    expect(status.enforcement).toMatchObject({ fs: expect.stringContaining('mount-namespace'), network: 'namespace' });
    const described = await d.request<{ methods: Array<{ name: string; params: unknown }> }>('plugin.describe', { name: NAME });
    expect(described.methods.map((m) => m.name)).toEqual(expect.arrayContaining(['create_entities', 'read_graph', 'search_nodes', 'add_observations']));
    expect((await d.request<{ mcp: { serverInfo: { name: string } } }>('plugin.get', { name: NAME })).mcp.serverInfo.name).toBe('memory-server');

    await wardenCall(s, 'create_entities', ALICE);
    const graph = await wardenCall(s, 'read_graph', {});
    expect(JSON.stringify(graph)).toContain('runs warden');
    // Bad params are refused at the daemon's edge (its inputSchema), naming the field.
    const bad = await d.callError(NAME, 'create_entities', { entities: 'Alice' });
    expect(bad.code).toBe(-32602);

    const memoryFile = join(dir, manifest(dir).environment.MEMORY_FILE_PATH);
    expect(readFileSync(memoryFile, 'utf8')).toContain('Alice');
    const after = filesIn(dir);
    expect(after.filter((f) => !before.includes(f))).toEqual([relative(dir, memoryFile)]);
    expect(relative(dir, memoryFile).startsWith('data/')).toBe(true);
  });

  it('kill -9: restarted and answering, its memory intact; a hot reload swaps it without losing it', async () => {
    const { dir, d, s } = await boot({}, { hotReload: { enabled: true, debounceMs: 100 } });
    const first = await d.waitForState(NAME, 'running', 15_000);
    await wardenCall(s, 'create_entities', ALICE);
    process.kill(first.pid!, 'SIGKILL');
    const second = await waitFor('the server restarted', async () => {
      const st = await d.status(NAME);
      return st.state === 'running' && st.pid !== first.pid ? st : undefined;
    }, { timeoutMs: 15_000 });
    expect(second.restarts).toBe(1);
    expect(JSON.stringify(await wardenCall(s, 'search_nodes', { query: 'Alice' }))).toContain('runs warden');

    writeFileSync(join(dir, 'plugin.json'), JSON.stringify({ ...manifest(dir), version: '2026.8.32' }, null, 2));
    const third = await waitFor('the new version swapped in', async () => {
      const st = await d.status(NAME);
      return st.state === 'running' && st.version === '2026.8.32' ? st : undefined;
    }, { timeoutMs: 20_000 });
    expect(third.pid).not.toBe(second.pid);
    expect(JSON.stringify(await wardenCall(s, 'read_graph', {}))).toContain('Alice');
  });

  it('lazy: listed while asleep, started by its first call, stopped again once idle', async () => {
    const { d, s } = await boot({ activation: 'lazy', idleStopMs: 2000 });
    const asleep = async () => {
      const st = await d.status(NAME);
      return st.state === 'stopped' && st.reason === 'idle' && st.pid === null;
    };
    await waitFor('its tools learnt, then asleep', async () => (await asleep()) && existsSync(join(s.stateDir, 'mcp-tools', `${NAME}.json`)), { timeoutMs: 20_000 });
    const discovered = await d.request<{ methods: Array<{ name: string }> }>('rpc.discover');
    expect(discovered.methods.map((m) => m.name)).toEqual(expect.arrayContaining([`${NAME}.create_entities`, `${NAME}.read_graph`]));
    expect(await asleep()).toBe(true);

    await wardenCall(s, 'create_entities', ALICE);
    expect((await d.status(NAME)).state).toBe('running');
    await waitFor('the idle stop', asleep, { timeoutMs: 15_000 });
    expect(JSON.stringify(await wardenCall(s, 'read_graph', {}))).toContain('Alice');
  });
});

function manifest(dir: string): { environment: Record<string, string>; [key: string]: unknown } {
  return JSON.parse(readFileSync(join(dir, 'plugin.json'), 'utf8'));
}
