import type { Limits } from '../config/types.js';
import type { Permissions, PluginKind } from '../manifest/types.js';

/** The plugin states (docs/control-api.md, "Plugin states"). */
export type PluginState =
  | 'waiting'
  | 'starting'
  | 'running'
  | 'stopping'
  | 'stopped'
  | 'backoff'
  | 'disabled'
  | 'invalid';

export type FailureKind = 'crash' | 'hang' | 'quota' | 'start' | 'reload' | 'call';

export interface LastError {
  time: string;
  kind: FailureKind;
  message: string;
}

export interface Usage {
  cpuPercent: number;
  memoryBytes: number;
  handles: number;
  processes: number;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

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

export interface RecentError {
  time: string;
  method: string;
  message: string;
  code?: number;
  stack?: string;
}
