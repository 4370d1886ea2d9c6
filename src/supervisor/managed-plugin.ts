import type { Logger } from 'pino';
import type { Limits, PluginSettings } from '../config/types.js';
import { classifyExit, describeExit, type ExitVerdict } from '../host/exit.js';
import { PluginHost, type PluginRequests } from '../host/plugin-host.js';
import { ErrorCodes, RpcError } from '../host/rpc-error.js';
import type { LogSystem } from '../logging/index.js';
import type { DiscoveredPlugin, Manifest, Permissions, PluginKind } from '../manifest/types.js';
import { backoffDelay } from '../policies/backoff.js';
import type { Clock } from '../policies/clock.js';
import { configDisabledReason, disabledReason } from '../policies/enablement.js';
import { countsAsRestart, startsWithClosedCircuit, type LaunchCause } from '../policies/launch-cause.js';
import { describeExhaustion, RestartBudget } from '../policies/restart-budget.js';
import { PluginStateMachine } from '../policies/state-machine.js';
import { cgroupLimits, type PluginCgroup } from '../cgroups/index.js';
import type { Capabilities } from '../sandbox/capabilities.js';
import { planLaunch } from '../sandbox/launch.js';
import type { PluginMetrics } from '../metrics/index.js';
import type { QuotaBreach, UsageSample } from '../quotas/types.js';
import type { StateStore } from '../state/store.js';
import { retire, startReplacement } from './blue-green.js';
import { CallGate } from './calls.js';
import { SerialQueue } from './serial.js';
import { describeEnforcement } from './enforcement.js';
import type { DependencyStatus } from '../graph/index.js';
import type { FailureKind, LastError, PluginState, PluginStatus, RecentError } from './types.js';

/** Where a running plugin's process tree is measured against its limits. */
export interface QuotaWatch {
  watch(name: string, pid: number, limits: Limits, options?: { canFork?: boolean; wrappers?: number }): void;
  unwatch(name: string): void;
}

/** What every managed plugin shares with the daemon. */
export interface PluginEnvironment {
  logs: LogSystem;
  store: StateStore;
  clock: Clock;
  capabilities: Capabilities;
  quotas: QuotaWatch;
  metrics: PluginMetrics;
  /** The wall's settings: the daemon's paths no bind may reach, the private /tmp size, and whether the wall is required. */
  sandbox: { protectedPaths: string[]; tmpMb: number; require: boolean };
  /** Told after every state change (dependents wait for and follow their dependencies). */
  onStateChange?(name: string, from: PluginState, to: PluginState): void;
  random?: () => number;
}

export interface PluginDefinition {
  discovered: DiscoveredPlugin;
  settings: PluginSettings;
  config: Record<string, unknown>;
  /** The manifest's permissions after the operator's overrides (null for an invalid plugin). */
  permissions: Permissions | null;
  /** False when the operator's config sets `plugins.<name>.enabled: false`. */
  enabledByConfig: boolean;
  requests: PluginRequests;
  /** Whether every dependency is installed, in range and running right now (checked before each start). */
  dependencies(): DependencyStatus;
  /** Whether the operator approved every permission this definition asks for; else why not (checked before each start and reload). */
  approval(): { approved: true } | { approved: false; waiting: string; refused: string };
}

type Operation = () => Promise<void>;

/** What the operator may ask of a plugin on the control socket (each is logged with `by: "operator"`). */
type OperatorAction = 'start' | 'stop' | 'restart' | 'enable' | 'disable';

/**
 * One plugin under supervision: the state machine, its current process, the restart budget and the circuit.
 * Lifecycle operations run one at a time; a stop cuts short a start in progress.
 */
export class ManagedPlugin {
  readonly name: string;
  private definition: PluginDefinition;
  private readonly env: PluginEnvironment;
  private readonly machine: PluginStateMachine;
  private readonly budget: RestartBudget;
  private readonly calls: CallGate;
  private host: PluginHost | null = null;
  /** Old instances still finishing their calls after a reload: shutdown waits for them too. */
  private readonly retiring = new Map<PluginHost, Promise<void>>();
  private readonly operations = new SerialQueue();
  private restartTimer: NodeJS.Timeout | null = null;
  private startAborted = false;
  private reason: string | null = null;
  private lastError: LastError | null = null;
  private startedAt: string | null = null;
  private restarts = 0;
  private usage: UsageSample | null = null;
  /** A reload refused for want of approval: the version to swap in once the operator grants it. */
  private refusedReload: PluginDefinition | null = null;
  /** Numbers each process instance, so each gets a cgroup of its own. */
  private instances = 0;

