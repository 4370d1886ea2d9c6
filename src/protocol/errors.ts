/**
 * Error codes and the one error class of warden's JSON-RPC (docs/control-api.md, "Error codes"; docs/protocol.md,
 * "Errors and the circuit"): the same on the control socket and between the daemon and its plugins.
 */

/** JSON-RPC 2.0's own error codes. */
export const JsonRpcErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
} as const;

/** warden's error codes (docs/control-api.md, "Error codes"), used on the control socket and in plugin calls. */
export const ErrorCode = {
  UnknownPlugin: -32001,
  /** Also answered while the plugin is `waiting` or in `backoff`. */
  NotRunning: -32002,
  CircuitOpen: -32003,
  CallTimeout: -32004,
  PermissionDenied: -32005,
  PluginExited: -32006,
  /** e.g. `start` of an `invalid` plugin. */
  NotAllowedInState: -32007,
} as const;

/** Every error code warden answers with: JSON-RPC's own and warden's. */
export const ErrorCodes = { ...JsonRpcErrorCode, ...ErrorCode } as const;
export type ErrorCodeValue = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** The code the SDK answers with when a plugin's method throws without naming one (docs/protocol.md). */
export const PLUGIN_ERROR_CODE = -32000;

/**
 * A JSON-RPC error travelling from a plugin or the daemon to a caller: `{code, message, data}` as the wire carries it.
 * The control client's `DaemonError` and the SDK's `PluginError` extend it.
 */
export class RpcError extends Error {
  readonly code: number;
  readonly data: unknown;

  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = 'RpcError';
    this.code = code;
    this.data = data;
  }
}
