// Methods that describe themselves: params checked at the daemon's edge, plugin.describe, rpc.discover as
// OpenRPC (checked against @open-rpc/meta-schema), `warden plugin describe`, and warden.lifecycle events.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { bootDaemon, CLI, type PluginSpec, type Sandbox, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

let sandbox: Sandbox | undefined;
let daemon: TestDaemon | undefined;

afterEach(async () => {
  await daemon?.cleanup();
  sandbox?.remove();
  sandbox = undefined;
  daemon = undefined;
});

/** A plugin that adds, and counts every call of `add` that reached it. */
const CALCULATOR = `import { definePlugin } from 'warden/sdk';
let reached = 0;
definePlugin({
  methods: {
    add: ({ a, b }) => { reached += 1; return a + b; },
    reached: () => reached,
    undescribed: () => 'ok',
  },
});
`;

const calculator: PluginSpec = {
  manifest: {
    main: 'index.mjs',
    description: 'adds numbers',
    methods: {
      add: {
        description: 'Adds two integers.\nBoth are required.',
        params: { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'integer' } }, required: ['a', 'b'], additionalProperties: false },
        result: { type: 'integer' },
        examples: [{ name: 'small', params: { a: 1, b: 2 }, result: 3 }],
      },
      reached: { description: 'How many add calls reached the plugin.', result: { type: 'integer' } },
    },
  },
  files: { 'index.mjs': CALCULATOR },
};

/** A plugin that keeps every warden.lifecycle event it gets. */
const WATCHER = `import { definePlugin } from 'warden/sdk';
const seen = [];
definePlugin({ onEvent: (event) => { seen.push({ topic: event.topic, source: event.source, data: event.data }); }, methods: { seen: () => seen } });
`;

describe('methods in plugin.json', () => {
  it('refuses params that do not fit the schema with -32602 naming the field, before the plugin sees them', async () => {
    ({ sandbox, daemon } = await bootDaemon({}, { calculator }));
    await daemon.waitForState('calculator', 'running');
    expect(await daemon.call('calculator', 'add', { a: 2, b: 3 })).toBe(5);

    const wrongType = await daemon.callError('calculator', 'add', { a: 'two', b: 3 });
    expect(wrongType.code).toBe(-32602);
    expect(wrongType.message).toBe('params.a: must be integer');
    const missing = await daemon.callError('calculator', 'add', { a: 1 });
    expect(missing.message).toBe('params.b: is required');
    const extra = await daemon.callError('calculator', 'add', { a: 1, b: 2, c: 3 });
    expect(extra.message).toBe('params.c: is not allowed');
    expect((await daemon.callError('calculator', 'add', [1, 2])).message).toBe('params: must be object');

    expect(await daemon.call('calculator', 'reached')).toBe(1);
    // Refused calls are the caller's fault: the circuit stays closed.
    expect((await daemon.status('calculator')).circuit).toBe('closed');
    // A method the manifest does not describe is passed through as before.
    expect(await daemon.call('calculator', 'undescribed', { anything: true })).toBe('ok');
  });

  it('describes a plugin (plugin.describe, warden plugin describe) and serves every plugin as one OpenRPC document', async () => {
    ({ sandbox, daemon } = await bootDaemon({}, { calculator, plain: {} }));
    await daemon.waitForState('calculator', 'running');
    await daemon.waitForState('plain', 'running');
    const description = await daemon.request<{ methods: Array<{ name: string; served: boolean | null; params: unknown }> }>('plugin.describe', { name: 'calculator' });
    expect(description).toMatchObject({ name: 'calculator', version: '1.0.0', description: 'adds numbers', state: 'running' });
    expect(description.methods.map((m) => [m.name, m.served])).toEqual([
      ['add', true],
      ['reached', true],
      ['undescribed', true],
    ]);
    expect(description.methods[2]!.params).toBeNull();
    await expect(daemon.request('plugin.describe', { name: 'ghost' })).rejects.toMatchObject({ code: -32001 });

    const doc = await daemon.request<{ openrpc: string; methods: Array<Record<string, unknown>> }>('rpc.discover');
    const require = createRequire(import.meta.url);
    const Ajv = require('ajv').default;
    // The OpenRPC meta-schema refers to the JSON Schema meta-schema of json-schema.tools for every schema it holds.
    const { $schema: _a, $id: _c, ...jsonSchemaMeta } = require('@json-schema-tools/meta-schema').default as Record<string, unknown>;
    const { $schema: _b, ...metaSchema } = require('@open-rpc/meta-schema').openrpcDocument as Record<string, unknown>;
    const ajv = new Ajv({ strict: false, allErrors: true });
    // It is referred to with and without the trailing slash of its $id.
    ajv.addSchema(jsonSchemaMeta, 'https://meta.json-schema.tools/');
    ajv.addSchema(structuredClone(jsonSchemaMeta), 'https://meta.json-schema.tools');
    const validate = ajv.compile(metaSchema);
    expect(validate(doc) ? [] : validate.errors).toEqual([]);
    const add = doc.methods.find((m) => m.name === 'calculator.add')!;
    expect(add).toMatchObject({
      summary: 'Adds two integers.',
      paramStructure: 'by-name',
      params: [
        { name: 'a', schema: { type: 'integer' }, required: true },
        { name: 'b', schema: { type: 'integer' }, required: true },
      ],
      result: { name: 'result', schema: { type: 'integer' } },
      examples: [{ name: 'small', params: [{ name: 'a', value: 1 }, { name: 'b', value: 2 }], result: { name: 'result', value: 3 } }],
      'x-warden-plugin': 'calculator',
      'x-warden-method': 'add',
    });
    expect(doc.methods.map((m) => m.name)).toEqual(expect.arrayContaining(['calculator.reached', 'calculator.undescribed', 'plain.echo']));

    const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, '--socket', sandbox!.socketPath, ...args], { encoding: 'utf8' });
    const text = cli('plugin', 'describe', 'calculator');
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('calculator 1.0.0 (running) — adds numbers');
    expect(text.stdout).toContain('  add\n    Adds two integers.\n    Both are required.\n    params: {"type":"object"');
    expect(text.stdout).toContain('    example small: {"a":1,"b":2} -> 3');
    expect(text.stdout).toContain('  undescribed\n    params: not described');
    const openrpc = cli('plugin', 'describe', 'calculator', '--openrpc');
    expect(openrpc.status).toBe(0);
    const single = JSON.parse(openrpc.stdout) as { methods: Array<{ name: string }> };
    expect(single.methods.map((m) => m.name)).toEqual(['calculator.add', 'calculator.reached', 'calculator.undescribed']);
    expect(validate(single)).toBe(true);
    const ghost = cli('plugin', 'describe', 'ghost');
    expect(ghost.status).not.toBe(0);
    expect(ghost.stderr).toContain('ghost');
  });

  it('an invalid method schema or example makes the plugin invalid, with every problem named', async () => {
    ({ sandbox, daemon } = await bootDaemon({}, {
      broken: {
        manifest: {
          methods: {
            'warden.mine': {},
            add: { params: { type: 'object', properties: { a: { type: 'integer' } } }, examples: [{ params: { a: 'x' } }] },
            odd: { params: { type: 'no-such-type' } },
          },
        },
      },
    }));
    const status = await daemon.waitForState('broken', 'invalid');
    expect(status.reason).toContain('plugin.json: methods.warden.mine: "warden.mine" is reserved');
    expect(status.reason).toContain('plugin.json: methods.add.examples[0].params.a: must be integer');
    expect(status.reason).toContain('plugin.json: methods.odd.params: not a valid JSON Schema');
  });
});