  constructor(name: string, definition: PluginDefinition, env: PluginEnvironment) {
    this.name = name;
    this.definition = definition;
    this.env = env;
    this.budget = new RestartBudget(definition.settings.restart, env.clock);
    this.calls = new CallGate({
      plugin: name,
      circuit: definition.settings.circuit,
      clock: env.clock,
      metrics: env.metrics,
      onFailure: (method, error) => {
        // A call cut short by the plugin's exit is not the failure: the exit is, and it is recorded where it is observed.
        if (error.code === ErrorCodes.PluginExited) return;
        this.lastError = { time: this.nowIso(), kind: 'call', message: `${method}: ${error.message}` };
      },
      log: () => this.log(),
    });
    let initial: PluginState = 'stopped';
    const held = this.disabledReasonFor(definition);
    if (!definition.discovered.ok) {
      initial = 'invalid';
      this.reason = definition.discovered.reason;
    } else if (held) {
      initial = 'disabled';
      this.reason = held;
    }
    this.machine = new PluginStateMachine(initial, (from, to) => this.onStateChange(from, to));
    env.metrics.setState(name, initial);
    env.metrics.setRestarts(name, 0);
  }

  get state(): PluginState {
    return this.machine.state;
  }

  /** The definition it runs with now (to compare with a re-read config). */
  definitionSnapshot(): PluginDefinition {
    return this.definition;
  }

  get discovered(): DiscoveredPlugin {
    return this.definition.discovered;
  }

  get manifest(): Manifest | null {
    return this.definition.discovered.ok ? this.definition.discovered.manifest : null;
  }

  /** Applies new settings (config reload); they take effect for the next process and the next calls. */
  updateDefinition(definition: PluginDefinition): void {
    this.definition = definition;
    this.budget.updateSettings(definition.settings.restart);
    this.calls.updateSettings(definition.settings.circuit);
    if (this.state === 'running') this.watchQuotas(definition);
  }

  /**
   * A changed plugin folder or config. A running plugin is swapped blue/green: the new instance
   * starts beside the old with the old one's snapshot, and takes the calls only once it has
   * answered its handshake and a health check; the old one finishes its calls in flight, then
   * stops. A new version that fails never takes traffic and costs the old one nothing.
   * A config that disables it (`plugins.<name>.enabled: false`) stops it instead; one that no
   * longer does starts it again, unless the operator's persisted disable still holds it.
   */
  reload(next: PluginDefinition): Promise<void> {
    return this.exclusive(async () => {
      const held = this.disabledReasonFor(next);
      if (held) {
        await this.holdDisabled(next, held);
        return;
      }
      if (this.state === 'disabled') {
        // Only the config held it (a persisted disable would still hold): it no longer does.
        await this.releasedByConfig(next);
        return;
      }
      const old = this.host;
      if (this.state !== 'running' || !old) {
        await this.adopt(next);
        return;
      }
      if (!next.discovered.ok) {
        this.reloadFailed(next.discovered.reason);
        return;
      }
      const approval = next.approval();
      if (!approval.approved) {
        this.refusedReload = next; // retried once the operator approves (reconsider)
        this.reloadFailed(approval.refused);
        return;
      }
      this.refusedReload = null;
      let fresh: PluginHost;
      try {
        fresh = await startReplacement(old, next, (definition) => this.createHost(definition), {
          snapshotTimeoutMs: this.definition.settings.callTimeoutMs,
          onSnapshotFailure: (error) =>
            this.log().warn(`warden.snapshot failed (${error.message}); the new instance starts without state`),
        });
      } catch (error) {
        this.reloadFailed((error as Error).message);
        return;
      }
      const from = this.manifest?.version;
      this.host = fresh; // from here on, new calls go to the new instance
      this.updateDefinition(next); // also points the quota monitor at the new process tree
      this.startedAt = this.nowIso();
      this.reason = null;
      this.log().info(`reloaded: ${from} -> ${next.discovered.manifest.version} (pid ${old.pid} -> ${fresh.pid})`);
      const retiring = retire(old, next).finally(() => this.retiring.delete(old));
      this.retiring.set(old, retiring);
    });
  }

