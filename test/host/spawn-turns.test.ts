import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PluginHost } from '../../src/host/plugin-host.js';
import { spawnTurn } from '../../src/host/spawn-turns.js';
import { createLogSystem } from '../../src/logging/index.js';

/** The fixture plugin with no SDK: answers its handshake (and little else). */
const MINIMAL = readFileSync(fileURLToPath(new URL('../fixtures/minimal/index.js', import.meta.url)), 'utf8');

describe('spawn turns', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-spawn-turns-'));
  writeFileSync(join(dir, 'index.js'), MINIMAL);
  const logs = createLogSystem({ level: 'warn', dir: null, maxBytes: 1 << 20, keep: 1 });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives one turn per event-loop iteration: I/O and timers run between any two', async () => {
    const order: string[] = [];
    const turns = Array.from({ length: 5 }, (_, i) => spawnTurn().then(() => order.push(`turn ${i}`)));
    // An immediate queued now runs in the same check phase as the first turn; the second turn comes an iteration later.
    setImmediate(() => order.push('immediate'));
    await Promise.all(turns);
    expect(order.slice(0, 3)).toEqual(['turn 0', 'immediate', 'turn 1']);
    expect(order).toHaveLength(6);
  });

  it('reads handshake answers while a burst of plugins is still being spawned', async () => {
    const count = 60;
    const hosts = Array.from(
      { length: count },
      (_, i) =>
        new PluginHost({
          name: `p${i}`,
          version: '1.0.0',
          launch: { file: process.execPath, args: [join(dir, 'index.js')], cwd: dir, env: { PATH: process.env.PATH ?? '' } },
          loggerFor: (pid) => logs.pluginLogger(`p${i}`, { pid, restarts: 0 }),
          requests: { call: async () => null, emit: () => undefined },
          startTimeoutMs: 30_000,
          health: { intervalMs: 60_000, timeoutMs: 1000 },
        }),
    );
    let spawnedAtFirstAnswer = -1;
    try {
      const started = hosts.map((host) =>
        host.start({ config: {}, state: null }).then(() => {
          if (spawnedAtFirstAnswer < 0) spawnedAtFirstAnswer = hosts.filter((h) => h.pid !== null).length;
        }),
      );
      await Promise.all(started);
      expect(spawnedAtFirstAnswer).toBeGreaterThan(0);
      expect(spawnedAtFirstAnswer).toBeLessThan(count);
    } finally {
      await Promise.all(hosts.map((host) => host.stop(2000)));
    }
  });

  it('does not spawn a host stopped before its turn came', async () => {
    const host = new PluginHost({
      name: 'early',
      version: '1.0.0',
      launch: { file: process.execPath, args: [join(dir, 'index.js')], cwd: dir, env: { PATH: process.env.PATH ?? '' } },
      loggerFor: (pid) => logs.pluginLogger('early', { pid, restarts: 0 }),
      requests: { call: async () => null, emit: () => undefined },
      startTimeoutMs: 5000,
      health: { intervalMs: 60_000, timeoutMs: 1000 },
    });
    const start = host.start({ config: {}, state: null });
    const stopped = host.stop(1000);
    await expect(start).rejects.toThrow('stopped before it was spawned');
    await stopped;
    expect(host.pid).toBeNull();
    expect(host.exited).toBe(true);
  });
});
