import type { Readable } from 'node:stream';

/** The longest line any warden peer accepts (docs/protocol.md, "Line limits"). */
export const MAX_LINE_BYTES = 1024 * 1024;
const HEAD_BYTES = 256;

export interface LineReaderOptions {
  maxLineBytes?: number;
  onLine: (line: string) => void;
  /**
   * Called once per overlong line, after its end is seen (or at end of stream), with the bytes dropped
   * and the line's first bytes (up to 256): often enough to tell whose answer it was.
   */
  onOverflow?: (droppedBytes: number, head: Buffer) => void;
}

export interface LineReader {
  push(chunk: Buffer): void;
  /** Flushes a final line that had no trailing newline. */
  end(): void;
}

/**
 * Splits a byte stream into newline-delimited lines without ever holding more than
 * `maxLineBytes` of one line: once a line grows past the bound, its bytes are counted
 * and discarded until the next newline.
 */
export function createLineReader(options: LineReaderOptions): LineReader {
  const maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let discarding = false;
  let droppedBytes = 0;
  let head: Buffer = Buffer.alloc(0);

  /** The first bytes of the line being dropped, copied before its buffers are let go. */
  const keepHead = (piece: Buffer): void => {
    const parts: Buffer[] = [];
    let length = 0;
    for (const part of [...pending, piece]) {
      if (length >= HEAD_BYTES) break;
      const take = part.subarray(0, HEAD_BYTES - length);
      parts.push(take);
      length += take.length;
    }
    head = Buffer.from(Buffer.concat(parts, length));
  };

  const emit = (tail: Buffer): void => {
    let line: Buffer;
    if (pendingBytes === 0) line = tail;
    else {
      pending.push(tail);
      line = Buffer.concat(pending, pendingBytes + tail.length);
      pending = [];
      pendingBytes = 0;
    }
    let end = line.length;
    if (end > 0 && line[end - 1] === 0x0d) end -= 1; // tolerate CRLF peers
    if (end === 0) return;
    options.onLine(line.toString('utf8', 0, end));
  };

  const finishOverflow = (): void => {
    options.onOverflow?.(droppedBytes, head);
    discarding = false;
    droppedBytes = 0;
    head = Buffer.alloc(0);
  };

  return {
    push(chunk: Buffer): void {
      let start = 0;
      while (start < chunk.length) {
        const newline = chunk.indexOf(0x0a, start);
        if (newline === -1) {
          const rest = chunk.length - start;
          if (discarding) droppedBytes += rest;
          else if (pendingBytes + rest > maxLineBytes) {
            keepHead(chunk.subarray(start));
            discarding = true;
            droppedBytes = pendingBytes + rest;
            pending = [];
            pendingBytes = 0;
          } else {
            pending.push(chunk.subarray(start));
            pendingBytes += rest;
          }
          return;
        }
        const piece = chunk.subarray(start, newline);
        if (discarding) {
          droppedBytes += piece.length;
          finishOverflow();
        } else if (pendingBytes + piece.length > maxLineBytes) {
          keepHead(piece);
          droppedBytes = pendingBytes + piece.length;
          pending = [];
          pendingBytes = 0;
          finishOverflow();
        } else {
          emit(piece);
        }
        start = newline + 1;
      }
    },
    end(): void {
      if (discarding) finishOverflow();
      else if (pendingBytes > 0) emit(Buffer.alloc(0));
    },
  };
}

/** Feeds a readable byte stream into a line reader. */
export function readLines(stream: Readable, options: LineReaderOptions): void {
  const reader = createLineReader(options);
  stream.on('data', (chunk: Buffer | string) => reader.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
  stream.on('end', () => reader.end());
}

/**
 * The writing side: lines queued in one tick leave in one write, in order, so a burst of pipelined
 * answers costs one syscall rather than one per line. The write runs in a microtask, before the next I/O.
 */
export class LineBatcher {
  private text = '';
  private queued = false;

  constructor(private readonly write: (text: string) => void) {}

  /** Characters queued and not yet written (for a bound on a slow reader). */
  get queuedLength(): number {
    return this.text.length;
  }

  /** Queues one line (its newline included). */
  push(line: string): void {
    this.text += line;
    if (this.queued) return;
    this.queued = true;
    queueMicrotask(this.flush);
  }

  /** Takes out what is queued, followed by `line`: for a write of its own (with a callback), or to drop it. */
  take(line = ''): string {
    const text = this.text + line;
    this.text = '';
    return text;
  }

  /** Writes what is queued now. */
  readonly flush = (): void => {
    this.queued = false;
    const text = this.take();
    if (text !== '') this.write(text);
  };
}