  /** A new definition for a plugin with no process to swap: the next start uses it. */
  private async adopt(next: PluginDefinition): Promise<void> {
    this.updateDefinition(next);
    if (!next.discovered.ok) {
      this.cancelRestartTimer();
      this.reason = next.discovered.reason;
      if (this.state !== 'invalid') this.machine.to('invalid');
      return;
    }
    if (this.state === 'invalid') {
      this.reason = null;
      this.machine.to('stopped');
      await this.launch('reload');
    }
  }

  /**
   * Something keeps it disabled (the config, or a persisted disable): whatever runs stops through the
   * ladder, and it rests `disabled` with the reason. Nothing is persisted here: the config says it.
   */
  private async holdDisabled(next: PluginDefinition, reason: string): Promise<void> {
    this.refusedReload = null;
    const was = this.state;
    if (was !== 'disabled' && next.discovered.ok) this.log().info(reason); // the cause, before what it does
    if (was !== 'disabled' && was !== 'invalid') await this.halt('disabled');
    if (!next.discovered.ok) {
      await this.adopt(next); // invalid says more than disabled
      return;
    }
    this.updateDefinition(next);
    if (this.state === 'invalid') this.machine.to('disabled');
    this.reason = reason;
  }

  /** The config enables it again (`plugins.<name>.enabled: true`) and nothing else holds it: it starts. */
  private async releasedByConfig(next: PluginDefinition): Promise<void> {
    if (!next.discovered.ok) {
      await this.adopt(next);
      return;
    }
    this.updateDefinition(next);
    this.reason = null;
    this.log().info(`enabled in config (plugins.${this.name}.enabled: true): starting it`);
    await this.launch('config');
  }

  /** Why `definition` must keep this plugin disabled (a persisted disable first, then the config), or null. */
  private disabledReasonFor(definition: PluginDefinition): string | null {
    const persisted = this.env.store.get(this.name);
    return disabledReason(this.name, {
      persisted: persisted?.disabled ? { reason: persisted.reason } : null,
      enabledByConfig: definition.enabledByConfig,
    });
  }

  /** The old instance keeps serving; the failure is shown, and does not count against its restart budget. */
  private reloadFailed(cause: string): void {
    this.reason = `reload failed: ${cause}`;
    this.lastError = { time: this.nowIso(), kind: 'reload', message: cause };
    this.log().warn(`${this.reason}; the running version keeps serving`);
  }

  /** A sample of the running process tree, from the quota monitor. */
  recordUsage(sample: UsageSample): void {
    if (this.state !== 'running') return;
    this.usage = sample;
    this.env.metrics.setUsage(this.name, this.usageFigures());
  }

  /** The quota monitor found the tree over a limit: stop it (memory at once), and count it as a failure. */
  quotaBreach(breach: QuotaBreach): Promise<void> {
    const host = this.host;
    return this.exclusive(async () => {
      if (this.host !== host || this.state !== 'running' || !host) return;
      this.log().warn({ limit: breach.limit, measured: breach.measured, allowed: breach.allowed }, `quota: ${breach.message}; stopping it`);
      this.env.metrics.quotaStop(this.name, breach.limit);
      this.machine.to('stopping');
      await host.stop(this.definition.settings.stopTimeoutMs, { graceful: false, force: breach.limit === 'memoryMb' });
      this.host = null;
      await this.fail('quota', breach.message);
    });
  }

  /** First start at daemon start-up: only plugins that are neither invalid nor disabled. */
  boot(): Promise<void> {
    return this.exclusive(async () => {
      if (this.state === 'stopped' || this.state === 'waiting') await this.launch('boot');
    });
  }

  /** `warden start`: a stopped (or waiting, or backing off) plugin starts now, with a closed circuit. */
  start(): Promise<void> {
    this.refuseIn(['invalid', 'disabled'], 'start');
    this.logOperator('start');
    return this.exclusive(async () => {
      this.refuseIn(['invalid', 'disabled'], 'start');
      if (this.state === 'running' || this.state === 'starting') return;
      this.cancelRestartTimer();
      this.reason = null;
      await this.launch('operator', 'start');
    });
  }

