import { ErrorCodes, RpcError } from '../protocol/index.js';
import { configDisabledReason, disabledReason } from '../policies/enablement.js';
import { startBlockedBy } from '../policies/start-gate.js';
import type { PluginState } from '../protocol/index.js';
import type { ManagedEnvironment, PluginDefinition } from './definition.js';

/** What an operator's refusal reads of a plugin. */
export interface RefusalFacts {
  name: string;
  state: PluginState;
  reason: string | null;
  /** False while the config sets `plugins.<name>.enabled: false`. */
  enabledByConfig: boolean;
  /** Whether the state store holds a disable for it (the operator's, or a spent restart budget). */
  persistedDisable: boolean;
}

/** The refusal of an operator action in the given states, with the reason and what would lift it; null when allowed. */
export function refusedIn(states: readonly PluginState[], action: string, facts: RefusalFacts): RpcError | null {
  if (!states.includes(facts.state)) return null;
  const hint = facts.state === 'disabled' && action !== 'disable' ? `; ${liftHint(facts)}` : '';
  const why = facts.reason ? ` (${facts.reason})` : '';
  return new RpcError(ErrorCodes.NotAllowedInState, `cannot ${action} plugin ${facts.name}: it is ${facts.state}${why}${hint}`, {
    state: facts.state,
  });
}

/** While the config disables it, `warden enable` cannot: the config's next reading would disable it again. */
export function heldByConfig(action: string, facts: RefusalFacts): RpcError | null {
  if (facts.state !== 'disabled' || facts.enabledByConfig) return null;
  return new RpcError(
    ErrorCodes.NotAllowedInState,
    `cannot ${action} plugin ${facts.name}: it is ${configDisabledReason(facts.name)}; ${liftHint(facts)}`,
    { state: facts.state },
  );
}

/** What the operator does to lift a disable: the config's, the persisted one, or both in that order. */
function liftHint(facts: RefusalFacts): string {
  if (facts.enabledByConfig) return 'run `warden enable` first';
  const config = `set plugins.${facts.name}.enabled: true in the config and run \`warden reload\``;
  return facts.persistedDisable ? `${config}, then \`warden enable\`` : config;
}

/** Why `definition` must keep plugin `name` disabled (a persisted disable first, then the config), or null. */
export function heldDisabled(name: string, definition: PluginDefinition, store: ManagedEnvironment['store']): string | null {
  const persisted = store.get(name);
  return disabledReason(name, {
    persisted: persisted?.disabled ? { reason: persisted.reason } : null,
    enabledByConfig: definition.enabledByConfig,
  });
}

/** What keeps a start from happening that only the operator can lift: an unapproved permission, or a wall required but missing. */
export function blockedBy(definition: PluginDefinition, env: Pick<ManagedEnvironment, 'capabilities' | 'sandbox'>): string | null {
  const { capabilities, sandbox } = env;
  return startBlockedBy(definition.approval(), {
    required: sandbox.require,
    hasWall: capabilities.wall !== null,
    wallProblem: capabilities.wallProblem,
    hasCgroup: capabilities.cgroup !== null,
    cgroupProblem: capabilities.cgroupProblem,
  });
}
