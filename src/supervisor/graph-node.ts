import type { GraphNode } from '../graph/index.js';
import type { Manifest } from '../manifest/types.js';

/** What the graph reads of a supervised plugin: its name and its manifest (null while invalid). */
export interface NamedPlugin {
  readonly name: string;
  readonly manifest: Manifest | null;
}

/** A plugin as a node of the dependency graph: an invalid one has no version and no dependencies. */
export function nodeOf(plugin: NamedPlugin): GraphNode {
  return { name: plugin.name, version: plugin.manifest?.version ?? null, dependencies: plugin.manifest?.dependencies ?? {} };
}