  /** `warden stop`: down through the ladder, and it stays `stopped` until `warden start`. */
  stop(): Promise<void> {
    this.refuseIn(['invalid', 'disabled'], 'stop');
    this.logOperator('stop');
    this.abortStart();
    return this.exclusive(async () => {
      this.refuseIn(['invalid', 'disabled'], 'stop');
      await this.halt('stopped');
      this.reason = null;
    });
  }

  /** `warden restart`: a new process with a closed circuit; not counted in RESTARTS (that counts failures). */
  restart(): Promise<void> {
    this.refuseIn(['invalid', 'disabled'], 'restart');
    this.logOperator('restart');
    this.abortStart();
    return this.exclusive(async () => {
      this.refuseIn(['invalid', 'disabled'], 'restart');
      await this.halt('stopped');
      this.reason = null;
      await this.launch('operator', 'restart');
    });
  }

  /**
   * `warden enable`: lifts the persisted disable (the operator's, or a spent restart budget) and starts
   * with a full budget and a closed circuit. Refused while the config disables it: only the config can
   * lift that, and it would come back on the next reload.
   */
  enable(): Promise<void> {
    this.refuseIn(['invalid'], 'enable');
    this.refuseHeldByConfig('enable');
    this.logOperator('enable');
    return this.exclusive(async () => {
      if (this.state !== 'disabled') return;
      this.refuseHeldByConfig('enable');
      await this.env.store.clearDisabled(this.name);
      this.budget.reset();
      this.reason = null;
      await this.launch('operator', 'enable');
    });
  }

  /**
   * `warden disable`: down through the ladder, persisted so it survives daemon restarts and outlasts
   * the config (one disabled by the config gets the operator's disable on top).
   */
  disable(reason = 'disabled by the operator'): Promise<void> {
    this.refuseIn(['invalid'], 'disable');
    this.logOperator('disable');
    this.abortStart();
    return this.exclusive(async () => {
      if (this.state === 'invalid' || this.env.store.get(this.name)?.disabled) return;
      if (this.state !== 'disabled') await this.halt('disabled');
      this.reason = reason;
      await this.env.store.setDisabled(this.name, reason);
    });
  }

  /** A dependency stopped: stop through the ladder and wait for it (only if it was up or coming up). */
  suspend(reason: string): Promise<void> {
    this.abortStart();
    return this.exclusive(async () => {
      if (!['running', 'starting', 'backoff'].includes(this.state)) return;
      await this.halt('waiting');
      this.reason = reason;
    });
  }

  /**
   * Its approval changed (grant, revoke): a plugin that may no longer run goes back to waiting;
   * one that was waiting starts if nothing else holds it.
   */
  reconsider(): Promise<void> {
    const refused = this.refusedReload;
    if (refused && this.state === 'running' && refused.approval().approved) return this.reload(refused);
    return this.exclusive(async () => {
      if (this.state === 'waiting') return this.launch('approval');
      if (!['running', 'starting', 'backoff'].includes(this.state)) return;
      const blocked = this.blockedBy();
      if (!blocked) return;
      await this.halt('waiting');
      this.reason = blocked;
      this.log().warn(blocked);
    });
  }

  /** Its dependencies may be satisfied now: start if it was waiting for them. */
  resume(): Promise<void> {
    return this.exclusive(async () => {
      if (this.state === 'waiting') await this.launch('dependency');
    });
  }

  /** Daemon shutdown: stop through the ladder, whatever the state, and leave persisted state alone. */
  shutdown(): Promise<void> {
    this.abortStart();
    this.cancelRestartTimer();
    return this.exclusive(async () => {
      if (['running', 'starting', 'backoff', 'waiting'].includes(this.state)) await this.halt('stopped');
      await Promise.all(this.retiring.values());
    });
  }

  /** Forced shutdown: SIGKILL the process group now. */
  kill(): void {
    this.cancelRestartTimer();
    this.host?.kill();
    for (const old of this.retiring.keys()) old.kill();
  }

  /** A call from a client, another plugin or a schedule. Every accepted call gets exactly one answer. */
  async call(method: string, params: unknown, timeoutMs?: number): Promise<unknown> {
    const host = this.host;
    if (this.state !== 'running' || !host) {
      const why = this.reason ? `: ${this.reason}` : '';
      throw new RpcError(ErrorCodes.NotRunning, `plugin ${this.name} is not running (state: ${this.state})${why}`);
    }
    return this.calls.call(host, method, params, timeoutMs ?? this.definition.settings.callTimeoutMs);
  }

