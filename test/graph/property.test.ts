import { expect, test } from 'vitest';
import { dependentsOf, findCycles, startOrder, stopOrder, type GraphNode } from '../../src/graph/index.js';

/** mulberry32: small seeded PRNG so failures reproduce. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random DAG: edges only from a later to an earlier node of a shuffled list, plus missing deps. */
function randomDag(random: () => number, size: number): GraphNode[] {
  const names = Array.from({ length: size }, (_, i) => `p${i}`).sort(() => random() - 0.5);
  return names.map((name, i) => {
    const dependencies: Record<string, string> = {};
    for (let j = 0; j < i; j++) if (random() < 0.3) dependencies[names[j]!] = '*';
    if (random() < 0.1) dependencies[`missing${i}`] = '*';
    return { name, version: '1.0.0', dependencies };
  });
}

test('for 200 random DAGs of 10 nodes, every dependency precedes its dependent', () => {
  const random = rng(42);
  for (let g = 0; g < 200; g++) {
    const nodes = randomDag(random, 10);
    expect(findCycles(nodes)).toEqual([]);
    const order = startOrder(nodes);
    expect([...order].sort()).toEqual(nodes.map((n) => n.name).sort());
    const position = new Map(order.map((name, i) => [name, i]));
    for (const node of nodes) {
      for (const dep of Object.keys(node.dependencies)) {
        if (position.has(dep)) expect(position.get(dep)!).toBeLessThan(position.get(node.name)!);
      }
    }
    expect(stopOrder(nodes)).toEqual([...order].reverse());
    // input order never matters
    expect(startOrder([...nodes].reverse())).toEqual(order);
    for (const node of nodes) {
      const direct = dependentsOf(nodes, node.name, { transitive: false });
      expect(direct.sort()).toEqual(nodes.filter((n) => node.name in n.dependencies).map((n) => n.name).sort());
    }
  }
});

test('adding a back edge to a random DAG makes exactly that path a cycle, and drops it from startOrder', () => {
  const random = rng(7);
  let cycles = 0;
  for (let g = 0; g < 200; g++) {
    const nodes = randomDag(random, 10);
    const order = startOrder(nodes);
    // the first plugin now depends on the last: a cycle only if the last reaches the first
    const first = nodes.find((n) => n.name === order[0])!;
    const last = order[order.length - 1]!;
    first.dependencies[last] = '*';
    const inCycle = new Set(findCycles(nodes).flatMap((r) => r.members));
    const reaches = dependentsOf(nodes.filter((n) => n !== first).concat({ ...first, dependencies: {} }), first.name);
    expect(inCycle.has(first.name)).toBe(reaches.includes(last));
    if (inCycle.size > 0) cycles++;
    expect(startOrder(nodes).some((n) => inCycle.has(n))).toBe(false);
    expect(startOrder(nodes).length + inCycle.size).toBe(nodes.length);
  }
  expect(cycles).toBeGreaterThan(20); // both outcomes are exercised
  expect(cycles).toBeLessThan(200);
});
