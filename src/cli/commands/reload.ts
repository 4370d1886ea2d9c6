/** `warden reload`. */
import type { Command } from 'commander';
import { Method } from '../../protocol/index.js';
import { CliFailure, ExitCode } from '../exit.js';
import { globals, out, outJson, withClient } from './context.js';

export function registerReload(program: Command): void {
  program
    .command('reload')
    .description('re-read the config file (like SIGHUP); an invalid one is refused and the running config stays')
    .addHelpText(
      'after',
      `
Exits 1 with every problem when the daemon refuses the new config. What applies only at the daemon's
next start (and other warnings) is printed on stderr after "config reloaded"; the exit code stays 0.

Example:
  $ warden reload`,
    )
    .action(async (_options: unknown, command: Command) => {
      const { json } = globals(command);
      const result = await withClient(command, (client) => client.request(Method.DaemonReload, {}));
      if (json) outJson(result);
      if (!result?.ok) {
        // Every problem the daemon found, one line each, as the daemon itself prints them.
        const error = result?.error ?? 'the daemon gave no reason';
        throw new CliFailure(`config not reloaded:${error.includes('\n') ? '\n' : ' '}${error}`, ExitCode.DaemonError);
      }
      if (json) return;
      out('config reloaded');
      for (const warning of result.warnings ?? []) process.stderr.write(`warning: ${warning}\n`);
    });
}
