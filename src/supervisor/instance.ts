import type { Logger } from 'pino';
import { cgroupLimits, type PluginCgroup } from '../cgroups/index.js';
import { classifyExit, type ExitVerdict } from '../host/exit.js';
import type { HostOptions } from '../host/plugin-host.js';
import { planLaunch } from '../sandbox/launch.js';
import type { ManagedEnvironment, PluginDefinition } from './definition.js';
import { createPluginHost, type HostLike } from './host-like.js';

/** What one instance reports back to its plugin, and how it is made. */
export interface InstanceContext {
  name: string;
  env: Pick<ManagedEnvironment, 'capabilities' | 'sandbox' | 'logs' | 'createHost'>;
  /** The next instance's number (asked only for a valid definition), so each gets a cgroup of its own. */
  nextInstance(): number;
  /** The plugin's restart count, for the logger's bindings. */
  restarts(): number;
  onExit(host: HostLike, verdict: ExitVerdict): void;
  onHang(host: HostLike, message: string): void;
  log(): Logger;
}

/**
 * A process for `definition` in a cgroup of its own (one per instance: a blue/green reload runs two),
 * reporting its exit and hangs back to its plugin. The exit is classified here, where it is observed,
 * and the cgroup is emptied and removed behind it. Throws for an invalid definition.
 */
export function createInstance(definition: PluginDefinition, context: InstanceContext): HostLike {
  const { name, env } = context;
  const discovered = definition.discovered;
  if (!discovered.ok) throw new Error(discovered.reason);
  const { settings } = definition;
  const { sandbox } = env;
  const cgroup = env.capabilities.cgroup?.create(name, String(context.nextInstance()), settings.limits) ?? null;
  const hardMemoryMb = cgroup ? Math.round(cgroupLimits(settings.limits).memoryBytes / (1024 * 1024)) : null;
  const discard = (group: PluginCgroup) => void discardCgroup(group, context.log);
  try {
    const options: HostOptions = {
      name,
      version: discovered.manifest.version,
      launch: planLaunch({
        dir: discovered.dir,
        manifest: discovered.manifest,
        permissions: definition.permissions ?? discovered.manifest.permissions,
        limits: settings.limits,
        capabilities: env.capabilities,
        protectedPaths: sandbox.protectedPaths,
        tmpMb: sandbox.tmpMb,
        cgroup,
      }).launch,
      loggerFor: (pid) => env.logs.pluginLogger(name, { pid, restarts: context.restarts() }),
      requests: definition.requests,
      startTimeoutMs: settings.startTimeoutMs,
      health: settings.health,
      output: settings.output,
      killTree: cgroup ? () => cgroup.kill() : undefined,
      onExit: (exit) => {
        const verdict = classifyExit(exit, { oomKills: cgroup?.oomKills() ?? 0, hardMemoryMb });
        if (cgroup) discard(cgroup);
        context.onExit(host, verdict);
      },
      onHang: (message) => context.onHang(host, message),
    };
    const host: HostLike = (env.createHost ?? createPluginHost)(options);
    return host;
  } catch (error) {
    if (cgroup) discard(cgroup);
    throw error;
  }
}

/** Kills whatever is left in an instance's cgroup and removes it; a failure is logged, never thrown. */
async function discardCgroup(cgroup: PluginCgroup, log: () => Logger): Promise<void> {
  await cgroup
    .kill()
    .then(() => cgroup.remove())
    .catch((error: Error) => log().warn(`could not clean up a cgroup: ${error.message}`));
}
