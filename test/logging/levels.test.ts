import { describe, expect, it } from 'vitest';
import { LEVELS, isLevelName, levelAtLeast } from '../../src/logging/index.js';

describe('levels', () => {
  it('orders trace..fatal', () => {
    expect(LEVELS).toEqual(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
    expect(levelAtLeast('warn', 'info')).toBe(true);
    expect(levelAtLeast('info', 'info')).toBe(true);
    expect(levelAtLeast('debug', 'info')).toBe(false);
  });

  it('recognises level names only', () => {
    expect(isLevelName('error')).toBe(true);
    expect(isLevelName('silent')).toBe(false);
    expect(isLevelName('toString')).toBe(false);
    expect(isLevelName(30)).toBe(false);
  });
});
