// What the wall costs at start: one plugin spawned to its answered handshake, with and without bwrap
// (and its cgroup), alternated in one run so every row sees the same machine. The last two rows add,
// to the full wall, the node flags an unwalled launch may still carry, so their cost stays measured.
import { chmodSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PluginCgroup } from '../dist/cgroups/index.js';
import { PluginHost } from '../dist/host/plugin-host.js';
import { createLogSystem } from '../dist/logging/index.js';
import { loadPlugin } from '../dist/manifest/discover.js';
import { claimCgroup, detectCapabilities, type Capabilities } from '../dist/sandbox/capabilities.js';
import { planLaunch, type LaunchSpec } from '../dist/sandbox/launch.js';
import { SDK_REGISTER_URL } from '../dist/sandbox/sdk-loader.js';
import { PACKAGE_ROOT } from '../dist/version.js';
import { median, printTable } from './stats.js';

const STARTS = Number(process.env.BENCH_WALL_STARTS ?? 20);
const ECHO_DIR = join(PACKAGE_ROOT, 'plugins/echo');
const LIMITS = { memoryMb: 256, cpuPercent: 100, handles: 256, processes: 16 };

interface Row {
  label: string;
  capabilities: Capabilities;
  /** The plugin folder: inside the package, or a copy outside it. */
  outside: boolean;
  /** Node flags put in front of the plugin's main. */
  flags?: string[];
  times: number[];
}

/** Milliseconds from spawn to the answered `warden.initialize`, then the plugin is stopped (and its cgroup removed). */
async function timeStart(row: Row, dir: string, instance: number): Promise<number> {
  const discovered = await loadPlugin(dir);
  if (!discovered.ok) throw new Error(`${dir} is invalid: ${discovered.reason}`);
  const logs = createLogSystem({ level: 'warn', dir: null, maxBytes: 1 << 20, keep: 1 });
  const { capabilities } = row;
  const cgroup: PluginCgroup | null = capabilities.cgroup?.create('bench', String(instance), LIMITS) ?? null;
  const planned = planLaunch({ dir, manifest: discovered.manifest, permissions: discovered.manifest.permissions, limits: LIMITS, capabilities, cgroup }).launch;
  const launch: LaunchSpec = { ...planned, args: [...planned.args.slice(0, -1), ...(row.flags ?? []), ...planned.args.slice(-1)] };
  const started = process.hrtime.bigint();
  const host = new PluginHost({
    name: 'echo',
    version: discovered.manifest.version,
    launch,
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
  const rows: Row[] = [
    { label: 'without the wall (launch shell, setpriv, node flags)', capabilities: bare, outside: false, times: [] },
    { label: 'behind the wall (bwrap, seccomp, identity)', capabilities: wallOnly, outside: false, times: [] },
    { label: 'behind the wall and in a cgroup', capabilities, outside: false, times: [] },
    { label: 'the same, plugin outside the package (SDK at /node_modules/warden)', capabilities, outside: true, times: [] },
    { label: '… plus the SDK loader hook (--import)', capabilities, outside: true, flags: ['--import', SDK_REGISTER_URL], times: [] },
    { label: '… plus a V8 heap flag (--max-old-space-size)', capabilities, outside: true, flags: [`--max-old-space-size=${LIMITS.memoryMb}`], times: [] },
  ];
  // The node permission model needs --allow-worker for the loader hook's worker thread.
  const loaderRow = rows[4]!;
  if (capabilities.nodePermission) loaderRow.flags = ['--allow-worker', ...loaderRow.flags!];
  const outsideDir = join(mkdtempSync(join(tmpdir(), 'warden-bench-wall-')), 'echo');
  cpSync(ECHO_DIR, outsideDir, { recursive: true });
  chmodSync(join(outsideDir, '..'), 0o755);
  let instance = 0;
  try {
    for (let i = 0; i < STARTS; i++) {
      for (const row of rows) row.times.push(await timeStart(row, row.outside ? outsideDir : ECHO_DIR, ++instance));
    }
  } finally {
    rmSync(join(outsideDir, '..'), { recursive: true, force: true });
  }
  const base = median(rows[0]!.times);
  printTable(
    `Wall: spawn of plugins/echo → its handshake answered, median of ${STARTS} alternated starts`,
    ['start', 'median', 'max', 'vs without'],
    rows.map(({ label, times }) => [label, `${median(times).toFixed(1)} ms`, `${Math.max(...times).toFixed(1)} ms`, `${median(times) >= base ? '+' : ''}${(median(times) - base).toFixed(1)} ms`]),
  );
}
