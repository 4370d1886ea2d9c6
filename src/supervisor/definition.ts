import type { Limits, PluginSettings } from '../config/types.js';
import type { DependencyStatus } from '../graph/index.js';
import type { HostOptions, PluginRequests } from '../host/plugin-host.js';
import type { LogSystem } from '../logging/index.js';
import type { DiscoveredPlugin, Permissions } from '../manifest/types.js';
import type { PluginMetrics } from '../metrics/index.js';
import type { Clock } from '../policies/clock.js';
import type { StartSlots } from '../policies/start-slots.js';
import type { Capabilities } from '../sandbox/capabilities.js';
import type { StateStore } from '../state/store.js';
import type { ToolRecall } from '../state/tool-memory.js';
import type { HostLike } from './host-like.js';
import type { Timers } from './timers.js';
import type { PluginState } from '../protocol/index.js';

/** Where a running plugin's process tree is measured against its limits. */
export interface QuotaWatch {
  watch(name: string, pid: number, limits: Limits, options?: { canFork?: boolean; wrappers?: number }): void;
  unwatch(name: string): void;
}

/** What every managed plugin shares with the daemon. */
export interface PluginEnvironment {
  logs: LogSystem;
  store: StateStore;
  /** The tools each MCP plugin listed at its last run (state/tool-memory.ts); absent: none are remembered, and a lazy MCP plugin is never started just to list them. */
  tools?: ToolRecall;
  clock: Clock;
  capabilities: Capabilities;
  quotas: QuotaWatch;
  metrics: PluginMetrics;
  /** The wall's settings: the daemon's paths no bind may reach, the private /tmp size, and whether the wall is required. */
  sandbox: { protectedPaths: string[]; tmpMb: number; require: boolean };
  /**
   * Told after every state change (dependents wait for and follow their dependencies), and with `from`
   * equal to `to` when a lazy plugin's rest changes without one (at rest idle, or stopped by the operator).
   */
  onStateChange?(name: string, from: PluginState, to: PluginState): void;
  /**
   * Told at once, inside the change (not on a later microtask), when its state or its definition
   * (so its version or its dependencies) changes: the supervisor keeps every plugin's dependency
   * readiness current with it. Must not throw.
   */
  onStateOrDefinition?(name: string): void;
  /** Told at once when a plugin takes a new definition (its dependencies may have changed). Must not throw. */
  onDefinition?(name: string): void;
  /** Bounds how many instances start at once (the supervisor's, shared by every plugin); unbounded when absent. */
  starts?: Pick<StartSlots, 'acquire'>;
  /** Brings up a lazy plugin's dependencies that are at rest before it starts on demand; settles, never rejects. */
  activateDependencies?(name: string): Promise<void>;
  random?: () => number;
  /** Where the restart after a backoff is scheduled; the real timers when absent (tests pass fake ones). */
  timers?: Timers;
  /** Makes the process of one instance; a real PluginHost when absent (tests pass a fake host). */
  createHost?: (options: HostOptions) => HostLike;
}

/** What one plugin does with the state store: only its persisted disable (grants are the supervisor's). */
export type DisableStore = Pick<StateStore, 'get' | 'setDisabled' | 'clearDisabled'>;

/** What a ManagedPlugin reads of the environment: the supervisor's PluginEnvironment is one. */
export type ManagedEnvironment = Omit<PluginEnvironment, 'store'> & { store: DisableStore };

export interface PluginDefinition {
  discovered: DiscoveredPlugin;
  settings: PluginSettings;
  config: Record<string, unknown>;
  /** The manifest's permissions after the operator's overrides (null for an invalid plugin). */
  permissions: Permissions | null;
  /** False when the operator's config sets `plugins.<name>.enabled: false`. */
  enabledByConfig: boolean;
  requests: PluginRequests;
  /** Whether every dependency is installed, in range and running right now (checked before each start; kept current by the supervisor). */
  dependencies(): DependencyStatus;
  /** Whether the operator approved every permission this definition asks for; else why not (checked before each start and reload). */
  approval(): { approved: true } | { approved: false; waiting: string; refused: string };
}
