/**
 * The daemon's side of a plugin's free-form output (stderr, and stray non-JSON-RPC lines on stdout).
 * A plugin is hostile: it may write as fast as its CPU allows. The gate makes that cost the daemon a
 * fixed budget: lines beyond the line budget are counted and dropped (one summary per interval), and
 * once the byte budget of the current window is spent the stream is paused, so the plugin blocks on
 * its own full pipe while the daemon reads nothing.
 */
import type { Readable } from 'node:stream';
import { systemClock, type Clock } from '../policies/clock.js';
import { TokenBucket } from '../policies/rate-limit.js';
import { createLineReader, MAX_LINE_BYTES } from '../rpc/line-reader.js';

export interface OutputLimits {
  /** Lines let through per second, sustained. */
  linesPerSec: number;
  /** Lines let through at once after a quiet spell. */
  burst: number;
  /** Bytes read from the pipe per second, whatever they hold (dropped lines and overlong ones included). */
  bytesPerSec: number;
}

/** Plenty for logging (a burst of 1000 lines at start-up, 200/s after), nothing for a flood. */
export const DEFAULT_OUTPUT_LIMITS: OutputLimits = Object.freeze({
  linesPerSec: 200,
  burst: 1000,
  bytesPerSec: 1024 * 1024,
});

/** Lines dropped since `sinceMs` (the gate clock's time of the first of them), and their bytes with newlines. */
export interface DroppedSummary {
  lines: number;
  bytes: number;
  sinceMs: number;
}

export interface LineGateOptions {
  limits: Pick<OutputLimits, 'linesPerSec' | 'burst'>;
  /** Drives the budgets (default: the system clock). */
  clock?: Clock;
  /** Each line let through, without its newline. */
  onLine(line: string): void;
  /** At most once per `reportEveryMs` while lines are being dropped, never per line; once more at the end. */
  onDropped(summary: DroppedSummary): void;
  /** Default 10 000. */
  reportEveryMs?: number;
}

export interface OutputGateOptions extends LineGateOptions {
  limits: OutputLimits;
}

export interface LineGate {
  /** One line the plugin wrote: handed to onLine if the line budget allows, else counted as dropped. */
  offer(line: string): void;
  /** A line too long to keep (the line reader's overflow), counted as dropped with all its bytes. */
  overflow(bytes: number): void;
  /** Reports what was dropped and not yet reported. */
  close(): void;
}

export interface OutputGate {
  /**
   * Stops reading and reports what was dropped and not yet reported. The stream is left as it is
   * (possibly paused): destroy it if its writer may still be alive.
   */
  close(): void;
}

const DEFAULT_REPORT_EVERY_MS = 10_000;
/** The byte budget's window: after a quiet spell, at most this much of a second's budget is read at once. */
const BYTE_WINDOW_MS = 100;

/**
 * The line budget alone, for lines that arrive some other way than a stream of their own — the stray
 * non-JSON-RPC lines on a plugin's stdout, whose pipe must not be throttled since answers share it.
 * Lets through what the budget allows and counts the rest: one onDropped summary per interval.
 */
export function createLineGate(options: LineGateOptions): LineGate {
  checkLineLimits(options.limits);
  const clock = options.clock ?? systemClock;
  const reportEveryMs = options.reportEveryMs ?? DEFAULT_REPORT_EVERY_MS;
  const budget = new TokenBucket({ ratePerSec: options.limits.linesPerSec, burst: options.limits.burst, clock });
  let dropped: DroppedSummary = { lines: 0, bytes: 0, sinceMs: 0 };
  let reportTimer: NodeJS.Timeout | null = null;

  /** Hands over the pending summary, if any lines were dropped since the last one. */
  const report = (): void => {
    if (reportTimer) clearTimeout(reportTimer);
    reportTimer = null;
    if (dropped.lines === 0) return;
    const summary = dropped;
    dropped = { lines: 0, bytes: 0, sinceMs: 0 };
    options.onDropped(summary);
  };

  /** Counts one dropped line; the first of a summary starts its interval (the timer covers a flood that stops). */
  const drop = (bytes: number): void => {
    if (dropped.lines === 0) {
      dropped.sinceMs = clock.now();
      reportTimer = setTimeout(report, reportEveryMs);
      reportTimer.unref();
    }
    dropped.lines += 1;
    dropped.bytes += bytes;
  };

  /** The clock-driven report, checked as lines come: the interval is the gate clock's, not the timer's. */
  const reportIfDue = (): void => {
    if (dropped.lines > 0 && clock.now() - dropped.sinceMs >= reportEveryMs) report();
  };

  return {
    offer(line) {
      reportIfDue();
      if (budget.take()) options.onLine(line);
      else drop(Buffer.byteLength(line) + 1);
    },
    overflow(bytes) {
      reportIfDue();
      drop(bytes);
    },
    close: report,
  };
}

