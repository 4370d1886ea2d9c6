/**
 * `warden plugin test` (src/toolkit/harness): real plugin processes behind the real wall (and in a cgroup
 * where the host has them), in temp folders, no mocks. Every plugin folder's name carries a unique token,
 * so after each run no process of it may be left (/proc/<pid>/cmdline: bwrap's binds name the folder).
 * The CLI is tested through the built code: a tiny commander program that calls registerPluginTest, run
 * with node (the lead engineer registers the command in plugin-toolkit.ts).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { formatTestReport, InvalidPluginError, testExitCode, testPlugin, type TestReport } from '../../src/toolkit/harness/index.js';
import { isAlive } from '../helpers/wait.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const root = mkdtempSync(path.join(tmpdir(), 'warden-plugin-test-'));
// The plugin runs as the wall's identity (nobody): the folders on the way must let it through.
chmodSync(root, 0o755);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A plugin folder named `<name>-<token>` holding `files` (plugin.json given as an object). */
function writePlugin(name: string, manifest: Record<string, unknown>, files: Record<string, string>): { dir: string; token: string } {
  const token = `wpt${randomBytes(6).toString('hex')}`;
  const dir = path.join(root, `${name}-${token}`);
  mkdirSync(dir, { mode: 0o755 });
  writeFileSync(path.join(dir, 'plugin.json'), JSON.stringify({ name, version: '1.0.0', engines: { warden: '^1.0.0' }, ...manifest }, null, 2));
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(dir, file), text);
  return { dir, token };
}

/** Live processes whose command line mentions `token` (bwrap names the plugin folder in its binds). */
function processesOf(token: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(token) && isAlive(Number(entry))) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Nothing of the run is left: no process of the plugin, no cgroup folder. */
function expectNothingLeft(token: string, report: TestReport | null): void {
  expect(processesOf(token)).toEqual([]);
  for (const dir of report?.containment.cgroupDirs ?? []) expect(existsSync(dir), dir).toBe(false);
}

/** The report's line for `name` (the first one with that name and status, when given). */
function line(report: TestReport, name: string, status?: string) {
  const found = report.checks.find((c) => c.name === name && (status === undefined || c.status === status));
  expect(found, `${name} in\n${formatTestReport(report)}`).toBeDefined();
  return found!;
}

const GOOD_METHODS = {
  greet: {
    description: 'Greets someone.',
    params: { type: 'object', properties: { name: { type: 'string' } } },
    result: { type: 'object', properties: { greeting: { type: 'string' } }, required: ['greeting'] },
    examples: [
      { name: 'by name', params: { name: 'Ada' }, result: { greeting: 'Hello, Ada!' } },
      { name: 'no name', params: {} },
    ],
  },
  add: {
    description: 'Adds two numbers.',
    result: { type: 'number' },
    examples: [{ params: { a: 2, b: 3 }, result: 5 }],
  },
  settings: { description: 'Its config.', examples: [{ params: {}, result: { greeting: 'Hello' } }] },
};

const SDK_PLUGIN = `import { definePlugin } from 'warden/sdk';
let count = 0;
definePlugin({
  init(ctx) { count = ctx.state?.count ?? 0; ctx.log.info('ready', { count }); },
  snapshot: () => ({ count }),
  methods: {
    greet: ({ name = 'world' }, ctx) => { count++; return { greeting: \`\${ctx.config.greeting}, \${name}!\` }; },
    add: ({ a, b }) => a + b,
    settings: (_params, ctx) => ctx.config,
  },
});
`;

