import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonError } from '../../src/control/client.js';
import { bootDaemon, FAST_DEFAULTS, type PluginSpec, type Sandbox, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

let sandbox: Sandbox;
let daemon: TestDaemon;

async function boot(plugins: Record<string, PluginSpec>, config: Record<string, unknown> = {}) {
  ({ sandbox, daemon } = await bootDaemon(config, plugins));
}

const plugin = (manifest: Record<string, unknown> = {}): PluginSpec => ({ manifest });

afterEach(async () => {
  await daemon?.cleanup();
  sandbox?.remove();
});

describe('dependencies', () => {
  it('starts dependencies first, waits for a missing or out-of-range one, and starts once it appears', async () => {
    await boot({
      base: plugin({ version: '1.4.0' }),
      mid: plugin({ dependencies: { base: '^1.0.0' } }),
      top: plugin({ dependencies: { mid: '^1.0.0' } }),
      picky: plugin({ dependencies: { base: '^2.0.0' } }),
      orphan: plugin({ dependencies: { ghost: '^1.0.0' } }),
    });
    const top = await daemon.waitForState('top', 'running');
    const mid = await daemon.status('mid');
    const base = await daemon.status('base');
    expect(Date.parse(base.startedAt!)).toBeLessThanOrEqual(Date.parse(mid.startedAt!));
    expect(Date.parse(mid.startedAt!)).toBeLessThanOrEqual(Date.parse(top.startedAt!));
    expect(await daemon.status('picky')).toMatchObject({
      state: 'waiting',
      reason: 'waiting for base ^2.0.0: installed version 1.4.0 is outside the range',
    });
    expect(await daemon.status('orphan')).toMatchObject({ state: 'waiting', reason: 'waiting for ghost: not installed' });
  });

  it('starts a waiting plugin when its dependency appears, keeps it running through a reload of the dependency, and stops it first', async () => {
    await boot({ user: plugin({ dependencies: { base: '^1.0.0' } }) }, { hotReload: { enabled: true, debounceMs: 100 } });
    expect(await daemon.waitForState('user', 'waiting')).toMatchObject({ reason: 'waiting for base: not installed' });
    sandbox.addPlugin('base');
    const user = await daemon.waitForState('user', 'running');

    const base = await daemon.status('base');
    writeFileSync(join(sandbox.pluginsDir, 'base/plugin.json'), JSON.stringify({ name: 'base', version: '1.0.1', main: 'index.js' }));
    await waitFor('base 1.0.1 to serve', async () => {
      const status = await daemon.status('base');
      return status.version === '1.0.1' && status.pid !== base.pid;
    });
    expect(await daemon.status('user')).toMatchObject({ state: 'running', pid: user.pid });

    await daemon.stop('SIGTERM');
    const stops = readFileSync(join(sandbox.dir, 'var/logs/warden.log'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { plugin?: string; msg: string })
      .filter((entry) => entry.msg.startsWith('stopped ('))
      .map((entry) => entry.plugin);
    expect(stops.indexOf('user')).toBeLessThan(stops.lastIndexOf('base'));
  });

  it('spells out a dependency cycle and marks its members invalid', async () => {
    await boot({ a: plugin({ dependencies: { b: '*' } }), b: plugin({ dependencies: { a: '*' } }), free: plugin() });
    await daemon.waitForState('free', 'running');
    expect(await daemon.status('a')).toMatchObject({ state: 'invalid', reason: 'dependency cycle: a -> b -> a' });
    expect(await daemon.status('b')).toMatchObject({ state: 'invalid', reason: 'dependency cycle: a -> b -> a' });
  });

  it('sends dependents to waiting when a dependency stops, and back when it returns', async () => {
    await boot({ base: plugin(), user: plugin({ dependencies: { base: '^1.0.0' } }) });
    await daemon.waitForState('user', 'running');
    await daemon.request('plugin.stop', { name: 'base' });
    expect(await daemon.waitForState('user', 'waiting')).toMatchObject({ reason: 'waiting for base: it is stopped' });
    await daemon.request('plugin.start', { name: 'base' });
    await daemon.waitForState('user', 'running');
  });

  it('lets a plugin call only its dependencies', async () => {
    await boot({ base: plugin(), user: plugin({ dependencies: { base: '^1.0.0' } }), other: plugin() });
    await daemon.waitForState('user', 'running');
    await daemon.waitForState('other', 'running');
    expect(await daemon.call('user', 'callDependency', { plugin: 'base', method: 'echo', params: 'via warden' })).toBe('via warden');
    const denied = await daemon.call('user', 'callDependency', { plugin: 'other', method: 'echo', params: 1 }).catch((e) => e);
    expect(denied).toBeInstanceOf(DaemonError);
    expect((denied as DaemonError).message).toMatch(/may call only the plugins in its dependencies; other is not one of them/);
  });
});

describe('events', () => {
  it('fans out to subscribers by exact topic and wildcard, and drops an undeclared emit', async () => {
    await boot({
      source: plugin({ emits: ['item.fetched'] }),
      exact: plugin({ subscribes: ['item.fetched'] }),
      wild: plugin({ subscribes: ['item.*'] }),
      deaf: plugin({ subscribes: ['other.*'] }),
    });
    for (const name of ['source', 'exact', 'wild', 'deaf']) await daemon.waitForState(name, 'running');
    await daemon.call('source', 'emit', { topic: 'item.fetched', data: { id: 1 } });
    await daemon.call('source', 'emit', { topic: 'item.secret', data: { id: 2 } });
    const event = { topic: 'item.fetched', data: { id: 1 }, source: 'source' };
    await waitFor('both subscribers to get the event', async () =>
      JSON.stringify(await daemon.call('exact', 'received')) === JSON.stringify([event]) &&
      JSON.stringify(await daemon.call('wild', 'received')) === JSON.stringify([event]),
    );
    expect(await daemon.call('deaf', 'received')).toEqual([]);
    const { entries } = await daemon.request<{ entries: Array<{ msg: string }> }>('logs.tail', { level: 'warn' });
    expect(entries.some((e) => e.msg.includes('event item.secret from source dropped'))).toBe(true);
    expect(await daemon.request('events.publish', { topic: 'item.fetched', data: 'op' })).toEqual({ delivered: 2 });
  });

  it('keeps delivering to others while a stalled subscriber overflows its bounded queue', async () => {
    await boot(
      { stalled: plugin({ subscribes: ['tick'] }), lively: plugin({ subscribes: ['tick'] }) },
      { defaults: { ...FAST_DEFAULTS, health: { intervalMs: 60_000, timeoutMs: 30_000 }, callTimeoutMs: 30_000 } },
    );
    await daemon.waitForState('stalled', 'running');
    await daemon.waitForState('lively', 'running');
    const frozen = daemon.call('stalled', 'freeze', { ms: 5000 });
    const client = await daemon.client();
    const padding = 'x'.repeat(500);
    // In batches below the queue bound, so only the subscriber that stopped reading falls behind.
    for (let batch = 0; batch < 4; batch++) {
      await Promise.all(Array.from({ length: 500 }, (_, i) => client.request('events.publish', { topic: 'tick', data: { i, padding } })));
      const expected = (batch + 1) * 500;
      await waitFor(`the lively subscriber to get ${expected} events`, async () => (await daemon.call<number>('lively', 'receivedCount')) === expected);
    }
    const stalled = await daemon.request<{ events: { dropped: number; queued: number } }>('plugin.get', { name: 'stalled' });
    expect(stalled.events.dropped).toBeGreaterThan(0);
    expect(stalled.events.queued).toBeLessThanOrEqual(1000);
    await frozen;
  });
});

describe('schedules', () => {
  it('runs a per-second schedule, skips overlapping runs, and shows them in plugin.get', async () => {
    await boot({
      ticker: plugin({ schedules: [{ cron: '* * * * * *', method: 'count' }, { cron: '* * * * * *', method: 'sleep', params: { ms: 2500 } }] }),
    });
    await daemon.waitForState('ticker', 'running');
    const details = await waitFor('two runs and a skipped overlap', async () => {
      const d = await daemon.request<{ schedules: Array<{ runs: number; skippedOverlap: number; lastRun: { ok: boolean } | null; nextRun: string }> }>('plugin.get', { name: 'ticker' });
      return d.schedules[0]!.runs >= 2 && d.schedules[1]!.skippedOverlap >= 1 ? d : undefined;
    });
    expect(details.schedules[0]!.lastRun).toMatchObject({ ok: true });
    expect(Date.parse(details.schedules[0]!.nextRun)).toBeGreaterThan(Date.now() - 1000);
    expect(await daemon.call<number>('ticker', 'count')).toBeGreaterThanOrEqual(3);
  });
});

describe('config reload', () => {
  it('reloads only the plugins whose settings changed, blue/green, keeping their state', async () => {
    await boot({ changed: plugin(), untouched: plugin() });
    const before = await daemon.waitForState('changed', 'running');
    const untouched = await daemon.waitForState('untouched', 'running');
    await daemon.call('changed', 'count');
    await daemon.call('changed', 'count');
    sandbox.writeConfig({ defaults: FAST_DEFAULTS, plugins: { changed: { config: { flavour: 'new' } } } });
    expect(await daemon.request('daemon.reload')).toEqual({ ok: true });
    const after = await daemon.status('changed');
    expect(after.pid).not.toBe(before.pid);
    expect(await daemon.call('changed', 'count')).toBe(3);
    expect((await daemon.status('untouched')).pid).toBe(untouched.pid);
  });
});
