import type { LogEntry, LogSystem } from '../logging/index.js';
import { isLevelName } from '../logging/index.js';
import { ErrorCodes, RpcError } from '../host/rpc-error.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import type { ControlMethod } from './server.js';
import { Method, Notification, PluginAction, type ReloadResult } from './protocol.js';

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
export function controlMethods(api: DaemonApi): Record<string, ControlMethod> {
  const { supervisor, logs } = api;
  const pluginStatus = (name: string) => supervisor.get(name).status();
  const methods: Record<string, ControlMethod> = {
    [Method.Status]: () => ({
      version: api.version,
      pid: process.pid,
      uptimeMs: Date.now() - api.startedAtMs,
      plugins: supervisor.statuses(),
      // How long the last sampling pass took, over how many plugins and processes.
      sampling: supervisor.lastSamplingPass,
    }),
    [Method.PluginGet]: (params) => supervisor.details(requireName(params)),
    [Method.EventsPublish]: (params) => {
      const p = asObject(params);
      const topic = requireString(p, 'topic');
      if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(topic)) throw invalid(`params.topic: not a topic: ${JSON.stringify(topic)}`);
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
        throw invalid(`params.level: expected one of trace, debug, info, warn, error, fatal, got ${JSON.stringify(p.level)}`);
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
  for (const [action, method] of Object.entries(PluginAction)) {
    methods[method] = async (params) => {
      const name = requireName(params);
      await supervisor.get(name)[action as keyof typeof PluginAction]();
      return pluginStatus(name);
    };
  }
  return methods;
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
