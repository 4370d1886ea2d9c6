/** `warden plugin install SPEC [--sha256 H]` and `warden plugin remove NAME` (contract section 9). */
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ENV_NAME_RE } from '../../manifest/schema.js';
import { PLUGIN_NAME_RE, reservedVariable } from '../../protocol/index.js';
import { describeGenerated, InstallError, installPlugin, type InstallResult } from '../../toolkit/package/install.js';
import { CliFailure, ExitCode, UsageError } from '../exit.js';
import { globals, out, outJson } from './context.js';
import { configuredPluginsDir } from './plugins-dir.js';

/** What an operator reads after an install: where it went, how it was checked, what it asks for and how to grant it. */
export function formatInstall(r: InstallResult): string {
  const lines = [`installed ${r.name} ${r.version} in ${r.dir}`];
  if (r.generated) lines.push(`  no plugin.json: generated one for an MCP server (${describeGenerated(r.generated)})`);
  if (r.sha256) lines.push(`  sha256 ${r.sha256}`, `  integrity ${r.integrity}`);
  if (r.dependencies) lines.push(`  dependencies: ${r.dependencies}`);
  lines.push(`  audit: score ${r.audit.score}/100, ${r.audit.undeclared} undeclared use${r.audit.undeclared === 1 ? '' : 's'} (warden plugin audit ${r.name})`);
  if (r.asks.length === 0) lines.push('  it asks for nothing beyond its own folder: a running daemon starts it now');
  else lines.push(`  it asks for: ${r.asks.join(', ')}`, `  it waits for your approval: warden plugin grant ${r.name} (or plugins.${r.name}.permissions in the config)`);
  return lines.join('\n');
}

/** Collects `--env NAME=VALUE` options into one object (commander's argParser): a malformed one is a usage error. */
export function envAssignment(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=');
  const name = at < 0 ? value : value.slice(0, at);
  if (at < 0 || !ENV_NAME_RE.test(name)) throw new InvalidArgumentError(`--env takes NAME=VALUE with NAME an environment variable name, got ${JSON.stringify(value)}`);
  const reserved = reservedVariable(name);
  if (reserved) throw new InvalidArgumentError(`--env ${name}: ${reserved}`);
  return { ...previous, [name]: value.slice(at + 1) };
}

/** Adds `install` and `remove` under the `plugin` command. */
export function registerInstall(plugin: Command): void {
  plugin
    .command('install')
    .description('install a plugin from a folder, a .tgz or npm:PACKAGE[@RANGE] into pluginsDir: checked, validated, audited, its own dependencies installed, then moved in with one rename')
    .argument('<spec>', 'a plugin folder, a NAME-VERSION.tgz, or npm:PACKAGE[@RANGE]')
    .option('--sha256 <hex>', "refuse the tarball unless its sha256 is this (warden plugin pack prints it)")
    .option('--registry <url>', 'the npm registry for npm: packages')
    .option('--name <name>', 'an MCP server without plugin.json: the plugin name (default: the package name without its scope)')
    .addOption(new Option('--env <NAME=VALUE>', 'an MCP server without plugin.json: set a variable of its environment (repeatable)').argParser(envAssignment))
    .addHelpText(
      'after',
      `
pluginsDir is read from $WARDEN_CONFIG, else ./config/warden.yaml, else the package's own config. A
tarball is unpacked without links, absolute paths or "..", within 256 MiB; an npm package is checked
against the registry's integrity. Node dependencies install from the plugin's lockfile with install
scripts off (npm ci --ignore-scripts); Python ones into .venv from requirements.txt. The staging folder
is a dot folder inside pluginsDir, which discovery and hot reload never look at: nothing half-installed
is ever seen there. A plugin that asks for more than its own folder waits for "warden plugin grant".

With --sha256 HASH (what "warden plugin pack" prints) a tarball whose sha256 differs is refused;
npm:PACKAGE[@RANGE] fetches a package from the npm registry (--registry URL for another one), e.g.
npm:@acme/warden-feed-reader@^1.2.0.

A package without plugin.json that is an MCP server (its package.json has mcpName, or depends on
@modelcontextprotocol/sdk) gets one generated: "protocol": "mcp", its bin as main, ./data as the folder
it may write, each variable its code reads for a data path (MEMORY_FILE_PATH, DATA_DIR) pointed into
./data, and the other variables, the network and child processes its code uses asked for, to await
"warden plugin grant". --name NAME names the plugin; --env NAME=VALUE (repeatable) sets a variable,
e.g. npm:@modelcontextprotocol/server-memory --env MEMORY_FILE_PATH=./data/memory.jsonl.

Examples:
  $ warden plugin install ./feed-reader
  $ warden plugin install packed/feed-reader-py-0.1.0.tgz`,
    )
    .action(async (spec: string, options: { sha256?: string; registry?: string; name?: string; env?: Record<string, string> }, command: Command) => {
      const { json } = globals(command);
      if (options.sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(options.sha256)) throw new UsageError('warden plugin install: --sha256 takes 64 hex digits');
      if (options.name !== undefined && !PLUGIN_NAME_RE.test(options.name)) throw new UsageError(`warden plugin install: --name ${JSON.stringify(options.name)} is not a plugin name (${PLUGIN_NAME_RE.source})`);
      const pluginsDir = await configuredPluginsDir('install');
      let result: InstallResult;
      try {
        result = await installPlugin(spec, { pluginsDir, sha256: options.sha256, registry: options.registry, name: options.name, env: options.env, log: json ? undefined : (line) => process.stderr.write(`${line}\n`) });
      } catch (error) {
        if (error instanceof InstallError) throw new CliFailure(`warden plugin install: ${error.message}; nothing was installed`, ExitCode.DaemonError);
        throw error;
      }
      if (json) outJson(result);
      else out(formatInstall(result));
    });

  plugin
    .command('remove')
    .description("remove an installed plugin's folder from pluginsDir (hot reload stops it in a running daemon)")
    .argument('<name>', 'the plugin')
    .addHelpText(
      'after',
      `
The folder is first renamed to a dot folder (which discovery and hot reload ignore), so the plugin
disappears at once and whole, then deleted. A running daemon with hot reload stops it and forgets it.

Examples:
  $ warden plugin remove feed-reader
  $ warden plugin remove feed-reader-py`,
    )
    .action(async (name: string, _options: unknown, command: Command) => {
      if (!PLUGIN_NAME_RE.test(name)) throw new UsageError(`warden plugin remove: ${JSON.stringify(name)} is not a plugin name`);
      const pluginsDir = await configuredPluginsDir('remove');
      const dir = path.join(pluginsDir, name);
      if (!existsSync(dir)) throw new CliFailure(`warden plugin remove: no plugin folder ${dir}`, ExitCode.DaemonError);
      const gone = path.join(pluginsDir, `.remove-${name}-${randomBytes(4).toString('hex')}`);
      await rename(dir, gone);
      await rm(gone, { recursive: true, force: true });
      if (globals(command).json) outJson({ removed: name, dir });
      else out(`removed ${name} (${dir})`);
    });
}
