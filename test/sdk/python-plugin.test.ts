import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, PluginProcess, ROOT } from './helpers.js';

const DIR = join(ROOT, 'plugins/hello-python');
const manifest = JSON.parse(readFileSync(join(DIR, 'plugin.json'), 'utf8')) as { command: string[] };
const [command, ...args] = manifest.command;
const python = spawnSync(command!, ['--version'], { encoding: 'utf8' });
const missing = python.error !== undefined || python.status !== 0;
if (missing) console.warn(`skipping hello-python tests: "${command}" is not runnable here (${python.error?.message ?? python.stderr})`);

const start = (): PluginProcess => new PluginProcess(command!, args, DIR);

afterEach(killAll);

describe.skipIf(missing)('hello-python plugin (protocol by hand, no SDK)', () => {
  it('is under 80 lines of standard-library Python', () => {
    const source = readFileSync(join(DIR, 'main.py'), 'utf8');
    expect(source.trimEnd().split('\n').length).toBeLessThan(80);
    const imports = [...source.matchAll(/^(?:import|from) (\w+)/gm)].map((m) => m[1]);
    expect(imports.every((name) => ['json', 'sys'].includes(name!))).toBe(true);
  });

  it('answers initialize, hello, add, health and snapshot', async () => {
    const p = start();
    expect(await p.initialize({ name: 'hello-python', state: { calls: 10 } })).toEqual({ methods: ['add', 'hello'] });
    expect(await p.call('hello', { name: 'Ada' })).toEqual({ greeting: 'Hello, Ada!' });
    expect(await p.call('add', { a: 2, b: 3 })).toBe(5);
    expect(await p.call('warden.health', {})).toEqual({ ok: true, calls: 12 });
    expect(await p.call('warden.snapshot', {})).toEqual({ calls: 12 });
    await p.waitForStderr('hello-python: initialized as hello-python');
    expect(p.nonJson).toEqual([]);
  });

  it('answers an unknown method with -32601 and a failing one with -32000, and keeps serving', async () => {
    const p = start();
    expect((await p.request('nope', {})).error).toEqual({ code: -32601, message: 'Method not found: nope' });
    expect((await p.request('add', { a: 1 })).error).toEqual({ code: -32000, message: "KeyError: 'b'" });
    p.send('not json');
    await p.waitFor((m) => m.error?.code === -32700 && m.id === null, 'a parse error');
    p.notification('warden.event', { topic: 't', data: 1, source: 's' });
    await p.waitForStderr('event t from s');
    expect(await p.call('hello', {})).toEqual({ greeting: 'Hello, world!' });
  });

  it('answers warden.shutdown with null, then exits 0', async () => {
    const p = start();
    expect((await p.request('warden.shutdown', {})).result).toBeNull();
    expect(await p.waitExit()).toEqual({ code: 0, signal: null });
  });

  it('exits 0 on stdin EOF', async () => {
    const p = start();
    await p.initialize();
    p.child.stdin.end();
    expect(await p.waitExit()).toEqual({ code: 0, signal: null });
  });
});
