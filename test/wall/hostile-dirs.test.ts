// Hostile folders in pluginsDir (CONTRACT §3, §7): a symlink to `/` and a 50 MB plugin.json.
// The daemon starts, answers at once, lists the huge one as invalid (the 1 MiB limit) and runs the
// normal plugins beside them — and the symlink exposes nothing to a plugin.
import { mkdirSync, openSync, closeSync, symlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LANGS, attacker, bootWall, rssBytes, teardown, timedStatus, type WallBoot } from './helpers.js';

const MB = 1024 * 1024;

/** A plugin.json of `mb` MB: valid JSON with a huge description, written in chunks. */
function writeHugeManifest(dir: string, mb: number): void {
  mkdirSync(dir, { recursive: true });
  const fd = openSync(join(dir, 'plugin.json'), 'w', 0o644);
  try {
    writeSync(fd, '{"name":"huge","version":"1.0.0","main":"index.js","engines":{"warden":"^1.0.0"},"description":"');
    const chunk = 'x'.repeat(MB);
    for (let i = 0; i < mb; i++) writeSync(fd, chunk);
    writeSync(fd, '"}');
  } finally {
    closeSync(fd);
  }
}

describe('hostile plugin folders', () => {
  let boot: WallBoot | undefined;
  let bootMs = 0;

  beforeAll(async () => {
    const started = performance.now();
    boot = await bootWall(
      {},
      { 'normal-js': attacker(LANGS[0]!), 'normal-py': attacker(LANGS[1]!) },
      {},
      (sandbox) => {
        symlinkSync('/', join(sandbox.pluginsDir, 'rootlink'));
        writeHugeManifest(join(sandbox.pluginsDir, 'huge'), 50);
      },
    );
    bootMs = performance.now() - started;
  });
  afterAll(() => teardown(boot));

  it('the daemon starts and status answers within 1 s', async () => {
    const { daemon } = boot!;
    console.log(`hostile folders: socket up ${bootMs.toFixed(0)} ms after spawn`);
    for (let i = 0; i < 5; i++) {
      const { ms } = await timedStatus(daemon);
      expect(ms).toBeLessThan(1000);
    }
    expect(rssBytes(daemon.daemon!.proc.pid!)).toBeLessThan(200 * MB);
  });

  it('the 50 MB plugin.json is invalid, with a reason naming the 1 MiB limit', async () => {
    const { daemon } = boot!;
    const huge = await daemon.waitForState('huge', 'invalid');
    expect(huge.reason).toMatch(/1 MiB/);
    expect(huge.pid).toBeNull();
  });

  it('the normal plugins run, and the symlink to / neither runs nor opens the host to them', async () => {
    const { daemon, sandbox } = boot!;
    for (const name of ['normal-js', 'normal-py']) {
      await daemon.waitForState(name, 'running');
      // Through the plugins folder, the link would lead to the host's root: it is not there for a plugin.
      const outcome = await daemon.call(name, 'read', { path: join(sandbox.pluginsDir, 'rootlink', 'etc', 'passwd') });
      expect(outcome, name).toMatchObject({ ok: false });
    }
    const { plugins } = await timedStatus(daemon);
    const rootlink = plugins.find((p) => p.name === 'rootlink');
    expect(rootlink?.state ?? 'absent', 'the symlink to / is not a running plugin').not.toMatch(/running|starting/);
    const { ms } = await timedStatus(daemon);
    expect(ms).toBeLessThan(1000);
  });
});
