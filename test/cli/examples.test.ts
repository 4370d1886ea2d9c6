/**
 * Every command example the operator is shown runs, against a real daemon with the shipped plugins:
 * each `$ warden …` line of `warden --help` and of every subcommand's help (found by walking the
 * "Commands:" lists), and each `warden …` / `npx warden …` command of README.md — every such line of
 * its fenced code blocks, and its inline `npx warden …` examples. The examples are read from the help
 * and the README here, so a new wrong one fails this test.
 *
 * The operator's folder is laid out like the repository (config/warden.yaml, plugins/, var/), and the
 * examples run in it with no --socket and no WARDEN_* variables, as `npx warden …` from the repository
 * would. Production paths in the examples (/run/warden/warden.sock, /etc/warden/warden.yaml) stand for
 * this sandbox's. Examples run in order against the same daemon: those that take a plugin down are
 * followed by their counterpart. `warden daemon …` examples start a daemon of their own, in a folder of
 * their own, and stop it with SIGTERM; `-f` examples follow until a matching entry arrives, then get SIGINT.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectControl } from '../../src/control/client.js';
import { FAST_DEFAULTS, REPO, Sandbox, TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';
import { CLI, killLeftovers, runCli, spawnCli, type RunningCli } from './helpers/run-cli.js';

// ---------------------------------------------------------------------------------------------------
// Reading the examples

interface Example {
  /** Where it was found, for the test's name. */
  where: string;
  text: string;
  /** The warden arguments (after `warden` / `npx warden`). */
  argv: string[];
  /** Commands it is piped into, e.g. [['jq', '.msg']]. */
  pipes: string[][];
  /** A README comment after the command, e.g. `"olleh"`. */
  comment: string;
  /** WARDEN_* variables its code block exported before it. */
  env: Record<string, string>;
}

/**
 * Shell words of one example line: '…' and "…" quoting, `|` between commands, and the end of the
 * command at an unquoted `#` or a gap of two spaces or more (where help texts put their explanation).
 */
function parseCommandLine(line: string): { commands: string[][]; rest: string } {
  const commands: string[][] = [[]];
  let word: string | null = null;
  let i = 0;
  const end = (): void => {
    if (word !== null) commands.at(-1)!.push(word);
    word = null;
  };
  while (i < line.length) {
    const c = line[i]!;
    if (c === "'" || c === '"') {
      const close = line.indexOf(c, i + 1);
      if (close === -1) throw new Error(`unclosed ${c} in: ${line}`);
      word = (word ?? '') + line.slice(i + 1, close);
      i = close + 1;
    } else if (c === ' ' || c === '\t') {
      end();
      let j = i;
      while (line[j] === ' ' || line[j] === '\t') j++;
      if (j - i >= 2 && commands.some((cmd) => cmd.length > 0)) return { commands, rest: line.slice(j).trim() };
      i = j;
    } else if (c === '#' && word === null) {
      return { commands, rest: line.slice(i).trim() };
    } else if (c === '|' && word === null) {
      commands.push([]);
      i++;
    } else {
      word = (word ?? '') + c;
      i++;
    }
  }
  end();
  return { commands, rest: '' };
}

function toExample(where: string, text: string, env: Record<string, string> = {}): Example {
  const { commands, rest } = parseCommandLine(text);
  const [first = [], ...pipes] = commands;
  const start = first[0] === 'npx' ? 1 : 0;
  if (first[start] !== 'warden') throw new Error(`${where}: not a warden command: ${text}`);
  return { where, text, argv: first.slice(start + 1), pipes, comment: rest, env: { ...env } };
}

