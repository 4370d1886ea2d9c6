import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest, Permissions } from '../../src/manifest/types.js';
import type { Capabilities } from '../../src/sandbox/capabilities.js';
import { describeCapabilities } from '../../src/sandbox/capabilities.js';
import { SDK_READ_ROOT, planEnforcement, planLaunch } from '../../src/sandbox/launch.js';
import { effectivePermissions } from '../../src/sandbox/permissions.js';
import { describeEnforcement } from '../../src/supervisor/enforcement.js';
import { testManifest } from '../helpers/manifest.js';
import { LIMITS, NO_CAPABILITIES, PROBE } from './helpers.js';

const ALL: Capabilities = {
  setpriv: '/usr/bin/setpriv',
  prlimit: '/usr/bin/prlimit',
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
  it('wraps outermost-first prlimit, unshare, setpriv (last, closest to node), then node flags', () => {
    const { argv } = plan(main, ALL);
    expect(argv.slice(0, 10)).toEqual([
      '/usr/bin/prlimit', `--nofile=${LIMITS.handles + 8}:${LIMITS.handles + 8}`, '--',
      '/usr/bin/unshare', '--net', '--',
      '/usr/bin/setpriv', '--pdeathsig', 'KILL', '--',
    ]);
    expect(argv.slice(10, 13)).toEqual(['/node', '--experimental-permission', '--disable-warning=ExperimentalWarning']);
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

  it('maps what a main plugin gets with every mechanism', () => {
    expect(plan(main, ALL).enforcement).toEqual({
      memoryMb: 'sampling+v8-heap',
      cpuPercent: 'sampling',
      handles: 'rlimit+sampling',
      processes: 'sampling',
      fs: 'node-permission',
      network: 'namespace',
      childProcess: 'node-permission',
      env: 'env-allowlist',
    });
  });

  it('maps a command plugin: no node flags, fs and childProcess unenforced, namespace still applies', () => {
    const { argv, enforcement } = plan(command, ALL);
    expect(argv.slice(-2)).toEqual(['python3', 'main.py']);
    expect(argv.some((a) => a.startsWith('--max-old-space') || a.includes('permission'))).toBe(false);
    expect(enforcement).toMatchObject({ memoryMb: 'sampling', fs: 'unenforced', childProcess: 'unenforced', network: 'namespace' });
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
    expect(Object.values(describeEnforcement(ALL, null))).toEqual(Array(8).fill('unenforced'));
  });

  it('describes missing capabilities with "unenforced" so the daemon can warn', () => {
    const lines = describeCapabilities(NO_CAPABILITIES);
    expect(lines.find((l) => l.startsWith('network:'))).toBe('network: no namespaces here; network:false is unenforced');
    expect(describeCapabilities(ALL).find((l) => l.startsWith('network:'))).toBe('network: unshare --net (namespace per plugin)');
  });
});
