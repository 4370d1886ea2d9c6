import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import { effectivePluginConfig, isEnabledByConfig, pluginOverride, resolvePluginSettings } from '../config/plugin-settings.js';
import type { Config, PermissionsOverride } from '../config/types.js';
import { EventBus } from '../bus/event-bus.js';
import { DependencyGraph } from '../graph/index.js';
import { ErrorCodes, RpcError } from '../protocol/index.js';
import type { DiscoveredPlugin, Manifest, Permissions } from '../manifest/types.js';
import { QuotaMonitor } from '../quotas/monitor.js';
import { loadPlugin } from '../manifest/discover.js';
import { describeMethods, openRpcDocument } from '../manifest/openrpc.js';
import { approve, beyondBaseline, operatorFieldsOf, reloadRefusedReason, waitingReason } from '../policies/approval.js';
import { startConcurrency, StartSlots } from '../policies/start-slots.js';
import { effectivePermissions, realPath } from '../sandbox/permissions.js';
import { withCommandRuntime } from '../sandbox/runtime.js';
import { PluginSchedules } from '../schedules/scheduler.js';
import { background, settled } from './background.js';
import { nodeOf } from './graph-node.js';
import { ManagedPlugin, type PluginDefinition, type PluginEnvironment } from './managed-plugin.js';
import { DependencyReadiness } from './readiness.js';
import { Router, unknownPlugin } from './routing.js';
import type { PluginDescription, PluginState, PluginStatus } from '../protocol/index.js';

/** All plugins of one daemon: who they are, how they reach each other, and starting and stopping them together. */
export class Supervisor {
  private readonly plugins = new Map<string, ManagedPlugin>();
  private readonly schedules = new Map<string, PluginSchedules>();
  private config: Config;
  private readonly env: PluginEnvironment;
  private readonly logger: Logger;
  private readonly monitor: QuotaMonitor;
  /** Where calls and events between plugins, and the operator's events, go. */
  private readonly router: Router;
  /** Every plugin's dependency readiness, kept current as plugins change (their definitions read it). */
  private readonly readiness = new DependencyReadiness((name) => this.plugins.get(name));
  /** Orders, cycles and dependents, worked out again only when the plugin set or a dependency changes. */
  private readonly graph = new DependencyGraph();
  private shuttingDown = false;
  /** The time of the last failed reload each plugin had published on warden.lifecycle. */
  private readonly reloadFailuresTold = new Map<string, string>();

  constructor(config: Config, env: Omit<PluginEnvironment, 'quotas' | 'onStateChange' | 'onStateOrDefinition' | 'sandbox'>) {
    this.config = config;
    this.logger = env.logs.logger;
    // One sampling pass for every plugin per tick; verdicts come back to the plugin they concern.
    this.monitor = new QuotaMonitor({
      intervalMs: config.sampling.intervalMs,
      cpuSamples: config.sampling.cpuSamples,
      countersOf: (pid) => env.capabilities.cgroup?.countersOf(pid) ?? null,
      onSample: (name, sample) => this.plugins.get(name)?.recordUsage(sample),
      onWarning: (name, message) => env.logs.pluginLogger(name, { pid: null, restarts: 0 }).warn(`quota: ${message}`),
      onBreach: (name, breach) => {
        const plugin = this.plugins.get(name);
        if (plugin) this.background(name, 'quota stop', plugin.quotaBreach(breach));
      },
      onError: (error) => this.logger.error({ stack: error.stack }, `sampling failed: ${error.message}`),
    });
    const bus = new EventBus({
      onOverflow: (name, dropped) =>
        this.logger.warn({ plugin: name, dropped }, `events for ${name} are arriving faster than it takes them: dropped the ${dropped} oldest`),
      onError: (name, error) => this.logger.error({ plugin: name }, `event delivery to ${name} failed: ${error.message}`),
      onOutcome: (name, outcome, count) => env.metrics.countEvents(name, outcome, count),
    });
    this.router = new Router({ plugins: (name) => this.plugins.get(name), bus, logger: this.logger });
    this.env = {
      ...env,
      quotas: this.monitor,
      sandbox: sandboxSettings(config),
      onStateChange: (name, from, to) => {
        this.followDependencies(name, from, to);
        this.publishLifecycle(name, from, to);
      },
      onStateOrDefinition: (name) => this.readiness.refresh(name),
      onDefinition: (name) => {
        const plugin = this.plugins.get(name);
        if (plugin) this.graph.set(nodeOf(plugin));
      },
      // A few starts at a time, each answering at the speed of one, rather than all at once and all late.
      starts: new StartSlots(startConcurrency(availableParallelism())),
      activateDependencies: (name) => this.activateDependencies(name),
    };
  }

