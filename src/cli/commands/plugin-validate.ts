/** `warden plugin validate [DIR] [--min-score N]`: every problem of a plugin folder at once (docs/manifest.md, "Validation rules"). */
import path from 'node:path';
import type { Command } from 'commander';
import { validatePlugin, validationExitCode, type ValidationReport } from '../../toolkit/validate.js';
import { CliFailure, ExitCode } from '../exit.js';
import { globals, out, outJson } from './context.js';
import { minScore } from './plugin-audit.js';

/** Adds `validate` under the `plugin` command. */
export function registerValidate(plugin: Command): void {
  plugin
    .command('validate')
    .description("checks a plugin folder as the daemon would, listing every problem at once: plugin.json, its entry, method schemas and examples, engines.warden, and the audit")
    .argument('[dir]', 'the plugin folder (default: the current folder)')
    .option('--min-score <n>', 'an audit score under n (0-100) is a problem', minScore)
    .addHelpText(
      'after',
      `
Checks, all reported together:
  plugin.json     the schema (each problem with its path; a misspelt key gets a did-you-mean), method
                  schemas and their examples, engines.warden against this warden's version
  the entry       main: a JavaScript file inside the folder that node runs (not TypeScript); command[0]:
                  an executable path, or a name on PATH (only a warning when missing: production may have it)
  the audit       the score of \`warden plugin audit\`; its undeclared uses are warnings

Exit codes: 0 valid (warnings allowed) · 1 at least one problem · ${ExitCode.Usage} bad option

Examples:
  $ warden plugin validate plugins/echo
  $ warden plugin validate plugins/echo --min-score 50
  $ warden plugin validate plugins/echo --json`,
    )
    .action(async (dir: string | undefined, options: { minScore?: number }, command: Command) => {
      const report = await validatePlugin(path.resolve(dir ?? '.'), options.minScore !== undefined ? { minScore: options.minScore } : {});
      if (globals(command).json) outJson(report);
      else out(formatValidation(report));
      if (validationExitCode(report) !== 0) {
        const n = report.problems.length;
        throw new CliFailure(`${report.dir}: ${n} problem${n === 1 ? '' : 's'}`, ExitCode.DaemonError);
      }
    });
}

/** The human report: ✓ or ✗ lines, the warnings, then the audit summary. */
export function formatValidation(report: ValidationReport): string {
  const lines = [`${report.dir}`];
  if (report.problems.length === 0) lines.push('✓ plugin.json');
  for (const problem of report.problems) lines.push(`✗ ${problem}`);
  for (const warning of report.warnings) lines.push(`! ${warning}`);
  if (report.audit) {
    const undeclared = report.audit.findings.filter((f) => !f.declared && f.capability !== 'analysis').length;
    const uses = undeclared === 0 ? 'no undeclared use' : `${undeclared} undeclared use${undeclared === 1 ? '' : 's'} (warden plugin audit shows them all)`;
    lines.push(`audit: score ${report.audit.score}/100, ${uses}`);
  }
  const n = report.problems.length;
  lines.push(n === 0 ? 'valid' : `invalid: ${n} problem${n === 1 ? '' : 's'}`);
  return lines.join('\n');
}
