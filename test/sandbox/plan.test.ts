import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CgroupDriver, PluginCgroup } from '../../src/cgroups/index.js';
import { joinArgv } from '../../src/cgroups/join.js';
import type { Manifest, Permissions } from '../../src/manifest/types.js';
import type { Capabilities, Wall } from '../../src/sandbox/capabilities.js';
import { describeCapabilities } from '../../src/sandbox/capabilities.js';
import { SDK_READ_ROOT, SDK_SANDBOX_ROOT, planEnforcement, planLaunch, sameLaunch, standbyLaunch, type LaunchSpec } from '../../src/sandbox/launch.js';
import { effectivePermissions } from '../../src/sandbox/permissions.js';
import { describeEnforcement } from '../../src/supervisor/enforcement.js';
import { testManifest } from '../helpers/manifest.js';
import { LIMITS, NO_CAPABILITIES, PROBE } from './helpers.js';

const ALL: Capabilities = {
  wall: null,
  wallProblem: 'bwrap not found on PATH',
  cgroupProblem: 'no cgroups in this test',
  setpriv: '/usr/bin/setpriv',
  shell: '/bin/sh',
  netns: { command: ['/usr/bin/unshare', '--net'] },
  nodePermission: { flag: '--experimental-permission', disableWarning: true },
  cgroup: null,
};
const NONE: Permissions = { fs: { read: [], write: [] }, network: false, childProcess: false, env: [] };
const main = testManifest({ name: 'probe' });
const command = testManifest({ name: 'probe', main: undefined, command: ['python3', 'main.py'] });

function plan(manifest: Manifest, capabilities: Capabilities, permissions: Permissions = NONE) {
  const result = planLaunch({ dir: PROBE, manifest, permissions, limits: LIMITS, capabilities, nodePath: '/node' });
  return { ...result, argv: [result.launch.file, ...result.launch.args] };
}

describe('effectivePermissions', () => {
  const declared: Permissions = {
    fs: { read: ['./data', '/etc/feeds'], write: ['out'] },
    network: true,
    childProcess: true,
    env: ['FEED_TOKEN', 'OTHER'],
  };

  it('keeps the declaration without an override, paths made absolute against the plugin folder', () => {
    expect(effectivePermissions(declared, undefined, '/p/feed')).toEqual({
      fs: { read: ['/p/feed/data', '/etc/feeds'], write: ['/p/feed/out'] },
      network: true,
      childProcess: true,
      env: ['FEED_TOKEN', 'OTHER'],
    });
  });

  it('narrows: each field the operator sets replaces the declared one', () => {
    const narrowed = effectivePermissions(
      declared,
      { fs: { write: [] }, network: false, childProcess: false, env: ['FEED_TOKEN'] },
      '/p/feed',
    );
    expect(narrowed).toEqual({
      fs: { read: ['/p/feed/data', '/etc/feeds'], write: [] },
      network: false,
      childProcess: false,
      env: ['FEED_TOKEN'],
    });
  });

  it('widens explicitly; an operator path that is relative is relative to the plugin folder', () => {
    const widened = effectivePermissions(NONE, { fs: { read: ['cache', '/srv/shared'] }, network: true, env: ['X'] }, '/p/a');
    expect(widened).toEqual({ fs: { read: ['/p/a/cache', '/srv/shared'], write: [] }, network: true, childProcess: false, env: ['X'] });
  });
});

