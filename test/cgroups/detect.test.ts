// Detection and the files each driver writes. cgroup v2 cannot run for real here (the host is hybrid:
// v1 controllers, cgroup2 at /sys/fs/cgroup/unified with hugetlb only), so a temp folder stands in for
// cgroupfs and an injected statfs answers the filesystem type.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  CGROUP2_SUPER_MAGIC,
  TMPFS_MAGIC,
  cgroupLimits,
  cgroupModeOf,
  detectCgroups,
} from '../../src/cgroups/index.js';
import { claimCgroup, findExecutable, type Capabilities } from '../../src/sandbox/capabilities.js';
import { REPO } from '../helpers/daemon.js';
import { packageForNobody } from '../helpers/nobody.js';
import { Tracker } from './helpers.js';

const tracker = new Tracker();
afterEach(() => tracker.cleanup());
afterAll(() => tracker.removeBases());

const SERVICE = '/system.slice/warden.service';
const LIMITS = { memoryMb: 128, cpuPercent: 50, handles: 64, processes: 4 };
const v2 = (): number => CGROUP2_SUPER_MAGIC;
/** A host with nothing: only the cgroup fields matter to claimCgroup. */
const NONE: Capabilities = {
  wall: null,
  wallProblem: 'not in this test',
  setpriv: null,
  shell: null,
  netns: null,
  nodePermission: null,
  cgroup: null,
  cgroupProblem: 'not in this test',
};

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
  /** The driver as the daemon has it once started: detected, then claimed. */
  const claimed = () => {
    const driver = detect().driver!;
    driver.claim();
    return driver;
  };
  return { mount, root, detect, claimed };
}

