/** What every command that talks to the daemon shares: the global options and a connection. */
import { InvalidArgumentError, type Command } from 'commander';
import type { ControlClient } from '../../control/client.js';
import { connectDaemon } from '../socket.js';

export interface GlobalOptions {
  socket?: string;
  json?: boolean;
}

/** The program-level options, wherever they were given on the command line. */
export function globals(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

/** Connects to the daemon, runs `fn`, and hangs up whatever happens. */
export async function withClient<T>(command: Command, fn: (client: ControlClient) => Promise<T>): Promise<T> {
  const client = await connectDaemon(globals(command).socket);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** Writes text to stdout, adding the final newline when missing. */
export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Pretty JSON on stdout. */
export function outJson(value: unknown): void {
  out(JSON.stringify(value ?? null, null, 2));
}

/** Parses a whole number option value, for commander's `argParser`. */
export function wholeNumber(label: string, min: number): (value: string) => number {
  return (value: string) => {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`${label} must be a whole number${min > 0 ? ` of at least ${min}` : ''}`);
    }
    return n;
  };
}
