/** How a plugin process ended. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be spawned at all. */
  error?: string;
  /** The last line it wrote on stderr, which usually says why it died. */
  lastStderr?: string;
  /** V8 said it ran out of heap: the hard memory limit (--max-old-space-size) stopped it. */
  heapExhausted?: boolean;
}

export function describeExit(exit: ExitInfo): string {
  let text: string;
  if (exit.error) text = `could not start: ${exit.error}`;
  else if (exit.signal) text = `killed by ${exit.signal}`;
  else text = `exit code ${exit.code ?? 'unknown'}`;
  const failed = exit.error !== undefined || exit.signal !== null || exit.code !== 0;
  return failed && exit.lastStderr ? `${text}; last stderr: ${exit.lastStderr}` : text;
}