/** Every file under `dir` with its content: what detection must leave as it found it. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    out[path] = entry.isDirectory() ? '<dir>' : read(path);
  }
  return out;
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
  it('puts memory 10 % and cpu 25 % above the quota (cpu per 100 ms), memory.high at the quota, pids as threads', () => {
    expect(cgroupLimits(LIMITS)).toEqual({ memoryBytes: 141 * 1024 * 1024, memoryHighBytes: 128 * 1024 * 1024, cpuQuotaUs: 62_500, cpuPeriodUs: 100_000, pidsMax: 80 });
    expect(cgroupLimits({ memoryMb: 32, cpuPercent: 200, handles: 1, processes: 2 })).toEqual({
      memoryBytes: 36 * 1024 * 1024,
      memoryHighBytes: 32 * 1024 * 1024,
      cpuQuotaUs: 250_000,
      cpuPeriodUs: 100_000,
      pidsMax: 48,
    });
  });
});

describe('cgroup v2 (fake cgroupfs)', () => {
  it('detection only reads: the delegated cgroup is left as it was until claim()', () => {
    const { mount, detect } = fakeV2();
    const before = snapshot(mount);
    const { driver, mode, reason } = detect();
    expect({ mode, reason }).toEqual({ mode: 'v2', reason: null });
    driver!.describe();
    driver!.sweep();
    expect(snapshot(mount)).toEqual(before);
    expect(() => driver!.create('probe', '1', LIMITS)).toThrow(`the daemon's cgroup ${SERVICE} is not claimed yet`);
    expect(snapshot(mount)).toEqual(before);
  });

  it('claims a delegated cgroup: processes into warden-daemon, controllers enabled on both levels', () => {
    const { root, detect } = fakeV2();
    const { driver, mode, reason } = detect();
    expect({ mode, reason }).toEqual({ mode: 'v2', reason: null });
    driver!.claim();
    driver!.claim(); // once is enough: a second call changes nothing
    expect(driver!.enforces).toEqual({ memoryMb: true, cpuPercent: true, processes: true });
    expect(read(join(root, 'warden-daemon', 'cgroup.procs'))).toBe('4242\n4243\n');
    expect(read(join(root, 'cgroup.subtree_control'))).toBe('+memory +pids +cpu');
    expect(read(join(root, 'warden-plugins', 'cgroup.subtree_control'))).toBe('+memory +pids +cpu');
    expect(driver!.describe()).toBe(
      `cgroup v2: plugin cgroups under ${root}/warden-plugins/<name>.<id> (daemon in ${root}/warden-daemon); ` +
        'memory.high, memory.max + memory.swap.max 0, memory.oom.group 1, pids.max, cpu.max; kill via cgroup.kill',
    );
  });

  it('a claim the kernel refuses throws naming the cgroup; the daemon then runs without cgroups, saying why', () => {
    const { root, detect } = fakeV2();
    // writable by access(2), refused by write(2): the file is a folder
    rmSync(join(root, 'cgroup.subtree_control'));
    mkdirSync(join(root, 'cgroup.subtree_control'));
    const driver = detect().driver!;
    const refusal = `cgroup v2: cannot claim the daemon's cgroup ${SERVICE}: warden: cannot enable +memory +pids +cpu for the daemon's cgroup`;
    expect(() => driver.claim()).toThrow(refusal);
    const capabilities = claimCgroup({ ...NONE, cgroup: detect().driver });
    expect(capabilities.cgroup).toBeNull();
    expect(capabilities.cgroupProblem).toContain(refusal);
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
    const { root, claimed } = fakeV2();
    const cg = claimed().create('probe', 'a1', LIMITS);
    const dir = join(root, 'warden-plugins', 'probe.a1');
    expect(cg.dirs).toEqual([dir]);
    expect(read(join(dir, 'memory.max'))).toBe(String(141 * 1024 * 1024));
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
    const { root, claimed } = fakeV2({ extras: [] });
    const cg = claimed().create('probe', '1', LIMITS);
    expect(existsSync(join(root, 'warden-plugins', 'probe.1', 'memory.swap.max'))).toBe(false);
    expect(existsSync(join(root, 'warden-plugins', 'probe.1', 'memory.oom.group'))).toBe(false);
    expect(cg.dirs).toHaveLength(1);
    expect(() => claimed().create('../evil', '1', LIMITS)).toThrow(/cannot name a cgroup folder/);
    expect(() => claimed().create('probe', '', LIMITS)).toThrow(/instance id "" cannot name/);
  });

  it('lists pids (sub-cgroups too), kills through cgroup.kill and removes the folder', async () => {
    const { root, claimed } = fakeV2();
    const driver = claimed();
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
    const { root, claimed } = fakeV2({ extras: [] });
    const cg = claimed().create('probe', 'c3', LIMITS);
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
    const { root, claimed } = fakeV2();
    const driver = claimed();
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
    const before = snapshot(root);
    const { driver, mode } = detect();
    expect(mode).toBe('v1');
    // detection checks each hierarchy with access(2) and claim() has nothing to do: no folder until a plugin needs one
    driver!.claim();
    expect(snapshot(root)).toEqual(before);
    const cg = driver!.create('probe', 'x', LIMITS);
    const memory = join(root, 'memory/process_api/abc/warden-777/probe.x');
    expect(cg.dirs).toEqual([memory, join(root, 'pids/warden-777/probe.x'), join(root, 'cpu/warden-777/probe.x'), join(root, 'freezer/warden-777/probe.x')]);
    expect(read(join(memory, 'memory.limit_in_bytes'))).toBe(String(141 * 1024 * 1024));
    expect(read(join(root, 'pids/warden-777/probe.x/pids.max'))).toBe('80');
    expect(read(join(root, 'cpu/warden-777/probe.x/cpu.cfs_period_us'))).toBe('100000');
    expect(read(join(root, 'cpu/warden-777/probe.x/cpu.cfs_quota_us'))).toBe('62500');
    expect(cg.joinArgv('/bin/dash').slice(3)).toEqual(cg.dirs);
    writeFileSync(join(memory, 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
    expect(cg.oomKills()).toBe(2);
  });

  const nobody = process.getuid?.() === 0 ? findExecutable('setpriv') : null;
  it.skipIf(nobody === null)('judges each hierarchy by access(2), writing nothing: a daemon that may not write there gets no driver', () => {
    const { root } = fakeV1();
    for (const dir of [root, ...readdirSync(root, { recursive: true }).map((p) => join(root, String(p)))]) {
      if (statSync(dir).isDirectory()) chmodSync(dir, 0o755); // readable, not writable, for nobody
    }
    // the compiled module, run as nobody (root passes every access check)
    const index = join(REPO, 'dist/cgroups/index.js');
    if (!existsSync(index) || statSync(index).mtimeMs < statSync(join(REPO, 'src/cgroups/v1.ts')).mtimeMs) {
      spawnSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.json')], { stdio: 'ignore' });
    }
    // nobody must be able to read the module: a checkout in a private folder is copied somewhere readable
    const readable = packageForNobody('dist/cgroups/index.js', ['package.json', 'dist']);
    const runnable = join(readable.root, 'dist/cgroups/index.js');
    const script = `
      const { detectCgroups, TMPFS_MAGIC } = await import(${JSON.stringify(pathToFileURL(runnable).href)});
      const root = ${JSON.stringify(root)};
      const mounts = ['memory', 'pids', 'cpu', 'freezer'].map((c, i) => \`\${32 + i} 31 0:\${29 + i} / \${root}/\${c} rw - cgroup cgroup rw,\${c}\`);
      const { driver, reason } = detectCgroups({ root, statfsType: () => TMPFS_MAGIC, daemonPid: 777,
        selfCgroup: '8:pids:/\\n6:freezer:/\\n4:memory:/process_api/abc\\n1:cpu:/\\n0::/\\n', mountinfo: mounts.join('\\n') });
      console.log(JSON.stringify({ driver: driver !== null, reason }));`;
    const run = spawnSync(nobody!, ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8' });
    readable.cleanup();
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      driver: false,
      reason: 'cgroup v1 but no memory, pids or cpu hierarchy is usable: memory (EACCES), pids (EACCES), cpu (EACCES), freezer (EACCES), cpuacct (no hierarchy)',
    });
    expect(readdirSync(join(root, 'pids'))).toEqual([]);
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
