// A memory bomb at 1 GB/s in a node and in a Python plugin, limit 200 MB, against the real kernel: with a
// cgroup the kernel's hard limit bounds the peak (under 1.2× the limit); without one (the daemon in a
// mount namespace whose /sys/fs/cgroup is an empty tmpfs, so detection finds no hierarchy) the sampler's
// growth-rate trigger stops it under 2×. The peak is the plugin's own VmHWM, read every few ms.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_DEFAULTS, REPO, Sandbox, TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

const LIMIT_MB = 200;
const FIXTURES = join(REPO, 'test/fixtures/membomb');
/** Runs the daemon where the kernel offers no cgroups: an empty tmpfs over /sys/fs/cgroup in its own mount namespace. */
export const WITHOUT_CGROUPS = ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount -t tmpfs none /sys/fs/cgroup && exec "$@"', 'sh'];
const canRun = process.getuid?.() === 0 && (() => {
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8').includes(' /sys/fs/cgroup/memory ');
  } catch {
    return false;
  }
})();

/** A field of /proc/<pid>/status in bytes; null once the process is gone. */
function statusField(pid: number, field: 'VmHWM' | 'RssFile'): number | null {
  try {
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
  } catch {
    return null;
  }
}

/** Boots a daemon with both bombs (slow restarts: a stopped bomb stays stopped while it is looked at). */
async function boot(wrapper: string[]): Promise<{ sandbox: Sandbox; daemon: TestDaemon }> {
  const sandbox = new Sandbox();
  sandbox.writeConfig({
    sampling: { intervalMs: 1000 },
    // a folder copied just before the start can be taken for an edit: no blue/green swap mid-bomb
    hotReload: { enabled: false },
    permissions: { approval: 'declared' },
    defaults: { ...FAST_DEFAULTS, restart: { initialDelayMs: 60_000, maxDelayMs: 60_000, maxRestarts: 5, windowMs: 60_000 } },
    plugins: { 'membomb-js': { limits: { memoryMb: LIMIT_MB } }, 'membomb-python': { limits: { memoryMb: LIMIT_MB } } },
  });
  for (const lang of ['js', 'python']) sandbox.addPlugin(`membomb-${lang}`, { from: join(FIXTURES, lang) });
  const daemon = new TestDaemon(sandbox);
  try {
    await daemon.start({}, wrapper);
  } catch (error) {
    sandbox.remove();
    throw error;
  }
  return { sandbox, daemon };
}

/**
 * Sets one bomb off and follows its peak until warden has stopped it; returns the peak / limit and lastError.
 * The peak is the plugin's own resident memory: VmHWM (the kernel's exact high-water mark, read until the
 * process is gone) less the file pages it shared before the bomb (node's own binary, ~34 MB, charged to
 * whoever read them first and counted in every node process's RSS).
 */
async function detonate(daemon: TestDaemon, name: string): Promise<{ ratio: number; message: string }> {
  const { pid } = await daemon.waitForState(name, 'running', 20_000);
  const shared = statusField(pid!, 'RssFile') ?? 0;
  let peak = 0;
  const watcher = setInterval(() => (peak = Math.max(peak, statusField(pid!, 'VmHWM') ?? 0)), 2);
  try {
    await daemon.call(name, 'bomb', { mbPerSecond: 1000 });
    const stopped = await waitFor(`${name} to be stopped for memory`, async () => {
      const status = await daemon.status(name);
      return status.lastError?.kind === 'quota' ? status : undefined;
    }, { timeoutMs: 20_000 });
    await waitFor(`${name}'s process to be gone`, () => statusField(pid!, 'VmHWM') === null);
    return { ratio: (peak - shared) / (LIMIT_MB * 1024 * 1024), message: stopped.lastError!.message };
  } catch (error) {
    const status = await daemon.status(name).catch(() => null);
    throw new Error(`${(error as Error).message}; status: ${JSON.stringify({ state: status?.state, reason: status?.reason, lastError: status?.lastError, usage: status?.usage })}`);
  } finally {
    clearInterval(watcher);
  }
}

const suite = canRun ? describe : describe.skip;

suite.each([
  { mode: 'with a cgroup', wrapper: [] as string[], bound: 1.2, reason: /^memory( \d+ MB over limit 200 MB| \d+ MB growing at \d+ MB\/s|: killed by the kernel at 220 MB)/ },
  { mode: 'without cgroups', wrapper: WITHOUT_CGROUPS, bound: 2, reason: /^memory \d+ MB (over limit 200 MB|growing at \d+ MB\/s would pass its limit of 200 MB)/ },
])('a 1 GB/s memory bomb, limit 200 MB, $mode', ({ mode, wrapper, bound, reason }) => {
  let booted: { sandbox: Sandbox; daemon: TestDaemon } | undefined;
  beforeAll(async () => {
    booted = await boot(wrapper);
  });
  afterAll(async () => {
    await booted?.daemon.cleanup();
    booted?.sandbox.remove();
  });

  it.each(['js', 'python'])(`%s: peaks under ${bound}× its limit and fails with a memory quota reason`, async (lang) => {
    const { daemon } = booted!;
    const cgroupLine = (await daemon.status(`membomb-${lang}`)).enforcement;
    const { ratio, message } = await detonate(daemon, `membomb-${lang}`);
    console.log(`memory bomb ${lang} ${mode}: peak ${ratio.toFixed(2)}× the limit; lastError: ${message}; enforcement ${JSON.stringify(cgroupLine)}`);
    expect(message).toMatch(reason);
    expect(ratio).toBeLessThan(bound);
  });
});
