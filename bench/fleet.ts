// The fleet section of `npm run bench`: many plugins started at once under one daemon, against a bare
// parent starting the same plugin file, then the cost of holding them idle.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withBenchDaemon } from './daemon.js';
import { layProtocolPlugin } from './protocol-plugin.js';
import { printTable } from './stats.js';
import { idleUsage, SETTLE_SECONDS, type IdleUsage } from './usage.js';

const FLEET = Number(process.env.BENCH_FLEET ?? 100);
const AT_SCALE = Number(process.env.BENCH_AT_SCALE ?? 200);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 30);
const SDK_PLUGIN = "import { definePlugin } from 'warden/sdk';\ndefinePlugin({ methods: { ping: () => 'pong' } });\n";

type PluginKind = 'protocol' | 'sdk';

interface FleetRun {
  startMs: number;
  /** Plugins that did not reach `running` on their first start (they restarted, or never got there). */
  firstStartFailures: number;
  idle: IdleUsage | null;
  samplingPass: { ms: number; plugins: number; processes: number } | null;
}

/** Writes `count` plugin folders of one kind under `pluginsDir`. */
function layFleet(pluginsDir: string, count: number, kind: PluginKind): void {
  for (let i = 0; i < count; i++) {
    const name = `idle-${String(i).padStart(3, '0')}`;
    const dir = join(pluginsDir, name);
    mkdirSync(dir, { recursive: true });
    layProtocolPlugin(dir, name);
    if (kind === 'sdk') writeFileSync(join(dir, 'index.mjs'), SDK_PLUGIN);
  }
}

/**
 * One daemon with `count` plugins in a folder outside the package (as an operator's are): start, then idle.
 * The start runs from spawning the daemon to the last plugin's `startedAt`; status is polled slowly so the
 * polling is not what the daemon spends its start on.
 */
function runFleet(count: number, kind: PluginKind, idleSeconds: number): Promise<FleetRun> {
  let started = 0;
  let lastStart = 0;
  return withBenchDaemon({
    outside: true,
    prepare: (dir) => {
      layFleet(join(dir, 'plugins'), count, kind);
      started = Date.now();
    },
    config: () => (process.env.BENCH_CONFIG ? (JSON.parse(process.env.BENCH_CONFIG) as Record<string, unknown>) : {}),
    readyIntervalMs: 250,
    ready: async (client) => {
      const { plugins } = await client.request<{ plugins: Array<{ state: string; startedAt: string | null }> }>('status');
      if (plugins.length !== count || !plugins.every((p) => p.state === 'running')) return false;
      lastStart = Math.max(...plugins.map((p) => Date.parse(p.startedAt!)));
      return true;
    },
    fn: async ({ client, pid }) => {
      const startMs = lastStart - started;
      const { plugins } = await client.request<{ plugins: Array<{ restarts: number }> }>('status');
      const idle = idleSeconds > 0 ? await idleUsage(pid, idleSeconds) : null;
      const { sampling } = await client.request<{ sampling: FleetRun['samplingPass'] }>('status');
      return { startMs, firstStartFailures: plugins.filter((p) => p.restarts > 0).length, idle, samplingPass: sampling };
    },
  });
}

/** The same plugin file under a bare parent (bench/bare-parent.ts), plain or behind the wall: its start, then its idle. */
async function runBareFleet(count: number, idleSeconds: number, walled = false): Promise<{ startMs: number; idle: IdleUsage | null }> {
  const parent = spawn(process.execPath, [fileURLToPath(new URL('./bare-parent.js', import.meta.url)), String(count), String(idleSeconds), walled ? 'walled' : 'bare'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  parent.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const code = await new Promise<number | null>((resolve) => parent.once('exit', resolve));
  if (code !== 0) throw new Error(`bare parent exited with ${code}`);
  const lines = out.trim().split('\n');
  const startMs = Number(/^started (\S+)$/m.exec(out)?.[1]);
  return { startMs, idle: JSON.parse(lines.at(-1)!) as IdleUsage | null };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MB`;
const pct = (n: number) => `${n.toFixed(2)} %`;
const times = (n: number) => `${n.toFixed(2)}×`;

/** Fleet start, idle CPU and RSS, and first-start failures at scale, each beside its bare baseline. */
export async function fleetSection(): Promise<void> {
  const bare = await runBareFleet(FLEET, IDLE_SECONDS);
  const walled = await runBareFleet(FLEET, 0, true);
  const fleet = await runFleet(FLEET, 'protocol', IDLE_SECONDS);
  const sdk = await runFleet(FLEET, 'sdk', 0);
  const bareAtScale = await runBareFleet(AT_SCALE, 0);
  const atScale = await runFleet(AT_SCALE, 'protocol', 0);
  const idle = fleet.idle!;
  const bareIdle = bare.idle!;
  printTable(
    `Fleet: plugins started at once until every one answered its handshake, then ${IDLE_SECONDS} s idle (after ${SETTLE_SECONDS} s to settle), sampling every second`,
    ['figure', 'bare baseline, same run', 'warden', 'ratio', 'goal'],
    [
      [`start ${FLEET} plugins → all running`, seconds(bare.startMs), seconds(fleet.startMs), times(fleet.startMs / bare.startMs), '≤ 1.3×'],
      [`  the wall alone: ${FLEET} walled launches from a bare parent, no daemon`, seconds(bare.startMs), seconds(walled.startMs), times(walled.startMs / bare.startMs), ''],
      [`  warden against the wall alone`, seconds(walled.startMs), seconds(fleet.startMs), times(fleet.startMs / walled.startMs), ''],
      [`start ${FLEET} SDK plugins → all running`, seconds(bare.startMs), seconds(sdk.startMs), times(sdk.startMs / bare.startMs), ''],
      [`start ${AT_SCALE} plugins → all running`, seconds(bareAtScale.startMs), seconds(atScale.startMs), times(atScale.startMs / bareAtScale.startMs), ''],
      [`${AT_SCALE} plugins at once: failed first starts`, '', `${atScale.firstStartFailures} of ${AT_SCALE}`, '', '0'],
      [`parent CPU, ${FLEET} idle plugins (avg / max of 1 s)`, `${pct(bareIdle.cpuPercent)} / ${pct(bareIdle.maxCpuPercent)}`, `${pct(idle.cpuPercent)} / ${pct(idle.maxCpuPercent)}`, '', '< 1 %'],
      [`parent RSS, ${FLEET} idle plugins (avg / max)`, `${mb(bareIdle.rssBytes)} / ${mb(bareIdle.maxRssBytes)}`, `${mb(idle.rssBytes)} / ${mb(idle.maxRssBytes)}`, '', '< 90 MB'],
    ],
  );
  const pass = fleet.samplingPass;
  console.log(pass ? `\nOne sampling pass: ${pass.ms.toFixed(1)} ms over ${pass.plugins} plugins and ${pass.processes} processes.` : '\nNo sampling pass recorded.');
  console.log('The plugins are hand-written against the stdio protocol (bench/protocol-plugin.ts), in a folder outside the package; the SDK row runs a minimal `definePlugin` instead. A bare start runs from its first spawn to its last answer; warden\'s from spawning the daemon to the last plugin\'s startedAt.');
}
