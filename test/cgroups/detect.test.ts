// Detection and the files each driver writes. cgroup v2 cannot run for real here (the host is hybrid:
// v1 controllers, cgroup2 at /sys/fs/cgroup/unified with hugetlb only), so a temp folder stands in for
// cgroupfs and an injected statfs answers the filesystem type.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  CGROUP2_SUPER_MAGIC,
  TMPFS_MAGIC,
  cgroupLimits,
  cgroupModeOf,
  detectCgroups,
} from '../../src/cgroups/index.js';
import { Tracker } from './helpers.js';

const tracker = new Tracker();
afterEach(() => tracker.cleanup());
afterAll(() => tracker.removeBases());

const SERVICE = '/system.slice/warden.service';
const LIMITS = { memoryMb: 128, cpuPercent: 50, handles: 64, processes: 4 };
const v2 = (): number => CGROUP2_SUPER_MAGIC;

/** A fake cgroup2 mount holding the daemon's delegated cgroup (the kernel's files written by hand). */
function fakeV2(options: { controllers?: string; subtreeControl?: boolean; extras?: string[] } = {}) {
  const mount = tracker.tempDir('warden-cgroup2-');
  const root = join(mount, SERVICE);
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'cgroup.controllers'), `${options.controllers ?? 'cpuset cpu io memory pids'}\n`);
  writeFileSync(join(root, 'cgroup.procs'), '4242\n4243\n');
  writeFileSync(join(root, 'cgroup.type'), 'domain\n');
  if (options.subtreeControl !== false) writeFileSync(join(root, 'cgroup.subtree_control'), '');
  for (const file of options.extras ?? ['memory.swap.max', 'memory.oom.group', 'cgroup.kill']) writeFileSync(join(root, file), '');
  const detect = () =>
    detectCgroups({
      root: mount,
      statfsType: v2,
      selfCgroup: `0::${SERVICE}\n`,
      mountinfo: `22 1 0:21 / /proc rw - proc proc rw\n41 31 0:38 / ${mount} rw,relatime - cgroup2 cgroup2 rw\n`,
    });
  return { mount, root, detect };
}

const read = (path: string): string => readFileSync(path, 'utf8');

describe('mode from the statfs type (as runc/crun)', () => {
  it('cgroup2 → v2, tmpfs → v1, anything else → none with the type in the reason', () => {
    expect(cgroupModeOf(0x63677270)).toBe('v2');
    expect(cgroupModeOf(0x01021994)).toBe('v1');
    expect(cgroupModeOf(0xef53)).toBe('none');
    expect(cgroupModeOf(null)).toBe('none');
    const ext4 = detectCgroups({ root: '/nowhere', statfsType: () => 0xef53 });
    expect(ext4).toEqual({ driver: null, mode: 'none', reason: expect.stringContaining('statfs type 0xef53') });
    expect(detectCgroups({ root: '/nowhere' }).reason).toContain('/nowhere cannot be read');
  });

  it('finds this host to be v1 (tmpfs with v1 hierarchies) and sets up a driver', () => {
    const { driver, mode, reason } = detectCgroups();
    expect({ mode, reason }).toEqual({ mode: 'v1', reason: null });
    expect(driver?.mode).toBe('v1');
    expect(driver?.enforces).toEqual({ memoryMb: true, cpuPercent: true, processes: true });
    expect(driver?.describe()).toMatch(/^cgroup v1: .*memory \/sys\/fs\/cgroup\/memory\/.*warden-\d+.*kill via freezer/);
    for (const line of driver!.describe().match(/\/sys\/fs\/cgroup\/\S+warden-\d+/g)!) tracker.bases.add(line);
  });
});

