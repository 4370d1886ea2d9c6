import { isLevelName } from './levels.js';
import type { LogEntry } from './types.js';

/** Longest `msg` kept in memory (UTF-16 units); the file keeps the whole line. */
export const MAX_MSG_CHARS = 64 * 1024;

/**
 * Parse one pino line into an entry for the rings, or null when it is not one of ours.
 * `size` approximates the memory it holds, for the rings' byte budgets.
 */
export function parseEntry(line: string): { entry: LogEntry; size: number } | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const entry = value as Record<string, unknown>;
  if (!isLevelName(entry.level) || typeof entry.time !== 'string') return null;
  let size = line.length;
  if (typeof entry.msg !== 'string') entry.msg = entry.msg === undefined ? '' : String(entry.msg);
  const msg = entry.msg as string;
  if (msg.length > MAX_MSG_CHARS) {
    let end = MAX_MSG_CHARS;
    const last = msg.charCodeAt(end - 1);
    if (last >= 0xd800 && last <= 0xdbff) end--; // don't split a surrogate pair
    entry.msg = msg.slice(0, end);
    entry.truncated = true;
    size -= msg.length - end;
  }
  return { entry: entry as LogEntry, size };
}

/**
 * Keys pino writes itself. A field of the same name would produce a duplicate key, and JSON.parse
 * keeps the last one, letting a caller's field overwrite the real level or time — or, for a plugin,
 * its name and pid. Such fields are renamed with a leading underscore (`level` → `_level`).
 */
export const DAEMON_RESERVED: readonly string[] = ['level', 'time'];
export const PLUGIN_RESERVED: readonly string[] = ['level', 'time', 'plugin', 'pid', 'restarts'];

/** A pino `formatters.log` that renames reserved keys; allocates only when one is present. */
export function renameReserved(reserved: readonly string[]): (obj: Record<string, unknown>) => Record<string, unknown> {
  return (obj) => {
    let clash = false;
    for (const key of reserved) {
      if (Object.hasOwn(obj, key)) {
        clash = true;
        break;
      }
    }
    if (!clash) return obj;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(obj)) out[reserved.includes(key) ? '_' + key : key] = value;
    return out;
  };
}
