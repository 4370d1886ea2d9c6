/** `warden plugin test`: a plugin run behind the wall without a daemon, and checked (run.ts). */
export { testPlugin, testLimits } from './run.js';
export { formatTestReport, summaryLine, testExitCode } from './report.js';
export {
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_EXIT_TIMEOUT_MS,
  DEFAULT_START_TIMEOUT_MS,
  DEFAULT_TEST_LIMITS,
  InvalidPluginError,
  type CheckResult,
  type CheckStatus,
  type Containment,
  type TestOptions,
  type TestReport,
} from './types.js';
