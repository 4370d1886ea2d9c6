import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import type { LimitName } from '../quotas/types.js';
import { PLUGIN_STATES, type CircuitState } from '../protocol/index.js';
import type { EventOutcome, PluginMetrics, PluginUsageSample, ScheduleSkipReason } from './types.js';

export type { EventOutcome, LimitName, PluginMetrics, PluginUsageSample, ScheduleSkipReason };

// Every state gets its 0 series (PluginState is derived from this list, so none can be missing).
export { PLUGIN_STATES };

type DropReason = Exclude<EventOutcome, 'delivered'>;
// The `satisfies` makes the compiler fail here when a reason is added and not listed: every reason gets its
// 0 series, so increase() sees the first drop.
const DROP_FLAGS = { overflow: true, 'not-running': true, error: true } as const satisfies Record<DropReason, true>;
export const EVENT_DROP_REASONS = Object.keys(DROP_FLAGS) as DropReason[];
const SKIP_FLAGS = { overlap: true, 'not-running': true } as const satisfies Record<ScheduleSkipReason, true>;
export const SCHEDULE_SKIP_REASONS = Object.keys(SKIP_FLAGS) as ScheduleSkipReason[];

const LIMIT_NAMES: readonly LimitName[] = ['memoryMb', 'cpuPercent', 'handles', 'processes'];

export const CIRCUIT_VALUES: Readonly<Record<CircuitState, number>> = {
  closed: 0,
  'half-open': 1,
  open: 2,
};

/** From a fast in-process handler (~50 µs) to the default call timeout range (30 s). */
export const CALL_DURATION_BUCKETS: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
  2.5, 5, 10, 30,
];
const BOUNDS = Float64Array.from(CALL_DURATION_BUCKETS);
const NBOUNDS = BOUNDS.length;

/**
 * Running totals of one (plugin, method). The hot path only bumps these numbers; prom-client's
 * labelled inc()/observe() cost ~0.4 µs and ~0.8 µs each here (they rebuild a label hash per call),
 * so the call metrics are materialised from the cells at scrape time instead.
 */
interface CallCell {
  readonly method: string;
  calls: number;
  failures: number;
  sum: number;
  /** Non-cumulative count per bucket; the last slot is +Inf. */
  readonly buckets: Float64Array;
}

/**
 * Everything we hold for one plugin, so forget() can remove exactly its series. The counters here
 * live as long as the plugin is supervised: a restart of its process never lowers them.
 */
interface PluginSeries {
  readonly cells: Map<string, CallCell>;
  readonly limits: Set<string>;
  /** Restarts counted, and the status's count last reported (a lower one means that count began anew). */
  restarts: number;
  restartsSeen: number;
  /** CPU seconds of the process tree, integrated from the per-pass CPU % samples. */
  cpuSeconds: number;
  /** now() at the last usage sample while running; null before the first one and after a stop. */
  usageAt: number | null;
  delivered: number;
  readonly dropped: Record<DropReason, number>;
  runs: number;
  readonly skipped: Record<ScheduleSkipReason, number>;
}

export interface PluginMetricsOptions {
  /** Monotonic milliseconds (default performance.now); tests pass their own. */
  now?: () => number;
}

