// The real kernel (cgroup v1 on this host): the memory limit OOM-kills, pids.max stops a fork bomb,
// a setsid + double fork cannot escape kill(), and cpu quota throttles. Every test kills and removes
// what it made in afterEach, even when it fails.
import { accessSync, constants, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { detectCgroups, type CgroupDriver, type PluginCgroup } from '../../src/cgroups/index.js';
import { PYTHON, Tracker, alive, waitFor } from './helpers.js';

const MEMORY = '/sys/fs/cgroup/memory';
const usable = ((): boolean => {
  try {
    accessSync(MEMORY, constants.W_OK);
    return PYTHON !== null;
  } catch {
    return false;
  }
})();
const suite = usable ? describe : describe.skip;
const title = usable ? 'cgroup v1 on the real kernel' : 'cgroup v1 on the real kernel (skipped: /sys/fs/cgroup/memory not writable or no python3)';

const tracker = new Tracker();
afterEach(() => tracker.cleanup());
afterAll(() => tracker.removeBases());

const limits = (over: Partial<{ memoryMb: number; cpuPercent: number; processes: number }>) => ({
  memoryMb: 256,
  cpuPercent: 100,
  handles: 64,
  processes: 4,
  ...over,
});

let driver: CgroupDriver | null = null;
// Why: one driver per file, as the daemon has one; created lazily so a skipped suite touches nothing.
function v1(): CgroupDriver {
  if (!driver) {
    const detected = detectCgroups();
    expect(detected.mode).toBe('v1');
    driver = detected.driver!;
    driver.claim();
  }
  return driver;
}

// Why: another daemon's driver (its pid names its folders), claimed as that daemon would have at start.
function claimed(daemonPid: number): CgroupDriver {
  const other = detectCgroups({ daemonPid }).driver!;
  other.claim();
  return other;
}

let seq = 0;
// Why: a fresh instance id per launch, as the supervisor does for blue/green reloads.
function create(name: string, over: Parameters<typeof limits>[0]): PluginCgroup {
  return tracker.cgroup(v1().create(name, `${process.pid}-${++seq}`, limits(over)));
}

const dirOf = (cg: PluginCgroup, hierarchy: string): string => cg.dirs.find((d) => d.startsWith(`/sys/fs/cgroup/${hierarchy}/`))!;

const MEMORY_BOMB = `
import sys
hog = []
while True:
    hog.append(bytearray(20 * 1024 * 1024))
    print(len(hog) * 20, flush=True)
`;

const FORK_BOMB = `
import os, time
n = 0
while True:
    try:
        pid = os.fork()
    except OSError as e:
        print("refused", n, e.errno, flush=True)
        break
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    n += 1
time.sleep(60)
`;

const ESCAPE = `
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        print(os.getpid(), flush=True)
        time.sleep(60)
    os._exit(0)
os.wait()
`;

suite(title, () => {
  it('memory bomb: the kernel OOM-kills it near the limit; a new instance starts at 0 OOM kills', async () => {
    const cg = create('membomb', { memoryMb: 32 }); // hard limit 36 MiB
    expect(readFileSync(join(dirOf(cg, 'memory'), 'memory.limit_in_bytes'), 'utf8').trim()).toBe(String(36 * 1024 * 1024));
    const started = Date.now();
    const run = tracker.spawnIn(cg, [PYTHON!, '-c', MEMORY_BOMB]);
    expect(await run.exit).toEqual({ code: null, signal: 'SIGKILL' });
    const elapsed = Date.now() - started;
    expect(cg.oomKills()).toBeGreaterThanOrEqual(1);
    const peak = cg.memoryPeakBytes()!;
    expect(peak).toBeGreaterThan(30 * 1024 * 1024);
    expect(peak).toBeLessThanOrEqual(40 * 1024 * 1024);
    console.log(`memory bomb: allocated ${run.lines.at(-1)} MB before SIGKILL; peak ${peak} B vs limit ${40 * 1024 * 1024} B; ${elapsed} ms`);
    const again = create('membomb', { memoryMb: 32 });
    expect(again.oomKills()).toBe(0);
    expect(again.memoryPeakBytes()).toBe(0);
  });

  it('fork bomb: forks fail with EAGAIN at pids.max, the count stays at or under it, kill() empties it', async () => {
    const cg = create('forkbomb', { processes: 2 }); // pids.max 48
    const pidsDir = dirOf(cg, 'pids');
    expect(readFileSync(join(pidsDir, 'pids.max'), 'utf8').trim()).toBe('48');
    const run = tracker.spawnIn(cg, [PYTHON!, '-c', FORK_BOMB]);
    const line = await waitFor('the fork bomb to hit pids.max', () => run.lines.find((l) => l.startsWith('refused')), { timeoutMs: 5000 });
    const [, forked, errno] = line.split(' ');
    expect(Number(errno)).toBe(11); // EAGAIN
    expect(Number(forked) + 1).toBeLessThanOrEqual(48);
    expect(Number(readFileSync(join(pidsDir, 'pids.current'), 'utf8'))).toBeLessThanOrEqual(48);
    expect(cg.pids().length).toBe(Number(forked) + 1);
    const started = Date.now();
    await cg.kill();
    const killMs = Date.now() - started;
    expect(cg.pids()).toEqual([]);
    expect(await run.exit).toEqual({ code: null, signal: 'SIGKILL' });
    console.log(`fork bomb: ${forked} forks then EAGAIN (pids.max 48); kill() of ${Number(forked) + 1} processes took ${killMs} ms`);
    await cg.remove();
    for (const dir of cg.dirs) expect(existsSync(dir)).toBe(false);
  });

  it('escape: a setsid double-forked grandchild is still listed and killed; then the folders go', async () => {
    const cg = create('escape', {});
    const run = tracker.spawnIn(cg, [PYTHON!, '-c', ESCAPE]);
    const grandchild = Number(await waitFor('the grandchild pid', () => run.lines[0], { timeoutMs: 5000 }));
    tracker.extraPids.add(grandchild);
    expect(await run.exit).toEqual({ code: 0, signal: null });
    expect(alive(grandchild)).toBe(true);
    expect(cg.pids()).toEqual([grandchild]);
    const started = Date.now();
    await cg.kill();
    const killMs = Date.now() - started;
    expect(cg.pids()).toEqual([]);
    // reparented to pid 1, which reaps it in its own time: wait for ESRCH
    await waitFor('the grandchild to be gone', () => {
      try {
        process.kill(grandchild, 0);
        return false;
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'ESRCH';
      }
    }, { timeoutMs: 5000 });
    await cg.remove();
    for (const dir of cg.dirs) expect(existsSync(dir)).toBe(false);
    // the daemon's warden-<pid> folders go with their last instance
    for (const dir of cg.dirs) expect(existsSync(join(dir, '..'))).toBe(false);
    await cg.remove(); // already removed: no error
    console.log(`escape: kill() of the setsid grandchild took ${killMs} ms`);
  });

  it('cpu: a busy loop with cpuPercent 16 gets about 20 % of a core (the quota plus its 25 % margin)', async () => {
    const cg = create('busy', { cpuPercent: 16 });
    const cpuDir = dirOf(cg, 'cpu');
    expect(readFileSync(join(cpuDir, 'cpu.cfs_quota_us'), 'utf8').trim()).toBe('20000');
    const run = tracker.spawnIn(cg, [PYTHON!, '-c', 'while True: pass']);
    const pid = run.child.pid!;
    const throttled = (): number => Number(/^nr_throttled (\d+)$/m.exec(readFileSync(join(cpuDir, 'cpu.stat'), 'utf8'))![1]);
    const ticks = (): number => {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Number(fields[11]) + Number(fields[12]); // utime + stime, in 1/100 s
    };
    await waitFor('the first throttled period', () => throttled() >= 1, { timeoutMs: 3000 });
    const [t0, c0, n0] = [Date.now(), ticks(), throttled()];
    await waitFor('8 more throttled periods', () => throttled() >= n0 + 8, { timeoutMs: 3000, intervalMs: 10 });
    const share = (ticks() - c0) / 100 / ((Date.now() - t0) / 1000);
    console.log(`cpu: busy loop at cpuPercent 16 (cgroup 20 %) got ${(share * 100).toFixed(1)} % of a core`);
    expect(share).toBeGreaterThan(0.1);
    expect(share).toBeLessThan(0.35);
  });

  it('sweep removes the empty folders of a dead daemon and keeps the live ones', async () => {
    const { spawnSync } = await import('node:child_process');
    const dead = spawnSync('/bin/true').pid!;
    const other = claimed(dead);
    const leftover = other.create('old', '1', limits({}));
    for (const dir of leftover.dirs) tracker.bases.add(join(dir, '..'));
    const mine = create('live', {});
    v1().sweep();
    for (const dir of leftover.dirs) expect(existsSync(join(dir, '..'))).toBe(false);
    for (const dir of mine.dirs) expect(existsSync(dir)).toBe(true);
  });

  it("sweep thaws and kills what a dead daemon's plugin left, even frozen, before it removes the folders", async () => {
    const { spawn } = await import('node:child_process');
    // A stand-in daemon, alive while its plugin starts (so no other daemon's sweep takes it first), then gone.
    const daemon = spawn('sleep', ['60'], { stdio: 'ignore' });
    const leftover = claimed(daemon.pid!).create('orphan', '1', limits({}));
    for (const dir of leftover.dirs) tracker.bases.add(join(dir, '..'));
    const run = tracker.spawnIn(leftover, [PYTHON!, '-c', 'import time; time.sleep(60)']);
    await waitFor('the orphan in its cgroup', () => leftover.pids().includes(run.child.pid!));
    // As a daemon killed in the middle of a kill leaves it: frozen, so a SIGKILL alone would never land.
    const freezer = leftover.dirs.find((dir) => dir.includes('/freezer/'));
    if (freezer) writeFileSync(join(freezer, 'freezer.state'), 'FROZEN');
    daemon.kill('SIGKILL');
    await new Promise((resolve) => daemon.once('exit', resolve));
    v1().sweep();
    await run.exit;
    expect(alive(run.child.pid!)).toBe(false);
    v1().sweep(); // the folders go once the kernel has let go of the dead process
    for (const dir of leftover.dirs) expect(existsSync(join(dir, '..'))).toBe(false);
  });
});

suite(`${title}: refusals`, () => {
  it('create throws with the file, value and errno when the kernel refuses, and leaves no folder', () => {
    const id = `${process.pid}-refused`;
    let message = '';
    try {
      tracker.cgroup(v1().create('refused', id, limits({ cpuPercent: 1e11 })));
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^warden: cannot set the cpu quota of plugin refused: writing "125000000000000" to \/sys\/fs\/cgroup\/cpu\/.*cpu\.cfs_quota_us failed \(EINVAL\)$/);
    for (const hierarchy of ['memory', 'pids', 'cpu', 'freezer']) {
      expect(v1().describe()).toContain(`${hierarchy} /sys/fs/cgroup/${hierarchy}/`);
    }
    const bases = v1().describe().match(/\/sys\/fs\/cgroup\/\S+warden-\d+/g)!;
    for (const base of bases) expect(existsSync(join(base, `refused.${id}`))).toBe(false);
  });
});
