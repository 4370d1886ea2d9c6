import { describe, expect, test } from 'vitest';
import { closest, editDistance, knownKeysAt, lineColumn } from '../../src/config/issues.js';
import { configSchema } from '../../src/config/schema.js';
import { manifestSchema } from '../../src/manifest/schema.js';

describe('editDistance', () => {
  test.each([
    ['main', 'main', 0],
    ['intervalMS', 'intervalMs', 0], // letter case is free
    ['mian', 'main', 1], // a transposition is one edit
    ['samplng', 'sampling', 1],
    ['limitz', 'limits', 1],
    ['bytesPerSecond', 'bytesPerSec', 3],
    ['', 'abc', 3],
    ['kitten', 'sitting', 3],
  ])('%s → %s is %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});

describe('closest', () => {
  test('the nearest candidate within a third of the length', () => {
    expect(closest('intervalMS', ['intervalMs', 'cpuSamples'])).toBe('intervalMs');
    expect(closest('maxRestart', ['initialDelayMs', 'maxDelayMs', 'maxRestarts', 'windowMs'])).toBe('maxRestarts');
    expect(closest('fx', ['fs', 'env'])).toBe('fs');
  });

  test('nothing when no candidate is close', () => {
    expect(closest('chroot', ['require', 'user', 'tmpMb'])).toBeNull();
    expect(closest('exec', ['fs', 'network', 'childProcess', 'env'])).toBeNull();
    expect(closest('x', [])).toBeNull();
  });
});

describe('knownKeysAt', () => {
  test('walks defaults, preprocess, records and arrays down to an object', () => {
    expect(knownKeysAt(configSchema, [])).toContain('sampling');
    expect(knownKeysAt(configSchema, ['sampling'])).toEqual(['intervalMs', 'cpuSamples']);
    expect(knownKeysAt(configSchema, ['defaults', 'restart'])).toEqual(['initialDelayMs', 'maxDelayMs', 'maxRestarts', 'windowMs', 'standby']);
    expect(knownKeysAt(configSchema, ['plugins', 'any-name', 'limits'])).toEqual(['memoryMb', 'cpuPercent', 'handles', 'processes']);
    expect(knownKeysAt(manifestSchema, ['schedules', 0])).toEqual(['cron', 'method', 'params']);
    expect(knownKeysAt(manifestSchema, ['permissions', 'fs'])).toEqual(['read', 'write']);
  });

  test('nothing where there is no object', () => {
    expect(knownKeysAt(configSchema, ['pluginsDir'])).toEqual([]);
    expect(knownKeysAt(configSchema, ['nope', 'deeper'])).toEqual([]);
  });
});

test('lineColumn is 1-based', () => {
  expect(lineColumn('ab\ncd', 0)).toEqual({ line: 1, column: 1 });
  expect(lineColumn('ab\ncd', 2)).toEqual({ line: 1, column: 3 });
  expect(lineColumn('ab\ncd', 3)).toEqual({ line: 2, column: 1 });
  expect(lineColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
  expect(lineColumn('ab\ncd', 5)).toEqual({ line: 2, column: 3 }); // the end of the text
});
