// The sampling section of `npm run bench`: one pass over the same 100 idle process trees, three ways, in
// one run: pidusage (the library the design first named), warden's batched /proc walk (hosts without
// cgroups) and warden's reads of each tree's cgroup counters (files kept open, re-read from offset 0).
import { type ChildProcess, spawn } from 'node:child_process';
import pidusage from 'pidusage';
import { detectCgroups, type CgroupDriver, type PluginCgroup } from '../dist/cgroups/index.js';
import { QuotaMonitor } from '../dist/quotas/monitor.js';
import { processTree } from '../dist/quotas/process-tree.js';
import { until } from './daemon.js';
import { median, printTable } from './stats.js';

const TREES = Number(process.env.BENCH_SAMPLING_TREES ?? 100);
const PASSES = Number(process.env.BENCH_SAMPLING_PASSES ?? 30);
const LIMITS = { memoryMb: 256, cpuPercent: 100, handles: 256, processes: 4 };

interface PassCost {
  /** CPU time of this process per pass (user + system), ms. */
  cpuMs: number;
  /** Wall time per pass, ms (median). */
  wallMs: number;
}

/** Runs `pass` PASSES times after two warm-up passes: CPU per pass (total / PASSES) and median wall time. */
async function cost(pass: () => Promise<unknown>): Promise<PassCost> {
  for (let i = 0; i < 2; i++) await pass();
  const walls: number[] = [];
  const before = process.cpuUsage();
  for (let i = 0; i < PASSES; i++) {
    const started = performance.now();
    await pass();
    walls.push(performance.now() - started);
  }
  const used = process.cpuUsage(before);
  return { cpuMs: (used.user + used.system) / 1000 / PASSES, wallMs: median(walls) };
}

/** warden's monitor over the trees, as the daemon runs it: from cgroup counters when `driver` is given, else by /proc walks. */
function monitorOf(children: ChildProcess[], driver: CgroupDriver | null): QuotaMonitor {
  const monitor = new QuotaMonitor({
    intervalMs: 1000,
    countersOf: driver ? (pid) => driver.countersOf(pid) : undefined,
    onSample: () => undefined,
    onWarning: () => undefined,
    onBreach: () => undefined,
  });
  children.forEach((child, i) => monitor.watch(`p${i}`, child.pid!, LIMITS));
  return monitor;
}

/** TREES idle node processes, each in a cgroup of its own where the host has cgroups. */
async function spawnTrees(): Promise<{ children: ChildProcess[]; cgroups: PluginCgroup[]; driver: CgroupDriver | null }> {
  const driver = detectCgroups().driver;
  driver?.claim();
  const children: ChildProcess[] = [];
  const cgroups: PluginCgroup[] = [];
  for (let i = 0; i < TREES; i++) {
    const cgroup = driver?.create('bench-sampling', `${process.pid}-${i}`, LIMITS) ?? null;
    if (cgroup) cgroups.push(cgroup);
    const [command, ...args] = [...(cgroup?.joinArgv() ?? []), process.execPath, '-e', 'setInterval(() => {}, 1e9)'];
    children.push(spawn(command!, args, { stdio: 'ignore' }));
  }
  // every tree is there once each child shows its node threads (more than one task)
  await until(async () => (children.every((c) => c.pid !== undefined) ? true : undefined));
  return { children, cgroups, driver };
}

export async function samplingSection(): Promise<void> {
  const { children, cgroups, driver } = await spawnTrees();
  const monitors: QuotaMonitor[] = [];
  try {
    await new Promise((resolve) => setTimeout(resolve, 1500)); // let every node child finish its start
    // pidusage reads the pids it is given and walks nothing: once with the trees' pids listed beforehand
    // (it then misses any later fork), once with warden's walk in front of it, which is what trees need
    const walk = async () => (await Promise.all(children.map((child) => processTree(child.pid!)))).flat();
    const pids = await walk();
    const rows: Array<[string, PassCost]> = [];
    rows.push([`pidusage(${pids.length} pids listed once), its default /proc reads`, await cost(() => pidusage(pids))]);
    rows.push([`pidusage after a walk of the ${TREES} trees each pass`, await cost(async () => pidusage(await walk()))]);
    const walker = monitorOf(children, null);
    monitors.push(walker);
    rows.push([`warden's pass, batched /proc walk (${TREES} trees: walk, stat, fd count)`, await cost(() => walker.sampleNow())]);
    if (cgroups.length === TREES) {
      const reader = monitorOf(children, driver);
      monitors.push(reader);
      rows.push([`warden's pass, cgroup counters (4 preads each; fd count every 5th pass)`, await cost(() => reader.sampleNow())]);
    }
    const base = rows[0]![1].cpuMs;
    printTable(
      `Sampling: one pass over ${TREES} idle node process trees (CPU of the sampling process per pass, ${PASSES} passes; same run)`,
      ['method', 'CPU per pass', 'wall per pass (median)', 'CPU vs pidusage', 'CPU at one pass a second'],
      rows.map(([what, c]) => [what, `${c.cpuMs.toFixed(2)} ms`, `${c.wallMs.toFixed(2)} ms`, `${(c.cpuMs / base).toFixed(2)}×`, `${(c.cpuMs / 10).toFixed(2)} % of a core`]),
    );
    if (cgroups.length !== TREES) console.log(`No cgroup counters row: ${detectCgroups().reason ?? 'cgroups unavailable'}.`);
  } finally {
    for (const monitor of monitors) children.forEach((_, j) => monitor.unwatch(`p${j}`));
    for (const child of children) child.kill('SIGKILL');
    for (const cgroup of cgroups) await cgroup.kill().then(() => cgroup.remove()).catch(() => undefined);
  }
}
