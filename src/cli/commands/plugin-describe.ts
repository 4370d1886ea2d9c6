/** `warden plugin describe NAME [--openrpc]`: a plugin's methods, params and results (docs/control-api.md, "plugin.describe"). */
import type { Command } from 'commander';
import { Method, type MethodDescription, type PluginDescription } from '../../protocol/index.js';
import { globals, out, outJson, withClient } from './context.js';

// Why: a schema on one line, short enough to read in a terminal.
function schemaLine(schema: unknown): string {
  if (schema === null) return 'not described';
  const text = JSON.stringify(schema);
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

// Why: one method as an operator reads it: name, what it does, what it takes and gives, its examples.
function methodText(m: MethodDescription): string[] {
  const served = m.served === null ? '' : m.served ? '' : '  (not served by the running instance)';
  const lines = [`${m.name}${served}`];
  if (m.description) lines.push(...m.description.split('\n').map((line) => `  ${line}`));
  lines.push(`  params: ${schemaLine(m.params)}`, `  result: ${schemaLine(m.result)}`);
  for (const e of m.examples) lines.push(`  example${e.name ? ` ${e.name}` : ''}: ${JSON.stringify(e.params)}${e.result !== undefined ? ` -> ${JSON.stringify(e.result)}` : ''}`);
  return lines;
}

/** The readable description of a plugin's methods. */
export function formatDescription(d: PluginDescription): string {
  const head = `${d.name} ${d.version} (${d.state})${d.description ? ` — ${d.description}` : ''}`;
  if (d.methods.length === 0) return `${head}\n  no methods described in its manifest${d.state === 'running' ? ' or listed in its handshake' : ''}`;
  return [head, ...d.methods.flatMap((m) => methodText(m).map((line) => `  ${line}`))].join('\n');
}

/** Registers `describe` under the `plugin` command. */
export function registerDescribe(plugin: Command): void {
  plugin
    .command('describe')
    .description("a plugin's methods: what each does, its params and result (JSON Schema), its examples")
    .argument('<name>', 'the plugin')
    .option('--openrpc', 'print the OpenRPC document of its methods (rpc.discover, this plugin only)')
    .addHelpText(
      'after',
      `
Methods come from the manifest's "methods" and, while it runs, from its handshake (those without a
description are listed as "not described"). With --json the plugin.describe result.

Examples:
  $ warden plugin describe echo
  $ warden plugin describe echo --openrpc`,
    )
    .action(async (name: string, options: { openrpc?: boolean }, command: Command) => {
      const { json } = globals(command);
      if (options.openrpc) {
        const doc = await withClient(command, async (client) => {
          await client.request(Method.PluginDescribe, { name }); // an unknown plugin fails here, by name
          return client.request(Method.RpcDiscover, {});
        });
        const methods = (doc.methods as Array<Record<string, unknown>>).filter((m) => m['x-warden-plugin'] === name);
        outJson({ ...doc, methods });
        return;
      }
      const description = await withClient(command, (client) => client.request(Method.PluginDescribe, { name }));
      if (json) outJson(description);
      else out(formatDescription(description));
    });
}
