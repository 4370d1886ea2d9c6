// plugin.json's `environment`: fixed variables for the plugin's process. Valid names and values, the
// reserved names (warden's own and LD_*), the overlap with permissions.env, the limits, and `./` values
// made absolute against the plugin folder.
import { describe, expect, test } from 'vitest';
import { validateManifest } from '../../src/manifest/schema.js';
import { reservedVariable } from '../../src/protocol/index.js';
import { resolveEnvironment } from '../../src/sandbox/env.js';

const base = { name: 'memory', version: '1.0.0', main: 'index.js' };

function reasonOf(raw: unknown): string {
  const r = validateManifest(raw);
  if (r.ok) throw new Error(`expected invalid: ${JSON.stringify(raw)}`);
  return r.reason;
}

describe('environment in plugin.json', () => {
  test('a valid one is kept as written; none leaves the manifest without the field', () => {
    const r = validateManifest({ ...base, environment: { MEMORY_FILE_PATH: './data/memory.jsonl', LOG_FORMAT: 'json', EMPTY: '' } });
    expect(r.ok && r.manifest.environment).toEqual({ MEMORY_FILE_PATH: './data/memory.jsonl', LOG_FORMAT: 'json', EMPTY: '' });
    const plain = validateManifest(base);
    expect(plain.ok && 'environment' in plain.manifest).toBe(false);
    const empty = validateManifest({ ...base, environment: {} });
    expect(empty.ok && 'environment' in empty.manifest).toBe(false);
  });

  test.each([
    ['HOME', 'plugin.json: environment.HOME: HOME is set by warden itself'],
    ['PATH', 'plugin.json: environment.PATH: PATH is set by warden itself'],
    ['LANG', 'plugin.json: environment.LANG: LANG is set by warden itself'],
    ['LC_ALL', 'plugin.json: environment.LC_ALL: LC_ALL is set by warden itself'],
    ['TZ', 'plugin.json: environment.TZ: TZ is set by warden itself'],
    ['WARDEN_PLUGIN_DIR', 'plugin.json: environment.WARDEN_PLUGIN_DIR: WARDEN_PLUGIN_DIR is set by warden itself'],
    ['WARDEN_ANYTHING', 'plugin.json: environment.WARDEN_ANYTHING: WARDEN_ANYTHING is set by warden itself'],
    ['LD_PRELOAD', 'plugin.json: environment.LD_PRELOAD: LD_PRELOAD is reserved: LD_* variables change how programs are loaded'],
    ['LD_LIBRARY_PATH', 'plugin.json: environment.LD_LIBRARY_PATH: LD_LIBRARY_PATH is reserved'],
  ])('%s is refused, naming the key', (name, reason) => {
    expect(reasonOf({ ...base, environment: { [name]: '/x' } })).toContain(reason);
  });

  test('the reserved rule is one function, and ordinary names pass it', () => {
    for (const name of ['MEMORY_FILE_PATH', 'DATA_DIR', 'HOMEPAGE', 'XLD_PRELOAD', 'NODE_ENV', 'warden_x']) expect(reservedVariable(name)).toBeNull();
    for (const name of ['HOME', 'PATH', 'WARDEN_PROTOCOL', 'LD_AUDIT']) expect(reservedVariable(name)).not.toBeNull();
  });

  test('a name both fixed and passed from the daemon is refused', () => {
    expect(reasonOf({ ...base, environment: { TOKEN: 'x' }, permissions: { env: ['TOKEN', 'OTHER'] } })).toBe(
      "plugin.json: environment.TOKEN: TOKEN is also in permissions.env: a variable is either fixed here or passed on from the daemon's environment, not both",
    );
    // Reported alongside the other problems of the manifest.
    expect(reasonOf({ ...base, kind: 'nope', environment: { TOKEN: 'x' }, permissions: { env: ['TOKEN'] } })).toContain('environment.TOKEN: TOKEN is also in permissions.env');
  });

  test('names, values and sizes are checked', () => {
    expect(reasonOf({ ...base, environment: { '1BAD': 'x' } })).toBe('plugin.json: environment.1BAD: "1BAD" is not an environment variable name');
    expect(reasonOf({ ...base, environment: { A: 5 } })).toBe('plugin.json: environment.A: expected a string, got 5');
    expect(reasonOf({ ...base, environment: { A: 'x'.repeat(4097) } })).toBe('plugin.json: environment.A: must be at most 4096 characters');
    expect(validateManifest({ ...base, environment: { A: 'x'.repeat(4096) } }).ok).toBe(true);
    expect(reasonOf({ ...base, environment: { A: './../../etc' } })).toContain('environment.A: "./../../etc" leaves the plugin folder');
    const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`V${i}`, 'x']));
    expect(validateManifest({ ...base, environment: many(64) }).ok).toBe(true);
    expect(reasonOf({ ...base, environment: many(65) })).toBe('plugin.json: environment: at most 64 variables, got 65');
    expect(reasonOf({ ...base, environment: ['A=1'] })).toBe('plugin.json: environment: expected an object, got an array');
  });

  test('./ values become absolute against the plugin folder; others stay as written', () => {
    expect(resolveEnvironment({ MEMORY_FILE_PATH: './data/memory', DATA: './', ABS: '/srv/x', REL: 'data/x', URL: 'https://a/./b' }, '/plugins/memory')).toEqual({
      MEMORY_FILE_PATH: '/plugins/memory/data/memory',
      DATA: '/plugins/memory',
      ABS: '/srv/x',
      REL: 'data/x',
      URL: 'https://a/./b',
    });
    expect(resolveEnvironment(undefined, '/plugins/memory')).toEqual({});
  });
});
