import { describe, expect, test } from 'vitest';
import { checkDependencies, mayCall, type GraphNode, type PluginFacts } from '../../src/graph/index.js';

function node(dependencies: Record<string, string>): GraphNode {
  return { name: 'feed-reader', version: '1.0.0', dependencies };
}
const running = (version: string | null): PluginFacts => ({ version, state: 'running' });

describe('checkDependencies', () => {
  test.each<[string, Record<string, string>, Record<string, PluginFacts>, string | null]>([
    ['no dependencies', {}, {}, null],
    ['satisfied', { 'text-cleaner': '^1.0.0' }, { 'text-cleaner': running('1.4.0') }, null],
    ['not installed', { 'text-cleaner': '^1.0.0' }, {}, 'waiting for text-cleaner: not installed'],
    [
      'outside the range',
      { 'text-cleaner': '^2.0.0' },
      { 'text-cleaner': running('1.4.0') },
      'waiting for text-cleaner ^2.0.0: installed version 1.4.0 is outside the range',
    ],
    [
      'stopped',
      { 'text-cleaner': '^1.0.0' },
      { 'text-cleaner': { version: '1.4.0', state: 'stopped' } },
      'waiting for text-cleaner: it is stopped',
    ],
    [
      'backoff names the state',
      { 'text-cleaner': '*' },
      { 'text-cleaner': { version: '1.4.0', state: 'backoff' } },
      'waiting for text-cleaner: it is backoff',
    ],
    [
      'invalid (version null), e.g. in a cycle',
      { 'text-cleaner': '*' },
      { 'text-cleaner': { version: null, state: 'invalid' } },
      'waiting for text-cleaner: it is invalid',
    ],
    [
      'invalid installed version counts as outside',
      { 'text-cleaner': '^1.0.0' },
      { 'text-cleaner': running('not-a-version') },
      'waiting for text-cleaner ^1.0.0: installed version not-a-version is outside the range',
    ],
    [
      'range checked before state',
      { 'text-cleaner': '^2.0.0' },
      { 'text-cleaner': { version: '1.4.0', state: 'stopped' } },
      'waiting for text-cleaner ^2.0.0: installed version 1.4.0 is outside the range',
    ],
    [
      'invalid range',
      { 'text-cleaner': 'banana' },
      { 'text-cleaner': running('1.4.0') },
      'waiting for text-cleaner: "banana" is not a valid version range',
    ],
    ['prerelease inside the range', { lib: '^1.0.0' }, { lib: running('1.5.0-beta.1') }, null],
    ['prerelease of the range floor', { lib: '>=2.0.0-0' }, { lib: running('2.0.0-rc.1') }, null],
    [
      'prerelease of the next major is outside',
      { lib: '^1.0.0' },
      { lib: running('2.0.0-beta.1') },
      'waiting for lib ^1.0.0: installed version 2.0.0-beta.1 is outside the range',
    ],
    [
      'several unsatisfied: first by name, and N more',
      { zeta: '*', beta: '^2.0.0', alpha: '*', ok: '*' },
      { beta: running('1.0.0'), zeta: { version: '1.0.0', state: 'stopped' }, ok: running('3.0.0') },
      'waiting for alpha: not installed (and 2 more)',
    ],
    [
      'exactly one more',
      { b: '*', a: '*' },
      {},
      'waiting for a: not installed (and 1 more)',
    ],
  ])('%s', (_label, dependencies, others, reason) => {
    const status = checkDependencies(node(dependencies), new Map(Object.entries(others)));
    expect(status).toEqual(reason === null ? { ok: true } : { ok: false, reason });
  });
});

describe('mayCall', () => {
  const caller = node({ 'text-cleaner': '^1.0.0' });

  test.each([
    ['text-cleaner', true],
    ['keyword-analyzer', false],
    ['feed-reader', false], // itself: not a dependency
    ['constructor', false], // no prototype leaks
    ['__proto__', false],
    ['', false],
  ])('%s → %s', (target, expected) => {
    expect(mayCall(caller, target)).toBe(expected);
  });
});
