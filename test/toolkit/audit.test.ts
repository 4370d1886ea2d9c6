/**
 * `warden plugin audit` (docs/audit.md): the analyzers on real plugin folders in temp dirs, the score rule,
 * and the built CLI (`node dist/cli/main.js plugin audit`), which `npm test` builds first.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AuditManifestError, auditPlugin, auditScore, SEVERITY, type AuditReport, type Finding } from '../../src/toolkit/audit/index.js';
import { killLeftovers, runCli } from '../cli/helpers/run-cli.js';
import { JS_PLUGIN, PY_PLUGIN, TIDY_PLUGIN, writePlugin } from './audit-fixtures.js';

const dirs: string[] = [];
const plugin = (files: Record<string, string>) => {
  const dir = writePlugin(files);
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
afterEach(() => killLeftovers());

/** Each finding as `rule file:line declared`, for comparing whole reports at a glance. */
const summary = (r: AuditReport) => r.findings.map((f) => `${f.rule} ${f.file}:${f.line} ${f.declared ? 'declared' : 'UNDECLARED'}`);

describe('JavaScript', () => {
  it('finds every capability with its file, line and whether the manifest declares it', async () => {
    const report = await auditPlugin(plugin(JS_PLUGIN));
    expect(report.plugin).toBe('audited');
    expect(report.files).toEqual({ javascript: 4, python: 0, typescript: 1 });
    expect(summary(report)).toEqual([
      'child-process index.js:1 UNDECLARED',
      'child-process legacy.js:2 UNDECLARED',
      'child-process lib.cjs:2 UNDECLARED',
      'native-code index.js:21 UNDECLARED',
      'native-code lib.cjs:4 UNDECLARED',
      'native-code lib.cjs:7 UNDECLARED',
      'process-binding index.js:20 UNDECLARED',
      'dynamic-code index.js:6 UNDECLARED',
      'dynamic-code index.js:17 UNDECLARED',
      'dynamic-code index.js:18 UNDECLARED',
      'dynamic-code index.js:19 UNDECLARED',
      'dynamic-code lib.cjs:6 UNDECLARED',
      'network index.js:2 declared',
      'network index.js:16 declared',
      'network lib.cjs:3 declared',
      'fs-outside index.js:11 UNDECLARED',
      'fs-outside index.js:12 declared',
      'fs-outside index.js:13 UNDECLARED',
      'fs-computed index.js:15 UNDECLARED',
      'env-all index.js:10 UNDECLARED',
      'env index.js:8 declared',
      'env index.js:9 UNDECLARED',
      'parse-error broken.js:2 UNDECLARED',
      'typescript-source src/types.ts:0 UNDECLARED',
    ]);
    // Heavy undeclared uses far beyond 100 points: the floor.
    expect(report.score).toBe(0);
  });

  it('names what it saw', async () => {
    const report = await auditPlugin(plugin(JS_PLUGIN));
    const at = (file: string, line: number) => report.findings.find((f) => f.file === file && f.line === line)!;
    expect(at('index.js', 11).detail).toBe('fs readFileSync("/etc/passwd")');
    expect(at('index.js', 15).detail).toBe('fs readFile() with a computed path');
    expect(at('index.js', 16).detail).toBe('fetch()');
    expect(at('index.js', 9).detail).toBe('process.env["HOME"]');
    expect(at('broken.js', 2).detail).toMatch(/^could not parse: /);
    expect(at('src/types.ts', 0).detail).toBe('not analyzed: TypeScript source (the audit reads the built JavaScript)');
  });

  it('does not read node_modules, and paths built from the file\'s own folder stay inside it', async () => {
    const report = await auditPlugin(plugin(JS_PLUGIN));
    expect(report.findings.some((f) => f.file.startsWith('node_modules/'))).toBe(false);
    expect(report.findings.some((f) => f.line === 14 && f.file === 'index.js')).toBe(false);
  });

  it('skips a file over 2 MiB, saying so', async () => {
    const dir = plugin(TIDY_PLUGIN);
    writeFileSync(path.join(dir, 'big.js'), `// ${'x'.repeat(2 * 1024 * 1024)}\n`);
    const report = await auditPlugin(dir);
    const big = report.findings.find((f) => f.file === 'big.js')!;
    expect(big.rule).toBe('not-analyzed');
    expect(big.detail).toMatch(/over the 2 MiB limit/);
  });
});

describe('Python', () => {
  it('finds every capability through python3 and the ast module', async () => {
    const report = await auditPlugin(plugin(PY_PLUGIN));
    expect(report.python).toEqual({ files: 2, analyzed: true, problem: null });
    expect(summary(report)).toEqual([
      'child-process main.py:2 UNDECLARED',
      'child-process main.py:14 UNDECLARED',
      'native-code main.py:5 UNDECLARED',
      'dynamic-code main.py:21 UNDECLARED',
      'dynamic-code main.py:22 UNDECLARED',
      'dynamic-code main.py:23 UNDECLARED',
      'network main.py:3 declared',
      'network main.py:4 declared',
      'network main.py:8 declared',
      'fs-outside main.py:15 UNDECLARED',
      'fs-outside main.py:16 declared',
      'fs-outside main.py:17 UNDECLARED',
      'fs-outside main.py:25 UNDECLARED',
      'fs-computed main.py:20 UNDECLARED',
      'env-all main.py:13 UNDECLARED',
      'env main.py:10 declared',
      'env main.py:11 UNDECLARED',
      'env main.py:12 UNDECLARED',
      'parse-error broken.py:1 UNDECLARED',
    ]);
    expect(report.score).toBe(0);
    const details = report.findings.map((f) => f.detail);
    expect(details).toContain('os.system');
    expect(details).toContain("open('../outside.txt') for writing");
    expect(details).toContain("pathlib.Path('/var/log/syslog')");
  });

  it('says the Python files were not analyzed, and why, when python3 cannot run', async () => {
    const dir = plugin(PY_PLUGIN);
    const missing = await auditPlugin(dir, { python: path.join(dir, 'no-such-python3') });
    expect(missing.python.analyzed).toBe(false);
    expect(missing.python.problem).toMatch(/not found on PATH/);
    expect(summary(missing)).toEqual(['not-analyzed broken.py:0 UNDECLARED', 'not-analyzed main.py:0 UNDECLARED']);
    expect(missing.score).toBe(100 - SEVERITY['not-analyzed'].cap);

    const failing = await auditPlugin(dir, { python: 'false' });
    expect(failing.python).toMatchObject({ analyzed: false, problem: 'false exited with code 1' });
  });
});

