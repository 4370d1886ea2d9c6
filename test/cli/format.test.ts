import { describe, expect, it } from 'vitest';
import { formatDuration, formatPluginLine, formatStatus, formatUptime, renderTable, formatBytes } from '../../src/cli/format.js';
import { PLUGINS, STATUS, pluginStatus } from './helpers/fixtures.js';

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [-5, '0s'],
    [59_999, '59s'],
    [60_000, '1m00s'],
    [192_000, '3m12s'],
    [3_599_000, '59m59s'],
    [3_600_000, '1h00m'],
    [7_500_000, '2h05m'],
    [90_000_000, '1d01h'],
  ])('%d ms → %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});

describe('formatBytes', () => {
  it('uses binary units with one decimal below 100', () => {
    expect(formatBytes(512)).toBe('512B');
    expect(formatBytes(1536)).toBe('1.5K');
    expect(formatBytes(130 * 1048576)).toBe('130M');
    expect(formatBytes(1.5 * 1024 ** 3)).toBe('1.5G');
  });
});

describe('formatUptime', () => {
  it('counts from startedAt, or shows -', () => {
    const now = Date.parse('2025-01-01T01:00:00Z');
    expect(formatUptime('2025-01-01T00:56:48Z', now)).toBe('3m12s');
    expect(formatUptime(null, now)).toBe('-');
    expect(formatUptime('garbage', now)).toBe('-');
  });
});

describe('renderTable', () => {
  it('aligns columns and truncates lines to a width', () => {
    const lines = renderTable(['A', 'BB'], [['long-value', 'x'], ['y', 'a reason that is long']], 20);
    expect(lines).toEqual(['A           BB', 'long-value  x', 'y           a reaso…']);
  });
});

describe('formatStatus', () => {
  it('cuts long reasons to the terminal width when one is given', () => {
    const text = formatStatus(STATUS, { width: 80 });
    for (const line of text.split('\n').slice(2)) expect(line.length).toBeLessThanOrEqual(80);
    expect(text).toContain('…');
    expect(formatStatus(STATUS)).toContain('past any narrow terminal');
  });

  it('says so when there are no plugins', () => {
    expect(formatStatus({ ...STATUS, plugins: [] })).toBe('warden 1.0.0 · pid 999 · up 2h05m · 0 plugins, 0 running\n');
  });

  it('sorts plugins by name', () => {
    const rows = formatStatus(STATUS).split('\n').slice(3, 6).map((l) => l.split(' ')[0]);
    expect(rows).toEqual(['broken', 'echo', 'feed-reader']);
    expect(PLUGINS.map((p) => p.name)).toEqual(['echo', 'feed-reader', 'broken']); // untouched
  });
});

describe('formatPluginLine', () => {
  it('names the state, the pid and the reason', () => {
    expect(formatPluginLine(pluginStatus({ pid: 123 }))).toBe('echo: running (pid 123)');
    expect(formatPluginLine(pluginStatus({ state: 'disabled', pid: null, reason: 'too many restarts' }))).toBe(
      'echo: disabled — too many restarts',
    );
  });
});
