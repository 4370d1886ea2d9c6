import { describe, expect, it } from 'vitest';
import { formatEntry, type LogEntry } from '../../src/logging/index.js';

const time = '2026-11-22T01:02:03.456Z';

describe('formatEntry', () => {
  it('prints time, padded level, plugin tag, message and fields', () => {
    const entry: LogEntry = { time, level: 'info', plugin: 'echo', pid: 42, restarts: 0, msg: 'hello', user: 'ann', n: 3, obj: { a: [1] } };
    expect(formatEntry(entry)).toBe(`${time} INFO  [echo] hello pid=42 user=ann n=3 obj={"a":[1]}`);
  });

  it('omits the tag for daemon entries and shows restarts once non-zero', () => {
    expect(formatEntry({ time, level: 'error', msg: 'boom' })).toBe(`${time} ERROR boom`);
    expect(formatEntry({ time, level: 'warn', plugin: 'p', pid: 1, restarts: 2, msg: 'm' })).toBe(`${time} WARN  [p] m pid=1 restarts=2`);
  });

  it('quotes strings that need it and keeps one line', () => {
    const line = formatEntry({ time, level: 'debug', msg: 'two\nlines', path: 'a b', eq: 'x=y', nul: null });
    expect(line).toBe(`${time} DEBUG two\\nlines path="a b" eq="x=y" nul=null`);
    expect(line).not.toContain('\n');
  });

  it('colors only when asked', () => {
    const entry: LogEntry = { time, level: 'warn', plugin: 'echo', msg: 'm', k: 1 };
    expect(formatEntry(entry)).not.toContain('\x1b[');
    const colored = formatEntry(entry, { color: true });
    expect(colored).toContain('\x1b[33mWARN ');
    expect(colored.replace(/\x1b\[[0-9;]*m/g, '')).toBe(formatEntry(entry));
  });
});
