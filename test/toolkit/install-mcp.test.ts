// warden plugin install of an MCP server without plugin.json: one is generated (protocol mcp, its bin, a
// data folder, its data variables pointed there, the rest asked for) from a fixture folder and from the
// real npm registry (@modelcontextprotocol/server-memory), and the result runs behind the wall. Packages
// that are not MCP servers, and Python projects, are refused. A hand-wrapped Python MCP server (README,
// "Wrapping a Python MCP server") installs into a venv and runs behind the wall too.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PluginHost } from '../../src/host/plugin-host.js';
import { createLogSystem } from '../../src/logging/index.js';
import { loadPlugin } from '../../src/manifest/discover.js';
import { detectCapabilities } from '../../src/sandbox/capabilities.js';
import { planLaunch } from '../../src/sandbox/launch.js';
import { effectivePermissions } from '../../src/sandbox/permissions.js';
import { commandRuntime, withCommandRuntime } from '../../src/sandbox/runtime.js';
import { detectLayout } from '../../src/sandbox/wall.js';
import { installPlugin, SOURCE_FILE } from '../../src/toolkit/package/install.js';
import { CLI, REPO } from '../helpers/daemon.js';

const FIXTURE = join(REPO, 'test/fixtures/mcp-package');
const temps: string[] = [];
const hosts: PluginHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop(5000)));
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A temp folder the plugin's identity (nobody, when tests run as root) may enter. */
function temp(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `warden-install-mcp-${label}-`));
  chmodSync(dir, 0o755);
  temps.push(dir);
  return dir;
}

const json = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, any>;

async function refused(spec: string, options: Parameters<typeof installPlugin>[1]): Promise<string> {
  const before = readdirSync(options.pluginsDir);
  const error = await installPlugin(spec, options).then(() => null, (e: Error) => e);
  expect(error?.name).toBe('InstallError');
  expect(readdirSync(options.pluginsDir)).toEqual(before);
  return error!.message;
}

const logs = createLogSystem({ level: 'warn', dir: null, maxBytes: 1 << 20, keep: 1 });
const CAPABILITIES = await detectCapabilities();

/** The installed plugin started as the daemon starts an MCP plugin once granted (the wall where this host has it), handshake done. */
async function run(dir: string): Promise<{ host: PluginHost; walled: boolean; call: (method: string, params?: unknown) => Promise<any> }> {
  const found = await loadPlugin(dir);
  if (!found.ok) throw new Error(found.reason);
  const { manifest } = found;
  const { launch } = planLaunch({
    dir: found.dir,
    manifest,
    permissions: withCommandRuntime(effectivePermissions(manifest.permissions, undefined, found.dir), manifest, found.dir, CAPABILITIES.wall?.layout ?? null),
    limits: { memoryMb: 256, cpuPercent: 100, handles: 256, processes: 16 },
    capabilities: CAPABILITIES,
    protectedPaths: [],
  });
  const host = new PluginHost({
    name: manifest.name,
    version: manifest.version,
    launch,
    protocol: manifest.protocol,
    loggerFor: (pid) => logs.pluginLogger(manifest.name, { pid, restarts: 0 }),
    requests: { call: async () => null, emit: () => undefined },
    startTimeoutMs: 15_000,
    health: { intervalMs: 60_000, timeoutMs: 5000 },
  });
  hosts.push(host);
  await host.start({ config: {}, state: null });
  return { host, walled: launch.walled === true, call: (method, params = {}) => host.request(method, params, 10_000) };
}

