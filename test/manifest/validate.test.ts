import { describe, expect, test } from 'vitest';
import { cronProblem } from '../../src/manifest/cron.js';
import { validateManifest } from '../../src/manifest/schema.js';

const base = { name: 'feed-reader', version: '1.2.0', main: 'index.js' };

function reasonOf(raw: unknown): string {
  const r = validateManifest(raw);
  if (r.ok) throw new Error(`expected invalid: ${JSON.stringify(raw)}`);
  return r.reason;
}

describe('good manifests', () => {
  test('a minimal one gets every default', () => {
    expect(validateManifest(base)).toEqual({
      ok: true,
      manifest: {
        name: 'feed-reader',
        version: '1.2.0',
        description: '',
        kind: 'service',
        main: 'index.js',
        engines: {},
        dependencies: {},
        permissions: { fs: { read: [], write: [] }, network: false, childProcess: false, env: [] },
        limits: {},
        schedules: [],
        subscribes: [],
        emits: [],
        config: {},
        activation: 'eager',
        idleStopMs: 300_000,
        methods: {},
        protocol: 'warden',
      },
    });
  });

  test('the full example from the contract', () => {
    const full = {
      $schema: '../../schema/plugin.schema.json',
      name: 'feed-reader',
      version: '1.2.0',
      description: 'reads feeds',
      kind: 'connector',
      command: ['python3', 'main.py'],
      engines: { warden: '^1.0.0' },
      dependencies: { 'text-cleaner': '^1.0.0' },
      permissions: {
        fs: { read: ['./data'], write: ['./out'] },
        network: true,
        childProcess: false,
        env: ['FEED_TOKEN'],
      },
      limits: { memoryMb: 128, cpuPercent: 50, handles: 64, processes: 4 },
      callTimeoutMs: 5000,
      schedules: [{ cron: '*/5 * * * *', method: 'poll' }, { cron: '0 0 9 * * MON-FRI', method: 'daily', params: [1] }],
      subscribes: ['item.cleaned', 'item.*'],
      emits: ['item.fetched'],
      config: { feeds: [] },
      activation: 'lazy',
      idleStopMs: 300000,
      methods: { poll: { description: 'fetches', params: { type: 'object' }, result: {}, examples: [{ params: {} }] } },
      protocol: 'mcp',
    };
    const r = validateManifest(full);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const { $schema: _ignored, ...expected } = full;
    expect(r.manifest).toEqual({
      ...expected,
      permissions: { ...full.permissions },
      schedules: [
        { cron: '*/5 * * * *', method: 'poll', params: {} },
        { cron: '0 0 9 * * MON-FRI', method: 'daily', params: [1] },
      ],
    });
    expect('$schema' in r.manifest).toBe(false);
    expect('main' in r.manifest).toBe(false);
  });

  test('engines.warden ranges that 1.0.0 satisfies, prereleases included', () => {
    for (const range of ['^1.0.0', '>=1.0.0-0', '1.x', '*', '>=0.9 <2']) {
      expect(validateManifest({ ...base, engines: { warden: range } }).ok, range).toBe(true);
    }
  });
});

