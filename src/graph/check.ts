import semver from 'semver';
import { byName } from './graph.js';
import type { DependencyStatus, GraphNode } from './types.js';

/** What the supervisor currently knows about another plugin. */
export interface PluginFacts {
  /** null: the plugin is invalid. */
  version: string | null;
  /** A plugin state (docs/control-api.md, "Plugin states"): waiting, starting, running, stopping, stopped, backoff, disabled, invalid. */
  state: string;
  /** A lazy plugin at rest (or on its way up or down): it starts when needed, so it counts as available. */
  onDemand?: boolean;
}

/**
 * Whether `node`'s dependencies are satisfied. Checks each by name: installed, then valid, then in
 * range, then running or available on demand (lazy) — so the reason names the most lasting problem first. With several unsatisfied,
 * the first by name is named, plus " (and N more)".
 */
export function checkDependencies(node: GraphNode, others: ReadonlyMap<string, PluginFacts>): DependencyStatus {
  const reasons: string[] = [];
  for (const dep of Object.keys(node.dependencies).sort(byName)) {
    const reason = unsatisfied(dep, node.dependencies[dep]!, others.get(dep));
    if (reason !== null) reasons.push(reason);
  }
  if (reasons.length === 0) return { ok: true };
  const more = reasons.length > 1 ? ` (and ${reasons.length - 1} more)` : '';
  return { ok: false, reason: reasons[0] + more };
}

function unsatisfied(dep: string, range: string, facts: PluginFacts | undefined): string | null {
  if (!facts) return `waiting for ${dep}: not installed`;
  if (facts.version === null) return `waiting for ${dep}: it is invalid`;
  // The manifest schema should reject a bad range; say so plainly rather than blame the version.
  if (semver.validRange(range, { includePrerelease: true }) === null) {
    return `waiting for ${dep}: "${range}" is not a valid version range`;
  }
  // satisfies() is false for an invalid version, which counts as outside the range.
  if (!semver.satisfies(facts.version, range, { includePrerelease: true })) {
    return `waiting for ${dep} ${range}: installed version ${facts.version} is outside the range`;
  }
  if (facts.state !== 'running' && !facts.onDemand) return `waiting for ${dep}: it is ${facts.state}`;
  return null;
}

/** May `caller` call `target`? Only plugins named in its dependencies (docs/protocol.md, "warden.call"). */
export function mayCall(caller: GraphNode, target: string): boolean {
  return Object.hasOwn(caller.dependencies, target);
}
