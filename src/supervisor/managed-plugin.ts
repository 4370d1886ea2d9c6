import { onDemand, type Demand } from '../policies/activation.js';
import { ErrorCodes, RpcError } from '../protocol/index.js';
import type { DiscoveredPlugin } from '../manifest/types.js';
import { paramsProblem, schemaProblem } from '../manifest/method-schemas.js';
import type { PluginDefinition } from './definition.js';
import { describeStatus } from './facts.js';
import type { HostLike } from './host-like.js';
import type { McpSession } from '../host/mcp-client.js';
import { PluginLifecycle, type OperatorAction } from './lifecycle.js';
import { blockedBy, heldByConfig, heldDisabled, refusedIn, type RefusalFacts } from './refusals.js';
import { retire, startReplacement } from './replacement.js';
import type { McpTool, PluginState, PluginStatus, RecentError } from '../protocol/index.js';

export type { DisableStore, ManagedEnvironment, PluginDefinition, PluginEnvironment, QuotaWatch } from './definition.js';
export type { HostLike } from './host-like.js';
export type { PluginFacts } from './facts.js';

/** Each tool list by name, made once per list (a list is replaced, never changed, when the tools change). */
const toolsByName = new WeakMap<readonly McpTool[], Map<string, McpTool>>();

// Why: an MCP server's tool says what its params must be (its inputSchema), checked like a manifest's schema.
// On every call: the tool is found by name (up to MAX_TOOLS of them), its compiled schema is cached (schemaProblem).
function toolParamsProblem(tools: readonly McpTool[] | null, method: string, params: unknown): string | null {
  if (!tools || tools.length === 0) return null;
  let index = toolsByName.get(tools);
  if (!index) toolsByName.set(tools, (index = new Map(tools.map((t) => [t.name, t]))));
  const input = index.get(method)?.inputSchema;
  return input ? schemaProblem(input, params ?? {}, 'params') : null;
}

/**
 * One plugin under supervision: what the daemon and the operator ask of it (start, stop, reload,
 * calls, status), on top of its lifecycle (the state machine, its current process, the restart
 * budget and the circuit). Lifecycle operations run one at a time; a stop cuts short a start in progress.
 */
export class ManagedPlugin extends PluginLifecycle {
  /** Old instances still finishing their calls after a reload: shutdown waits for them too. */
  private readonly retiring = new Map<HostLike, Promise<void>>();
  /** A reload refused for want of approval: the version to swap in once the operator grants it. */
  private refusedReload: PluginDefinition | null = null;
  /** The daemon is shutting down: a demand starts nothing any more. */
  private closing = false;
  /** A start on demand under way, shared by every demand that arrives meanwhile. */
  private activating: Promise<void> | null = null;
  /** Through boot() (see DemandFacts.booted). */
  private booted = false;

  /** The definition it runs with now (to compare with a re-read config). */
  definitionSnapshot(): PluginDefinition {
    return this.definition;
  }

  get discovered(): DiscoveredPlugin {
    return this.definition.discovered;
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
      const held = heldDisabled(this.name, next, this.env.store);
      if (held) return this.holdDisabled(next, held);
      // Only the config held it (a persisted disable would still hold): it no longer does.
      if (this.state === 'disabled') return this.releasedByConfig(next);
      const old = this.host;
      if (this.state !== 'running' || !old) return this.adopt(next);
      if (!next.discovered.ok) return this.reloadFailed(next.discovered.reason);
      const approval = next.approval();
      if (!approval.approved) {
        this.refusedReload = next; // retried once the operator approves (reconsider)
        return this.reloadFailed(approval.refused);
      }
      this.refusedReload = null;
      let fresh: HostLike;
      try {
        fresh = await startReplacement(old, next, (definition) => this.createHost(definition), {
          snapshotTimeoutMs: this.definition.settings.callTimeoutMs,
          onSnapshotFailure: (error) =>
            this.log().warn(`warden.snapshot failed (${error.message}); the new instance starts without state`),
        });
      } catch (error) {
        return this.reloadFailed((error as Error).message);
      }
      const from = this.manifest?.version;
      this.host = fresh; // from here on, new calls go to the new instance
      this.updateDefinition(next); // also points the quota monitor at the new process tree
      this.standby.arm(); // the new instance took the standby, or it was parked for the old launch and dropped
      this.set({ startedAt: this.nowIso(), reason: null });
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
      this.set({ reason: next.discovered.reason });
      if (this.state !== 'invalid') this.machine.to('invalid');
      return;
    }
    if (this.state === 'invalid') {
      this.set({ reason: null });
      this.machine.to('stopped');
      await this.launch('reload');
    } else if (this.facts.idle && this.state === 'stopped' && (this.activation === 'eager' || this.toolsUnknown)) {
      await this.launch('reload'); // lazy no more: it starts like any eager plugin; or a new version of a lazy MCP server, to list its tools
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
    if (!next.discovered.ok) return this.adopt(next); // invalid says more than disabled
    this.updateDefinition(next);
    if (this.state === 'invalid') this.machine.to('disabled');
    this.set({ reason });
  }

