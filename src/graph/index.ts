// The plugin dependency graph: pure functions over manifests' `dependencies` (docs/manifest.md, "dependencies").
export type { CycleReport, DependencyStatus, GraphNode } from './types.js';
export { findCycles } from './cycles.js';
export { dependentsOf, startOrder, stopOrder } from './order.js';
export { checkDependencies, mayCall, type PluginFacts } from './check.js';
export { DependencyGraph } from './dependency-graph.js';
