/** `warden plugin audit` (docs/audit.md): what a plugin's code uses against what its plugin.json declares. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadPlugin } from '../../manifest/index.js';
import type { Manifest } from '../../manifest/index.js';
import { isWithin } from '../../reload/ignore.js';
import { listSources, MAX_FILE_BYTES, MAX_FILES, type SourceFile } from './files.js';
import { analyzeJavaScript } from './javascript.js';
import { analyzePython } from './python.js';
import { auditScore, SEVERITY } from './score.js';
import type { AuditReport, Finding, PythonStatus, Rule, Use } from './types.js';

export type { AuditReport, Capability, Finding, PythonStatus, Rule } from './types.js';
export { auditScore, SEVERITY } from './score.js';

/** The folder holds no valid plugin.json: the audit has nothing to compare the code against. */
export class AuditManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditManifestError';
  }
}

export interface AuditOptions {
  /** The Python interpreter (default `python3`, looked up on PATH). */
  python?: string;
  /** The folder's manifest when the caller has already loaded it (loadPlugin): plugin.json is then not read again. */
  manifest?: Manifest;
}

/** Audits the plugin in `dir`; throws AuditManifestError when its manifest is missing or invalid. */
export async function auditPlugin(dir: string, options: AuditOptions = {}): Promise<AuditReport> {
  const root = path.resolve(dir);
  let manifest = options.manifest;
  if (!manifest) {
    const loaded = await loadPlugin(root);
    if (!loaded.ok) throw new AuditManifestError(loaded.reason);
    manifest = loaded.manifest;
  }
  const { files, truncated } = await listSources(root);
  const findings: Finding[] = [];
  const note = (rule: Rule, file: string, line: number, detail: string) =>
    findings.push({ rule, capability: SEVERITY[rule].capability, file, line, detail, declared: false });
  if (truncated) note('not-analyzed', '.', 0, `not analyzed: more than ${MAX_FILES} source files; the rest were not read`);

  const readable = (f: SourceFile) => {
    if (f.size <= MAX_FILE_BYTES) return true;
    note('not-analyzed', f.rel, 0, `not analyzed: ${f.size} bytes, over the ${MAX_FILE_BYTES / (1024 * 1024)} MiB limit`);
    return false;
  };
  const js = files.filter((f) => f.language === 'javascript');
  const py = files.filter((f) => f.language === 'python');
  const ts = files.filter((f) => f.language === 'typescript');

  for (const f of js.filter(readable)) {
    let source: string;
    try {
      source = await readFile(f.abs, 'utf8');
    } catch (e) {
      note('not-analyzed', f.rel, 0, `not analyzed: ${(e as Error).message}`);
      continue;
    }
    const result = analyzeJavaScript(source, f.abs, root);
    if (!result.ok) note('parse-error', f.rel, result.line, `could not parse: ${result.message}`);
    else for (const use of result.uses) pushUse(findings, use, f.rel, manifest, root);
  }

  const python = await auditPython(py.filter(readable), findings, manifest, root, options.python ?? 'python3');
  for (const f of ts) note('typescript-source', f.rel, 0, 'not analyzed: TypeScript source (the audit reads the built JavaScript)');

  const order = Object.keys(SEVERITY);
  findings.sort(
    (a, b) => order.indexOf(a.rule) - order.indexOf(b.rule) || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.line - b.line,
  );
  return {
    plugin: manifest.name,
    version: manifest.version,
    dir: root,
    score: auditScore(findings),
    files: { javascript: js.length, python: py.length, typescript: ts.length },
    python,
    findings,
  };
}

/** The Python files through python3; when it cannot run, each file is a not-analyzed finding saying why. */
async function auditPython(files: SourceFile[], findings: Finding[], manifest: Manifest, root: string, interpreter: string): Promise<PythonStatus> {
  if (files.length === 0) return { files: 0, analyzed: true, problem: null };
  const run = await analyzePython(
    files.map((f) => f.abs),
    interpreter,
  );
  const byAbs = new Map(files.map((f) => [f.abs, f.rel]));
  if (!run.ok) {
    for (const f of files) {
      findings.push({ rule: 'not-analyzed', capability: 'analysis', file: f.rel, line: 0, detail: `not analyzed: ${run.problem}`, declared: false });
    }
    return { files: files.length, analyzed: false, problem: run.problem };
  }
  for (const r of run.results) {
    const rel = byAbs.get(r.file) ?? r.file;
    if (!r.ok) {
      findings.push({ rule: 'parse-error', capability: 'analysis', file: rel, line: r.line, detail: `could not parse: ${r.message}`, declared: false });
    } else for (const use of r.uses) pushUse(findings, use, rel, manifest, root);
  }
  return { files: files.length, analyzed: true, problem: null };
}

/** Turns one use into its finding, judged against the manifest; uses inside the plugin's own folder are none. */
function pushUse(findings: Finding[], use: Use, file: string, manifest: Manifest, root: string): void {
  const p = manifest.permissions;
  const add = (rule: Rule, declared: boolean) =>
    findings.push({ rule, capability: SEVERITY[rule].capability, file, line: use.line, detail: use.detail, declared });
  switch (use.kind) {
    case 'childProcess':
      return void add('child-process', p.childProcess);
    case 'network':
      return void add('network', p.network);
    case 'dynamicCode':
      return void add('dynamic-code', false);
    case 'nativeCode':
      return void add('native-code', false);
    case 'processBinding':
      return void add('process-binding', false);
    case 'envAll':
      return void add('env-all', false);
    case 'parseError':
      return void add('parse-error', false);
    case 'env': {
      // Declared when passed from the daemon (permissions.env) or fixed by the manifest itself (environment).
      const declared = p.env.includes(use.name) || Object.hasOwn(manifest.environment ?? {}, use.name);
      return void findings.push({ rule: 'env', capability: SEVERITY.env.capability, file, line: use.line, detail: use.detail, name: use.name, declared });
    }
    case 'fs': {
      if (use.path === null) return void add('fs-computed', false);
      const target = path.resolve(root, use.path);
      if (isWithin(target, root)) return;
      const allowed = use.write ? p.fs.write : [...p.fs.read, ...p.fs.write];
      return void add('fs-outside', allowed.some((a) => isWithin(target, path.resolve(root, a))));
    }
  }
}
