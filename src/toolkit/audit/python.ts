/** Runs the Python analyzer (python-analyzer.ts) with the `python3` found on PATH, in batches. */
import { spawn } from 'node:child_process';
import { PYTHON_ANALYZER } from './python-analyzer.js';
import type { Use } from './types.js';

export type PyFileResult = { file: string; ok: true; uses: Use[] } | { file: string; ok: false; line: number; message: string };

export type PythonRun = { ok: true; results: PyFileResult[] } | { ok: false; problem: string };

/** Files per python3 run: keeps the argument list far below the kernel's limit. */
const BATCH = 200;
/** One run's wall-clock bound. */
const TIMEOUT_MS = 60_000;
/** The most a run may print: the answer for 200 files of at most 2 MiB each is far less. */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/** Every file's uses, or why Python could not tell (python3 missing, failing, or answering nonsense). */
export async function analyzePython(files: readonly string[], python = 'python3'): Promise<PythonRun> {
  const results: PyFileResult[] = [];
  for (let i = 0; i < files.length; i += BATCH) {
    const run = await runBatch(python, files.slice(i, i + BATCH));
    if (!run.ok) return run;
    results.push(...run.results);
  }
  return { ok: true, results };
}

/** One `python3 -I -` with the analyzer on stdin; -I keeps PYTHON* variables and user site-packages out. */
function runBatch(python: string, files: string[]): Promise<PythonRun> {
  return new Promise((resolve) => {
    const child = spawn(python, ['-I', '-', ...files], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    let settled = false;
    const finish = (result: PythonRun) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish({ ok: false, problem: `${python} did not finish within ${TIMEOUT_MS / 1000} s` });
    }, TIMEOUT_MS);
    child.on('error', (e: NodeJS.ErrnoException) => {
      finish({ ok: false, problem: e.code === 'ENOENT' ? `${python} was not found on PATH` : `${python} could not be run: ${e.message}` });
    });
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > MAX_OUTPUT_BYTES) {
        child.kill('SIGKILL');
        finish({ ok: false, problem: `${python} printed more than ${MAX_OUTPUT_BYTES} bytes` });
      } else out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (err.length < 4096) err += chunk.toString('utf8');
    });
    child.on('close', (code, signal) => {
      if (code !== 0) {
        const last = err.trim().split('\n').pop() ?? '';
        return finish({ ok: false, problem: `${python} exited with ${signal ?? `code ${code}`}${last ? `: ${last}` : ''}` });
      }
      try {
        finish({ ok: true, results: parseAnswer(Buffer.concat(out).toString('utf8'), files) });
      } catch (e) {
        finish({ ok: false, problem: `${python} gave an answer the audit cannot read: ${(e as Error).message}` });
      }
    });
    child.stdin.on('error', () => {}); // a python3 that dies early closes its stdin: 'close' says why
    child.stdin.end(PYTHON_ANALYZER);
  });
}

/** The analyzer's JSON, checked to hold one entry per file asked about. */
function parseAnswer(text: string, files: string[]): PyFileResult[] {
  const answer: unknown = JSON.parse(text);
  if (!Array.isArray(answer) || answer.length !== files.length) throw new Error('expected one entry per file');
  return answer.map((entry: unknown, i) => {
    const e = entry as Partial<PyFileResult> & { file?: unknown };
    if (typeof e !== 'object' || e === null || e.file !== files[i]) throw new Error(`entry ${i} is not about ${files[i]}`);
    if (e.ok === true && Array.isArray(e.uses)) return e as PyFileResult;
    if (e.ok === false) return e as PyFileResult;
    throw new Error(`entry ${i} has neither uses nor a parse error`);
  });
}
