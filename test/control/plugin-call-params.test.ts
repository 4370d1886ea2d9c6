// `plugin.call` without params: the plugin gets `"params": {}` (JSON-RPC 2.0 params, when present, are
// structured), so `warden call keyword-analyzer top` works like `… top '{}'`.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootDaemon, CLI, REPO, type Sandbox, type TestDaemon } from '../helpers/daemon.js';

const run = promisify(execFile);

/** A plugin without the SDK: answers `show` with the request exactly as it arrived on its stdin. */
const RAW_PLUGIN = `
import { createInterface } from 'node:readline';
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const message = JSON.parse(line);
  if (message.id === undefined) return;
  let result = null;
  if (message.method === 'warden.initialize') result = { methods: ['show'] };
  else if (message.method === 'show') result = { hasParams: 'params' in message, params: message.params };
  process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: message.id, result }) + '\\n');
  if (message.method === 'warden.shutdown') process.exit(0);
});
lines.on('close', () => process.exit(0));
`;

describe('plugin.call without params', () => {
  let sandbox: Sandbox;
  let daemon: TestDaemon;

  beforeAll(async () => {
    ({ sandbox, daemon } = await bootDaemon({}, {
      raw: { files: { 'index.js': RAW_PLUGIN } },
      'keyword-analyzer': { from: join(REPO, 'plugins/keyword-analyzer') },
      echo: { from: join(REPO, 'plugins/echo') },
    }));
    for (const name of ['raw', 'keyword-analyzer', 'echo']) await daemon.waitForState(name, 'running');
  });

  afterAll(async () => {
    await daemon?.cleanup();
    sandbox?.remove();
  });

  it('sends the plugin params {} when the client sent none or null, and structured params unchanged', async () => {
    const client = await daemon.client();
    const show = (params?: unknown) => client.request('plugin.call', params === undefined ? { name: 'raw', method: 'show' } : { name: 'raw', method: 'show', params });
    expect(await show()).toEqual({ hasParams: true, params: {} });
    expect(await show(null)).toEqual({ hasParams: true, params: {} });
    expect(await show({ a: 1 })).toEqual({ hasParams: true, params: { a: 1 } });
    expect(await show([1, 2])).toEqual({ hasParams: true, params: [1, 2] });
  });

  it('lets `warden call NAME METHOD` reach a method that destructures its params with defaults', async () => {
    const call = (...args: string[]) => run(process.execPath, [CLI, 'call', ...args, '--socket', sandbox.socketPath]);
    expect(JSON.parse((await call('keyword-analyzer', 'top')).stdout)).toEqual([]);
    expect(JSON.parse((await call('echo', 'sleep')).stdout)).toEqual({ slept: 0 });
    expect(await daemon.call('keyword-analyzer', 'top')).toEqual([]);
  });
});
