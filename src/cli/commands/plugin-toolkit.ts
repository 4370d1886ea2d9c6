/** `warden plugin …` (docs/control-api.md, "Commands"): the commands about one plugin's package and permissions. */
import type { Command } from 'commander';
import { registerPermissionActions } from './grant.js';

/** Adds the `plugin` command and its subcommands. */
export function registerPluginToolkit(program: Command): void {
  const plugin = program
    .command('plugin')
    .description("approve or withdraw the permissions a plugin's manifest asks for")
    .addHelpText(
      'after',
      `
Examples:
  $ warden plugin grant file-connector
  $ warden plugin revoke file-connector`,
    );
  registerPermissionActions(plugin);
}
