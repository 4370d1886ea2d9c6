// The kernel side of cgroup v2 cannot run here (only hugetlb is delegated), so a temp folder stands
// in for cgroupfs: these tests check detection, the files written and the join, not the kernel's limits.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  cgroup2Mount,
  cgroupOomKills,
  claimCgroup,
  detectCgroup,
  findDelegatedCgroup,
  pluginCgroup,
} from '../../src/sandbox/cgroup.js';
import { CAPABILITIES, Tracker, cmdline } from './helpers.js';

const tracker = new Tracker();
afterEach(() => tracker.cleanup());

const SERVICE = '/system.slice/warden.service';

/** A fake cgroup2 mount holding the daemon's delegated cgroup. */
function fakeCgroupfs(controllers = 'cpuset cpu io memory pids') {
  const mount = tracker.tempDir('warden-cgroupfs-');
  const root = join(mount, SERVICE);
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'cgroup.controllers'), `${controllers}\n`);
  writeFileSync(join(root, 'cgroup.procs'), '4242\n');
  writeFileSync(join(root, 'cgroup.subtree_control'), '');
  const probe = {
    selfCgroup: `0::${SERVICE}\n`,
    mountinfo: `22 1 0:21 / /proc rw - proc proc rw\n41 31 0:38 / ${mount} rw,relatime - cgroup2 cgroup2 rw\n`,
  };
  return { mount, root, probe };
}

describe('cgroup v2 detection', () => {
  it('finds the cgroup2 mount point in mountinfo', () => {
    expect(cgroup2Mount('41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n')).toBe('/sys/fs/cgroup/unified');
    expect(cgroup2Mount('35 25 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n')).toBeNull();
  });

  it('accepts a writable own cgroup with memory, cpu and pids', () => {
    const { root, probe } = fakeCgroupfs();
    expect(findDelegatedCgroup(probe)).toEqual({ root, pluginsDir: join(root, 'warden-plugins') });
  });

  it('refuses a cgroup without all three controllers, or a process without a v2 cgroup', () => {
    expect(findDelegatedCgroup(fakeCgroupfs('hugetlb').probe)).toBeNull();
    expect(findDelegatedCgroup(fakeCgroupfs('memory pids').probe)).toBeNull();
    const { probe } = fakeCgroupfs();
    expect(findDelegatedCgroup({ ...probe, selfCgroup: '4:memory:/x\n' })).toBeNull();
  });

  it('is null on this host (hybrid hierarchy, hugetlb only)', () => {
    expect(CAPABILITIES.cgroup).toBeNull();
  });

  it('claims the subtree: daemon into a leaf, controllers enabled for plugin cgroups', () => {
    const { root, probe } = fakeCgroupfs();
    const cg = detectCgroup(probe)!;
    expect(cg).not.toBeNull();
    expect(readFileSync(join(root, 'warden-daemon', 'cgroup.procs'), 'utf8')).toBe('4242');
    expect(readFileSync(join(root, 'cgroup.subtree_control'), 'utf8')).toBe('+memory +cpu +pids');
    expect(readFileSync(join(cg.pluginsDir, 'cgroup.subtree_control'), 'utf8')).toBe('+memory +cpu +pids');
    expect(() => claimCgroup({ root: join(root, 'missing'), pluginsDir: join(root, 'missing', 'p') })).toThrow();
  });
});

describe('cgroup launch wrapper', () => {
  it('writes the limits and puts the plugin (same pid) into its cgroup before it runs', async () => {
    const { probe } = fakeCgroupfs();
    const cgroup = detectCgroup(probe)!;
    const { host, plan, call } = await tracker.start({
      capabilities: { ...CAPABILITIES, cgroup },
      limits: { memoryMb: 128, cpuPercent: 50, processes: 4 },
    });
    const dir = pluginCgroup(cgroup, 'probe');
    const read = (file: string): string => readFileSync(join(dir, file), 'utf8').trim();
    expect(read('memory.max')).toBe(String(160 * 1024 * 1024));
    expect(read('cpu.max')).toBe('50000 100000');
    expect(read('pids.max')).toBe('80');
    expect(read('cgroup.procs')).toBe(String(host.pid));
    expect(cmdline(host.pid!)[0]).toBe(process.execPath);
    expect(await call('execArgv')).toContain('--max-old-space-size=128');
    expect(plan.enforcement).toMatchObject({
      memoryMb: 'cgroup+sampling+v8-heap',
      cpuPercent: 'cgroup+sampling',
      processes: 'cgroup+sampling',
    });
  });

  it('reads OOM kills from memory.events', () => {
    const { probe } = fakeCgroupfs();
    const cgroup = detectCgroup(probe)!;
    expect(cgroupOomKills(cgroup, 'probe')).toBe(0);
    mkdirSync(pluginCgroup(cgroup, 'probe'));
    writeFileSync(join(pluginCgroup(cgroup, 'probe'), 'memory.events'), 'low 0\nhigh 0\nmax 7\noom 2\noom_kill 2\n');
    expect(cgroupOomKills(cgroup, 'probe')).toBe(2);
  });
});
