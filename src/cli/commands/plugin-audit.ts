/** `warden plugin audit [DIR|NAME] [--min-score N]`: the static audit of a plugin's code (docs/audit.md). */
import { statSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { discoverPlugins } from '../../manifest/index.js';
import { PLUGIN_NAME_RE } from '../../protocol/index.js';
import { AuditManifestError, auditPlugin, type AuditReport, type Capability, type Finding } from '../../toolkit/audit/index.js';
import { CliFailure, ExitCode, UsageError } from '../exit.js';
import { globals, out, outJson } from './context.js';
import { configuredPluginsDir } from './plugins-dir.js';

/** The headings of the human report, in its order. */
const HEADINGS: Record<Capability, string> = {
  childProcess: 'child processes',
  nativeCode: 'native code',
  processBinding: 'process.binding',
  dynamicCode: 'dynamic code',
  network: 'network',
  fs: 'files',
  env: 'environment variables',
  analysis: 'not analyzed',
};

/** Adds `audit` under the `plugin` command. */
export function registerAudit(plugin: Command): void {
  plugin
    .command('audit')
    .description("what a plugin's code uses (processes, network, files, environment, dynamic code) against what its manifest declares, with a score 0-100")
    .argument('[target]', 'a plugin folder, or the name of a plugin under the configured pluginsDir (default: the current folder)')
    .option('--min-score <n>', 'exit 1 when the score is under n (0-100)', minScore)
    .addHelpText(
      'after',
      `
Reads every .js/.mjs/.cjs file with acorn and every .py file with python3's ast module (node_modules and
Python venvs excluded), and lists each use with file:line and whether plugin.json declares it.
The rules and the score: docs/audit.md.

Exit codes: 0 done (and the score is at least --min-score) · 1 the score is under --min-score ·
${ExitCode.Usage} no valid plugin.json in the folder, or no such plugin

Examples:
  $ warden plugin audit plugins/echo
  $ warden plugin audit file-connector --min-score 80
  $ warden plugin audit plugins/echo --json`,
    )
    .action(async (target: string | undefined, options: { minScore?: number }, command: Command) => {
      const dir = await resolveTarget(target);
      let report: AuditReport;
      try {
        report = await auditPlugin(dir);
      } catch (error) {
        if (error instanceof AuditManifestError) throw new UsageError(`warden plugin audit: ${error.message}`);
        throw error;
      }
      if (globals(command).json) outJson(report);
      else out(formatAudit(report));
      if (options.minScore !== undefined && report.score < options.minScore) {
        throw new CliFailure(`${report.plugin}: score ${report.score} is under --min-score ${options.minScore}`, ExitCode.DaemonError);
      }
    });
}

/** Parses --min-score: a whole number from 0 to 100 (audit and validate). */
export function minScore(value: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!(n >= 0 && n <= 100)) throw new InvalidArgumentError('--min-score must be a whole number from 0 to 100');
  return n;
}

/** A folder as given; else a plugin name looked up under the pluginsDir of the config the CLI would use. */
async function resolveTarget(target: string | undefined): Promise<string> {
  const given = path.resolve(target ?? '.');
  if (isFolder(given)) return given;
  if (target === undefined || !PLUGIN_NAME_RE.test(target)) throw new UsageError(`warden plugin audit: ${given} is not a folder`);
  const pluginsDir = await configuredPluginsDir('audit');
  const found = await installedPluginDir(pluginsDir, target);
  if (found) return found;
  throw new UsageError(`warden plugin audit: ${target} is neither a folder nor a plugin in ${pluginsDir}`);
}

/** The folder of plugin `name` under pluginsDir: pluginsDir/NAME, else the one whose plugin.json names it; null when none. */
export async function installedPluginDir(pluginsDir: string, name: string): Promise<string | null> {
  const byFolder = path.join(pluginsDir, name);
  if (isFolder(byFolder)) return byFolder;
  return (await discoverPlugins(pluginsDir)).find((p) => p.ok && p.manifest.name === name)?.dir ?? null;
}

/** Whether `p` is a folder (following links, as a plugin folder may be one). */
function isFolder(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The human report: a header with the score, then the findings grouped by capability. */
export function formatAudit(report: AuditReport): string {
  const lines = [`${report.plugin} ${report.version}  score ${report.score}/100  (${report.dir})`];
  const { javascript, python, typescript } = report.files;
  lines.push(`files: ${javascript} JavaScript, ${python} Python, ${typescript} TypeScript`);
  if (!report.python.analyzed) lines.push(`Python files not analyzed: ${report.python.problem}`);
  if (report.findings.length === 0) lines.push('', 'no findings');
  const groups = new Map<Capability, Finding[]>();
  for (const f of report.findings) groups.set(f.capability, [...(groups.get(f.capability) ?? []), f]);
  for (const [capability, findings] of groups) {
    lines.push('', `${HEADINGS[capability]}:`);
    const places = findings.map((f) => (f.line > 0 ? `${f.file}:${f.line}` : f.file));
    const width = Math.max(...places.map((p) => p.length));
    findings.forEach((f, i) => {
      const tag = capability === 'analysis' ? '' : f.declared ? '  (declared)' : '  (UNDECLARED)';
      lines.push(`  ${places[i]!.padEnd(width)}  ${f.detail}${tag}`);
    });
  }
  return lines.join('\n');
}
