/**
 * A plugin's stdout and stderr as the host captures them: the line readers, stderr through the output
 * gate, the line budget for log output arriving on stdout (`warden.log`, stray lines) and its
 * dropped-lines report, the log line for stray stdout, and what stderr says about the exit (V8's
 * out-of-memory line, the tail the error line is picked from). JSON-RPC itself is the host's.
 */
import type { ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { systemClock } from '../policies/clock.js';
import { TokenBucket } from '../policies/rate-limit.js';
import { createLineReader, MAX_LINE_BYTES } from '../rpc/line-reader.js';
import { errorLine, type ExitInfo } from './exit.js';
import { DEFAULT_OUTPUT_LIMITS, gateStream, type DroppedSummary, type OutputLimits } from './output-gate.js';

const STDERR_TAIL_LINES = 20;
const LOGGED_OUTPUT_CHARS = 2000;
const STDOUT_DROP_REPORT_MS = 10_000;
/** What V8 prints when --max-old-space-size is reached. */
const V8_OOM = /JavaScript heap out of memory|Reached heap limit/;

export interface CaptureContext {
  /** The plugin's logger as of now (the host replaces it once the plugin's pid is known). */
  logger: () => Logger;
  /** What the plugin may log before the rest is dropped and counted (default DEFAULT_OUTPUT_LIMITS). */
  output?: OutputLimits;
}

export interface StdoutHandlers {
  /** Each complete line on stdout, JSON-RPC or not. */
  onLine: (line: string) => void;
  /** A line over the limit was dropped; `id` is the request id it began with, if it looked like an answer. */
  onOversized: (bytes: number, id: number | null) => void;
}

export class OutputCapture {
  private readonly context: CaptureContext;
  private readonly stderrTail: string[] = [];
  /** V8's "heap out of memory" line, once seen: the hard memory limit stopped it. */
  private heapExhausted: string | null = null;
  /** The line budget for log output arriving on stdout (`warden.log`, stray lines); stderr has a gate of its own. */
  private readonly stdoutLogs: TokenBucket;
  private stdoutDropped: DroppedSummary | null = null;

  constructor(context: CaptureContext) {
    this.context = context;
    const limits = context.output ?? DEFAULT_OUTPUT_LIMITS;
    this.stdoutLogs = new TokenBucket({ ratePerSec: limits.linesPerSec, burst: limits.burst, clock: systemClock });
  }

  /** stdout in lines of at most 1 MiB: an overlong one is logged and dropped, and its request id handed back. */
  captureStdout(subprocess: ChildProcess, handlers: StdoutHandlers): void {
    const reader = createLineReader({
      maxLineBytes: MAX_LINE_BYTES,
      onLine: handlers.onLine,
      onOverflow: (bytes, head) => {
        this.context.logger().warn({ droppedBytes: bytes }, `dropped a stdout line of ${bytes} bytes (over the 1 MiB limit)`);
        // If it was the answer to a pending call, the host says so now rather than let the caller wait for its timeout.
        const id = /^\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*(\d+)/.exec(head.toString('latin1'))?.[1];
        handlers.onOversized(bytes, id === undefined ? null : Number(id));
      },
    });
    subprocess.stdout?.on('data', (chunk: Buffer) => reader.push(chunk));
    subprocess.stdout?.on('end', () => reader.end());
  }

  /** stderr through the output gate: a flood costs the daemon a fixed budget, and what is dropped is counted. */
  captureStderr(subprocess: ChildProcess): void {
    if (!subprocess.stderr) return;
    gateStream(subprocess.stderr, {
      limits: this.context.output ?? DEFAULT_OUTPUT_LIMITS,
      onLine: (line) => {
        if (V8_OOM.test(line)) this.heapExhausted = line;
        this.stderrTail.push(line.length > 500 ? `${line.slice(0, 500)}…` : line);
        if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
        this.context.logger().info(line);
      },
      onDropped: (summary) => this.reportDropped('stderr', summary),
    });
  }

  /** Whether a log line that arrived on stdout is within budget; the rest is counted and reported once per interval. */
  admitStdoutLog(bytes: number): boolean {
    if (this.stdoutLogs.take()) return true;
    if (this.stdoutDropped === null) {
      const pending = (this.stdoutDropped = { lines: 0, bytes: 0, sinceMs: Date.now() });
      setTimeout(() => {
        this.stdoutDropped = null;
        this.reportDropped('log output on stdout', pending);
      }, STDOUT_DROP_REPORT_MS).unref();
    }
    this.stdoutDropped.lines += 1;
    this.stdoutDropped.bytes += bytes;
    return false;
  }

  /** A stray (non-JSON-RPC) stdout line is logged within the budget, cut to a readable length, then dropped. */
  logOutput(line: string): void {
    if (!this.admitStdoutLog(line.length)) return;
    const text = line.length > LOGGED_OUTPUT_CHARS ? `${line.slice(0, LOGGED_OUTPUT_CHARS)}…` : line;
    this.context.logger().warn({ stdout: text }, 'plugin wrote a line on stdout that is not JSON-RPC; dropped');
  }

  /** The exit with what stderr said about it: the line that names the error, and whether V8 ran out of heap. */
  annotateExit(exit: ExitInfo): ExitInfo {
    const lastStderr = this.heapExhausted ?? errorLine(this.stderrTail);
    const annotated = lastStderr ? { ...exit, lastStderr } : exit;
    if (this.heapExhausted) annotated.heapExhausted = true;
    return annotated;
  }

  /** One warning per interval for output the plugin wrote faster than its budget. */
  private reportDropped(stream: string, summary: DroppedSummary): void {
    const seconds = Math.max(1, Math.round((Date.now() - summary.sinceMs) / 1000));
    this.context.logger().warn(
      { droppedLines: summary.lines, droppedBytes: summary.bytes },
      `dropped ${summary.lines} lines (${summary.bytes} bytes) of ${stream} in ${seconds}s: the plugin writes faster than its output limit`,
    );
  }
}
