import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DaemonError } from '../../src/control/client.js';
import { ErrorCodes, LOG_LEVELS, PLUGIN_ERROR_CODE, RpcError } from '../../src/protocol/index.js';
import { ErrorCodes as SdkErrorCodes, PluginError } from '../../src/sdk/index.js';

const PROTOCOL_DIR = join(import.meta.dirname, '..', '..', 'src', 'protocol');

describe('the protocol layer', () => {
  it('imports nothing from the rest of src/ (only its own files and node)', () => {
    for (const file of readdirSync(PROTOCOL_DIR).filter((f) => f.endsWith('.ts'))) {
      const source = readFileSync(join(PROTOCOL_DIR, file), 'utf8');
      for (const [, specifier] of source.matchAll(/from\s+['"]([^'"]+)['"]/g)) {
        expect(specifier, `${file} imports ${specifier}`).toMatch(/^(\.\/[^/]+$|node:)/);
      }
    }
  });

  it('has one error class: DaemonError and PluginError are RpcErrors with code, message and data', () => {
    const daemon = new DaemonError(ErrorCodes.UnknownPlugin, 'unknown plugin: x', { a: 1 });
    expect(daemon).toBeInstanceOf(RpcError);
    expect([daemon.name, daemon.code, daemon.message, daemon.data]).toEqual(['DaemonError', -32001, 'unknown plugin: x', { a: 1 }]);

    const older = new PluginError('clean needs {text}', ErrorCodes.InvalidParams, { field: 'text' });
    expect(older).toBeInstanceOf(RpcError);
    expect([older.name, older.code, older.data, older.callerFault]).toEqual(['PluginError', -32602, { field: 'text' }, false]);
    const withOptions = new PluginError('no such feed', { code: 4004, callerFault: true });
    expect([withOptions.code, withOptions.callerFault]).toEqual([4004, true]);
    expect(new PluginError('boom').code).toBe(PLUGIN_ERROR_CODE);
  });

  it("gives the SDK's error codes the protocol's values", () => {
    expect(SdkErrorCodes).toEqual({
      PARSE_ERROR: ErrorCodes.ParseError,
      INVALID_REQUEST: ErrorCodes.InvalidRequest,
      METHOD_NOT_FOUND: ErrorCodes.MethodNotFound,
      INVALID_PARAMS: ErrorCodes.InvalidParams,
      INTERNAL_ERROR: ErrorCodes.InternalError,
      PLUGIN_ERROR: -32000,
    });
    expect(LOG_LEVELS).toEqual(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
    expect(Object.isFrozen(LOG_LEVELS)).toBe(true);
  });
});
