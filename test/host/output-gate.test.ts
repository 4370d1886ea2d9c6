import { spawn, type ChildProcess } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createLineGate, DEFAULT_OUTPUT_LIMITS, gateStream, type DroppedSummary, type OutputGate, type OutputLimits } from '../../src/host/output-gate.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { MAX_LINE_BYTES } from '../../src/rpc/line-reader.js';
import { waitFor } from '../helpers/wait.js';

const gates: OutputGate[] = [];
const children: ChildProcess[] = [];

afterEach(() => {
  for (const g of gates.splice(0)) g.close();
  for (const child of children.splice(0)) {
    child.kill('SIGKILL');
    child.stderr?.destroy();
  }
});

/** A gate on a PassThrough, driven by a fake clock; no byte budget unless asked. */
function gated(limits: Partial<OutputLimits> = {}, reportEveryMs?: number) {
  const clock = new FakeClock(0);
  const stream = new PassThrough();
  const lines: string[] = [];
  const summaries: DroppedSummary[] = [];
  const gate = gateStream(stream, {
    limits: { linesPerSec: 10, burst: 5, bytesPerSec: Infinity, ...limits },
    clock,
    onLine: (line) => lines.push(line),
    onDropped: (summary) => summaries.push(summary),
    ...(reportEveryMs === undefined ? {} : { reportEveryMs }),
  });
  gates.push(gate);
  return { clock, stream, lines, summaries, gate };
}

