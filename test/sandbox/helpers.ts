import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Limits, PermissionsOverride } from '../../src/config/types.js';
import { PluginHost } from '../../src/host/plugin-host.js';
import { createLogSystem } from '../../src/logging/index.js';
import type { Manifest, Permissions } from '../../src/manifest/types.js';
import { detectCapabilities, type Capabilities } from '../../src/sandbox/capabilities.js';
import { planLaunch, type LaunchPlan } from '../../src/sandbox/launch.js';
import { effectivePermissions } from '../../src/sandbox/permissions.js';
import { REPO } from '../helpers/daemon.js';
import { testManifest } from '../helpers/manifest.js';

export const PROBE = join(REPO, 'test/fixtures/sandbox/probe');
export const CAPABILITIES = await detectCapabilities();
export const LIMITS: Limits = { memoryMb: 128, cpuPercent: 100, handles: 64, processes: 4 };

export const NO_CAPABILITIES: Capabilities = {
  wall: null,
  wallProblem: 'not in this test',
  cgroupProblem: 'not in this test',
  setpriv: null,
  prlimit: null,
  netns: null,
  nodePermission: null,
  cgroup: null,
};

const logs = createLogSystem({ level: 'warn', dir: null, maxBytes: 1 << 20, keep: 1 });

/** Every process and temp folder a test made, cleaned up in afterEach even when it failed. */
export class Tracker {
  private readonly hosts: PluginHost[] = [];
  private readonly dirs: string[] = [];

  tempDir(prefix = 'warden-sandbox-'): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  /** Plans a launch for the probe plugin in `dir` and completes its handshake. */
  async start(options: {
    dir?: string;
    declared?: Partial<Permissions>;
    override?: PermissionsOverride;
    limits?: Partial<Limits>;
    capabilities?: Capabilities;
    manifest?: Partial<Manifest>;
  } = {}): Promise<{ host: PluginHost; plan: LaunchPlan; call: (method: string, params?: unknown) => Promise<any> }> {
    const dir = options.dir ?? PROBE;
    const manifest = testManifest({ name: 'probe', ...options.manifest });
    const declared: Permissions = { ...manifest.permissions, ...options.declared };
    const plan = planLaunch({
      dir,
      manifest,
      permissions: effectivePermissions(declared, options.override, dir),
      limits: { ...LIMITS, ...options.limits },
      capabilities: options.capabilities ?? CAPABILITIES,
    });
    const host = new PluginHost({
      name: 'probe',
      version: '1.0.0',
      launch: plan.launch,
      loggerFor: (pid) => logs.pluginLogger('probe', { pid, restarts: 0 }),
      requests: { call: async () => null, emit: () => undefined },
      startTimeoutMs: 10_000,
      health: { intervalMs: 60_000, timeoutMs: 5000 },
    });
    this.hosts.push(host);
    await host.start({ config: {}, state: null });
    return { host, plan, call: (method, params = {}) => host.request(method, params, 10_000) };
  }

  cleanup(): void {
    for (const host of this.hosts.splice(0)) host.kill();
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

/** argv of a live process, from /proc. */
export function cmdline(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}
