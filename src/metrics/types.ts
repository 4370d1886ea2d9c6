// The metrics surface the supervisor talks to, and its no-op: importing these loads no prom-client,
// so a daemon without metrics.listen never pays for it (about 12 MB of RSS).
import type { LimitName } from '../quotas/types.js';
import type { CircuitState, PluginState } from '../supervisor/types.js';

export type { LimitName };

export interface PluginUsageSample {
  cpuPercent: number;
  memoryBytes: number;
  handles: number;
  processes: number;
}

export interface PluginMetrics {
  /** Called on every plugin call: kept cheap (cached children, no allocation once warm). */
  recordCall(plugin: string, method: string, durationSeconds: number, ok: boolean): void;
  setState(plugin: string, state: PluginState): void;
  setRestarts(plugin: string, restarts: number): void;
  setUsage(plugin: string, usage: PluginUsageSample | null): void;
  setCircuit(plugin: string, circuit: CircuitState): void;
  quotaStop(plugin: string, limit: string): void;
  forget(plugin: string): void;
}

const noop = (): void => {};

/** A no-op PluginMetrics for when metrics.listen is null, so callers need no ifs and pay nothing. */
export const noMetrics: PluginMetrics = Object.freeze({
  recordCall: noop,
  setState: noop,
  setRestarts: noop,
  setUsage: noop,
  setCircuit: noop,
  quotaStop: noop,
  forget: noop,
});