describe('warden plugin test: plugins that pass', () => {
  it('passes an SDK plugin with described methods and examples, snapshot round trip included', async () => {
    const { dir, token } = writePlugin('good-sdk', { main: 'index.js', config: { greeting: 'Hello' }, methods: GOOD_METHODS }, {
      'package.json': '{"type": "module"}',
      'index.js': SDK_PLUGIN,
    });
    const report = await testPlugin(dir);
    expectNothingLeft(token, report);
    expect(report.failed, formatTestReport(report)).toBe(0);
    expect(report.ok).toBe(true);
    expect(testExitCode(report)).toBe(0);
    expect(report.checks.map((c) => `${c.status} ${c.name}`)).toEqual([
      'pass handshake',
      'pass health',
      'pass methods',
      'pass example greet[0] "by name"',
      'pass example greet[1] "no name"',
      'pass example add[0]',
      'pass example settings[0]',
      'pass snapshot',
      'pass clean exit',
    ]);
    expect(line(report, 'snapshot').detail).toMatch(/carried into a second instance/);
    expect(report.containment.limits).toEqual({ memoryMb: 256, cpuPercent: 100, handles: 256, processes: 16 });
    const text = formatTestReport(report);
    expect(text).toMatch(/^good-sdk 1\.0\.0/);
    expect(text).toMatch(/9 passed, 0 failed$/);
  });

  it('runs an MCP server through initialize, ping, its tools and a described tool\'s examples', async () => {
    const server = readFileSync(path.join(REPO, 'test/fixtures/mcp-server/server.mjs'), 'utf8');
    const methods = { add: { description: 'Adds.', examples: [{ params: { a: 2, b: 3 }, result: { content: [{ type: 'text', text: '5' }], structuredContent: { sum: 5 } } }] } };
    const { dir, token } = writePlugin('mcp-tools', { protocol: 'mcp', command: ['node', 'server.mjs'], methods }, { 'server.mjs': server });
    const report = await testPlugin(dir);
    expectNothingLeft(token, report);
    expect(report.failed, formatTestReport(report)).toBe(0);
    expect(report.checks.map((c) => `${c.status} ${c.name}`)).toEqual(['pass handshake', 'pass health', 'pass methods', 'pass methods', 'pass example add[0]', 'pass snapshot', 'pass clean exit']);
    expect(line(report, 'handshake').detail).toMatch(/methods add, fail, ask, grow, freeze/);
    expect(report.checks[3]!.detail).toBe('its tools, described by the server: fail, ask, grow, freeze');
  });

  it('passes a Python plugin written against the protocol by hand, with the manifest limits lowering the defaults', async () => {
    const main = readFileSync(path.join(REPO, 'plugins/hello-python/main.py'), 'utf8');
    const { dir, token } = writePlugin(
      'good-python',
      {
        command: ['python3', 'main.py'],
        limits: { memoryMb: 128, processes: 64 },
        methods: {
          hello: { description: 'Greets.', result: { type: 'object' }, examples: [{ params: { name: 'Bob' }, result: { greeting: 'Hello, Bob!' } }] },
          add: { description: 'Adds.', examples: [{ params: { a: 1, b: 2 }, result: 3 }] },
        },
      },
      { 'main.py': main },
    );
    const report = await testPlugin(dir);
    expectNothingLeft(token, report);
    expect(report.failed, formatTestReport(report)).toBe(0);
    expect(report.passed).toBe(7);
    expect(line(report, 'snapshot').detail).toMatch(/carried into a second instance/);
    expect(report.containment.limits).toEqual({ memoryMb: 128, cpuPercent: 100, handles: 256, processes: 16 });
  });
});

