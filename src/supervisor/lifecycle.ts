import type { Logger } from 'pino';
import { describeExit, type ExitVerdict } from '../host/exit.js';
import { ErrorCodes } from '../protocol/index.js';
import type { Manifest } from '../manifest/types.js';
import { IDLE_REASON, launchVerdict, type Activation } from '../policies/activation.js';
import { decideAfterFailure } from '../policies/after-failure.js';
import { countsAsRestart, startsWithClosedCircuit, type LaunchCause } from '../policies/launch-cause.js';
import { RestartBudget } from '../policies/restart-budget.js';
import { PluginStateMachine } from '../policies/state-machine.js';
import type { QuotaBreach, UsageSample } from '../quotas/types.js';
import { background } from './background.js';
import { CallGate } from './calls.js';
import type { ManagedEnvironment, PluginDefinition } from './definition.js';
import { describeEnforcement } from './enforcement.js';
import { NO_FACTS, usageFigures, withFacts, type PluginFacts } from './facts.js';
import type { HostLike } from './host-like.js';
import { createInstance, parkStandby } from './instance.js';
import { blockedBy, heldDisabled } from './refusals.js';
import { IdleWatch, StateSignal } from './on-demand.js';
import { SerialQueue } from './serial.js';
import { StandbyKeeper } from './standby.js';
import { realTimers, type Timers } from './timers.js';
import type { FailureKind, McpTool, PluginState } from '../protocol/index.js';

type Operation = () => Promise<void>;

/** What the operator may ask of a plugin on the control socket (each is logged with `by: "operator"`). */
export type OperatorAction = 'start' | 'stop' | 'restart' | 'enable' | 'disable';

/**
 * The process side of one supervised plugin: its state machine, the instance that serves it, the
 * start and the stop ladder, and what follows a failure (the restart budget, the backoff timer).
 * Everything here runs under the plugin's lock (exclusive); ManagedPlugin adds what the daemon and
 * the operator ask of it.
 */
export abstract class PluginLifecycle {
  readonly name: string;
  protected definition: PluginDefinition;
  protected readonly env: ManagedEnvironment;
  protected readonly timers: Timers;
  protected readonly machine: PluginStateMachine;
  protected readonly budget: RestartBudget;
  protected readonly calls: CallGate;
  /** The instance that serves calls now. */
  protected host: HostLike | null = null;
  private readonly operations = new SerialQueue();
  private restartTimer: unknown = null;
  private startAborted = false;
  /** Reason, last error, start time, restarts and usage: replaced whole by set(), read by status(). */
  protected facts: Readonly<PluginFacts> = NO_FACTS;
  /** Numbers each process instance, so each gets a cgroup of its own. */
  private instances = 0;
  /** A start waiting for a slot (env.starts): a stop withdraws it. */
  private startTicket: { release(): void } | null = null;
  /** What the last instance's `warden.snapshot` gave before an idle stop: the next start's `state`. */
  protected carriedState: unknown = null;
  /** A lazy plugin's calls in flight and last activity, and the timer that stops it once idle. */
  protected readonly idleWatch: IdleWatch;
  /** Wakes whoever waits for a start or an idle stop under way. */
  protected readonly stateSignal: StateSignal;
  /** The next instance's launch parked ahead (restart.standby). */
  protected readonly standby: StandbyKeeper;

  constructor(name: string, definition: PluginDefinition, env: ManagedEnvironment) {
    this.name = name;
    this.definition = definition;
    this.env = env;
    this.timers = env.timers ?? realTimers;
    this.idleWatch = new IdleWatch(env.clock, this.timers, () => this.background(() => this.idleStop()));
    this.stateSignal = new StateSignal(this.timers);
    this.standby = new StandbyKeeper({
      timers: this.timers,
      wanted: () => this.definition.settings.restart.standby,
      running: () => this.state === 'running',
      park: () => parkStandby(this.definition, { name: this.name, env: this.env, nextInstance: () => ++this.instances, log: () => this.log() }),
      log: () => this.log(),
    });
    this.budget = new RestartBudget(definition.settings.restart, env.clock);
    this.calls = new CallGate({
      plugin: name,
      circuit: definition.settings.circuit,
      clock: env.clock,
      metrics: env.metrics,
      onFailure: (method, error) => {
        // A call cut short by the plugin's exit is not the failure: the exit is, and it is recorded where it is observed.
        if (error.code === ErrorCodes.PluginExited) return;
        this.set({ lastError: { time: this.nowIso(), kind: 'call', message: `${method}: ${error.message}` } });
      },
      log: () => this.log(),
    });
    let initial: PluginState = 'stopped';
    const held = heldDisabled(name, definition, env.store);
    if (!definition.discovered.ok) {
      initial = 'invalid';
      this.set({ reason: definition.discovered.reason });
    } else if (held) {
      initial = 'disabled';
      this.set({ reason: held });
    }
    this.machine = new PluginStateMachine(initial, (from, to) => this.onStateChange(from, to));
    env.metrics.setState(name, initial);
    env.metrics.setRestarts(name, 0);
  }

