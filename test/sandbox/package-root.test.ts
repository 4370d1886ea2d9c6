// One package root for every path into the package (the SDK the wall binds, the preload URL, schema/,
// package.json): a file path decoded from the module URL, so an installation under a folder whose name
// has a space grants that folder, not its `%20` spelling.
import { chmodSync, cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { SDK_READ_ROOT, SDK_SANDBOX_ROOT } from '../../src/sandbox/launch.js';
import { SDK_REGISTER_URL } from '../../src/sandbox/sdk-loader.js';
import { PACKAGE_ROOT, packageRootOf } from '../../src/version.js';
import { REPO } from '../helpers/daemon.js';
import { CAPABILITIES, PROBE } from './helpers.js';

describe('packageRootOf', () => {
  it('decodes the module URL into a file path: %20 becomes a space', () => {
    expect(packageRootOf('file:///tmp/a%20b/dist/version.js')).toBe('/tmp/a b');
    expect(packageRootOf(new URL('file:///opt/warden%20x/src/version.ts'))).toBe('/opt/warden x');
    expect(packageRootOf('file:///opt/w%C3%A4rden/dist/version.js')).toBe('/opt/wärden');
  });

  it('is the root every path into the package starts from', () => {
    expect(PACKAGE_ROOT).toBe(REPO);
    expect(SDK_READ_ROOT).toBe(join(PACKAGE_ROOT, 'dist'));
    expect(SDK_REGISTER_URL).toBe(pathToFileURL(join(PACKAGE_ROOT, 'dist/sdk/register.js')).href);
  });
});

describe('an installation under a folder whose name has a space', () => {
  const temps: string[] = [];
  afterAll(() => {
    for (const dir of temps) rmSync(dir, { recursive: true, force: true });
  });
  const tempDir = (prefix: string): string => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    chmodSync(dir, 0o755);
    temps.push(dir);
    return dir;
  };

  // The built package copied under "warden pkg-…", started from there in a child node: a walled plugin
  // outside the package gets the SDK through the wall's bind of <package>/dist at /node_modules/warden/dist.
  it.skipIf(CAPABILITIES.wall === null)('starts a walled plugin that imports warden/sdk', () => {
    const pkg = tempDir('warden pkg-');
    cpSync(join(REPO, 'dist'), join(pkg, 'dist'), { recursive: true });
    cpSync(join(REPO, 'package.json'), join(pkg, 'package.json'));
    symlinkSync(join(REPO, 'node_modules'), join(pkg, 'node_modules'));
    const plugin = join(tempDir('warden-plugin-'), 'probe');
    cpSync(PROBE, plugin, { recursive: true });
    const module = (file: string): string => JSON.stringify(pathToFileURL(join(pkg, 'dist', file)).href);
    const script = `
      const { detectCapabilities } = await import(${module('sandbox/capabilities.js')});
      const { planLaunch } = await import(${module('sandbox/launch.js')});
      const { PluginHost } = await import(${module('host/plugin-host.js')});
      const { createLogSystem } = await import(${module('logging/index.js')});
      const { PACKAGE_ROOT } = await import(${module('version.js')});
      const capabilities = { ...(await detectCapabilities()), cgroup: null, cgroupProblem: 'not in this test' };
      const manifest = { name: 'probe', version: '1.0.0', kind: 'service', main: 'index.js', dependencies: [], schedules: [],
        subscribes: [], emits: [], config: {}, permissions: { fs: { read: [], write: [] }, network: false, childProcess: false, env: [] } };
      const plan = planLaunch({ dir: ${JSON.stringify(plugin)}, manifest, permissions: manifest.permissions,
        limits: { memoryMb: 128, cpuPercent: 100, handles: 64, processes: 4 }, capabilities });
      const logs = createLogSystem({ level: 'warn', dir: null, maxBytes: 1 << 20, keep: 1 });
      const host = new PluginHost({ name: 'probe', version: '1.0.0', launch: plan.launch,
        loggerFor: (pid) => logs.pluginLogger('probe', { pid, restarts: 0 }),
        requests: { call: async () => null, emit: () => undefined }, startTimeoutMs: 10000, health: { intervalMs: 60000, timeoutMs: 5000 } });
      try {
        await host.start({ config: {}, state: null });
        const execArgv = await host.request('execArgv', {}, 10000);
        console.log(JSON.stringify({ root: PACKAGE_ROOT, walled: plan.launch.walled, args: plan.launch.args, execArgv }));
      } finally {
        host.kill();
      }
      process.exit(0);`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 25_000 });
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout.trim().split('\n').pop()!) as { root: string; walled: boolean; args: string[]; execArgv: string[] };
    expect(result.root).toBe(pkg);
    expect(result.walled).toBe(true);
    expect(result.args).toContain(join(pkg, 'dist'));
    expect(result.args).toContain(`--allow-fs-read=${join(pkg, 'dist')}/*`);
    const bind = result.args.indexOf(`${SDK_SANDBOX_ROOT}/dist`);
    expect(result.args.slice(bind - 2, bind + 1)).toEqual(['--ro-bind', join(pkg, 'dist'), `${SDK_SANDBOX_ROOT}/dist`]);
    // every path is the folder's real name, never its %20 spelling; and no preload behind the wall
    expect(result.args.filter((a) => a.includes('%20'))).toEqual([]);
    expect(result.execArgv).not.toContain('--import');
  }, 30_000);
});