  /** The config enables it again (`plugins.<name>.enabled: true`) and nothing else holds it: it starts. */
  private async releasedByConfig(next: PluginDefinition): Promise<void> {
    if (!next.discovered.ok) return this.adopt(next);
    this.updateDefinition(next);
    this.set({ reason: null });
    this.log().info(`enabled in config (plugins.${this.name}.enabled: true): starting it`);
    await this.launch('config');
  }

  /** The old instance keeps serving; the failure is shown, and does not count against its restart budget. */
  private reloadFailed(cause: string): void {
    this.set({ reason: `reload failed: ${cause}`, lastError: { time: this.nowIso(), kind: 'reload', message: cause } });
    this.log().warn(`${this.facts.reason}; the running version keeps serving`);
    this.restChanged(); // no state change, but watchers (warden.lifecycle) hear of it
  }

  /** First start at daemon start-up: only plugins that are neither invalid nor disabled. */
  boot(): Promise<void> {
    return this.exclusive(async () => {
      try {
        if (this.state === 'stopped' || this.state === 'waiting') await this.launch('boot');
      } finally {
        this.booted = true;
        this.stateSignal.fire(); // a demand that came before (a lazy plugin's first call) looks again
      }
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
      this.set({ reason: null });
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
      const wasIdle = this.facts.idle && this.state === 'stopped';
      // The operator's stop, not an idle rest: demands fail until `warden start`, and dependents wait.
      this.set({ idle: false });
      await this.halt('stopped');
      this.set({ reason: null });
      if (wasIdle) this.restChanged();
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
      this.set({ reason: null });
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
      this.set({ reason: null });
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
      // The reason first: whoever hears of the change (warden.lifecycle) hears why.
      this.set({ reason });
      if (this.state !== 'disabled') await this.halt('disabled');
      await this.env.store.setDisabled(this.name, reason);
    });
  }

