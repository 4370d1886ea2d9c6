/** `warden plugin test [DIR]`: runs a plugin behind the wall without a daemon and checks it (src/toolkit/harness). */
import path from 'node:path';
import type { Command } from 'commander';
import { formatTestReport, InvalidPluginError, summaryLine, testExitCode, testPlugin, type TestReport } from '../../toolkit/harness/index.js';
import { CliFailure, ExitCode, UsageError } from '../exit.js';
import { globals, out, outJson, wholeNumber } from './context.js';

/** Adds `test` under the `plugin` command. */
export function registerPluginTest(plugin: Command): void {
  plugin
    .command('test')
    .description("runs a plugin behind the wall without a daemon: handshake, health, its methods, each method's examples, the snapshot round trip and a clean exit")
    .argument('[dir]', 'the plugin folder (default: the current folder)')
    .option('--start-timeout <ms>', 'how long warden.initialize may take (default 10000)', wholeNumber('--start-timeout', 1))
    .addHelpText(
      'after',
      `
The plugin runs as the daemon would run it: the same launch, the wall when the host has it, a fresh cgroup
when it has cgroups, the manifest's permissions as written, and the default limits (memoryMb 256,
cpuPercent 100, handles 256, processes 16) lowered by the manifest's own. Its config is the manifest's
config. Each check is one line, ✓ or ✗ with the reason; the plugin's log follows when one failed.
Everything started is stopped and its cgroup removed, whatever fails.

Exit codes: 0 every check passed · 1 a check failed · ${ExitCode.Usage} no valid plugin.json in the folder

Examples:
  $ warden plugin test plugins/echo
  $ warden plugin test plugins/hello-python --start-timeout 20000
  $ warden plugin test plugins/echo --json`,
    )
    .action(async (dir: string | undefined, options: { startTimeout?: number }, command: Command) => {
      const report = await runPluginTest(dir, options.startTimeout);
      if (globals(command).json) outJson(report);
      else out(formatTestReport(report));
      if (testExitCode(report) !== 0) throw new CliFailure(`${report.name}: ${summaryLine(report)}`, ExitCode.DaemonError);
    });
}

// Why: the one place a folder without a valid plugin.json becomes the usage error (exit 2), naming every problem.
async function runPluginTest(dir: string | undefined, startTimeoutMs: number | undefined): Promise<TestReport> {
  try {
    return await testPlugin(path.resolve(dir ?? '.'), startTimeoutMs === undefined ? {} : { startTimeoutMs });
  } catch (error) {
    if (error instanceof InvalidPluginError) throw new UsageError(`warden plugin test: ${error.message}`);
    throw error;
  }
}
