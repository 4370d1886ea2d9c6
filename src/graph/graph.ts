import type { GraphNode } from './types.js';

/** Plain code-unit order: deterministic and locale-independent (names are [a-z0-9-]). */
export function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Name → node. Names are unique (docs/manifest.md, "Discovery"); should a duplicate slip through, the first one wins. */
export function indexNodes(nodes: readonly GraphNode[]): Map<string, GraphNode> {
  const index = new Map<string, GraphNode>();
  for (const node of nodes) if (!index.has(node.name)) index.set(node.name, node);
  return index;
}

/** A node's dependencies that are present in the graph, sorted; missing ones are not edges. */
export function edgesOf(node: GraphNode, index: ReadonlyMap<string, GraphNode>): string[] {
  return Object.keys(node.dependencies).filter((dep) => index.has(dep)).sort(byName);
}

/** Inserts into an already sorted array, keeping it sorted (graphs are small; no heap needed). */
export function insertSorted(list: string[], name: string): void {
  let i = list.length;
  while (i > 0 && byName(list[i - 1]!, name) > 0) i--;
  list.splice(i, 0, name);
}
