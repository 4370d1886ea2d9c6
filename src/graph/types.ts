/** One plugin as the dependency graph sees it; built by the supervisor from manifests. */
export interface GraphNode {
  name: string;
  /** null: the plugin is invalid (its manifest did not validate). */
  version: string | null;
  /** Dependency name → semver range (docs/manifest.md, "dependencies"). */
  dependencies: Record<string, string>;
}

export interface CycleReport {
  /** Every plugin in the strongly connected component, sorted by name. */
  members: string[];
  /** "dependency cycle: a -> b -> a" — each cycle starts and ends at its alphabetically first member. */
  text: string;
}

export type DependencyStatus = { ok: true } | { ok: false; reason: string };
