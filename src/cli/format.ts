/** Text output for people: durations, the status table, one-line plugin states (log lines: logging/format.ts). */
import type { PluginStatus, StatusResult } from '../protocol/index.js';

/** `45s`, `3m12s`, `2h05m`, `3d04h`. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (total < 60) return `${total}s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes}m${pad(total % 60)}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h${pad(minutes % 60)}m`;
  return `${Math.floor(hours / 24)}d${pad(hours % 24)}h`;
}

/** `812K`, `43.2M`, `1.5G` (binary units, as the limits are). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'K', 'M', 'G', 'T'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1)}${units[unit]}`;
}

/** Uptime from an ISO `startedAt`, or `-` when there is none. */
export function formatUptime(startedAt: string | null | undefined, now = Date.now()): string {
  if (!startedAt) return '-';
  const started = Date.parse(startedAt);
  if (Number.isNaN(started)) return '-';
  return formatDuration(now - started);
}

/** Cuts a line to `width` display columns, marking the cut with `…`. */
export function truncate(line: string, width: number | undefined): string {
  if (width === undefined || width <= 0 || line.length <= width) return line;
  if (width === 1) return '…';
  return `${line.slice(0, width - 1)}…`;
}

/** Left-aligned columns separated by two spaces; trailing spaces trimmed. */
export function renderTable(header: string[], rows: string[][], maxWidth?: number): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    truncate(cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd(), maxWidth);
  return [line(header), ...rows.map(line)];
}

const dash = (v: unknown): string => (v === null || v === undefined || v === '' ? '-' : String(v));

/** The `warden status` text: a header line, then one aligned row per plugin. */
export function formatStatus(status: StatusResult, options: { width?: number; now?: number } = {}): string {
  const plugins = [...status.plugins].sort((a, b) => a.name.localeCompare(b.name));
  const running = plugins.filter((p) => p.state === 'running').length;
  const lines = [
    `warden ${status.version} · pid ${status.pid} · up ${formatDuration(status.uptimeMs)} · ` +
      `${plugins.length} plugin${plugins.length === 1 ? '' : 's'}, ${running} running`,
  ];
  if (plugins.length === 0) return `${lines[0]}\n`;
  const header = ['NAME', 'VERSION', 'KIND', 'STATE', 'PID', 'UPTIME', 'CPU', 'MEM', 'FDS', 'PROCS', 'RESTARTS', 'CIRCUIT', 'REASON'];
  const rows = plugins.map((p) => [
    p.name,
    dash(p.version),
    dash(p.kind),
    dash(p.state),
    dash(p.pid),
    formatUptime(p.startedAt, options.now),
    p.usage ? `${Math.round(p.usage.cpuPercent)}%` : '-',
    p.usage ? formatBytes(p.usage.memoryBytes) : '-',
    p.usage ? String(p.usage.handles) : '-',
    p.usage ? String(p.usage.processes) : '-',
    String(p.restarts ?? 0),
    dash(p.circuit),
    dash(p.reason).replace(/\s*\n\s*/g, ' '),
  ]);
  lines.push('', ...renderTable(header, rows, options.width));
  return `${lines.join('\n')}\n`;
}

/** `echo: running (pid 123)`, `feed: disabled — too many restarts`. */
export function formatPluginLine(p: PluginStatus): string {
  let line = `${p.name}: ${p.state}`;
  if (p.pid !== null && p.pid !== undefined) line += ` (pid ${p.pid})`;
  if (p.reason) line += ` — ${p.reason}`;
  return line;
}
