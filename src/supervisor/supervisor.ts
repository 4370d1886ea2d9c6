import { basename } from 'node:path';
import type { Logger } from 'pino';
import { effectivePluginConfig, isEnabledByConfig, pluginOverride, resolvePluginSettings } from '../config/plugin-settings.js';
import type { Config } from '../config/types.js';
import type { PluginRequests } from '../host/plugin-host.js';
import { ErrorCodes, RpcError } from '../host/rpc-error.js';
import type { DiscoveredPlugin } from '../manifest/types.js';
import { QuotaMonitor } from '../quotas/monitor.js';
import { effectivePermissions } from '../sandbox/permissions.js';
import { ManagedPlugin, type PluginDefinition, type PluginEnvironment } from './managed-plugin.js';
import type { PluginStatus } from './types.js';

/** All plugins of one daemon: who they are, how they reach each other, and starting and stopping them together. */
export class Supervisor {
  private readonly plugins = new Map<string, ManagedPlugin>();
  private config: Config;
  private readonly env: PluginEnvironment;
  private readonly logger: Logger;
  private readonly monitor: QuotaMonitor;

  constructor(config: Config, env: Omit<PluginEnvironment, 'quotas'>) {
    this.config = config;
    this.logger = env.logs.logger;
    // One sampling pass for every plugin per tick; verdicts come back to the plugin they concern.
    this.monitor = new QuotaMonitor({
      intervalMs: config.sampling.intervalMs,
      cpuSamples: config.sampling.cpuSamples,
      onSample: (name, sample) => this.plugins.get(name)?.recordUsage(sample),
      onWarning: (name, message) => env.logs.pluginLogger(name, { pid: null, restarts: 0 }).warn(`quota: ${message}`),
      onBreach: (name, breach) => {
        this.plugins.get(name)?.quotaBreach(breach).catch((error: Error) =>
          this.logger.error({ plugin: name }, `quota stop of ${name} failed: ${error.message}`),
        );
      },
      onError: (error) => this.logger.error({ stack: error.stack }, `sampling failed: ${error.message}`),
    });
    this.env = { ...env, quotas: this.monitor };
  }

  /** Takes the discovered plugins under supervision (nothing starts yet). */
  load(discovered: DiscoveredPlugin[]): void {
    for (const entry of discovered) {
      let name = entry.ok ? entry.manifest.name : entry.name;
      // A second folder claiming a taken name is listed under its folder's name, so it still shows.
      if (this.plugins.has(name) && !entry.ok) name = basename(entry.dir);
      if (this.plugins.has(name)) {
        this.logger.error({ dir: entry.dir }, `plugin ${name} in ${entry.dir} ignored: the name is taken`);
        continue;
      }
      this.plugins.set(name, new ManagedPlugin(name, this.definitionFor(name, entry), this.env));
      if (!entry.ok) this.logger.warn({ plugin: name, dir: entry.dir }, `plugin ${name} is invalid: ${entry.reason}`);
    }
  }

  /** Starts every plugin that may run, in parallel; resolves when each has started or failed. */
  async bootAll(): Promise<void> {
    this.monitor.start();
    await Promise.all([...this.plugins.values()].map((plugin) => plugin.boot()));
  }

  /** Graceful stop of every plugin through the kill ladder, in parallel. */
  async shutdown(): Promise<void> {
    await Promise.all([...this.plugins.values()].map((plugin) => plugin.shutdown()));
    this.monitor.stop();
  }

  /** The duration and reach of the last sampling pass (bench, status). */
  get lastSamplingPass() {
    return this.monitor.lastPass;
  }

  /** SIGKILL to every plugin's process group: the second signal during shutdown. */
  killAll(): void {
    for (const plugin of this.plugins.values()) plugin.kill();
  }

  get(name: string): ManagedPlugin {
    const plugin = this.plugins.get(name);
    if (!plugin) throw new RpcError(ErrorCodes.UnknownPlugin, `unknown plugin: ${name}`);
    return plugin;
  }

  statuses(): PluginStatus[] {
    return [...this.plugins.values()].map((plugin) => plugin.status()).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A re-read config: new settings apply to each plugin's next process and next calls. */
  applyConfig(config: Config): void {
    this.config = config;
    this.monitor.setIntervalMs(config.sampling.intervalMs);
    for (const [name, plugin] of this.plugins) {
      plugin.updateDefinition(this.definitionFor(name, plugin.discovered));
    }
  }

  private definitionFor(name: string, discovered: DiscoveredPlugin): PluginDefinition {
    const manifest = discovered.ok ? discovered.manifest : null;
    const { settings, warnings } = resolvePluginSettings(this.config, name, manifest);
    for (const warning of warnings) this.logger.warn({ plugin: name }, warning);
    return {
      discovered,
      settings,
      config: effectivePluginConfig(manifest?.config ?? {}, pluginOverride(this.config, name)?.config ?? {}),
      permissions: manifest
        ? effectivePermissions(manifest.permissions, pluginOverride(this.config, name)?.permissions, discovered.dir)
        : null,
      enabledByConfig: isEnabledByConfig(this.config, name),
      requests: this.requestsFrom(name),
    };
  }

  /** What a plugin may ask of the daemon: calls to its declared dependencies, and events. */
  private requestsFrom(caller: string): PluginRequests {
    return {
      call: async (target, method, params) => {
        const manifest = this.plugins.get(caller)?.manifest;
        if (!manifest || !(target in manifest.dependencies)) {
          throw new RpcError(
            ErrorCodes.PermissionDenied,
            `plugin ${caller} may call only the plugins in its dependencies; ${target} is not one of them`,
          );
        }
        return this.get(target).call(method, params);
      },
      emit: (topic) => {
        this.logger.warn({ plugin: caller, topic }, `event ${topic} from ${caller} dropped: event routing is not available yet`);
      },
    };
  }
}