describe('planLaunch', () => {
  it('wraps outermost-first the launch shell (rlimits), unshare, setpriv (last, closest to node), then node flags', () => {
    const { argv } = plan(main, ALL);
    expect(argv.slice(0, 11)).toEqual([
      '/bin/sh', '-c', expect.stringMatching(new RegExp(`^ulimit -n ${LIMITS.handles + 8} .*; ulimit -d ${2 * LIMITS.memoryMb * 1024} .*; exec "\\$@"$`)), 'warden-launch',
      '/usr/bin/unshare', '--net', '--',
      '/usr/bin/setpriv', '--pdeathsig', 'KILL', '--',
    ]);
    expect(argv.slice(11, 14)).toEqual(['/node', '--experimental-permission', '--disable-warning=ExperimentalWarning']);
    expect(argv).toContain(`--allow-fs-read=${PROBE}/*`);
    expect(argv).toContain(`--allow-fs-read=${SDK_READ_ROOT}/*`);
    expect(argv).toContain(`--max-old-space-size=${LIMITS.memoryMb}`);
    expect(argv.some((a) => a.startsWith('--allow-fs-write') || a.startsWith('--allow-child'))).toBe(false);
    expect(argv.at(-1)).toBe(join(PROBE, 'index.js'));
  });

  it('grants each path once (Node 20 aborts on a duplicate) and child processes only when declared', () => {
    const permissions = effectivePermissions(
      { ...NONE, fs: { read: ['.', './data', './data/*'], write: ['./out'] }, childProcess: true },
      undefined,
      PROBE,
    );
    const { argv } = plan(main, ALL, permissions);
    const reads = argv.filter((a) => a.startsWith('--allow-fs-read='));
    expect(reads).toEqual([`--allow-fs-read=${PROBE}/*`, `--allow-fs-read=${SDK_READ_ROOT}/*`, `--allow-fs-read=${PROBE}/data/*`]);
    expect(argv).toContain(`--allow-fs-write=${PROBE}/out/*`);
    expect(argv).toEqual(expect.arrayContaining(['--allow-child-process', '--allow-worker']));
  });

  it('passes plain paths where the flag is --permission (newer Node)', () => {
    const caps = { ...ALL, nodePermission: { flag: '--permission' as const, disableWarning: true } };
    const { argv } = plan(main, caps, { ...NONE, fs: { read: ['/srv/data'], write: [] } });
    expect(argv).toEqual(expect.arrayContaining(['--permission', `--allow-fs-read=${PROBE}`, '--allow-fs-read=/srv/data']));
    expect(argv).not.toContain('--disable-warning=ExperimentalWarning');
  });

  it('maps what a main plugin gets with every mechanism but the wall', () => {
    expect(plan(main, ALL).enforcement).toEqual({
      memoryMb: 'rlimit+sampling+v8-heap',
      cpuPercent: 'sampling',
      handles: 'rlimit+sampling',
      processes: 'sampling',
      fs: 'node-permission',
      network: 'namespace',
      childProcess: 'node-permission',
      env: 'env-allowlist',
      signals: 'unenforced',
      processTree: 'unenforced',
      identity: 'unenforced',
      syscalls: 'unenforced',
    });
  });

  it('drops the V8 heap flag where a cgroup enforces memoryMb, in the argv and the map alike', () => {
    const driver = { enforces: { memoryMb: true, cpuPercent: true, processes: true } } as unknown as CgroupDriver;
    const cgroup = { dirs: ['/cg/probe.1'], joinArgv: (sh?: string) => joinArgv(['/cg/probe.1'], sh) } as unknown as PluginCgroup;
    const caps: Capabilities = { ...ALL, cgroup: driver };
    const walled = planLaunch({ dir: PROBE, manifest: main, permissions: NONE, limits: LIMITS, capabilities: caps, nodePath: '/node', cgroup });
    const argv = [walled.launch.file, ...walled.launch.args];
    expect(argv.some((a) => a.startsWith('--max-old-space-size'))).toBe(false);
    expect(walled.enforcement.memoryMb).toBe('cgroup+sampling');
    expect(planEnforcement(main, NONE, caps).memoryMb).toBe('cgroup+sampling');
    // One shell sets the rlimits and joins the cgroup: no prlimit exec; memory is the cgroup's, not RLIMIT_DATA's.
    expect(argv.slice(0, 3)).toEqual(['/bin/sh', '-c', expect.stringMatching(/^ulimit -n \d+ .*; j\(\) /)]);
    expect(argv[2]).not.toContain('ulimit -d');
    expect(argv[3]).toBe('/cg/probe.1');
    // The same host without this launch's cgroup keeps the flag, and says so.
    const alone = planLaunch({ dir: PROBE, manifest: main, permissions: NONE, limits: LIMITS, capabilities: caps, nodePath: '/node', cgroup: null });
    expect(alone.launch.args).toContain(`--max-old-space-size=${LIMITS.memoryMb}`);
    expect(alone.enforcement.memoryMb).toBe('rlimit+sampling+v8-heap');
  });

  it('maps a command plugin: no node flags, fs and childProcess unenforced, namespace still applies', () => {
    const { argv, enforcement } = plan(command, ALL);
    expect(argv.slice(-2)).toEqual(['python3', 'main.py']);
    expect(argv.some((a) => a.startsWith('--max-old-space') || a.includes('permission'))).toBe(false);
    expect(enforcement).toMatchObject({ memoryMb: 'rlimit+sampling', fs: 'unenforced', childProcess: 'unenforced', network: 'namespace' });
  });

  it('says "unenforced" for everything the host lacks, and applies nothing it does not claim', () => {
    const { argv, enforcement } = plan(main, NO_CAPABILITIES);
    expect(argv).toEqual(['/node', `--max-old-space-size=${LIMITS.memoryMb}`, join(PROBE, 'index.js')]);
    expect(enforcement).toEqual({
      memoryMb: 'sampling+v8-heap',
      cpuPercent: 'sampling',
      handles: 'sampling',
      processes: 'sampling',
      fs: 'unenforced',
      network: 'unenforced',
      childProcess: 'unenforced',
      env: 'env-allowlist',
      signals: 'unenforced',
      processTree: 'unenforced',
      identity: 'unenforced',
      syscalls: 'unenforced',
    });
    expect(plan(main, NO_CAPABILITIES, { ...NONE, network: true, childProcess: true }).enforcement).toMatchObject({
      network: 'allowed',
      childProcess: 'allowed',
    });
  });

  it('agrees with planEnforcement and describeEnforcement (status before any launch)', () => {
    const permissions = { ...NONE, network: true };
    for (const caps of [ALL, NO_CAPABILITIES]) {
      for (const manifest of [main, command]) {
        const expected = plan(manifest, caps, permissions).enforcement;
        expect(planEnforcement(manifest, permissions, caps)).toEqual(expected);
        expect(describeEnforcement(caps, manifest, permissions)).toEqual(expected);
      }
    }
    expect(Object.values(describeEnforcement(ALL, null))).toEqual(Array(12).fill('unenforced'));
  });

  it('describes missing capabilities with "unenforced" so the daemon can warn', () => {
    const lines = describeCapabilities(NO_CAPABILITIES).map((l) => `${l.level} ${l.text}`);
    expect(lines).toContain('warn network: no namespaces here; network:false is unenforced');
    expect(lines.find((l) => l.includes('wall: none'))).toMatch(/^warn wall: none \(not in this test\).*unenforced/);
    const all = describeCapabilities(ALL).map((l) => `${l.level} ${l.text}`);
    expect(all).toContain('info network: unshare --net (namespace per plugin)');
  });
});

