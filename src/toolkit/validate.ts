/**
 * `warden plugin validate` (docs/manifest.md, "Validation rules"): every check the daemon makes on a plugin
 * folder before it starts it, run at once and reported together, plus the static audit as warnings.
 * Unlike loadPlugin (the first problem is enough to make a plugin invalid), this keeps going after a
 * problem, so an author fixes the whole folder in one round.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { jsonSyntaxError, mainProblem, MANIFEST_FILE, readManifest } from '../manifest/discover.js';
import { validateManifest } from '../manifest/schema.js';
import { validateEntry } from '../manifest/validate-entry.js';
import { AuditManifestError, auditPlugin, type Finding } from './audit/index.js';

export interface ValidateOptions {
  /** A score under this is a problem, not only a warning (as `plugin audit --min-score`). */
  minScore?: number;
  /** The Python interpreter the audit uses (default `python3`). */
  python?: string;
  /** The PATH searched for a bare `command[0]` (default: this process's PATH). */
  searchPath?: string;
}

export interface ValidationReport {
  /** True when there is no problem; warnings do not count. */
  ok: boolean;
  dir: string;
  /** Each one line, `plugin.json: <path>: <problem>` for the manifest's. */
  problems: string[];
  /** What may still work in production (a program not on this PATH) and undeclared uses the audit saw. */
  warnings: string[];
  /** The audit's score and findings; null when the manifest is too broken to audit. */
  audit: { score: number; findings: Finding[] } | null;
}

/** Validates the plugin folder `dir`; never throws for anything wrong with the folder itself. */
export async function validatePlugin(dir: string, options: ValidateOptions = {}): Promise<ValidationReport> {
  const abs = path.resolve(dir);
  const problems: string[] = [];
  const warnings: string[] = [];
  const add = (list: string[], line: string | null) => {
    if (line && !list.includes(line)) list.push(line);
  };

  const raw = await readRaw(abs);
  if ('problem' in raw) {
    add(problems, raw.problem);
    return { ok: false, dir: abs, problems, warnings, audit: null };
  }
  const result = validateManifest(raw.value);
  if (!result.ok) for (const p of result.problems) add(problems, p);

  // The entry is checked from the raw fields, so a broken manifest still gets its entry looked at.
  const fields = isObject(raw.value) ? raw.value : {};
  const main = fields['main'];
  const command = fields['command'];
  if (typeof main === 'string' && main !== '') {
    add(problems, await validateEntry(main, () => mainProblem(abs, main)));
  } else if (Array.isArray(command) && command.length > 0 && command.every((c) => typeof c === 'string' && c !== '')) {
    const found = await commandProblems(abs, command as string[], options.searchPath ?? process.env['PATH'] ?? '');
    for (const p of found.problems) add(problems, p);
    for (const w of found.warnings) add(warnings, w);
  }

  const audit = problems.length === 0 ? await runAudit(abs, options.python) : null;
  if (audit === null && problems.length > 0) add(warnings, 'audit: not run, the manifest or its entry has problems (fix them first)');
  if (audit) {
    if ('problem' in audit) add(warnings, `audit: not run: ${audit.problem}`);
    else {
      for (const f of audit.findings) if (!f.declared && f.rule !== 'typescript-source') add(warnings, describeFinding(f));
      if (options.minScore !== undefined && audit.score < options.minScore) {
        add(problems, `audit: score ${audit.score} is under --min-score ${options.minScore}`);
      }
    }
  }
  const shown = audit && !('problem' in audit) ? audit : null;
  return { ok: problems.length === 0, dir: abs, problems, warnings, audit: shown };
}

/** The exit code of `plugin validate`: 0 valid, 1 not (warnings never fail). */
export function validationExitCode(report: ValidationReport): 0 | 1 {
  return report.ok ? 0 : 1;
}

/** One warning line for an undeclared use the audit found, as `plugin audit` shows it. */
function describeFinding(f: Finding): string {
  const place = f.line > 0 ? `${f.file}:${f.line}` : f.file;
  return f.capability === 'analysis' ? `audit: ${place}: ${f.detail}` : `audit: ${place}: ${f.detail} (UNDECLARED)`;
}

/** plugin.json parsed, or the one-line problem (missing, oversized, not a file, not JSON) in loadPlugin's words. */
async function readRaw(dir: string): Promise<{ value: unknown } | { problem: string }> {
  let text: string;
  try {
    const read = await readManifest(path.join(dir, MANIFEST_FILE));
    if ('problem' in read) return read;
    text = read.text.replace(/^\uFEFF/, '');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? `not found in ${dir}` : (err as Error).message.split('\n')[0];
    return { problem: `${MANIFEST_FILE}: ${why}` };
  }
  try {
    return { value: JSON.parse(text) };
  } catch (err) {
    return { problem: `${MANIFEST_FILE}: not valid JSON: ${jsonSyntaxError(text, (err as Error).message)}` };
  }
}

/**
 * `command[0]` as the daemon will run it (cwd = the plugin folder): a path must be an executable file;
 * a bare name not on this PATH is only a warning, since the production host may have it. A script named
 * right after it (`["python3", "main.py"]`) must exist in the folder.
 */
async function commandProblems(dir: string, command: string[], searchPath: string): Promise<{ problems: string[]; warnings: string[] }> {
  const problems: string[] = [];
  const warnings: string[] = [];
  const program = command[0]!;
  if (program.includes('/')) {
    const file = path.resolve(dir, program);
    const why = await notExecutable(file);
    if (why) problems.push(`${MANIFEST_FILE}: command[0]: ${JSON.stringify(program)} ${why}`);
  } else if (!(await onPath(program, searchPath))) {
    warnings.push(`${MANIFEST_FILE}: command[0]: ${JSON.stringify(program)} is not on this PATH; make sure the daemon's host has it`);
  }
  const script = command[1];
  if (script !== undefined && !script.startsWith('-') && SCRIPT_RE.test(script) && !path.isAbsolute(script)) {
    const exists = await stat(path.resolve(dir, script)).then((s) => s.isFile(), () => false);
    if (!exists) problems.push(`${MANIFEST_FILE}: command[1]: ${JSON.stringify(script)} not found in ${dir}`);
  }
  return { problems, warnings };
}

/** Script files an interpreter in command[0] is given to run: these must exist in the folder. */
const SCRIPT_RE = /\.(?:py|js|mjs|cjs|rb|pl|sh|php|lua)$/;

/** Why `file` cannot be run (missing, a folder, not executable), or null. */
async function notExecutable(file: string): Promise<string | null> {
  const s = await stat(file).catch(() => null);
  if (!s) return `not found (${file})`;
  if (!s.isFile()) return `is not a file (${file})`;
  return (await access(file, constants.X_OK).then(() => true, () => false)) ? null : `is not executable (${file}); chmod +x it`;
}

/** Whether a bare program name is an executable file in one of searchPath's folders. */
async function onPath(name: string, searchPath: string): Promise<boolean> {
  for (const folder of searchPath.split(path.delimiter).filter(Boolean)) {
    if ((await notExecutable(path.join(folder, name))) === null) return true;
  }
  return false;
}

/** The audit report, or why it could not run (a manifest problem the checks above did not catch). */
async function runAudit(dir: string, python: string | undefined): Promise<{ score: number; findings: Finding[] } | { problem: string }> {
  try {
    const report = await auditPlugin(dir, python ? { python } : {});
    return { score: report.score, findings: report.findings };
  } catch (err) {
    if (err instanceof AuditManifestError) return { problem: err.message };
    throw err;
  }
}

/** A JSON object (not an array, not null). */
function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
