import type { Logger } from 'pino';
import { cgroupLimits, type PluginCgroup } from '../cgroups/index.js';
import { classifyExit, type ExitVerdict } from '../host/exit.js';
import type { HostOptions } from '../host/plugin-host.js';
import { ParkedLaunch } from '../host/parked-launch.js';
import { planLaunch, sameLaunch, standbyLaunch, type LaunchSpec } from '../sandbox/launch.js';
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
  /** The launch parked for this plugin's next instance (restart.standby), if any: taken at most once. */
  takeStandby?(): Standby | null;
}

/** The next instance's launch, spawned ahead in a cgroup of its own and waiting (host/parked-launch.ts). */
export interface Standby {
  cgroup: PluginCgroup;
  parked: ParkedLaunch;
}

/** The launch of `definition` into `cgroup`, as planned now. */
function planFor(definition: PluginDefinition, env: InstanceContext['env'], cgroup: PluginCgroup | null): LaunchSpec {
  const discovered = definition.discovered;
  if (!discovered.ok) throw new Error(discovered.reason);
  return planLaunch({
    dir: discovered.dir,
    manifest: discovered.manifest,
    permissions: definition.permissions ?? discovered.manifest.permissions,
    limits: definition.settings.limits,
    capabilities: env.capabilities,
    protectedPaths: env.sandbox.protectedPaths,
    tmpMb: env.sandbox.tmpMb,
    cgroup,
  }).launch;
}

/**
 * Spawns the next instance's launch ahead, its sandbox built and waiting before the plugin runs: null where there is no
 * wall or no cgroup (nothing to gain). Throws when the cgroup or the spawn fails (nothing is left behind).
 */
export function parkStandby(definition: PluginDefinition, context: Pick<InstanceContext, 'name' | 'env' | 'nextInstance' | 'log'>): Standby | null {
  const { capabilities } = context.env;
  if (!capabilities.wall || !capabilities.cgroup || !definition.discovered.ok) return null;
  const cgroup = capabilities.cgroup.create(context.name, String(context.nextInstance()), definition.settings.limits);
  try {
    const launch = standbyLaunch(planFor(definition, context.env, cgroup), capabilities.wall);
    if (!launch) throw new Error('the launch has no wall to park');
    return { cgroup, parked: new ParkedLaunch(launch) };
  } catch (error) {
    void discardCgroup(cgroup, context.log);
    throw error;
  }
}

/** Kills a standby that will not be used and removes its cgroup. */
export function discardStandby(standby: Standby, log: () => Logger): void {
  standby.parked.discard();
  void discardCgroup(standby.cgroup, log);
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
  // A standby is used when it was parked for the launch planned now (the same limits, wall and folder);
  // otherwise it is discarded and the instance spawned afresh.
  const standby = context.takeStandby?.() ?? null;
  let parked: ParkedLaunch | null = null;
  let cgroup: PluginCgroup | null = null;
  let launch: LaunchSpec | null = null;
  if (standby) {
    const parkable = standbyLaunch(planFor(definition, env, standby.cgroup), env.capabilities.wall);
    if (parkable && sameLaunch(parkable, standby.parked.launch)) {
      ({ cgroup, parked } = standby);
      launch = parkable;
      context.log().debug(`starting from its restart standby (pid ${parked.pid})`);
    } else {
      discardStandby(standby, context.log);
    }
  }
  cgroup ??= env.capabilities.cgroup?.create(name, String(context.nextInstance()), settings.limits) ?? null;
  const hardMemoryMb = cgroup ? Math.round(cgroupLimits(settings.limits).memoryBytes / (1024 * 1024)) : null;
  const discard = (group: PluginCgroup) => void discardCgroup(group, context.log);
  try {
    const options: HostOptions = {
      name,
      version: discovered.manifest.version,
      launch: launch ?? planFor(definition, env, cgroup),
      parked,
      protocol: discovered.manifest.protocol,
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
    parked?.discard();
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