describe('planLaunch behind the wall', () => {
  const layout = { symlinks: { bin: 'usr/bin', lib: 'usr/lib' }, folders: ['/usr'], etc: ['/etc/ld.so.cache'], etcNetwork: ['/etc/resolv.conf'] };
  const wall = (mode: 'drop' | 'userns') => ({
    bwrap: '/usr/bin/bwrap',
    version: '0.8.0',
    mode,
    identity: { uid: 65534, gid: 65534, name: 'nobody' },
    setpriv: '/usr/bin/setpriv',
    layout,
    seccomp: Buffer.alloc(16),
  });
  const WALL: Capabilities = { ...ALL, wall: wall('drop'), netns: null };

  it('builds the sandbox from explicit binds and never binds the host root', () => {
    const { argv, launch, enforcement } = plan(main, WALL);
    // The launch shell (rlimits), then the parent-death signal (bwrap's own comes only after its set-up), then bwrap.
    const bwrap = argv.indexOf('/usr/bin/bwrap');
    expect(argv.slice(0, bwrap)).toEqual(['/bin/sh', '-c', expect.stringMatching(/^ulimit -n /), 'warden-launch', '/usr/bin/setpriv', '--pdeathsig', 'KILL', '--']);
    const pairs = argv.map((a, i) => `${a} ${argv[i + 1]} ${argv[i + 2]}`);
    expect(pairs).toContain('--ro-bind /usr /usr');
    expect(pairs).toContain(`--ro-bind ${PROBE} ${PROBE}`);
    expect(pairs).toContain(`--ro-bind ${SDK_READ_ROOT} ${SDK_READ_ROOT}`);
    // The SDK where node's resolution ends, for a plugin anywhere: no loader hook behind the wall.
    expect(pairs).toContain(`--ro-bind ${SDK_READ_ROOT} ${SDK_SANDBOX_ROOT}/dist`);
    expect(pairs).toContain(`--ro-bind ${join(SDK_READ_ROOT, '..', 'package.json')} ${SDK_SANDBOX_ROOT}/package.json`);
    expect(argv).toContain(`--allow-fs-read=${SDK_SANDBOX_ROOT}/*`);
    expect(argv).not.toContain('--import');
    expect(argv.some((a, i) => a.startsWith('--') && a.includes('bind') && argv[i + 1] === '/')).toBe(false);
    for (const flag of ['--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-net', '--die-with-parent', '--new-session', '--clearenv', '--proc', '--dev']) {
      expect(argv).toContain(flag);
    }
    // Root: the identity is dropped inside, after the mounts, with nothing left to regain.
    const dashdash = argv.indexOf('--', bwrap);
    expect(argv.slice(dashdash + 1, dashdash + 8)).toEqual(['/usr/bin/setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--bounding-set=-all', '--inh-caps=-all', '--']);
    expect(argv.at(-1)).toBe(join(PROBE, 'index.js'));
    // passwd, group, status, seccomp on fds 3..6.
    expect(launch.fds?.map((fd) => ('status' in fd ? 'status' : 'input'))).toEqual(['input', 'input', 'status', 'input']);
    expect(launch.env).toEqual({ PATH: expect.any(String) });
    expect(launch.walled).toBe(true);
    expect(enforcement).toMatchObject({
      fs: 'mount-namespace+node-permission',
      network: 'namespace',
      env: 'clearenv',
      signals: 'pid-namespace',
      processTree: 'pid-namespace',
      identity: 'setpriv:nobody',
      syscalls: 'seccomp',
    });
  });

  it("refuses a plugin folder the plugin's identity cannot read, saying what to do", () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-private-'));
    try {
      chmodSync(dir, 0o700);
      const start = () => planLaunch({ dir, manifest: main, permissions: NONE, limits: LIMITS, capabilities: WALL });
      expect(start).toThrow(/mode 0700.*cannot be read by nobody \(65534:65534\).*chmod o\+rx/);
      chmodSync(dir, 0o755);
      expect(start).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('uses an unprivileged user namespace when the daemon is not root', () => {
    const { argv, enforcement } = plan(command, { ...WALL, wall: wall('userns') });
    expect(argv).toEqual(expect.arrayContaining(['--unshare-user', '--disable-userns', '--cap-drop', 'ALL']));
    // No identity to drop: setpriv appears only in front of bwrap, for the parent-death signal.
    expect(argv.filter((a) => a === '/usr/bin/setpriv')).toHaveLength(1);
    expect(argv).not.toContain('--reuid=65534');
    expect(argv.slice(-2)).toEqual(['python3', 'main.py']);
    expect(enforcement.identity).toBe('user-namespace');
  });

  it('shares the network and its resolver files only when network is granted', () => {
    const { argv, enforcement } = plan(main, WALL, { ...NONE, network: true });
    expect(argv).not.toContain('--unshare-net');
    expect(argv).toContain('/etc/resolv.conf');
    expect(enforcement.network).toBe('allowed');
    expect(plan(main, WALL).argv).not.toContain('/etc/resolv.conf');
  });

  it('refuses a grant of /, of kernel interfaces, or of a folder holding the daemon\'s own paths', () => {
    const refuse = (read: string[], protectedPaths: string[] = []) => () =>
      planLaunch({ dir: PROBE, manifest: main, permissions: { ...NONE, fs: { read, write: [] } }, limits: LIMITS, capabilities: WALL, protectedPaths });
    expect(refuse(['/'])).toThrow(/fs.read \/ is never bound/);
    expect(refuse(['/proc/1'])).toThrow(/never bound: it would expose \/proc/);
    expect(refuse(['/run'])).toThrow(/never bound/);
    expect(refuse(['/srv'], ['/srv/warden/warden.sock'])).toThrow(/holds the daemon's \/srv\/warden\/warden.sock/);
    expect(refuse(['/srv/data'], ['/srv/warden/warden.sock'])).not.toThrow();
    // Inside the daemon's folders only its own folder may be bound: not another plugin's, not state.json.
    const plugins = join(PROBE, '..');
    expect(refuse([join(plugins, 'other')], [plugins])).toThrow(/is inside the daemon's/);
    expect(refuse(['/var/lib/warden/state.json'], ['/var/lib/warden'])).toThrow(/is inside the daemon's \/var\/lib\/warden/);
    expect(refuse([join(PROBE, 'data')], [plugins])).not.toThrow();
  });
});

describe('standbyLaunch', () => {
  const wall = { bwrap: '/usr/bin/bwrap' } as unknown as Wall;
  const walled: LaunchSpec = {
    file: '/bin/sh',
    args: ['-c', 'script', '/cg', '/usr/bin/setpriv', '--pdeathsig', 'KILL', '--', '/usr/bin/bwrap', '--unshare-pid', '--', 'node', 'main.js'],
    cwd: '/plugins/p',
    env: { PATH: '/usr/bin' },
    fds: [{ input: Buffer.from('passwd') }, { status: true }],
    walled: true,
  };

  it("adds --block-fd right after bwrap, on the fd that follows the launch's own", () => {
    const standby = standbyLaunch(walled, wall)!;
    expect(standby.args).toEqual(['-c', 'script', '/cg', '/usr/bin/setpriv', '--pdeathsig', 'KILL', '--', '/usr/bin/bwrap', '--block-fd', '5', '--unshare-pid', '--', 'node', 'main.js']);
    expect(standby.fds).toEqual([...walled.fds!, { block: true }]);
    expect(sameLaunch(standby, standbyLaunch({ ...walled }, wall)!)).toBe(true);
  });

  it('is null without the wall, and a launch with other fds, arguments or environment is another launch', () => {
    expect(standbyLaunch({ ...walled, walled: false }, wall)).toBeNull();
    expect(standbyLaunch(walled, null)).toBeNull();
    const standby = standbyLaunch(walled, wall)!;
    expect(sameLaunch(standby, standbyLaunch({ ...walled, args: [...walled.args, '--flag'] }, wall)!)).toBe(false);
    expect(sameLaunch(standby, standbyLaunch({ ...walled, env: { PATH: '/bin' } }, wall)!)).toBe(false);
    expect(sameLaunch(standby, standbyLaunch({ ...walled, fds: [{ input: Buffer.from('other') }, { status: true }] }, wall)!)).toBe(false);
  });
});
