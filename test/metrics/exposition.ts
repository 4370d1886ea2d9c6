// Helpers shared by the metrics tests: a parser for the Prometheus text format, and promtool.
import { spawnSync } from 'node:child_process';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface Scrape {
  help: Map<string, string>;
  type: Map<string, string>;
  samples: Sample[];
}

/** Minimal parser for the Prometheus text format (enough for what prom-client emits). */
export function parseExposition(text: string): Scrape {
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (m) {
      (m[1] === 'HELP' ? help : type).set(m[2]!, m[3]!);
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]!] = l[2]!;
    }
    const raw = m[3]!;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    samples.push({ name: m[1]!, labels, value });
  }
  return { help, type, samples };
}

/** The warden_plugin_* families and their types: the names operators' dashboards and alerts use. */
export const FAMILIES: Record<string, string> = {
  warden_plugin_state: 'gauge',
  warden_plugin_memory_bytes: 'gauge',
  warden_plugin_handles: 'gauge',
  warden_plugin_processes: 'gauge',
  warden_plugin_circuit_state: 'gauge',
  warden_plugin_restarts_total: 'counter',
  warden_plugin_cpu_seconds_total: 'counter',
  warden_plugin_calls_total: 'counter',
  warden_plugin_call_failures_total: 'counter',
  warden_plugin_call_duration_seconds: 'histogram',
  warden_plugin_quota_stops_total: 'counter',
  warden_plugin_events_delivered_total: 'counter',
  warden_plugin_events_dropped_total: 'counter',
  warden_plugin_schedule_runs_total: 'counter',
  warden_plugin_schedule_skipped_total: 'counter',
};

/** Some of the daemon's own process metrics, under prom-client's standard names (no prefix). */
export const PROCESS_FAMILIES: Record<string, string> = {
  process_cpu_seconds_total: 'counter',
  process_cpu_user_seconds_total: 'counter',
  process_resident_memory_bytes: 'gauge',
  process_start_time_seconds: 'gauge',
  process_open_fds: 'gauge',
  nodejs_heap_size_used_bytes: 'gauge',
  nodejs_eventloop_lag_seconds: 'gauge',
  nodejs_version_info: 'gauge',
  nodejs_gc_duration_seconds: 'histogram',
};

/** Names removed for following no convention: they must not come back. */
export const RETIRED = [
  'warden_plugin_restarts',
  'warden_plugin_cpu_percent',
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** Why a promtool test cannot run here, or null when promtool is installed. */
export function promtoolMissing(): string | null {
  const probe = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  if (!probe.error) return null;
  return `promtool is not installed (${probe.error.message}); Debian's package "prometheus" provides it, and .ci/run installs it`;
}

/** `promtool check metrics` on `text` (stdin): its exit status and everything it said. */
export function promtoolCheck(text: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  if (run.error) throw run.error;
  return { status: run.status, output: `${run.stdout}${run.stderr}`.trim() };
}
