import { cycleMembers } from './cycles.js';
import { byName, edgesOf, indexNodes, insertSorted } from './graph.js';
import type { GraphNode } from './types.js';

/**
 * Start order: dependencies before dependents, ties broken by name (Kahn's algorithm, always taking
 * the alphabetically first ready plugin). Plugins in a cycle are left out — they are invalid. A plugin
 * that merely depends on a cycle, or on a missing plugin, stays in: ordering does not judge readiness;
 * checkDependencies will report it as waiting.
 */
export function startOrder(nodes: readonly GraphNode[]): string[] {
  const index = indexNodes(nodes);
  const excluded = cycleMembers(nodes);
  const pending = new Map<string, number>(); // name → dependencies not yet placed
  const dependents = new Map<string, string[]>();
  for (const node of index.values()) {
    if (excluded.has(node.name)) continue;
    const deps = edgesOf(node, index).filter((dep) => !excluded.has(dep));
    pending.set(node.name, deps.length);
    for (const dep of deps) {
      const list = dependents.get(dep) ?? [];
      list.push(node.name);
      dependents.set(dep, list);
    }
  }

  const ready = [...pending].filter(([, count]) => count === 0).map(([name]) => name).sort(byName);
  const order: string[] = [];
  while (ready.length > 0) {
    const name = ready.shift()!;
    order.push(name);
    for (const dependent of dependents.get(name) ?? []) {
      const left = pending.get(dependent)! - 1;
      pending.set(dependent, left);
      if (left === 0) insertSorted(ready, dependent);
    }
  }
  return order;
}

/** Stop order: the reverse of startOrder — dependents before their dependencies. */
export function stopOrder(nodes: readonly GraphNode[]): string[] {
  return startOrder(nodes).reverse();
}

/**
 * Plugins that depend on `name` (directly, or also transitively by default): they go to `waiting` when
 * it stops. Sorted dependents-first (stop order). Cycle members are left out: they are invalid, not
 * waiting — but the walk goes through them, so a plugin that reaches `name` via a cycle is included.
 * `name` need not be in the graph (a plugin just removed still has dependents).
 */
export function dependentsOf(
  nodes: readonly GraphNode[],
  name: string,
  options: { transitive?: boolean } = {},
): string[] {
  const transitive = options.transitive ?? true;
  const index = indexNodes(nodes);
  const dependents = new Map<string, string[]>(); // reverse edges, missing dependencies included
  for (const node of index.values()) {
    for (const dep of Object.keys(node.dependencies)) {
      const list = dependents.get(dep) ?? [];
      list.push(node.name);
      dependents.set(dep, list);
    }
  }

  const found = new Set<string>();
  const queue = [name];
  for (let i = 0; i < queue.length; i++) {
    for (const dependent of dependents.get(queue[i]!) ?? []) {
      if (found.has(dependent)) continue;
      found.add(dependent);
      if (transitive) queue.push(dependent);
    }
  }
  found.delete(name); // a self-dependency (or a cycle back to it) is not a dependent
  return stopOrder(nodes).filter((n) => found.has(n));
}
