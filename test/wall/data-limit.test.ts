// The kernel's memory backstop where no cgroup limits memory: RLIMIT_DATA = 2 × memoryMb, set by the
// launch shell. A bomb allocating 50 MB at a time (well over 1 GB/s) is stopped by its own failed
// allocation below 2 × memoryMb of RSS, in node and in python, and the plugin keeps answering.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Capabilities } from '../../src/sandbox/capabilities.js';
import { dataLimitMb } from '../../src/sandbox/launch.js';
import { CAPABILITIES, Tracker } from '../sandbox/helpers.js';
import { LANGS } from './helpers.js';

const tracker = new Tracker();
afterEach(() => tracker.cleanup());

/** This host as one without cgroups: what the sampler alone would face, with the kernel's rlimit behind it. */
const NO_CGROUP: Capabilities = { ...CAPABILITIES, cgroup: null, cgroupProblem: 'not in this test' };
const MEMORY_MB = 200;

/** A field of /proc/PID/status, in MiB. */
function statusMb(pid: number, field: string): number {
  const kb = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

describe.skipIf(!NO_CGROUP.shell)('RLIMIT_DATA without a cgroup', () => {
  it.each(LANGS)('a $lang allocation bomb fails below 2 × memoryMb of RSS, and the plugin carries on', async (lang) => {
    const { call, host, plan } = await tracker.start({
      dir: lang.from,
      capabilities: NO_CGROUP,
      limits: { memoryMb: MEMORY_MB, handles: 256, processes: 16 },
      manifest: lang.entry,
    });
    expect(plan.enforcement.memoryMb).toMatch(/^rlimit\+sampling/);
    const pid = host.pid!;
    const limit = dataLimitMb(MEMORY_MB);
    expect(readFileSync(`/proc/${pid}/limits`, 'utf8')).toMatch(new RegExp(`Max data size\\s+${limit * 1024 * 1024}\\s+${limit * 1024 * 1024}\\s`));
    const started = performance.now();
    const result = (await call('allocate', { mb: 4000, stepMb: 50 })) as { ok: boolean; allocatedMb: number; code: string };
    const ms = performance.now() - started;
    const peak = statusMb(pid, 'VmHWM');
    console.log(`${lang.lang} bomb under RLIMIT_DATA ${limit} MB: ${result.allocatedMb} MB allocated in ${ms.toFixed(0)} ms, peak RSS ${peak.toFixed(0)} MB (${(peak / MEMORY_MB).toFixed(2)} × memoryMb), then ${result.code}`);
    expect(result.ok).toBe(false);
    expect(result.allocatedMb).toBeGreaterThan(0);
    expect(peak).toBeLessThan(2 * MEMORY_MB);
    expect(await call('free')).toMatchObject({ ok: true });
    expect(await call('whoami')).toMatchObject({ lang: lang.lang });
  }, 30_000);
});
