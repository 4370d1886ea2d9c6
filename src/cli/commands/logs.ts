/** `warden logs [NAME] [-n N] [-f] [--level L] [--json]`. */
import { Option, type Command } from 'commander';
import { Method, Notification, LOG_LEVELS, type LogEntry, type LogsTailParams } from '../../protocol/index.js';
import type { ControlClient } from '../../control/client.js';
import { CliFailure, ExitCode } from '../exit.js';
import { formatEntry } from '../../logging/format.js';
import { globals, wholeNumber, withClient } from './context.js';

type Entry = LogEntry;

interface LogsOptions {
  lines?: number;
  follow?: boolean;
  level?: LogsTailParams['level'];
}

export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description("print the daemon's and the plugins' recent log entries")
    .argument('[name]', "only this plugin's entries")
    .addOption(new Option('-n, --lines <n>', 'how many recent entries').argParser(wholeNumber('-n', 0)))
    .option('-f, --follow', 'keep printing new entries until Ctrl-C')
    .addOption(new Option('--level <level>', 'only this level and above').choices(LOG_LEVELS))
    .addHelpText(
      'after',
      `
Examples:
  $ warden logs                        recent entries of the daemon and every plugin
  $ warden logs file-connector -n 50   the last 50 entries of one plugin
  $ warden logs -f --level warn        follow warnings and errors
  $ warden logs --json | jq .msg       one JSON entry per line`,
    )
    .action(async (name: string | undefined, options: LogsOptions, command: Command) => {
      const { json } = globals(command);
      const color = !json && process.stdout.isTTY === true && !process.env.NO_COLOR;
      const print = (entry: Entry): void => {
        process.stdout.write(`${json ? JSON.stringify(entry) : formatEntry(entry, { color })}\n`);
      };
      const params: LogsTailParams = {};
      if (name !== undefined) params.name = name;
      if (options.lines !== undefined) params.lines = options.lines;
      if (options.level !== undefined) params.level = options.level;
      if (options.follow) params.follow = true;

      await withClient(command, async (client) => {
        if (!options.follow) {
          const result = await client.request(Method.LogsTail, params);
          for (const entry of result?.entries ?? []) print(entry);
          return;
        }
        await follow(client, params, print);
      });
    });
}

/** Prints the backlog, then every `logs.entry` notification until a signal (exit 0) or the daemon hangs up. */
async function follow(client: ControlClient, params: LogsTailParams, print: (entry: Entry) => void): Promise<void> {
  // Entries that arrive before the backlog's answer wait for it, so the order stays right.
  let early: Entry[] | null = [];
  client.onNotification(Notification.LogsEntry, (raw) => {
    const entry = unwrapEntry(raw);
    if (!entry) return;
    if (early) early.push(entry);
    else print(entry);
  });

  let onSignal: () => void = () => {};
  const signalled = new Promise<'signal'>((resolve) => {
    onSignal = () => resolve('signal');
  });
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  try {
    const streaming = (async () => {
      const result = await client.request(Method.LogsTail, params);
      for (const entry of result?.entries ?? []) print(entry);
      for (const entry of early ?? []) print(entry);
      early = null;
      await client.closed;
      return 'closed' as const;
    })();
    if ((await Promise.race([signalled, streaming])) === 'closed') {
      throw new CliFailure(`the warden daemon at ${client.socketPath} closed the connection`, ExitCode.Unreachable);
    }
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}

/** `logs.entry` params are the LogEntry itself. */
function unwrapEntry(raw: unknown): Entry | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  return raw as Entry;
}
