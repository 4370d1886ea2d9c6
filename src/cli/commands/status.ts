/** `warden status [NAME] [--json]`. */
import type { Command } from 'commander';
import { Method, type PluginDetails } from '../../protocol/index.js';
import { formatStatus, formatUptime } from '../format.js';
import { globals, out, outJson, withClient } from './context.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show the daemon and every plugin (or one plugin in detail)')
    .argument('[name]', 'one plugin: its limits, usage, enforcement and recent errors')
    .addHelpText(
      'after',
      `
Examples:
  $ warden status                 the table: name, version, kind, state, pid, uptime, restarts, circuit, reason
  $ warden status echo            one plugin in detail
  $ warden status --json          the plugins as a JSON array of PluginStatus objects`,
    )
    .action(async (name: string | undefined, _options: unknown, command: Command) => {
      const { json } = globals(command);
      await withClient(command, async (client) => {
        if (name !== undefined) {
          const detail = await client.request(Method.PluginGet, { name });
          if (json) outJson(detail);
          else out(formatDetail(detail));
          return;
        }
        const status = await client.request(Method.Status, {});
        if (json) outJson(status.plugins);
        else out(formatStatus(status, { width: process.stdout.isTTY ? process.stdout.columns : undefined }));
      });
    });
}

function formatDetail(p: PluginDetails): string {
  const lines: string[] = [];
  const row = (key: string, value: unknown): void => {
    lines.push(`${`${key}:`.padEnd(13)}${value === null || value === undefined || value === '' ? '-' : String(value)}`);
  };
  row('name', p.name);
  row('version', p.version);
  row('kind', p.kind);
  row('state', p.state);
  row('pid', p.pid);
  row('uptime', formatUptime(p.startedAt));
  row('restarts', p.restarts);
  row('circuit', p.circuit);
  if (p.mcp) row('mcp', `protocol ${p.mcp.protocolVersion}${p.mcp.serverInfo?.name ? ` · server ${p.mcp.serverInfo.name}${p.mcp.serverInfo.version ? ` ${p.mcp.serverInfo.version}` : ''}` : ''}`);
  row('reason', p.reason);
  row('last error', p.lastError ? `${p.lastError.time} ${p.lastError.kind}: ${p.lastError.message}` : null);
  if (p.usage) {
    const u = p.usage;
    row('usage', `cpu ${u.cpuPercent.toFixed(1)}% · memory ${(u.memoryBytes / 1048576).toFixed(1)} MiB · handles ${u.handles} · processes ${u.processes}`);
  } else row('usage', null);
  if (p.limits) {
    const l = p.limits;
    row('limits', `cpu ${l.cpuPercent}% · memory ${l.memoryMb} MiB · handles ${l.handles} · processes ${l.processes}`);
  }
  const enforcement = Object.entries(p.enforcement ?? {});
  row('enforcement', enforcement.length ? enforcement.map(([k, v]) => `${k}=${v}`).join(' · ') : null);
  if (p.permissions) {
    const { fs, network, childProcess, env } = p.permissions;
    const paths = (list: string[]) => (list.length ? list.join(', ') : 'none');
    row('permissions', `read ${paths(fs.read)} · write ${paths(fs.write)} · network ${network ? 'yes' : 'no'} · child processes ${childProcess ? 'yes' : 'no'} · env ${paths(env)}`);
  }
  if (p.events) row('events', `${p.events.delivered} delivered · ${p.events.queued} queued · ${p.events.dropped} dropped`);
  for (const s of p.schedules ?? []) {
    const last = s.lastRun ? (s.lastRun.ok ? 'ok' : `failed: ${s.lastRun.error ?? ''}`) : 'never';
    row('schedule', `${s.cron} ${s.method} · next ${s.nextRun ?? '-'} · last ${last} · ${s.runs} runs, ${s.skippedOverlap + s.skippedNotRunning} skipped`);
  }
  const recent = p.recentErrors ?? [];
  if (recent.length) {
    lines.push('recent errors:');
    for (const e of recent) lines.push(`  ${e.time} ${e.method}: ${e.message}${e.code !== undefined ? ` (code ${e.code})` : ''}`);
  }
  return lines.join('\n');
}
