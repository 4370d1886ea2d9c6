// 200 plugins started at once, with the default timeouts: every one reaches `running` on its first try,
// and the first answers long before the last is spawned (no start timeout at scale).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PluginStatus } from '../../src/protocol/index.js';
import { REPO, Sandbox, TestDaemon } from '../helpers/daemon.js';
import { isAlive, waitFor } from '../helpers/wait.js';

const COUNT = 200;
const MINIMAL = join(REPO, 'test/fixtures/minimal');

/** When a process was spawned, in epoch ms (its start time in /proc, clock ticks after boot). */
function spawnedAtMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  const bootSeconds = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))![1]);
  return bootSeconds * 1000 + ticks * 10;
}

const sandbox = new Sandbox();
const daemon = new TestDaemon(sandbox);
/** Every plugin process seen, each killed at the end should the daemon's stop leave one. */
const pids: number[] = [];

afterAll(async () => {
  if (daemon.daemon) await daemon.stop('SIGTERM');
  await daemon.cleanup();
  for (const pid of pids.filter(isAlive)) process.kill(pid, 'SIGKILL');
  await waitFor('every plugin process to be gone', () => pids.every((pid) => !isAlive(pid)), { timeoutMs: 10_000 });
  sandbox.remove();
}, 60_000);

describe(`${COUNT} plugins started at once`, () => {
  it('all reach running on the first try with the default timeouts; the first answers before the last is spawned', async () => {
    // Default timeouts (startTimeoutMs 10000); only quiet logs, so the test measures starting.
    sandbox.writeConfig({ logging: { dir: 'var/logs', level: 'warn' }, hotReload: { enabled: false } });
    for (let i = 0; i < COUNT; i++) {
      const name = `p${String(i).padStart(3, '0')}`;
      sandbox.addPlugin(name, { from: MINIMAL, manifest: { name, version: '1.0.0', main: 'index.js' } });
    }
    const began = Date.now();
    await daemon.start();
    // Done once all run; a failed first start ends the wait at once (it already fails the test).
    const plugins = await waitFor(
      `all ${COUNT} plugins to run`,
      async () => {
        const { plugins } = await daemon.request<{ plugins: PluginStatus[] }>('status');
        const settled = plugins.length === COUNT && plugins.every((p) => p.state === 'running');
        return settled || plugins.some((p) => p.lastError) ? plugins : undefined;
      },
      { timeoutMs: 100_000, intervalMs: 200 },
    );
    const seconds = (Date.now() - began) / 1000;
    for (const p of plugins) if (p.pid) pids.push(p.pid);
    const failed = plugins.filter((p) => p.state !== 'running' || p.restarts > 0 || p.lastError);
    expect(failed.map((p) => `${p.name}: ${p.state} ${p.lastError?.message ?? ''}`)).toEqual([]);

    const firstAnswer = Math.min(...plugins.map((p) => Date.parse(p.startedAt!)));
    const lastSpawn = Math.max(...plugins.map((p) => spawnedAtMs(p.pid!)));
    console.log(`${COUNT} plugins running after ${seconds.toFixed(1)} s; first answer ${firstAnswer - began} ms, last spawn ${lastSpawn - began} ms after the daemon was spawned`);
    // Long before: in the first half of the spawning, not after a burst of every spawn at once.
    expect(firstAnswer - began).toBeLessThan((lastSpawn - began) / 2);
  }, 120_000);
});
