import { checkDependencies, type DependencyStatus, type PluginFacts } from '../graph/index.js';
import { nodeOf, type NamedPlugin } from './graph-node.js';

/** What readiness reads of a supervised plugin: its manifest (version, dependencies) and its state. */
export interface ReadinessSubject extends NamedPlugin {
  readonly state: string;
  /** A lazy plugin at rest: available to its dependents though not running. */
  readonly availableOnDemand?: boolean;
}

const READY: DependencyStatus = Object.freeze({ ok: true });

/**
 * Every plugin's dependency readiness, kept current by the supervisor rather than worked out on each
 * check: it is told (refresh) when a plugin is added, changes state or takes a new definition (so a
 * new version or new dependencies), and when one is removed (forget); each time it keeps that
 * plugin's facts, and works out again the readiness of the plugin itself and of the plugins that
 * depend on it. The verdicts are checkDependencies' own (src/graph), over these facts.
 */
export class DependencyReadiness {
  /** name → version and state, for every supervised plugin. */
  private readonly facts = new Map<string, PluginFacts>();
  /** name → the names of the plugins it depends on, as its current manifest says. */
  private readonly dependencies = new Map<string, readonly string[]>();
  /** name → the names of the plugins that depend on it (installed or not). */
  private readonly dependents = new Map<string, Set<string>>();
  /** name → its current readiness. */
  private readonly statuses = new Map<string, DependencyStatus>();

  /** @param lookup the supervised plugin of that name, if any. */
  constructor(private readonly lookup: (name: string) => ReadinessSubject | undefined) {}

  /** Whether every dependency of `name` is installed, valid, in range and running right now. */
  of(name: string): DependencyStatus {
    return this.statuses.get(name) ?? READY;
  }

  /** Plugin `name` was added, changed state or took a new definition. */
  refresh(name: string): void {
    const plugin = this.lookup(name);
    if (!plugin) return this.forget(name);
    const node = nodeOf(plugin);
    this.facts.set(name, { version: node.version, state: plugin.state, onDemand: plugin.availableOnDemand === true });
    this.index(name, Object.keys(node.dependencies));
    this.statuses.set(name, checkDependencies(node, this.facts));
    this.recheckDependentsOf(name);
  }

  /** Plugin `name` is gone: its dependents now find it not installed. */
  forget(name: string): void {
    this.facts.delete(name);
    this.statuses.delete(name);
    this.index(name, []);
    this.recheckDependentsOf(name);
  }

  /** Records what `name` depends on now, in both directions. */
  private index(name: string, dependencies: readonly string[]): void {
    for (const dep of this.dependencies.get(name) ?? []) {
      const set = this.dependents.get(dep);
      set?.delete(name);
      if (set?.size === 0) this.dependents.delete(dep);
    }
    if (dependencies.length === 0) {
      this.dependencies.delete(name);
      return;
    }
    this.dependencies.set(name, dependencies);
    for (const dep of dependencies) {
      let set = this.dependents.get(dep);
      if (!set) this.dependents.set(dep, (set = new Set()));
      set.add(name);
    }
  }

  private recheckDependentsOf(name: string): void {
    for (const dependent of this.dependents.get(name) ?? []) {
      const plugin = this.lookup(dependent);
      if (plugin) this.statuses.set(dependent, checkDependencies(nodeOf(plugin), this.facts));
    }
  }
}
