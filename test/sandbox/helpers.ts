import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll } from 'vitest';
import { join } from 'node:path';
import type { PluginCgroup } from '../../src/cgroups/index.js';
import type { Limits, PermissionsOverride } from '../../src/config/types.js';
import { PluginHost } from '../../src/host/plugin-host.js';
import { createLogSystem } from '../../src/logging/index.js';
import type { Manifest, Permissions } from '../../src/manifest/types.js';
import { detectCapabilities, type Capabilities } from '../../src/sandbox/capabilities.js';
import { planLaunch, type LaunchPlan } from '../../src/sandbox/launch.js';
import { effectivePermissions } from '../../src/sandbox/permissions.js';
import { REPO } from '../helpers/daemon.js';
import { binWithoutBwrap } from '../helpers/no-bwrap.js';
import { testManifest } from '../helpers/manifest.js';

export const PROBE = join(REPO, 'test/fixtures/sandbox/probe');
/** This host as the daemon detects it: reading only, nothing written to cgroupfs until a test starts a plugin in a cgroup. */
export const CAPABILITIES = await detectCapabilities();

/** This host without the wall and without cgroups: the node permission model and the old wrappers alone. */
const LEGACY_BIN = binWithoutBwrap();
// Registered while the importing test file is collected: its tests are done with LEGACY by then.
afterAll(() => rmSync(LEGACY_BIN, { recursive: true, force: true }));
export const LEGACY: Capabilities = {
  ...(await detectCapabilities({ path: LEGACY_BIN })),
  cgroup: null,
  cgroupProblem: 'not in this test',
};
export const LIMITS: Limits = { memoryMb: 128, cpuPercent: 100, handles: 64, processes: 4 };

export const NO_CAPABILITIES: Capabilities = {
  wall: null,
  wallProblem: 'not in this test',
  cgroupProblem: 'not in this test',
  setpriv: null,
  shell: null,
  netns: null,
  nodePermission: null,
  cgroup: null,
};

const logs = createLogSystem({ level: 'warn', dir: null, maxBytes: 1 << 20, keep: 1 });

/** Every process and temp folder a test made, cleaned up in afterEach even when it failed. */
export class Tracker {
  private readonly hosts: PluginHost[] = [];
  private readonly dirs: string[] = [];
  private readonly cgroups: PluginCgroup[] = [];
  private instances = 0;

  /** A temp folder the plugin's identity (nobody, when tests run as root) can enter and read. */
  tempDir(prefix = 'warden-sandbox-'): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    chmodSync(dir, 0o755);
    this.dirs.push(dir);
    return dir;
  }

  /** A temp folder the plugin's identity may write, as an operator granting fs.write would prepare it. */
  writableDir(prefix = 'warden-out-'): string {
    const dir = this.tempDir(prefix);
    chmodSync(dir, 0o777);
    return dir;
  }

  /** A path under a fresh temp folder that does not exist yet. */
  missingDir(name: string): string {
    const parent = this.tempDir();
    mkdirSync(parent, { recursive: true });
    return join(parent, name);
  }

  /** Plans a launch for the probe plugin in `dir` and completes its handshake. */
  async start(options: {
    dir?: string;
    declared?: Partial<Permissions>;
    override?: PermissionsOverride;
    limits?: Partial<Limits>;
    capabilities?: Capabilities;
    manifest?: Partial<Manifest>;
    protectedPaths?: string[];
  } = {}): Promise<{ host: PluginHost; plan: LaunchPlan; cgroup: PluginCgroup | null; call: (method: string, params?: unknown) => Promise<any> }> {
    const dir = options.dir ?? PROBE;
    const manifest = testManifest({ name: 'probe', ...options.manifest });
    const declared: Permissions = { ...manifest.permissions, ...options.declared };
    const capabilities = options.capabilities ?? CAPABILITIES;
    const limits = { ...LIMITS, ...options.limits };
    // As the daemon does at start: the driver is claimed (once; later calls are no-ops) before the first cgroup.
    capabilities.cgroup?.claim();
    const cgroup = capabilities.cgroup?.create('probe', String(++this.instances), limits) ?? null;
    if (cgroup) this.cgroups.push(cgroup);
    const plan = planLaunch({
      dir,
      manifest,
      permissions: effectivePermissions(declared, options.override, dir),
      limits,
      capabilities,
      cgroup,
      protectedPaths: options.protectedPaths ?? [],
    });
    const host = new PluginHost({
      killTree: cgroup ? () => cgroup.kill() : undefined,
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
    return { host, plan, cgroup, call: (method, params = {}) => host.request(method, params, 10_000) };
  }

  /** Kills every plugin (and whatever its cgroup holds), removes cgroups and temp folders. */
  async cleanup(): Promise<void> {
    for (const host of this.hosts.splice(0)) host.kill();
    await Promise.all(this.cgroups.splice(0).map((cg) => cg.kill().then(() => cg.remove()).catch(() => undefined)));
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

/** argv of a live process, from /proc. */
export function cmdline(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}