  get state(): PluginState {
    return this.machine.state;
  }

  get manifest(): Manifest | null {
    return this.definition.discovered.ok ? this.definition.discovered.manifest : null;
  }

  /** eager, or lazy (docs/manifest.md, "activation and idleStopMs"); an invalid plugin is eager. */
  get activation(): Activation {
    return this.manifest?.activation ?? 'eager';
  }

  /** A lazy plugin at rest, or being stopped for it: its dependents count it as available, and a demand starts it. */
  get availableOnDemand(): boolean {
    return this.facts.idle && this.activation === 'lazy';
  }

  /** Applies new settings (config reload); they take effect for the next process and the next calls. */
  updateDefinition(definition: PluginDefinition): void {
    this.definition = definition;
    this.env.onDefinition?.(this.name);
    this.env.onStateOrDefinition?.(this.name);
    this.budget.updateSettings(definition.settings.restart);
    this.calls.updateSettings(definition.settings.circuit);
    if (this.state === 'running') {
      this.watchQuotas(definition);
      this.idleWatch.follow(this.manifest);
    }
  }

  /** A sample of the running process tree, from the quota monitor. */
  recordUsage(sample: UsageSample): void {
    if (this.state !== 'running') return;
    this.set({ usage: sample });
    this.env.metrics.setUsage(this.name, usageFigures(sample));
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

  /** Replaces the plugin's facts with a new record: the one way reason, lastError, startedAt, restarts and usage change. */
  protected set(patch: Partial<PluginFacts>): void {
    this.facts = withFacts(this.facts, patch);
  }

  /** Everything that follows from a state change lives here, so no transition can forget it. */
  private onStateChange(from: PluginState, to: PluginState): void {
    this.log().debug({ from, to }, `state ${from} -> ${to}`);
    // Idle holds only at rest without a process, and on the way there.
    if (this.facts.idle && to !== 'stopping' && to !== 'stopped') this.set({ idle: false });
    this.env.metrics.setState(this.name, to);
    this.env.onStateOrDefinition?.(this.name);
    const listener = this.env.onStateChange;
    if (listener) queueMicrotask(() => listener(this.name, from, to));
    if (to === 'running' || from === 'running') this.rememberTools(); // listed at start, or changed since (tools/list_changed)
    if (to === 'running') {
      this.watchQuotas(this.definition);
      this.idleWatch.follow(this.manifest);
      this.standby.arm();
    } else if (to === 'stopped' || to === 'disabled' || to === 'waiting' || to === 'invalid') {
      this.standby.drop();
    }
    if (to !== 'running' && from === 'running') {
      this.idleWatch.disarm();
      this.env.quotas.unwatch(this.name);
      this.set({ usage: null });
      this.env.metrics.setUsage(this.name, null);
    }
    this.stateSignal.fire();
  }

  /**
   * Spawns a process and completes the handshake; a failure goes to the restart policy. Runs under the lock.
   * `cause` decides whether it counts as a restart and whether it begins with a closed circuit
   * (`action` names the operator's, for the log).
   */
  protected async launch(cause: LaunchCause, action?: OperatorAction): Promise<void> {
    const discovered = this.definition.discovered;
    if (!discovered.ok) return;
    if (startsWithClosedCircuit(cause)) this.calls.reset(action ? `${action} by the operator` : 'enabled again in config');
    const dependencies = this.definition.dependencies();
    // It starts by itself once they are satisfied (the supervisor calls resume()).
    if (!dependencies.ok) return this.wait(dependencies.reason);
    const blocked = blockedBy(this.definition, this.env);
    if (blocked) {
      // It starts once the operator acts (grant, or a host with the wall and a daemon restart).
      this.wait(blocked);
      this.log().warn(blocked);
      return;
    }
    // A lazy plugin rests until it is needed (the policy says when a cause is a need), unless its tools must be learnt first.
    const verdict = launchVerdict(this.activation, cause, this.toolsUnknown);
    if (verdict === 'rest') return this.restIdle();
    if (verdict === 'discover') this.log().info(`its tools at version ${this.manifest?.version} are not known yet: starting it once to list them`);
    this.startAborted = false;
    this.machine.to('starting');
    if (countsAsRestart(cause)) {
      this.set({ restarts: this.facts.restarts + 1 });
      this.env.metrics.setRestarts(this.name, this.facts.restarts);
    }
    const host = await this.startInstance();
    if (!host || this.startAborted) return;
    this.machine.to('running');
    this.set({ startedAt: this.nowIso(), reason: null });
    this.log().info({ methods: host.methods }, `running (pid ${host.pid})`);
    // Started only to learn its tools: it stops as soon as nothing keeps it busy.
    if (verdict === 'discover') this.idleWatch.arm(0);
  }

  /** An MCP plugin's tools remembered from its last run at this version (env.tools), or null. */
  protected get rememberedTools(): readonly McpTool[] | null {
    const remembered = this.env.tools?.get(this.name);
    return remembered && remembered.version === this.manifest?.version ? remembered.tools : null;
  }

  /** A lazy MCP plugin whose tools at this version warden has never seen (policies/activation.ts, launchVerdict). */
  protected get toolsUnknown(): boolean {
    return this.manifest?.protocol === 'mcp' && this.env.tools !== undefined && this.rememberedTools === null;
  }

  /** Keeps what the instance now serving lists as its tools (an MCP plugin's), for when it sleeps. */
  protected rememberTools(): void {
    const session = this.host?.mcpSession;
    const version = this.manifest?.version;
    if (session && version !== undefined) this.env.tools?.remember(this.name, version, session.tools);
  }

  /**
   * One instance spawned and through its handshake, within a start slot (so its start timeout counts from
   * its own spawn); null when it failed (handled here) or a stop withdrew it (the stop finishes the job).
   */
  private async startInstance(): Promise<HostLike | null> {
    const ticket = this.env.starts?.acquire();
    this.startTicket = ticket ?? null;
    let host: HostLike | null = null;
    let failure: string;
    try {
      if ((ticket && !(await ticket.granted)) || this.startAborted) return null;
      host = this.createHost(this.definition);
      this.host = host;
      const state = this.carriedState;
      this.carriedState = null;
      await host.start({ config: this.definition.config, state });
      return host;
    } catch (error) {
      if (this.startAborted) return null;
      failure = (error as Error).message;
    } finally {
      ticket?.release();
      this.startTicket = null;
    }
    await host?.stop(this.definition.settings.stopTimeoutMs, { graceful: false });
    await this.fail('start', failure);
    return null;
  }

  /** A lazy plugin with nothing to wait for and no need yet: `stopped`, reason idle, no process. */
  private restIdle(): void {
    this.set({ reason: IDLE_REASON, idle: true });
    if (this.state !== 'stopped') this.machine.to('stopped');
    else this.restChanged(); // no state change: its dependents learn it is available
  }

  /** Its rest changed without a state change (idle, or no longer): readiness and dependents follow as after one. */
  protected restChanged(): void {
    this.env.onStateOrDefinition?.(this.name);
    const listener = this.env.onStateChange;
    if (listener) queueMicrotask(() => listener(this.name, this.state, this.state));
  }

  /**
   * Idle for idleStopMs: its state is asked for (carried into the next start), then it stops through the
   * ladder and rests idle. A call that began meanwhile keeps it running.
   */
  private async idleStop(): Promise<void> {
    const host = this.host;
    if (this.state !== 'running' || !host || this.activation !== 'lazy') return;
    if (!this.idleWatch.due()) return this.idleWatch.follow(this.manifest); // a call came meanwhile: watch again
    const snapshot = await host.request('warden.snapshot', {}, this.definition.settings.callTimeoutMs).catch(() => null);
    if (this.host !== host || this.state !== 'running') return;
    if (!this.idleWatch.due()) return this.idleWatch.follow(this.manifest);
    this.log().info(this.idleWatch.windowMs === 0 ? 'its tools are listed: stopping it until it is needed' : `idle for ${this.manifest?.idleStopMs}ms: stopping it until it is needed`);
    this.carriedState = snapshot;
    this.set({ reason: IDLE_REASON, idle: true });
    await this.halt('stopped');
  }

  /** Rests `waiting` for what `reason` says. */
  private wait(reason: string): void {
    this.set({ reason });
    if (this.state !== 'waiting') this.machine.to('waiting');
  }

  /** A process for `definition`, numbered, reporting its exit and hangs back here. */
  protected createHost(definition: PluginDefinition): HostLike {
    return createInstance(definition, {
      name: this.name,
      env: this.env,
      nextInstance: () => ++this.instances,
      restarts: () => this.facts.restarts,
      onExit: (host, verdict) => this.onHostExit(host, verdict),
      onHang: (host, message) => this.onHostHang(host, message),
      log: () => this.log(),
      takeStandby: () => this.standby.take(),
    });
  }

  /** Takes a live or starting process down the ladder and settles in `target`. Runs under the lock. */
  protected async halt(target: 'stopped' | 'disabled' | 'waiting'): Promise<void> {
    this.cancelRestartTimer();
    const host = this.host;
    if ((this.state === 'running' || this.state === 'starting') && host) {
      this.machine.to('stopping');
      const exit = await host.stop(this.definition.settings.stopTimeoutMs);
      this.log().info(`stopped (${describeExit(exit)})`);
    } else if (this.state === 'starting') {
      this.machine.to('stopping'); // withdrawn while it waited for a start slot: no process yet
    }
    this.host = null;
    if (this.state !== target) this.machine.to(target);
  }

  private onHostExit(host: HostLike, verdict: ExitVerdict): void {
    this.background(async () => {
      // Exits we caused (stop, hang, a failed start) are handled where we caused them.
      if (this.host !== host || this.state !== 'running') return;
      this.host = null;
      await this.fail(verdict.kind, verdict.message);
    });
  }

  private onHostHang(host: HostLike, message: string): void {
    this.background(async () => {
      if (this.host !== host || this.state !== 'running') return;
      this.log().warn(`hung: ${message}; killing it`);
      this.machine.to('stopping');
      await host.stop(this.definition.settings.stopTimeoutMs, { graceful: false });
      this.host = null;
      await this.fail('hang', message);
    });
  }

  /** A failure of the process: the after-failure policy says back off and restart, or disable (budget spent). */
  private async fail(kind: FailureKind, message: string): Promise<void> {
    const decision = decideAfterFailure({
      kind,
      message,
      budget: this.budget.recordFailure(),
      restart: this.definition.settings.restart,
      random: this.env.random,
    });
    this.set({ lastError: { time: this.nowIso(), kind, message }, reason: decision.reason });
    if (decision.action === 'disable') {
      this.machine.to('disabled');
      this.log().error(`disabled: ${decision.reason}`);
      // Awaited under the lock: a daemon stopped right after must still find it disabled.
      await this.env.store.setDisabled(this.name, decision.reason).catch((error: Error) =>
        this.log().error(`could not persist the disabled state: ${error.message}`),
      );
      return;
    }
    this.machine.to('backoff');
    this.log().warn(decision.reason);
    this.restartTimer = this.timers.setTimeout(() => {
      this.restartTimer = null;
      this.background(async () => {
        if (this.state === 'backoff') await this.launch('failure');
      });
    }, decision.delayMs);
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

  protected abortStart(): void {
    if (this.state !== 'starting') return;
    this.startAborted = true;
    this.startTicket?.release();
    void this.host?.kill();
  }

  protected cancelRestartTimer(): void {
    if (this.restartTimer !== null) this.timers.clearTimeout(this.restartTimer);
    this.restartTimer = null;
  }

  /** Runs lifecycle operations one at a time; errors reach the caller, never the queue. */
  protected exclusive(operation: Operation): Promise<void> {
    return this.operations.run(operation);
  }

  /** An operation nobody awaits (process events, timers): its failure is logged, not lost. */
  protected background(operation: Operation): void {
    background(() => this.log(), 'supervision', this.exclusive(operation));
  }

  protected log(): Logger {
    return this.env.logs.pluginLogger(this.name, { pid: this.host?.pid ?? null, restarts: this.facts.restarts });
  }

  protected nowIso(): string {
    return new Date(this.env.clock.now()).toISOString();
  }
}
