import type { PluginSettings } from '../../src/config/types.js';
import type { DependencyStatus } from '../../src/graph/index.js';
import { createLogSystem } from '../../src/logging/index.js';
import type { LogEntry } from '../../src/logging/index.js';
import { noMetrics } from '../../src/metrics/types.js';
import { reloadRefusedReason, waitingReason, type PermissionRequest } from '../../src/policies/approval.js';
import type { Capabilities } from '../../src/sandbox/capabilities.js';
import type { PersistedPluginState } from '../../src/state/store.js';
import {
  ManagedPlugin,
  type DisableStore,
  type ManagedEnvironment,
  type PluginDefinition,
} from '../../src/supervisor/managed-plugin.js';
import type { PluginState } from '../../src/protocol/index.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { testManifest } from '../helpers/manifest.js';
import { FakeHost } from './fake-host.js';
import { FakeTimers } from './fake-timers.js';

export const NAME = 'alpha';

/** Every state change any harness has seen in this test file's process, as `from>to` (the state machine check reads it). */
export const transitionsSeen = new Set<string>();

/** The state store's persisted disable, in memory. */
export class MemoryStore implements DisableStore {
  private readonly entries = new Map<string, PersistedPluginState>();

  get(name: string): PersistedPluginState | undefined {
    const entry = this.entries.get(name);
    return entry && { ...entry };
  }

  async setDisabled(name: string, reason: string): Promise<void> {
    this.entries.set(name, { disabled: true, reason, since: new Date(0).toISOString(), grant: null });
  }

  async clearDisabled(name: string): Promise<void> {
    this.entries.delete(name);
  }
}

/** A host without the wall or cgroups: nothing to build, nothing spawned. */
export const capabilities: Capabilities = {
  wall: null,
  wallProblem: 'no bwrap in unit tests',
  setpriv: null,
  shell: null,
  netns: null,
  nodePermission: null,
  cgroup: null,
  cgroupProblem: 'no cgroups in unit tests',
};

export const SETTINGS: PluginSettings = {
  limits: { memoryMb: 128, cpuPercent: 100, handles: 256, processes: 16 },
  callTimeoutMs: 1000,
  startTimeoutMs: 1000,
  stopTimeoutMs: 1000,
  health: { intervalMs: 1000, timeoutMs: 500 },
  // With random 0.5 (no jitter) the backoffs are 100, 200, 400 ms; the 4th failure in a minute disables.
  restart: { initialDelayMs: 100, maxDelayMs: 1000, maxRestarts: 3, windowMs: 60_000, standby: false },
  circuit: { failureThreshold: 3, cooldownMs: 10_000 },
  output: { linesPerSec: 100, burst: 100, bytesPerSec: 100_000 },
};

const NETWORK: PermissionRequest = { network: true, childProcess: false, env: [], fs: { read: [], write: [] } };

export interface DefinitionOptions {
  version?: string;
  /** The manifest's problem: an invalid plugin. */
  invalid?: string;
  enabledByConfig?: boolean;
  config?: Record<string, unknown>;
  activation?: 'eager' | 'lazy';
  idleStopMs?: number;
  /** What it speaks (warden's protocol when absent). */
  protocol?: 'warden' | 'mcp';
}

export interface HarnessOptions {
  /** A disable the state store already holds (the operator's, or a spent budget before a daemon restart). */
  persistedDisable?: string;
  definition?: DefinitionOptions;
  /** Start slots shared with other harnesses (none: unbounded). */
  starts?: ManagedEnvironment['starts'];
  /** The MCP tool memory (none: no tools are remembered). */
  tools?: ManagedEnvironment['tools'];
}

/**
 * One ManagedPlugin with everything around it faked: the clock and its timers, the host factory,
 * the state store, the quota monitor, the dependencies and the operator's approval.
 */
