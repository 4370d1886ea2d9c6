// Hot-reload figures: a new folder to its first answer, the blue/green swap, and failed calls
// during reloads under a steady stream of calls.
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../dist/version.js';
import { until, withBenchDaemon } from './daemon.js';
import { median, printTable } from './stats.js';

const DEBOUNCE_MS = 50;
const ROUNDS = 10;
const CALLS_PER_SECOND = 500;

function copyEcho(pluginsDir: string, name: string, version = '1.0.0'): string {
  const dir = join(pluginsDir, name);
  cpSync(join(PACKAGE_ROOT, 'plugins/echo'), dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, 'plugin.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'plugin.json'), JSON.stringify({ ...manifest, name, version }));
  return dir;
}

const ms = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e6;

export async function reloadSection(): Promise<void> {
  let target = '';
  await withBenchDaemon({
    prepare: (dir) => {
      target = copyEcho(join(dir, 'plugins'), 'target');
    },
    config: () => ({ hotReload: { enabled: true, debounceMs: DEBOUNCE_MS } }),
    ready: async (client) => (await client.request<{ state: string }>('plugin.get', { name: 'target' })).state === 'running',
    fn: async ({ client: c, dir }) => {
      const pluginsDir = join(dir, 'plugins');
      const poll = <T>(probe: () => Promise<T | undefined>) => until(probe, 2);
      const appear: number[] = [];
      for (let i = 0; i < 5; i++) {
        const started = process.hrtime.bigint();
        copyEcho(pluginsDir, `fresh-${i}`);
        await poll(() => c.request('plugin.call', { name: `fresh-${i}`, method: 'echo', params: i }).then((r) => (r === i ? true : undefined)));
        appear.push(ms(started));
      }
      const bare: number[] = [];
      for (let i = 0; i < 10; i++) {
        const started = process.hrtime.bigint();
        spawnSync(process.execPath, ['-e', ''], { env: { PATH: process.env.PATH ?? '' } });
        bare.push(ms(started));
      }

      let sent = 0;
      let failed = 0;
      const stream = setInterval(() => {
        for (let k = 0; k < CALLS_PER_SECOND / 100; k++) {
          sent++;
          c.request('plugin.call', { name: 'target', method: 'echo', params: sent }).catch(() => failed++);
        }
      }, 10);
      const swaps: number[] = [];
      try {
        for (let round = 1; round <= ROUNDS; round++) {
          const version = `1.0.${round}`;
          const started = process.hrtime.bigint();
          const manifest = JSON.parse(readFileSync(join(target, 'plugin.json'), 'utf8')) as Record<string, unknown>;
          writeFileSync(join(target, 'plugin.json'), JSON.stringify({ ...manifest, version }));
          await poll(async () => ((await c.request<{ version: string }>('plugin.get', { name: 'target' })).version === version ? true : undefined));
          swaps.push(ms(started));
        }
      } finally {
        clearInterval(stream);
      }
      await new Promise((resolve) => setTimeout(resolve, 200)); // let the last calls come back

      printTable(
        `Hot reload (debounce ${DEBOUNCE_MS} ms, included below)`,
        ['what', 'median', 'max'],
        [
          ['new plugin folder → its first answered call', `${median(appear).toFixed(0)} ms`, `${Math.max(...appear).toFixed(0)} ms`],
          ['baseline: node -e "" (spawn to exit)', `${median(bare).toFixed(0)} ms`, `${Math.max(...bare).toFixed(0)} ms`],
          [`plugin.json edited → new version serving (${ROUNDS} reloads)`, `${median(swaps).toFixed(0)} ms`, `${Math.max(...swaps).toFixed(0)} ms`],
        ],
      );
      console.log(`\nFailed calls during ${ROUNDS} reloads under ${CALLS_PER_SECOND} calls/s: ${failed} of ${sent} (goal: 0).`);
    },
  });
}
