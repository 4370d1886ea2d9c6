import { pino } from 'pino';
import type { LogLevelName } from '../protocol/index.js';
import { DAEMON_RESERVED, PLUGIN_RESERVED, parseEntry, renameReserved } from './entry.js';
import { RotatingFile } from './file.js';
import { levelAtLeast } from './levels.js';
import { Ring } from './ring.js';
import type { LogEntry, LogQuery, LogSystem, LogSystemOptions } from './types.js';

const DEFAULT_RING_SIZE = 1000;
const GLOBAL_RING_SIZE = 5000;
/** Byte budgets on top of the entry counts: a plugin spamming 1 MiB lines cannot pin 1 GiB. */
const PLUGIN_RING_BYTES = 4 * 1024 * 1024;
const GLOBAL_RING_BYTES = 16 * 1024 * 1024;
const DEFAULT_TAIL_LINES = 100;
/** What may wait in stdout's queue behind a slow reader (journald, `| less`) before lines are dropped instead. */
const STDOUT_MAX_QUEUED_BYTES = 1024 * 1024;

interface Follower {
  name: string | undefined;
  level: LogLevelName | undefined;
  onEntry: (entry: LogEntry) => void;
}

export function createLogSystem(options: LogSystemOptions): LogSystem {
  const ringSize = options.ringSize ?? DEFAULT_RING_SIZE;
  const file = options.dir === null ? null : new RotatingFile({ dir: options.dir, maxBytes: options.maxBytes, keep: options.keep });
  const out = options.stdoutStream ?? process.stdout;
  const stdout = boundedWriter(out, STDOUT_MAX_QUEUED_BYTES);
  let mirror = options.stdout === true;
  // A closed stdout (EPIPE when journald goes away) would otherwise be an uncaught 'error' event.
  const onStdoutError = (error: Error): void => {
    mirror = false;
    stdout.close();
    process.stderr.write(`warden: stopped mirroring logs to stdout: ${error.message}\n`);
  };
  if (mirror) out.once('error', onStdoutError);
  const global = new Ring<LogEntry>(Math.max(GLOBAL_RING_SIZE, ringSize), GLOBAL_RING_BYTES);
  const rings = new Map<string, Ring<LogEntry>>();
  const followers = new Set<Follower>();

  function deliver(entry: LogEntry): void {
    let failures: unknown[] | undefined;
    for (const follower of followers) {
      if (follower.name !== undefined && entry.plugin !== follower.name) continue;
      if (follower.level !== undefined && !levelAtLeast(entry.level, follower.level)) continue;
      try {
        follower.onEntry(entry);
      } catch (error) {
        followers.delete(follower);
        (failures ??= []).push(error);
      }
    }
    // Logged after the loop so the other followers see this entry before the warning.
    for (const error of failures ?? []) logger.warn({ err: error }, 'log follower threw; unsubscribed');
  }

  // The one destination for every logger: pino hands it each finished line synchronously.
  const destination = {
    write(line: string): void {
      file?.write(line);
      if (mirror) stdout.write(line);
      const parsed = parseEntry(line);
      if (parsed === null) return;
      const { entry, size } = parsed;
      global.push(entry, size);
      // Daemon entries about a plugin (with a `plugin` field) land in its ring as well.
      if (typeof entry.plugin === 'string') {
        let ring = rings.get(entry.plugin);
        if (ring === undefined) rings.set(entry.plugin, (ring = new Ring<LogEntry>(ringSize, PLUGIN_RING_BYTES)));
        ring.push(entry, size);
      }
      if (followers.size > 0) deliver(entry);
    },
  };

  const logger = pino(
    {
      level: options.level,
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: renameReserved(DAEMON_RESERVED),
      },
    },
    destination,
  );
  // pino types a child's `log` formatter over plain `object`; it is the same merge object.
  const pluginFormatters = { log: renameReserved(PLUGIN_RESERVED) as (obj: object) => object };

  return {
    logger,

    // Children without their own `level` read the parent's through the prototype, so setLevel reaches them.
    pluginLogger(name, bindings) {
      return logger.child({ plugin: name, pid: bindings.pid, restarts: bindings.restarts }, { formatters: pluginFormatters });
    },

    tail(query: LogQuery): LogEntry[] {
      const ring = query.name === undefined ? global : rings.get(query.name);
      if (ring === undefined) return [];
      const lines = Math.floor(query.lines ?? DEFAULT_TAIL_LINES);
      if (!(lines > 0)) return [];
      const min = query.level;
      return ring.newest(lines, min === undefined ? undefined : (entry) => levelAtLeast(entry.level, min));
    },

    follow(query, onEntry) {
      const follower: Follower = { name: query.name, level: query.level, onEntry };
      followers.add(follower);
      return () => {
        followers.delete(follower);
      };
    },

    forget(name) {
      rings.delete(name);
    },

    setLevel(level) {
      logger.level = level;
    },

    async close() {
      if (mirror) stdout.flushSummary();
      stdout.close();
      out.off('error', onStdoutError);
      file?.close();
    },
  };
}

interface BoundedWriter {
  write(line: string): void;
  /** Writes the pending summary now, if lines were dropped. */
  flushSummary(): void;
  /** Stops waiting for 'drain'. */
  close(): void;
}

/**
 * Writes lines to a stream whose reader may be slower than the logs. Node queues a write it cannot
 * pass on yet in memory, without limit (a plugin flooding its logs once grew the daemon to ~1 GB):
 * so while more than `maxQueued` bytes wait (`writableLength`), lines are dropped and counted instead.
 * When the stream drains, or a later line fits, one warn line in the log format says how many were
 * lost — never one per line. A stream that does not report `writableLength` is written to unbounded.
 */
function boundedWriter(out: NodeJS.WritableStream, maxQueued: number): BoundedWriter {
  let dropped = 0;
  const queued = (): number => (out as { writableLength?: number }).writableLength ?? 0;
  /** The one line about what was lost, then back to normal; also the 'drain' listener. */
  const flushSummary = (): void => {
    out.removeListener('drain', flushSummary);
    if (dropped === 0) return;
    const lines = dropped;
    dropped = 0;
    const msg = `log output to stdout dropped ${lines} line${lines === 1 ? '' : 's'} (the reader is slower than the logs)`;
    out.write(`${JSON.stringify({ level: 'warn', time: new Date().toISOString(), droppedLines: lines, msg })}\n`);
  };
  return {
    write(line) {
      if (queued() > maxQueued) {
        if (dropped++ === 0) out.once('drain', flushSummary);
        return;
      }
      flushSummary();
      out.write(line);
    },
    flushSummary,
    close() {
      out.removeListener('drain', flushSummary);
    },
  };
}
