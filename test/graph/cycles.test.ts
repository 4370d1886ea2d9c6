import { describe, expect, test } from 'vitest';
import { findCycles } from '../../src/graph/index.js';
import { graph } from './helpers.js';

describe('findCycles', () => {
  test.each([
    ['no cycle', ['c: b', 'b: a', 'a'], []],
    ['diamond is not a cycle', ['top: left right', 'left: base', 'right: base', 'base'], []],
    ['2-cycle', ['b: a', 'a: b'], [{ members: ['a', 'b'], text: 'dependency cycle: a -> b -> a' }]],
    [
      '3-cycle starts at its first member, in dependency direction',
      ['beta: alpha', 'alpha: gamma', 'gamma: beta'],
      [{ members: ['alpha', 'beta', 'gamma'], text: 'dependency cycle: alpha -> gamma -> beta -> alpha' }],
    ],
    ['self-dependency', ['me: me'], [{ members: ['me'], text: 'dependency cycle: me -> me' }]],
    [
      'a plugin depending on a cycle is not in it',
      ['user: a', 'a: b', 'b: a'],
      [{ members: ['a', 'b'], text: 'dependency cycle: a -> b -> a' }],
    ],
    [
      'two separate cycles, sorted',
      ['y: z', 'z: y', 'b: c', 'c: b'],
      [
        { members: ['b', 'c'], text: 'dependency cycle: b -> c -> b' },
        { members: ['y', 'z'], text: 'dependency cycle: y -> z -> y' },
      ],
    ],
    [
      'the cycle through every member is preferred over a shortcut',
      ['a: b d', 'b: c', 'c: a', 'd: b'],
      [{ members: ['a', 'b', 'c', 'd'], text: 'dependency cycle: a -> d -> b -> c -> a' }],
    ],
    [
      // no single cycle holds all three: each member still sees itself named
      'figure eight is spelled as two cycles',
      ['a: b c', 'b: a', 'c: a'],
      [{ members: ['a', 'b', 'c'], text: 'dependency cycle: a -> b -> a; a -> c -> a' }],
    ],
    ['missing dependency is no cycle', ['a: ghost'], []],
  ])('%s', (_label, lines, expected) => {
    expect(findCycles(graph(...lines))).toEqual(expected);
  });

  test('a large strongly connected component is still spelled, within the search budget', () => {
    // every node depends on every other: plenty of cycles, the search must stop early
    const names = Array.from({ length: 30 }, (_, i) => `n${String(i).padStart(2, '0')}`);
    const lines = names.map((n) => `${n}: ${names.filter((m) => m !== n).join(' ')}`);
    const [report, ...rest] = findCycles(graph(...lines));
    expect(rest).toEqual([]);
    expect(report!.members).toEqual(names);
    expect(report!.text).toBe(`dependency cycle: ${[...names, names[0]].join(' -> ')}`);
  });
});