  /** Takes the discovered plugins under supervision (nothing starts yet). */
  load(discovered: DiscoveredPlugin[]): void {
    for (const entry of discovered) this.add(entry);
    this.markCycles();
  }

  /** Starts every plugin that may run, dependencies first; resolves when each has started, failed or is waiting. */
  async bootAll(): Promise<void> {
    this.monitor.start();
    const started = new Map<string, Promise<void>>();
    for (const name of this.graph.startOrder()) {
      const plugin = this.plugins.get(name);
      if (!plugin) continue;
      const deps = Object.keys(plugin.manifest?.dependencies ?? {});
      const ready = Promise.all(deps.map((dep) => started.get(dep) ?? Promise.resolve()));
      started.set(name, settled(this.logger, `boot of ${name}`, ready.then(() => plugin.boot()), { plugin: name }));
    }
    await Promise.all(started.values());
  }

  /** Graceful stop of every plugin through the kill ladder, dependents before their dependencies. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const schedules of this.schedules.values()) schedules.stop();
    const stopped = new Map<string, Promise<void>>();
    for (const name of this.graph.stopOrder().concat([...this.plugins.keys()])) {
      if (stopped.has(name)) continue;
      const plugin = this.plugins.get(name)!;
      const dependents = this.graph.directDependentsOf(name);
      const after = Promise.all(dependents.map((d) => stopped.get(d) ?? Promise.resolve()));
      stopped.set(name, after.then(() => plugin.shutdown()));
    }
    await Promise.all(stopped.values());
    this.monitor.stop();
  }

  /** SIGKILL to every plugin's process group: the second signal during shutdown. */
  killAll(): Promise<void> {
    return Promise.all([...this.plugins.values()].map((plugin) => plugin.kill())).then(() => undefined);
  }

  get(name: string): ManagedPlugin {
    const plugin = this.plugins.get(name);
    if (!plugin) throw unknownPlugin(name);
    return plugin;
  }

  /** `plugin.get`: the status plus recent errors, schedules and event counts. */
  details(name: string) {
    const plugin = this.get(name);
    return {
      ...plugin.status(),
      recentErrors: plugin.recentErrorList(),
      schedules: this.schedules.get(name)?.status() ?? [],
      events: this.router.eventStats(name),
      mcp: plugin.mcpSession ? { protocolVersion: plugin.mcpSession.protocolVersion, serverInfo: plugin.mcpSession.serverInfo } : null,
    };
  }

  /** `plugin.describe`: its methods, as its manifest describes them and as its running instance serves them. */
  describe(name: string): PluginDescription {
    const plugin = this.get(name);
    const status = plugin.status();
    const manifest = plugin.manifest;
    return {
      name,
      version: status.version ?? manifest?.version ?? '',
      description: manifest?.description ?? '',
      state: status.state,
      methods: manifest ? describeMethods(manifest, plugin.servedMethods, plugin.mcpTools ?? []) : [],
    };
  }

  /** `rpc.discover`: one OpenRPC document of the methods a call would reach (running plugins, and lazy ones at rest). */
  discover(version: string): Record<string, unknown> {
    const reachable = [...this.plugins.values()].filter((p) => p.state === 'running' || p.availableOnDemand).sort((a, b) => a.name.localeCompare(b.name));
    return openRpcDocument(reachable.map((p) => this.describe(p.name)), version);
  }

