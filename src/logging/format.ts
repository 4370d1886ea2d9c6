import type { LogLevelName } from '../protocol/index.js';
import type { LogEntry } from './types.js';

const LEVEL_COLORS: Record<LogLevelName, string> = {
  trace: '\x1b[90m', // grey
  debug: '\x1b[36m', // cyan
  info: '\x1b[32m', // green
  warn: '\x1b[33m', // yellow
  error: '\x1b[31m', // red
  fatal: '\x1b[41m\x1b[97m', // white on red
};
const DIM = '\x1b[2m';
const BOLD = '\x1b[1m';
const RESET = '\x1b[0m';

/** Shown in their own columns. */
const SHOWN = new Set(['time', 'level', 'plugin', 'msg']);

/**
 * One readable line for `warden logs`:
 * `2026-11-22T01:02:03.456Z INFO  [echo] message pid=42 key=value obj={"a":1}`.
 * Strings print bare unless they need quoting; other values print as JSON. Newlines are escaped.
 */
export function formatEntry(entry: LogEntry, options: { color?: boolean } = {}): string {
  const color = options.color === true;
  const paint = (code: string, text: string): string => (color ? code + text + RESET : text);
  const level = String(entry.level ?? '').toUpperCase().padEnd(5);
  let out = paint(DIM, String(entry.time ?? '')) + ' ' + paint(LEVEL_COLORS[entry.level] ?? '', level);
  if (typeof entry.plugin === 'string') out += ' ' + paint(BOLD, `[${entry.plugin}]`);
  out += ' ' + oneLine(String(entry.msg ?? ''));
  for (const key of Object.keys(entry)) {
    if (SHOWN.has(key)) continue;
    const value = entry[key];
    // `restarts=0` is noise on every plugin line; it only says something once a plugin has restarted.
    if (value === undefined || (key === 'restarts' && value === 0)) continue;
    out += ' ' + paint(DIM, key + '=') + formatValue(value);
  }
  return out;
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=\\\x00-\x1f]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

function oneLine(text: string): string {
  return /[\r\n]/.test(text) ? text.replace(/\r/g, '\\r').replace(/\n/g, '\\n') : text;
}
