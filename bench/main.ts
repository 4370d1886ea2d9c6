// `npm run bench`: warden's figures side by side with baselines measured in the same run; README "Benchmarks" says what each row means.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ControlClient } from '../dist/control/client.js';
import { PluginHost } from '../dist/host/plugin-host.js';
import { createLogSystem } from '../dist/logging/index.js';
import { loadPlugin } from '../dist/manifest/discover.js';
import { detectCapabilities } from '../dist/sandbox/capabilities.js';
import { planLaunch } from '../dist/sandbox/launch.js';
import { PACKAGE_ROOT } from '../dist/version.js';
import { until, withBenchDaemon } from './daemon.js';
import { BarePeer, bareSpawnToAnswerMs } from './peers.js';
import { measureCalls, median, printTable, type CallFigures } from './stats.js';
import { reloadSection } from './reload.js';
import { idleUsage, type IdleUsage } from './usage.js';
import { wallSection } from './wall.js';

const SEQUENTIAL = 5000;
const PIPELINED = 50_000;
const IN_FLIGHT = 256;
const CRASHES = 10;
const ECHO_DIR = join(PACKAGE_ROOT, 'plugins/echo');
const FLEET = Number(process.env.BENCH_FLEET ?? 100);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 30);

interface FleetFigures extends IdleUsage {
  startMs: number;
  samplingPass: { ms: number; plugins: number; processes: number } | null;
}

/** FLEET minimal SDK plugins under one daemon: time until all have answered their handshake, then idle cost. */
async function benchFleet(): Promise<FleetFigures> {
  let started = 0n;
  return withBenchDaemon({
    prepare: (dir) => {
      for (let i = 0; i < FLEET; i++) {
        const name = `idle-${String(i).padStart(3, '0')}`;
        const pluginDir = join(dir, 'plugins', name);
        mkdirSync(pluginDir, { recursive: true });
        writeFileSync(join(pluginDir, 'plugin.json'), JSON.stringify({ name, version: '1.0.0', main: 'index.js' }));
        writeFileSync(join(pluginDir, 'index.js'), "import { definePlugin } from 'warden/sdk';\ndefinePlugin({ methods: { ping: () => 'pong' } });\n");
      }
      started = process.hrtime.bigint();
    },
    config: () => (process.env.BENCH_CONFIG ? (JSON.parse(process.env.BENCH_CONFIG) as Record<string, unknown>) : {}),
    ready: async (client) => {
      const { plugins } = await client.request<{ plugins: Array<{ state: string }> }>('status');
      return plugins.length === FLEET && plugins.every((p) => p.state === 'running');
    },
    fn: async ({ client, pid }) => {
      const startMs = Number(process.hrtime.bigint() - started) / 1e6;
      const usage = await idleUsage(pid, IDLE_SECONDS);
      const { sampling } = await client.request<{ sampling: FleetFigures['samplingPass'] }>('status');
      return { startMs, ...usage, samplingPass: sampling };
    },
  });
}

/** The same fleet as bare node children of a bare parent (bench/bare-parent.ts). */
async function benchBareFleet(): Promise<{ startMs: number } & IdleUsage> {
  const script = fileURLToPath(new URL('./bare-parent.js', import.meta.url));
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, [script, String(FLEET), String(IDLE_SECONDS)], (error, out) => (error ? reject(error) : resolve(out))),
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

async function benchBare(): Promise<CallFigures> {
  const peer = new BarePeer();
  try {
    return await measureCalls(peer.call, { sequential: SEQUENTIAL, pipelined: PIPELINED, inFlight: IN_FLIGHT });
  } finally {
    await peer.close();
  }
}

async function benchHost(): Promise<CallFigures> {
  const discovered = await loadPlugin(ECHO_DIR);
  if (!discovered.ok) throw new Error(`plugins/echo is invalid: ${discovered.reason}`);
  const logs = createLogSystem({ level: 'warn', dir: null, maxBytes: 1 << 20, keep: 1 });
  const host = new PluginHost({
    name: 'echo',
    version: discovered.manifest.version,
    launch: planLaunch({
      dir: ECHO_DIR,
      manifest: discovered.manifest,
      permissions: discovered.manifest.permissions,
      limits: { memoryMb: 256, cpuPercent: 100, handles: 256, processes: 16 },
      capabilities: await detectCapabilities(),
    }).launch,
    loggerFor: (pid) => logs.pluginLogger('echo', { pid, restarts: 0 }),
    requests: { call: async () => null, emit: () => undefined },
    startTimeoutMs: 10_000,
    health: { intervalMs: 60_000, timeoutMs: 10_000 },
  });
  await host.start({ config: {}, state: null });
  try {
    return await measureCalls((params) => host.request('echo', params, 30_000), {
      sequential: SEQUENTIAL,
      pipelined: PIPELINED,
      inFlight: IN_FLIGHT,
    });
  } finally {
    await host.stop(5000);
    await logs.close();
  }
}

/** A real daemon with one plugin, a copy of plugins/echo, restarting at once after a crash. */
function withDaemon<T>(fn: (client: ControlClient) => Promise<T>): Promise<T> {
  return withBenchDaemon({
    prepare: (dir) => cpSync(ECHO_DIR, join(dir, 'plugins', 'echo'), { recursive: true }),
    config: () => ({ defaults: { restart: { initialDelayMs: 0, maxRestarts: 1000, windowMs: 60_000 } } }),
    ready: async (client) => (await client.request<{ state: string }>('plugin.get', { name: 'echo' })).state === 'running',
    fn: ({ client }) => fn(client),
  });
}

