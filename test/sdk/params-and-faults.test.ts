// What a method receives when a request has no params, and how an error marked as the caller's fault
// travels: real plugin processes, spoken to over stdio as the daemon does.
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, PluginError } from '../../src/sdk/index.js';
import { ensureSdkBuilt, killAll, PluginProcess, ROOT } from './helpers.js';

const FAULTS_DIR = join(ROOT, 'test/sdk/fixtures/faults');
const faults = (): PluginProcess => PluginProcess.node('index.js', FAULTS_DIR);

beforeAll(() => ensureSdkBuilt(), 120_000);
afterEach(killAll);

describe('a request without params', () => {
  it('hands the method {} when params are absent or null, and structured params unchanged', async () => {
    const p = faults();
    expect(await p.call('params')).toEqual({ params: {} });
    expect(await p.call('params', null)).toEqual({ params: {} });
    expect(await p.call('params', [])).toEqual({ params: [] });
    expect(await p.call('params', [1, 'two'])).toEqual({ params: [1, 'two'] });
    expect(await p.call('params', { a: 1 })).toEqual({ params: { a: 1 } });
  });

  it('lets a method destructure its params with defaults (the README pattern) when there are none', async () => {
    const p = faults();
    expect(await p.call('greet', null)).toBe('Hello, world!');
    expect(await p.call('greet')).toBe('Hello, world!');
    expect(await p.call('greet', { name: 'warden' })).toBe('Hello, warden!');
    const echo = PluginProcess.node('index.js', join(ROOT, 'plugins/echo'));
    expect(await echo.call('sleep', null)).toEqual({ slept: 0 });
  });
});

describe("an error marked as the caller's fault", () => {
  it('is a PluginError with callerFault, code and data from the options', () => {
    const marked = new PluginError('bad input', { callerFault: true, data: { field: 'text' } });
    expect(marked).toMatchObject({ name: 'PluginError', message: 'bad input', code: ErrorCodes.PLUGIN_ERROR, callerFault: true, data: { field: 'text' } });
    expect(new PluginError('bad', { code: 4001 })).toMatchObject({ code: 4001, callerFault: false, data: undefined });
    expect(new PluginError('old style', 1001, { x: 1 })).toMatchObject({ code: 1001, callerFault: false, data: { x: 1 } });
    expect(new PluginError('no code')).toMatchObject({ code: ErrorCodes.PLUGIN_ERROR, callerFault: false });
  });

  it('carries data.callerFault: true on the wire, beside the user data (an object merged, anything else under value)', async () => {
    const p = faults();
    const stack = expect.stringMatching(/^PluginError: bad input\n\s+at /);
    const withObject = await p.request('callerFault', { data: { field: 'text', why: 'missing' } });
    expect(withObject.error).toEqual({ code: -32000, message: 'bad input', data: { field: 'text', why: 'missing', callerFault: true, stack } });
    const withScalar = await p.request('callerFault', { data: 'text', code: 4001 });
    expect(withScalar.error).toEqual({ code: 4001, message: 'bad input', data: { value: 'text', callerFault: true, stack } });
    const withArray = await p.request('callerFault', { data: [1, 2] });
    expect(withArray.error.data).toEqual({ value: [1, 2], callerFault: true, stack });
    const without = await p.request('callerFault', {});
    expect(without.error.data).toEqual({ callerFault: true, stack });
    const overridden = await p.request('callerFault', { data: { callerFault: 'no' } });
    expect(overridden.error.data.callerFault).toBe(true); // the option decides, not a user field of the same name
  });

  it('is absent from the wire for a plain Error, a PluginError without the option, or with callerFault: false', async () => {
    const p = faults();
    const plain = await p.request('plain');
    expect(plain.error.code).toBe(-32000);
    expect(plain.error.data).not.toHaveProperty('callerFault');
    const old = await p.request('pluginFault');
    expect(old.error).toMatchObject({ code: 1002, message: 'not the caller', data: { detail: 1 } });
    expect(old.error.data).not.toHaveProperty('callerFault');
    for (const callerFault of [false, undefined]) {
      const mine = await p.request('notCallerFault', { callerFault });
      expect(mine.error).toMatchObject({ code: 1003, data: { note: 'x' } });
      expect(mine.error.data).not.toHaveProperty('callerFault');
    }
  });

  it("rejects ctx.call with callerFault set when the callee's error says so", async () => {
    const p = faults();
    const answer = p.request('callOther', { plugin: 'other', method: 'm', params: {} });
    const call = await p.waitFor((m) => m.method === 'warden.call', 'the warden.call request');
    p.send({ jsonrpc: '2.0', id: call.id, error: { code: -32000, message: 'bad input', data: { callerFault: true, field: 'text' } } });
    expect((await answer).result).toEqual({ isPluginError: true, code: -32000, callerFault: true, data: { callerFault: true, field: 'text' } });

    const second = p.request('callOther', { plugin: 'other', method: 'm', params: {} });
    const call2 = await p.waitFor((m) => m.method === 'warden.call' && m.id !== call.id, 'the second warden.call request');
    p.send({ jsonrpc: '2.0', id: call2.id, error: { code: 1001, message: 'boom', data: { stack: 'x' } } });
    expect((await second).result).toMatchObject({ isPluginError: true, code: 1001, callerFault: false });
  });
});
