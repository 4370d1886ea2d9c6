import type { Logger } from 'pino';
import type { LogEntry, LogLevelName } from '../protocol/index.js';

export type { LogEntry, LogLevelName };

export interface LogQuery {
  name?: string;
  lines?: number;
  level?: LogLevelName;
}

export interface LogSystemOptions {
  /** Minimum level recorded (daemon and plugin entries alike). */
  level: LogLevelName;
  /** Folder of `warden.log`; null → no file. */
  dir: string | null;
  maxBytes: number;
  keep: number;
  /** Also write every JSON line to process.stdout (foreground / journald). Default false. */
  stdout?: boolean;
  /**
   * Where `stdout: true` writes (default process.stdout; tests pass their own). While more than 1 MiB
   * waits in its queue (`writableLength`) lines are dropped and counted, then summed up in one warn line.
   */
  stdoutStream?: NodeJS.WritableStream;
  /** Entries kept per plugin for tail (default 1000); the global ring keeps 5000. */
  ringSize?: number;
}

export interface LogSystem {
  /** The daemon's own logger (no pid/hostname base). */
  readonly logger: Logger;
  /** A logger whose entries carry `plugin`, `pid` and `restarts` at the top level. */
  pluginLogger(name: string, bindings: { pid: number | null; restarts: number }): Logger;
  /** Newest last. `name` → that plugin's ring, else the global ring; `level` → that level and above; `lines` default 100. */
  tail(query: LogQuery): LogEntry[];
  /** Live entries from now on; returns unsubscribe. A throwing subscriber is removed. */
  follow(query: Omit<LogQuery, 'lines'>, onEntry: (entry: LogEntry) => void): () => void;
  /** Drop a plugin's ring (plugin removed). */
  forget(name: string): void;
  setLevel(level: LogLevelName): void;
  /** Flush and close the file. */
  close(): Promise<void>;
}
