/**
 * The control socket's vocabulary (docs/control-api.md): method names, notification names and error codes,
 * shared by the daemon's server and the CLI's client.
 */

/** Methods a client may call on the control socket. */
export const Method = {
  Status: 'status',
  PluginGet: 'plugin.get',
  PluginStart: 'plugin.start',
  PluginStop: 'plugin.stop',
  PluginRestart: 'plugin.restart',
  PluginEnable: 'plugin.enable',
  PluginDisable: 'plugin.disable',
  PluginGrant: 'plugin.grant',
  PluginRevoke: 'plugin.revoke',
  PluginCall: 'plugin.call',
  LogsTail: 'logs.tail',
  EventsPublish: 'events.publish',
  DaemonReload: 'daemon.reload',
} as const;
export type MethodName = (typeof Method)[keyof typeof Method];

/** Notifications the daemon sends to a client. */
export const Notification = {
  /** One log entry, after a `logs.tail` with `follow: true`; params are the `LogEntry`. */
  LogsEntry: 'logs.entry',
} as const;
export type NotificationName = (typeof Notification)[keyof typeof Notification];

/** The operator actions that take `{name}` and answer a `PluginStatus`. */
export const PluginAction = {
  start: Method.PluginStart,
  stop: Method.PluginStop,
  restart: Method.PluginRestart,
  enable: Method.PluginEnable,
  disable: Method.PluginDisable,
} as const;
export type PluginActionName = keyof typeof PluginAction;

/**
 * The operator's word on what a plugin's manifest asks for now (docs/control-api.md, "plugin.grant and plugin.revoke"): approve it, or withdraw the
 * approval. They take `{name}` and answer a `PluginStatus`, like the actions above, but act on the supervisor.
 */
export const PermissionAction = {
  grant: Method.PluginGrant,
  revoke: Method.PluginRevoke,
} as const;
export type PermissionActionName = keyof typeof PermissionAction;

/** JSON-RPC 2.0's own error codes. */
export const JsonRpcErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
} as const;

/** warden's error codes (docs/control-api.md, "Error codes"), used on the control socket and in plugin calls. */
export const ErrorCode = {
  UnknownPlugin: -32001,
  /** Also answered while the plugin is `waiting` or in `backoff`. */
  NotRunning: -32002,
  CircuitOpen: -32003,
  CallTimeout: -32004,
  PermissionDenied: -32005,
  PluginExited: -32006,
  /** e.g. `start` of an `invalid` plugin. */
  NotAllowedInState: -32007,
} as const;
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode] | (typeof JsonRpcErrorCode)[keyof typeof JsonRpcErrorCode];

/** Log level names, lowest first (a `level` filter means "this level and above": docs/control-api.md, "logs.tail and logs.entry"). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

/** `daemon.reload`'s result. */
export interface ReloadResult {
  ok: boolean;
  /** Why the new config was refused: one line per problem (`config: <key path>: <reason>`). */
  error?: string;
  /** Applied, but with something the operator should know (keys that only take effect at the next start…); absent when none. */
  warnings?: string[];
}

/** `status`'s result; `plugins` holds `PluginStatus` objects. */
export interface StatusResult<P = unknown> {
  version: string;
  pid: number;
  uptimeMs: number;
  plugins: P[];
}

/** `logs.tail`'s params and result. */
export interface LogsTailParams {
  name?: string;
  lines?: number;
  level?: (typeof LOG_LEVELS)[number];
  follow?: boolean;
}
export interface LogsTailResult<E = Record<string, unknown>> {
  entries: E[];
}

/** `plugin.call`'s params. */
export interface PluginCallParams {
  name: string;
  method: string;
  /** The method's params: an object or an array; left out (or null), the plugin gets {}. */
  params?: unknown;
  timeoutMs?: number;
}
