import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bootDaemon, FAST_DEFAULTS, REPO, type PluginSpec, type Sandbox, type TestDaemon } from '../helpers/daemon.js';
import { descendantsOf, isAlive, waitFor } from '../helpers/wait.js';

const HOG = join(REPO, 'test/fixtures/hog');
let sandbox: Sandbox;
let daemon: TestDaemon;

/** Slow restarts, so a stopped hog stays stopped while the test looks at it. */
const QUOTA_DEFAULTS = { ...FAST_DEFAULTS, restart: { initialDelayMs: 30_000, maxDelayMs: 30_000, maxRestarts: 5, windowMs: 60_000 } };

async function boot(plugins: Record<string, PluginSpec>, config: Record<string, unknown> = {}) {
  ({ sandbox, daemon } = await bootDaemon({ sampling: { intervalMs: 500 }, defaults: QUOTA_DEFAULTS, permissions: { approval: 'declared' }, ...config }, plugins));
}

function hog(manifest: Record<string, unknown> = {}): PluginSpec {
  return { from: HOG, manifest: { main: 'index.js', ...manifest } };
}

/** The test's own view of a process's resident memory, independent of warden's sampler. */
function rssBytes(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
  } catch {
    return 0;
  }
}

afterEach(async () => {
  await daemon?.cleanup();
  sandbox?.remove();
});

describe('quotas', () => {
  it('stops a memory bomb near its limit, with a reason that names the limit and the value', async () => {
    await boot({ bomb: hog({ limits: { memoryMb: 100 } }) });
    const { pid } = await daemon.waitForState('bomb', 'running');
    let peak = 0;
    const watcher = setInterval(() => (peak = Math.max(peak, rssBytes(pid!))), 50);
    try {
      await daemon.call('bomb', 'grow', { mbPerSecond: 50 });
      const stopped = await waitFor('the bomb to be stopped', async () => {
        const status = await daemon.status('bomb');
        return status.lastError?.kind === 'quota' ? status : undefined;
      });
      // Over the limit at a pass, or stopped on the growth rate just before it.
      const breach = 'memory \\d+ MB (over limit 100 MB|growing at \\d+ MB/s would pass its limit of 100 MB within \\d+ ms)';
      expect(stopped.lastError!.message).toMatch(new RegExp(`^${breach}$`));
      expect(stopped.reason).toMatch(new RegExp(`^quota: ${breach}; restarting in`));
      expect(stopped.state).toBe('backoff');
    } finally {
      clearInterval(watcher);
    }
    expect(peak).toBeGreaterThan(90 * 1024 * 1024);
    expect(peak).toBeLessThan(150 * 1024 * 1024);
    await waitFor('the bomb process to be gone', () => !isAlive(pid!));
  });

  it('survives a fast bomb (1 GB/s): the bomb is stopped and every other plugin keeps answering', async () => {
    await boot({ fast: hog({ limits: { memoryMb: 100 } }), bystander: {} });
    await daemon.waitForState('fast', 'running');
    await daemon.waitForState('bystander', 'running');
    await daemon.call('fast', 'grow', { mbPerSecond: 1000, capMb: 3000 });
    const stopped = await waitFor('the fast bomb to be stopped', async () => {
      const status = await daemon.status('fast');
      return status.lastError?.kind === 'quota' ? status : undefined;
    });
    // At 1 GB/s the kernel (cgroup memory limit, 110 MB) usually gets there before the sampler.
    expect(stopped.lastError!.message).toMatch(/^(memory \d+ MB (over limit 100 MB|growing at)|memory: killed by the kernel at 110 MB)/);
    expect(await daemon.call('bystander', 'echo', 'alive')).toBe('alive');
  });

  it('stops a V8 heap bomb at its memory limit and says so', async () => {
    // Neither the sampler nor a health check may get there first: near its limit V8 collects
    // garbage back to back, and a busy machine would see that as a hang.
    await boot(
      { heap: hog({ limits: { memoryMb: 64 } }) },
      { sampling: { intervalMs: 60_000 }, defaults: { ...QUOTA_DEFAULTS, health: { intervalMs: 60_000, timeoutMs: 30_000 } } },
    );
    await daemon.waitForState('heap', 'running');
    await daemon.call('heap', 'growHeap');
    const stopped = await waitFor('the heap bomb to die', async () => {
      const status = await daemon.status('heap');
      return status.lastError ? status : undefined;
    }, { timeoutMs: 20_000 });
    expect(stopped.lastError).toMatchObject({ kind: 'quota' });
    // Where the cgroup limits memory (71 MB) node runs without a heap flag and the kernel stops it; elsewhere V8's heap limit does.
    const cgroup = stopped.enforcement.memoryMb.startsWith('cgroup');
    expect(stopped.lastError!.message).toMatch(cgroup ? /^memory: killed by the kernel at 71 MB/ : /^memory: the V8 heap limit was reached/);
  });

  it('stops a handle leak at its handles limit', async () => {
    await boot({ leaky: hog({ limits: { handles: 64 } }) });
    await daemon.waitForState('leaky', 'running');
    await daemon.call('leaky', 'leakHandles', { count: 500 });
    const stopped = await waitFor('the leak to be stopped', async () => {
      const status = await daemon.status('leaky');
      return status.lastError?.kind === 'quota' ? status : undefined;
    });
    expect(stopped.lastError!.message).toMatch(/^handles \d+ over limit 64$/);
  });

  it('stops a fork bomb at its processes limit, with every descendant gone', async () => {
    await boot({ forky: hog({ limits: { processes: 8 }, permissions: { childProcess: true } }) });
    const { pid } = await daemon.waitForState('forky', 'running');
    await daemon.call('forky', 'fork', { count: 40 });
    const children = new Set<number>();
    const watcher = setInterval(() => {
      for (const child of descendantsOf(pid!)) children.add(child);
    }, 20);
    let stopped;
    try {
      stopped = await waitFor('the fork bomb to be stopped', async () => {
        const status = await daemon.status('forky');
        return status.lastError?.kind === 'quota' ? status : undefined;
      });
    } finally {
      clearInterval(watcher);
    }
    expect(stopped.lastError!.message).toMatch(/^processes \d+ over limit 8$/);
    expect(children.size).toBeGreaterThan(0);
    await waitFor('every descendant to be gone', () => [pid!, ...children].every((p) => !isAlive(p)));
  });

  it('stops a CPU spinner after a sustained window over cpuPercent', async () => {
    await boot({ spinner: hog({ limits: { cpuPercent: 30 } }) }, { sampling: { intervalMs: 300, cpuSamples: 3 } });
    await daemon.waitForState('spinner', 'running');
    await daemon.call('spinner', 'spin');
    const stopped = await waitFor('the spinner to be stopped', async () => {
      const status = await daemon.status('spinner');
      return status.lastError?.kind === 'quota' ? status : undefined;
    });
    expect(stopped.lastError!.message).toMatch(/^cpu \d+% over limit 30% for 3 samples$/);
  });

  it('shows usage in status while running', async () => {
    await boot({ calm: hog() });
    await daemon.waitForState('calm', 'running');
    const status = await waitFor('a usage sample', async () => {
      const s = await daemon.status('calm');
      return s.usage ? s : undefined;
    });
    // Behind a cgroup this is what the cgroup is charged for: node's own binary pages are charged elsewhere.
    expect(status.usage!.memoryBytes).toBeGreaterThan(5 * 1024 * 1024);
    expect(status.usage!.processes).toBe(1);
    expect(status.usage!.handles).toBeGreaterThan(3);
  });
});

/** Direct and indirect children of a process, from /proc. */
