// A real daemon's /metrics, as Prometheus scrapes it: promtool accepts it, the names and types are the
// documented ones, and the counters go up (never down, also across a crash and restart of a plugin).
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bootDaemon, REPO, type Sandbox, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';
import { FAMILIES, parseExposition, PROCESS_FAMILIES, promtoolCheck, promtoolMissing, RETIRED, type Scrape } from './exposition.js';

const METER = join(REPO, 'test/metrics/fixtures/meter');
let sandbox: Sandbox | undefined;
let daemon: TestDaemon | undefined;

afterEach(async () => {
  await daemon?.cleanup();
  sandbox?.remove();
  daemon = undefined;
  sandbox = undefined;
});

/** A port that was free a moment ago (the daemon needs a fixed one in its config). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Every scrape taken, in order, so the test can check that no counter ever went down. */
class Scraper {
  readonly texts: string[] = [];
  readonly scrapes: Scrape[] = [];
  constructor(private readonly url: string) {}

  async scrape(): Promise<Scrape> {
    const res = await fetch(this.url);
    expect(res.status).toBe(200);
    const text = await res.text();
    const s = parseExposition(text);
    this.texts.push(text);
    this.scrapes.push(s);
    return s;
  }

  /** Scrapes until `probe` is truthy. */
  until(what: string, probe: (s: Scrape) => boolean, timeoutMs = 15_000): Promise<Scrape> {
    return waitFor(what, async () => {
      const s = await this.scrape();
      return probe(s) ? s : undefined;
    }, { timeoutMs, intervalMs: 100 });
  }

  /** Each counter series (by name and labels) in every scrape after the first in which it appeared. */
  counterDecreases(): string[] {
    const last = new Map<string, number>();
    const found: string[] = [];
    for (const [i, s] of this.scrapes.entries()) {
      for (const x of s.samples) {
        if (s.type.get(x.name) !== 'counter') continue;
        const key = `${x.name}${JSON.stringify(x.labels)}`;
        const before = last.get(key);
        if (before !== undefined && x.value < before) found.push(`${key}: ${before} -> ${x.value} at scrape ${i}`);
        last.set(key, x.value);
      }
    }
    return found;
  }
}

function get(s: Scrape, name: string, labels: Record<string, string>): number {
  const found = s.samples.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  expect(found.length, `${name}${JSON.stringify(labels)}`).toBe(1);
  return found[0]!.value;
}

describe('a daemon scraped like Prometheus does', () => {
  it('passes promtool, has the documented names and types, and its counters only go up', async (ctx) => {
    const missing = promtoolMissing();
    if (missing) {
      if (process.env.CI) throw new Error(`${missing}: CI must run this check`);
      ctx.skip(missing);
      return;
    }
    const port = await freePort();
    ({ sandbox, daemon } = await bootDaemon(
      {
        metrics: { listen: `127.0.0.1:${port}` },
        sampling: { intervalMs: 100 },
        // The burn below is CPU on purpose: no quota stop for it.
        plugins: { meter: { limits: { cpuPercent: 1000 } } },
      },
      {
        // A per-second schedule that runs 1.5 s: every other tick finds the previous run still going.
        meter: {
          from: METER,
          manifest: { main: 'index.js', subscribes: ['tick'], schedules: [{ cron: '* * * * * *', method: 'sleep', params: { ms: 1500 } }] },
        },
        listener: { from: METER, manifest: { main: 'index.js', subscribes: ['tick'] } },
      },
    ));
    await daemon.waitForState('meter', 'running');
    await daemon.waitForState('listener', 'running');
    const scraper = new Scraper(`http://127.0.0.1:${port}/metrics`);
    const meter = { plugin: 'meter' };
    const listener = { plugin: 'listener' };

    // Names and types, and promtool on the first scrape.
    const first = await scraper.scrape();
    for (const [name, type] of Object.entries({ ...FAMILIES, ...PROCESS_FAMILIES })) expect(first.type.get(name), name).toBe(type);
    for (const name of RETIRED) expect(first.type.has(name), name).toBe(false);
    expect([...first.type.keys()].filter((n) => n.startsWith('warden_daemon_'))).toEqual([]);
    let check = promtoolCheck(scraper.texts[0]!);
    expect(check, check.output).toEqual({ status: 0, output: '' });

    // Events: delivered to both subscribers; dropped for one that is stopped. These and the schedule
    // counters come through the supervisor (EventBus onOutcome, PluginSchedules call/onSkip).
    for (let i = 0; i < 3; i++) expect(await daemon.request('events.publish', { topic: 'tick', data: i })).toEqual({ delivered: 2 });
    await scraper.until('3 events delivered to each (EventBus onOutcome -> metrics.countEvents in the supervisor)', (s) =>
      get(s, 'warden_plugin_events_delivered_total', meter) === 3 && get(s, 'warden_plugin_events_delivered_total', listener) === 3,
    );
    expect(await daemon.call('listener', 'events')).toBe(3);
    await daemon.request('plugin.stop', { name: 'listener' });
    await daemon.waitForState('listener', 'stopped');
    for (let i = 0; i < 2; i++) await daemon.request('events.publish', { topic: 'tick', data: i });
    await scraper.until('2 events dropped for the stopped listener', (s) =>
      get(s, 'warden_plugin_events_dropped_total', { ...listener, reason: 'not-running' }) === 2 &&
      get(s, 'warden_plugin_events_delivered_total', meter) === 5,
    );

    // CPU: a second of CPU time burnt shows as CPU seconds.
    expect(await daemon.call<number>('meter', 'burn', { ms: 1000 })).toBeGreaterThanOrEqual(1000);
    const burnt = await scraper.until('the burn in the CPU seconds', (s) => get(s, 'warden_plugin_cpu_seconds_total', meter) >= 0.6);
    const cpuBefore = get(burnt, 'warden_plugin_cpu_seconds_total', meter);

    // Schedules: runs, and skips for overlap.
    await scraper.until('a scheduled run and an overlap skip (metrics.scheduleRun/scheduleSkipped in the supervisor)', (s) =>
      get(s, 'warden_plugin_schedule_runs_total', meter) >= 2 &&
      get(s, 'warden_plugin_schedule_skipped_total', { ...meter, reason: 'overlap' }) >= 1,
    );

    // A crash: the restart is counted, and the CPU total carries over to the new process.
    const beforeCrash = await daemon.status('meter');
    void daemon.call('meter', 'exit').catch(() => undefined);
    const after = await scraper.until('the restart counted', (s) => get(s, 'warden_plugin_restarts_total', meter) >= 1);
    expect(get(after, 'warden_plugin_cpu_seconds_total', meter)).toBeGreaterThanOrEqual(cpuBefore);
    const restarted = await daemon.waitForState('meter', 'running');
    expect(restarted.pid).not.toBe(beforeCrash.pid);
    const last = await scraper.until('usage of the new process', (s) =>
      s.samples.some((x) => x.name === 'warden_plugin_memory_bytes' && x.labels.plugin === 'meter'),
    );
    expect(get(last, 'warden_plugin_cpu_seconds_total', meter)).toBeGreaterThanOrEqual(cpuBefore);
    expect(get(last, 'warden_plugin_calls_total', { ...meter, method: 'burn' })).toBe(1);
    expect(get(last, 'process_cpu_seconds_total', {})).toBeGreaterThan(get(first, 'process_cpu_seconds_total', {}));

    expect(scraper.counterDecreases()).toEqual([]);
    check = promtoolCheck(scraper.texts.at(-1)!);
    expect(check, check.output).toEqual({ status: 0, output: '' });
  }, 60_000);
});
