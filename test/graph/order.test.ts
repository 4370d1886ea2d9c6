import { describe, expect, test } from 'vitest';
import { dependentsOf, startOrder, stopOrder } from '../../src/graph/index.js';
import { graph } from './helpers.js';

describe('startOrder', () => {
  test.each([
    ['empty', [], []],
    ['linear chain', ['c: b', 'b: a', 'a'], ['a', 'b', 'c']],
    ['diamond', ['top: left right', 'left: base', 'right: base', 'base'], ['base', 'left', 'right', 'top']],
    ['ties broken by name', ['zeta', 'alpha', 'mid'], ['alpha', 'mid', 'zeta']],
    ['independent chains interleave by name', ['b2: b1', 'b1', 'a2: a1', 'a1'], ['a1', 'a2', 'b1', 'b2']],
    // the alphabetically first *ready* plugin goes next, not the first name overall
    ['readiness before name', ['a: z', 'z', 'm'], ['m', 'z', 'a']],
    ['missing dependency does not block', ['app: ghost lib', 'lib'], ['lib', 'app']],
    ['self-dependency is left out', ['me: me', 'other'], ['other']],
    // cycle members are invalid and left out; a plugin depending on the cycle stays in the order —
    // it is not invalid, merely waiting (checkDependencies says so, its dependency being invalid)
    ['cycle left out, its dependent kept', ['a: b', 'b: a', 'user: a', 'x'], ['user', 'x']],
    ['duplicate name: the first one wins', ['a: b', 'b', 'a: c', 'c: a'], ['b', 'a', 'c']],
  ])('%s', (_label, lines, expected) => {
    expect(startOrder(graph(...lines))).toEqual(expected);
  });

  test('invalid plugins (version null) are still ordered: readiness is not ordering', () => {
    const nodes = graph('app: lib', 'lib');
    nodes[1]!.version = null;
    expect(startOrder(nodes)).toEqual(['lib', 'app']);
  });

  test('does not mutate its input', () => {
    const nodes = graph('b: a', 'a');
    const copy = structuredClone(nodes);
    startOrder(nodes);
    expect(nodes).toEqual(copy);
  });

  test('a long chain does not overflow the stack', () => {
    const lines = Array.from({ length: 5000 }, (_, i) => (i === 0 ? 'n0' : `n${i}: n${i - 1}`));
    const order = startOrder(graph(...lines));
    expect(order).toHaveLength(5000);
    expect(order[0]).toBe('n0');
    expect(order[4999]).toBe('n4999');
  });
});

describe('stopOrder', () => {
  test.each([
    ['linear chain', ['c: b', 'b: a', 'a']],
    ['diamond', ['top: left right', 'left: base', 'right: base', 'base']],
    ['with a cycle', ['a: b', 'b: a', 'user: a', 'x']],
  ])('is the reverse of startOrder: %s', (_label, lines) => {
    const nodes = graph(...lines);
    expect(stopOrder(nodes)).toEqual([...startOrder(nodes)].reverse());
  });

  test('dependents stop before their dependencies', () => {
    expect(stopOrder(graph('c: b', 'b: a', 'a'))).toEqual(['c', 'b', 'a']);
  });
});

describe('dependentsOf', () => {
  const nodes = graph('base', 'left: base', 'right: base', 'top: left right', 'solo', 'far: top');

  test.each([
    ['base', true, ['far', 'top', 'right', 'left']],
    ['base', false, ['right', 'left']],
    ['left', true, ['far', 'top']],
    ['top', false, ['far']],
    ['far', true, []],
    ['solo', true, []],
    ['unknown', true, []],
  ])('%s (transitive: %s)', (name, transitive, expected) => {
    expect(dependentsOf(nodes, name, { transitive })).toEqual(expected);
  });

  test('transitive by default', () => {
    expect(dependentsOf(nodes, 'base')).toEqual(dependentsOf(nodes, 'base', { transitive: true }));
  });

  test('a removed plugin (not in the graph) still has its dependents', () => {
    expect(dependentsOf(graph('app: gone', 'top: app'), 'gone')).toEqual(['top', 'app']);
  });

  test('dependents-first: the result is a safe stop order', () => {
    const result = dependentsOf(nodes, 'base');
    expect(result.indexOf('far')).toBeLessThan(result.indexOf('top'));
    expect(result.indexOf('top')).toBeLessThan(result.indexOf('left'));
  });

  test('cycle members are invalid, not waiting: left out, but walked through', () => {
    const withCycle = graph('base', 'a: b base', 'b: a', 'user: b');
    expect(dependentsOf(withCycle, 'base')).toEqual(['user']);
  });

  test('a self-dependency is not its own dependent', () => {
    expect(dependentsOf(graph('me: me', 'user: me'), 'me')).toEqual(['user']);
  });
});