/**
 * Reads one stream of a plugin: splits lines with the bounded line reader, lets through what the
 * line budget allows, drops and counts the rest (one onDropped summary per interval, never per line),
 * and pauses the stream when the byte budget for the current window is spent (backpressure: the
 * plugin blocks on its own pipe, the daemon spends nothing), resuming on a timer.
 */
export function gateStream(stream: NodeJS.ReadableStream | Readable, options: OutputGateOptions): OutputGate {
  checkByteLimit(options.limits);
  const lines = createLineGate(options);
  const clock = options.clock ?? systemClock;
  const bytesPerSec = options.limits.bytesPerSec;
  const byteBudget = new TokenBucket({ ratePerSec: bytesPerSec, burst: Math.max(1, (bytesPerSec * BYTE_WINDOW_MS) / 1000), clock });
  const reader = createLineReader({ maxLineBytes: MAX_LINE_BYTES, onLine: lines.offer, onOverflow: lines.overflow });
  let resumeTimer: NodeJS.Timeout | null = null;
  let closed = false;

  /** Resumes once the byte budget is back in credit; re-checks rather than trusting the timer's arithmetic. */
  const scheduleResume = (): void => {
    const wait = byteBudget.msUntil(1);
    resumeTimer = setTimeout(() => {
      resumeTimer = null;
      if (closed) return;
      if (byteBudget.msUntil(1) > 0) scheduleResume();
      else stream.resume();
    }, Math.max(1, wait));
    resumeTimer.unref();
  };

  /** One chunk off the pipe: paid for, split into lines, and the stream paused once the window's budget is spent. */
  const onData = (chunk: Buffer | string): void => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    // Bytes read are paid for whether their lines pass or not: the budget is the daemon's work.
    byteBudget.charge(bytes.length);
    reader.push(bytes);
    if (closed || resumeTimer || byteBudget.msUntil(1) === 0) return;
    stream.pause();
    scheduleResume();
  };

  /** Detaches from the stream and reports the last summary; idempotent. */
  const finish = (): void => {
    if (closed) return;
    closed = true;
    stream.removeListener('data', onData);
    stream.removeListener('end', onEnd);
    if (resumeTimer) clearTimeout(resumeTimer);
    resumeTimer = null;
    lines.close();
  };

  /** The writer is done: its last line (even without a newline) still goes through the budget. */
  const onEnd = (): void => {
    reader.end();
    finish();
  };

  stream.on('data', onData);
  stream.on('end', onEnd);
  return { close: finish };
}

/** Line budgets must be numbers ≥ 0 (Infinity: unlimited; 0: drop every line). */
function checkLineLimits(limits: Pick<OutputLimits, 'linesPerSec' | 'burst'>): void {
  if (!(limits.linesPerSec >= 0) || !(limits.burst >= 0)) {
    throw new RangeError(`output limits: linesPerSec and burst must be ≥ 0 (got ${limits.linesPerSec}, ${limits.burst})`);
  }
}

/** A byte budget of 0 would never read again and block the plugin forever; Infinity is unlimited. */
function checkByteLimit(limits: OutputLimits): void {
  if (!(limits.bytesPerSec > 0)) throw new RangeError(`output limits: bytesPerSec must be > 0 (got ${limits.bytesPerSec})`);
}
