// `BENCH_ONLY=lazy`: 100 lazy plugins cost the daemon what no plugins cost it, and what a first call to an idle one costs.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ControlClient } from '../dist/control/client.js';
import { withBenchDaemon } from './daemon.js';
import { layProtocolPlugin } from './protocol-plugin.js';
import { median, printTable } from './stats.js';
import { idleUsage, SETTLE_SECONDS, type IdleUsage } from './usage.js';

const LAZY = Number(process.env.BENCH_LAZY ?? 100);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 30);
/** First calls measured (each to a different idle plugin), then as many to the same plugins running. */
const FIRST_CALLS = Math.min(20, LAZY);

const name = (i: number) => `lazy-${String(i).padStart(3, '0')}`;

/** The daemon idle with `count` lazy plugins (0: an empty daemon); with plugins, then first calls against calls to running ones. */
function idleDaemon(count: number, config: Record<string, unknown> = {}): Promise<IdleUsage & { firstMs: number[]; runningMs: number[] }> {
  return withBenchDaemon({
    config: () => config,
    prepare: (dir) => {
      mkdirSync(join(dir, 'plugins'), { recursive: true });
      for (let i = 0; i < count; i++) {
        const pluginDir = join(dir, 'plugins', name(i));
        mkdirSync(pluginDir, { recursive: true });
        layProtocolPlugin(pluginDir, name(i), { activation: 'lazy', idleStopMs: 600_000 });
      }
    },
    ready: async (client) => {
      const { plugins } = await client.request<{ plugins: Array<{ state: string; reason: string | null }> }>('status');
      return plugins.length === count && plugins.every((p) => p.state === 'stopped' && p.reason === 'idle');
    },
    fn: async ({ client, pid }) => {
      const usage = await idleUsage(pid, IDLE_SECONDS);
      const firstMs: number[] = [];
      const runningMs: number[] = [];
      for (let i = 0; i < (count > 0 ? FIRST_CALLS : 0); i++) firstMs.push(await timedPing(client, name(i)));
      for (let i = 0; i < (count > 0 ? FIRST_CALLS : 0); i++) runningMs.push(await timedPing(client, name(i)));
      return { ...usage, firstMs, runningMs };
    },
  });
}

async function timedPing(client: ControlClient, plugin: string): Promise<number> {
  const start = process.hrtime.bigint();
  const answer = await client.request('plugin.call', { name: plugin, method: 'ping' });
  if (answer !== 'pong') throw new Error(`${plugin} answered ${JSON.stringify(answer)}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** The daemon alone beside the daemon with LAZY lazy plugins at rest, in this run; then first calls. */
export async function lazySection(): Promise<void> {
  const empty = await idleDaemon(0);
  const lazy = await idleDaemon(LAZY);
  // The same, without the hot-reload watcher over the plugin folders: what of the difference is the watcher's.
  const unwatched = await idleDaemon(LAZY, { hotReload: { enabled: false } });
  const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;
  const pct = (n: number) => `${n.toFixed(2)} %`;
  printTable(
    `Lazy: the daemon idle for ${IDLE_SECONDS} s (after ${SETTLE_SECONDS} s to settle), sampled every second`,
    ['what', 'daemon CPU (avg / max of 1 s)', 'daemon RSS (avg / max)'],
    [
      [`warden daemon + ${LAZY} lazy plugins, at rest`, `${pct(lazy.cpuPercent)} / ${pct(lazy.maxCpuPercent)}`, `${mb(lazy.rssBytes)} / ${mb(lazy.maxRssBytes)}`],
      [`the same, hot reload off`, `${pct(unwatched.cpuPercent)} / ${pct(unwatched.maxCpuPercent)}`, `${mb(unwatched.rssBytes)} / ${mb(unwatched.maxRssBytes)}`],
      ['warden daemon, no plugins', `${pct(empty.cpuPercent)} / ${pct(empty.maxCpuPercent)}`, `${mb(empty.rssBytes)} / ${mb(empty.maxRssBytes)}`],
      ['difference, lazy plugins − no plugins', `${(lazy.cpuPercent - empty.cpuPercent).toFixed(2)} points`, mb(lazy.rssBytes - empty.rssBytes)],
    ],
  );
  printTable(
    `Lazy: a call through the control socket, median of ${FIRST_CALLS} (each first call to a different idle plugin)`,
    ['call', 'median', 'max'],
    [
      ['first call to an idle lazy plugin (starts it behind the wall)', `${median(lazy.firstMs).toFixed(1)} ms`, `${Math.max(...lazy.firstMs).toFixed(1)} ms`],
      ['call to the same plugin, running', `${median(lazy.runningMs).toFixed(2)} ms`, `${Math.max(...lazy.runningMs).toFixed(2)} ms`],
    ],
  );
  console.log('\nGoal: with lazy plugins at rest, the daemon idles as the daemon alone does.');
}
