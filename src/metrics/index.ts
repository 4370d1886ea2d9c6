// Prometheus metrics for warden: per-plugin series plus the daemon's own process metrics.
export { noMetrics } from './types.js';
export {
  createPluginMetrics,
  CALL_DURATION_BUCKETS,
  CIRCUIT_VALUES,
  EVENT_DROP_REASONS,
  PLUGIN_STATES,
  SCHEDULE_SKIP_REASONS,
  type EventOutcome,
  type LimitName,
  type PluginMetrics,
  type PluginMetricsOptions,
  type PluginUsageSample,
  type ScheduleSkipReason,
} from './plugin-metrics.js';
export { serveMetrics, parseListen, type MetricsServer } from './server.js';
