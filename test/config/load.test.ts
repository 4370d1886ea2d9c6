import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ConfigError, defaultConfig, loadConfig, resolveConfigPath } from '../../src/config/load.js';

let tmp: string;
let cfgDir: string;

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'warden-config-'));
  cfgDir = path.join(tmp, 'config');
  await mkdir(cfgDir);
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function load(text: string) {
  const file = path.join(cfgDir, 'warden.yaml');
  await writeFile(file, text);
  return loadConfig(file);
}

/** The ConfigError message a config text produces (fails the test if it loads). */
async function errorOf(text: string): Promise<string> {
  try {
    await load(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected the config to be refused');
}

describe('defaults', () => {
  test('an empty file gives every default, paths resolved against the config folder', async () => {
    const c = await load('');
    expect(c).toEqual({
      file: path.join(cfgDir, 'warden.yaml'),
      pluginsDir: path.join(tmp, 'plugins'),
      stateDir: path.join(tmp, 'var'),
      socket: { path: path.join(tmp, 'var', 'warden.sock'), mode: 0o660, group: null },
      logging: { level: 'info', dir: path.join(tmp, 'var', 'logs'), maxBytes: 10485760, keep: 5 },
      sampling: { intervalMs: 1000, cpuSamples: 3 },
      defaults: {
        limits: { memoryMb: 256, cpuPercent: 100, handles: 256, processes: 16 },
        callTimeoutMs: 30000,
        startTimeoutMs: 10000,
        stopTimeoutMs: 5000,
        health: { intervalMs: 5000, timeoutMs: 2000 },
        restart: { initialDelayMs: 100, maxDelayMs: 30000, maxRestarts: 5, windowMs: 60000, standby: false },
        circuit: { failureThreshold: 5, cooldownMs: 30000 },
        output: { linesPerSec: 200, burst: 1000, bytesPerSec: 1048576 },
      },
      hotReload: { enabled: true, debounceMs: 300 },
      metrics: { listen: null },
      sandbox: { require: false, user: null, tmpMb: 64 },
      permissions: { approval: 'required' },
      plugins: {},
    });
  });

  test('a comments-only file, "{}" and empty sections are all defaults', async () => {
    const empty = await load('');
    expect(await load('# nothing here\n')).toEqual(empty);
    expect(await load('{}')).toEqual(empty);
    expect(await load('socket:\ndefaults:\n  restart:\n  output:\nsandbox:\npermissions:\nplugins:\n')).toEqual(empty);
  });

  test('defaultConfig(baseDir) equals loading an empty file there, with file null', async () => {
    const loaded = await load('');
    expect(defaultConfig(cfgDir)).toEqual({ ...loaded, file: null });
  });
});

describe('values and paths', () => {
  test('the example from CONTRACT §2 loads as written', async () => {
    const c = await load(`
pluginsDir: ../plugins
stateDir: ../var                 # state.json lives here
socket: { path: ../var/warden.sock, mode: "0660", group: null }
logging: { level: info, dir: ../var/logs, maxBytes: 10485760, keep: 5 }
sampling: { intervalMs: 1000 }
defaults:
  limits: { memoryMb: 256, cpuPercent: 100, handles: 256, processes: 16 }
  callTimeoutMs: 30000
  startTimeoutMs: 10000
  stopTimeoutMs: 5000
  health: { intervalMs: 5000, timeoutMs: 2000 }
  restart: { initialDelayMs: 100, maxDelayMs: 30000, maxRestarts: 5, windowMs: 60000 }
  circuit: { failureThreshold: 5, cooldownMs: 30000 }
hotReload: { enabled: true, debounceMs: 300 }
metrics: { listen: null }        # e.g. "127.0.0.1:9464" serves Prometheus text at /metrics
sandbox: { require: false }      # true: a plugin that cannot be put behind the wall (section 7) does not start
permissions: { approval: required }   # required | declared ("declared" grants manifests as written: development only)
plugins:
  some-plugin: { enabled: true, limits: { memoryMb: 128 }, permissions: { network: false }, config: {} }
`);
    expect({ ...c, plugins: {} }).toEqual({ ...defaultConfig(cfgDir), file: c.file });
    expect(c.plugins).toEqual({
      'some-plugin': { enabled: true, limits: { memoryMb: 128 }, permissions: { network: false }, config: {} },
    });
  });

  test('every path resolves against the config folder, absolute ones stay', async () => {
    const c = await load(
      [
        'pluginsDir: ./p',
        'stateDir: state',
        'socket: { path: run/w.sock }',
        'logging: { dir: /var/log/warden }',
      ].join('\n'),
    );
    expect(c.pluginsDir).toBe(path.join(cfgDir, 'p'));
    expect(c.stateDir).toBe(path.join(cfgDir, 'state'));
    expect(c.socket.path).toBe(path.join(cfgDir, 'run', 'w.sock'));
    expect(c.logging.dir).toBe('/var/log/warden');
  });

  test('a relative config file path is made absolute', async () => {
    await writeFile(path.join(cfgDir, 'warden.yaml'), 'pluginsDir: p');
    const rel = path.relative(process.cwd(), path.join(cfgDir, 'warden.yaml'));
    const c = loadConfig(rel);
    expect(c.file).toBe(path.join(cfgDir, 'warden.yaml'));
    expect(c.pluginsDir).toBe(path.join(cfgDir, 'p'));
  });

  test('partial nested objects keep the other defaults', async () => {
    const c = await load('defaults:\n  restart: { maxRestarts: 2 }\n  limits: { memoryMb: 64 }\nlogging: { level: debug }');
    expect(c.defaults.restart).toEqual({ initialDelayMs: 100, maxDelayMs: 30000, maxRestarts: 2, windowMs: 60000, standby: false });
    expect(c.defaults.limits).toEqual({ memoryMb: 64, cpuPercent: 100, handles: 256, processes: 16 });
    expect(c.logging).toMatchObject({ level: 'debug', maxBytes: 10485760, keep: 5 });
    expect(c.defaults.callTimeoutMs).toBe(30000);
  });

  test('JSON is accepted', async () => {
    const c = await load('{"sampling": {"intervalMs": 250}, "hotReload": {"enabled": false}}');
    expect(c.sampling.intervalMs).toBe(250);
    expect(c.hotReload).toEqual({ enabled: false, debounceMs: 300 });
  });

  test.each([
    ['"0660"', 0o660],
    ['"660"', 0o660],
    ['"0600"', 0o600],
    ['0660', 0o660], // unquoted leading zero: octal, as chmod reads it
    ['0o640', 0o640],
    ['384', 0o600], // a plain number is the mode itself
  ])('socket.mode %s', async (text, mode) => {
    expect((await load(`socket: { mode: ${text} }`)).socket.mode).toBe(mode);
  });

  test('restart.initialDelayMs and maxRestarts may be 0; group and metrics.listen may be set', async () => {
    const c = await load(
      'defaults: { restart: { initialDelayMs: 0, maxRestarts: 0 } }\nsocket: { group: warden }\nmetrics: { listen: "127.0.0.1:9464" }',
    );
    expect(c.defaults.restart.initialDelayMs).toBe(0);
    expect(c.defaults.restart.maxRestarts).toBe(0);
    expect(c.socket.group).toBe('warden');
    expect(c.metrics.listen).toBe('127.0.0.1:9464');
    expect((await load('metrics: { listen: "[::1]:0" }')).metrics.listen).toBe('[::1]:0');
  });

  test('sandbox, permissions and output limits', async () => {
    const c = await load(
      [
        'sandbox: { require: true, user: warden-plugin, tmpMb: 16 }',
        'permissions: { approval: declared }',
        'defaults: { output: { linesPerSec: 50 } }',
        'plugins: { chatty: { output: { burst: 5000, bytesPerSec: 4096 } } }',
      ].join('\n'),
    );
    expect(c.sandbox).toEqual({ require: true, user: 'warden-plugin', tmpMb: 16 });
    expect(c.permissions).toEqual({ approval: 'declared' });
    expect(c.defaults.output).toEqual({ linesPerSec: 50, burst: 1000, bytesPerSec: 1048576 });
    expect(c.plugins['chatty']).toEqual({ output: { burst: 5000, bytesPerSec: 4096 } });
  });

  test.each(['nobody', 'warden-plugin', '_svc', 'svc$', 'a.b', '1000:1000', '65534:65534', '4294967294:1', null])(
    'sandbox.user %s',
    async (user) => {
      expect((await load(`sandbox: { user: ${JSON.stringify(user)} }`)).sandbox.user).toBe(user);
    },
  );

  test('the shipped configs load: the dev one holds the defaults, production requires the wall', () => {
    const repo = path.resolve(import.meta.dirname, '../..');
    const dev = loadConfig(path.join(repo, 'config', 'warden.yaml'));
    const defaults = defaultConfig(path.join(repo, 'config'));
    expect({ ...dev, file: null, plugins: {} }).toEqual(defaults);
    const prod = loadConfig(path.join(repo, 'systemd', 'warden.yaml'));
    expect(prod.sandbox.require).toBe(true);
    expect(prod.permissions.approval).toBe('required');
  });

  test('plugin overrides are kept, with a free-form config', async () => {
    const c = await load(
      'plugins:\n  feed-reader: { enabled: false, limits: { memoryMb: 128 }, config: { anything: [1, {x: y}] } }\n  other:\n',
    );
    expect(c.plugins).toEqual({
      'feed-reader': { enabled: false, limits: { memoryMb: 128 }, config: { anything: [1, { x: 'y' }] } },
      other: {},
    });
  });
});

describe('errors: one line naming the key', () => {
  test.each([
    ['sampling: { intervalMs: fast }', 'config: sampling.intervalMs: expected a number, got "fast"'],
    ['defaults: { limits: { memoryMb: -5 } }', 'config: defaults.limits.memoryMb: must be a positive integer, got -5'],
    ['defaults: { limits: { handles: 1.5 } }', 'config: defaults.limits.handles: must be a positive integer, got 1.5'],
    ['defaults: { callTimeoutMs: 0 }', 'config: defaults.callTimeoutMs: must be a positive integer, got 0'],
    ['defaults: { restart: { maxRestarts: -1 } }', 'config: defaults.restart.maxRestarts: must be a non-negative integer, got -1'],
    ['defaults: { health: { intervalMs: 9999999999 } }', 'config: defaults.health.intervalMs: must be at most 2147483647, got 9999999999'],
    ['socket: { mode: rw }', 'config: socket.mode: expected an octal file mode like "0660", got "rw"'],
    ['socket: { mode: "0968" }', 'config: socket.mode: expected an octal file mode like "0660", got "0968"'],
    ['socket: { mode: 660 }', 'config: socket.mode: expected an octal file mode like "0660", got 660'],
    ['logging: { level: loud }', 'config: logging.level: expected one of trace, debug, info, warn, error, fatal, got "loud"'],
    ['plugins: { foo: { limitz: {} } }', 'config: plugins.foo.limitz: unknown key; did you mean limits?'],
    ['plugins: { foo: { limits: { memMb: 1 } } }', 'config: plugins.foo.limits.memMb: unknown key'],
    ['samplng: { intervalMs: 5 }', 'config: samplng: unknown key; did you mean sampling?'],
    ['sampling: { intervalMS: 5 }', 'config: sampling.intervalMS: unknown key; did you mean intervalMs?'],
    ['defaults: { restart: { maxRestart: 3 } }', 'config: defaults.restart.maxRestart: unknown key; did you mean maxRestarts?'],
    ['defaults: { restart: { maxRetries: 3 } }', 'config: defaults.restart.maxRetries: unknown key'],
    ['plugins: { Foo_Bar: {} }', 'config: plugins.Foo_Bar: plugin name "Foo_Bar" must match ^[a-z0-9][a-z0-9-]{0,63}$'],
    ['plugins: { foo: { enabled: maybe } }', 'config: plugins.foo.enabled: expected true or false, got "maybe"'],
    ['plugins: { foo: { config: [1] } }', 'config: plugins.foo.config: expected an object, got an array'],
    ['metrics: { listen: 9464 }', 'config: metrics.listen: expected null or "host:port", got 9464'],
    ['metrics: { listen: "localhost:99999" }', 'config: metrics.listen: expected null or "host:port", got "localhost:99999"'],
    ['sampling: 5', 'config: sampling: expected an object, got 5'],
    ['pluginsDir: ""', 'config: pluginsDir: must not be empty'],
    ['sandbox: { require: yes please }', 'config: sandbox.require: expected true or false, got "yes please"'],
    ['sandbox: { tmpMb: 0 }', 'config: sandbox.tmpMb: must be a positive integer, got 0'],
    ['sandbox: { tmpMb: 1.5 }', 'config: sandbox.tmpMb: must be a positive integer, got 1.5'],
    ['sandbox: { user: "" }', 'config: sandbox.user: expected a user name, "uid:gid" or null, got ""'],
    ['sandbox: { user: 1000 }', 'config: sandbox.user: expected a user name, "uid:gid" or null, got 1000'],
    ['sandbox: { user: "1000" }', 'config: sandbox.user: expected a user name, "uid:gid" or null, got "1000"'],
    ['sandbox: { user: "1000:" }', 'config: sandbox.user: expected a user name, "uid:gid" or null, got "1000:"'],
    ['sandbox: { user: "a:b" }', 'config: sandbox.user: expected a user name, "uid:gid" or null, got "a:b"'],
    ['sandbox: { user: "bad name" }', 'config: sandbox.user: expected a user name, "uid:gid" or null, got "bad name"'],
    ['sandbox: { user: "4294967295:1" }', 'config: sandbox.user: uid and gid must be at most 4294967294, got "4294967295:1"'],
    ['sandbox: { user: root }', 'config: sandbox.user: must not be root: plugins never run as root'],
    ['sandbox: { user: "0:1000" }', 'config: sandbox.user: must not be root (uid or gid 0): plugins never run as root, got "0:1000"'],
    ['sandbox: { user: "1000:0" }', 'config: sandbox.user: must not be root (uid or gid 0): plugins never run as root, got "1000:0"'],
    ['sandbox: { chroot: true }', 'config: sandbox.chroot: unknown key'],
    ['permissions: { approval: auto }', 'config: permissions.approval: expected one of required, declared, got "auto"'],
    ['permissions: { approval: true }', 'config: permissions.approval: expected one of required, declared, got true'],
    ['defaults: { output: { linesPerSec: 0 } }', 'config: defaults.output.linesPerSec: must be a positive integer, got 0'],
    ['defaults: { output: { bytesPerSecond: 5 } }', 'config: defaults.output.bytesPerSecond: unknown key; did you mean bytesPerSec?'],
    ['plugins: { foo: { output: { burst: -1 } } }', 'config: plugins.foo.output.burst: must be a positive integer, got -1'],
    [
      'defaults: { restart: { initialDelayMs: 5000, maxDelayMs: 1000 } }',
      'config: defaults.restart.maxDelayMs: must be at least initialDelayMs (5000), got 1000',
    ],
  ])('%s', async (text, message) => {
    expect(await errorOf(text)).toBe(message);
  });

  test('the error carries where and why separately', async () => {
    const err = await load('logging: { keep: 0 }').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({ where: 'logging.keep', reason: 'must be a positive integer, got 0' });
  });

  test('anything under plugins.<name>.config is free-form', async () => {
    const c = await load('plugins: { foo: { config: { limitz: 1, nested: { whatever: true } } } }');
    expect(c.plugins['foo']?.config).toEqual({ limitz: 1, nested: { whatever: true } });
  });

  test('a missing file', () => {
    const file = path.join(cfgDir, 'nope.yaml');
    expect(() => loadConfig(file)).toThrow(new ConfigError(file, 'file not found'));
    expect(() => loadConfig(file)).toThrow(`config: ${file}: file not found`);
  });

  test('a YAML syntax error names the line and column, on one line', async () => {
    const message = await errorOf('sampling:\n  intervalMs: 5\nlogging: [info\nkeep: 3\n');
    expect(message).toMatch(new RegExp(`^config: ${escape(path.join(cfgDir, 'warden.yaml'))}: line 4, column 1: \\S.*$`));
    expect(message).not.toContain('\n');
    expect(message).not.toMatch(/at line \d+, column/);
  });

  test('duplicate keys are an error', async () => {
    expect(await errorOf('sampling: {}\nsampling: {}\n')).toBe(
      `config: ${path.join(cfgDir, 'warden.yaml')}: line 2, column 1: Map keys must be unique`,
    );
  });

  test('a top level that is not a mapping', async () => {
    expect(await errorOf('- a\n- b\n')).toBe(
      `config: ${path.join(cfgDir, 'warden.yaml')}: expected a mapping of settings at the top level, got an array`,
    );
  });
});

describe('errors: every problem at once', () => {
  const file = () => path.join(cfgDir, 'warden.yaml');

  test('each problem is its own line, in one ConfigError', async () => {
    const err = await load(
      [
        'sampling: { intervalMS: 5 }',
        'logging: { level: loud, keep: 0 }',
        'defaults:',
        '  limits: { memoryMb: -1 }',
        '  restart: { initialDelayMs: 5000, maxDelayMs: 1000 }',
        'plugins:',
        '  Foo_Bar: {}',
        '  ok: { limitz: 1, limits: { memMb: 2, handles: 0 } }',
        'hotRelaod: { enabled: false }',
      ].join('\n'),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const lines = [
      'config: logging.level: expected one of trace, debug, info, warn, error, fatal, got "loud"',
      'config: logging.keep: must be a positive integer, got 0',
      'config: sampling.intervalMS: unknown key; did you mean intervalMs?',
      'config: defaults.limits.memoryMb: must be a positive integer, got -1',
      'config: defaults.restart.maxDelayMs: must be at least initialDelayMs (5000), got 1000',
      'config: plugins.Foo_Bar: plugin name "Foo_Bar" must match ^[a-z0-9][a-z0-9-]{0,63}$',
      'config: plugins.ok.limits.handles: must be a positive integer, got 0',
      'config: plugins.ok.limits.memMb: unknown key',
      'config: plugins.ok.limitz: unknown key; did you mean limits?',
      'config: hotRelaod: unknown key; did you mean hotReload?',
    ];
    const error = err as ConfigError;
    expect([...error.lines].sort()).toEqual([...lines].sort());
    expect(error.message).toBe(error.lines.join('\n'));
    expect(error.problems).toHaveLength(lines.length);
    expect(error.problems.map((p) => `config: ${p.where}: ${p.reason}`)).toEqual(error.lines);
    // where/reason stay the first problem's
    expect({ where: error.where, reason: error.reason }).toEqual(error.problems[0]);
  });

  test('every unknown key of one object is listed, with a suggestion only where one is close', async () => {
    expect((await errorOf('sandbox: { requires: true, chroot: true, tmpMB: 5 }')).split('\n')).toEqual([
      'config: sandbox.requires: unknown key; did you mean require?',
      'config: sandbox.chroot: unknown key',
      'config: sandbox.tmpMB: unknown key; did you mean tmpMb?',
    ]);
  });

  test('a JSON syntax error names the line and column, not a character offset', async () => {
    const message = await errorOf(
      ['{', '  "sampling": { "intervalMs": 5 },', '  "logging": { "level": "info" }', '  "pluginsDir": "p"', '}', ''].join('\n'),
    );
    expect(message).toBe(`config: ${file()}: line 4, column 3: Missing , between flow map items`);
  });

  test('an alias without its anchor names its line and column', async () => {
    expect(await errorOf('logging:\n  level: info\n  dir: *logs\n')).toBe(
      `config: ${file()}: line 3, column 8: Unresolved alias (the anchor must be set before the alias): logs`,
    );
  });

  test('the restart check is made even when other sections are wrong', async () => {
    expect(
      (await errorOf('logging: { keep: 0 }\ndefaults: { restart: { initialDelayMs: 5000, maxDelayMs: 1000 } }')).split('\n'),
    ).toEqual([
      'config: logging.keep: must be a positive integer, got 0',
      'config: defaults.restart.maxDelayMs: must be at least initialDelayMs (5000), got 1000',
    ]);
  });
});

describe('socket.group on this host (checkHost)', () => {
  let groupFile: string;
  beforeEach(async () => {
    groupFile = path.join(tmp, 'group');
    await writeFile(groupFile, 'root:x:0:\nwheel:x:10:alice\nwarden:x:991:alice,bob\n+ldap\n');
  });

  async function write(text: string): Promise<string> {
    const file = path.join(cfgDir, 'warden.yaml');
    await writeFile(file, text);
    return file;
  }

  /** The ConfigError of loading `file` with the host checked (`groups: null`: the real /etc/group). */
  function hostError(file: string, groups: string | null = groupFile): ConfigError {
    try {
      loadConfig(file, groups === null ? { checkHost: true } : { checkHost: true, groupFile: groups });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return err as ConfigError;
    }
    throw new Error('expected the config to be refused');
  }

  test('a group the group file has, or a numeric gid, loads', async () => {
    expect(loadConfig(await write('socket: { group: warden }'), { checkHost: true, groupFile }).socket.group).toBe('warden');
    expect(loadConfig(await write('socket: { group: "4242" }'), { checkHost: true, groupFile }).socket.group).toBe('4242');
    expect(loadConfig(await write('socket: { group: null }'), { checkHost: true, groupFile }).socket.group).toBeNull();
  });

  test('a group that does not exist is a config error naming socket.group, with the nearest name', async () => {
    const file = await write('socket: { group: wardn }');
    expect(hostError(file).message).toBe(`config: socket.group: no group named "wardn" in ${groupFile}; did you mean warden?`);
    expect(hostError(await write('socket: { group: operators }')).message).toBe(
      `config: socket.group: no group named "operators" in ${groupFile}`,
    );
  });

  test('the real /etc/group is the default', async () => {
    expect(loadConfig(await write('socket: { group: root }'), { checkHost: true }).socket.group).toBe('root');
    const err = hostError(await write('socket: { group: no-such-group-warden-test }'), null);
    expect(err.message).toMatch(/^config: socket\.group: no group named "no-such-group-warden-test" in \/etc\/group(; did you mean \S+\?)?$/);
  });

  test('an unreadable group file is said as such', async () => {
    const missing = path.join(tmp, 'no-group-file');
    expect(hostError(await write('socket: { group: warden }'), missing).message).toBe(
      `config: socket.group: cannot look up group "warden": ${missing}: file not found`,
    );
  });

  test('it joins the other problems', async () => {
    const err = hostError(await write('socket: { group: wardn }\nsampling: { intervalMs: 0 }'));
    expect(err.lines).toEqual([
      'config: sampling.intervalMs: must be a positive integer, got 0',
      `config: socket.group: no group named "wardn" in ${groupFile}; did you mean warden?`,
    ]);
  });

  test('without checkHost (the CLI looking for the socket) the group is not looked up', async () => {
    expect(loadConfig(await write('socket: { group: wardn }'), { groupFile }).socket.group).toBe('wardn');
  });
});

describe('resolveConfigPath', () => {
  test('--config, else WARDEN_CONFIG, else config/warden.yaml, against cwd', () => {
    const cwd = '/srv/app';
    const env = { WARDEN_CONFIG: 'env.yaml' };
    expect(resolveConfigPath({ flag: 'flag.yaml', env, cwd })).toBe('/srv/app/flag.yaml');
    expect(resolveConfigPath({ env, cwd })).toBe('/srv/app/env.yaml');
    expect(resolveConfigPath({ env: {}, cwd })).toBe('/srv/app/config/warden.yaml');
    expect(resolveConfigPath({ flag: '/etc/warden.yaml', env, cwd })).toBe('/etc/warden.yaml');
    expect(resolveConfigPath({ env: { WARDEN_CONFIG: '' }, cwd })).toBe('/srv/app/config/warden.yaml');
  });

  test('cwd defaults to the process cwd', () => {
    expect(resolveConfigPath({ env: {} })).toBe(path.join(process.cwd(), 'config', 'warden.yaml'));
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