describe('cgroupLimits', () => {
  it('puts memory and cpu 25 % above the quota (cpu per 100 ms), pids as threads', () => {
    expect(cgroupLimits(LIMITS)).toEqual({ memoryBytes: 160 * 1024 * 1024, cpuQuotaUs: 62_500, cpuPeriodUs: 100_000, pidsMax: 80 });
    expect(cgroupLimits({ memoryMb: 32, cpuPercent: 200, handles: 1, processes: 2 })).toEqual({
      memoryBytes: 40 * 1024 * 1024,
      cpuQuotaUs: 250_000,
      cpuPeriodUs: 100_000,
      pidsMax: 48,
    });
  });
});

describe('cgroup v2 (fake cgroupfs)', () => {
  it('claims a delegated cgroup: processes into warden-daemon, controllers enabled on both levels', () => {
    const { root, detect } = fakeV2();
    const { driver, mode, reason } = detect();
    expect({ mode, reason }).toEqual({ mode: 'v2', reason: null });
    expect(driver!.enforces).toEqual({ memoryMb: true, cpuPercent: true, processes: true });
    expect(read(join(root, 'warden-daemon', 'cgroup.procs'))).toBe('4242\n4243\n');
    expect(read(join(root, 'cgroup.subtree_control'))).toBe('+memory +pids +cpu');
    expect(read(join(root, 'warden-plugins', 'cgroup.subtree_control'))).toBe('+memory +pids +cpu');
    expect(driver!.describe()).toBe(
      `cgroup v2: plugin cgroups under ${root}/warden-plugins/<name>.<id> (daemon in ${root}/warden-daemon); ` +
        'memory.max + memory.swap.max 0, memory.oom.group 1, pids.max, cpu.max; kill via cgroup.kill',
    );
  });

  it('explains a cgroup that is not delegated or lacks controllers', () => {
    const notDelegated = fakeV2({ subtreeControl: false }).detect();
    expect(notDelegated.driver).toBeNull();
    expect(notDelegated.mode).toBe('v2');
    expect(notDelegated.reason).toBe(
      `cgroup v2 but the daemon's cgroup ${SERVICE} is not delegated (no write access to cgroup.subtree_control); add Delegate=yes to the unit`,
    );
    const hugetlb = fakeV2({ controllers: 'hugetlb' }).detect();
    expect(hugetlb.driver).toBeNull();
    expect(hugetlb.reason).toContain(`cgroup v2 but the daemon's cgroup ${SERVICE} lacks the memory, pids, cpu controllers`);
    expect(hugetlb.reason).toContain('Delegate=yes');
    const noPids = fakeV2({ controllers: 'cpu memory' }).detect();
    expect(noPids.reason).toContain('lacks the pids controller (cgroup.controllers: "cpu memory")');
    const noLine = detectCgroups({ root: '/x', statfsType: v2, selfCgroup: '4:memory:/x\n', mountinfo: '' });
    expect(noLine.reason).toBe('cgroup v2 but /proc/self/cgroup has no "0::" line');
  });

  it('uses a DelegateSubgroup= leaf as it is: <root> is its parent', () => {
    const { root, mount } = fakeV2();
    mkdirSync(join(root, 'supervisor'));
    const { driver } = detectCgroups({ root: mount, statfsType: v2, selfCgroup: `0::${SERVICE}/supervisor\n`, mountinfo: '' });
    expect(driver!.describe()).toContain(`(daemon in ${root}/supervisor)`);
    expect(existsSync(join(root, 'warden-daemon'))).toBe(false);
  });

  it('creates a plugin cgroup with its limits; oomKills and memoryPeakBytes read the kernel files', () => {
    const { root, detect } = fakeV2();
    const { driver } = detect();
    const cg = driver!.create('probe', 'a1', LIMITS);
    const dir = join(root, 'warden-plugins', 'probe.a1');
    expect(cg.dirs).toEqual([dir]);
    expect(read(join(dir, 'memory.max'))).toBe(String(160 * 1024 * 1024));
    expect(read(join(dir, 'memory.swap.max'))).toBe('0');
    expect(read(join(dir, 'memory.oom.group'))).toBe('1');
    expect(read(join(dir, 'pids.max'))).toBe('80');
    expect(read(join(dir, 'cpu.max'))).toBe('62500 100000');
    expect(cg.joinArgv()).toEqual(['/bin/sh', '-c', expect.stringContaining('exec "$@"'), dir]);
    expect(cg.oomKills()).toBe(0);
    expect(cg.memoryPeakBytes()).toBeNull();
    writeFileSync(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 12\noom 2\noom_kill 3\noom_group_kill 1\n');
    writeFileSync(join(dir, 'memory.peak'), '167772160\n');
    expect(cg.oomKills()).toBe(3);
    expect(cg.memoryPeakBytes()).toBe(167772160);
  });

  it('leaves swap and oom.group alone where the kernel lacks them, and refuses unsafe names', () => {
    const { root, detect } = fakeV2({ extras: [] });
    const cg = detect().driver!.create('probe', '1', LIMITS);
    expect(existsSync(join(root, 'warden-plugins', 'probe.1', 'memory.swap.max'))).toBe(false);
    expect(existsSync(join(root, 'warden-plugins', 'probe.1', 'memory.oom.group'))).toBe(false);
    expect(cg.dirs).toHaveLength(1);
    expect(() => detect().driver!.create('../evil', '1', LIMITS)).toThrow(/cannot name a cgroup folder/);
    expect(() => detect().driver!.create('probe', '', LIMITS)).toThrow(/instance id "" cannot name/);
  });

  it('lists pids (sub-cgroups too), kills through cgroup.kill and removes the folder', async () => {
    const { root, detect } = fakeV2();
    const driver = detect().driver!;
    const cg = driver.create('probe', 'b2', LIMITS);
    const dir = join(root, 'warden-plugins', 'probe.b2');
    writeFileSync(join(dir, 'cgroup.kill'), '');
    expect(cg.pids()).toEqual([]);
    // pids that cannot exist (above pid_max), one of them in a sub-cgroup the plugin made
    writeFileSync(join(dir, 'cgroup.procs'), '99999992\n99999990\n');
    mkdirSync(join(dir, 'hidden'));
    writeFileSync(join(dir, 'hidden', 'cgroup.procs'), '99999991\n');
    expect(cg.pids()).toEqual([99999990, 99999991, 99999992]);
    writeFileSync(join(dir, 'cgroup.procs'), '');
    rmSync(join(dir, 'hidden'), { recursive: true });
    await cg.kill();
    expect(read(join(dir, 'cgroup.kill'))).toBe('1');
    // a plain folder keeps the files the kernel would drop with rmdir: drop them as the kernel would
    for (const file of readdirSync(dir)) rmSync(join(dir, file));
    await cg.remove();
    expect(existsSync(dir)).toBe(false);
    await cg.remove(); // already gone: no error
  });

  it('without cgroup.kill (Linux < 5.14) kills through freeze, SIGKILL, thaw', async () => {
    const { root, detect } = fakeV2({ extras: [] });
    const cg = detect().driver!.create('probe', 'c3', LIMITS);
    const dir = join(root, 'warden-plugins', 'probe.c3');
    writeFileSync(join(dir, 'cgroup.freeze'), '0');
    writeFileSync(join(dir, 'cgroup.events'), 'populated 1\nfrozen 0\n');
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    // the "kernel": the process is listed until it dies
    writeFileSync(join(dir, 'cgroup.procs'), `${sleeper.pid}\n`);
    const exit = new Promise<string | null>((resolve) =>
      sleeper.on('exit', (_code, signal) => {
        writeFileSync(join(dir, 'cgroup.procs'), '');
        resolve(signal);
      }),
    );
    try {
      await cg.kill(3000);
      expect(await exit).toBe('SIGKILL');
      expect(read(join(dir, 'cgroup.freeze'))).toBe('0'); // thawed again
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('sweep removes empty plugin cgroups left by an earlier daemon, not its own', () => {
    const { root, detect } = fakeV2();
    const driver = detect().driver!;
    mkdirSync(join(root, 'warden-plugins', 'old.1'));
    const cg = driver.create('mine', '1', LIMITS);
    driver.sweep();
    expect(existsSync(join(root, 'warden-plugins', 'old.1'))).toBe(false);
    expect(existsSync(cg.dirs[0]!)).toBe(true);
  });
});

describe('cgroup v1 (fake hierarchies)', () => {
  /** A tmpfs-like root with one folder per hierarchy, mounted as in mountinfo, and the daemon's own cgroups. */
  function fakeV1(mountCpu = true) {
    const root = tracker.tempDir('warden-cgroup1-');
    const own = { memory: '/process_api/abc', pids: '/', cpu: '/', freezer: '/' };
    for (const [controller, path] of Object.entries(own)) mkdirSync(join(root, controller, path), { recursive: true });
    writeFileSync(join(root, 'memory', own.memory, 'memory.memsw.limit_in_bytes'), '');
    const mounts = Object.keys(own)
      .filter((c) => mountCpu || c !== 'cpu')
      .map((c, i) => `${32 + i} 31 0:${29 + i} / ${root}/${c} rw,relatime - cgroup cgroup rw,${c}`);
    if (!mountCpu) rmSync(join(root, 'cpu'), { recursive: true });
    return {
      root,
      detect: () =>
        detectCgroups({
          root,
          statfsType: () => TMPFS_MAGIC,
          daemonPid: 777,
          selfCgroup: '8:pids:/\n6:freezer:/\n4:memory:/process_api/abc\n1:cpu:/\n0::/\n',
          mountinfo: `${mounts.join('\n')}\n41 31 0:38 / ${root}/unified rw - cgroup2 cgroup2 rw\n`,
        }),
    };
  }

  it('nests plugin cgroups under the daemon\'s own cgroup in every hierarchy and writes the limits', () => {
    const { root, detect } = fakeV1();
    const { driver, mode } = detect();
    expect(mode).toBe('v1');
    // detection proves each hierarchy writable but leaves no folder behind until a plugin needs one
    expect(existsSync(join(root, 'pids/warden-777'))).toBe(false);
    const cg = driver!.create('probe', 'x', LIMITS);
    const memory = join(root, 'memory/process_api/abc/warden-777/probe.x');
    expect(cg.dirs).toEqual([memory, join(root, 'pids/warden-777/probe.x'), join(root, 'cpu/warden-777/probe.x'), join(root, 'freezer/warden-777/probe.x')]);
    expect(read(join(memory, 'memory.limit_in_bytes'))).toBe(String(160 * 1024 * 1024));
    expect(read(join(root, 'pids/warden-777/probe.x/pids.max'))).toBe('80');
    expect(read(join(root, 'cpu/warden-777/probe.x/cpu.cfs_period_us'))).toBe('100000');
    expect(read(join(root, 'cpu/warden-777/probe.x/cpu.cfs_quota_us'))).toBe('62500');
    expect(cg.joinArgv('/bin/dash').slice(3)).toEqual(cg.dirs);
    writeFileSync(join(memory, 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
    expect(cg.oomKills()).toBe(2);
  });

  it('leaves out a missing hierarchy and says so in enforces and describe()', () => {
    const { driver } = fakeV1(false).detect();
    expect(driver!.enforces).toEqual({ memoryMb: true, cpuPercent: false, processes: true });
    expect(driver!.describe()).toContain('not used: cpu (no hierarchy)');
  });

  it('sweep removes empty warden-<pid> folders of dead daemons only', () => {
    const { root, detect } = fakeV1();
    const driver = detect().driver!;
    mkdirSync(join(root, 'pids/warden-999999999/old.1'), { recursive: true });
    mkdirSync(join(root, `pids/warden-${process.pid}/live.1`), { recursive: true });
    const mine = driver.create('mine', '1', LIMITS);
    driver.sweep();
    expect(existsSync(join(root, 'pids/warden-999999999'))).toBe(false);
    expect(existsSync(join(root, `pids/warden-${process.pid}/live.1`))).toBe(true);
    for (const dir of mine.dirs) expect(existsSync(dir)).toBe(true);
  });
});
