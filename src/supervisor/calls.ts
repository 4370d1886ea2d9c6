import { ErrorCodes, RpcError } from '../host/rpc-error.js';
import type { RecentError } from './types.js';

export type CallOutcome = 'success' | 'failure' | 'neutral';

/**
 * Which failed calls count against the circuit (contract §7): errors, timeouts and exits do;
 * "method not found" and "invalid params" are the caller's mistake, not the plugin's ill health.
 */
export function classifyCallOutcome(error: RpcError): CallOutcome {
  if (error.code === ErrorCodes.MethodNotFound || error.code === ErrorCodes.InvalidParams) return 'neutral';
  return 'failure';
}

/** The last few failed calls of one plugin, for `plugin.get`. */
export class RecentErrors {
  private readonly entries: RecentError[] = [];

  constructor(private readonly capacity: number) {}

  add(method: string, error: RpcError, now: number): void {
    const entry: RecentError = { time: new Date(now).toISOString(), method, message: error.message, code: error.code };
    const stack = (error.data as { stack?: unknown } | null | undefined)?.stack;
    if (typeof stack === 'string') entry.stack = stack;
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.shift();
  }

  list(): RecentError[] {
    return [...this.entries];
  }
}
