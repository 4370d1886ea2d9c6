import type { CircuitSettings } from '../config/types.js';
import type { HostLike } from './host-like.js';
import { ErrorCodes, RpcError } from '../protocol/index.js';
import type { PluginMetrics } from '../metrics/types.js';
import { classifyCallOutcome, type CallOutcome } from '../policies/call-outcome.js';
import { CircuitBreaker } from '../policies/circuit-breaker.js';
import type { Clock } from '../policies/clock.js';
import type { CircuitState, RecentError } from '../protocol/index.js';

export { classifyCallOutcome, type CallOutcome };

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
  /** Where the gate says what happened (the plugin's logger, so each line carries its name). */
  log(): CallLog;
}

/** The two levels the gate logs at; a pino logger is one. */
export interface CallLog {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
}

/** Longest error message quoted in a failed call's log line. */
const SUMMARY_CHARS = 300;

/**
 * Everything between an accepted call and the plugin's process: the circuit breaker, the
 * timeout, the metrics and the record of failed calls. Whichever process serves the call
 * (the current one, or the new one after a reload), the plugin's circuit is one.
 */
export class CallGate {
  private readonly circuit: CircuitBreaker;
  private readonly recent = new RecentErrors(20);
  private cooldownMs: number;
  /** Why the circuit is being closed by hand (an operator's action), for the line that says so. */
  private closing: string | null = null;

  constructor(private readonly options: CallGateOptions) {
    const { plugin, metrics } = options;
    this.cooldownMs = options.circuit.cooldownMs;
    this.circuit = new CircuitBreaker(options.circuit, options.clock, (from, to, failures) => {
      metrics.setCircuit(plugin, to);
      this.logCircuit(from, to, failures);
    });
    metrics.setCircuit(plugin, this.circuit.state);
  }

  get circuitState(): CircuitState {
    return this.circuit.state;
  }

  recentErrors(): RecentError[] {
    return this.recent.list();
  }

  updateSettings(circuit: CircuitSettings): void {
    this.cooldownMs = circuit.cooldownMs;
    this.circuit.updateSettings(circuit);
  }

  /** The operator acted (restart, enable, …): closed, streak forgotten; `why` goes in the log line, if it was not closed already. */
  reset(why: string): void {
    this.closing = why;
    try {
      this.circuit.reset();
    } finally {
      this.closing = null;
    }
  }

  async call(host: Pick<HostLike, 'declares' | 'request'>, method: string, params: unknown, timeoutMs: number): Promise<unknown> {
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
      // Said before the circuit moves, so the log reads in order: the failed call, then the circuit opening.
      this.logFailedCall(method, rpcError, outcome);
      this.circuit.release(permit, outcome);
      this.recent.add(method, rpcError, this.options.clock.now());
      if (outcome === 'failure') this.options.onFailure(method, rpcError);
      throw rpcError;
    }
  }

  /** One line per failed call: method, code and the message's first line; the caller's fault at info, the rest at warn. */
  private logFailedCall(method: string, error: RpcError, outcome: CallOutcome): void {
    const summary = `call ${method} failed: ${error.code} ${oneLine(error.message)}`;
    const fields = { method, code: error.code };
    if (outcome === 'failure') this.options.log().warn(fields, summary);
    else this.options.log().info(fields, `${summary} (the caller's fault: not counted against the circuit)`);
  }

  /** Every move of the circuit, with why: open (warn), half-open and closed (info). */
  private logCircuit(from: CircuitState, to: CircuitState, failures: number): void {
    const log = this.options.log();
    const failFast = `calls fail fast with ${ErrorCodes.CircuitOpen} for ${formatMs(this.cooldownMs)}`;
    if (to === 'open') {
      const fields = { circuit: to, failures, cooldownMs: this.cooldownMs };
      if (from === 'half-open') log.warn(fields, `circuit open again: the trial call failed; ${failFast}`);
      else log.warn(fields, `circuit open after ${failures} consecutive failed calls: ${failFast}`);
    } else if (to === 'half-open') {
      log.info({ circuit: to }, 'circuit half-open: the next call is a trial');
    } else {
      log.info({ circuit: to }, `circuit closed: ${this.closing ?? 'the trial call succeeded'}`);
    }
  }
}

/** The first line of a message, shortened: a log line stays one line. */
function oneLine(message: string): string {
  const lines = message.trim().split(/\r?\n/);
  const first = lines[0] ?? '';
  if (first.length > SUMMARY_CHARS) return `${first.slice(0, SUMMARY_CHARS)}…`;
  return lines.length > 1 ? `${first} …` : first;
}

/** 300 → "300ms", 30000 → "30s", 1500 → "1.5s". */
function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${Number((ms / 1000).toFixed(3))}s`;
}
