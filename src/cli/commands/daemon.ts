/** `warden daemon [--config FILE]`: the supervisor in the foreground. */
import type { Command } from 'commander';

export function registerDaemon(program: Command): void {
  program
    .command('daemon')
    .description('run the supervisor in the foreground (what systemd starts)')
    .option('-c, --config <file>', 'the config file (default: $WARDEN_CONFIG, else config/warden.yaml)')
    .addHelpText(
      'after',
      `
Stops every plugin and exits 0 on SIGTERM or SIGINT; SIGHUP re-reads the config.
Exits 78 when the config is invalid at start.

Examples:
  $ warden daemon
  $ warden daemon --config /etc/warden/warden.yaml`,
    )
    .action(async (options: { config?: string }) => {
      // Loaded only here: the other commands never pay for the daemon's modules.
      const { resolveConfigPath } = await import('../../config/load.js');
      const { runDaemon } = await import('../../daemon/main.js');
      await runDaemon({ configPath: resolveConfigPath({ flag: options.config }) });
    });
}
