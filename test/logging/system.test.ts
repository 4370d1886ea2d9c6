import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogSystem, type LogSystem, type LogSystemOptions } from '../../src/logging/index.js';
import { readLines, tempDir } from './helpers.js';

const systems: LogSystem[] = [];
function make(options: Partial<LogSystemOptions> = {}): LogSystem {
  const system = createLogSystem({ level: 'info', dir: null, maxBytes: 1024 * 1024, keep: 2, ...options });
  systems.push(system);
  return system;
}

afterEach(async () => {
  vi.restoreAllMocks();
  for (const system of systems.splice(0)) await system.close();
});

describe('createLogSystem', () => {
  it('records daemon and plugin entries with their fields', () => {
    const logs = make();
    logs.logger.info({ a: 1 }, 'daemon up');
    logs.pluginLogger('echo', { pid: 123, restarts: 2 }).warn({ b: 'x' }, 'from echo');

    const [daemon, plugin] = logs.tail({});
    expect(daemon).toEqual({ level: 'info', time: expect.any(String), a: 1, msg: 'daemon up' });
    expect(new Date(daemon!.time).toISOString()).toBe(daemon!.time);
    expect(daemon).not.toHaveProperty('pid');
    expect(daemon).not.toHaveProperty('hostname');
    expect(plugin).toEqual({ level: 'warn', time: expect.any(String), plugin: 'echo', pid: 123, restarts: 2, b: 'x', msg: 'from echo' });
  });

  it('gives entries without a message an empty msg', () => {
    const logs = make();
    logs.logger.info({ k: 1 });
    expect(logs.tail({})[0]).toMatchObject({ msg: '', k: 1 });
  });

  it('filters by the recorded level, and setLevel reaches existing plugin loggers', () => {
    const logs = make({ level: 'info' });
    const plugin = logs.pluginLogger('p', { pid: null, restarts: 0 });
    logs.logger.debug('dropped');
    plugin.debug('dropped too');
    logs.setLevel('debug');
    logs.logger.debug('kept');
    plugin.debug('kept too');
    logs.setLevel('error');
    plugin.warn('dropped again');
    expect(logs.tail({}).map((e) => e.msg)).toEqual(['kept', 'kept too']);
    expect(logs.tail({})[1]).toMatchObject({ level: 'debug', plugin: 'p', pid: null });
  });

  it('filters tail by level and lines, newest last', () => {
    const logs = make({ level: 'trace' });
    const log = logs.logger;
    log.trace('t');
    log.info('i1');
    log.error('e1');
    log.warn('w1');
    log.info('i2');
    log.fatal('f1');
    expect(logs.tail({ level: 'warn' }).map((e) => e.msg)).toEqual(['e1', 'w1', 'f1']);
    expect(logs.tail({ level: 'warn', lines: 2 }).map((e) => e.msg)).toEqual(['w1', 'f1']);
    expect(logs.tail({ lines: 3 }).map((e) => e.msg)).toEqual(['w1', 'i2', 'f1']);
    expect(logs.tail({ lines: 0 })).toEqual([]);
  });

  it('defaults tail to 100 lines', () => {
    const logs = make();
    for (let i = 0; i < 150; i++) logs.logger.info({ i }, 'n');
    const entries = logs.tail({});
    expect(entries).toHaveLength(100);
    expect(entries[0]!.i).toBe(50);
    expect(entries[99]!.i).toBe(149);
  });

  it('keeps a ring per plugin beside the global one, and forget drops it', () => {
    const logs = make();
    const a = logs.pluginLogger('a', { pid: 1, restarts: 0 });
    const b = logs.pluginLogger('b', { pid: 2, restarts: 0 });
    a.info('a1');
    logs.logger.info('d1');
    b.info('b1');
    a.info('a2');
    logs.logger.warn({ plugin: 'a' }, 'a crashed'); // daemon entries about a plugin show in its ring
    expect(logs.tail({ name: 'a' }).map((e) => e.msg)).toEqual(['a1', 'a2', 'a crashed']);
    expect(logs.tail({ name: 'b' }).map((e) => e.msg)).toEqual(['b1']);
    expect(logs.tail({ name: 'nobody' })).toEqual([]);
    expect(logs.tail({}).map((e) => e.msg)).toEqual(['a1', 'd1', 'b1', 'a2', 'a crashed']);
    logs.forget('a');
    expect(logs.tail({ name: 'a' })).toEqual([]);
    expect(logs.tail({})).toHaveLength(5);
  });

  it('bounds the rings', () => {
    const logs = make({ ringSize: 10 });
    const noisy = logs.pluginLogger('noisy', { pid: 1, restarts: 0 });
    for (let i = 0; i < 50; i++) noisy.info({ i }, 'spam');
    logs.logger.info('daemon');
    const plugin = logs.tail({ name: 'noisy', lines: 1000 });
    expect(plugin).toHaveLength(10);
    expect(plugin.map((e) => e.i)).toEqual([40, 41, 42, 43, 44, 45, 46, 47, 48, 49]);
    expect(logs.tail({ lines: 1000 })).toHaveLength(51); // the global ring keeps 5000
  });

  it('truncates a huge msg in memory but writes it whole to the file', async () => {
    const dir = tempDir();
    const logs = make({ dir });
    const huge = 'x'.repeat(200 * 1024);
    logs.pluginLogger('p', { pid: 1, restarts: 0 }).info(huge);
    const [entry] = logs.tail({ name: 'p' });
    expect(entry!.msg).toHaveLength(64 * 1024);
    expect(entry!.truncated).toBe(true);
    await logs.close();
    expect(JSON.parse(readLines(path.join(dir, 'warden.log'))[0]!).msg).toBe(huge);
  });

  it('does not let fields overwrite level, time or a plugin identity', () => {
    const logs = make();
    logs.pluginLogger('honest', { pid: 7, restarts: 1 }).info({ level: 'fatal', time: 'then', plugin: 'other', pid: 1, restarts: 9 }, 'sneaky');
    logs.logger.info({ level: 'fatal', plugin: 'x', pid: 5 }, 'daemon');
    const [plugin, daemon] = logs.tail({});
    expect(plugin).toMatchObject({ level: 'info', plugin: 'honest', pid: 7, restarts: 1, _level: 'fatal', _time: 'then', _plugin: 'other', _pid: 1, _restarts: 9 });
    expect(plugin!.time).not.toBe('then');
    expect(daemon).toMatchObject({ level: 'info', _level: 'fatal', plugin: 'x', pid: 5 });
    expect(logs.tail({ name: 'other' })).toEqual([]);
  });

  it('streams new entries to followers until they unsubscribe', () => {
    const logs = make({ level: 'debug' });
    logs.logger.info('before');
    const all: string[] = [];
    const echoWarn: string[] = [];
    const stopAll = logs.follow({}, (e) => all.push(e.msg));
    const stopEcho = logs.follow({ name: 'echo', level: 'warn' }, (e) => echoWarn.push(e.msg));
    const echo = logs.pluginLogger('echo', { pid: 1, restarts: 0 });
    echo.info('echo info');
    echo.error('echo error');
    logs.logger.warn('daemon warn');
    stopAll();
    stopEcho();
    echo.fatal('after');
    expect(all).toEqual(['echo info', 'echo error', 'daemon warn']);
    expect(echoWarn).toEqual(['echo error']);
  });

  it('drops a throwing follower and keeps logging', () => {
    const logs = make();
    const good: string[] = [];
    let calls = 0;
    logs.follow({}, () => {
      calls++;
      throw new Error('subscriber bug');
    });
    logs.follow({}, (e) => good.push(e.msg));
    expect(() => logs.logger.info('one')).not.toThrow();
    logs.logger.info('two');
    expect(calls).toBe(1);
    expect(good).toEqual(['one', 'log follower threw; unsubscribed', 'two']);
    expect(logs.tail({}).map((e) => e.msg)).toEqual(['one', 'log follower threw; unsubscribed', 'two']);
  });

  it('mirrors lines to stdout only when asked', () => {
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    make().logger.info('quiet');
    make({ stdout: true }).logger.info('loud');
    vi.restoreAllMocks();
    expect(written).toHaveLength(1);
    expect(JSON.parse(written[0]!)).toMatchObject({ level: 'info', msg: 'loud' });
  });

  it('drops stdout lines behind a slow reader instead of queueing them, then says how many, once', async () => {
    // A reader that takes nothing until told to: what Node cannot pass on waits in writableLength.
    const received: string[] = [];
    const waiting: Array<() => void> = [];
    let reading = false;
    const slow = new Writable({
      write(chunk: Buffer, _encoding, done) {
        received.push(String(chunk));
        if (reading) done();
        else waiting.push(done);
      },
    });
    const handed = vi.spyOn(slow, 'write'); // every line given to the stream, taken or queued
    const lines = () => handed.mock.calls.map((call) => String(call[0]));
    const logs = make({ stdout: true, stdoutStream: slow });
    const line = 'x'.repeat(1000);
    let maxQueued = 0;
    for (let i = 0; i < 5000; i++) {
      logs.logger.info({ i }, line);
      maxQueued = Math.max(maxQueued, slow.writableLength);
    }
    expect(maxQueued).toBeLessThan(1024 * 1024 + 2048); // ~5 MB without the bound
    const passed = lines().length;
    expect(passed).toBeLessThan(1100);
    expect(logs.tail({ lines: 5000 })).toHaveLength(5000); // the rings and the file lose nothing

    // Take only part of the queue: the next line that fits brings the summary first.
    while (slow.writableLength > 512 * 1024) waiting.shift()!();
    logs.logger.info('fits again');
    const summary = JSON.parse(lines().at(-2)!);
    expect(summary).toEqual({
      level: 'warn',
      time: expect.any(String),
      droppedLines: 5000 - passed,
      msg: `log output to stdout dropped ${5000 - passed} lines (the reader is slower than the logs)`,
    });
    expect(JSON.parse(lines().at(-1)!)).toMatchObject({ msg: 'fits again' });

    // Full again, then drained: the summary goes out on 'drain', with nothing more logged.
    for (let i = 0; i < 1000; i++) logs.logger.info({ i }, line);
    reading = true;
    const drained = new Promise((resolve) => slow.once('drain', resolve));
    for (const done of waiting.splice(0)) done();
    await drained;
    await new Promise((resolve) => setImmediate(resolve));
    expect(JSON.parse(received.at(-1)!)).toMatchObject({ level: 'warn', droppedLines: expect.any(Number) });
    expect(received).toEqual(lines()); // everything handed over got through, in order
    expect(received.filter((r) => r.includes('log output to stdout dropped'))).toHaveLength(2);
  });

  it('close() flushes everything written to warden.log', async () => {
    const dir = path.join(tempDir(), 'nested', 'logs');
    const logs = make({ dir });
    for (let i = 0; i < 500; i++) logs.logger.info({ i }, 'line');
    await logs.close();
    const lines = readLines(path.join(dir, 'warden.log'));
    expect(lines).toHaveLength(500);
    expect(lines.map((l) => JSON.parse(l).i)).toEqual([...Array(500).keys()]);
  });

  it('survives an unusable log dir: one stderr line, rings still served', async () => {
    const root = tempDir();
    fs.writeFileSync(path.join(root, 'not-a-dir'), '');
    const errors: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      errors.push(String(chunk));
      return true;
    });
    let logs: LogSystem | undefined;
    expect(() => {
      logs = make({ dir: path.join(root, 'not-a-dir', 'logs') });
      for (let i = 0; i < 20; i++) logs.logger.error({ i }, 'still here');
    }).not.toThrow();
    await logs!.close();
    vi.restoreAllMocks();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('not-a-dir');
    expect(logs!.tail({})).toHaveLength(20);
  });
});
