// Prometheus metrics for warden: per-plugin series plus the daemon's own process metrics.
export { noMetrics } from './types.js';
export {
  createPluginMetrics,
  CALL_DURATION_BUCKETS,
  CIRCUIT_VALUES,
  PLUGIN_STATES,
  type LimitName,
  type PluginMetrics,
  type PluginUsageSample,
} from './plugin-metrics.js';
export { serveMetrics, parseListen, type MetricsServer } from './server.js';