  statuses(): PluginStatus[] {
    return [...this.plugins.values()].map((plugin) => plugin.status()).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The duration and reach of the last sampling pass (bench, status). */
  get lastSamplingPass() {
    return this.monitor.lastPass;
  }

  /** `events.publish` from an operator. */
  publish(topic: string, data: unknown): { delivered: number } {
    return this.router.publish(topic, data);
  }

  /**
   * A re-read config: plugins whose effective settings changed are reloaded blue/green; the rest keep running
   * untouched. One the config now disables (`plugins.<name>.enabled: false`) stops and rests disabled; one it
   * enables again starts (ManagedPlugin.reload decides).
   */
  async applyConfig(config: Config): Promise<void> {
    this.config = config;
    // Shared with every plugin: the next start of each uses these.
    Object.assign(this.env.sandbox, sandboxSettings(config));
    this.monitor.setIntervalMs(config.sampling.intervalMs);
    await Promise.all(
      [...this.plugins].map(async ([name, plugin]) => {
        const next = this.definitionFor(name, plugin.discovered);
        if (sameSettings(plugin.definitionSnapshot(), next)) return;
        // Disabled before or after: the plugin says what it does (stops, stays disabled, starts).
        const toggled = !next.enabledByConfig || !plugin.definitionSnapshot().enabledByConfig;
        this.logger.info({ plugin: name }, `config for ${name} changed${toggled ? '' : '; reloading it'}`);
        await plugin.reload(next);
      }),
    );
  }

  /**
   * `warden plugin grant`: approves what the plugin's manifest on disk asks for now, records it, and
   * lets the plugin start (or a refused reload go through).
   */
  async grant(name: string): Promise<void> {
    const plugin = this.get(name);
    const entry = await loadPlugin(plugin.discovered.dir);
    if (!entry.ok) throw new RpcError(ErrorCodes.NotAllowedInState, `cannot grant plugin ${name}: its manifest is invalid (${entry.reason})`);
    const permissions = this.permissionsOf(entry.manifest, entry.dir, pluginOverride(this.config, name)?.permissions);
    await this.env.store.setGrant(name, beyondBaseline(permissions, realPath(entry.dir)), entry.manifest.version);
    this.logger.info({ plugin: name, by: 'operator', action: 'grant' }, `permissions of ${name} ${entry.manifest.version} approved by the operator`);
    await plugin.reconsider();
  }

  /** `warden plugin revoke`: withdraws the grant; a plugin that needs it goes back to waiting. */
  async revoke(name: string): Promise<void> {
    const plugin = this.get(name);
    await this.env.store.clearGrant(name);
    this.logger.info({ plugin: name, by: 'operator', action: 'revoke' }, `permissions of ${name} withdrawn by the operator`);
    await plugin.reconsider();
  }

  /** The folders a plugin writes to at run time (its effective fs.write): changes there are not reloads. */
  runtimePaths(dir: string): string[] {
    const plugin = [...this.plugins.values()].find((p) => p.discovered.dir === dir);
    return plugin?.definitionSnapshot().permissions?.fs.write ?? [];
  }

  /** A new plugin folder: supervise it and start it (if its dependencies allow). */
  async added(entry: DiscoveredPlugin): Promise<void> {
    const plugin = this.add(entry);
    this.markCycles();
    await plugin?.boot();
  }

  /** A plugin folder whose files changed: reload that plugin (blue/green when it is running). */
  async changed(entry: DiscoveredPlugin): Promise<void> {
    const existing = [...this.plugins.values()].find((p) => p.discovered.dir === entry.dir);
    const name = entry.ok ? entry.manifest.name : entry.name;
    if (existing && existing.name !== name && entry.ok) {
      // Renamed in its manifest: the old one goes, the new one comes.
      await this.removed(entry.dir);
      await this.added(entry);
      return;
    }
    if (!existing) return this.added(entry);
    await existing.reload(this.definitionFor(existing.name, entry));
    this.armSchedules(existing);
    this.router.subscribe(existing);
    this.markCycles();
  }

  /** A plugin folder that is gone: stop it through the ladder and forget it. */
  async removed(dir: string): Promise<void> {
    const plugin = [...this.plugins.values()].find((p) => p.discovered.dir === dir);
    if (!plugin) return;
    this.schedules.get(plugin.name)?.stop();
    this.schedules.delete(plugin.name);
    this.router.unsubscribe(plugin.name);
    await plugin.shutdown();
    this.plugins.delete(plugin.name);
    this.graph.remove(plugin.name);
    this.readiness.forget(plugin.name);
    this.env.metrics.forget(plugin.name);
    this.env.logs.forget(plugin.name);
    this.logger.info({ plugin: plugin.name }, `plugin ${plugin.name} removed (${dir})`);
  }

  private add(entry: DiscoveredPlugin): ManagedPlugin | null {
    let name = entry.ok ? entry.manifest.name : entry.name;
    // A second folder claiming a taken name is listed under its folder's name, so it still shows.
    if (this.plugins.has(name) && !entry.ok) name = basename(entry.dir);
    if (this.plugins.has(name)) {
      this.logger.error({ dir: entry.dir }, `plugin ${name} in ${entry.dir} ignored: the name is taken`);
      return null;
    }
    const plugin = new ManagedPlugin(name, this.definitionFor(name, entry), this.env);
    this.plugins.set(name, plugin);
    this.graph.set(nodeOf(plugin));
    this.readiness.refresh(name);
    if (!entry.ok) this.logger.warn({ plugin: name, dir: entry.dir }, `plugin ${name} is invalid: ${entry.reason}`);
    this.armSchedules(plugin);
    this.router.subscribe(plugin);
    return plugin;
  }

  /** Every plugin in a dependency cycle is invalid, with the cycle spelled out. */
  private markCycles(): void {
    for (const cycle of this.graph.cycles()) {
      for (const name of cycle.members) {
        const plugin = this.plugins.get(name);
        if (!plugin || !plugin.discovered.ok) continue;
        const { manifest, dir } = plugin.discovered;
        const invalid: DiscoveredPlugin = { ok: false, dir, name, version: manifest.version, kind: manifest.kind, reason: cycle.text };
        this.background(name, 'reload', plugin.reload(this.definitionFor(name, invalid)));
      }
    }
  }

  /** Every state change on the bus as `warden.lifecycle`, so a plugin can watch the others (a notifier, a dashboard). */
  private publishLifecycle(name: string, from: PluginState, to: PluginState): void {
    const status = this.plugins.get(name)?.status();
    if (!status) return;
    if (from === to) {
      // Without a state change only a failed reload is news (the old version keeps serving), once each.
      const failed = status.lastError?.kind === 'reload' ? status.lastError.time : null;
      if (failed === null || this.reloadFailuresTold.get(name) === failed) return;
      this.reloadFailuresTold.set(name, failed);
    }
    this.router.lifecycle({ plugin: name, from, to, reason: status.reason });
  }

  /**
   * Dependents follow their dependencies: they wait while one is down and start when all are up (or it
   * is lazy and at rest: available on demand).
   */
  private followDependencies(name: string, _from: PluginState, to: PluginState): void {
    if (this.shuttingDown) return;
    const dependency = this.plugins.get(name);
    if (to === 'running' || dependency?.availableOnDemand) {
      for (const dependent of this.graph.directDependentsOf(name)) {
        const plugin = this.plugins.get(dependent);
        if (plugin?.state === 'waiting') this.background(dependent, 'resume', plugin.resume());
      }
    } else if (RESTING.has(to)) {
      // Once it has come to rest down, not while it is still stopping: dependents keep serving until then.
      for (const dependent of this.graph.directDependentsOf(name)) {
        const plugin = this.plugins.get(dependent);
        if (plugin) this.background(dependent, 'suspend', plugin.suspend(`waiting for ${name}: it is ${to}`));
      }
    }
  }

  /** Before a lazy plugin starts on demand, its dependencies at rest start (on demand in turn); failures show in its own start. */
  private async activateDependencies(name: string): Promise<void> {
    const deps = Object.keys(this.plugins.get(name)?.manifest?.dependencies ?? {});
    const idle = deps.map((dep) => this.plugins.get(dep)).filter((dep) => dep?.availableOnDemand);
    await Promise.allSettled(idle.map((dep) => dep!.activate()));
  }

  /** Work on one plugin that nobody awaits: a failure is logged as `<what> of <plugin> failed: ...`. */
  private background(plugin: string, what: string, work: Promise<unknown>): void {
    background(this.logger, `${what} of ${plugin}`, work, { plugin });
  }

  private armSchedules(plugin: ManagedPlugin): void {
    this.schedules.get(plugin.name)?.stop();
    const specs = plugin.manifest?.schedules ?? [];
    if (specs.length === 0) {
      this.schedules.delete(plugin.name);
      return;
    }
    const log = this.env.logs.pluginLogger(plugin.name, { pid: null, restarts: 0 });
    const schedules = new PluginSchedules({
      plugin: plugin.name,
      schedules: specs,
      call: (method, params) => {
        this.env.metrics.scheduleRun(plugin.name);
        return plugin.call(method, params);
      },
      // A lazy plugin at rest is started for the run.
      isRunning: () => plugin.takesDemand,
      onSkip: (index, why) => {
        this.env.metrics.scheduleSkipped(plugin.name, why);
        log.debug(`schedule ${specs[index]?.cron} ${specs[index]?.method} skipped: ${why}`);
      },
      onError: (index, error) => log.warn(`schedule ${specs[index]?.cron} ${specs[index]?.method} failed: ${error.message}`),
    });
    this.schedules.set(plugin.name, schedules);
    schedules.start();
  }

  /** What a plugin may do: its manifest's permissions with the operator's overrides, and its command's runtime to read (sandbox/runtime.ts). */
  private permissionsOf(manifest: Manifest, dir: string, override: PermissionsOverride | undefined): Permissions {
    return withCommandRuntime(effectivePermissions(manifest.permissions, override, dir), manifest, dir, this.env.capabilities.wall?.layout ?? null);
  }

  private definitionFor(name: string, discovered: DiscoveredPlugin): PluginDefinition {
    const manifest = discovered.ok ? discovered.manifest : null;
    const override = pluginOverride(this.config, name);
    const { settings, warnings } = resolvePluginSettings(this.config, name, manifest);
    for (const warning of warnings) this.logger.warn({ plugin: name }, warning);
    const permissions = manifest ? this.permissionsOf(manifest, discovered.dir, override?.permissions) : null;
    return {
      discovered,
      settings,
      config: effectivePluginConfig(manifest?.config ?? {}, override?.config ?? {}),
      permissions,
      enabledByConfig: isEnabledByConfig(this.config, name),
      requests: this.router.requestsFrom(name),
      approval: () => {
        if (!manifest || !permissions) return { approved: true };
        const verdict = approve({
          requested: beyondBaseline(permissions, realPath(discovered.dir)),
          granted: this.env.store.getGrant(name)?.request ?? null,
          operatorFields: operatorFieldsOf(override?.permissions),
          mode: this.config.permissions.approval,
        });
        if (verdict.approved) return verdict;
        return { approved: false, waiting: waitingReason(name, verdict.missing), refused: reloadRefusedReason(name, verdict.missing) };
      },
      dependencies: () => this.readiness.of(name),
    };
  }
}

/** The wall's settings for every plugin: the daemon's own paths are never bound into a sandbox. */
function sandboxSettings(config: Config): PluginEnvironment['sandbox'] {
  const paths = [config.socket.path, config.stateDir, config.logging.dir, config.pluginsDir, ...(config.file ? [config.file] : [])];
  return { protectedPaths: paths, tmpMb: config.sandbox.tmpMb, require: config.sandbox.require };
}

/** States in which a plugin is down and stays down until something happens. */
const RESTING = new Set<PluginState>(['stopped', 'backoff', 'disabled', 'invalid', 'waiting']);

/** Whether a reload would change anything for a plugin: same files, same effective settings. */
function sameSettings(a: PluginDefinition, b: PluginDefinition): boolean {
  const facts = (d: PluginDefinition) => JSON.stringify([d.settings, d.config, d.permissions, d.enabledByConfig]);
  return a.discovered === b.discovered && facts(a) === facts(b);
}
