import { findCycles } from './cycles.js';
import { byName } from './graph.js';
import { startOrder } from './order.js';
import type { CycleReport, GraphNode } from './types.js';

/** What is worked out once per change of the plugin set or of a dependency, and read until the next. */
interface Derived {
  start: string[];
  stop: string[];
  cycles: CycleReport[];
  /** name → the plugins that name it in their dependencies (installed or not), in stop order, cycle members included. */
  dependents: Map<string, string[]>;
}

/**
 * The supervisor's dependency graph, held between changes: nodes are set when a plugin is added or takes a
 * new definition and removed when it goes, and the orders, cycles and dependents are worked out again only
 * after a change of a name, a version or a dependency, never on a state change. `computations` counts
 * those workings-out (tests hold it to one per change).
 */
export class DependencyGraph {
  private readonly nodes = new Map<string, GraphNode>();
  private derived: Derived | null = null;
  computations = 0;

  /** Adds or replaces a node; the derived facts are dropped only if its version or dependencies differ. */
  set(node: GraphNode): void {
    const old = this.nodes.get(node.name);
    if (old && old.version === node.version && sameDependencies(old.dependencies, node.dependencies)) return;
    this.nodes.set(node.name, { name: node.name, version: node.version, dependencies: { ...node.dependencies } });
    this.derived = null;
  }

  /** A plugin gone: the derived facts are dropped if it was there. */
  remove(name: string): void {
    if (this.nodes.delete(name)) this.derived = null;
  }

  /** Every node, in the order they were first set. */
  list(): GraphNode[] {
    return [...this.nodes.values()];
  }

  /** Dependencies before dependents (see startOrder). */
  startOrder(): readonly string[] {
    return this.get().start;
  }

  /** Dependents before dependencies. */
  stopOrder(): readonly string[] {
    return this.get().stop;
  }

  cycles(): readonly CycleReport[] {
    return this.get().cycles;
  }

  /**
   * The plugins that depend on `name` directly (as dependentsOf with `transitive: false`): in stop
   * order, cycle members left out, `name` itself too.
   */
  directDependentsOf(name: string): readonly string[] {
    return this.get().dependents.get(name) ?? [];
  }

  /** The derived facts, worked out now if a change dropped them. */
  private get(): Derived {
    if (this.derived) return this.derived;
    this.computations++;
    const nodes = this.list();
    const stop = startOrder(nodes).reverse();
    const position = new Map(stop.map((n, i) => [n, i] as const));
    const dependents = new Map<string, string[]>();
    for (const node of nodes) {
      for (const dep of Object.keys(node.dependencies)) {
        if (dep === node.name || !position.has(node.name)) continue;
        const list = dependents.get(dep) ?? [];
        list.push(node.name);
        dependents.set(dep, list);
      }
    }
    for (const list of dependents.values()) list.sort((a, b) => position.get(a)! - position.get(b)! || byName(a, b));
    this.derived = { start: [...stop].reverse(), stop, cycles: findCycles(nodes), dependents };
    return this.derived;
  }
}

/** Same names with the same ranges: a new definition that changes nothing in the graph. */
function sameDependencies(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}
