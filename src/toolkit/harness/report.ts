/** The human form of a TestReport, and the exit code it means (0 all passed, 1 any failed). */
import type { CheckResult, TestReport } from './types.js';

const MARKS: Record<CheckResult['status'], string> = { pass: '✓', fail: '✗', warn: '!', skip: '-' };

/** The report as text: header, one line per check, the plugin's log when something failed, the summary. */
export function formatTestReport(report: TestReport): string {
  const { containment: c } = report;
  const lines = [`${report.name} ${report.version}  (${report.dir})`];
  lines.push(c.wall ? 'wall: yes (bubblewrap, as the daemon runs it)' : `wall: NO — ${c.wallProblem ?? 'unknown reason'}`);
  // The leaf's name is enough to find it; every hierarchy's folder is in the JSON report.
  const leaf = c.cgroupDirs[0]?.split('/').pop();
  lines.push(leaf ? `cgroup: yes (${leaf}, removed after the run)` : `cgroup: no — ${c.cgroupProblem ?? 'unknown reason'}`);
  const l = c.limits;
  lines.push(`limits: memoryMb ${l.memoryMb}, cpuPercent ${l.cpuPercent}, handles ${l.handles}, processes ${l.processes}`, '');
  const width = Math.max(...report.checks.map((x) => x.name.length));
  for (const check of report.checks) lines.push(`${MARKS[check.status]} ${check.name.padEnd(width)}  ${check.detail}`);
  if (!report.ok) {
    lines.push('', report.log.length > 0 ? "the plugin's log (stderr):" : "the plugin's log (stderr): empty");
    for (const line of report.log) lines.push(`  ${line}`);
  }
  lines.push('', summaryLine(report));
  return lines.join('\n');
}

/** `N passed, M failed` plus warnings and skipped checks when there are any. */
export function summaryLine(report: TestReport): string {
  const extra = [report.warnings > 0 ? `${report.warnings} warning${report.warnings === 1 ? '' : 's'}` : '', report.skipped > 0 ? `${report.skipped} not run` : '']
    .filter(Boolean)
    .join(', ');
  return `${report.passed} passed, ${report.failed} failed${extra ? `, ${extra}` : ''}`;
}

/** The command's exit code for a report: 0 when every check passed (warnings allowed), 1 otherwise. */
export function testExitCode(report: TestReport): 0 | 1 {
  return report.ok ? 0 : 1;
}
