import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import type { LimitName } from '../quotas/types.js';
import type { CircuitState, PluginState } from '../supervisor/types.js';
import type { PluginMetrics, PluginUsageSample } from './types.js';

export type { LimitName, PluginMetrics, PluginUsageSample };

// The `satisfies` makes the compiler fail here when a state is added to PluginState
// and not to this list (it would otherwise never get its 0 series).
const STATE_FLAGS = {
  waiting: true,
  starting: true,
  running: true,
  stopping: true,
  stopped: true,
  backoff: true,
  disabled: true,
  invalid: true,
} as const satisfies Record<PluginState, true>;
export const PLUGIN_STATES = Object.keys(STATE_FLAGS) as PluginState[];

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

/** Everything we hold for one plugin, so forget() can remove exactly its series. */
interface PluginSeries {
  readonly cells: Map<string, CallCell>;
  readonly limits: Set<string>;
}

export function createPluginMetrics(): { metrics: PluginMetrics; registry: Registry } {
  // A dedicated registry: tests and several daemons in one process must not share series.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'warden_daemon_' });

  const registers = [registry];
  const state = new Gauge({
    name: 'warden_plugin_state',
    help: 'Plugin lifecycle state: 1 for the current state, 0 for the others.',
    labelNames: ['plugin', 'state'] as const,
    registers,
  });
  const restarts = new Gauge({
    name: 'warden_plugin_restarts',
    help: 'Restarts of the plugin, as counted in its status.',
    labelNames: ['plugin'] as const,
    registers,
  });
  const cpu = new Gauge({
    name: 'warden_plugin_cpu_percent',
    help: 'CPU use of the plugin process tree, in percent of one core (absent when not running).',
    labelNames: ['plugin'] as const,
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
  // Call cells by plugin, then method; also the bookkeeping forget() relies on.
  const plugins = new Map<string, PluginSeries>();

  // Counters rebuilt from the cells on each scrape (reset + absolute values: a forgotten plugin's
  // cells are gone, so its series go with them).
  // Registered on construction; nothing else holds them.
  new Counter({
    name: 'warden_plugin_calls_total',
    help: "Calls to the plugin, by method ('other' for methods it did not declare).",
    labelNames: ['plugin', 'method'] as const,
    registers,
    collect() {
      this.reset();
      for (const [plugin, s] of plugins) {
        for (const c of s.cells.values()) this.inc({ plugin, method: c.method }, c.calls);
      }
    },
  });
  new Counter({
    name: 'warden_plugin_call_failures_total',
    help: 'Calls to the plugin that did not succeed, by method.',
    labelNames: ['plugin', 'method'] as const,
    registers,
    collect() {
      this.reset();
      for (const [plugin, s] of plugins) {
        for (const c of s.cells.values()) this.inc({ plugin, method: c.method }, c.failures);
      }
    },
  });
  registry.registerMetric(callDurationHistogram(plugins));

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
      s = { cells: new Map(), limits: new Set() };
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

  function setGauge(g: Gauge<'plugin'>, plugin: string, value: number): void {
    // prom-client throws on non-numbers; a bad sample must not break the supervisor.
    if (typeof value === 'number') g.set({ plugin }, value);
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
      series(plugin);
      setGauge(restarts, plugin, n);
    },

    setUsage(plugin, usage) {
      series(plugin);
      if (usage === null) {
        cpu.remove({ plugin });
        memory.remove({ plugin });
        handles.remove({ plugin });
        processes.remove({ plugin });
        return;
      }
      setGauge(cpu, plugin, usage.cpuPercent);
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

    forget(plugin) {
      const s = plugins.get(plugin);
      plugins.delete(plugin);
      // Call metrics vanish with the cells; prom-client's remove() needs full label sets for the rest.
      for (const st of PLUGIN_STATES) state.remove({ plugin, state: st });
      for (const g of [restarts, cpu, memory, handles, processes, circuit]) g.remove({ plugin });
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