  /** An event for the running process; false (dropped) when it is not running. Resolves once written. */
  deliverEvent(event: unknown): Promise<boolean> | boolean {
    if (this.state !== 'running' || !this.host) return false;
    return this.host.notifyWhenWritten('warden.event', event);
  }

  status(): PluginStatus {
    const discovered = this.definition.discovered;
    const manifest = discovered.ok ? discovered.manifest : null;
    const kind: PluginKind = manifest ? manifest.kind : discovered.ok ? 'service' : discovered.kind;
    const running = this.host && !this.host.exited && ['starting', 'running', 'stopping'].includes(this.state);
    return {
      name: this.name,
      version: manifest ? manifest.version : discovered.ok ? null : discovered.version,
      kind,
      state: this.state,
      pid: running ? this.host!.pid : null,
      startedAt: this.state === 'running' ? this.startedAt : null,
      restarts: this.restarts,
      circuit: this.calls.circuitState,
      usage: this.state === 'running' ? this.usageFigures() : null,
      limits: { ...this.definition.settings.limits },
      enforcement: describeEnforcement(this.env.capabilities, manifest, this.definition.permissions ?? undefined),
      permissions: this.definition.permissions,
      reason: this.reason,
      lastError: this.lastError,
    };
  }

  private usageFigures(): PluginStatus['usage'] {
    const u = this.usage;
    return u ? { cpuPercent: u.cpuPercent, memoryBytes: u.memoryBytes, handles: u.handles, processes: u.processes } : null;
  }

  /** Everything that follows from a state change lives here, so no transition can forget it. */
  private onStateChange(from: PluginState, to: PluginState): void {
    this.log().debug({ from, to }, `state ${from} -> ${to}`);
    this.env.metrics.setState(this.name, to);
    const listener = this.env.onStateChange;
    if (listener) queueMicrotask(() => listener(this.name, from, to));
    if (to === 'running') {
      this.watchQuotas(this.definition);
    } else if (from === 'running') {
      this.env.quotas.unwatch(this.name);
      this.usage = null;
      this.env.metrics.setUsage(this.name, null);
    }
  }

  recentErrorList(): RecentError[] {
    return this.calls.recentErrors();
  }

  /**
   * Spawns a process and completes the handshake; a failure goes to the restart policy. Runs under the lock.
   * `cause` decides whether it counts as a restart and whether it begins with a closed circuit
   * (`action` names the operator's, for the log).
   */
  private async launch(cause: LaunchCause, action?: OperatorAction): Promise<void> {
    const discovered = this.definition.discovered;
    if (!discovered.ok) return;
    if (startsWithClosedCircuit(cause)) this.calls.reset(action ? `${action} by the operator` : 'enabled again in config');
    const dependencies = this.definition.dependencies();
    if (!dependencies.ok) {
      // It starts by itself once they are satisfied (the supervisor calls resume()).
      this.reason = dependencies.reason;
      if (this.state !== 'waiting') this.machine.to('waiting');
      return;
    }
    const blocked = this.blockedBy();
    if (blocked) {
      // It starts once the operator acts (grant, or a host with the wall and a daemon restart).
      this.reason = blocked;
      if (this.state !== 'waiting') this.machine.to('waiting');
      this.log().warn(blocked);
      return;
    }
    this.startAborted = false;
    this.machine.to('starting');
    if (countsAsRestart(cause)) {
      this.restarts++;
      this.env.metrics.setRestarts(this.name, this.restarts);
    }
    const { settings } = this.definition;
    let host: PluginHost;
    try {
      host = this.createHost(this.definition);
    } catch (error) {
      await this.fail('start', (error as Error).message);
      return;
    }
    this.host = host;
    try {
      await host.start({ config: this.definition.config, state: null });
    } catch (error) {
      if (this.startAborted) return; // the stop that aborted it finishes the job
      await host.stop(settings.stopTimeoutMs, { graceful: false });
      await this.fail('start', (error as Error).message);
      return;
    }
    if (this.startAborted) return;
    this.machine.to('running');
    this.startedAt = this.nowIso();
    this.reason = null;
    this.log().info({ methods: host.methods }, `running (pid ${host.pid})`);
  }

