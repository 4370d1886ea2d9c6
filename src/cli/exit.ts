export { ExitCode } from '../protocol/index.js';
import { ExitCode } from '../protocol/index.js';

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
