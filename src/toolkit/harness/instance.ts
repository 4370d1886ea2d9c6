/**
 * One plugin process as `warden plugin test` runs it: the daemon's own launch (planLaunch, the wall, a
 * fresh cgroup when the host has cgroups) and PluginHost, without a daemon. The harness keeps the child
 * process itself so it can close the plugin's stdin alone (the clean-exit check), which the host only
 * does as a rung of its stop ladder.
 */
import type { ChildProcess } from 'node:child_process';
import type { PluginCgroup } from '../../cgroups/index.js';
import type { Limits } from '../../config/types.js';
import type { ExitInfo } from '../../host/exit.js';
import { ParkedLaunch } from '../../host/parked-launch.js';
import { PluginHost } from '../../host/plugin-host.js';
import { withCommandRuntime } from '../../sandbox/runtime.js';
import { createLogSystem, type LogSystem } from '../../logging/index.js';
import type { Manifest } from '../../manifest/types.js';
import { RpcError } from '../../protocol/index.js';
import { claimCgroup, detectCapabilities, type Capabilities } from '../../sandbox/capabilities.js';
import { planLaunch, type LaunchSpec } from '../../sandbox/launch.js';

let detected: Promise<Capabilities> | null = null;

// Why: probing the wall builds a sandbox once; every run in this process (tests run many) shares the answer.
export function hostCapabilities(): Promise<Capabilities> {
  detected ??= detectCapabilities().then(claimCgroup);
  return detected;
}

/**
 * A launch spawned the moment it is made and handed to the host as if parked: the host takes the
 * child from `take()`, and this keeps a reference to it (for its stdin) instead of forgetting it.
 */
class OwnedLaunch extends ParkedLaunch {
  taken: ChildProcess | null = null;

  // Why: remember the process the host takes, so the harness can end its stdin without the stop ladder.
  override take(): ChildProcess | null {
    const child = super.take();
    this.taken = child;
    return child;
  }
}

export interface InstanceOptions {
  dir: string;
  manifest: Manifest;
  limits: Limits;
  capabilities: Capabilities;
  /** Unique among this run's instances: names the cgroup (`<name>.<id>`). */
  id: string;
  startTimeoutMs: number;
}

/** How many of this process's test instances were made: part of each cgroup id, so two runs never share one. */
let made = 0;

/** A started (or failed-to-start) plugin process, with its cgroup and its log. */
export class TestInstance {
  readonly host: PluginHost;
  readonly cgroup: PluginCgroup | null;
  private readonly logs: LogSystem;
  private readonly owned: OwnedLaunch;
  private stopped = false;

  // Why: everything that must exist before the spawn (cgroup, launch, host) is made here, so `stop` can undo all of it.
  constructor(private readonly options: InstanceOptions) {
    const { dir, manifest, limits, capabilities } = options;
    this.logs = createLogSystem({ level: 'trace', dir: null, maxBytes: 1 << 20, keep: 1, ringSize: 2000 });
    this.cgroup = capabilities.cgroup?.create(manifest.name, `test-${process.pid}-${++made}-${options.id}`, limits) ?? null;
    try {
      const launch: LaunchSpec = planLaunch({ dir, manifest, permissions: withCommandRuntime(manifest.permissions, manifest, dir, capabilities.wall?.layout ?? null), limits, capabilities, cgroup: this.cgroup }).launch;
      this.owned = new OwnedLaunch(launch);
      const cgroup = this.cgroup;
      this.host = new PluginHost({
        name: manifest.name,
        version: manifest.version,
        protocol: manifest.protocol,
        launch,
        loggerFor: (pid) => this.logs.pluginLogger(manifest.name, { pid, restarts: 0 }),
        // No daemon: no other plugin to call, no bus to publish on (emits are accepted and dropped).
        requests: {
          call: async (plugin) => {
            throw new RpcError(-32601, `warden plugin test runs the plugin alone: no plugin ${plugin} to call`);
          },
          emit: () => undefined,
        },
        startTimeoutMs: options.startTimeoutMs,
        // The checks send warden.health themselves; the host's own ticks stay out of the way.
        health: { intervalMs: 3_600_000, timeoutMs: 60_000 },
        killTree: cgroup ? () => cgroup.kill() : undefined,
        parked: this.owned,
      });
    } catch (error) {
      // planLaunch or the spawn refused: the cgroup made above must not stay behind.
      void this.cgroup?.remove().catch(() => undefined);
      void this.logs.close();
      throw error;
    }
  }

  /** The handshake: resolves with the plugin's method list; rejects with the host's message (timeout, error, exit). */
  async start(state: unknown): Promise<string[]> {
    await this.host.start({ config: this.options.manifest.config, state });
    return this.host.methods;
  }

  /** A request with its result, or the RpcError (or timeout) it ended with. */
  async call(method: string, params: unknown, timeoutMs: number): Promise<{ ok: true; result: unknown } | { ok: false; error: RpcError | Error }> {
    try {
      return { ok: true, result: await this.host.request(method, params, timeoutMs) };
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
    }
  }

  /** Closes the plugin's stdin and waits up to `timeoutMs` for it to exit by itself; null when it did not. */
  async closeStdinAndWait(timeoutMs: number): Promise<ExitInfo | null> {
    const stdin = this.owned.taken?.stdin;
    if (stdin && !stdin.destroyed) stdin.end();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)));
    try {
      return await Promise.race([this.host.waitForExit(), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The plugin's log lines so far (stderr, warden.log, stray stdout), oldest first. */
  logLines(): string[] {
    return this.logs.tail({ name: this.options.manifest.name, lines: 2000 }).map((e) => (e.level === 'info' ? e.msg : `[${e.level}] ${e.msg}`));
  }

  /**
   * Ends everything of this instance whatever state it is in: the host's ladder without the polite rungs
   * (SIGTERM, then SIGKILL to its group and cgroup), then the cgroup's removal. Safe to call twice.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      // A launch the host never took (start not called) is killed here; taken ones are the host's.
      this.owned.discard();
      await this.host.stop(1000, { graceful: false });
    } finally {
      try {
        if (this.cgroup) await this.cgroup.kill().then(() => this.cgroup!.remove());
      } finally {
        await this.logs.close();
      }
    }
  }
}