  /**
   * A process for `definition` in a cgroup of its own (one per instance: a blue/green reload runs two),
   * reporting its exit and hangs back to this plugin. The exit is classified here, where it is observed,
   * and the cgroup is emptied and removed behind it.
   */
  private createHost(definition: PluginDefinition): PluginHost {
    const discovered = definition.discovered;
    if (!discovered.ok) throw new Error(discovered.reason);
    const { settings } = definition;
    const { sandbox } = this.env;
    const cgroup = this.env.capabilities.cgroup?.create(this.name, String(++this.instances), settings.limits) ?? null;
    const hardMemoryMb = cgroup ? Math.round(cgroupLimits(settings.limits).memoryBytes / (1024 * 1024)) : null;
    try {
      const host: PluginHost = new PluginHost({
        name: this.name,
        version: discovered.manifest.version,
        launch: planLaunch({
          dir: discovered.dir,
          manifest: discovered.manifest,
          permissions: definition.permissions ?? discovered.manifest.permissions,
          limits: settings.limits,
          capabilities: this.env.capabilities,
          protectedPaths: sandbox.protectedPaths,
          tmpMb: sandbox.tmpMb,
          cgroup,
        }).launch,
        loggerFor: (pid) => this.env.logs.pluginLogger(this.name, { pid, restarts: this.restarts }),
        requests: definition.requests,
        startTimeoutMs: settings.startTimeoutMs,
        health: settings.health,
        output: settings.output,
        killTree: cgroup ? () => cgroup.kill() : undefined,
        onExit: (exit) => {
          const verdict = classifyExit(exit, { oomKills: cgroup?.oomKills() ?? 0, hardMemoryMb });
          if (cgroup) void this.discard(cgroup);
          this.onHostExit(host, verdict);
        },
        onHang: (message) => this.onHostHang(host, message),
      });
      return host;
    } catch (error) {
      if (cgroup) void this.discard(cgroup);
      throw error;
    }
  }

  /** Kills whatever is left in an instance's cgroup and removes it; a failure is logged, never thrown. */
  private async discard(cgroup: PluginCgroup): Promise<void> {
    await cgroup
      .kill()
      .then(() => cgroup.remove())
      .catch((error: Error) => this.log().warn(`could not clean up a cgroup: ${error.message}`));
  }

  /** What keeps a start from happening that only the operator can lift: an unapproved permission, or a wall required but missing. */
  private blockedBy(): string | null {
    const approval = this.definition.approval();
    if (!approval.approved) return approval.waiting;
    const { capabilities, sandbox } = this.env;
    if (sandbox.require && !capabilities.wall) {
      return `waiting for the wall: sandbox.require is true and this host cannot build it (${capabilities.wallProblem})`;
    }
    if (sandbox.require && !capabilities.cgroup) {
      return `waiting for the wall: sandbox.require is true and this host gives no cgroup for kernel limits (${capabilities.cgroupProblem})`;
    }
    return null;
  }

  /** Takes a live or starting process down the ladder and settles in `target`. Runs under the lock. */
  private async halt(target: 'stopped' | 'disabled' | 'waiting'): Promise<void> {
    this.cancelRestartTimer();
    const host = this.host;
    if ((this.state === 'running' || this.state === 'starting') && host) {
      this.machine.to('stopping');
      const exit = await host.stop(this.definition.settings.stopTimeoutMs);
      this.log().info(`stopped (${describeExit(exit)})`);
    }
    this.host = null;
    if (this.state !== target) this.machine.to(target);
  }

  private onHostExit(host: PluginHost, verdict: ExitVerdict): void {
    this.background(async () => {
      // Exits we caused (stop, hang, a failed start) are handled where we caused them.
      if (this.host !== host || this.state !== 'running') return;
      this.host = null;
      await this.fail(verdict.kind, verdict.message);
    });
  }

  private onHostHang(host: PluginHost, message: string): void {
    this.background(async () => {
      if (this.host !== host || this.state !== 'running') return;
      this.log().warn(`hung: ${message}; killing it`);
      this.machine.to('stopping');
      await host.stop(this.definition.settings.stopTimeoutMs, { graceful: false });
      this.host = null;
      await this.fail('hang', message);
    });
  }