function help(path: string[]): string {
  return execFileSync(process.execPath, [CLI, ...path, '--help'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
}

/** The `$ warden …` lines of `warden --help` and of every subcommand's help, depth first. */
function helpExamples(path: string[] = []): Example[] {
  const text = help(path);
  const where = `warden ${[...path, '--help'].join(' ')}`;
  const examples = [...text.matchAll(/^ *\$ (warden\b.*)$/gm)].map((m) => toExample(where, m[1]!));
  const commands = /^Commands:\n((?: {2}.*\n?)+)/m.exec(text)?.[1] ?? '';
  for (const m of commands.matchAll(/^ {2}(\S+)/gm)) {
    if (m[1] !== 'help') examples.push(...helpExamples([...path, m[1]!]));
  }
  return examples;
}

/** Every `warden …`/`npx warden …` line of README.md's fenced code blocks, and its inline `npx warden …`. */
function readmeExamples(readme: string): Example[] {
  const examples: Example[] = [];
  let fenced = false;
  let env: Record<string, string> = {}; // what `export WARDEN_…=…` lines of the block set
  readme.split('\n').forEach((line, index) => {
    const where = `README.md:${index + 1}`;
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      env = {};
      return;
    }
    if (fenced) {
      const exported = /^\s*export (WARDEN_\w+)=(\S+)/.exec(line);
      if (exported) env[exported[1]!] = parseCommandLine(exported[2]!).commands[0]![0]!;
      const command = /^\s*(?:\$ )?((?:npx )?warden\s.*)$/.exec(line);
      if (command) examples.push(toExample(where, command[1]!, env));
      return;
    }
    for (const m of line.matchAll(/(`+)(npx warden .*?)\1/g)) examples.push(toExample(where, m[2]!));
  });
  return examples;
}

// ---------------------------------------------------------------------------------------------------
// The daemon they run against

const SHIPPED = join(REPO, 'plugins');
const PLUGIN_NAMES = readdirSync(SHIPPED, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
/** README's install steps copy the operator's own `my-plugin` into the plugins folder: here, a copy of echo. */
const OPERATORS_PLUGIN = 'my-plugin';

/** The repository's layout: config/warden.yaml, plugins/, var/. */
class OperatorFolder extends Sandbox {
  override readonly configPath = join(this.dir, 'config', 'warden.yaml');
}

function repoLikeConfig(dir: string, extra: Record<string, unknown> = {}): string {
  mkdirSync(join(dir, 'config'), { recursive: true });
  const file = join(dir, 'config', 'warden.yaml');
  writeFileSync(
    file,
    JSON.stringify({ pluginsDir: '../plugins', stateDir: '../var', socket: { path: '../var/warden.sock' }, logging: { dir: '../var/logs' }, ...extra }, null, 2),
  );
  return file;
}

let folder: OperatorFolder;
let daemon: TestDaemon;
let daemonFolder: string; // for the `warden daemon` examples
let provoked = 0;

beforeAll(async () => {
  folder = new OperatorFolder();
  for (const name of PLUGIN_NAMES) folder.addPlugin(name, { from: join(SHIPPED, name) });
  folder.addPlugin(OPERATORS_PLUGIN, { from: join(SHIPPED, 'echo'), manifest: { description: "the operator's own plugin" } });
  // The shipped notifier asks for the network: approved here as README says an operator does.
  repoLikeConfig(folder.dir, { defaults: FAST_DEFAULTS, plugins: { notifier: { permissions: { network: true } } } });
  daemon = new TestDaemon(folder);
  await daemon.start();
  for (const name of [...PLUGIN_NAMES, OPERATORS_PLUGIN]) await daemon.waitForState(name, 'running', 20_000);

  daemonFolder = mkdtempSync(join(tmpdir(), 'warden-daemon-example-'));
  mkdirSync(join(daemonFolder, 'plugins'));
  cpSync(join(SHIPPED, 'echo'), join(daemonFolder, 'plugins', 'echo'), { recursive: true });
  repoLikeConfig(daemonFolder, { defaults: FAST_DEFAULTS });
}, 60_000);

afterAll(async () => {
  killLeftovers();
  await daemon?.cleanup();
  folder?.remove();
  if (daemonFolder) rmSync(daemonFolder, { recursive: true, force: true });
});

/** The production paths of the examples, as this sandbox has them. */
function localise(value: string): string {
  const paths: Record<string, string> = {
    '/run/warden/warden.sock': folder.socketPath,
    '/etc/warden/warden.yaml': join(daemonFolder, 'config', 'warden.yaml'),
  };
  return paths[value] ?? value;
}

/** The subcommand: the first word that is not a global option or its value. */
function subcommand(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--socket') i++;
    else if (!argv[i]!.startsWith('-')) return argv[i];
  }
  return undefined;
}

/** Makes the daemon log an entry that `warden logs [NAME] -f` would show (a warning, for file-connector). */
async function provoke(name: string | undefined): Promise<void> {
  if (name === undefined || name === 'file-connector') {
    // Over the plugin's 1 MB limit: it skips the file with a warning.
    const file = join(folder.pluginsDir, 'file-connector', 'inbox', `oversized-${++provoked}.txt`);
    writeFileSync(file, 'x'.repeat(1_100_000));
    const past = new Date(Date.now() - 60_000);
    utimesSync(file, past, past);
    await daemon.call('file-connector', 'poll');
  } else {
    await daemon.request('plugin.restart', { name });
  }
}

async function follow(example: Example, argv: string[], env: Record<string, string>): Promise<void> {
  const cli = spawnCli(argv, { cwd: folder.dir, env, timeoutMs: 30_000 });
  const name = argv[argv.indexOf('logs') + 1]?.startsWith('-') === false ? argv[argv.indexOf('logs') + 1] : undefined;
  await waitFor(
    `${example.text} to print an entry`,
    async () => {
      if (cli.child.exitCode !== null) throw new Error(`it exited with ${cli.child.exitCode}: ${cli.stderr()}`);
      if (cli.stdout().length > 0) return true;
      await provoke(name);
      return cli.stdout().length > 0 || undefined;
    },
    { timeoutMs: 15_000, intervalMs: 500 },
  ).catch((error: Error) => {
    throw new Error(`${error.message}; stderr: ${cli.stderr()}`);
  });
  cli.child.kill('SIGINT');
  const r = await cli.done;
  expect(r.stderr, example.text).toBe('');
  expect(r.code, example.text).toBe(0);
}

async function runDaemonExample(example: Example, argv: string[], env: Record<string, string>): Promise<void> {
  const cli: RunningCli = spawnCli(argv, { cwd: daemonFolder, env, timeoutMs: 30_000 });
  try {
    // Its plugin running: the daemon has started them, which it does once it handles SIGTERM.
    await waitFor(`${example.text} to run its plugin`, async () => {
      if (cli.child.exitCode !== null) throw new Error(`it exited with ${cli.child.exitCode}: ${cli.stderr()}`);
      const client = await connectControl(join(daemonFolder, 'var', 'warden.sock'), { timeoutMs: 500 });
      try {
        const status = await client.request<{ plugins: { name: string; state: string }[] }>('status', {});
        return status.plugins.some((p) => p.name === 'echo' && p.state === 'running');
      } finally {
        await client.close();
      }
    }, { timeoutMs: 20_000 });
    cli.child.kill('SIGTERM');
    expect(await cli.done, example.text).toMatchObject({ code: 0, signal: null });
  } finally {
    if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
    await cli.done;
  }
}

async function run(example: Example): Promise<void> {
  const argv = example.argv.map(localise);
  const env = Object.fromEntries(Object.entries(example.env).map(([k, v]) => [k, localise(v)]));
  const command = subcommand(argv);
  if (command === 'daemon') return runDaemonExample(example, argv, env);
  if (command === 'logs' && (argv.includes('-f') || argv.includes('--follow'))) return follow(example, argv, env);

  const r = await runCli(argv, { cwd: folder.dir, env });
  expect(r.stderr, example.text).toBe('');
  expect(r.code, example.text).toBe(0);
  let output = r.stdout;
  for (const [program, ...args] of example.pipes) {
    const piped = spawnSync(program!, args, { input: output, encoding: 'utf8' });
    if ((piped.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' && program === 'jq') {
      // No jq here: what it needs is one JSON value per line.
      for (const line of output.trim().split('\n')) expect(() => JSON.parse(line), example.text).not.toThrow();
      return;
    }
    expect(piped.status, `${example.text}: ${piped.stderr}`).toBe(0);
    output = piped.stdout;
  }
  // A README comment that is JSON is the output the example promises.
  if (!example.comment.startsWith('#')) return;
  let promised: unknown;
  try {
    promised = JSON.parse(example.comment.slice(1));
  } catch {
    return; // words, not an output
  }
  expect(JSON.parse(output), example.text).toEqual(promised);
}

// ---------------------------------------------------------------------------------------------------

const HELP = helpExamples();
const README = readmeExamples(readFileSync(join(REPO, 'README.md'), 'utf8'));

describe('reading the examples', () => {
  it('splits a line into words, pipes and its comment', () => {
    expect(parseCommandLine(`warden call echo reverse '{"text": "  a  "}'   the explanation`)).toEqual({
      commands: [['warden', 'call', 'echo', 'reverse', '{"text": "  a  "}']],
      rest: 'the explanation',
    });
    expect(parseCommandLine('npx warden logs --json | jq .msg       one per line')).toEqual({
      commands: [['npx', 'warden', 'logs', '--json'], ['jq', '.msg']],
      rest: 'one per line',
    });
    expect(parseCommandLine(`npx warden call echo reverse '{"text":"hello"}' # "olleh"`).rest).toBe('# "olleh"');
  });

  it('finds the examples of the main help, of every subcommand, and of the README', () => {
    const wheres = new Set(HELP.map((e) => e.where));
    for (const command of ['status', 'start', 'stop', 'restart', 'enable', 'disable', 'call', 'logs', 'reload', 'daemon', 'plugin', 'plugin grant', 'plugin revoke']) {
      expect(wheres, command).toContain(`warden ${command} --help`);
    }
    expect(wheres).toContain('warden --help');
    expect(README.length).toBeGreaterThan(0);
  });

  it("takes a README's fenced warden lines, with the variables their block exports, and its inline npx warden", () => {
    const readme = [
      'Run `npx warden call echo pid` or `warden status NAME` (a synopsis, not an example).',
      '```sh',
      'npm start',
      '# warden picks it up',
      'export WARDEN_SOCKET=/run/warden/warden.sock   # or --socket',
      '$ warden status',
      'npx warden logs -n 5      # recent entries',
      '```',
      '```',
      'warden reload',
      '```',
    ].join('\n');
    expect(readmeExamples(readme).map(({ where, argv, env, comment }) => ({ where, argv, env, comment }))).toEqual([
      { where: 'README.md:1', argv: ['call', 'echo', 'pid'], env: {}, comment: '' },
      { where: 'README.md:6', argv: ['status'], env: { WARDEN_SOCKET: '/run/warden/warden.sock' }, comment: '' },
      { where: 'README.md:7', argv: ['logs', '-n', '5'], env: { WARDEN_SOCKET: '/run/warden/warden.sock' }, comment: '# recent entries' },
      { where: 'README.md:10', argv: ['reload'], env: {}, comment: '' },
    ]);
  });
});

describe('every example of the help runs', () => {
  for (const example of HELP) {
    it(`${example.where}: ${example.text}`, () => run(example), 60_000);
  }
});

describe('every example of the README runs', () => {
  for (const example of README) {
    it(`${example.where}: ${example.text}`, () => run(example), 60_000);
  }
});