describe('bad manifests: one line naming the field', () => {
  test.each<[string, unknown, string]>([
    ['not an object', [], 'plugin.json: expected an object at the top level, got an array'],
    ['unknown top-level key', { ...base, mian: 'x.js' }, 'plugin.json: mian: unknown key; did you mean main?'],
    ['unknown key, nothing close', { ...base, frobnicate: 1 }, 'plugin.json: frobnicate: unknown key'],
    ['bad activation', { ...base, activation: 'sleepy' }, 'plugin.json: activation: expected one of eager, lazy, got "sleepy"'],
    ['idleStopMs not positive', { ...base, activation: 'lazy', idleStopMs: 0 }, 'plugin.json: idleStopMs: expected a positive integer, got 0'],
    ['misspelt nested key', { ...base, permissions: { netwrok: true } }, 'plugin.json: permissions.netwrok: unknown key; did you mean network?'],
    ['misspelt key in a list item', { ...base, schedules: [{ cron: '* * * * *', method: 'poll', parmas: {} }] }, 'plugin.json: schedules[0].parmas: unknown key; did you mean params?'],
    ['missing name', { version: '1.0.0', main: 'i.js' }, 'plugin.json: name: is required'],
    ['bad name', { ...base, name: 'Feed_Reader' }, 'plugin.json: name: "Feed_Reader" must match ^[a-z0-9][a-z0-9-]{0,63}$'],
    ['name too long', { ...base, name: 'a'.repeat(65) }, `plugin.json: name: "${'a'.repeat(57)}..." must match ^[a-z0-9][a-z0-9-]{0,63}$`],
    ['bad version', { ...base, version: '1.x' }, 'plugin.json: version: "1.x" is not a semver version'],
    ['numeric version', { ...base, version: 1 }, 'plugin.json: version: expected a string, got 1'],
    ['neither main nor command', { name: 'a', version: '1.0.0' }, 'plugin.json: exactly one of "main" and "command" is required'],
    ['both main and command', { ...base, command: ['x'] }, 'plugin.json: exactly one of "main" and "command" is required'],
    ['empty main', { ...base, main: '' }, 'plugin.json: main: must not be empty'],
    ['absolute main', { ...base, main: '/bin/sh' }, 'plugin.json: main: must be a relative path inside the plugin folder, got "/bin/sh"'],
    ['escaping main', { ...base, main: 'lib/../../x.js' }, 'plugin.json: main: must be a relative path inside the plugin folder, got "lib/../../x.js"'],
    ['empty command', { name: 'a', version: '1.0.0', command: [] }, 'plugin.json: command: expected a non-empty array of strings, got an empty one'],
    ['command not an array', { name: 'a', version: '1.0.0', command: 'python3 main.py' }, 'plugin.json: command: expected a non-empty array of strings, got "python3 main.py"'],
    ['empty command word', { name: 'a', version: '1.0.0', command: ['python3', ''] }, 'plugin.json: command[1]: must not be empty'],
    ['bad kind', { ...base, kind: 'widget' }, 'plugin.json: kind: expected one of connector, processor, analyzer, service, got "widget"'],
    ['engines mismatch', { ...base, engines: { warden: '^2.0.0' } }, 'plugin.json: engines.warden "^2.0.0" is not satisfied by warden 1.0.0'],
    ['engines not a range', { ...base, engines: { warden: 'soon' } }, 'plugin.json: engines.warden: "soon" is not a valid semver range'],
    ['engines unknown key', { ...base, engines: { node: '>=20' } }, 'plugin.json: engines.node: unknown key'],
    ['dependency range', { ...base, dependencies: { other: 'latest' } }, 'plugin.json: dependencies.other: "latest" is not a valid semver range'],
    ['dependency name', { ...base, dependencies: { Other: '^1.0.0' } }, 'plugin.json: dependencies.Other: "Other" must match ^[a-z0-9][a-z0-9-]{0,63}$'],
    ['self dependency', { ...base, dependencies: { 'feed-reader': '^1.0.0' } }, 'plugin.json: dependencies.feed-reader: a plugin may not depend on itself'],
    ['fs not a list', { ...base, permissions: { fs: { read: './data' } } }, 'plugin.json: permissions.fs.read: expected an array, got "./data"'],
    ['network not a boolean', { ...base, permissions: { network: 'yes' } }, 'plugin.json: permissions.network: expected true or false, got "yes"'],
    ['env name', { ...base, permissions: { env: ['OK', 'NOT-OK'] } }, 'plugin.json: permissions.env[1]: "NOT-OK" is not an environment variable name'],
    ['unknown permission', { ...base, permissions: { exec: true } }, 'plugin.json: permissions.exec: unknown key'],
    ['limit not a number', { ...base, limits: { memoryMb: 'lots' } }, 'plugin.json: limits.memoryMb: expected a positive integer, got "lots"'],
    ['limit zero', { ...base, limits: { processes: 0 } }, 'plugin.json: limits.processes: expected a positive integer, got 0'],
    ['unknown limit', { ...base, limits: { disk: 1 } }, 'plugin.json: limits.disk: unknown key'],
    ['callTimeoutMs', { ...base, callTimeoutMs: 1.5 }, 'plugin.json: callTimeoutMs: expected a positive integer, got 1.5'],
    ['cron field count', { ...base, schedules: [{ cron: '* * * *', method: 'poll' }] }, 'plugin.json: schedules[0].cron: expected 5 fields, or 6 with seconds first, got 4 in "* * * *"'],
    ['cron range', { ...base, schedules: [{ cron: '0 25 * * *', method: 'poll' }] }, 'plugin.json: schedules[0].cron: hour field "25": 25 is out of range 0-23'],
    ['reserved method', { ...base, schedules: [{ cron: '* * * * *', method: 'warden.health' }] }, 'plugin.json: schedules[0].method: "warden.health" is reserved (methods starting with "warden.")'],
    ['schedule without method', { ...base, schedules: [{ cron: '* * * * *' }] }, 'plugin.json: schedules[0].method: is required'],
    ['subscribes topic', { ...base, subscribes: ['item..x'] }, 'plugin.json: subscribes[0]: "item..x" is not a topic (dot-separated words, may end with ".*")'],
    ['emits wildcard', { ...base, emits: ['item.*'] }, 'plugin.json: emits[0]: "item.*" is not a topic (dot-separated words)'],
    ['config not an object', { ...base, config: [] }, 'plugin.json: config: expected an object, got an array'],
    ['description not a string', { ...base, description: 5 }, 'plugin.json: description: expected a string, got 5'],
  ])('%s', (_label, raw, reason) => {
    expect(reasonOf(raw)).toBe(reason);
  });
});

