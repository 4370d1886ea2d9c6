/** `warden start|stop|restart|enable|disable NAME`. */
import type { Command } from 'commander';
import { Method, PluginAction, type PluginActionName, type PluginStatus } from '../../protocol/index.js';
import type { ControlClient } from '../../control/client.js';
import { CliFailure, ExitCode } from '../exit.js';
import { formatPluginLine } from '../format.js';
import { globals, out, outJson, withClient } from './context.js';

const DESCRIPTIONS: Record<PluginActionName, string> = {
  start: 'start a stopped plugin',
  stop: 'stop a plugin (it stays stopped until started)',
  restart: 'stop and start a plugin',
  enable: 'enable a disabled plugin (also after too many restarts) and start it',
  disable: 'stop a plugin and keep it disabled, across daemon restarts too',
};

/** The actions whose point is a running plugin: anything else afterwards is a failure (exit 1). */
const MUST_RUN: ReadonlySet<PluginActionName> = new Set(['start', 'restart', 'enable']);

/** Each action's examples; those that take a plugin down bring it back, so they can be run in a row. */
const EXAMPLES: Record<PluginActionName, string> = {
  start: '  $ warden start echo',
  stop: '  $ warden stop echo       it stays stopped until started:\n  $ warden start echo',
  restart: '  $ warden restart echo',
  enable: '  $ warden enable echo',
  disable: '  $ warden disable echo    it stays disabled, across daemon restarts too, until enabled:\n  $ warden enable echo',
};

export function registerPluginActions(program: Command): void {
  for (const action of Object.keys(PluginAction) as PluginActionName[]) {
    const mustRun = MUST_RUN.has(action);
    program
      .command(action)
      .description(DESCRIPTIONS[action])
      .argument('<name>', 'the plugin')
      .addHelpText(
        'after',
        `
Prints the plugin's new state, e.g. "echo: ${mustRun ? 'running (pid 4242)' : action === 'stop' ? 'stopped' : 'disabled — disabled by the operator'}"; with --json its PluginStatus.${
          mustRun ? `\nExits 1, with its state and reason, when the plugin is not running afterwards.` : ''
        }

Examples:
${EXAMPLES[action]}`,
      )
      .action(async (name: string, _options: unknown, command: Command) => {
        const { json } = globals(command);
        const status = await withClient(command, async (client) => {
          const answer = await client.request(PluginAction[action], { name });
          return mustRun ? settled(client, answer) : answer;
        });
        if (json) outJson(status);
        if (mustRun && status.state !== 'running') {
          throw new CliFailure(`${name} is not running after ${action}: ${whyNot(status)}`, ExitCode.DaemonError);
        }
        if (!json) out(formatPluginLine(status));
      });
  }
}

/** How often, and how long at most, to look again at a plugin that someone else is starting. */
const SETTLE_POLL_MS = 100;
const SETTLE_MAX_MS = 120_000;

/**
 * The plugin's state once it has left `starting`. The daemon answers `start` at once when the plugin is
 * already starting (a scheduled restart, another operator); its own start timeout ends that state.
 */
async function settled(client: ControlClient, status: PluginStatus): Promise<PluginStatus> {
  const deadline = Date.now() + SETTLE_MAX_MS;
  let current = status;
  while (current.state === 'starting' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    current = await client.request(Method.PluginGet, { name: status.name });
  }
  return current;
}

/** `backoff — crashed (exit code 3); restarting in 100ms`, with the last error when there is no reason. */
function whyNot(status: PluginStatus): string {
  let text = status.state;
  if (status.reason) text += ` — ${status.reason}`;
  else if (status.lastError) text += ` — last error (${status.lastError.time}) ${status.lastError.kind}: ${status.lastError.message}`;
  return text;
}