describe('install of an MCP server without plugin.json', () => {
  it('generates plugin.json from package.json and the audit, makes data/, and the plugin runs', async () => {
    const pluginsDir = temp('plugins');
    const result = await installPlugin(FIXTURE, { pluginsDir });
    const dir = join(pluginsDir, 'notes-server');
    expect(result).toMatchObject({
      name: 'notes-server',
      version: '0.3.1',
      dir,
      asks: ['env SOME_API_TOKEN'],
      generated: { main: 'index.mjs', writes: './data', environment: { DATA_DIR: './data' } },
    });
    expect(readFileSync(join(dir, 'plugin.json'), 'utf8')).toBe(
      `${JSON.stringify(
        {
          name: 'notes-server',
          version: '0.3.1',
          description: 'A dependency-free MCP server that keeps notes in DATA_DIR (a fixture for warden plugin install)',
          kind: 'service',
          protocol: 'mcp',
          main: 'index.mjs',
          engines: { warden: '^1.0.0' },
          environment: { DATA_DIR: './data' },
          permissions: { fs: { write: ['./data'] }, env: ['SOME_API_TOKEN'] },
        },
        null,
        2,
      )}\n`,
    );
    expect(statSync(join(dir, 'data')).isDirectory()).toBe(true);
    expect(readdirSync(pluginsDir)).toEqual(['notes-server']); // no staging folder left

    const { call } = await run(dir);
    expect(await call('add', { text: 'remember me' })).toMatchObject({ structuredContent: { count: 1 } });
    expect(await call('list')).toMatchObject({ structuredContent: { notes: ['remember me'], file: join(dir, 'data/notes.txt'), token: false } });
    expect(readFileSync(join(dir, 'data/notes.txt'), 'utf8')).toBe('remember me\n');
  });

  it('takes --name and --env, and refuses them for a package with its own plugin.json', async () => {
    const pluginsDir = temp('plugins');
    const result = await installPlugin(FIXTURE, { pluginsDir, name: 'notes', env: { DATA_DIR: './data/notes', SOME_API_TOKEN: 'fixed', MODE: 'fast' } });
    expect(result.generated?.environment).toEqual({ DATA_DIR: './data/notes', MODE: 'fast', SOME_API_TOKEN: 'fixed' });
    expect(result.asks).toEqual([]);
    const manifest = json(join(pluginsDir, 'notes/plugin.json'));
    expect(manifest).toMatchObject({ name: 'notes', permissions: { fs: { write: ['./data'] } } });
    expect(manifest['permissions']['env']).toBeUndefined();

    const own = temp('own');
    writeFileSync(join(own, 'plugin.json'), JSON.stringify({ name: 'own', version: '1.0.0', main: 'index.js' }));
    writeFileSync(join(own, 'index.js'), '');
    expect(await refused(own, { pluginsDir, name: 'other' })).toBe(`${own} has its own plugin.json: --name and --env apply only to an MCP server without one`);
  });

  it('refuses a package that is not an MCP server, a Python project, and a folder with neither', async () => {
    const pluginsDir = temp('plugins');
    const plain = temp('plain');
    writeFileSync(join(plain, 'package.json'), JSON.stringify({ name: 'left-pad', version: '1.0.0', main: 'index.js', dependencies: { lodash: '^4' } }));
    writeFileSync(join(plain, 'index.js'), '');
    expect(await refused(plain, { pluginsDir })).toBe(
      `${plain} has no plugin.json and does not look like an MCP server (no mcpName, no dependency on @modelcontextprotocol/sdk); add a plugin.json (docs/manifest.md)`,
    );
    const python = temp('python');
    writeFileSync(join(python, 'pyproject.toml'), '[project]\nname = "mcp-server-x"\n');
    expect(await refused(python, { pluginsDir })).toContain('README.md, "Wrapping a Python MCP server"');
    expect(await refused(temp('empty'), { pluginsDir })).toMatch(/^not a valid plugin: plugin\.json: not found in /);
    const noEntry = temp('no-entry');
    cpSync(FIXTURE, noEntry, { recursive: true });
    rmSync(join(noEntry, 'index.mjs'));
    expect(await refused(noEntry, { pluginsDir })).toBe(`${noEntry}: its bin notes-server "index.mjs" is not in the package`);
  });

  it('through the CLI: prints what it generated; a malformed --env is a usage error', () => {
    const operator = temp('operator');
    mkdirSync(join(operator, 'config'));
    writeFileSync(join(operator, 'config/warden.yaml'), JSON.stringify({ pluginsDir: '../plugins', stateDir: '../var' }));
    const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, 'plugin', 'install', ...args], { cwd: operator, encoding: 'utf8', env: { ...process.env, WARDEN_CONFIG: '' } });
    for (const bad of ['NOEQUALS', '1X=y', 'LD_PRELOAD=/x.so', 'HOME=/tmp']) {
      const r = cli(FIXTURE, '--env', bad);
      expect(r.status, bad).toBe(2);
      expect(r.stderr, bad).toContain('--env');
    }
    expect(cli(FIXTURE, '--name', 'Bad Name').status).toBe(2);
    const ok = cli(FIXTURE, '--env', 'MODE=a=b');
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('no plugin.json: generated one for an MCP server (protocol mcp, main index.mjs, writes ./data; DATA_DIR=./data, MODE=a=b)');
    expect(ok.stdout).toContain('it asks for: env SOME_API_TOKEN');
    expect(json(join(operator, 'plugins/notes-server/plugin.json'))['environment']).toEqual({ DATA_DIR: './data', MODE: 'a=b' });
  });

  it('installs @modelcontextprotocol/server-memory from the npm registry, and it runs', { timeout: 180_000 }, async () => {
    const pluginsDir = temp('plugins');
    const result = await installPlugin('npm:@modelcontextprotocol/server-memory@2026.8.31', { pluginsDir });
    const dir = join(pluginsDir, 'server-memory');
    expect(result).toMatchObject({ name: 'server-memory', version: '2026.8.31', dir, asks: [], generated: { main: 'dist/index.js', environment: { MEMORY_FILE_PATH: './data/memory' } } });
    expect(json(join(dir, 'plugin.json'))).toEqual({
      name: 'server-memory',
      version: '2026.8.31',
      description: 'MCP server for enabling memory for Claude through a knowledge graph',
      kind: 'service',
      protocol: 'mcp',
      main: 'dist/index.js',
      engines: { warden: '^1.0.0' },
      environment: { MEMORY_FILE_PATH: './data/memory' },
      permissions: { fs: { write: ['./data'] } },
    });
    expect(existsSync(join(dir, 'node_modules/@modelcontextprotocol/sdk/package.json'))).toBe(true);
    expect(json(join(dir, SOURCE_FILE))).toMatchObject({ package: '@modelcontextprotocol/server-memory', version: '2026.8.31' });
    expect(statSync(join(dir, 'data')).isDirectory()).toBe(true);
    const loaded = await loadPlugin(dir);
    expect(loaded.ok && loaded.manifest.environment).toEqual({ MEMORY_FILE_PATH: './data/memory' });

    const { host, walled } = await run(dir);
    expect(walled).toBe(CAPABILITIES.wall !== null);
    expect(host.methods).toEqual(expect.arrayContaining(['create_entities', 'read_graph']));
  });

  it('a hand-wrapped Python MCP server: .venv from requirements.txt, environment for its data, runs behind the wall', { timeout: 120_000 }, async () => {
    const src = temp('python-src');
    writeFileSync(
      join(src, 'plugin.json'),
      JSON.stringify({ name: 'py-notes', version: '1.0.0', protocol: 'mcp', command: ['.venv/bin/python', 'server.py'], environment: { NOTES_DIR: './data' }, permissions: { fs: { write: ['./data'] } } }),
    );
    writeFileSync(join(src, 'requirements.txt'), '# the server\'s own dependencies (e.g. mcp); none for this stdlib-only one\n');
    writeFileSync(join(src, 'server.py'), PYTHON_SERVER);
    const pluginsDir = temp('plugins');
    const result = await installPlugin(src, { pluginsDir });
    const dir = join(pluginsDir, 'py-notes');
    // A venv's python links to the interpreter that made it: one outside the system folders (pyenv, /opt) is a read to grant.
    const loaded = await loadPlugin(dir);
    const runtime = loaded.ok ? commandRuntime(loaded.manifest, dir, detectLayout()) : 'invalid';
    expect(result).toMatchObject({ name: 'py-notes', dependencies: 'a venv in .venv from requirements.txt', asks: runtime ? [`read ${runtime}`] : [], generated: null });
    const { call } = await run(dir);
    const answer = (await call('note', { text: 'hi' })) as { structuredContent: { prefix: string; file: string } };
    // The venv's python ran (sys.prefix is the venv) and wrote into the data folder the environment names.
    expect(answer.structuredContent).toEqual({ prefix: join(dir, '.venv'), file: join(dir, 'data/notes.txt') });
    expect(readFileSync(join(dir, 'data/notes.txt'), 'utf8')).toBe('hi\n');
  });
});

