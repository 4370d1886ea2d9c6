/**
 * Which control socket the CLI talks to (docs/control-api.md, "Finding the socket"), and the connection to it.
 *
 * The sources, in order:
 *   1. `--socket PATH`                        } named by the operator:
 *   2. `$WARDEN_SOCKET`                       } the only place tried
 *   3. the socket of `$WARDEN_CONFIG`'s config }
 *   4. the socket of `./config/warden.yaml`, when that file is present (relative to the current folder)
 *   5. the socket of the package's own `config/warden.yaml` (found from this file, wherever it is installed)
 *   6. the production socket, `/run/warden/warden.sock`
 * 4 to 6 are defaults: each is tried in turn until a daemon answers. A config file is read only for its
 * `socket.path`, leniently: a config just edited into an invalid state still leads to the daemon (which
 * is running with the previous one); a file that cannot be read, or whose socket key cannot, is skipped
 * with a warning, for the next source.
 */
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectControl, DaemonUnreachableError, describeSocketError, type ControlClient } from '../control/client.js';
import { CliFailure, ExitCode } from './exit.js';
import { readConfigSocket } from './config-socket.js';

export const PRODUCTION_SOCKET = '/run/warden/warden.sock';

/** The package's own default config: `<package>/config/warden.yaml`, from `<package>/dist/cli/socket.js`. */
export const PACKAGE_CONFIG = fileURLToPath(new URL('../../config/warden.yaml', import.meta.url));

export interface SocketCandidate {
  path: string;
  /** Where the path came from, for messages: `from --socket`, `from ./config/warden.yaml`, `the production default`. */
  from: string;
  /** From the config of the current folder. */
  local?: boolean;
}

export interface SocketPlan {
  /** In the order they are tried. */
  candidates: SocketCandidate[];
  /** Sources passed over because their config could not be read, each `<source>: <reason>`, in order. */
  skipped: string[];
}

export interface PlanOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** The sockets to try, in order (see the top of this file). */
export async function planSockets(flag: string | undefined, options: PlanOptions = {}): Promise<SocketPlan> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  if (flag) return { candidates: [{ path: path.resolve(cwd, flag), from: 'from --socket' }], skipped: [] };
  if (env['WARDEN_SOCKET']) return { candidates: [{ path: path.resolve(cwd, env['WARDEN_SOCKET']), from: 'from $WARDEN_SOCKET' }], skipped: [] };

  const { resolveConfigPath, DEFAULT_CONFIG_PATH } = await import('../config/load.js');
  const skipped: string[] = [];
  if (env['WARDEN_CONFIG']) {
    const file = resolveConfigPath({ env: { WARDEN_CONFIG: env['WARDEN_CONFIG'] }, cwd });
    const source = `$WARDEN_CONFIG ${file}`;
    const read = await readConfigSocket(file);
    if (read.ok) return { candidates: [{ path: read.path, from: `from ${source}` }], skipped };
    skipped.push(`${source}: ${read.reason}`);
  }

  const candidates: SocketCandidate[] = [];
  const consider = async (file: string, source: string, local: boolean): Promise<void> => {
    const read = await readConfigSocket(file);
    if (read.ok) candidates.push({ path: read.path, from: `from ${source}`, local });
    else skipped.push(`${source}: ${read.reason}`);
  };
  const local = resolveConfigPath({ env: {}, cwd });
  if (existsSync(local)) await consider(local, `./${DEFAULT_CONFIG_PATH}`, true);
  if (existsSync(PACKAGE_CONFIG) && !sameFile(local, PACKAGE_CONFIG)) {
    await consider(PACKAGE_CONFIG, `the package's config ${PACKAGE_CONFIG}`, false);
  }
  candidates.push({ path: PRODUCTION_SOCKET, from: 'the production default' });
  const seen = new Set<string>();
  return { candidates: candidates.filter((c) => !seen.has(c.path) && seen.add(c.path)), skipped };
}

function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return path.resolve(a) === path.resolve(b);
  }
}

/** Errors that mean "no daemon here": the next default may be the one. Anything else is reported as is. */
const NOTHING_THERE: Record<string, string> = {
  ENOENT: 'no such file',
  ECONNREFUSED: 'connection refused',
  ENOTDIR: 'a component of the path is not a folder',
};

interface Failure {
  candidate: SocketCandidate;
  reason: string;
  nothingThere: boolean;
}

export interface ConnectOptions extends PlanOptions {
  /** Where warnings go (stderr). */
  warn?: (line: string) => void;
}

/**
 * Connects to the first socket of the plan that answers. Warns about skipped config files, and when the
 * config of the current folder led nowhere but a later default answered. Throws a CliFailure (exit 69)
 * that names every socket tried, in order, when none answers.
 */
export async function connectDaemon(flag: string | undefined, options: ConnectOptions = {}): Promise<ControlClient> {
  const warn = options.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const plan = await planSockets(flag, options);
  for (const note of plan.skipped) warn(`warden: warning: skipped ${note}; trying the next source`);

  const failures: Failure[] = [];
  for (const candidate of plan.candidates) {
    let client: ControlClient;
    try {
      client = await connectControl(candidate.path);
    } catch (error) {
      if (!(error instanceof DaemonUnreachableError)) throw error;
      const code = (error.cause as NodeJS.ErrnoException | undefined)?.code ?? '';
      const plain = NOTHING_THERE[code];
      failures.push({ candidate, reason: plain ?? describeSocketError(error.cause ?? error), nothingThere: plain !== undefined });
      // Something is there but refuses us (permissions, a hang): say so rather than go on to another daemon.
      if (plain === undefined) break;
      continue;
    }
    const local = failures.filter((f) => f.candidate.local);
    if (local.length > 0) {
      warn(`warden: warning: no daemon at ${describe(local)}; using ${candidate.path} (${candidate.from})`);
    }
    return client;
  }
  throw new CliFailure(unreachableMessage(failures), ExitCode.Unreachable);
}

function describe(failures: Failure[]): string {
  return failures.map((f) => `${f.candidate.path} (${f.candidate.from}): ${f.reason}`).join(', ');
}

/** `cannot reach the warden daemon at A (from S): R; also tried B (from T): R2, …; is it running? …`. */
export function unreachableMessage(failures: Failure[]): string {
  const [first, ...rest] = failures;
  if (!first) return 'cannot reach the warden daemon: no socket to try';
  let message = `cannot reach the warden daemon at ${describe([first])}`;
  if (rest.length > 0) message += `; also tried ${describe(rest)}`;
  if (failures.every((f) => f.nothingThere)) message += '; is it running? start it with `warden daemon`';
  return message;
}