async function benchSocket(client: ControlClient): Promise<CallFigures> {
  return measureCalls((params) => client.request('plugin.call', { name: 'echo', method: 'echo', params }), {
    sequential: SEQUENTIAL,
    pipelined: PIPELINED,
    inFlight: IN_FLIGHT,
  });
}

/** kill -9 the plugin, then call until it answers again: crash-to-answering with restart delay 0. */
async function benchCrashToAnswer(client: ControlClient): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < CRASHES; i++) {
    const { pid } = await until(async () => {
      const status = await client.request<{ state: string; pid: number | null }>('plugin.get', { name: 'echo' });
      return status.state === 'running' && status.pid ? status : undefined;
    });
    const start = process.hrtime.bigint();
    process.kill(pid!, 'SIGKILL');
    await until(() => client.request('plugin.call', { name: 'echo', method: 'echo', params: i }).then((r) => r === i || undefined), 1);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return times;
}

const us = (n: number) => `${n.toFixed(0)} µs`;
const perSecond = (n: number) => `${Math.round(n / 1000)}k/s`;
const ratio = (n: number) => `${n.toFixed(2)}×`;

async function callsSection(): Promise<void> {
  const bare = await benchBare();
  const host = await benchHost();
  const { socket, crash } = await withDaemon(async (client) => ({ socket: await benchSocket(client), crash: await benchCrashToAnswer(client) }));
  const respawn: number[] = [];
  for (let i = 0; i < CRASHES; i++) respawn.push(await bareSpawnToAnswerMs());

  printTable(
    `Calls: ${SEQUENTIAL} sequential round trips, ${PIPELINED} pipelined with ${IN_FLIGHT} in flight`,
    ['path', 'p50', 'p99', 'throughput', 'p50 vs (a)', 'throughput vs (a)'],
    [
      ['(a) bare child, NDJSON on a pipe', us(bare.p50Us), us(bare.p99Us), perSecond(bare.callsPerSecond), '1.00×', '1.00×'],
      ['(b) warden plugin host → SDK plugin', us(host.p50Us), us(host.p99Us), perSecond(host.callsPerSecond), ratio(host.p50Us / bare.p50Us), ratio(host.callsPerSecond / bare.callsPerSecond)],
      ['(c) control socket → daemon → plugin', us(socket.p50Us), us(socket.p99Us), perSecond(socket.callsPerSecond), ratio(socket.p50Us / bare.p50Us), ratio(socket.callsPerSecond / bare.callsPerSecond)],
    ],
  );
  printTable(
    `Restart: kill -9 of a plugin to its next answered call (restart delay 0), median of ${CRASHES}`,
    ['what', 'median', 'max'],
    [
      ['warden: crash → restarted → answering', `${median(crash).toFixed(0)} ms`, `${Math.max(...crash).toFixed(0)} ms`],
      ['baseline: spawn a bare node child → first answer', `${median(respawn).toFixed(0)} ms`, `${Math.max(...respawn).toFixed(0)} ms`],
    ],
  );
  console.log('\nGoals: (b) p50 within 1.5× of (a); (b) throughput at least 0.5× of (a). PM2 restarts in ~90 ms on this kind of machine (a reference figure, not measured in this run).');
}

async function fleetSection(): Promise<void> {
  const fleet = await benchFleet();
  const bareFleet = await benchBareFleet();
  const mb = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MB`;
  const pct = (n: number) => `${n.toFixed(2)} %`;
  printTable(
    `Fleet: ${FLEET} idle plugins — start until every one answered, then ${IDLE_SECONDS} s idle sampled every second`,
    ['what', 'start', 'parent CPU (avg / max of 1 s)', 'parent RSS (avg / max)'],
    [
      [`warden daemon + ${FLEET} SDK plugins`, `${(fleet.startMs / 1000).toFixed(2)} s`, `${pct(fleet.cpuPercent)} / ${pct(fleet.maxCpuPercent)}`, `${mb(fleet.rssBytes)} / ${mb(fleet.maxRssBytes)}`],
      [`bare parent + ${FLEET} node children`, `${(bareFleet.startMs / 1000).toFixed(2)} s`, `${pct(bareFleet.cpuPercent)} / ${pct(bareFleet.maxCpuPercent)}`, `${mb(bareFleet.rssBytes)} / ${mb(bareFleet.maxRssBytes)}`],
      ['ratio', `${(fleet.startMs / bareFleet.startMs).toFixed(2)}×`, '', ''],
    ],
  );
  const pass = fleet.samplingPass;
  console.log(pass ? `\nOne sampling pass: ${pass.ms.toFixed(1)} ms over ${pass.plugins} plugins and ${pass.processes} processes.` : '\nNo sampling pass recorded.');
  console.log('Goals: all plugins answering within 1.3× the bare start; daemon under 2 % of a core and under 100 MB RSS.');
}

/** BENCH_ONLY=wall|calls|fleet|reload runs one section; BENCH_FLEET, BENCH_IDLE_SECONDS and BENCH_CONFIG (JSON merged into the fleet's config) tune it. */
async function main(): Promise<void> {
  console.log(`warden bench · node ${process.version} · ${process.platform} · ${(await import('node:os')).cpus().length} cores`);
  const only = process.env.BENCH_ONLY;
  if (!only || only === 'wall') await wallSection();
  if (!only || only === 'calls') await callsSection();
  if (!only || only === 'reload') await reloadSection();
  if (!only || only === 'fleet') await fleetSection();
}

main().catch((error: Error) => {
  console.error(`bench failed: ${error.stack ?? error.message}`);
  process.exit(1);
});
