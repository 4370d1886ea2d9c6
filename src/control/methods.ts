import { DAEMON_TOPIC_PREFIX, TOPIC_RE } from '../bus/topics.js';
import type { LogSystem } from '../logging/index.js';
import { isLevelName } from '../logging/index.js';
import {
  ErrorCodes,
  LOG_LEVELS,
  Method,
  Notification,
  RpcError,
  type EventsPublishParams,
  type LogEntry,
  type LogsTailParams,
  type LogsTailResult,
  type MethodName,
  type NameParams,
  type PluginActionName,
  type PluginCallParams,
  type PluginDescription,
  type PluginDetails,
  type PluginStatus,
  type PublishResult,
  type ReloadResult,
  type StatusResult,
} from '../protocol/index.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import type { ControlConnection } from './server.js';

/** `status` and `daemon.reload` take no params (`{}` or none). */
export type NoParams = Record<string, never>;

/**
 * The control socket's methods (docs/control-api.md, "Methods") with their params and results as they travel on the
 * wire. The daemon's handlers (`controlMethods`) and the CLI's client (`ControlClient.request`) are both typed by it,
 * so a result that drifts from its wire type is a compile error on both sides.
 */
export type ControlMethods = {
  [Method.Status]: (params?: NoParams) => StatusResult;
  [Method.PluginGet]: (params: NameParams) => PluginDetails;
  [Method.PluginStart]: (params: NameParams) => PluginStatus;
  [Method.PluginStop]: (params: NameParams) => PluginStatus;
  [Method.PluginRestart]: (params: NameParams) => PluginStatus;
  [Method.PluginEnable]: (params: NameParams) => PluginStatus;
  [Method.PluginDisable]: (params: NameParams) => PluginStatus;
  [Method.PluginGrant]: (params: NameParams) => PluginStatus;
  [Method.PluginRevoke]: (params: NameParams) => PluginStatus;
  /** The result is whatever the plugin's method answered. */
  [Method.PluginCall]: (params: PluginCallParams) => unknown;
  [Method.LogsTail]: (params?: LogsTailParams) => LogsTailResult;
  [Method.EventsPublish]: (params: EventsPublishParams) => PublishResult;
  [Method.DaemonReload]: (params?: NoParams) => ReloadResult;
  [Method.PluginDescribe]: (params: NameParams) => PluginDescription;
  /** An OpenRPC document (https://spec.open-rpc.org) of every plugin's methods that a call would reach. */
  [Method.RpcDiscover]: (params?: NoParams) => Record<string, unknown>;
};
export type ControlParams<M extends MethodName> = Parameters<ControlMethods[M]>[0];
export type ControlResult<M extends MethodName> = ReturnType<ControlMethods[M]>;

/**
 * The daemon's side of `ControlMethods`: one handler per method. Params arrive unchecked (`unknown`) and are
 * validated here; the result must be the method's wire type.
 */
export type ControlHandlers = {
  [M in MethodName]: (params: unknown, connection: ControlConnection) => ControlResult<M> | Promise<ControlResult<M>>;
};

/** What the control socket needs from the running daemon. */
export interface DaemonApi {
  version: string;
  startedAtMs: number;
  supervisor: Supervisor;
  logs: LogSystem;
  reload(): Promise<ReloadResult>;
}

const MAX_TAIL_LINES = 10_000;

