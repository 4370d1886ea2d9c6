/**
 * `warden plugin test`: runs one plugin folder behind the daemon's wall, without a daemon, and checks its
 * handshake, health, methods, examples, snapshot round trip and clean exit (see checks.ts). Whatever
 * fails, every process started is stopped and its cgroup removed before the report is returned.
 */
import path from 'node:path';
import { resolvePluginSettings } from '../../config/plugin-settings.js';
import type { Limits } from '../../config/types.js';
import { loadPlugin } from '../../manifest/discover.js';
import type { Manifest } from '../../manifest/types.js';
import { checkExamples, checkHandshake, checkHealth, checkMethods, checkRestoredSnapshot, cleanExitLine, takeSnapshot } from './checks.js';
import { hostCapabilities, TestInstance } from './instance.js';
import {
  DAEMON_CONFIG,
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_EXIT_TIMEOUT_MS,
  DEFAULT_START_TIMEOUT_MS,
  InvalidPluginError,
  type CheckResult,
  type Containment,
  type TestOptions,
  type TestReport,
} from './types.js';

// Why: the daemon's own rule for a manifest's limits (config/plugin-settings.ts): each may lower the default, never raise it.
export function testLimits(manifest: Manifest): Limits {
  return resolvePluginSettings(DAEMON_CONFIG, manifest.name, manifest).settings.limits;
}

/** A line for a check that could not run, with the earlier failure that stopped it. */
const skipped = (name: string, why: string): CheckResult => ({ name, status: 'skip', detail: `not run: ${why}` });

/**
 * Tests the plugin in `dir`. Throws InvalidPluginError for a folder without a valid plugin.json; anything
 * the plugin does (no answer, a crash, a wrong result) is a failed line of the report instead.
 */
export async function testPlugin(dir: string, options: TestOptions = {}): Promise<TestReport> {
  const found = await loadPlugin(path.resolve(dir));
  if (!found.ok) throw new InvalidPluginError(found.dir, found.reason);
  const { manifest } = found;
  const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const callTimeoutMs = options.callTimeoutMs ?? manifest.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const exitTimeoutMs = options.exitTimeoutMs ?? DEFAULT_EXIT_TIMEOUT_MS;
  const capabilities = await hostCapabilities();
  const limits = testLimits(manifest);
  const checks: CheckResult[] = [];
  const log: string[] = [];
  const instances: TestInstance[] = [];
  let cgroupDirs: readonly string[] | null = null;

  // Why: each instance is registered before its spawn can fail, so the finally below stops it whatever happens.
  const launch = (id: string): TestInstance => {
    const instance = new TestInstance({ dir: found.dir, manifest, limits, capabilities, id, startTimeoutMs });
    instances.push(instance);
    cgroupDirs ??= instance.cgroup?.dirs ?? null;
    return instance;
  };

  try {
    const first = launch('a');
    const handshake = await checkHandshake(first, null);
    checks.push(handshake.line);
    if (handshake.methods === null) {
      const why = 'the handshake failed';
      checks.push(skipped('health', why), skipped('methods', why), skipped('examples', why), skipped('snapshot', why), skipped('clean exit', why));
    } else {
      checks.push(await checkHealth(first, callTimeoutMs));
      checks.push(...checkMethods(manifest, handshake.methods));
      checks.push(...(await checkExamples(first, manifest, callTimeoutMs)));
      checks.push(await snapshotRoundTrip(first, () => launch('b'), callTimeoutMs));
      checks.push(cleanExitLine(await first.closeStdinAndWait(exitTimeoutMs), exitTimeoutMs));
    }
  } catch (error) {
    // Not the plugin's doing (the cgroup or the launch refused): still one clear line, and the cleanup below.
    checks.push({ name: 'launch', status: 'fail', detail: `could not start the plugin: ${(error as Error).message}` });
  } finally {
    const stops = await Promise.allSettled(instances.map((i) => i.stop()));
    instances.forEach((instance, n) => {
      const lines = instance.logLines();
      if (instances.length > 1 && lines.length > 0) log.push(`--- instance ${n + 1}${n === 1 ? ' (restored from the snapshot)' : ''}`);
      log.push(...lines);
    });
    for (const s of stops) {
      if (s.status === 'rejected') checks.push({ name: 'cleanup', status: 'fail', detail: `could not stop everything: ${(s.reason as Error).message}` });
    }
  }

  const containment: Containment = {
    wall: capabilities.wall !== null,
    wallProblem: capabilities.wallProblem,
    cgroupDirs: [...((cgroupDirs as readonly string[] | null) ?? [])],
    cgroupProblem: cgroupDirs !== null ? null : capabilities.cgroupProblem,
    limits,
  };
  const count = (status: CheckResult['status']) => checks.filter((c) => c.status === status).length;
  const failed = count('fail');
  return {
    name: manifest.name,
    version: manifest.version,
    dir: found.dir,
    containment,
    checks,
    log,
    passed: count('pass'),
    failed,
    warnings: count('warn'),
    skipped: count('skip'),
    ok: failed === 0,
  };
}

/**
 * Check 5: the first instance's snapshot, and when it is a state, a second instance started with it that
 * completes its handshake and answers its own warden.snapshot. The second instance is stopped by the caller.
 */
async function snapshotRoundTrip(first: TestInstance, second: () => TestInstance, callTimeoutMs: number): Promise<CheckResult> {
  const outcome = await takeSnapshot(first, callTimeoutMs);
  if ('failed' in outcome) return outcome.failed;
  if ('none' in outcome) return { name: 'snapshot', status: 'pass', detail: `no snapshot: ${outcome.none}` };
  const restored = second();
  const handshake = await checkHandshake(restored, outcome.state, 'snapshot');
  if (handshake.methods === null) {
    return { name: 'snapshot', status: 'fail', detail: `a second instance started with the snapshot's state did not complete its handshake: ${handshake.line.detail}` };
  }
  return checkRestoredSnapshot(restored, outcome.state, callTimeoutMs);
}
