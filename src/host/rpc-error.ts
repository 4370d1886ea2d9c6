import { ErrorCode, JsonRpcErrorCode } from '../control/protocol.js';

/** A JSON-RPC error travelling from a plugin or the daemon to a caller. */
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

/** Every error code warden answers with: JSON-RPC's own and warden's (docs/control-api.md, "Error codes"). */
export const ErrorCodes = { ...JsonRpcErrorCode, ...ErrorCode } as const;
