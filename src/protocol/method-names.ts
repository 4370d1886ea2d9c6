/**
 * The control socket's method and notification names (docs/control-api.md, "Methods"), shared by the daemon's
 * server and the CLI's client. Their params and results: src/control/methods.ts (`ControlMethods`).
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
  PluginDescribe: 'plugin.describe',
  RpcDiscover: 'rpc.discover',
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

/** Method names a plugin may not serve: `warden.*` is the plugin protocol's own, `rpc.*` JSON-RPC's (rpc.discover). */
export const RESERVED_METHOD_PREFIXES = Object.freeze(['warden.', 'rpc.'] as const);
/** The prefixes as a message names them: `"warden." or "rpc."`. */
export const RESERVED_METHOD_PREFIXES_TEXT = RESERVED_METHOD_PREFIXES.map((p) => `"${p}"`).join(' or ');

/** Whether a plugin (its manifest's `methods`, an MCP server's tools) may not use this name. */
export function isReservedMethod(name: string): boolean {
  return RESERVED_METHOD_PREFIXES.some((prefix) => name.startsWith(prefix));
}