/** `count` lines `<prefix><i>`, newline-terminated, as one chunk. */
const block = (prefix: string, count: number, from = 0): string =>
  Array.from({ length: count }, (_, i) => `${prefix}${from + i}\n`).join('');
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('gateStream on a PassThrough with a fake clock', () => {
  it('lets the burst through at once, then the rate, never more than the burst', async () => {
    const { clock, stream, lines } = gated();
    stream.write(block('a', 12));
    await settle();
    expect(lines).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    clock.advance(300);
    stream.write(block('b', 12));
    await settle();
    expect(lines.slice(5)).toEqual(['b0', 'b1', 'b2']);
    clock.advance(60_000); // a long quiet spell refills only up to the burst
    stream.write(block('c', 12));
    await settle();
    expect(lines.slice(8)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
  });

  it('reports drops once per interval, never per line, and the rest on close', async () => {
    const { clock, stream, summaries, gate } = gated({}, 10_000);
    stream.write(block('x', 1000)); // 5 pass, 995 dropped
    await settle();
    clock.advance(5000);
    stream.write(block('y', 100)); // 5 pass, 95 dropped
    await settle();
    expect(summaries).toEqual([]);
    const droppedBytes =
      Buffer.byteLength(block('x', 995, 5)) + Buffer.byteLength(block('y', 95, 5));
    clock.advance(5000);
    stream.write('z\n'); // the interval is over: the summary goes out as this line comes
    await settle();
    expect(summaries).toEqual([{ lines: 1090, bytes: droppedBytes, sinceMs: 0 }]);
    stream.write(block('w', 10)); // 4 tokens left after `z`: 6 dropped
    await settle();
    expect(summaries).toHaveLength(1);
    gate.close();
    expect(summaries).toEqual([
      { lines: 1090, bytes: droppedBytes, sinceMs: 0 },
      { lines: 6, bytes: Buffer.byteLength(block('w', 6, 4)), sinceMs: 10_000 },
    ]);
    gate.close();
    expect(summaries).toHaveLength(2);
  });

  it('sends the summary on a timer when the flood stops', async () => {
    const { stream, summaries } = gated({ burst: 1 }, 30);
    stream.write(block('x', 3));
    await waitFor('timed summary', () => summaries.length === 1, { timeoutMs: 2000 });
    expect(summaries[0]).toMatchObject({ lines: 2 });
  });

  it('counts an overlong line as dropped, with all its bytes, and carries on', async () => {
    const { stream, lines, summaries, gate } = gated({ burst: 100 });
    const long = MAX_LINE_BYTES + 100;
    stream.write('before\n');
    stream.write('x'.repeat(long / 2));
    stream.write('x'.repeat(long / 2) + '\nafter\n');
    await settle();
    expect(lines).toEqual(['before', 'after']);
    gate.close();
    expect(summaries).toEqual([{ lines: 1, bytes: long, sinceMs: 0 }]);
  });

  it('at end of stream, passes a last line without newline and reports what was dropped', async () => {
    const { stream, lines, summaries } = gated({ burst: 2 });
    stream.end('a\nb\nc\nd');
    await waitFor('end', () => summaries.length === 1, { timeoutMs: 2000 });
    expect(lines).toEqual(['a', 'b']);
    expect(summaries[0]).toMatchObject({ lines: 2 });
    expect(stream.listenerCount('data')).toBe(0);
  });

  it('pauses the stream when the byte budget is spent, and resumes by the clock', async () => {
    // 100 kB/s: a window of 10 kB; 30 kB read at once leaves a debt of 20 kB, repaid in 200 ms.
    const { clock, stream, lines } = gated({ bytesPerSec: 100_000, burst: 10_000 });
    const hundredBytes = (i: number) => `${'x'.repeat(96)}${String(i).padStart(3, '0')}\n`;
    stream.write(Array.from({ length: 300 }, (_, i) => hundredBytes(i)).join('')); // 30 kB in one chunk
    await settle();
    expect(lines).toHaveLength(300);
    expect(stream.isPaused()).toBe(true);
    stream.write(block('late', 10));
    await sleep(300); // real time passes, the gate's clock does not: still paused
    expect(stream.isPaused()).toBe(true);
    expect(lines).toHaveLength(300);
    clock.advance(199);
    await sleep(250);
    expect(stream.isPaused()).toBe(true);
    clock.advance(2);
    await waitFor('resumed', () => !stream.isPaused() && lines.length === 310, { timeoutMs: 2000 });
  });

  it('close() stops reading', async () => {
    const { stream, lines, gate } = gated();
    gate.close();
    stream.write('after close\n');
    await settle();
    expect(lines).toEqual([]);
    expect(stream.listenerCount('data')).toBe(0);
  });

  it('refuses budgets that make no sense', () => {
    const onLine = () => undefined;
    const onDropped = () => undefined;
    const bad: OutputLimits[] = [
      { linesPerSec: 1, burst: 1, bytesPerSec: 0 },
      { linesPerSec: NaN, burst: 1, bytesPerSec: 1 },
      { linesPerSec: 1, burst: -1, bytesPerSec: 1 },
    ];
    for (const limits of bad) expect(() => gateStream(new PassThrough(), { limits, onLine, onDropped })).toThrow(RangeError);
  });
});

describe('createLineGate (stray lines on stdout, whose pipe is not throttled)', () => {
  it('applies the same line budget and summaries to lines offered one by one', () => {
    const clock = new FakeClock(0);
    const lines: string[] = [];
    const summaries: DroppedSummary[] = [];
    const gate = createLineGate({
      limits: { linesPerSec: 1, burst: 2 },
      clock,
      reportEveryMs: 1000,
      onLine: (line) => lines.push(line),
      onDropped: (summary) => summaries.push(summary),
    });
    for (const line of ['a', 'b', 'c', 'dd']) gate.offer(line);
    gate.overflow(5_000_000);
    expect(lines).toEqual(['a', 'b']);
    expect(summaries).toEqual([]);
    clock.advance(1000);
    gate.offer('e');
    expect(summaries).toEqual([{ lines: 3, bytes: 2 + 3 + 5_000_000, sinceMs: 0 }]);
    expect(lines).toEqual(['a', 'b', 'e']);
    gate.offer('f');
    gate.close();
    expect(summaries).toEqual([
      { lines: 3, bytes: 5_000_005, sinceMs: 0 },
      { lines: 1, bytes: 2, sinceMs: 1000 },
    ]);
  });
});

/** Writes 101-byte lines to stderr as fast as it can, blocking when the pipe is full. */
const FLOOD = `
const fs = require('node:fs');
const line = Buffer.from('x'.repeat(100) + '\\n');
for (;;) {
  try { fs.writeSync(2, line); } catch (e) { if (e.code !== 'EAGAIN') throw e; }
}`;

describe('gateStream on a real child flooding its stderr', () => {
  it('bounds the lines let through and the bytes read, and the event loop stays responsive', async () => {
    const limits = DEFAULT_OUTPUT_LIMITS;
    const child = spawn(process.execPath, ['-e', FLOOD], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(child);
    const stderr = child.stderr!;
    let bytesRead = 0;
    stderr.on('data', (chunk: Buffer) => (bytesRead += chunk.length));
    let delivered = 0;
    const summaries: DroppedSummary[] = [];
    const started = performance.now();
    gates.push(
      gateStream(stderr, {
        limits,
        onLine: () => delivered++,
        onDropped: (s) => summaries.push(s),
        reportEveryMs: 300,
      }),
    );

    let maxLag = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      maxLag = Math.max(maxLag, now - last - 10);
      last = now;
    }, 10);
    try {
      await sleep(1200);
    } finally {
      clearInterval(ticker);
    }
    const elapsedSec = (performance.now() - started) / 1000;
    const read = bytesRead;

    expect(delivered).toBeLessThanOrEqual(limits.burst + limits.linesPerSec * elapsedSec + 10);
    expect(delivered).toBeGreaterThanOrEqual(limits.burst); // the burst did go through
    expect(summaries.length).toBeGreaterThan(0);
    expect(summaries[0]!.lines).toBeGreaterThan(0);
    expect(maxLag).toBeLessThan(100);
    // Backpressure: about bytesPerSec × elapsed, plus one window and one pipe chunk of slack.
    expect(read).toBeLessThanOrEqual(limits.bytesPerSec * elapsedSec + limits.bytesPerSec / 10 + 128 * 1024);
    expect(read).toBeGreaterThan(limits.bytesPerSec * elapsedSec * 0.5); // and it does keep reading
  });
});
