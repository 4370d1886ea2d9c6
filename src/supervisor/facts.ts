import type { PluginKind } from '../manifest/types.js';
import type { UsageSample } from '../quotas/types.js';
import type { Capabilities } from '../sandbox/capabilities.js';
import type { PluginDefinition } from './definition.js';
import { describeEnforcement } from './enforcement.js';
import type { HostLike } from './host-like.js';
import type { CircuitState, LastError, PluginState, PluginStatus, Usage } from '../protocol/index.js';

/**
 * What a plugin's status says beyond its state, as one record: replaced whole on each change
 * (ManagedPlugin.set), never edited field by field.
 */
export interface PluginFacts {
  /** Why it is in its state (waiting for what, disabled why, backing off after what), or null. */
  readonly reason: string | null;
  readonly lastError: LastError | null;
  /** ISO time the serving instance took over (its start, or the swap of a reload). */
  readonly startedAt: string | null;
  /** Restarts that failures caused (not the operator's). */
  readonly restarts: number;
  /** The quota monitor's latest sample of the running tree. */
  readonly usage: UsageSample | null;
  /** A lazy plugin at rest without a process (or being stopped for it): it starts again on demand. */
  readonly idle: boolean;
}

export const NO_FACTS: Readonly<PluginFacts> = Object.freeze({ reason: null, lastError: null, startedAt: null, restarts: 0, usage: null, idle: false });

/** A new record: `facts` with `patch` applied. */
export function withFacts(facts: Readonly<PluginFacts>, patch: Partial<PluginFacts>): Readonly<PluginFacts> {
  return Object.freeze({ ...facts, ...patch });
}

/** The figures of a usage sample that status and metrics show. */
export function usageFigures(sample: UsageSample | null): Usage | null {
  return sample
    ? { cpuPercent: sample.cpuPercent, memoryBytes: sample.memoryBytes, handles: sample.handles, processes: sample.processes }
    : null;
}

/** Everything status reads of one plugin. */
export interface StatusSources {
  name: string;
  definition: PluginDefinition;
  state: PluginState;
  host: HostLike | null;
  facts: Readonly<PluginFacts>;
  circuit: CircuitState;
  capabilities: Capabilities;
}

/** One plugin's status (docs/control-api.md, "PluginStatus"), from its state, its serving instance and its facts. */
export function describeStatus(s: StatusSources): PluginStatus {
  const discovered = s.definition.discovered;
  const manifest = discovered.ok ? discovered.manifest : null;
  const kind: PluginKind = manifest ? manifest.kind : discovered.ok ? 'service' : discovered.kind;
  const running = s.host && !s.host.exited && ['starting', 'running', 'stopping'].includes(s.state);
  return {
    name: s.name,
    version: manifest ? manifest.version : discovered.ok ? null : discovered.version,
    kind,
    state: s.state,
    pid: running ? s.host!.pid : null,
    startedAt: s.state === 'running' ? s.facts.startedAt : null,
    restarts: s.facts.restarts,
    circuit: s.circuit,
    usage: s.state === 'running' ? usageFigures(s.facts.usage) : null,
    limits: { ...s.definition.settings.limits },
    enforcement: describeEnforcement(s.capabilities, manifest, s.definition.permissions ?? undefined),
    permissions: s.definition.permissions,
    reason: s.facts.reason,
    lastError: s.facts.lastError,
  };
}