describe('warden.lifecycle', () => {
  it('publishes every state change of every plugin to its subscribers, and no one else may publish on warden.*', async () => {
    ({ sandbox, daemon } = await bootDaemon({}, {
      watcher: { manifest: { main: 'index.mjs', subscribes: ['warden.lifecycle'] }, files: { 'index.mjs': WATCHER } },
      victim: {},
      forger: { manifest: { emits: ['warden.lifecycle'] } },
    }));
    await daemon.waitForState('watcher', 'running');
    await daemon.waitForState('victim', 'running');
    await daemon.request('plugin.stop', { name: 'victim' });
    type Seen = Array<{ topic: string; source: string; data: { plugin: string; from: string; to: string; reason: string | null } }>;
    const seen = await waitFor('the watcher to see the stop', async () => {
      const events = await daemon!.call<Seen>('watcher', 'seen');
      return events.some((e) => e.data.plugin === 'victim' && e.data.to === 'stopped') ? events : undefined;
    });
    const victim = seen.filter((e) => e.data.plugin === 'victim');
    expect(victim.map((e) => [e.data.from, e.data.to])).toEqual(expect.arrayContaining([['running', 'stopping'], ['stopping', 'stopped']]));
    expect(victim.every((e) => e.topic === 'warden.lifecycle' && e.source === 'warden')).toBe(true);
    // A plugin whose manifest would emit on warden.* is invalid from the start.
    expect((await daemon.status('forger')).reason).toContain('plugin.json: emits[0]: "warden.lifecycle" is the daemon\'s own');

    await expect(daemon.request('events.publish', { topic: 'warden.lifecycle', data: {} })).rejects.toMatchObject({
      code: -32602,
      message: 'params.topic: "warden.lifecycle" is the daemon\'s own (topics starting with "warden.")',
    });
  });
});
