// What the wall costs at start: one plugin spawned to its answered handshake, with and without bwrap
// (and its cgroup), alternated in one run so both see the same machine.
import { join } from 'node:path';
import type { PluginCgroup } from '../dist/cgroups/index.js';
import { PluginHost } from '../dist/host/plugin-host.js';
import { createLogSystem } from '../dist/logging/index.js';
import { loadPlugin } from '../dist/manifest/discover.js';
import { claimCgroup, detectCapabilities, type Capabilities } from '../dist/sandbox/capabilities.js';
import { planLaunch } from '../dist/sandbox/launch.js';
import { PACKAGE_ROOT } from '../dist/version.js';
import { median, printTable } from './stats.js';

const STARTS = Number(process.env.BENCH_WALL_STARTS ?? 20);
const ECHO_DIR = join(PACKAGE_ROOT, 'plugins/echo');
const LIMITS = { memoryMb: 256, cpuPercent: 100, handles: 256, processes: 16 };

/** Milliseconds from spawn to the answered `warden.initialize`, then the plugin is stopped (and its cgroup removed). */
async function timeStart(capabilities: Capabilities, instance: number): Promise<number> {
  const discovered = await loadPlugin(ECHO_DIR);
  if (!discovered.ok) throw new Error(`plugins/echo is invalid: ${discovered.reason}`);
  const logs = createLogSystem({ level: 'warn', dir: null, maxBytes: 1 << 20, keep: 1 });
  const cgroup: PluginCgroup | null = capabilities.cgroup?.create('bench', String(instance), LIMITS) ?? null;
  const started = process.hrtime.bigint();
  const host = new PluginHost({
    name: 'echo',
    version: discovered.manifest.version,
    launch: planLaunch({ dir: ECHO_DIR, manifest: discovered.manifest, permissions: discovered.manifest.permissions, limits: LIMITS, capabilities, cgroup }).launch,
    loggerFor: (pid) => logs.pluginLogger('echo', { pid, restarts: 0 }),
    requests: { call: async () => null, emit: () => undefined },
    startTimeoutMs: 10_000,
    health: { intervalMs: 60_000, timeoutMs: 10_000 },
    killTree: cgroup ? () => cgroup.kill() : undefined,
  });
  try {
    await host.start({ config: {}, state: null });
    return Number(process.hrtime.bigint() - started) / 1e6;
  } finally {
    await host.stop(5000);
    await cgroup?.kill().then(() => cgroup.remove());
    await logs.close();
  }
}

/** The start of one plugin behind the wall beside the same start without it (and without cgroups). */
export async function wallSection(): Promise<void> {
  const capabilities = claimCgroup(await detectCapabilities());
  if (!capabilities.wall) {
    console.log(`\nWall: not measured: ${capabilities.wallProblem}`);
    return;
  }
  const bare: Capabilities = { ...capabilities, wall: null, wallProblem: 'off for the baseline', cgroup: null, cgroupProblem: 'off for the baseline' };
  const wallOnly: Capabilities = { ...capabilities, cgroup: null, cgroupProblem: 'off for this row' };
  const rows: Array<[string, Capabilities, number[]]> = [
    ['without the wall (prlimit, setpriv, node flags)', bare, []],
    ['behind the wall (bwrap, seccomp, identity)', wallOnly, []],
    ['behind the wall and in a cgroup', capabilities, []],
  ];
  let instance = 0;
  for (let i = 0; i < STARTS; i++) {
    for (const [, caps, times] of rows) times.push(await timeStart(caps, ++instance));
  }
  const base = median(rows[0]![2]);
  printTable(
    `Wall: spawn of plugins/echo → its handshake answered, median of ${STARTS} alternated starts`,
    ['start', 'median', 'max', 'vs without'],
    rows.map(([label, , times]) => [label, `${median(times).toFixed(1)} ms`, `${Math.max(...times).toFixed(1)} ms`, `+${(median(times) - base).toFixed(1)} ms`]),
  );
}