describe('bad manifests: every problem at once', () => {
  function problemsOf(raw: unknown): { reason: string; problems: string[] } {
    const r = validateManifest(raw);
    if (r.ok) throw new Error(`expected invalid: ${JSON.stringify(raw)}`);
    return { reason: r.reason, problems: r.problems };
  }

  test('each problem with its JSON path; the reason joins them with "; "', () => {
    const { reason, problems } = problemsOf({
      name: 'Feed_Reader',
      version: '1.x',
      mian: 'index.js',
      kind: 'widget',
      permissions: { netwrok: true, env: ['OK', 'NOT-OK'] },
      limits: { memoryMb: 0 },
      engines: { warden: '^2.0.0' },
    });
    expect([...problems].sort()).toEqual(
      [
        'plugin.json: name: "Feed_Reader" must match ^[a-z0-9][a-z0-9-]{0,63}$',
        'plugin.json: version: "1.x" is not a semver version',
        'plugin.json: kind: expected one of connector, processor, analyzer, service, got "widget"',
        'plugin.json: permissions.env[1]: "NOT-OK" is not an environment variable name',
        'plugin.json: permissions.netwrok: unknown key; did you mean network?',
        'plugin.json: limits.memoryMb: expected a positive integer, got 0',
        'plugin.json: mian: unknown key; did you mean main?',
        'plugin.json: exactly one of "main" and "command" is required',
        'plugin.json: engines.warden "^2.0.0" is not satisfied by warden 1.0.0',
      ].sort(),
    );
    expect(reason).toBe(problems.join('; '));
  });

  test('checks across fields are not held back by other problems, nor repeated', () => {
    expect(problemsOf({ name: 'a', version: '1.0.0', dependencies: { a: '^1.0.0' } }).problems).toEqual([
      'plugin.json: exactly one of "main" and "command" is required',
      'plugin.json: dependencies.a: a plugin may not depend on itself',
    ]);
    expect(problemsOf({ name: 'a', version: '1.0.0' }).problems).toEqual([
      'plugin.json: exactly one of "main" and "command" is required',
    ]);
  });

  test('a single problem reads as before', () => {
    expect(problemsOf({ ...base, limits: { disk: 1 } })).toEqual({
      reason: 'plugin.json: limits.disk: unknown key',
      problems: ['plugin.json: limits.disk: unknown key'],
    });
  });
});

describe('cron', () => {
  test.each([
    '* * * * *',
    '*/5 * * * *',
    '0 9-17/2 * * 1-5',
    '0,30 0 1,15 JAN,jul SUN',
    '0 0 ? * 7',
    '30 */10 * * * *',
  ])('accepts %s', (expr) => {
    expect(cronProblem(expr)).toBeNull();
  });

  test.each([
    ['* * * * * * *', 'expected 5 fields, or 6 with seconds first, got 7 in "* * * * * * *"'],
    ['60 * * * *', 'minute field "60": 60 is out of range 0-59'],
    ['* * 0 * *', 'day-of-month field "0": 0 is out of range 1-31'],
    ['* * * 13 *', 'month field "13": 13 is out of range 1-12'],
    ['* * * * 8', 'day-of-week field "8": 8 is out of range 0-7'],
    ['*/0 * * * *', 'minute field "*/0": step "0" is not a positive integer'],
    ['5-1 * * * *', 'minute field "5-1": range "5-1" runs backwards'],
    ['1,,2 * * * *', 'minute field "1,,2": empty list item'],
    ['? * * * *', 'minute field "?": "?" is not a number'],
    ['* * * FOO *', 'month field "FOO": "FOO" is not a number or a name'],
  ])('rejects %s', (expr, problem) => {
    expect(cronProblem(expr)).toBe(problem);
  });
});