/** The control socket's methods (docs/control-api.md, "Methods"). */
export function controlMethods(api: DaemonApi): ControlHandlers {
  const { supervisor, logs } = api;
  const pluginStatus = (name: string): PluginStatus => supervisor.get(name).status();
  /** An operator action on one plugin (start, stop, restart, enable, disable): `{name}` in, its status out. */
  const action =
    (which: PluginActionName) =>
    async (params: unknown): Promise<PluginStatus> => {
      const name = requireName(params);
      await supervisor.get(name)[which]();
      return pluginStatus(name);
    };
  return {
    [Method.Status]: () => ({
      version: api.version,
      pid: process.pid,
      uptimeMs: Date.now() - api.startedAtMs,
      plugins: supervisor.statuses(),
      // How long the last sampling pass took, over how many plugins and processes.
      sampling: supervisor.lastSamplingPass,
    }),
    [Method.PluginGet]: (params) => supervisor.details(requireName(params)),
    [Method.PluginDescribe]: (params) => supervisor.describe(requireName(params)),
    [Method.RpcDiscover]: () => supervisor.discover(api.version),
    [Method.EventsPublish]: (params) => {
      const p = asObject(params);
      const topic = requireString(p, 'topic');
      if (!TOPIC_RE.test(topic)) throw invalid(`params.topic: not a topic: ${JSON.stringify(topic)}`);
      if (topic.startsWith(DAEMON_TOPIC_PREFIX)) throw invalid(`params.topic: ${JSON.stringify(topic)} is the daemon's own (topics starting with "${DAEMON_TOPIC_PREFIX}")`);
      return supervisor.publish(topic, p.data ?? null);
    },
    [Method.PluginCall]: (params) => {
      const p = asObject(params);
      const name = requireName(p);
      const method = requireString(p, 'method');
      const timeoutMs = p.timeoutMs;
      if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs <= 0)) {
        throw invalid('params.timeoutMs: expected a positive integer (milliseconds)');
      }
      // JSON-RPC params, when present, are structured: a call without any (or with null) sends the plugin {}.
      return supervisor.get(name).call(method, p.params ?? {}, timeoutMs as number | undefined);
    },
    [Method.LogsTail]: (params, connection) => {
      const p = asObject(params ?? {});
      const name = p.name === undefined ? undefined : requireName(p);
      if (name !== undefined) supervisor.get(name); // unknown plugin → -32001
      const lines = p.lines ?? 100;
      if (typeof lines !== 'number' || !Number.isInteger(lines) || lines < 0) {
        throw invalid('params.lines: expected a whole number of lines');
      }
      if (p.level !== undefined && !isLevelName(p.level)) {
        throw invalid(`params.level: expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(p.level)}`);
      }
      if (p.follow !== undefined && typeof p.follow !== 'boolean') throw invalid('params.follow: expected true or false');
      const query = { ...(name ? { name } : {}), ...(p.level ? { level: p.level } : {}) };
      const entries: LogEntry[] = logs.tail({ ...query, lines: Math.min(lines, MAX_TAIL_LINES) });
      if (p.follow) {
        connection.afterResponse(() => {
          const unsubscribe = logs.follow(query, (entry) => connection.notify(Notification.LogsEntry, entry));
          connection.onClose(unsubscribe);
        });
      }
      return { entries };
    },
    [Method.DaemonReload]: () => api.reload(),
    [Method.PluginStart]: action('start'),
    [Method.PluginStop]: action('stop'),
    [Method.PluginRestart]: action('restart'),
    [Method.PluginEnable]: action('enable'),
    [Method.PluginDisable]: action('disable'),
    // The operator approves, or withdraws, what the plugin's manifest asks for now (docs/control-api.md, "plugin.grant and plugin.revoke").
    [Method.PluginGrant]: async (params) => {
      const name = requireName(params);
      await supervisor.grant(name);
      return pluginStatus(name);
    },
    [Method.PluginRevoke]: async (params) => {
      const name = requireName(params);
      await supervisor.revoke(name);
      return pluginStatus(name);
    },
  };
}

function invalid(message: string): RpcError {
  return new RpcError(ErrorCodes.InvalidParams, message);
}

function asObject(params: unknown): Record<string, unknown> {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw invalid('params: expected an object');
  }
  return params as Record<string, unknown>;
}

function requireString(params: Record<string, unknown>, key: string): string {
  const value = params[key];
  if (typeof value !== 'string' || value.length === 0) throw invalid(`params.${key}: expected a non-empty string`);
  return value;
}

function requireName(params: unknown): string {
  return requireString(asObject(params), 'name');
}
