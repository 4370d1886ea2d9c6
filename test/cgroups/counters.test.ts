// A plugin cgroup's counters on the real kernel (cgroup v1 here): every file is opened once and re-read
// from offset 0, and each re-read shows the kernel's current figure; the sampler finds them from a pid,
// and a kernel OOM kill of a child (the plugin itself lives on) reaches the monitor as a memory breach.
import { accessSync, constants, existsSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { detectCgroups, type CgroupDriver, type PluginCgroup } from '../../src/cgroups/index.js';
import { QuotaMonitor } from '../../src/quotas/monitor.js';
import type { QuotaBreach, UsageSample } from '../../src/quotas/types.js';
import { PYTHON, Tracker, waitFor } from './helpers.js';

const usable = ((): boolean => {
  try {
    accessSync('/sys/fs/cgroup/memory', constants.W_OK);
    return PYTHON !== null && detectCgroups().mode === 'v1';
  } catch {
    return false;
  }
})();
const suite = usable ? describe : describe.skip;

const tracker = new Tracker();
afterEach(() => tracker.cleanup());
afterAll(() => tracker.removeBases());

const MB = 2 ** 20;
const limits = (memoryMb: number) => ({ memoryMb, cpuPercent: 100, handles: 64, processes: 4 });

let driver: CgroupDriver | null = null;
let seq = 0;
// Why: one claimed driver per file, as the daemon has; a fresh instance id per cgroup.
function create(name: string, memoryMb = 128): PluginCgroup {
  driver ??= detectCgroups().driver!;
  driver.claim();
  return tracker.cgroup(driver.create(name, `${process.pid}-c${++seq}`, limits(memoryMb)));
}

// Reads stdin lines: "grow N" allocates N MB (touched), "spin" burns 200 ms of CPU, "child" forks a
// child that allocates until the kernel stops it; each answers "ok" (the child prints its pid).
const WORKER = `
import os, sys, time
held = []
print("ready", flush=True)
for line in sys.stdin:
    cmd = line.split()
    if cmd[0] == "grow":
        held.append(b"\\x01" * (int(cmd[1]) * 1048576))
    elif cmd[0] == "spin":
        end = time.time() + 0.2
        while time.time() < end:
            pass
    elif cmd[0] == "child":
        pid = os.fork()
        if pid == 0:
            hog = []
            while True:
                hog.append(b"\\x01" * (8 * 1048576))
        print(pid, flush=True)
        os.waitpid(pid, 0)
    print("ok", flush=True)
`;

/** A python worker in `cg`, with a way to send it a command and wait for its answer. */
async function worker(cg: PluginCgroup) {
  const run = tracker.spawnIn(cg, [PYTHON!, '-c', WORKER], { stdin: true });
  run.child.stdin?.on('error', () => undefined);
  await waitFor('the worker to start', () => run.lines.includes('ready'));
  const send = async (command: string): Promise<void> => {
    const answers = run.lines.filter((l) => l === 'ok').length;
    run.child.stdin!.write(`${command}\n`);
    await waitFor(`the worker to finish "${command}"`, () => run.lines.filter((l) => l === 'ok').length > answers, { timeoutMs: 10_000 });
  };
  return { run, send };
}

suite('cgroup counters on the real kernel (v1)', () => {
  it('re-reads every counter from offset 0 of a file opened once: memory, cpu, processes, memory.stat', async () => {
    const cg = create('counters');
    const { run, send } = await worker(cg);
    const counters = cg.counters();
    try {
      const first = counters.read()!;
      expect(first.pids).toEqual([run.child.pid]);
      expect(counters.oomKills()).toBe(0);
      expect(counters.hardLimitBytes).toBe(141 * MB);
      await send('grow 40');
      await send('spin');
      const second = counters.read()!;
      expect(second.memoryBytes - first.memoryBytes).toBeGreaterThan(38 * MB);
      expect(second.cpuNs - first.cpuNs).toBeGreaterThan(50e6); // 200 ms of wall time spinning, on a shared machine
      // past the threshold memory.stat is read too, and inactive file cache is left out
      const working = counters.read(0)!;
      expect(working.memoryBytes).toBeLessThanOrEqual(counters.read()!.memoryBytes);
      expect(working.memoryBytes).toBeGreaterThan(40 * MB);
    } finally {
      counters.close();
    }
    expect(counters.read()).toBeNull();
  });

  it('sees a process that joins between two reads less than a second apart (v1 caches cgroup.procs per open file)', async () => {
    const cg = create('joins');
    const { run } = await worker(cg);
    const counters = cg.counters();
    try {
      expect(counters.read()!.pids).toEqual([run.child.pid]);
      const second = await worker(cg);
      expect(counters.read()!.pids.sort()).toEqual([run.child.pid, second.run.child.pid].sort());
    } finally {
      counters.close();
    }
  });

  it('is found from a pid in the cgroup, and not from one outside; the folders go with the files still open', async () => {
    const cg = create('found');
    const { run } = await worker(cg);
    const counters = driver!.countersOf(run.child.pid!)!;
    expect(counters.read()!.pids).toEqual([run.child.pid]);
    expect(driver!.countersOf(process.pid)).toBeNull();
    await cg.kill();
    await cg.remove();
    for (const dir of cg.dirs) expect(existsSync(dir)).toBe(false);
    expect(counters.read()).toBeNull(); // the kernel answers ENODEV for a removed cgroup's file
    counters.close();
    expect(driver!.countersOf(run.child.pid!)).toBeNull();
  });

  it('a kernel OOM kill of a child reaches the monitor as a memory breach while the plugin lives on', async () => {
    const cg = create('oomchild', 64); // hard limit 71 MiB
    const { run, send } = await worker(cg);
    const breaches: Array<{ breach: QuotaBreach; sample: UsageSample }> = [];
    const monitor = new QuotaMonitor({
      intervalMs: 100,
      countersOf: (pid) => driver!.countersOf(pid),
      onSample: () => undefined,
      onWarning: () => undefined,
      onBreach: (_, breach, sample) => breaches.push({ breach, sample }),
    });
    monitor.watch('oomchild', run.child.pid!, limits(64));
    try {
      await monitor.sampleNow();
      await send('child'); // answers once the kernel has killed the child
      // Below 70 % of its limit again, the kill count is read on every fifth pass.
      for (let pass = 0; pass < 5 && breaches.length === 0; pass++) await monitor.sampleNow();
      expect(breaches).toHaveLength(1);
      expect(breaches[0]!.breach).toMatchObject({ limit: 'memoryMb', message: 'memory: killed by the kernel at 71 MB (the OOM killer ended one of its processes)' });
      expect(breaches[0]!.sample.pids).toEqual([run.child.pid]);
    } finally {
      monitor.stop();
      monitor.unwatch('oomchild');
    }
  });
});
