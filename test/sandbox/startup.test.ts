// Startup cost of the wrappers and flags: spawn to answered handshake, plain `node main.js` beside
// the full plan (launch shell, unshare, setpriv, permission model, heap limit), alternated, medians reported.
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PluginHost } from '../../src/host/plugin-host.js';
import { createLogSystem } from '../../src/logging/index.js';
import type { LaunchSpec } from '../../src/sandbox/launch.js';
import { sdkLoaderArgs } from '../../src/sandbox/sdk-loader.js';
import { PROBE, Tracker } from './helpers.js';

const tracker = new Tracker();
const hosts: PluginHost[] = [];
afterEach(async () => {
  for (const h of hosts.splice(0)) h.kill();
  await tracker.cleanup();
});

const logs = createLogSystem({ level: 'warn', dir: null, maxBytes: 1 << 20, keep: 1 });
const RUNS = 7;

async function timePlain(dir: string): Promise<number> {
  const launch: LaunchSpec = {
    file: process.execPath,
    args: [...sdkLoaderArgs(dir), join(dir, 'index.js')],
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  };
  const host = new PluginHost({
    name: 'probe',
    version: '1.0.0',
    launch,
    loggerFor: (pid) => logs.pluginLogger('probe', { pid, restarts: 0 }),
    requests: { call: async () => null, emit: () => undefined },
    startTimeoutMs: 10_000,
    health: { intervalMs: 60_000, timeoutMs: 5000 },
  });
  hosts.push(host);
  const started = performance.now();
  await host.start({ config: {}, state: null });
  const ms = performance.now() - started;
  host.kill();
  return ms;
}

async function timeSandboxed(dir: string): Promise<number> {
  const started = performance.now();
  const { host } = await tracker.start({ dir });
  const ms = performance.now() - started;
  host.kill();
  return ms;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('startup cost', () => {
  it.each([
    ['inside the package (no loader hook)', () => PROBE],
    ['outside the package (SDK loader hook)', () => {
      const dir = tracker.tempDir();
      cpSync(PROBE, dir, { recursive: true });
      return dir;
    }],
  ])('sandboxed start stays close to a plain node start: %s', async (label, makeDir) => {
    const dir = makeDir();
    const plain: number[] = [];
    const sandboxed: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      plain.push(await timePlain(dir));
      sandboxed.push(await timeSandboxed(dir));
    }
    const [p, s] = [median(plain), median(sandboxed)];
    console.log(`startup ${label}: plain median ${p.toFixed(0)} ms, sandboxed median ${s.toFixed(0)} ms (+${(s - p).toFixed(0)} ms) over ${RUNS} runs`);
    // Loose bound: a regression (say a wrapper that forks and waits) shows as multiples, not noise.
    expect(s).toBeLessThan(p * 2 + 150);
  });
});
