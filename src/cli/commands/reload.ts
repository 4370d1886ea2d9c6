/** `warden reload`. */
import type { Command } from 'commander';
import { Method, type ReloadResult } from '../../control/protocol.js';
import { CliFailure, ExitCode } from '../exit.js';
import { globals, out, outJson, withClient } from './context.js';

export function registerReload(program: Command): void {
  program
    .command('reload')
    .description('re-read the config file (like SIGHUP); an invalid one is refused and the running config stays')
    .addHelpText(
      'after',
      `
Exits 1 with the reason when the daemon refuses the new config.

Example:
  $ warden reload`,
    )
    .action(async (_options: unknown, command: Command) => {
      const { json } = globals(command);
      const result = await withClient(command, (client) => client.request<ReloadResult>(Method.DaemonReload, {}));
      if (json) outJson(result);
      if (!result?.ok) {
        throw new CliFailure(`config not reloaded: ${result?.error ?? 'the daemon gave no reason'}`, ExitCode.DaemonError);
      }
      if (!json) out('config reloaded');
    });
}
