import { afterEach, describe, expect, it } from 'vitest';
import { getTasks } from 'node-cron';
import { PluginSchedules, type PluginScheduleOptions, type ScheduleSpec } from '../../src/schedules/scheduler.js';
import { waitFor } from '../helpers/wait.js';

const EVERY_SECOND = '* * * * * *';

const created: PluginSchedules[] = [];
/** Releases calls a test left hanging, so nothing outlives the test. */
const pending: (() => void)[] = [];

afterEach(() => {
  for (const s of created.splice(0)) s.stop();
  for (const release of pending.splice(0)) release();
});

interface Harness {
  schedules: PluginSchedules;
  calls: { method: string; params: unknown; at: number }[];
  skips: { schedule: number; why: string }[];
  errors: { schedule: number; message: string }[];
  running: { value: boolean };
}

function harness(
  specs: ScheduleSpec[],
  call: PluginScheduleOptions['call'] = async () => 'ok',
  running = true,
): Harness {
  const h: Omit<Harness, 'schedules'> = { calls: [], skips: [], errors: [], running: { value: running } };
  const schedules = new PluginSchedules({
    plugin: 'demo',
    schedules: specs,
    call: (method, params) => {
      h.calls.push({ method, params, at: Date.now() });
      return call(method, params);
    },
    isRunning: () => h.running.value,
    onSkip: (schedule, why) => h.skips.push({ schedule, why }),
    onError: (schedule, error) => h.errors.push({ schedule, message: error.message }),
  });
  created.push(schedules);
  return { ...h, schedules };
}

/** A call that stays in flight until `ms` pass or the test ends. */
function slowCall(ms: number): () => Promise<unknown> {
  return () =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      pending.push(() => {
        clearTimeout(timer);
        resolve(undefined);
      });
    });
}

