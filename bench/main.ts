// `npm run bench`: warden's figures side by side with baselines measured in the same run; README "Benchmarks" says what each row means.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ControlClient } from '../dist/control/client.js';
import { PluginHost } from '../dist/host/plugin-host.js';
import { createLogSystem } from '../dist/logging/index.js';
import { loadPlugin } from '../dist/manifest/discover.js';
import { detectCapabilities } from '../dist/sandbox/capabilities.js';
import { planLaunch } from '../dist/sandbox/launch.js';
import { PACKAGE_ROOT } from '../dist/version.js';
import { until, withBenchDaemon } from './daemon.js';
import { prepareFloor, walledSpawnToAnswerMs } from './launch-floor.js';
import { BarePeer, bareSpawnToAnswerMs } from './peers.js';
import { layProtocolPlugin } from './protocol-plugin.js';
import { measureCalls, median, medianFigures, printTable, type CallFigures } from './stats.js';
import { lazySection } from './lazy.js';
import { reloadSection } from './reload.js';
import { fleetSection } from './fleet.js';
import { wallSection } from './wall.js';
import { mcpSection } from './mcp.js';

const SEQUENTIAL = 5000;
const PIPELINED = 50_000;
const IN_FLIGHT = 256;
const CRASHES = 10;
/** Rounds of (a) and (c), alternated: each figure is the median of its rounds, so one noisy moment of the VM does not decide a ratio. */
const ROUNDS = Number(process.env.BENCH_CALL_ROUNDS ?? 3);
const ECHO_DIR = join(PACKAGE_ROOT, 'plugins/echo');

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

