/** The shapes of `warden plugin test` (docs: CONTRACT section 9): its options, its check lines, its report. */
import { defaultConfig } from '../../config/load.js';
import type { Limits } from '../../config/types.js';

/** pass/fail count in the summary; `warn` is advice only; `skip` is a check that could not run (an earlier one failed). */
export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

/** One line of the report. */
export interface CheckResult {
  /** What was checked: "handshake", "health", "methods", "example echo[0] \"hi\"", "snapshot", "clean exit". */
  name: string;
  status: CheckStatus;
  /** Why, in a few words ("answered in 42 ms with 3 methods", "result.items: must be integer"). */
  detail: string;
}

/** How the plugin was run: behind the wall or not (and why not), in a cgroup or not (and why not). */
export interface Containment {
  wall: boolean;
  /** capabilities.wallProblem when there is no wall. */
  wallProblem: string | null;
  /** The first instance's cgroup folders (one per v1 hierarchy, one on v2); empty without a cgroup. */
  cgroupDirs: string[];
  /** capabilities.cgroupProblem when there is no cgroup. */
  cgroupProblem: string | null;
  /** The limits it ran under: the defaults lowered by the manifest's own. */
  limits: Limits;
}

export interface TestReport {
  name: string;
  version: string;
  dir: string;
  containment: Containment;
  checks: CheckResult[];
  /** The plugin's log (its stderr and warden.log entries), per instance started, oldest first. */
  log: string[];
  passed: number;
  failed: number;
  warnings: number;
  skipped: number;
  /** True when no check failed. */
  ok: boolean;
}

export interface TestOptions {
  /** How long `warden.initialize` may take (default 10 000 ms, the daemon's startTimeoutMs). */
  startTimeoutMs?: number;
  /** How long each call (health, examples, snapshot) may take (default: the manifest's callTimeoutMs, else 30 000 ms). */
  callTimeoutMs?: number;
  /** How long the plugin has to exit by itself once its stdin is closed (default 5000 ms). */
  exitTimeoutMs?: number;
}

/** The config the daemon runs with when the operator sets nothing: its `defaults` are the test's. */
export const DAEMON_CONFIG = defaultConfig('/');
/** The limits the daemon gives a plugin by default; a manifest may lower them, never raise them. */
export const DEFAULT_TEST_LIMITS: Limits = DAEMON_CONFIG.defaults.limits;
export const DEFAULT_START_TIMEOUT_MS = DAEMON_CONFIG.defaults.startTimeoutMs;
export const DEFAULT_CALL_TIMEOUT_MS = DAEMON_CONFIG.defaults.callTimeoutMs;
/** As long as the daemon waits for a plugin to exit by itself (stopTimeoutMs). */
export const DEFAULT_EXIT_TIMEOUT_MS = DAEMON_CONFIG.defaults.stopTimeoutMs;

/** A folder without a valid plugin.json: the reason names every problem (loadPlugin's). */
export class InvalidPluginError extends Error {
  constructor(
    readonly dir: string,
    readonly reason: string,
  ) {
    super(`${dir}: ${reason}`);
    this.name = 'InvalidPluginError';
  }
}
