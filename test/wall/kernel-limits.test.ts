// The kernel as the backstop (CONTRACT §7): with sampling slowed to once a minute, the sampler
// cannot act, and what stops a memory bomb is the cgroup's OOM killer (lastError says so), and what
// stops a fork bomb is pids.max (its forks fail). The daemon and a sibling carry on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroupLimits } from '../../src/cgroups/limits.js';
import { waitFor } from '../helpers/wait.js';
import { LANGS, attacker, bootWall, teardown, type WallBoot } from './helpers.js';

const MEMORY_MB = 64;
const PROCESSES = 2;

describe('kernel limits stop what the sampler is too slow for', () => {
  let boot: WallBoot | undefined;
  const names = (kind: string) => LANGS.map((l) => `${kind}-${l.lang}`);

  beforeAll(async () => {
    const plugins = Object.fromEntries([
      ...LANGS.flatMap((lang) => [
        [`oom-${lang.lang}`, attacker(lang)],
        [`oombg-${lang.lang}`, attacker(lang)],
        [`bomb-${lang.lang}`, attacker(lang)],
      ]),
      ['sibling', attacker(LANGS[1]!)],
    ]);
    const overrides = {
      ...Object.fromEntries([...names('oom'), ...names('oombg')].map((n) => [n, { limits: { memoryMb: MEMORY_MB } }])),
      ...Object.fromEntries(names('bomb').map((n) => [n, { limits: { processes: PROCESSES } }])),
      'bomb-js': { limits: { processes: PROCESSES }, permissions: { childProcess: true } },
    };
    boot = await bootWall({ sampling: { intervalMs: 60_000 }, plugins: overrides }, plugins);
    await Promise.all(Object.keys(plugins).map((n) => boot!.daemon.waitForState(n, 'running')));
  });
  afterAll(() => teardown(boot));

  async function siblingFine(): Promise<void> {
    const { daemon } = boot!;
    expect(daemon.daemon!.proc.exitCode).toBeNull();
    expect(await daemon.call('sibling', 'whoami')).toMatchObject({ lang: 'python' });
    expect(await daemon.status('sibling')).toMatchObject({ state: 'running', restarts: 0 });
  }

  /** Waits until the daemon has handled the kill (reason set by the failure), then returns the status. */
  async function afterKernelKill(name: string) {
    return waitFor(`${name} to be handled as a kernel OOM kill`, async () => {
      const status = await boot!.daemon.status(name);
      return status.state !== 'running' && /killed by the kernel/.test(status.reason ?? '') ? status : undefined;
    });
  }

  describe.each(LANGS)('$lang', (lang) => {
    it('a memory bomb during a call is killed by the kernel: lastError is a quota error', async () => {
      const name = `oom-${lang.lang}`;
      const bomb = boot!.daemon.call(name, 'allocate', { mb: 2000, stepMb: 50 });
      await expect(bomb).rejects.toMatchObject({ code: -32006 });
      const status = await afterKernelKill(name);
      const hardMb = cgroupLimits({ memoryMb: MEMORY_MB, cpuPercent: 100, handles: 256, processes: 16 }).memoryBytes / 1024 / 1024;
      expect(status.reason).toContain(`killed by the kernel at ${hardMb} MB`);
      // The cause, not its consequence: the call that died with it is a -32006 in recentErrors.
      expect(status.lastError).toMatchObject({ kind: 'quota', message: expect.stringMatching(/killed by the kernel/) });
      await siblingFine();
    });

    it('a memory bomb between calls is killed by the kernel: lastError is a quota error', async () => {
      const name = `oombg-${lang.lang}`;
      expect(await boot!.daemon.call(name, 'allocate', { mb: 2000, background: true })).toMatchObject({ ok: true });
      const status = await afterKernelKill(name);
      expect(status.lastError).toMatchObject({ kind: 'quota', message: expect.stringMatching(/^memory: killed by the kernel at \d+ MB/) });
      await siblingFine();
    });

    it('a fork bomb with processes: 2 runs into pids.max', async () => {
      const name = `bomb-${lang.lang}`;
      const pidsMax = cgroupLimits({ memoryMb: 256, cpuPercent: 100, handles: 256, processes: PROCESSES }).pidsMax;
      const result = await boot!.daemon.call<{ attempts: number; forked: number; error: string | null }>(name, 'forkBomb', { attempts: 200 });
      console.log(`fork bomb (${lang.lang}): ${result.forked} of ${result.attempts} forks succeeded, then ${result.error} (pids.max ${pidsMax})`);
      expect(result.error).toBe('EAGAIN');
      expect(result.forked).toBeLessThan(pidsMax);
      expect(result.forked).toBeLessThan(result.attempts);
      // The bomb itself survives its failed forks; the daemon and the sibling never noticed.
      expect(await boot!.daemon.call(name, 'whoami')).toMatchObject({ lang: lang.lang });
      await siblingFine();
    });
  });
});