describe('PluginSchedules', () => {
  it('fires a per-second schedule with its method and params', async () => {
    const h = harness([{ cron: EVERY_SECOND, method: 'poll', params: { feed: 1 } }]);
    h.schedules.start();
    await waitFor('2 runs', () => h.schedules.status()[0]!.runs >= 2, { timeoutMs: 2_600 });
    expect(h.calls[0]).toMatchObject({ method: 'poll', params: { feed: 1 } });
    await waitFor('lastRun', () => h.schedules.status()[0]!.lastRun, { timeoutMs: 500 });
    const [s] = h.schedules.status();
    expect(s!.lastRun).toMatchObject({ ok: true });
    expect(s!.failures).toBe(0);
  });

  it('skips and counts a run while the previous one is still in flight', async () => {
    const h = harness([{ cron: EVERY_SECOND, method: 'slow', params: null }], slowCall(2_500));
    h.schedules.start();
    await waitFor('2 overlap skips', () => h.schedules.status()[0]!.skippedOverlap >= 2, { timeoutMs: 3_800 });
    const [s] = h.schedules.status();
    expect(s!.runs).toBe(1);
    expect(h.calls).toHaveLength(1);
    expect(s!.lastRun).toBeNull(); // still in flight
    expect(h.skips.filter((k) => k.why === 'overlap').length).toBe(s!.skippedOverlap);
  });

  it('skips while the plugin is not running and resumes when it is', async () => {
    const h = harness([{ cron: EVERY_SECOND, method: 'poll', params: {} }], undefined, false);
    h.schedules.start();
    await waitFor('a not-running skip', () => h.schedules.status()[0]!.skippedNotRunning >= 1, { timeoutMs: 1_600 });
    expect(h.calls).toHaveLength(0);
    expect(h.skips[0]).toEqual({ schedule: 0, why: 'not-running' });
    h.running.value = true;
    await waitFor('a run after resuming', () => h.schedules.status()[0]!.runs >= 1, { timeoutMs: 1_600 });
    expect(h.calls.length).toBeGreaterThanOrEqual(1);
  });

  it('records a failing call as lastRun.ok=false with the message and counts failures', async () => {
    const h = harness([{ cron: EVERY_SECOND, method: 'boom', params: {} }], () =>
      Promise.reject(new Error('call timed out after 50ms')),
    );
    h.schedules.start();
    await waitFor('a failure', () => h.schedules.status()[0]!.failures >= 1, { timeoutMs: 1_600 });
    const [s] = h.schedules.status();
    expect(s!.lastRun).toMatchObject({ ok: false, error: 'call timed out after 50ms' });
    expect(typeof s!.lastRun!.durationMs).toBe('number');
    expect(Number.isNaN(Date.parse(s!.lastRun!.time))).toBe(false);
    expect(h.errors[0]).toEqual({ schedule: 0, message: 'call timed out after 50ms' });
  });

  it('keeps two schedules independent', async () => {
    // Schedule 0 is stuck in flight; schedule 1 keeps running beside it.
    const h = harness(
      [
        { cron: EVERY_SECOND, method: 'slow', params: {} },
        { cron: EVERY_SECOND, method: 'fast', params: {} },
      ],
      (method) => (method === 'slow' ? slowCall(5_000)() : Promise.resolve('ok')),
    );
    h.schedules.start();
    await waitFor('2 fast runs', () => h.schedules.status()[1]!.runs >= 2, { timeoutMs: 2_600 });
    const [slow, fast] = h.schedules.status();
    expect(slow!.runs).toBe(1);
    expect(slow!.skippedOverlap).toBeGreaterThanOrEqual(1);
    expect(fast!.skippedOverlap).toBe(0);
    expect(fast!.lastRun).toMatchObject({ ok: true });
    expect(h.skips.every((k) => k.schedule === 0)).toBe(true);
  });

  it('stop() stops runs, clears nextRun and leaves no task in node-cron', async () => {
    const before = getTasks().size;
    const h = harness([{ cron: EVERY_SECOND, method: 'poll', params: {} }]);
    h.schedules.start();
    expect(getTasks().size).toBe(before + 1);
    await waitFor('a run', () => h.schedules.status()[0]!.runs >= 1, { timeoutMs: 1_600 });
    h.schedules.stop();
    const runs = h.schedules.status()[0]!.runs;
    expect(h.schedules.status()[0]!.nextRun).toBeNull();
    expect(getTasks().size).toBe(before);
    // Past at least one more tick boundary: nothing fired.
    const until = Date.now() + 1_200;
    await waitFor('the tick window to pass', () => Date.now() >= until, { timeoutMs: 2_000 });
    expect(h.schedules.status()[0]!.runs).toBe(runs);
    expect(h.calls).toHaveLength(runs);
  });

  it('status() has the documented shape with nextRun in the future', () => {
    const h = harness([{ cron: EVERY_SECOND, method: 'poll', params: { a: 1 } }]);
    expect(h.schedules.status()).toEqual([
      {
        cron: EVERY_SECOND,
        method: 'poll',
        nextRun: null,
        lastRun: null,
        runs: 0,
        failures: 0,
        skippedOverlap: 0,
        skippedNotRunning: 0,
      },
    ]);
    h.schedules.start();
    const next = Date.parse(h.schedules.status()[0]!.nextRun!);
    expect(next).toBeGreaterThan(Date.now());
    expect(next).toBeLessThanOrEqual(Date.now() + 1_000);
  });

  it('accepts 5-field expressions (minute resolution)', () => {
    const h = harness([
      { cron: '* * * * *', method: 'everyMinute', params: {} },
      { cron: '*/5 * * * *', method: 'everyFive', params: {} },
    ]);
    h.schedules.start();
    const [m, five] = h.schedules.status();
    const now = Date.now();
    const next = Date.parse(m!.nextRun!);
    expect(next).toBeGreaterThan(now);
    expect(next).toBeLessThanOrEqual(now + 60_000);
    expect(new Date(next).getSeconds()).toBe(0);
    const nextFive = new Date(five!.nextRun!);
    expect(nextFive.getTime()).toBeLessThanOrEqual(now + 5 * 60_000);
    expect(nextFive.getMinutes() % 5).toBe(0);
    expect(h.errors).toEqual([]);
  });

  it('reports an expression node-cron rejects through onError instead of throwing', () => {
    const h = harness([
      { cron: 'not a cron', method: 'bad', params: {} },
      { cron: EVERY_SECOND, method: 'good', params: {} },
    ]);
    expect(() => h.schedules.start()).not.toThrow();
    const [bad, good] = h.schedules.status();
    expect(bad!.nextRun).toBeNull();
    expect(good!.nextRun).not.toBeNull();
    expect(h.errors).toHaveLength(1);
    expect(h.errors[0]!.schedule).toBe(0);
  });
});
