/** `warden plugin …` (docs/control-api.md, "Commands"; docs/authoring.md): the plugin toolkit. */
import type { Command } from 'commander';
import { registerPermissionActions } from './grant.js';
import { registerAudit } from './plugin-audit.js';
import { registerDescribe } from './plugin-describe.js';
import { registerInstall } from './plugin-install.js';
import { registerNew } from './plugin-new.js';
import { registerPack } from './plugin-pack.js';
import { registerPluginTest } from './plugin-test.js';
import { registerUpdate } from './plugin-update.js';
import { registerValidate } from './plugin-validate.js';

/** Adds the `plugin` command and its subcommands. */
export function registerPluginToolkit(program: Command): void {
  const plugin = program
    .command('plugin')
    .description('the plugin toolkit: create, validate, test, audit, describe, pack, install and remove plugins; grant or revoke their permissions')
    .addHelpText(
      'after',
      `
Examples:
  $ warden plugin grant file-connector
  $ warden plugin revoke file-connector
  $ warden plugin describe echo
  $ warden plugin validate plugins/echo`,
    );
  registerPermissionActions(plugin);
  registerNew(plugin);
  registerValidate(plugin);
  registerPluginTest(plugin);
  registerAudit(plugin);
  registerDescribe(plugin);
  registerPack(plugin);
  registerInstall(plugin);
  registerUpdate(plugin);
}
