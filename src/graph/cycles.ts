import { byName, edgesOf, indexNodes } from './graph.js';
import type { CycleReport, GraphNode } from './types.js';

type Adjacency = ReadonlyMap<string, readonly string[]>;

/** Caps the search for a cycle through every member: exponential in theory, tiny SCCs in practice. */
const SEARCH_BUDGET = 20_000;

/** Every cycle: strongly connected components of size > 1, plus self-loops; sorted by first member. */
export function findCycles(nodes: readonly GraphNode[]): CycleReport[] {
  const index = indexNodes(nodes);
  const adjacency = new Map<string, string[]>();
  for (const node of index.values()) adjacency.set(node.name, edgesOf(node, index));

  const reports: CycleReport[] = [];
  for (const component of stronglyConnected(adjacency)) {
    const members = [...component].sort(byName);
    const only = members[0]!;
    if (members.length === 1 && !adjacency.get(only)!.includes(only)) continue;
    const cycles = spell(new Set(members), adjacency);
    const text = cycles.map((c) => [...c, c[0]].join(' -> ')).join('; ');
    reports.push({ members, text: `dependency cycle: ${text}` });
  }
  return reports.sort((a, b) => byName(a.members[0]!, b.members[0]!));
}

/** Names of every plugin in some cycle — they are invalid. */
export function cycleMembers(nodes: readonly GraphNode[]): Set<string> {
  return new Set(findCycles(nodes).flatMap((r) => r.members));
}

/** Tarjan's algorithm, iterative so a long dependency chain cannot overflow the stack. */
function stronglyConnected(adjacency: Adjacency): string[][] {
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const result: string[][] = [];
  let counter = 0;

  for (const root of [...adjacency.keys()].sort(byName)) {
    if (order.has(root)) continue;
    const frames: { name: string; next: number }[] = [{ name: root, next: 0 }];
    order.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      const edges = adjacency.get(frame.name)!;
      if (frame.next < edges.length) {
        const to = edges[frame.next++]!;
        if (!order.has(to)) {
          order.set(to, counter);
          low.set(to, counter++);
          stack.push(to);
          onStack.add(to);
          frames.push({ name: to, next: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.name, Math.min(low.get(frame.name)!, order.get(to)!));
        }
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent) low.set(parent.name, Math.min(low.get(parent.name)!, low.get(frame.name)!));
      if (low.get(frame.name) === order.get(frame.name)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.name);
        result.push(component);
      }
    }
  }
  return result;
}

/**
 * Spells a component as simple cycles (each without its closing repeat): first the longest one through
 * the first member — usually all of them — then, for members it missed (a figure eight), the shortest
 * cycle through each, so every invalid plugin sees itself named in the text.
 */
function spell(members: ReadonlySet<string>, adjacency: Adjacency): string[][] {
  const inside = (name: string) => (adjacency.get(name) ?? []).filter((to) => members.has(to));
  const sorted = [...members].sort(byName);
  const cycles = [longestCycle(sorted[0]!, members.size, inside) ?? shortestCycle(sorted[0]!, inside)];
  const covered = new Set(cycles[0]);
  for (const name of sorted) {
    if (covered.has(name)) continue;
    const cycle = rotateToFirst(shortestCycle(name, inside));
    cycle.forEach((n) => covered.add(n));
    cycles.push(cycle);
  }
  return cycles;
}

/** Depth-first, neighbours by name, within a step budget; the first longest cycle found wins. */
function longestCycle(start: string, size: number, inside: (n: string) => string[]): string[] | null {
  let best: string[] | null = null;
  let steps = 0;
  const path = [start];
  const onPath = new Set(path);
  const visit = (name: string): boolean => {
    for (const to of inside(name)) {
      if (++steps > SEARCH_BUDGET) return true;
      if (to === start) {
        if (!best || path.length > best.length) best = [...path];
        if (best.length === size) return true;
      } else if (!onPath.has(to)) {
        path.push(to);
        onPath.add(to);
        const done = visit(to);
        path.pop();
        onPath.delete(to);
        if (done) return true;
      }
    }
    return false;
  };
  visit(start);
  return best;
}

/** Breadth-first from `start` back to itself; always succeeds inside a strongly connected component. */
function shortestCycle(start: string, inside: (n: string) => string[]): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const name = queue[i]!;
    for (const to of inside(name)) {
      if (to === start) {
        const cycle = [name];
        while (cycle[0] !== start) cycle.unshift(previous.get(cycle[0]!)!);
        return cycle;
      }
      if (!previous.has(to)) {
        previous.set(to, name);
        queue.push(to);
      }
    }
  }
  return [start];
}

function rotateToFirst(cycle: string[]): string[] {
  const first = [...cycle].sort(byName)[0]!;
  const at = cycle.indexOf(first);
  return [...cycle.slice(at), ...cycle.slice(0, at)];
}
