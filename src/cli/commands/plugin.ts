/** `warden start|stop|restart|enable|disable NAME`. */
import type { Command } from 'commander';
import { PluginAction, type PluginActionName } from '../../control/protocol.js';
import type { PluginStatus } from '../../supervisor/types.js';
import { formatPluginLine } from '../format.js';
import { globals, out, outJson, withClient } from './context.js';

const DESCRIPTIONS: Record<PluginActionName, string> = {
  start: 'start a stopped plugin',
  stop: 'stop a plugin (it stays stopped until started)',
  restart: 'stop and start a plugin',
  enable: 'enable a disabled plugin (also after too many restarts) and start it',
  disable: 'stop a plugin and keep it disabled, across daemon restarts too',
};

export function registerPluginActions(program: Command): void {
  for (const action of Object.keys(PluginAction) as PluginActionName[]) {
    program
      .command(action)
      .description(DESCRIPTIONS[action])
      .argument('<name>', 'the plugin')
      .addHelpText(
        'after',
        `
Prints the plugin's new state, e.g. "echo: running (pid 4242)"; with --json its PluginStatus.

Example:
  $ warden ${action} echo`,
      )
      .action(async (name: string, _options: unknown, command: Command) => {
        const { json } = globals(command);
        const status = await withClient(command, (client) => client.request<PluginStatus>(PluginAction[action], { name }));
        if (json) outJson(status);
        else out(formatPluginLine(status));
      });
  }
}
