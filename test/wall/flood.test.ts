// Bounded output (CONTRACT §7): a plugin flooding stderr at full speed for ~3 s cannot grow the
// daemon's memory or slow its answers, and what is dropped is counted in a warning. The daemon's
// own stdout is a pipe (the TestDaemon collects it; nobody reads it to keep up with a flood).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { LANGS, attacker, bootWall, rssBytes, teardown, timedStatus, type WallBoot } from './helpers.js';

const MB = 1024 * 1024;
const FLOOD_SECONDS = 3;

describe.each(LANGS)('a $lang plugin flooding stderr', (lang) => {
  let boot: WallBoot | undefined;

  beforeAll(async () => {
    boot = await bootWall({}, { flooder: attacker(lang), sibling: attacker(lang) });
    await boot.daemon.waitForState('flooder', 'running');
    await boot.daemon.waitForState('sibling', 'running');
  });
  afterAll(() => teardown(boot));

  it('keeps the daemon small and responsive, and logs what it dropped', async () => {
    const { daemon } = boot!;
    const daemonPid = daemon.daemon!.proc.pid!;
    const before = await daemon.status('flooder');
    expect(await daemon.call('flooder', 'floodStderr', { seconds: FLOOD_SECONDS })).toMatchObject({ ok: true });

    const samples: Array<{ ms: number; rss: number }> = [];
    let flood: { running: boolean; lines: number; bytes: number } = { running: true, lines: 0, bytes: 0 };
    const deadline = Date.now() + (FLOOD_SECONDS + 5) * 1000;
    while (flood.running && Date.now() < deadline) {
      const { ms } = await timedStatus(daemon);
      samples.push({ ms, rss: rssBytes(daemonPid) });
      flood = await daemon.call('flooder', 'floodStatus');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(flood.running, 'the flood ended within its time').toBe(false);
    const slowest = Math.max(...samples.map((s) => s.ms));
    const largest = Math.max(...samples.map((s) => s.rss));
    console.log(
      `flood (${lang.lang}): ${flood.lines} lines / ${(flood.bytes / MB).toFixed(1)} MB written in ${FLOOD_SECONDS}s; ` +
        `${samples.length} status calls, slowest ${slowest.toFixed(0)} ms; daemon RSS max ${(largest / MB).toFixed(0)} MB`,
    );
    expect(samples.length).toBeGreaterThanOrEqual(FLOOD_SECONDS * 3);
    expect(flood.lines).toBeGreaterThan(5000); // it did flood: more than the burst and the rate let through
    expect(slowest).toBeLessThan(1000);
    expect(largest).toBeLessThan(200 * MB);

    // The plugin and its sibling are fine: a flood is not a failure of the flooder either.
    expect(await daemon.status('flooder')).toMatchObject({ state: 'running', pid: before.pid });
    expect(await daemon.call('sibling', 'whoami')).toMatchObject({ lang: lang.lang });

    // One summary per interval (10 s), never one line per dropped line.
    const warning = await waitFor(
      'a "dropped … lines" warning',
      async () => {
        const { entries } = await daemon.request<{ entries: Array<{ msg: string; droppedLines?: number }> }>('logs.tail', {
          name: 'flooder',
          level: 'warn',
          lines: 100,
        });
        return entries.find((e) => /dropped \d+ lines/.test(e.msg));
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(warning.msg).toMatch(/of stderr/);
    expect(warning.droppedLines).toBeGreaterThan(1000);
    const stdout = daemon.daemon!.stdout.join('');
    expect(stdout).toMatch(/dropped \d+ lines \(\d+ bytes\) of stderr/);
    // The log kept at most the burst and the rate, not the flood.
    const floodLines = stdout.split('\n').filter((l) => l.includes('"plugin":"flooder"') && l.includes('flood xxxx')).length;
    expect(floodLines).toBeLessThan(flood.lines / 2);
  });
});