  /** A dependency stopped: stop through the ladder and wait for it (only if it was up or coming up). */
  suspend(reason: string): Promise<void> {
    this.abortStart();
    return this.exclusive(async () => {
      if (this.facts.idle && this.state === 'stopped') {
        this.set({ reason });
        this.machine.to('waiting');
        return;
      }
      if (!['running', 'starting', 'backoff'].includes(this.state)) return;
      await this.halt('waiting');
      this.set({ reason });
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
      const idle = this.facts.idle && this.state === 'stopped';
      if (!idle && !['running', 'starting', 'backoff'].includes(this.state)) return;
      const blocked = blockedBy(this.definition, this.env);
      if (!blocked) return;
      if (idle) this.machine.to('waiting');
      else await this.halt('waiting');
      this.set({ reason: blocked });
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
    this.closing = true;
    this.abortStart();
    this.cancelRestartTimer();
    this.idleWatch.disarm();
    return this.exclusive(async () => {
      if (['running', 'starting', 'backoff', 'waiting'].includes(this.state)) await this.halt('stopped');
      await Promise.all(this.retiring.values());
    });
  }

  /** Forced shutdown: SIGKILL the process group now. */
  kill(): Promise<void> {
    this.cancelRestartTimer();
    this.standby.drop();
    const hosts = [...(this.host ? [this.host] : []), ...this.retiring.keys()];
    return Promise.all(hosts.map((host) => host.kill())).then(() => undefined);
  }

  /**
   * A call from a client, another plugin or a schedule. Every accepted call gets exactly one answer.
   * A lazy plugin at rest is started first, the call waiting for it (activate). Params are checked first
   * against the method's schema in the manifest, or an MCP server's tool's inputSchema (-32602 naming the field).
   */
  async call(method: string, params: unknown, timeoutMs?: number): Promise<unknown> {
    // Params that do not fit the method's schema never reach the plugin (nor start a lazy one).
    const tools = this.mcpTools;
    const problem = (this.manifest ? paramsProblem(this.manifest, method, params) : null) ?? toolParamsProblem(tools, method, params);
    if (problem) throw new RpcError(ErrorCodes.InvalidParams, problem);
    if (this.state !== 'running' || !this.host) {
      await this.activate();
      // The tools it lists now may differ from those remembered.
      const live = this.mcpTools === tools ? null : toolParamsProblem(this.mcpTools, method, params);
      if (live) throw new RpcError(ErrorCodes.InvalidParams, live);
    }
    const host = this.host!;
    const timeout = timeoutMs ?? this.definition.settings.callTimeoutMs;
    if (this.activation !== 'lazy') return this.calls.call(host, method, params, timeout);
    this.idleWatch.begin();
    try {
      return await this.calls.call(host, method, params, timeout);
    } finally {
      this.idleWatch.end();
    }
  }

  /** An event for the running process (a lazy one at rest is started for it); false (dropped) when it does not run. Resolves once written. */
  deliverEvent(event: unknown): Promise<boolean> | boolean {
    if (this.state === 'running' && this.host) {
      if (this.activation === 'lazy') this.idleWatch.touch();
      return this.host.notifyWhenWritten('warden.event', event);
    }
    if (this.demand() === 'refuse') return false;
    return this.activate().then(
      () => this.deliverEvent(event),
      () => false,
    );
  }

  /** The methods its running instance listed in its handshake; null when it is not running. */
  get servedMethods(): readonly string[] | null {
    return this.state === 'running' && this.host ? this.host.methods : null;
  }

  /** An MCP plugin's tools: its running instance's, else those remembered from its last run at this version; null when none are known. */
  get mcpTools(): readonly McpTool[] | null {
    return this.mcpSession?.tools ?? this.rememberedTools;
  }

  /** A running MCP plugin's session (protocol version, server, tools); null otherwise. */
  get mcpSession(): McpSession | null {
    return this.state === 'running' ? (this.host?.mcpSession ?? null) : null;
  }

  /** Whether a demand now would be served (it runs, or it is lazy and would start): schedules run then. */
  get takesDemand(): boolean {
    return this.demand() !== 'refuse';
  }

  /**
   * Brings a lazy plugin at rest up for a demand and resolves once it runs, waiting for a start or an
   * idle stop already under way, within its startTimeoutMs. Throws what a call to a plugin not running
   * gets (-32002 with the state and reason; -32004 once that time has passed).
   */
  async activate(): Promise<void> {
    const limitMs = this.definition.settings.startTimeoutMs;
    const deadline = this.env.clock.now() + limitMs;
    for (;;) {
      const demand = this.demand();
      if (demand === 'serve' && this.host) return;
      if (demand === 'refuse') throw this.notRunning();
      const left = deadline - this.env.clock.now();
      if (left <= 0) {
        throw new RpcError(ErrorCodes.CallTimeout, `plugin ${this.name} did not start within ${limitMs}ms (state: ${this.state})`);
      }
      if (demand === 'start') {
        this.activating ??= this.startOnDemand().finally(() => {
          this.activating = null;
          this.stateSignal.fire(); // whatever came of it, the waiters look again
        });
      }
      await this.stateSignal.next(left);
    }
  }

  /** Its lazy dependencies first, then its own start, unless something else started or stopped it meanwhile. */
  private async startOnDemand(): Promise<void> {
    this.log().info('needed: starting it');
    await this.env.activateDependencies?.(this.name);
    await this.exclusive(async () => {
      if (this.demand() === 'start') await this.launch('demand');
    }).catch((error: Error) => this.log().error(`start on demand failed: ${error.message}`));
  }

  /** What a demand would do now (src/policies/activation.ts decides). */
  private demand(): Demand {
    return onDemand({ activation: this.activation, state: this.state, idle: this.facts.idle, closing: this.closing, booted: this.booted });
  }

  /** The error a call to a plugin that is not running gets: its state and why. */
  private notRunning(): RpcError {
    const why = this.facts.reason ? `: ${this.facts.reason}` : '';
    return new RpcError(ErrorCodes.NotRunning, `plugin ${this.name} is not running (state: ${this.state})${why}`);
  }


  status(): PluginStatus {
    const { name, definition, state, host, facts } = this;
    return describeStatus({ name, definition, state, host, facts, circuit: this.calls.circuitState, capabilities: this.env.capabilities });
  }

  recentErrorList(): RecentError[] {
    return this.calls.recentErrors();
  }

  /** Refuses an operator action in the given states, with the reason and what would lift it. */
  private refuseIn(states: PluginState[], action: string): void {
    const refusal = refusedIn(states, action, this.refusalFacts());
    if (refusal) throw refusal;
  }

  /** While the config disables it, `warden enable` cannot: the config's next reading would disable it again. */
  private refuseHeldByConfig(action: string): void {
    const refusal = heldByConfig(action, this.refusalFacts());
    if (refusal) throw refusal;
  }

  private refusalFacts(): RefusalFacts {
    return {
      name: this.name,
      state: this.state,
      reason: this.facts.reason,
      enabledByConfig: this.definition.enabledByConfig,
      persistedDisable: this.env.store.get(this.name)?.disabled === true,
    };
  }

  /** Every operator action is in the plugin's log, at info, before what it causes. */
  private logOperator(action: OperatorAction): void {
    this.log().info({ by: 'operator', action }, `${action} requested by the operator`);
  }
}
