import fs from 'node:fs';
import path from 'node:path';

export const LOG_FILE_NAME = 'warden.log';

/** Pending bytes that trigger an immediate write; below this, writes are batched to the next tick. */
const FLUSH_BYTES = 64 * 1024;
/** After a failure, how long to wait before trying the file again (a full disk may be cleared). */
const RETRY_MS = 30_000;

export interface RotatingFileOptions {
  dir: string;
  maxBytes: number;
  keep: number;
  /** Where to report that the file is unusable; once per failure. */
  report?: (message: string) => void;
}

/**
 * `<dir>/warden.log`, appended line by line and rotated by rename, never by copy-and-truncate:
 * when the next line would push warden.log past `maxBytes`, warden.log.(keep-1) → warden.log.keep, …,
 * warden.log.1 → warden.log.2, warden.log → warden.log.1, and a fresh warden.log is opened.
 * So warden.log.1 is the newest rotated file; at most `keep` exist (keep = 0: the old file is deleted).
 * Rotation happens only between lines, so every file holds whole lines; a single line larger than
 * `maxBytes` gets a file of its own.
 *
 * Writes are synchronous but batched: lines collect in memory and go out in one write(2) on the next
 * tick, when 64 KiB are pending, on flush(), on close() and when the process exits.
 * Errors (permissions, full disk) never throw: they are reported once and the lines are dropped
 * until a retry succeeds.
 */
export class RotatingFile {
  readonly path: string;
  private fd: number | null = null;
  private size = 0; // bytes in the live file, counting pending ones
  private pending = '';
  private scheduled = false;
  private failedAt = 0;
  private closed = false;
  private readonly flushOnExit = (): void => this.flush();

  constructor(private readonly options: RotatingFileOptions) {
    this.path = path.join(options.dir, LOG_FILE_NAME);
    this.open();
    process.on('exit', this.flushOnExit);
  }

  /** Append one complete line (with its newline). */
  write(line: string): void {
    if (this.closed) return;
    if (this.fd === null && !this.retry()) return;
    const bytes = Buffer.byteLength(line);
    if (this.size > 0 && this.size + bytes > this.options.maxBytes) {
      this.flush();
      this.rotate();
      if (this.fd === null) return;
    }
    this.pending += line;
    this.size += bytes;
    if (this.pending.length >= FLUSH_BYTES) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      }).unref();
    }
  }

  /** Write out every pending line now. */
  flush(): void {
    if (this.pending === '' || this.fd === null) return;
    const data = Buffer.from(this.pending);
    this.pending = '';
    try {
      let offset = 0;
      while (offset < data.length) offset += fs.writeSync(this.fd, data, offset);
    } catch (error) {
      this.fail('cannot write', error);
    }
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    process.off('exit', this.flushOnExit);
    this.closeFd();
  }

  private open(): void {
    try {
      fs.mkdirSync(this.options.dir, { recursive: true });
      this.fd = fs.openSync(this.path, 'a', 0o640);
      this.size = fs.fstatSync(this.fd).size;
      this.failedAt = 0;
    } catch (error) {
      this.fail('cannot open', error);
    }
  }

  private rotate(): void {
    this.closeFd();
    try {
      const { dir, keep } = this.options;
      // Delete what falls off the end, including leftovers from a larger `keep`.
      for (const name of fs.readdirSync(dir)) {
        const n = rotatedIndex(name);
        if (n !== null && n >= keep) fs.rmSync(path.join(dir, name), { force: true });
      }
      for (let i = keep - 1; i >= 1; i--) renameIfExists(`${this.path}.${i}`, `${this.path}.${i + 1}`);
      if (keep > 0) renameIfExists(this.path, `${this.path}.1`);
      else fs.rmSync(this.path, { force: true });
    } catch (error) {
      this.fail('cannot rotate', error);
      return;
    }
    this.open();
  }

  private retry(): boolean {
    if (Date.now() - this.failedAt < RETRY_MS) return false;
    this.open();
    return this.fd !== null;
  }

  private fail(what: string, error: unknown): void {
    const first = this.failedAt === 0;
    this.failedAt = Date.now();
    this.pending = '';
    this.closeFd();
    if (first) {
      const reason = error instanceof Error ? error.message : String(error);
      const report = this.options.report ?? ((m: string) => process.stderr.write(m + '\n'));
      report(`warden: ${what} log file ${this.path}: ${reason} (entries are still kept in memory; retrying every ${RETRY_MS / 1000}s)`);
    }
  }

  private closeFd(): void {
    if (this.fd === null) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // already unusable; nothing more to do
    }
    this.fd = null;
  }
}

/** N for `warden.log.N`, else null. */
function rotatedIndex(name: string): number | null {
  const prefix = LOG_FILE_NAME + '.';
  if (!name.startsWith(prefix)) return null;
  const rest = name.slice(prefix.length);
  return /^[1-9][0-9]*$/.test(rest) ? Number(rest) : null;
}

function renameIfExists(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
