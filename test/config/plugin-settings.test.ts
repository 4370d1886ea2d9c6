import { describe, expect, test } from 'vitest';
import { defaultConfig } from '../../src/config/load.js';
import { effectivePluginConfig, isEnabledByConfig, resolvePluginSettings } from '../../src/config/plugin-settings.js';
import type { Config } from '../../src/config/types.js';
import { testManifest } from '../helpers/manifest.js';

function config(plugins: Config['plugins'] = {}): Config {
  return { ...defaultConfig('/etc/warden'), plugins };
}

const manifest = testManifest;

describe('resolvePluginSettings', () => {
  test('without a manifest or override: the config defaults', () => {
    const c = config();
    const { settings, warnings } = resolvePluginSettings(c, 'p', null);
    expect(settings).toEqual(c.defaults);
    expect(settings.limits).not.toBe(c.defaults.limits); // a copy: callers may not alter the config
    expect(settings.output).not.toBe(c.defaults.output);
    expect(warnings).toEqual([]);
  });

  test('the manifest may lower limits and callTimeoutMs', () => {
    const { settings, warnings } = resolvePluginSettings(
      config(),
      'p',
      manifest({ limits: { memoryMb: 128, processes: 4 }, callTimeoutMs: 5000 }),
    );
    expect(settings.limits).toEqual({ memoryMb: 128, cpuPercent: 100, handles: 256, processes: 4 });
    expect(settings.callTimeoutMs).toBe(5000);
    expect(warnings).toEqual([]);
  });

  test('a manifest value above the operator one is capped, with a warning', () => {
    const { settings, warnings } = resolvePluginSettings(
      config(),
      'p',
      manifest({ limits: { memoryMb: 512, cpuPercent: 50 }, callTimeoutMs: 60000 }),
    );
    expect(settings.limits.memoryMb).toBe(256);
    expect(settings.limits.cpuPercent).toBe(50);
    expect(settings.callTimeoutMs).toBe(30000);
    expect(warnings).toEqual([
      "limits.memoryMb 512 in plugin.json is above the operator's 256; capped to 256",
      "callTimeoutMs 60000 in plugin.json is above the operator's 30000; capped to 30000",
    ]);
  });

  test("the operator's plugins.<name> wins over both, higher or lower, and merges nested keys", () => {
    const c = config({
      p: {
        limits: { memoryMb: 1024, handles: 8 },
        callTimeoutMs: 90000,
        startTimeoutMs: 1,
        restart: { maxRestarts: 0 },
        health: { timeoutMs: 100 },
        circuit: { cooldownMs: 10 },
        output: { linesPerSec: 20 },
      },
    });
    const { settings, warnings } = resolvePluginSettings(
      c,
      'p',
      manifest({ limits: { memoryMb: 2048, handles: 64, processes: 2 }, callTimeoutMs: 1000 }),
    );
    expect(settings).toEqual({
      limits: { memoryMb: 1024, cpuPercent: 100, handles: 8, processes: 2 },
      callTimeoutMs: 90000,
      startTimeoutMs: 1,
      stopTimeoutMs: 5000,
      health: { intervalMs: 5000, timeoutMs: 100 },
      restart: { initialDelayMs: 100, maxDelayMs: 30000, maxRestarts: 0, windowMs: 60000, standby: false },
      circuit: { failureThreshold: 5, cooldownMs: 10 },
      output: { linesPerSec: 20, burst: 1000, bytesPerSec: 1048576 },
    });
    // The manifest's 2048 was superseded by the operator's own value, so there is nothing to warn about.
    expect(warnings).toEqual([]);
  });

  test("another plugin's override does not apply", () => {
    const { settings } = resolvePluginSettings(config({ q: { limits: { memoryMb: 1 }, output: { burst: 1 } } }), 'p', null);
    expect(settings.limits.memoryMb).toBe(256);
    expect(settings.output.burst).toBe(1000);
  });
});

describe('isEnabledByConfig', () => {
  test('default true; plugins.<name>.enabled decides', () => {
    const c = config({ off: { enabled: false }, on: { enabled: true }, plain: {} });
    expect(isEnabledByConfig(c, 'off')).toBe(false);
    expect(isEnabledByConfig(c, 'on')).toBe(true);
    expect(isEnabledByConfig(c, 'plain')).toBe(true);
    expect(isEnabledByConfig(c, 'absent')).toBe(true);
    // A valid plugin name that is also an Object.prototype key must not read the prototype.
    expect(isEnabledByConfig(c, 'constructor')).toBe(true);
  });
});

describe('effectivePluginConfig', () => {
  test('deep merge, override wins, arrays replaced', () => {
    const m = { feeds: ['a', 'b'], http: { timeoutMs: 100, retries: 3 }, name: 'x' };
    const o = { feeds: ['c'], http: { retries: 5, proxy: null }, extra: true };
    expect(effectivePluginConfig(m, o)).toEqual({
      feeds: ['c'],
      http: { timeoutMs: 100, retries: 5, proxy: null },
      name: 'x',
      extra: true,
    });
  });

  test('an object replaces a scalar and the other way round', () => {
    expect(effectivePluginConfig({ a: 1, b: { c: 1 } }, { a: { x: 1 }, b: 2 })).toEqual({ a: { x: 1 }, b: 2 });
  });

  test('missing sides, and the inputs are never changed', () => {
    const m = { nested: { list: [1] } };
    const out = effectivePluginConfig(m, undefined);
    expect(out).toEqual(m);
    (out['nested'] as { list: number[] }).list.push(2);
    expect(m.nested.list).toEqual([1]);
    expect(effectivePluginConfig(undefined, { a: 1 })).toEqual({ a: 1 });
  });

  test('a "__proto__" key stays data', () => {
    const o = JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    const out = effectivePluginConfig({}, o);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.keys(out)).toEqual(['__proto__']);
  });
});
