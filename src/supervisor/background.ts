/**
 * Work nobody awaits — a dependent resumed or suspended, a reload marking a cycle, a quota stop, a
 * lifecycle step run off a process event or a timer — goes through here, so that its failure is
 * logged with what it was (and whose), never lost as an unhandled rejection.
 */

/** Where a failure is logged: a pino logger is one. */
export interface FailureLog {
  error(bindings: Record<string, unknown>, message: string): void;
}

/** The log itself, or how to get it when the failure happens (a plugin's logger names its current pid). */
export type FailureLogSource = FailureLog | (() => FailureLog);

/**
 * Resolves once `promise` has settled, never rejects: a failure is logged as `<what> failed: <message>`,
 * with `bindings` (e.g. `{ plugin }`) and the stack. For work that is awaited together but must not
 * fail the rest (boot of every plugin).
 */
export function settled(log: FailureLogSource, what: string, promise: PromiseLike<unknown>, bindings: Record<string, unknown> = {}): Promise<void> {
  return Promise.resolve(promise).then(
    () => undefined,
    (reason: unknown) => {
      const error = reason instanceof Error ? reason : new Error(String(reason));
      const logger = typeof log === 'function' ? log() : log;
      logger.error({ ...bindings, stack: error.stack }, `${what} failed: ${error.message}`);
    },
  );
}

/** Fire and forget: `promise` runs on; should it fail, the failure is logged (see settled). */
export function background(log: FailureLogSource, what: string, promise: PromiseLike<unknown>, bindings: Record<string, unknown> = {}): void {
  void settled(log, what, promise, bindings);
}
