/** `warden plugin update NAME [--to VERSION] [--dry-run]` (contract section 9). */
import type { Command } from 'commander';
import type { ControlClient } from '../../control/client.js';
import { Method } from '../../protocol/index.js';
import { InstallError } from '../../toolkit/package/install.js';
import { updatePlugin, type Outcome, type UpdateResult } from '../../toolkit/package/update.js';
import { CliFailure, ExitCode } from '../exit.js';
import { connectDaemon } from '../socket.js';
import { globals, out, outJson } from './context.js';
import { configuredPluginsDir } from './plugins-dir.js';

/** How long the daemon may take to serve or refuse the new version. */
const OUTCOME_TIMEOUT_MS = 120_000;

// Why: the daemon's hot reload decides; its status says which way (serving the version, or a reload failure after the swap).
async function outcomeOf(client: ControlClient, name: string, version: string): Promise<Outcome> {
  const since = Date.now();
  // The daemon looks at the swapped folder now (warden reload re-checks every plugin folder).
  await client.request(Method.DaemonReload, {});
  for (;;) {
    const status = await client.request(Method.PluginGet, { name }).catch(() => null);
    if (status?.state === 'running' && status.version === version) return { ok: true };
    const failure = status?.lastError;
    if (failure?.kind === 'reload' && Date.parse(failure.time) >= since - 1000) return { ok: false, reason: failure.message };
    if (Date.now() - since > OUTCOME_TIMEOUT_MS) return { ok: false, reason: `the daemon did not serve ${version} within ${OUTCOME_TIMEOUT_MS / 1000} s` };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The readable result. */
export function formatUpdate(r: UpdateResult): string {
  const lines = r.rejected.map((x) => `  passed over ${x.version}: ${x.why}`);
  const head =
    r.outcome === 'current'
      ? `${r.name} ${r.from} is the newest acceptable version of ${r.package}`
      : r.outcome === 'planned'
        ? `${r.name}: would update ${r.from} -> ${r.to} (${r.package}); nothing changed (--dry-run)`
        : r.outcome === 'updated'
          ? `${r.name}: updated ${r.from} -> ${r.to}, serving`
          : r.outcome === 'rolled-back'
            ? `${r.name}: ${r.to} failed to start (${r.reason}); rolled back to ${r.from}, which kept serving`
            : `${r.name}: ${r.to} is in place of ${r.from}; ${r.reason}`;
  return [head, ...lines].join('\n');
}

/** Adds `update` under the `plugin` command. */
export function registerUpdate(plugin: Command): void {
  plugin
    .command('update')
    .description('move a plugin installed from the npm registry to its newest acceptable version, swapped in like a hot reload and rolled back if it fails to start')
    .argument('<name>', 'the plugin')
    .option('--to <version>', 'this exact version instead of the newest acceptable one')
    .option('--dry-run', 'show what would change, change nothing')
    .addHelpText(
      'after',
      `
Acceptable: newer than the installed version, valid for this warden (its engines.warden), and inside every
range other plugins in pluginsDir hold on it (their dependencies). The new version is fetched, checked
against the registry's integrity, prepared like an install, then swapped into pluginsDir: a running
daemon's hot reload starts it beside the old one and swaps them without dropping a call. If it fails to
start, the old folder is put back; the old instance never stopped serving. Exit 1 after a rollback.
The folders it writes inside its own (its fs.write paths, such as ./data) are copied into the new
version; a plugin.json that install generated (an MCP server) is generated again with the same --env.
A plugin installed from a folder or a .tgz has no registry to look in: remove it and install the new one.
For instance, "warden plugin update feed-reader --dry-run" shows the version it would move to.`,
    )
    .action(async (name: string, options: { to?: string; dryRun?: boolean }, command: Command) => {
      const { json, socket } = globals(command);
      const pluginsDir = await configuredPluginsDir('update');
      const client = options.dryRun ? null : await connectDaemon(socket).catch(() => null);
      let result: UpdateResult;
      try {
        result = await updatePlugin(name, {
          pluginsDir,
          to: options.to,
          dryRun: options.dryRun,
          awaitOutcome: (plugin, version) => (client ? outcomeOf(client, plugin, version) : null),
          resync: client ? () => client.request(Method.DaemonReload, {}).then(() => undefined) : undefined,
        });
      } catch (error) {
        if (error instanceof InstallError) throw new CliFailure(`warden plugin update: ${error.message}`, ExitCode.DaemonError);
        throw error;
      } finally {
        await client?.close();
      }
      if (json) outJson(result);
      else out(formatUpdate(result));
      if (result.outcome === 'rolled-back') throw new CliFailure(`warden plugin update: rolled back ${name} to ${result.from}`, ExitCode.DaemonError);
    });
}
