// A manifest's `environment` in the plugin's process: applied after the names passed from the daemon,
// `./` values made absolute against the plugin folder, and never over HOME, PATH or WARDEN_* (which
// stay warden's). Behind the wall it reaches the plugin through bwrap --setenv only.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Capabilities } from '../../src/sandbox/capabilities.js';
import { buildPluginEnv } from '../../src/sandbox/env.js';
import { planLaunch } from '../../src/sandbox/launch.js';
import { testManifest } from '../helpers/manifest.js';
import { CAPABILITIES, LIMITS, NO_CAPABILITIES, PROBE, Tracker } from './helpers.js';

const tracker = new Tracker();
afterEach(async () => {
  await tracker.cleanup();
});

// What a hand-built manifest might hold: the schema refuses these names, buildPluginEnv ignores them too.
const HOSTILE = { HOME: '/root', PATH: '/evil/bin', WARDEN_PLUGIN_NAME: 'someone-else', WARDEN_PROTOCOL: '9', LD_PRELOAD: '/evil.so' };

describe('buildPluginEnv with an environment', () => {
  it('sets the fixed values after the passed names, and keeps HOME, PATH and WARDEN_* its own', () => {
    const env = buildPluginEnv({
      name: 'memory',
      version: '1.0.0',
      dir: '/plugins/memory',
      allowed: ['SHARED', 'TOKEN'],
      environment: { SHARED: 'fixed', MEMORY_FILE_PATH: '/plugins/memory/data/memory', ...HOSTILE },
      source: { PATH: '/usr/bin', SHARED: 'daemon', TOKEN: 't', SECRET: 's' },
    });
    expect(env).toEqual({
      PATH: '/usr/bin',
      SHARED: 'fixed',
      TOKEN: 't',
      MEMORY_FILE_PATH: '/plugins/memory/data/memory',
      HOME: '/plugins/memory',
      WARDEN_PLUGIN_NAME: 'memory',
      WARDEN_PLUGIN_VERSION: '1.0.0',
      WARDEN_PLUGIN_DIR: '/plugins/memory',
      WARDEN_PROTOCOL: '1',
    });
  });

  it('planLaunch resolves ./ values against the plugin folder', () => {
    const manifest = testManifest({ name: 'probe', environment: { DATA: './data/store', MODE: 'fast' } });
    const { launch } = planLaunch({ dir: PROBE, manifest, permissions: manifest.permissions, limits: LIMITS, capabilities: NO_CAPABILITIES as Capabilities, nodePath: '/node' });
    expect(launch.env).toMatchObject({ DATA: join(PROBE, 'data/store'), MODE: 'fast', HOME: PROBE });
  });
});

describe('a plugin with an environment, run as the daemon runs it', () => {
  it('sees the fixed values, and warden still owns HOME and WARDEN_*', async () => {
    const { call, plan } = await tracker.start({ manifest: { environment: { DATA: './data/store', MODE: 'fast', ...HOSTILE } } });
    const env = (await call('env')) as Record<string, string>;
    expect(env.DATA).toBe(join(PROBE, 'data/store'));
    expect(env.MODE).toBe('fast');
    expect(env.HOME).toBe(PROBE);
    expect(env.WARDEN_PLUGIN_NAME).toBe('probe');
    expect(env.WARDEN_PROTOCOL).toBe('1');
    expect(env.PATH).not.toBe('/evil/bin');
    expect(env.LD_PRELOAD).toBeUndefined();
    if (CAPABILITIES.wall) {
      // Behind the wall the values travel as bwrap arguments; the wrappers' own environment is PATH alone.
      const argv = [plan.launch.file, ...plan.launch.args];
      expect(argv.some((a, i) => a === '--setenv' && argv[i + 1] === 'MODE' && argv[i + 2] === 'fast')).toBe(true);
      expect(plan.launch.env).toEqual({ PATH: expect.any(String) });
    }
  });
});