export function createPluginMetrics(options: PluginMetricsOptions = {}): { metrics: PluginMetrics; registry: Registry } {
  const now = options.now ?? (() => performance.now());
  // A dedicated registry: tests and several daemons in one process must not share series.
  const registry = new Registry();
  // The daemon's own process under the standard names (process_*, nodejs_*) that stock dashboards use.
  collectDefaultMetrics({ register: registry });
  // Except prom-client's gauges named *_total (nodejs_active_handles_total, _requests_total,
  // _resources_total): that suffix is for counters, and promtool rejects them. Each equals the sum
  // of the labelled gauge without the suffix, e.g. sum(nodejs_active_handles).
  for (const m of registry.getMetricsAsArray()) {
    if (m.name.endsWith('_total') && !((m as unknown) instanceof Counter)) registry.removeSingleMetric(m.name);
  }

  const registers = [registry];
  const state = new Gauge({
    name: 'warden_plugin_state',
    help: 'Plugin lifecycle state: 1 for the current state, 0 for the others.',
    labelNames: ['plugin', 'state'] as const,
    registers,
  });
  const memory = new Gauge({
    name: 'warden_plugin_memory_bytes',
    help: 'Resident memory of the plugin process tree, in bytes (absent when not running).',
    labelNames: ['plugin'] as const,
    registers,
  });
  const handles = new Gauge({
    name: 'warden_plugin_handles',
    help: 'Open file handles of the plugin process tree (absent when not running).',
    labelNames: ['plugin'] as const,
    registers,
  });
  const processes = new Gauge({
    name: 'warden_plugin_processes',
    help: 'Processes in the plugin process tree (absent when not running).',
    labelNames: ['plugin'] as const,
    registers,
  });
  // Call cells and counters by plugin; also the bookkeeping forget() relies on.
  const plugins = new Map<string, PluginSeries>();

  /**
   * A counter rebuilt from the series on each scrape (reset + absolute values: a forgotten plugin's
   * series go with it). Registered on construction; nothing else holds it.
   */
  function seriesCounter(
    name: string,
    help: string,
    labelNames: string[],
    read: (plugin: string, s: PluginSeries) => Array<[Record<string, string>, number]>,
  ): void {
    new Counter({
      name,
      help,
      labelNames: ['plugin', ...labelNames],
      registers,
      collect() {
        this.reset();
        for (const [plugin, s] of plugins) for (const [labels, value] of read(plugin, s)) this.inc(labels, value);
      },
    });
  }

  seriesCounter('warden_plugin_restarts_total', 'Restarts of the plugin while supervised.', [], (plugin, s) => [
    [{ plugin }, s.restarts],
  ]);
  seriesCounter(
    'warden_plugin_cpu_seconds_total',
    'CPU time (user + system) of the plugin process tree, in seconds, as sampled every sampling.intervalMs.',
    [],
    (plugin, s) => [[{ plugin }, s.cpuSeconds]],
  );
  seriesCounter('warden_plugin_calls_total', "Calls to the plugin, by method ('other' for methods it did not declare).", ['method'], (plugin, s) =>
    [...s.cells.values()].map((c) => [{ plugin, method: c.method }, c.calls]),
  );
  seriesCounter('warden_plugin_call_failures_total', 'Calls to the plugin that did not succeed, by method.', ['method'], (plugin, s) =>
    [...s.cells.values()].map((c) => [{ plugin, method: c.method }, c.failures]),
  );
  registry.registerMetric(callDurationHistogram(plugins));
  seriesCounter('warden_plugin_events_delivered_total', 'Events handed to the plugin.', [], (plugin, s) => [
    [{ plugin }, s.delivered],
  ]);
  seriesCounter(
    'warden_plugin_events_dropped_total',
    'Events for the plugin that it never got, by reason: overflow (its queue was full), not-running, error.',
    ['reason'],
    (plugin, s) => EVENT_DROP_REASONS.map((reason) => [{ plugin, reason }, s.dropped[reason]]),
  );
  seriesCounter('warden_plugin_schedule_runs_total', 'Scheduled runs of the plugin started.', [], (plugin, s) => [
    [{ plugin }, s.runs],
  ]);
  seriesCounter(
    'warden_plugin_schedule_skipped_total',
    'Scheduled runs of the plugin skipped, by reason: overlap (the previous run was still going), not-running.',
    ['reason'],
    (plugin, s) => SCHEDULE_SKIP_REASONS.map((reason) => [{ plugin, reason }, s.skipped[reason]]),
  );

  const circuit = new Gauge({
    name: 'warden_plugin_circuit_state',
    help: 'Circuit breaker state of the plugin: 0 closed, 1 half-open, 2 open.',
    labelNames: ['plugin'] as const,
    registers,
  });
  const quotaStops = new Counter({
    name: 'warden_plugin_quota_stops_total',
    help: 'Times the plugin was stopped for exceeding a limit, by limit.',
    labelNames: ['plugin', 'limit'] as const,
    registers,
  });

  function series(plugin: string): PluginSeries {
    let s = plugins.get(plugin);
    if (s === undefined) {
      s = {
        cells: new Map(),
        limits: new Set(),
        restarts: 0,
        restartsSeen: 0,
        cpuSeconds: 0,
        usageAt: null,
        delivered: 0,
        dropped: { overflow: 0, 'not-running': 0, error: 0 },
        runs: 0,
        skipped: { overlap: 0, 'not-running': 0 },
      };
      plugins.set(plugin, s);
      // Zero the quota counters up front so increase()/rate() see the first stop.
      for (const limit of LIMIT_NAMES) {
        s.limits.add(limit);
        quotaStops.labels(plugin, limit).inc(0);
      }
    }
    return s;
  }

  function newCell(plugin: string, method: string): CallCell {
    const s = series(plugin);
    const c: CallCell = { method, calls: 0, failures: 0, sum: 0, buckets: new Float64Array(NBOUNDS + 1) };
    s.cells.set(method, c);
    return c;
  }

  /** A usable sample figure: prom-client throws on non-numbers, and a bad sample must not break the supervisor. */
  function usable(value: number): boolean {
    return typeof value === 'number' && value >= 0 && value < Infinity;
  }

  function setGauge(g: Gauge<'plugin'>, plugin: string, value: number): void {
    if (usable(value)) g.set({ plugin }, value);
  }

  const metrics: PluginMetrics = {
    recordCall(plugin, method, durationSeconds, ok) {
      // Nested maps: no "plugin\0method" key string to build per call.
      const c = plugins.get(plugin)?.cells.get(method) ?? newCell(plugin, method);
      c.calls++;
      if (!ok) c.failures++;
      // A NaN/negative/infinite duration (a bug upstream) must not poison the sum; count it as 0.
      const d = durationSeconds >= 0 && durationSeconds < Infinity ? durationSeconds : 0;
      c.sum += d;
      let i = 0;
      while (i < NBOUNDS && d > BOUNDS[i]!) i++;
      c.buckets[i]!++;
    },

    setState(plugin, current) {
      series(plugin);
      for (const s of PLUGIN_STATES) state.set({ plugin, state: s }, s === current ? 1 : 0);
    },

    setRestarts(plugin, n) {
      const s = series(plugin);
      if (!usable(n)) return;
      // The status count only grows for one ManagedPlugin; a lower one is a new count from 0.
      s.restarts += n >= s.restartsSeen ? n - s.restartsSeen : n;
      s.restartsSeen = n;
    },

    setUsage(plugin, usage) {
      const s = series(plugin);
      if (usage === null) {
        // Stopped: the CPU total stays (a counter), the next run's first sample starts a new interval.
        s.usageAt = null;
        memory.remove({ plugin });
        handles.remove({ plugin });
        processes.remove({ plugin });
        return;
      }
      // The sampler's CPU % is the tree's average since its previous pass over the plugin (0 on the
      // first reading of a process), so % x the time since the previous sample is the CPU time used.
      const at = now();
      if (s.usageAt !== null && usable(usage.cpuPercent) && at > s.usageAt) {
        s.cpuSeconds += (usage.cpuPercent / 100) * ((at - s.usageAt) / 1000);
      }
      s.usageAt = at;
      setGauge(memory, plugin, usage.memoryBytes);
      setGauge(handles, plugin, usage.handles);
      setGauge(processes, plugin, usage.processes);
    },

    setCircuit(plugin, c) {
      series(plugin);
      circuit.set({ plugin }, CIRCUIT_VALUES[c] ?? 0);
    },

    quotaStop(plugin, limit) {
      series(plugin).limits.add(limit);
      quotaStops.inc({ plugin, limit });
    },

    countEvents(plugin, outcome, count) {
      const s = series(plugin);
      if (!usable(count)) return;
      if (outcome === 'delivered') s.delivered += count;
      else if (s.dropped[outcome] !== undefined) s.dropped[outcome] += count;
    },

    scheduleRun(plugin) {
      series(plugin).runs++;
    },

    scheduleSkipped(plugin, reason) {
      const s = series(plugin);
      if (s.skipped[reason] !== undefined) s.skipped[reason]++;
    },

    forget(plugin) {
      const s = plugins.get(plugin);
      plugins.delete(plugin);
      // Scrape-time counters vanish with the series; prom-client's remove() needs full label sets for the rest.
      for (const st of PLUGIN_STATES) state.remove({ plugin, state: st });
      for (const g of [memory, handles, processes, circuit]) g.remove({ plugin });
      if (s === undefined) return;
      for (const limit of s.limits) quotaStops.remove({ plugin, limit });
    },
  };

  return { metrics, registry };
}