describe('the score', () => {
  const finding = (rule: Finding['rule'], declared = false): Finding => ({
    rule,
    capability: SEVERITY[rule].capability,
    file: 'x.js',
    line: 1,
    detail: '',
    declared,
  });

  it('subtracts each rule\'s weight, capped per rule, with a floor of 0', () => {
    expect(auditScore([])).toBe(100);
    expect(auditScore([finding('network', true), finding('child-process', true), finding('env', true)])).toBe(100);
    expect(auditScore([finding('network')])).toBe(75);
    expect(auditScore([finding('env'), finding('fs-computed')])).toBe(93);
    expect(auditScore(Array.from({ length: 20 }, () => finding('fs-computed')))).toBe(90);
    expect(auditScore([finding('dynamic-code', true)])).toBe(75); // never declarable
    expect(auditScore(Object.keys(SEVERITY).map((r) => finding(r as Finding['rule'])))).toBe(0);
  });

  it('scores a tidy plugin', async () => {
    const report = await auditPlugin(plugin(TIDY_PLUGIN));
    expect(summary(report)).toEqual(['network index.js:1 declared', 'fs-computed index.js:3 UNDECLARED', 'env index.js:4 UNDECLARED']);
    expect(report.score).toBe(93);
  });
});

it('refuses a folder without a valid plugin.json', async () => {
  const dir = plugin({ 'index.js': '' });
  await expect(auditPlugin(dir)).rejects.toBeInstanceOf(AuditManifestError);
});

describe('the CLI', () => {
  it('exits 0 at or above --min-score, 1 under it, and prints the findings grouped by capability', async () => {
    const dir = plugin(TIDY_PLUGIN);
    const ok = await runCli(['plugin', 'audit', dir, '--min-score', '90']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^tidy 1\.2\.3 {2}score 93\/100/);
    expect(ok.stdout).toContain('network:\n  index.js:1  requires "node:https"  (declared)');
    expect(ok.stdout).toContain('environment variables:\n  index.js:4  process.env.LOG_LEVEL  (UNDECLARED)');

    const under = await runCli(['plugin', 'audit', dir, '--min-score', '95']);
    expect(under.code).toBe(1);
    expect(under.stdout).toMatch(/score 93\/100/);
    expect(under.stderr).toContain('score 93 is under --min-score 95');
  });

  it('prints the whole report with --json', async () => {
    const dir = plugin(TIDY_PLUGIN);
    const res = await runCli(['--json', 'plugin', 'audit', dir]);
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout) as AuditReport;
    expect(report).toMatchObject({ plugin: 'tidy', score: 93, files: { javascript: 1, python: 0, typescript: 0 } });
    expect(report.findings).toHaveLength(3);
  });

  it('finds a plugin by name under the configured pluginsDir, and defaults to the current folder', async () => {
    const root = plugin({});
    const pluginsDir = path.join(root, 'plugins');
    mkdirSync(pluginsDir);
    const dir = writePluginAt(path.join(pluginsDir, 'tidy-folder'));
    writeFileSync(path.join(root, 'warden.yaml'), `pluginsDir: ${pluginsDir}\n`);
    const byName = await runCli(['plugin', 'audit', 'tidy', '--json'], { env: { WARDEN_CONFIG: path.join(root, 'warden.yaml') }, cwd: root });
    expect(byName.code).toBe(0);
    expect(JSON.parse(byName.stdout)).toMatchObject({ plugin: 'tidy', dir });
    const here = await runCli(['plugin', 'audit', '--json'], { cwd: dir });
    expect(JSON.parse(here.stdout)).toMatchObject({ plugin: 'tidy', dir });
  });

  it('is a usage error for a folder without a valid plugin.json, and for an unknown name', async () => {
    const bad = await runCli(['plugin', 'audit', plugin({ 'plugin.json': '{"name": 1}' })]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/plugin\.json/);
    const root = plugin({ 'warden.yaml': 'pluginsDir: ./plugins\n' });
    const unknown = await runCli(['plugin', 'audit', 'nosuch'], { env: { WARDEN_CONFIG: path.join(root, 'warden.yaml') }, cwd: root });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('nosuch is neither a folder nor a plugin in');
    const range = await runCli(['plugin', 'audit', root, '--min-score', '101']);
    expect(range.code).toBe(2);
  });
});

/** The tidy plugin in a chosen folder (a plugins/ entry whose folder name is not the plugin's name). */
function writePluginAt(dir: string): string {
  for (const [rel, text] of Object.entries(TIDY_PLUGIN)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}
