/**
 * The objects warden sends on the control socket (docs/control-api.md): a plugin's status and the pieces it is
 * made of, the results of `status`, `plugin.get`, `logs.tail` and `daemon.reload`, and a log entry.
 */
import type { CircuitState, FailureKind, LogLevelName, PluginKind, PluginState } from './vocabulary.js';

/** A plugin's resource limits (docs/configuration.md, "defaults.limits"). */
export interface Limits {
  memoryMb: number;
  cpuPercent: number;
  handles: number;
  processes: number;
}

/** What a plugin may reach: a manifest's `permissions` (docs/manifest.md), with defaults applied. */
export interface Permissions {
  fs: { read: string[]; write: string[] };
  network: boolean;
  childProcess: boolean;
  env: string[];
}

/** A plugin's most recent failure. */
export interface LastError {
  time: string;
  kind: FailureKind;
  message: string;
}

/** A plugin's whole process tree at the last sample. */
export interface Usage {
  cpuPercent: number;
  memoryBytes: number;
  handles: number;
  processes: number;
}

/** A plugin's status on the control socket (docs/control-api.md, "PluginStatus"). */
export interface PluginStatus {
  name: string;
  version: string | null;
  kind: PluginKind;
  state: PluginState;
  pid: number | null;
  startedAt: string | null;
  restarts: number;
  circuit: CircuitState;
  usage: Usage | null;
  limits: Limits;
  enforcement: Record<string, string>;
  /** What the plugin may reach: its manifest's permissions after the operator's overrides. */
  permissions: Permissions | null;
  reason: string | null;
  lastError: LastError | null;
}

/** One of the last failed calls of a plugin (`plugin.get`'s `recentErrors`). */
export interface RecentError {
  time: string;
  method: string;
  message: string;
  code?: number;
  stack?: string;
}

/** How a scheduled run ended; `time` is when it started. */
export type RunOutcome =
  | { time: string; ok: true; durationMs: number }
  | { time: string; ok: false; durationMs: number; error: string };

/** One `schedules` entry of a plugin (`plugin.get`'s `schedules`). */
export interface ScheduleStatus {
  cron: string;
  method: string;
  /** ISO time of the next tick while armed; null while stopped (or if the expression could not be armed). */
  nextRun: string | null;
  /** The last run that finished; `time` is when it started. */
  lastRun: RunOutcome | null;
  /** Runs started (a run still in flight is counted here but not yet in lastRun). */
  runs: number;
  failures: number;
  skippedOverlap: number;
  skippedNotRunning: number;
}

/** A subscriber's event counts (`plugin.get`'s `events`). */
export interface EventCounts {
  /** Waiting in the queue now (not counting one being handed over). */
  queued: number;
  /** Handed to the plugin (deliver resolved to anything but false). */
  delivered: number;
  /** Dropped on overflow, over the subscriber's lifetime (survives re-subscribe). */
  dropped: number;
}

/** `plugin.get`'s result: the status plus recent errors, schedules and event counts. */
export interface PluginDetails extends PluginStatus {
  recentErrors: RecentError[];
  schedules: ScheduleStatus[];
  events: EventCounts;
  /** A running MCP plugin: the protocol version its server answered and what it says it is; null otherwise. */
  mcp: { protocolVersion: string; serverInfo: { name?: string; version?: string } | null } | null;
}

/** The duration and reach of the last sampling pass over every plugin's process tree; null before the first. */
export type SamplingPass = { ms: number; plugins: number; processes: number } | null;

/** `status`'s result. */
export interface StatusResult {
  version: string;
  pid: number;
  uptimeMs: number;
  /** One per plugin, sorted by name. */
  plugins: PluginStatus[];
  sampling: SamplingPass;
}

/** One log line as parsed back from pino's JSON: fields sit at the top level (docs/control-api.md, "LogEntry"). Treat as read-only (shared). */
export interface LogEntry {
  time: string;
  level: LogLevelName;
  plugin?: string;
  msg: string;
  [field: string]: unknown;
}

/** `logs.tail`'s params and result. */
export interface LogsTailParams {
  name?: string;
  lines?: number;
  level?: LogLevelName;
  follow?: boolean;
}
export interface LogsTailResult {
  entries: LogEntry[];
}

/** `plugin.call`'s params. */
export interface PluginCallParams {
  name: string;
  method: string;
  /** The method's params: an object or an array; left out (or null), the plugin gets {}. */
  params?: unknown;
  timeoutMs?: number;
}

/** `events.publish`'s params and result. */
export interface EventsPublishParams {
  topic: string;
  data?: unknown;
}
export interface PublishResult {
  /** Subscribers the event was queued for. */
  delivered: number;
}

/** The params of the methods that act on one plugin (`plugin.get`, the actions, grant and revoke). */
export interface NameParams {
  name: string;
}

/** `daemon.reload`'s result. */
export interface ReloadResult {
  ok: boolean;
  /** Why the new config was refused: one line per problem (`config: <key path>: <reason>`). */
  error?: string;
  /** Applied, but with something the operator should know (keys that only take effect at the next start…); absent when none. */
  warnings?: string[];
}

/** One method of a plugin as `plugin.describe` gives it (docs/control-api.md, "plugin.describe"). */
export interface MethodDescription {
  name: string;
  description: string;
  /** The JSON Schema of its params from the manifest's `methods`; null when the manifest does not describe it. */
  params: unknown;
  result: unknown;
  examples: Array<{ name?: string; params: unknown; result?: unknown }>;
  /** Whether the running instance listed it in its handshake; null when the plugin is not running. */
  served: boolean | null;
}

/** `plugin.describe`'s result. */
export interface PluginDescription {
  name: string;
  version: string;
  description: string;
  state: PluginState;
  methods: MethodDescription[];
}

/** One tool of an MCP server as its `tools/list` gives it (a `"protocol": "mcp"` plugin's methods). */
export interface McpTool {
  name: string;
  description?: string;
  inputSchema?: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
}
