import { cpSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LEGACY, PROBE, Tracker, cmdline } from './helpers.js';

const tracker = new Tracker();
afterEach(() => tracker.cleanup());

// The node permission model is a second layer inside the wall; here it is tested alone, on a host without bwrap.
const start: Tracker['start'] = (options = {}) => tracker.start({ capabilities: LEGACY, ...options });

const denied = { ok: false, code: 'ERR_ACCESS_DENIED' };

describe.skipIf(!LEGACY.nodePermission)('node permission model (main plugins)', () => {
  it('denies /etc/shadow and files outside the folder, allows its own folder and declared reads', async () => {
    const outside = tracker.tempDir();
    writeFileSync(join(outside, 'secret.txt'), 'secret');
    const data = tracker.tempDir();
    mkdirSync(join(data, 'deep'));
    writeFileSync(join(data, 'deep', 'item.txt'), 'data');
    const { call, plan } = await start({ declared: { fs: { read: [data], write: [] } } });
    expect(plan.enforcement.fs).toBe('node-permission');
    expect(await call('read', { path: '/etc/shadow' })).toEqual(denied);
    expect(await call('read', { path: join(outside, 'secret.txt') })).toEqual(denied);
    expect(await call('read', { path: join(PROBE, 'plugin.json') })).toMatchObject({ ok: true });
    // A declared folder grants its whole subtree.
    expect(await call('read', { path: join(data, 'deep', 'item.txt') })).toEqual({ ok: true, value: 4 });
  });

  it('writes only under declared fs.write, including a folder made after start', async () => {
    const out = tracker.tempDir();
    const later = join(tracker.tempDir(), 'made-later');
    const elsewhere = tracker.tempDir();
    const { call } = await start({ declared: { fs: { read: [], write: [out, later] } } });
    expect(await call('write', { path: join(out, 'result.txt') })).toMatchObject({ ok: true });
    expect(existsSync(join(out, 'result.txt'))).toBe(true);
    expect(await call('write', { path: join(elsewhere, 'x.txt') })).toEqual(denied);
    expect(await call('write', { path: join(PROBE, 'x.txt') })).toEqual(denied); // its own folder is read-only
    mkdirSync(later);
    expect(await call('write', { path: join(later, 'y.txt') })).toMatchObject({ ok: true });
  });

  it('resolves relative manifest paths against the plugin folder and lets the operator override them', async () => {
    const dir = tracker.tempDir();
    cpSync(PROBE, dir, { recursive: true });
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'a.txt'), 'a');
    const extra = tracker.tempDir();
    writeFileSync(join(extra, 'b.txt'), 'bb');
    const { call } = await start({
      dir,
      declared: { fs: { read: ['./data'], write: ['./data'] } },
      override: { fs: { read: [extra] } }, // read widened to another folder; write stays as declared
    });
    expect(await call('read', { path: join(extra, 'b.txt') })).toEqual({ ok: true, value: 2 });
    expect(await call('write', { path: join(dir, 'data', 'c.txt') })).toMatchObject({ ok: true });
  });

  it('denies child processes and workers unless childProcess is declared', async () => {
    const strict = await start();
    expect(strict.plan.enforcement.childProcess).toBe('node-permission');
    expect(await strict.call('spawn')).toEqual(denied);
    expect(await strict.call('worker')).toEqual(denied);
    const allowed = await start({ declared: { childProcess: true } });
    expect(allowed.plan.enforcement.childProcess).toBe('allowed');
    expect(await allowed.call('spawn')).toEqual({ ok: true, value: 0 });
    expect(await allowed.call('worker')).toMatchObject({ ok: true });
  });

  it('runs a plugin outside the package through the SDK loader hook without the wall, still contained', async () => {
    const dir = tracker.tempDir();
    cpSync(PROBE, dir, { recursive: true });
    const { call, plan } = await start({ dir });
    expect(plan.launch.args).toContain('--import');
    expect(await call('execArgv')).toContain('--import');
    // The hook's worker needs --allow-worker, but workers inherit every denial.
    expect(await call('read', { path: '/etc/shadow' })).toEqual(denied);
    expect(await call('spawn')).toEqual(denied);
    expect(await call('read', { path: join(dir, 'plugin.json') })).toMatchObject({ ok: true });
  });

  it('runs a plugin whose folder is a symlink (the loader reads main by its real path)', async () => {
    const real = tracker.tempDir();
    cpSync(PROBE, real, { recursive: true });
    const link = join(tracker.tempDir(), 'probe-link');
    symlinkSync(real, link);
    const { call } = await start({ dir: link });
    expect(await call('read', { path: join(link, 'plugin.json') })).toMatchObject({ ok: true });
    expect(await call('read', { path: '/etc/shadow' })).toEqual(denied);
  });
});

describe('launch details', () => {
  it('gives main plugins the V8 heap limit and keeps the spawned pid for the plugin itself', async () => {
    const { host, call, plan } = await start({ limits: { memoryMb: 96 } });
    expect(await call('execArgv')).toContain('--max-old-space-size=96');
    expect(plan.enforcement.memoryMb).toBe('rlimit+sampling+v8-heap');
    // Every wrapper exec'd: the pid the host watches runs node with the plugin's main.
    const argv = cmdline(host.pid!);
    expect(argv[0]).toBe(process.execPath);
    expect(argv.at(-1)).toBe(join(PROBE, 'index.js'));
  });
});
