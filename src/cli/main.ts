#!/usr/bin/env node
/**
 * The `warden` command's entry point, and the daemon's one entry: the CLI, `npm start`, the systemd unit
 * and the tests all start the daemon as `main.js daemon`. Its V8 settings (daemon/young-generation.ts) are
 * applied here, before any other module is loaded, and a plain `daemon [--config FILE]` goes straight to
 * the daemon without loading the CLI (commander and every command). Anything else is the CLI program's (program.ts).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { holdYoungGeneration } from '../daemon/young-generation.js';
import { ExitCode } from './exit.js';

/** The subcommand: the first argument that is neither a global option nor its value. */
function commandOf(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--socket') i += 1;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/** `daemon`, `daemon --config FILE`, `daemon -c FILE` or `daemon --config=FILE`: its config flag; null for anything else (commander's to parse). */
function plainDaemon(argv: string[]): { config?: string } | null {
  if (argv[0] !== 'daemon') return null;
  const [first, second, ...more] = argv.slice(1);
  if (first === undefined) return {};
  if (more.length > 0) return null;
  if (second === undefined && first.startsWith('--config=') && first.length > '--config='.length) return { config: first.slice('--config='.length) };
  if ((first === '--config' || first === '-c') && second !== undefined && !second.startsWith('-')) return { config: second };
  return null;
}

/** The daemon without the CLI program; a failure is reported as the CLI would (loaded only then). */
async function runPlainDaemon(flag: string | undefined): Promise<void> {
  try {
    const [{ resolveConfigPath }, { runDaemon }] = await Promise.all([import('../config/load.js'), import('../daemon/main.js')]);
    await runDaemon({ configPath: resolveConfigPath({ flag }) });
  } catch (error) {
    const { exitCodeFor } = await import('./program.js');
    process.exitCode = exitCodeFor(error);
  }
}

/** Whether this module is the process's entry (also through the installed symlink), not an import. */
function isMain(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  const argv = process.argv.slice(2);
  if (commandOf(argv) === 'daemon') holdYoungGeneration();
  // A reader that went away (`warden logs -f | head`) ends the output, not in an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(ExitCode.Ok);
    throw error;
  });
  const daemon = plainDaemon(argv);
  if (daemon) await runPlainDaemon(daemon.config);
  else {
    const { run } = await import('./program.js');
    const code = await run(argv);
    if (code !== undefined) process.exitCode = code;
  }
}