/**
 * warden_plugin_call_duration_seconds as a collector over the cells. prom-client has no public way
 * to load bucket counts into its Histogram, so this object yields the same value shape its
 * Histogram.get() does and the registry formats it like any other histogram.
 */
function callDurationHistogram(plugins: Map<string, PluginSeries>): Metric {
  const name = 'warden_plugin_call_duration_seconds';
  const metric = {
    name,
    help: 'Duration of calls to the plugin, in seconds, by method.',
    type: 'histogram',
    aggregator: 'sum',
    labelNames: ['plugin', 'method'],
    async get() {
      const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
      for (const [plugin, s] of plugins) {
        for (const c of s.cells.values()) {
          let acc = 0;
          for (let i = 0; i < NBOUNDS; i++) {
            acc += c.buckets[i]!;
            values.push({ labels: { plugin, method: c.method, le: BOUNDS[i]! }, value: acc, metricName: `${name}_bucket` });
          }
          values.push({ labels: { plugin, method: c.method, le: '+Inf' }, value: c.calls, metricName: `${name}_bucket` });
          values.push({ labels: { plugin, method: c.method }, value: c.sum, metricName: `${name}_sum` });
          values.push({ labels: { plugin, method: c.method }, value: c.calls, metricName: `${name}_count` });
        }
      }
      return { name, help: metric.help, type: metric.type, aggregator: metric.aggregator, values };
    },
    reset() {
      // Series follow the plugins' cells; nothing to reset here.
    },
  };
  return metric as unknown as Metric;
}
