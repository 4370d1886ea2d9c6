/**
 * `warden plugin new` and `warden plugin validate`: real folders in temp dirs, the generated authors' tests
 * run as an author would, and the commands through a small commander program built on the compiled
 * register functions (`registerNew`, `registerValidate` from dist/, which `npm test` builds first), since
 * the lead registers them under `warden plugin` separately.
 */
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validatePlugin } from '../../src/toolkit/validate.js';
import { PACKAGE_ROOT } from '../../src/version.js';

let root: string;
let cliScript: string;

/** The CLI under test: the global --json, `plugin new` and `plugin validate`, exit codes as warden's own. */
function cliSource(): string {
  const url = (rel: string) => JSON.stringify(pathToFileURL(path.join(PACKAGE_ROOT, rel)).href);
  const commander = JSON.stringify(pathToFileURL(createRequire(import.meta.url).resolve('commander')).href);
  return `import { Command } from ${commander};
import { exitCodeFor } from ${url('dist/cli/program.js')};
import { registerNew } from ${url('dist/cli/commands/plugin-new.js')};
import { registerValidate } from ${url('dist/cli/commands/plugin-validate.js')};
const program = new Command('warden').option('--json', 'print JSON').exitOverride();
const plugin = program.command('plugin');
registerNew(plugin);
registerValidate(plugin);
try {
  await program.parseAsync(process.argv.slice(2), { from: 'user' });
} catch (error) {
  process.exitCode = exitCodeFor(error);
}
`;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end and collects what it printed. */
function run(file: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `warden <args>` through the test CLI. */
const warden = (args: string[], cwd = root) => run(process.execPath, [cliScript, ...args], cwd);

/** A fresh empty folder under the test's root. */
function folder(name: string): string {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A plugin folder with these files (objects are written as JSON). */
function pluginFolder(name: string, files: Record<string, string | object>): string {
  const dir = folder(name);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'warden-new-validate-'));
  cliScript = path.join(root, 'warden-cli.mjs');
  writeFileSync(cliScript, cliSource());
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.each(['js', 'ts', 'python'] as const)('warden plugin new --lang %s', (lang) => {
  const name = `greeter-${lang}`;
  let dir: string;

  it('writes a folder that validates as generated, and says what it wrote', async () => {
    const made = await warden(['--json', 'plugin', 'new', name, '--lang', lang]);
    expect(made.stderr).toBe('');
    expect(made.code).toBe(0);
    const written = JSON.parse(made.stdout) as { dir: string; files: string[] };
    dir = written.dir;
    expect(dir).toBe(path.join(root, name));
    for (const f of written.files) expect(existsSync(path.join(dir, f)), f).toBe(true);
    expect(written.files).toContain('README.md');

    const manifest = JSON.parse(readFileSync(path.join(dir, 'plugin.json'), 'utf8'));
    expect(existsSync(path.resolve(dir, manifest.$schema))).toBe(true);
    expect(manifest).toMatchObject({ name, version: '0.1.0', kind: 'service', engines: { warden: '^1.0.0' } });
    expect(manifest.methods.greet.examples[0]).toEqual({ name: 'ada', params: { name: 'Ada' }, result: 'Hello, Ada!' });

    const checked = await warden(['plugin', 'validate', dir]);
    expect(checked.stdout).toContain('✓ plugin.json');
    expect(checked.stdout).not.toContain('✗');
    expect(checked.stdout).toMatch(/audit: score \d+\/100/);
    expect(checked.code).toBe(0);
    expect((await validatePlugin(dir)).problems).toEqual([]);
  });

  it("passes its own test, run the way the README says", async () => {
    const test = lang === 'python' ? await run('python3', ['-m', 'unittest'], dir) : await run(process.execPath, ['--test'], dir);
    expect(`${test.stdout}${test.stderr}`).toMatch(lang === 'python' ? /Ran 2 tests[\s\S]*\nOK/ : /# pass 2\n# fail 0/);
    expect(test.code).toBe(0);
  });

  it('writes a README on validate, test, audit and installing into pluginsDir', () => {
    const readme = readFileSync(path.join(dir, 'README.md'), 'utf8');
    for (const words of ['warden plugin validate', 'warden plugin test .', 'warden plugin audit', 'pluginsDir']) expect(readme).toContain(words);
    if (lang === 'ts') expect(readme).toMatch(/npm run build[\s\S]*npx tsc/);
  });

  if (lang === 'ts') {
    it('builds dist/index.js, which still imports warden/sdk, from src/index.ts that typechecks', () => {
      expect(readFileSync(path.join(dir, 'dist/index.js'), 'utf8')).toContain("from 'warden/sdk'");
      expect(JSON.parse(readFileSync(path.join(dir, 'plugin.json'), 'utf8')).main).toBe('dist/index.js');
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
      expect(pkg).toMatchObject({ type: 'module', scripts: { build: 'tsc -p tsconfig.json' } });
    });
  }
  if (lang === 'python') {
    it('runs main.py with python3 through command', () => {
      expect(JSON.parse(readFileSync(path.join(dir, 'plugin.json'), 'utf8')).command).toEqual(['python3', 'main.py']);
    });
  }
});

describe('warden plugin new refuses', () => {
  it('an existing non-empty folder, with the reason and exit 2, leaving it untouched', async () => {
    const dir = pluginFolder('occupied', { 'notes.txt': 'mine' });
    const refused = await warden(['plugin', 'new', 'occupied', '--dir', dir]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${dir} is not empty`);
    expect(readdirSync(dir)).toEqual(['notes.txt']);
  });

  it('a bad name, before writing anything', async () => {
    const refused = await warden(['plugin', 'new', 'Bad_Name']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('"Bad_Name" is not a plugin name');
    expect(existsSync(path.join(root, 'Bad_Name'))).toBe(false);
  });

  it('an unknown language', async () => {
    expect((await warden(['plugin', 'new', 'rusty', '--lang', 'rust'])).code).toBe(2);
  });

  it('writes into an existing empty folder', async () => {
    const dir = folder('empty-one');
    expect((await warden(['plugin', 'new', 'empty-one', '--dir', dir])).code).toBe(0);
    expect(existsSync(path.join(dir, 'index.js'))).toBe(true);
  });
});

describe('warden plugin validate on broken folders', () => {
  it('lists every problem at once, each with its path, and a did-you-mean for a misspelt key', async () => {
    const dir = pluginFolder('broken', {
      'plugin.json': {
        name: 'broken',
        version: '1.0.0',
        main: 'index.js',
        engnes: { warden: '^1.0.0' },
        methods: {
          greet: {
            params: { type: 'object', properties: { name: { type: 'string' } } },
            result: { type: 'string' },
            examples: [{ params: { name: 7 }, result: 'Hello, 7!' }],
          },
        },
      },
    });
    const checked = await warden(['plugin', 'validate', dir]);
    expect(checked.code).toBe(1);
    const failures = checked.stdout.split('\n').filter((l) => l.startsWith('✗ '));
    expect(failures).toEqual([
      '✗ plugin.json: engnes: unknown key; did you mean engines?',
      '✗ plugin.json: methods.greet.examples[0].params.name: must be string',
      `✗ plugin.json: main: "index.js" not found in ${dir}`,
    ]);
    const json = await warden(['--json', 'plugin', 'validate', dir]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, problems: failures.map((l) => l.slice(2)), audit: null });
  });

  it('refuses a TypeScript main and an unsatisfied engines.warden together', async () => {
    const dir = pluginFolder('typed', {
      'plugin.json': { name: 'typed', version: '1.0.0', main: 'index.ts', engines: { warden: '^2.0.0' } },
      'index.ts': 'export {};\n',
    });
    const report = await validatePlugin(dir);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      'plugin.json: engines.warden "^2.0.0" is not satisfied by warden 1.0.0',
      'plugin.json: main: index.ts is TypeScript, which node 20 cannot run; compile it (tsc) and point main at the .js file',
    ]);
  });

  it('reports a missing plugin.json, and one that is not JSON, as problems', async () => {
    const empty = folder('no-manifest');
    const missing = await warden(['plugin', 'validate', empty]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain(`✗ plugin.json: not found in ${empty}`);
    const garbled = pluginFolder('garbled', { 'plugin.json': '{"name": "garbled",\n  "version": }' });
    expect((await validatePlugin(garbled)).problems).toEqual(['plugin.json: not valid JSON: line 2, column 14: Unexpected token \'}\'']);
  });

  it('checks command: a missing script and a non-executable program fail, a name not on PATH only warns', async () => {
    const dir = pluginFolder('commanded', {
      'plugin.json': { name: 'commanded', version: '1.0.0', command: ['./bin/run', 'main.py'] },
      'bin/run': '#!/bin/sh\n',
    });
    expect((await validatePlugin(dir)).problems).toEqual([
      `plugin.json: command[0]: "./bin/run" is not executable (${path.join(dir, 'bin/run')}); chmod +x it`,
      `plugin.json: command[1]: "main.py" not found in ${dir}`,
    ]);
    chmodSync(path.join(dir, 'bin/run'), 0o755);
    writeFileSync(path.join(dir, 'main.py'), 'print("hi")\n');
    expect((await validatePlugin(dir)).ok).toBe(true);

    const elsewhere = pluginFolder('elsewhere', { 'plugin.json': { name: 'elsewhere', version: '1.0.0', command: ['no-such-program-here'] } });
    const report = await validatePlugin(elsewhere);
    expect(report.ok).toBe(true);
    expect(report.warnings).toContain('plugin.json: command[0]: "no-such-program-here" is not on this PATH; make sure the daemon\'s host has it');
  });

  it('shows undeclared uses as warnings, and fails under --min-score', async () => {
    const dir = pluginFolder('spawner', {
      'plugin.json': { name: 'spawner', version: '1.0.0', main: 'index.js' },
      'index.js': "import { execSync } from 'node:child_process';\nexecSync('true');\n",
      'package.json': { type: 'module' },
    });
    const report = await validatePlugin(dir);
    expect(report.ok).toBe(true);
    expect(report.audit?.score).toBe(70);
    expect(report.warnings).toEqual(['audit: index.js:1: imports "node:child_process" (UNDECLARED)']);
    const strict = await warden(['plugin', 'validate', dir, '--min-score', '80']);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain('✗ audit: score 70 is under --min-score 80');
  });
});

describe('help examples', () => {
  it('run as written from a folder holding plugins/echo and config/warden.yaml', async () => {
    const cwd = folder('examples');
    cpSync(path.join(PACKAGE_ROOT, 'plugins/echo'), path.join(cwd, 'plugins/echo'), { recursive: true });
    cpSync(path.join(PACKAGE_ROOT, 'config/warden.yaml'), path.join(cwd, 'config/warden.yaml'));
    for (const command of ['validate', 'new']) {
      const help = await warden(['plugin', command, '--help'], cwd);
      const examples = help.stdout.split('Examples:')[1]!.split('\n').filter((l) => l.trim().startsWith('$ warden '));
      expect(examples.length).toBeGreaterThan(1);
      for (const example of examples) {
        const args = example.trim().slice('$ warden '.length).split(/\s+/);
        const result = await warden(args, cwd);
        expect(result.code, `${example}\n${result.stdout}${result.stderr}`).toBe(0);
      }
    }
  });
});
