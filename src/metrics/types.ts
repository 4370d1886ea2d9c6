// The metrics surface the supervisor talks to, and its no-op: importing these loads no prom-client,
// so a daemon without metrics.listen never pays for it (about 12 MB of RSS).
import type { EventOutcome } from '../bus/event-bus.js';
import type { LimitName } from '../quotas/types.js';
import type { CircuitState, PluginState, Usage } from '../protocol/index.js';

export type { EventOutcome, LimitName };

/** Why a scheduled run did not start (the scheduler's onSkip reasons). */
export type ScheduleSkipReason = 'overlap' | 'not-running';

/** What a usage sample tells the metrics: the wire's Usage shape. */
export type PluginUsageSample = Usage;

export interface PluginMetrics {
  /** Called on every plugin call: kept cheap (cached children, no allocation once warm). */
  recordCall(plugin: string, method: string, durationSeconds: number, ok: boolean): void;
  setState(plugin: string, state: PluginState): void;
  /** The restart count of the plugin's status; exported as a counter that never goes down. */
  setRestarts(plugin: string, restarts: number): void;
  /** One sample per sampling pass (its CPU is integrated into seconds); null when the plugin stops running. */
  setUsage(plugin: string, usage: PluginUsageSample | null): void;
  setCircuit(plugin: string, circuit: CircuitState): void;
  quotaStop(plugin: string, limit: string): void;
  /** From the event bus (its onOutcome): `count` events for the plugin delivered, or dropped and why. Kept cheap. */
  countEvents(plugin: string, outcome: EventOutcome, count: number): void;
  /** A scheduled run of the plugin started. */
  scheduleRun(plugin: string): void;
  /** A scheduled run of the plugin was skipped. */
  scheduleSkipped(plugin: string, reason: ScheduleSkipReason): void;
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
  countEvents: noop,
  scheduleRun: noop,
  scheduleSkipped: noop,
  forget: noop,
});
