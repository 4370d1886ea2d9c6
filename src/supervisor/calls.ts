import type { CircuitSettings } from '../config/types.js';
import type { PluginHost } from '../host/plugin-host.js';
import { ErrorCodes, RpcError } from '../host/rpc-error.js';
import type { PluginMetrics } from '../metrics/types.js';
import { CircuitBreaker } from '../policies/circuit-breaker.js';
import type { Clock } from '../policies/clock.js';
import type { CircuitState, RecentError } from './types.js';

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

export interface CallGateOptions {
  plugin: string;
  circuit: CircuitSettings;
  clock: Clock;
  metrics: PluginMetrics;
  /** A call that failed in a way that counts: it becomes the plugin's lastError. */
  onFailure(method: string, error: RpcError): void;
}

/**
 * Everything between an accepted call and the plugin's process: the circuit breaker, the
 * timeout, the metrics and the record of failed calls. Whichever process serves the call
 * (the current one, or the new one after a reload), the plugin's circuit is one.
 */
export class CallGate {
  private readonly circuit: CircuitBreaker;
  private readonly recent = new RecentErrors(20);

  constructor(private readonly options: CallGateOptions) {
    const { plugin, metrics } = options;
    this.circuit = new CircuitBreaker(options.circuit, options.clock, (_from, to) => metrics.setCircuit(plugin, to));
    metrics.setCircuit(plugin, this.circuit.state);
  }

  get circuitState(): CircuitState {
    return this.circuit.state;
  }

  recentErrors(): RecentError[] {
    return this.recent.list();
  }

  updateSettings(circuit: CircuitSettings): void {
    this.circuit.updateSettings(circuit);
  }

  reset(): void {
    this.circuit.reset();
  }

  async call(host: PluginHost, method: string, params: unknown, timeoutMs: number): Promise<unknown> {
    if (method.startsWith('warden.')) {
      throw new RpcError(ErrorCodes.InvalidParams, `method names that start with "warden." are reserved: ${method}`);
    }
    const permit = this.circuit.tryAcquire();
    if (!permit) {
      const retry = Math.ceil(this.circuit.retryAfterMs() / 1000);
      throw new RpcError(
        ErrorCodes.CircuitOpen,
        `circuit open for ${this.options.plugin} after ${this.circuit.consecutiveFailures()} consecutive failed calls; next trial in ${retry}s`,
      );
    }
    const { plugin, metrics } = this.options;
    const started = performance.now();
    // Only declared method names become metric labels: a caller cannot explode the series.
    const label = host.declares(method) ? method : 'other';
    try {
      const result = await host.request(method, params, timeoutMs);
      this.circuit.release(permit, 'success');
      metrics.recordCall(plugin, label, (performance.now() - started) / 1000, true);
      return result;
    } catch (error) {
      metrics.recordCall(plugin, label, (performance.now() - started) / 1000, false);
      const rpcError =
        error instanceof RpcError ? error : new RpcError(ErrorCodes.InternalError, String((error as Error)?.message ?? error));
      const outcome = classifyCallOutcome(rpcError);
      this.circuit.release(permit, outcome);
      this.recent.add(method, rpcError, this.options.clock.now());
      if (outcome === 'failure') this.options.onFailure(method, rpcError);
      throw rpcError;
    }
  }
}
