import { ErrorCode, JsonRpcErrorCode } from '../protocol/index.js';

/** How one call's end weighs on the circuit: a success, a failure that counts, or one that does not. */
export type CallOutcome = 'success' | 'failure' | 'neutral';

/** What the decision reads of a failed call's error: its code, and the data the plugin sent with it. */
export interface CallErrorFacts {
  code: number;
  data?: unknown;
}

/**
 * Whether a failed call counts against the plugin's circuit (docs/protocol.md, "Errors and the circuit"). Timeouts and exits always
 * do: the daemon saw the plugin fail, whatever an answer might claim. "Method not found", "invalid
 * params" and any error the plugin marks as the caller's fault (`error.data.callerFault === true`,
 * as the SDK sends it for bad input) are the caller's mistake, not the plugin's ill health.
 */
export function classifyCallOutcome(error: CallErrorFacts): CallOutcome {
  if (error.code === ErrorCode.CallTimeout || error.code === ErrorCode.PluginExited) return 'failure';
  if (error.code === JsonRpcErrorCode.MethodNotFound || error.code === JsonRpcErrorCode.InvalidParams) return 'neutral';
  if (isCallerFault(error.data)) return 'neutral';
  return 'failure';
}

/** `error.data.callerFault === true`, exactly: anything else (a string, 1, an array) counts as the plugin's. */
function isCallerFault(data: unknown): boolean {
  return typeof data === 'object' && data !== null && !Array.isArray(data) && (data as { callerFault?: unknown }).callerFault === true;
}