describe('warden plugin test: failures, each on its own line', () => {
  it('reports a wrong example result, a result outside its schema and a described method not served', async () => {
    const { dir, token } = writePlugin(
      'bad-results',
      {
        main: 'index.js',
        methods: {
          add: { description: 'Adds.', examples: [{ name: 'off by one', params: { a: 2, b: 2 }, result: 5 }] },
          count: { description: 'Counts.', result: { type: 'object', properties: { items: { type: 'integer' } } }, examples: [{ params: {} }] },
          missing: { description: 'Never served.' },
        },
      },
      {
        'package.json': '{"type": "module"}',
        'index.js': `import { definePlugin } from 'warden/sdk';
definePlugin({ methods: { add: ({ a, b }) => a + b, count: () => ({ items: 'many' }), extra: () => 1 } });
console.error('bad-results: a line of its log');
`,
      },
    );
    const report = await testPlugin(dir);
    expectNothingLeft(token, report);
    expect(report.ok).toBe(false);
    expect(testExitCode(report)).toBe(1);
    expect(line(report, 'example add[0] "off by one"', 'fail').detail).toBe('expected 5, got 4');
    expect(line(report, 'example count[0]', 'fail').detail).toMatch(/does not fit the result schema: result\.items: must be integer/);
    expect(line(report, 'methods', 'fail').detail).toMatch(/not served: missing/);
    expect(line(report, 'methods', 'warn').detail).toMatch(/without a description in plugin\.json: extra/);
    expect(report.failed).toBe(3);
    const text = formatTestReport(report);
    expect(text).toMatch(/✗ example add\[0\] "off by one"\s+expected 5, got 4/);
    expect(text).toContain("the plugin's log (stderr):");
    expect(text).toContain('bad-results: a line of its log');
    expect(text).toMatch(/4 passed, 3 failed, 1 warning$/);
  });

  it('reports a plugin that never answers the handshake, and kills it', async () => {
    const { dir, token } = writePlugin('silent', { command: ['python3', 'main.py'] }, {
      'main.py': 'import sys, time\nprint("silent: reading nothing", file=sys.stderr, flush=True)\ntime.sleep(3600)\n',
    });
    const begun = Date.now();
    const report = await testPlugin(dir, { startTimeoutMs: 2000 });
    expect(Date.now() - begun).toBeLessThan(10_000);
    expectNothingLeft(token, report);
    expect(line(report, 'handshake', 'fail').detail).toBe('no answer to warden.initialize within 2000ms');
    expect(report.checks.filter((c) => c.status === 'skip').map((c) => c.name)).toEqual(['health', 'methods', 'examples', 'snapshot', 'clean exit']);
    expect(report.failed).toBe(1);
    expect(report.log.join('\n')).toContain('silent: reading nothing');
  });

  it('reports a plugin that does not exit when its stdin closes, and still kills it', async () => {
    const { dir, token } = writePlugin('stubborn', { main: 'index.js' }, {
      'index.js': `const readline = require('node:readline');
readline.createInterface({ input: process.stdin }).on('line', (text) => {
  const msg = JSON.parse(text);
  if (msg.id === undefined) return;
  const result = msg.method === 'warden.initialize' ? { methods: [] } : null;
  process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }) + '\\n');
});
setInterval(() => undefined, 1000); // keeps running after stdin ends
`,
    });
    const report = await testPlugin(dir, { exitTimeoutMs: 1500 });
    expectNothingLeft(token, report);
    expect(line(report, 'clean exit', 'fail').detail).toMatch(/still running 1500 ms after its stdin closed; killed/);
    expect(line(report, 'snapshot', 'pass').detail).toMatch(/no snapshot/);
    expect(report.failed).toBe(1);
  });

  it('refuses a folder without a valid plugin.json, naming every problem', async () => {
    const { dir } = writePlugin('invalid', { main: 'index.js', version: '1.0', mian: 'x' }, { 'index.js': '' });
    const error = await testPlugin(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidPluginError);
    expect((error as Error).message).toMatch(/version.*semver/);
    expect((error as Error).message).toMatch(/mian: unknown key/);
  });
});

describe('warden plugin test through the built command (registerPluginTest in a commander program)', () => {
  /** Runs dist's registerPluginTest in a `warden`-like program with --json, mapping errors as the real CLI does. */
  function runBuilt(args: string[]): { code: number | null; stdout: string; stderr: string } {
    const script = `
import { Command } from 'commander';
import { registerPluginTest } from './dist/cli/commands/plugin-test.js';
import { exitCodeFor } from './dist/cli/program.js';
const program = new Command('warden').option('--json', 'print JSON').exitOverride();
registerPluginTest(program.command('plugin'));
try { await program.parseAsync(process.argv.slice(1), { from: 'user' }); } catch (error) { process.exitCode = exitCodeFor(error); }
`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, ...args], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('exits 2 for a folder with an invalid plugin.json', () => {
    const { dir } = writePlugin('broken', { main: 'index.js', kind: 'gadget' }, { 'index.js': '' });
    const r = runBuilt(['plugin', 'test', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/warden plugin test: .*kind/);
  });

  it('runs its help example (plugins/echo) and exits 0, with --json', () => {
    const help = runBuilt(['plugin', 'test', '--help']);
    expect(help.stdout).toContain('Examples:');
    expect(help.stdout).toContain('$ warden plugin test plugins/echo');
    const r = runBuilt(['plugin', 'test', 'plugins/echo', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as TestReport;
    expect(report.name).toBe('echo');
    expect(report.failed).toBe(0);
  });

  it('exits 1 with the report when a check fails', () => {
    const { dir, token } = writePlugin('described', { main: 'index.js', methods: { ghost: { description: 'Not there.' } } }, {
      'package.json': '{"type": "module"}',
      'index.js': "import { definePlugin } from 'warden/sdk';\ndefinePlugin({ methods: {} });\n",
    });
    const r = runBuilt(['plugin', 'test', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ methods\s+described in plugin\.json but not served: ghost/);
    expect(r.stdout).toMatch(/^4 passed, 1 failed$/m);
    expect(r.stderr).toMatch(/described: 4 passed, 1 failed/);
    expect(processesOf(token)).toEqual([]);
  });
});