/** A real daemon with two copies of the bench's protocol plugin outside the package, restarting at once after a crash; `standby` with a restart standby. */
function withDaemon<T>(fn: (client: ControlClient) => Promise<T>): Promise<T> {
  return withBenchDaemon({
    outside: true,
    prepare: (dir) => {
      for (const name of ['echo', 'standby']) {
        mkdirSync(join(dir, 'plugins', name), { recursive: true });
        layProtocolPlugin(join(dir, 'plugins', name), name);
      }
    },
    config: () => ({
      defaults: { restart: { initialDelayMs: 0, maxRestarts: 1000, windowMs: 60_000 } },
      plugins: { standby: { restart: { standby: true } } },
    }),
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
/**
 * kill -9 each plugin in turn, then call until it answers again: crash-to-answering with restart delay 0.
 * Each kill waits until its plugin has run for 1.5 s, past the moment a restart standby is parked.
 */
async function benchCrashToAnswer(client: ControlClient, names: string[]): Promise<Map<string, number[]>> {
  const times = new Map(names.map((name) => [name, [] as number[]]));
  for (let i = 0; i < CRASHES; i++) {
    for (const name of names) {
      const { pid } = await until(async () => {
        const status = await client.request<{ state: string; pid: number | null; startedAt: string | null }>('plugin.get', { name });
        return status.state === 'running' && status.pid && Date.now() - Date.parse(status.startedAt!) > 1500 ? status : undefined;
      });
      const start = process.hrtime.bigint();
      process.kill(pid!, 'SIGKILL');
      await until(() => client.request('plugin.call', { name, method: 'echo', params: i }).then((r) => r === i || undefined), 1);
      times.get(name)!.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  }
  return times;
}

const us = (n: number) => `${n.toFixed(0)} µs`;
const perSecond = (n: number) => `${Math.round(n / 1000)}k/s`;
const ratio = (n: number) => `${n.toFixed(2)}×`;

async function callsSection(): Promise<void> {
  const host = await benchHost();
  const floor = await prepareFloor();
  const { bare, socket, crash } = await withDaemon(async (client) => {
    const bareRounds: CallFigures[] = [];
    const socketRounds: CallFigures[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      bareRounds.push(await benchBare());
      socketRounds.push(await benchSocket(client));
    }
    return { bare: medianFigures(bareRounds), socket: medianFigures(socketRounds), crash: await benchCrashToAnswer(client, ['echo', 'standby']) };
  });
  const respawn: number[] = [];
  const walledRespawn: number[] = [];
  for (let i = 0; i < CRASHES; i++) {
    respawn.push(await bareSpawnToAnswerMs());
    walledRespawn.push(await walledSpawnToAnswerMs(floor, `respawn-${process.pid}-${i}`));
  }

  printTable(
    `Calls: ${SEQUENTIAL} sequential round trips, ${PIPELINED} pipelined with ${IN_FLIGHT} in flight; (a) and (c) the median of ${ROUNDS} alternated rounds`,
    ['path', 'p50', 'p99', 'throughput', 'p50 vs (a)', 'throughput vs (a)'],
    [
      ['(a) bare child, NDJSON on a pipe', us(bare.p50Us), us(bare.p99Us), perSecond(bare.callsPerSecond), '1.00×', '1.00×'],
      ['(b) warden plugin host → SDK plugin', us(host.p50Us), us(host.p99Us), perSecond(host.callsPerSecond), ratio(host.p50Us / bare.p50Us), ratio(host.callsPerSecond / bare.callsPerSecond)],
      ['(c) control socket → daemon → plugin', us(socket.p50Us), us(socket.p99Us), perSecond(socket.callsPerSecond), ratio(socket.p50Us / bare.p50Us), ratio(socket.callsPerSecond / bare.callsPerSecond)],
    ],
  );
  const bareMs = median(respawn);
  printTable(
    `Restart: kill -9 of a plugin to its next answered call (restart delay 0), median of ${CRASHES}`,
    ['what', 'median', 'max', 'vs bare'],
    [
      ['warden: crash → restarted → answering', `${median(crash.get('echo')!).toFixed(0)} ms`, `${Math.max(...crash.get('echo')!).toFixed(0)} ms`, ratio(median(crash.get('echo')!) / bareMs)],
      ['warden, restart.standby: crash → restarted → answering', `${median(crash.get('standby')!).toFixed(0)} ms`, `${Math.max(...crash.get('standby')!).toFixed(0)} ms`, ratio(median(crash.get('standby')!) / bareMs)],
      ['baseline: spawn a bare node child → first answer', `${bareMs.toFixed(0)} ms`, `${Math.max(...respawn).toFixed(0)} ms`, '1.00×'],
      ['the wall alone: the same launch warden plans, from a bare parent → first answer', `${median(walledRespawn).toFixed(0)} ms`, `${Math.max(...walledRespawn).toFixed(0)} ms`, ratio(median(walledRespawn) / bareMs)],
    ],
  );
  console.log('\nThe plugin of (a), (c) and the restart rows is one hand-written protocol plugin (bench/protocol-plugin.ts). Goals: (c) p50 within 2.3× of (a) and at least 0.5× its throughput; crash → answering within 1.5× of the bare respawn. PM2 restarts in ~90 ms on this kind of machine (a reference figure, not measured in this run).');
}

/** BENCH_ONLY=wall|calls|mcp|fleet|reload|lazy|sampling|memory runs one section; BENCH_FLEET, BENCH_IDLE_SECONDS and BENCH_CONFIG (JSON merged into the fleet's config) tune it. */
async function main(): Promise<void> {
  // Every child is measured without it (node reads the bundle at boot: ~60 ms), as a unit's would be.
  delete process.env.NODE_EXTRA_CA_CERTS;
  console.log(`warden bench · node ${process.version} · ${process.platform} · ${(await import('node:os')).cpus().length} cores`);
  const only = process.env.BENCH_ONLY;
  if (!only || only === 'wall') await wallSection();
  if (!only || only === 'calls') await callsSection();
  if (!only || only === 'mcp') await mcpSection();
  if (!only || only === 'reload') await reloadSection();
  if (!only || only === 'fleet') await fleetSection();
  if (!only || only === 'lazy') await lazySection();
  if (!only || only === 'sampling') await (await import('./sampling.js')).samplingSection();
  if (!only || only === 'memory') await (await import('./memory.js')).memorySection();
}

main().catch((error: Error) => {
  console.error(`bench failed: ${error.stack ?? error.message}`);
  process.exit(1);
});
