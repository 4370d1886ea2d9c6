import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { definePlugin } from '../../src/sdk/index.js';
import { sdkLoaderArgs, SDK_REGISTER_URL } from '../../src/sandbox/sdk-loader.js';
import { ensureSdkBuilt, killAll, PluginProcess, ROOT, type Message } from './helpers.js';

const ECHO_DIR = join(ROOT, 'plugins/echo');
const KITCHEN_DIR = join(ROOT, 'test/fixtures/sdk/kitchen');

const echo = (): PluginProcess => PluginProcess.node('index.js', ECHO_DIR);
const kitchen = (): PluginProcess => PluginProcess.node('index.js', KITCHEN_DIR);
const isLog = (m: Message): boolean => m.method === 'warden.log';

beforeAll(() => ensureSdkBuilt(), 120_000);
afterEach(killAll);

describe('definePlugin', () => {
  it('refuses method names in the reserved warden. namespace (before serving anything)', () => {
    expect(() => definePlugin({ methods: { 'warden.health': () => 1 } })).toThrow(/reserved/);
    expect(() => definePlugin({ methods: { ok: 42 as never } })).toThrow(/not a function/);
  });
});

describe('echo plugin over stdio', () => {
  it('answers warden.initialize with its method names, logging through ctx.log and console', async () => {
    const p = echo();
    expect(await p.initialize({ name: 'echo', version: '1.0.0' })).toEqual({ methods: ['echo', 'reverse', 'fail', 'sleep', 'pid'] });
    const log = await p.waitFor(isLog, 'the init log entry');
    // fields sit at the top level of params, next to level and msg
    expect(log.params).toMatchObject({ level: 'info', msg: 'echo ready', version: '1.0.0' });
    await p.waitForStderr('echo: console output goes to stderr');
    expect(p.nonJson).toEqual([]);
    expect(p.messages.every((m) => m.jsonrpc === '2.0')).toBe(true);
  });

  it('round-trips echo, reverse and pid', async () => {
    const p = echo();
    await p.initialize();
    const params = { a: 1, nested: { list: [1, 'two', null] }, text: 'ünïcødé ✓\nnewline' };
    expect(await p.call('echo', params)).toEqual(params);
    expect(await p.call('reverse', { text: 'warden' })).toBe('nedraw');
    expect(await p.call('pid')).toBe(p.child.pid);
    expect(await p.call('sleep', { ms: 10 })).toEqual({ slept: 10 });
  });

  it('answers a throwing method with its PluginError code, message and data.stack', async () => {
    const p = echo();
    await p.initialize();
    const answer = await p.request('fail', { why: 'demo' });
    expect(answer.result).toBeUndefined();
    expect(answer.error.code).toBe(1001);
    expect(answer.error.message).toBe('echo.fail failed on purpose');
    expect(answer.error.data.stack).toMatch(/PluginError: echo.fail failed on purpose\n\s+at /);
    expect(answer.error.data.params).toEqual({ why: 'demo' }); // PluginError data fields are merged in
  });

  it('answers an unknown method with -32601 and keeps serving', async () => {
    const p = echo();
    const answer = await p.request('nope');
    expect(answer.error).toEqual({ code: -32601, message: 'Method not found: nope' });
    expect(await p.call('echo', 'still here')).toBe('still here');
  });

  it('serves calls made before warden.initialize', async () => {
    const p = kitchen();
    expect(await p.call('whoami')).toEqual({ name: '', version: '', config: {}, state: null });
  });

  it('answers a garbage line with -32700 (id null) and an overlong line is dropped; neither kills it', async () => {
    const p = echo();
    p.send('this is not json');
    const parseError = await p.waitFor((m) => m.error?.code === -32700, 'a parse error answer');
    expect(parseError).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
    p.send('[1,2]');
    await p.waitFor((m) => m.error?.code === -32600, 'an invalid request answer (batch)');
    p.send(`{"jsonrpc":"2.0","id":1,"method":"echo","params":"${'x'.repeat(1024 * 1024 + 10)}"}`);
    await p.waitForStderr('dropped a line of');
    expect(await p.call('echo', 'alive')).toBe('alive');
    expect(p.child.exitCode).toBeNull();
  });

  it('answers in order when many calls are pipelined', async () => {
    const p = echo();
    const n = 2000;
    const answers = Array.from({ length: n }, (_, i) => p.request('echo', i, 15_000));
    const all = await Promise.all(answers);
    expect(all.map((a) => a.result)).toEqual(Array.from({ length: n }, (_, i) => i));
    const ids = p.messages.map((m) => m.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it('exits 0 after warden.shutdown is answered with null', async () => {
    const p = echo();
    await p.initialize();
    const answer = await p.request('warden.shutdown', {});
    expect(answer).toEqual({ jsonrpc: '2.0', id: answer.id, result: null });
    expect(await p.waitExit()).toEqual({ code: 0, signal: null });
  });

  it('exits 0 on stdin EOF, after flushing in-flight answers', async () => {
    const p = echo();
    await p.initialize();
    p.send({ jsonrpc: '2.0', id: 7, method: 'sleep', params: { ms: 150 } });
    p.child.stdin.end();
    expect(await p.waitExit()).toEqual({ code: 0, signal: null });
    expect(p.messages.find((m) => m.id === 7)).toEqual({ jsonrpc: '2.0', id: 7, result: { slept: 150 } });
  });

  it('exits when the daemon is gone (EPIPE on stdout)', async () => {
    const p = echo();
    await p.initialize();
    p.child.stdout.destroy();
    for (let i = 0; i < 5; i++) p.send({ jsonrpc: '2.0', id: i, method: 'echo', params: 'x' });
    expect((await p.waitExit()).code).toBe(0);
  });
});

describe('plugin context (kitchen fixture)', () => {
  it('passes name, version, config and state from warden.initialize to init and methods', async () => {
    const p = kitchen();
    await p.initialize({ name: 'kitchen', version: '2.3.4', config: { feeds: ['a'] }, state: { counter: 41 } });
    expect(await p.call('whoami')).toEqual({ name: 'kitchen', version: '2.3.4', config: { feeds: ['a'] }, state: { counter: 41 } });
    expect(await p.call('bump')).toBe(42);
    const log = await p.waitFor(isLog, 'the init log entry');
    expect(log.params).toEqual({ level: 'debug', msg: 'kitchen init', counter: 41, configKeys: ['feeds'] });
    const again = await p.request('warden.initialize', { protocol: 1 });
    expect(again.error.code).toBe(-32600);
  });

  it('sends ctx.log entries as warden.log with fields at the top level (errors serialized)', async () => {
    const p = kitchen();
    await p.call('logIt', { level: 'warn', msg: 'disk low', fields: { freeMb: 12, mount: '/' } });
    const log = await p.waitFor((m) => isLog(m) && m.params.msg === 'disk low', 'warden.log');
    expect(log).toEqual({ jsonrpc: '2.0', method: 'warden.log', params: { level: 'warn', msg: 'disk low', freeMb: 12, mount: '/' } });
    expect('id' in log).toBe(false);
  });

  it('sends ctx.emit as a warden.emit notification', async () => {
    const p = kitchen();
    expect(await p.call('emitIt', { topic: 'item.fetched', data: { url: 'u' } })).toBe('emitted');
    const emit = await p.waitFor((m) => m.method === 'warden.emit', 'warden.emit');
    expect(emit).toEqual({ jsonrpc: '2.0', method: 'warden.emit', params: { topic: 'item.fetched', data: { url: 'u' } } });
  });

  it('sends ctx.call as a warden.call request and resolves with the answer', async () => {
    const p = kitchen();
    p.send({ jsonrpc: '2.0', id: 'c1', method: 'callOther', params: { plugin: 'text-cleaner', method: 'clean', params: { text: ' x ' } } });
    const outgoing = await p.waitFor((m) => m.method === 'warden.call', 'warden.call');
    expect(outgoing.params).toEqual({ plugin: 'text-cleaner', method: 'clean', params: { text: ' x ' } });
    expect(outgoing.id).toBeDefined();
    p.send({ jsonrpc: '2.0', id: outgoing.id, result: { text: 'x' } });
    const answer = await p.waitFor((m) => m.id === 'c1', 'the answer to callOther');
    expect(answer.result).toEqual({ ok: { text: 'x' } });
  });

  it('rejects ctx.call with a PluginError(code, message, data) on an error answer', async () => {
    const p = kitchen();
    p.send({ jsonrpc: '2.0', id: 'c2', method: 'callOther', params: { plugin: 'other', method: 'm' } });
    const outgoing = await p.waitFor((m) => m.method === 'warden.call', 'warden.call');
    expect(outgoing.params).toEqual({ plugin: 'other', method: 'm', params: {} });
    p.send({ jsonrpc: '2.0', id: outgoing.id, error: { code: -32001, message: 'circuit open', data: { retryInMs: 500 } } });
    const answer = await p.waitFor((m) => m.id === 'c2', 'the answer to callOther');
    expect(answer.result).toEqual({ failed: { isPluginError: true, code: -32001, message: 'circuit open', data: { retryInMs: 500 } } });
  });

  it('delivers warden.event notifications to onEvent, without answering; a throwing onEvent is logged', async () => {
    const p = kitchen();
    p.notification('warden.event', { topic: 'item.cleaned', data: { id: 1 }, source: 'text-cleaner' });
    p.notification('warden.event', { topic: 'explode', data: null, source: 'x' });
    const log = await p.waitFor((m) => isLog(m) && m.params.level === 'error', 'the onEvent failure log');
    expect(log.params).toMatchObject({ msg: 'onEvent failed', topic: 'explode', error: 'onEvent exploded' });
    expect(await p.call('events')).toEqual([
      { topic: 'item.cleaned', data: { id: 1 }, source: 'text-cleaner' },
      { topic: 'explode', data: null, source: 'x' },
    ]);
    expect(p.messages.filter((m) => m.id === undefined && m.method === undefined)).toEqual([]);
  });

  it('answers warden.snapshot and warden.health from the definition', async () => {
    const p = kitchen();
    await p.initialize({ state: { counter: 5 } });
    await p.call('bump');
    expect(await p.call('warden.snapshot', {})).toEqual({ counter: 6 });
    expect(await p.call('warden.health', {})).toEqual({ ok: true, counter: 6 });
  });

  it('answers warden.snapshot with null and warden.health with {ok:true} by default', async () => {
    const p = echo();
    expect(await p.call('warden.snapshot', {})).toBeNull();
    expect(await p.call('warden.health', {})).toEqual({ ok: true });
  });

  it('still answers odd handler outcomes: non-Error rejection, plain Error, unserializable or undefined result', async () => {
    const p = kitchen();
    expect((await p.request('rejectString')).error).toEqual({ code: -32000, message: 'plain string', data: { value: 'plain string' } });
    const plain = (await p.request('throwPlain')).error;
    expect(plain.code).toBe(-32000);
    expect(plain.message).toBe('plain error');
    expect(plain.data.stack).toMatch(/^Error: plain error/);
    expect((await p.request('circular')).error).toMatchObject({ code: -32603, message: expect.stringMatching(/not serializable/) });
    expect(await p.request('nothing')).toMatchObject({ result: null });
  });

  it('redirects console and stray stdout writes to stderr', async () => {
    const p = kitchen();
    expect(await p.call('stdoutWrite')).toBe('written');
    await p.waitForStderr('console.error line');
    expect(p.stderr).toContain('raw stdout write');
    expect(p.stderr).toContain('console.info line');
    expect(p.nonJson).toEqual([]);
  });

  it('runs the shutdown hook before answering warden.shutdown, then exits 0', async () => {
    const p = kitchen();
    const answer = await p.request('warden.shutdown', {});
    expect(answer.result).toBeNull();
    expect(p.stderr).toContain('kitchen shutdown hook ran');
    expect(await p.waitExit()).toEqual({ code: 0, signal: null });
  });

  it('on stdin EOF, fails pending ctx.call so the handler can answer, then exits 0', async () => {
    const p = kitchen();
    p.send({ jsonrpc: '2.0', id: 'c3', method: 'callOther', params: { plugin: 'other', method: 'm' } });
    await p.waitFor((m) => m.method === 'warden.call', 'warden.call');
    p.child.stdin.end();
    expect(await p.waitExit()).toEqual({ code: 0, signal: null });
    expect(p.messages.find((m) => m.id === 'c3')?.result.failed).toMatchObject({ isPluginError: true, message: expect.stringMatching(/stdin closed/) });
  });
});

describe('loader for plugins outside the package', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'warden-sdk-'));
    writeFileSync(
      join(dir, 'index.mjs'),
      `import { definePlugin, PluginError } from 'warden/sdk';
import * as again from 'warden';
definePlugin({ methods: { same: () => again.definePlugin === definePlugin, boom: () => { throw new PluginError('boom', 7); } } });
`,
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('sdkLoaderArgs returns [] where warden/sdk resolves by itself (plugins in this repo)', () => {
    expect(sdkLoaderArgs(ECHO_DIR)).toEqual([]);
    expect(sdkLoaderArgs(KITCHEN_DIR)).toEqual([]);
  });

  it('sdkLoaderArgs returns --import register.js elsewhere', () => {
    expect(sdkLoaderArgs(dir)).toEqual(['--import', SDK_REGISTER_URL]);
    expect(SDK_REGISTER_URL).toBe(pathToFileURL(join(ROOT, 'dist/sdk/register.js')).href);
  });

  it('runs a plugin in a temp dir importing warden/sdk (and warden) with those args', async () => {
    const p = PluginProcess.node('index.mjs', dir, sdkLoaderArgs(dir));
    expect(await p.initialize()).toEqual({ methods: ['same', 'boom'] });
    expect(await p.call('same')).toBe(true);
    expect((await p.request('boom')).error).toMatchObject({ code: 7, message: 'boom' });
    p.child.stdin.end();
    expect((await p.waitExit()).code).toBe(0);
  });

  it('the same plugin cannot start without them', async () => {
    const p = PluginProcess.node('index.mjs', dir);
    expect((await p.waitExit()).code).not.toBe(0);
    expect(p.stderr).toMatch(/ERR_MODULE_NOT_FOUND|Cannot find package 'warden'/);
  });
});