/** A stdlib-only MCP server on stdio: one tool, `note`, that appends to $NOTES_DIR/notes.txt. */
const PYTHON_SERVER = `import json, os, sys
def send(m):
    sys.stdout.write(json.dumps(m) + "\\n"); sys.stdout.flush()
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if "id" not in m:
        continue
    method, i = m.get("method"), m["id"]
    if method == "initialize":
        send({"jsonrpc": "2.0", "id": i, "result": {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": {"name": "py-notes", "version": "1.0.0"}}})
    elif method == "ping":
        send({"jsonrpc": "2.0", "id": i, "result": {}})
    elif method == "tools/list":
        send({"jsonrpc": "2.0", "id": i, "result": {"tools": [{"name": "note", "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}}}]}})
    elif method == "tools/call":
        path = os.path.join(os.environ["NOTES_DIR"], "notes.txt")
        with open(path, "a") as f:
            f.write(m["params"]["arguments"]["text"] + "\\n")
        found = {"prefix": sys.prefix, "file": path}
        send({"jsonrpc": "2.0", "id": i, "result": {"content": [{"type": "text", "text": json.dumps(found)}], "structuredContent": found}})
    else:
        send({"jsonrpc": "2.0", "id": i, "error": {"code": -32601, "message": "no such method"}})
`;
