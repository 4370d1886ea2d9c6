/** `warden mcp`: every plugin's methods as the tools of one MCP server on stdio (cli/mcp-gateway.ts). */
import type { Command } from 'commander';
import { serveMcp } from '../mcp-gateway.js';
import { withClient } from './context.js';

export function registerMcp(program: Command): void {
  program
    .command('mcp')
    .description("an MCP server on stdio offering every plugin's methods as tools named PLUGIN.METHOD, each call through warden's call path")
    .addHelpText(
      'after',
      `
Put it in an agent's MCP configuration as a stdio server, e.g.
  {"mcpServers": {"warden": {"command": "warden", "args": ["mcp"]}}}
and every supervised tool is reachable through it, with warden's timeouts, circuit breaker, params checks
and metrics. The list follows the plugins as they start, stop and change (notifications/tools/list_changed).
Whoever may use the control socket may use it; nothing else decides. It ends when its stdin closes.`,
    )
    .action(async (_options: unknown, command: Command) => {
      await withClient(command, (client) => serveMcp(client, { input: process.stdin, output: process.stdout }));
    });
}
