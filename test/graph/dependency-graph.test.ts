import { describe, expect, it } from 'vitest';
import { DependencyGraph, dependentsOf, findCycles, startOrder, stopOrder, type GraphNode } from '../../src/graph/index.js';
import { graph } from './helpers.js';

/** The held graph answers as the pure functions do over the same nodes. */
function expectSameAsPure(held: DependencyGraph): void {
  const nodes = held.list();
  expect(held.startOrder()).toEqual(startOrder(nodes));
  expect(held.stopOrder()).toEqual(stopOrder(nodes));
  expect(held.cycles()).toEqual(findCycles(nodes));
  const names = new Set([...nodes.map((n) => n.name), ...nodes.flatMap((n) => Object.keys(n.dependencies))]);
  for (const name of names) expect(held.directDependentsOf(name), name).toEqual(dependentsOf(nodes, name, { transitive: false }));
}

function held(nodes: GraphNode[]): DependencyGraph {
  const g = new DependencyGraph();
  for (const node of nodes) g.set(node);
  return g;
}

describe('DependencyGraph', () => {
  it('answers like the pure functions, through adds, removals and changed dependencies', () => {
    const g = held(graph('top: left right', 'left: base', 'right: base ghost', 'base', 'a: b', 'b: a', 'user: a'));
    expectSameAsPure(g);
    g.remove('left');
    expectSameAsPure(g);
    g.set({ name: 'b', version: '1.0.0', dependencies: {} }); // the cycle is broken
    expectSameAsPure(g);
    expect(g.cycles()).toEqual([]);
    g.set({ name: 'ghost', version: '2.0.0', dependencies: { top: '*' } }); // a new plugin closing a cycle
    expectSameAsPure(g);
    expect(g.cycles().map((c) => c.text)).toEqual(['dependency cycle: ghost -> top -> right -> ghost']);
    g.set({ name: 'base', version: null, dependencies: {} }); // invalid now
    expectSameAsPure(g);
  });

  it('works everything out once per change of the set or of a dependency, however often it is asked', () => {
    const nodes = Array.from({ length: 200 }, (_, i): GraphNode => ({
      name: `p${i}`,
      version: '1.0.0',
      dependencies: i > 0 ? { [`p${i - 1}`]: '^1.0.0' } : {},
    }));
    const g = held(nodes);
    // What a state change asks: the direct dependents of the plugin that changed (many per plugin).
    for (let round = 0; round < 5; round++) for (const node of nodes) g.directDependentsOf(node.name);
    g.startOrder();
    g.cycles();
    expect(g.computations).toBe(1);
    // The same node again (a new definition with the same version and dependencies) changes nothing.
    g.set({ ...nodes[5]!, dependencies: { ...nodes[5]!.dependencies } });
    g.directDependentsOf('p5');
    expect(g.computations).toBe(1);
    // A changed range, a new version, a new plugin, a removed one: each is one more working-out.
    g.set({ ...nodes[5]!, dependencies: { p4: '^1.1.0' } });
    g.directDependentsOf('p5');
    expect(g.computations).toBe(2);
    g.set({ ...nodes[6]!, version: '1.0.1' });
    g.stopOrder();
    expect(g.computations).toBe(3);
    g.set({ name: 'new', version: '1.0.0', dependencies: { p199: '*' } });
    expect(g.directDependentsOf('p199')).toEqual(['new']);
    g.remove('new');
    expect(g.directDependentsOf('p199')).toEqual([]);
    expect(g.computations).toBe(5);
    g.remove('not-there');
    g.startOrder();
    expect(g.computations).toBe(5);
  });
});
