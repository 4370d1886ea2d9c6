/** The CLI's exit codes (docs/control-api.md, "Exit codes"). */
export const ExitCode = {
  Ok: 0,
  /** The daemon answered with an error (or refused a reload). */
  DaemonError: 1,
  /** Unknown command or option, missing argument, bad value. */
  Usage: 2,
  /** The daemon cannot be reached (sysexits EX_UNAVAILABLE). */
  Unreachable: 69,
  /** A bug in the CLI itself (sysexits EX_SOFTWARE). */
  Internal: 70,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** A usage error found after commander's own checks; the message is printed as is. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure with its own message and exit code (e.g. a refused reload). */
export class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
  ) {
    super(message);
    this.name = 'CliFailure';
  }
}
