import { constants } from 'node:os';

/** How a plugin process ended, as observed. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be spawned at all. */
  error?: string;
  /** The line of its stderr that says why it died (the error, not node's version banner). */
  lastStderr?: string;
  /** V8 said it ran out of heap: the hard memory limit (--max-old-space-size) stopped it. */
  heapExhausted?: boolean;
  /** Behind the wall, bwrap never got as far as starting the plugin. */
  sandboxFailed?: boolean;
}

/** What the kernel says about the plugin's cgroup after the exit. */
export interface ExitContext {
  /** Processes the kernel's OOM killer killed in this instance's cgroup. */
  oomKills: number;
  /** The cgroup's hard memory limit, in MB (null: no cgroup). */
  hardMemoryMb: number | null;
}

/** Why a process died, once, for `lastError`: a quota (heap, kernel OOM) or a crash. */
export interface ExitVerdict {
  kind: 'crash' | 'quota';
  message: string;
}

/** A signal's name from its number, or null for a number that is none. */
export function signalName(n: number): NodeJS.Signals | null {
  const entry = Object.entries(constants.signals).find(([, value]) => value === n);
  return (entry?.[0] as NodeJS.Signals | undefined) ?? null;
}

/** Lines that never say why a program failed: node's version banner, stack frames, carets, blanks. */
const NOISE = /^(Node\.js v\d|\s+at |\s*\^+\s*$|\s*$|\s*File "|Traceback \(most recent call last\))/;
const ERROR = /\b[A-Z]\w*(Error|Exception|Exit|Interrupt)\b|^Error\b|^bwrap:|^warden:/;

/** The stderr line that names the error: the last that looks like one, else the last that is not noise. */
export function errorLine(tail: readonly string[]): string | undefined {
  const meaningful = tail.filter((line) => !NOISE.test(line));
  return [...meaningful].reverse().find((line) => ERROR.test(line)) ?? meaningful.at(-1);
}

export function describeExit(exit: ExitInfo): string {
  let text: string;
  if (exit.error) text = `could not start: ${exit.error}`;
  else if (exit.sandboxFailed) text = `the sandbox could not be built (exit code ${exit.code ?? 'unknown'})`;
  else if (exit.signal) text = `killed by ${exit.signal}`;
  else text = `exit code ${exit.code ?? 'unknown'}`;
  const failed = exit.error !== undefined || exit.signal !== null || exit.code !== 0;
  return failed && exit.lastStderr ? `${text}; last stderr: ${exit.lastStderr}` : text;
}

/**
 * The one place that says why a plugin died: V8's heap limit and the kernel's OOM kill are memory
 * quotas; everything else (exit code, signal, a sandbox that could not be built) is a crash.
 */
export function classifyExit(exit: ExitInfo, context: ExitContext): ExitVerdict {
  if (exit.heapExhausted) return { kind: 'quota', message: `memory: the V8 heap limit was reached (${describeExit(exit)})` };
  if (context.oomKills > 0) {
    const at = context.hardMemoryMb === null ? 'its cgroup limit' : `${context.hardMemoryMb} MB`;
    return { kind: 'quota', message: `memory: killed by the kernel at ${at} (${describeExit(exit)})` };
  }
  return { kind: 'crash', message: describeExit(exit) };
}