export class Harness {
  readonly clock = new FakeClock(Date.parse('2025-01-01T00:00:00Z'));
  readonly timers = new FakeTimers(this.clock);
  readonly store = new MemoryStore();
  readonly logs = createLogSystem({ level: 'debug', dir: null, maxBytes: 1 << 20, keep: 1 });
  readonly hosts: FakeHost[] = [];
  readonly transitions: string[] = [];
  readonly watched: string[] = [];
  /** What definition.dependencies() answers now. */
  dependencies: DependencyStatus = { ok: true };
  /** Whether the operator approved what it asks for (network) now. */
  approved = true;
  readonly plugin: ManagedPlugin;
  /** How many times the plugin asked for its lazy dependencies to be brought up. */
  dependencyActivations = 0;

  constructor(options: HarnessOptions = {}) {
    if (options.persistedDisable) void this.store.setDisabled(NAME, options.persistedDisable);
    const env: ManagedEnvironment = {
      logs: this.logs,
      store: this.store,
      clock: this.clock,
      capabilities,
      quotas: { watch: (name, pid) => this.watched.push(`watch ${name} ${pid}`), unwatch: (name) => this.watched.push(`unwatch ${name}`) },
      metrics: noMetrics,
      sandbox: { protectedPaths: [], tmpMb: 16, require: false },
      onStateChange: (_name, from, to) => {
        // The same state twice is a notice (a lazy rest, a failed reload), not a transition.
        if (from === to) return;
        this.transitions.push(`${from}>${to}`);
        transitionsSeen.add(`${from}>${to}`);
      },
      random: () => 0.5,
      timers: this.timers,
      activateDependencies: async () => {
        this.dependencyActivations++;
      },
      ...(options.starts ? { starts: options.starts } : {}),
      ...(options.tools ? { tools: options.tools } : {}),
      createHost: (hostOptions) => {
        const host = new FakeHost(hostOptions, this.hosts.length + 1);
        this.hosts.push(host);
        return host;
      },
    };
    this.plugin = new ManagedPlugin(NAME, this.definition(options.definition), env);
  }

  /** A definition of the plugin as the supervisor would make it (a new one for each reload). */
  definition(options: DefinitionOptions = {}): PluginDefinition {
    const dir = `/plugins/${NAME}`;
    const version = options.version ?? '1.0.0';
    const lazy = { activation: options.activation ?? 'eager', idleStopMs: options.idleStopMs ?? 300_000 } as const;
    const manifest = { ...testManifest({ name: NAME, version, command: ['fake-plugin'], protocol: options.protocol ?? 'warden', ...lazy }), main: undefined };
    return {
      discovered: options.invalid
        ? { ok: false, dir, name: NAME, version, kind: 'service', reason: options.invalid }
        : { ok: true, dir, manifest },
      settings: SETTINGS,
      config: options.config ?? {},
      permissions: options.invalid ? null : manifest.permissions,
      enabledByConfig: options.enabledByConfig ?? true,
      requests: { call: async () => null, emit: () => undefined },
      dependencies: () => this.dependencies,
      approval: () =>
        this.approved
          ? { approved: true }
          : { approved: false, waiting: waitingReason(NAME, NETWORK), refused: reloadRefusedReason(NAME, NETWORK) },
    };
  }

  /** The newest instance. */
  get host(): FakeHost {
    const host = this.hosts.at(-1);
    if (!host) throw new Error('no host was created');
    return host;
  }

  get state(): PluginState {
    return this.plugin.state;
  }

  get reason(): string | null {
    return this.plugin.status().reason;
  }

  /** Lets every promise chain run out (the plugin's lock, background operations, state listeners): nothing real is awaited. */
  async settle(): Promise<void> {
    for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Moves the fake clock, firing due timers, then settles. */
  async advance(ms: number): Promise<void> {
    this.timers.advance(ms);
    await this.settle();
  }

  /** Boots it and lets the newest instance complete its handshake. */
  async bootRunning(): Promise<FakeHost> {
    const booted = this.plugin.boot();
    await this.settle();
    this.host.ready();
    await booted;
    await this.settle();
    return this.host;
  }

  /** The plugin's log lines, oldest first. */
  logLines(level?: LogEntry['level']): string[] {
    return this.logs.tail({ name: NAME, lines: 1000, ...(level ? { level } : {}) }).map((entry) => entry.msg);
  }
}
