/** `warden plugin …` (docs/control-api.md, "Commands"): the commands about one plugin's package and permissions. */
import type { Command } from 'commander';
import { registerPermissionActions } from './grant.js';
import { registerAudit } from './plugin-audit.js';
import { registerDescribe } from './plugin-describe.js';
import { registerPack } from './plugin-pack.js';

/** Adds the `plugin` command and its subcommands. */
export function registerPluginToolkit(program: Command): void {
  const plugin = program
    .command('plugin')
    .description("a plugin's permissions (grant, revoke), its methods (describe), what its code uses (audit), and its package (pack)")
    .addHelpText(
      'after',
      `
Examples:
  $ warden plugin grant file-connector
  $ warden plugin revoke file-connector
  $ warden plugin describe echo`,
    );
  registerPermissionActions(plugin);
  registerAudit(plugin);
  registerDescribe(plugin);
  registerPack(plugin);
}