  /** A failure of the process: back off and restart, or disable once the restart budget is spent. */
  private async fail(kind: FailureKind, message: string): Promise<void> {
    this.lastError = { time: this.nowIso(), kind, message };
    const { exhausted, failuresInWindow } = this.budget.recordFailure();
    const { restart } = this.definition.settings;
    if (exhausted) {
      this.reason = describeExhaustion(failuresInWindow, restart.windowMs, `${kind}: ${message}`);
      this.machine.to('disabled');
      this.log().error(`disabled: ${this.reason}`);
      // Awaited under the lock: a daemon stopped right after must still find it disabled.
      await this.env.store.setDisabled(this.name, this.reason).catch((error: Error) =>
        this.log().error(`could not persist the disabled state: ${error.message}`),
      );
      return;
    }
    const delay = backoffDelay(failuresInWindow, restart, this.env.random);
    this.reason = `${kind}: ${message}; restarting in ${delay}ms`;
    this.machine.to('backoff');
    this.log().warn(this.reason);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.background(async () => {
        if (this.state === 'backoff') await this.launch('failure');
      });
    }, delay);
  }

  /**
   * Points the quota monitor at the running process tree: main threads only when nothing in it may fork
   * (the wall's bwrap processes are single-threaded), the wall's own levels left uncounted.
   */
  private watchQuotas(definition: PluginDefinition): void {
    const root = this.host?.sampleRoot;
    if (!root) return;
    const enforcement = describeEnforcement(this.env.capabilities, this.manifest, definition.permissions ?? undefined);
    this.env.quotas.watch(this.name, root.pid, definition.settings.limits, {
      canFork: enforcement.childProcess !== 'node-permission',
      wrappers: root.wrappers,
    });
  }

  private abortStart(): void {
    if (this.state !== 'starting' || !this.host) return;
    this.startAborted = true;
    this.host.kill();
  }

  private cancelRestartTimer(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
  }

  /** Refuses an operator action in the given states, with the reason and what would lift it. */
  private refuseIn(states: PluginState[], action: string): void {
    if (!states.includes(this.state)) return;
    const hint = this.state === 'disabled' && action !== 'disable' ? `; ${this.liftHint()}` : '';
    const why = this.reason ? ` (${this.reason})` : '';
    throw new RpcError(
      ErrorCodes.NotAllowedInState,
      `cannot ${action} plugin ${this.name}: it is ${this.state}${why}${hint}`,
      { state: this.state },
    );
  }

  /** While the config disables it, `warden enable` cannot: the config's next reading would disable it again. */
  private refuseHeldByConfig(action: string): void {
    if (this.state !== 'disabled' || this.definition.enabledByConfig) return;
    throw new RpcError(
      ErrorCodes.NotAllowedInState,
      `cannot ${action} plugin ${this.name}: it is ${configDisabledReason(this.name)}; ${this.liftHint()}`,
      { state: this.state },
    );
  }

  /** What the operator does to lift a disable: the config's, the persisted one, or both in that order. */
  private liftHint(): string {
    const persisted = this.env.store.get(this.name)?.disabled === true;
    if (this.definition.enabledByConfig) return 'run `warden enable` first';
    const config = `set plugins.${this.name}.enabled: true in the config and run \`warden reload\``;
    return persisted ? `${config}, then \`warden enable\`` : config;
  }

  /** Every operator action is in the plugin's log, at info, before what it causes. */
  private logOperator(action: OperatorAction): void {
    this.log().info({ by: 'operator', action }, `${action} requested by the operator`);
  }

  /** Runs lifecycle operations one at a time; errors reach the caller, never the queue. */
  private exclusive(operation: Operation): Promise<void> {
    return this.operations.run(operation);
  }

  /** An operation nobody awaits (process events, timers): its failure is logged, not lost. */
  private background(operation: Operation): void {
    this.exclusive(operation).catch((error: Error) =>
      this.log().error({ stack: error.stack }, `supervision error: ${error.message}`),
    );
  }

  private log(): Logger {
    return this.env.logs.pluginLogger(this.name, { pid: this.host?.pid ?? null, restarts: this.restarts });
  }

  private nowIso(): string {
    return new Date(this.env.clock.now()).toISOString();
  }
}
