/** `warden plugin grant|revoke NAME`: the operator's approval of what a plugin asks for (docs/manifest.md, "permissions and approval"). */
import type { Command } from 'commander';
import { PermissionAction, type PermissionActionName } from '../../protocol/index.js';
import { formatPluginLine } from '../format.js';
import { auditPlugin } from '../../toolkit/audit/index.js';
import { globals, out, outJson, withClient } from './context.js';
import { installedPluginDir } from './plugin-audit.js';
import { configuredPluginsDir } from './plugins-dir.js';

// Why: an operator approving a plugin sees what its code uses first (the audit, docs/audit.md), as after an install.
async function auditLines(name: string): Promise<string[]> {
  try {
    const pluginsDir = await configuredPluginsDir('grant');
    const dir = await installedPluginDir(pluginsDir, name);
    if (!dir) return [`audit: no folder of ${name} under ${pluginsDir} (the config this command reads); run warden plugin audit DIR`];
    const report = await auditPlugin(dir);
    const undeclared = report.findings.filter((f) => !f.declared);
    return [
      `audit: score ${report.score}/100, ${undeclared.length} undeclared use${undeclared.length === 1 ? '' : 's'}`,
      ...undeclared.slice(0, 10).map((f) => `  ${f.file}:${f.line}  ${f.detail}`),
      ...(undeclared.length > 10 ? [`  … and ${undeclared.length - 10} more (warden plugin audit ${dir})`] : []),
    ];
  } catch (error) {
    return [`audit: not run (${(error as Error).message})`];
  }
}

const HELP: Record<PermissionActionName, { description: string; after: string }> = {
  grant: {
    description: "approve the permissions a plugin's manifest asks for now; a waiting plugin then starts",
    after: `
Approves what the manifest asks for beyond the plugin's own folder (network, childProcess, env names,
fs paths outside it), as it asks now: a later version that asks for more waits for a new grant.
The approval is recorded in the daemon's state dir and survives restarts.`,
  },
  revoke: {
    description: 'withdraw the approval: the plugin waits for a new grant',
    after: `
Permissions set by the operator in plugins.<name>.permissions in the config stay approved.`,
  },
};

/** Registers `grant` and `revoke` under the `plugin` command. */
export function registerPermissionActions(plugin: Command): void {
  for (const action of Object.keys(PermissionAction) as PermissionActionName[]) {
    plugin
      .command(action)
      .description(HELP[action].description)
      .argument('<name>', 'the plugin')
      .addHelpText(
        'after',
        `${HELP[action].after}

Prints the plugin's new state, e.g. "file-connector: running (pid 4242)"; with --json its PluginStatus.${action === 'grant' ? '\nThen the audit of its code (warden plugin audit): its score and every use its manifest does not declare.' : ''}

Example:
  $ warden plugin ${action} file-connector`,
      )
      .action(async (name: string, _options: unknown, command: Command) => {
        const { json } = globals(command);
        const status = await withClient(command, (client) => client.request(PermissionAction[action], { name }));
        if (json) return outJson(status);
        out(formatPluginLine(status));
        if (action === 'grant') out((await auditLines(name)).join('\n'));
      });
  }
}
