/** The `warden` command line: program wiring and exit codes (docs/control-api.md, "The CLI"). */
import { Command, CommanderError } from 'commander';
import { DaemonError, DaemonUnreachableError } from '../control/client.js';
import { WARDEN_VERSION } from '../version.js';
import { registerCall } from './commands/call.js';
import { registerDaemon } from './commands/daemon.js';
import { registerLogs } from './commands/logs.js';
import { registerMcp } from './commands/mcp.js';
import { registerPluginActions } from './commands/plugin.js';
import { registerPluginToolkit } from './commands/plugin-toolkit.js';
import { registerReload } from './commands/reload.js';
import { registerStatus } from './commands/status.js';
import { CliFailure, ExitCode, UsageError, type ExitCodeValue } from './exit.js';

/** Builds the program; commander's own errors throw (`exitOverride`) instead of exiting. */
export function createProgram(): Command {
  const program = new Command('warden');
  program
    .description('warden — a process-isolated plugin supervisor. Talks to the daemon over its control socket.')
    .version(WARDEN_VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('--socket <path>', "the daemon's control socket (default: $WARDEN_SOCKET, else a config's socket.path: see warden --help)")
    .option('--json', 'print JSON instead of text')
    // Subcommands inherit these settings: errors throw, and their help lists the global options.
    .exitOverride()
    .configureHelp({ showGlobalOptions: true })
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `
--socket and --json may come before or after the command.

The daemon's socket: --socket, else $WARDEN_SOCKET, else the socket.path of $WARDEN_CONFIG's config;
else the first that answers of: the socket.path of ./config/warden.yaml (when that file is present),
that of the package's own config/warden.yaml, and /run/warden/warden.sock.

Exit codes: 0 success · 1 the daemon answered with an error, or the plugin is not running after
start, restart or enable · ${ExitCode.Usage} usage error · ${ExitCode.Unreachable} the daemon cannot be reached

Examples:
  $ warden status
  $ warden restart echo
  $ warden call text-processor clean '{"text": "  Hello, World!  "}'
  $ warden logs file-connector -f --level warn
  $ warden plugin grant file-connector
  $ warden --socket /run/warden/warden.sock status --json
  $ warden daemon --config /etc/warden/warden.yaml`,
    );

  registerStatus(program);
  registerPluginActions(program);
  registerCall(program);
  registerLogs(program);
  registerReload(program);
  registerDaemon(program);
  registerPluginToolkit(program);
  registerMcp(program);
  return program;
}

function fail(message: string, code: ExitCodeValue): ExitCodeValue {
  process.stderr.write(`${message}\n`);
  return code;
}

/** Maps anything a command threw to its message on stderr and the exit code. */
export function exitCodeFor(error: unknown): ExitCodeValue {
  if (error instanceof CommanderError) {
    // commander has printed its message (or the help / version) already.
    return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
  }
  if (error instanceof UsageError) return fail(error.message, ExitCode.Usage);
  if (error instanceof DaemonError) return fail(`error: ${error.message} (code ${error.code})`, ExitCode.DaemonError);
  if (error instanceof DaemonUnreachableError) return fail(`error: ${error.message}`, ExitCode.Unreachable);
  if (error instanceof CliFailure) return fail(`error: ${error.message}`, error.exitCode);
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return fail(`warden: internal error: ${detail}`, ExitCode.Internal);
}

/** Runs the CLI on `argv` (without `node` and the script); resolves with the exit code, or undefined to leave it be. */
export async function run(argv: string[]): Promise<ExitCodeValue | undefined> {
  try {
    await createProgram().parseAsync(argv, { from: 'user' });
    return undefined;
  } catch (error) {
    return exitCodeFor(error);
  }
}
