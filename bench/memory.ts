// The memory section of `npm run bench`: a bomb growing 1 GB/s in a node and in a Python plugin, limit
// 200 MB, under a real daemon with cgroups and without (the daemon in a mount namespace whose
// /sys/fs/cgroup is an empty tmpfs); peak / limit, median and max of a few runs, in one run.
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ControlClient } from '../dist/control/client.js';
import { PACKAGE_ROOT } from '../dist/version.js';
import { until, withBenchDaemon } from './daemon.js';
import { median, printTable } from './stats.js';

const LIMIT_MB = 200;
const RUNS = Number(process.env.BENCH_BOMB_RUNS ?? 3);
const LANGS = ['js', 'python'] as const;
const WITHOUT_CGROUPS = ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount -t tmpfs none /sys/fs/cgroup && exec "$@"', 'sh'];

interface PluginState {
  state: string;
  pid: number | null;
  lastError: { kind: string; message: string } | null;
}

/** A field of /proc/<pid>/status in bytes; null once the process is gone. */
function statusField(pid: number, field: 'VmHWM' | 'RssFile'): number | null {
  try {
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
  } catch {
    return null;
  }
}

/**
 * One detonation: the peak of the plugin's own resident memory (VmHWM, the kernel's exact high-water mark,
 * less the file pages it shared before: node's binary, ~34 MB) over the limit, and the reason warden gave.
 */
async function detonate(client: ControlClient, name: string, previousPid: number | null): Promise<{ ratio: number; message: string; pid: number }> {
  const { pid } = await until(async () => {
    const s = await client.request<PluginState>('plugin.get', { name });
    return s.state === 'running' && s.pid !== null && s.pid !== previousPid ? { pid: s.pid } : undefined;
  }, 20);
  const shared = statusField(pid, 'RssFile') ?? 0;
  let peak = 0;
  const watcher = setInterval(() => (peak = Math.max(peak, statusField(pid, 'VmHWM') ?? 0)), 2);
  try {
    await client.request('plugin.call', { name, method: 'bomb', params: { mbPerSecond: 1000 } });
    const message = await until(async () => {
      const s = await client.request<PluginState>('plugin.get', { name });
      return s.pid !== pid && s.lastError?.kind === 'quota' ? s.lastError.message : undefined;
    }, 20);
    await until(async () => (statusField(pid, 'VmHWM') === null ? true : undefined), 5);
    return { ratio: (peak - shared) / (LIMIT_MB * 2 ** 20), message, pid };
  } finally {
    clearInterval(watcher);
  }
}

/** A daemon with both bombs (`wrapper` in front of node), RUNS detonations of each; the ratios and last reasons. */
function bombRuns(wrapper: string[]): Promise<Record<(typeof LANGS)[number], { ratios: number[]; message: string }>> {
  const limits = { limits: { memoryMb: LIMIT_MB } };
  return withBenchDaemon({
    outside: true,
    wrapper,
    prepare: (dir) => {
      for (const lang of LANGS) cpSync(join(PACKAGE_ROOT, 'test/fixtures/membomb', lang), join(dir, 'plugins', `membomb-${lang}`), { recursive: true });
    },
    config: () => ({
      hotReload: { enabled: false },
      permissions: { approval: 'declared' },
      defaults: { restart: { initialDelayMs: 50, maxDelayMs: 50, maxRestarts: 1000, windowMs: 60_000 } },
      plugins: { 'membomb-js': limits, 'membomb-python': limits },
    }),
    ready: async () => true,
    fn: async ({ client }) => {
      const out = { js: { ratios: [] as number[], message: '' }, python: { ratios: [] as number[], message: '' } };
      for (const lang of LANGS) {
        let pid: number | null = null;
        for (let run = 0; run < RUNS; run++) {
          const result = await detonate(client, `membomb-${lang}`, pid);
          out[lang].ratios.push(result.ratio);
          out[lang].message = result.message;
          pid = result.pid;
        }
      }
      return out;
    },
  });
}

export async function memorySection(): Promise<void> {
  const rows: string[][] = [];
  for (const [mode, wrapper, goal] of [['cgroup (v1 limit 1.1×)', [], '≤ 1.2×'], ['no cgroup (growth-rate trigger)', WITHOUT_CGROUPS, '< 2×']] as const) {
    const runs = await bombRuns([...wrapper]);
    for (const lang of LANGS) {
      const { ratios, message } = runs[lang];
      rows.push([`${lang}, ${mode}`, `${median(ratios).toFixed(2)}×`, `${Math.max(...ratios).toFixed(2)}×`, goal, message]);
    }
  }
  printTable(
    `Memory bomb at 1 GB/s, limit ${LIMIT_MB} MB: the plugin's peak resident memory / limit (${RUNS} runs each; same run)`,
    ['plugin, containment', 'median', 'max', 'goal', 'lastError (last run)'],
    rows,
  );
}
