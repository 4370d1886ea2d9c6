import type { ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import type { LaunchSpec } from '../sandbox/launch.js';
import { PROTOCOL_VERSION, WARDEN_VERSION } from '../version.js';
import { ErrorCodes, RpcError, type PluginProtocol } from '../protocol/index.js';
import { onHealthTick } from './health-ticks.js';
import { OutputCapture } from './capture.js';
import { describeExit, type ExitInfo } from './exit.js';
import type { OutputLimits } from './output-gate.js';
import { mcpHandshake, listTools, serverRequest, toolCall, toolResult, type McpSession } from './mcp-client.js';
import { spawnLaunch, type ParkedLaunch } from './parked-launch.js';
import { NO_ANSWER, RpcPeer } from './rpc-peer.js';
import { SandboxProcess, SANDBOX_EXIT_MS } from './sandbox-process.js';
import { spawnTurn } from './spawn-turns.js';

/** What a plugin may ask of the daemon (docs/protocol.md, "Plugin → daemon"). */
export interface PluginRequests {
  call(plugin: string, method: string, params: unknown): Promise<unknown>;
  emit(topic: string, data: unknown): void;
}

export interface HostOptions {
  name: string;
  version: string;
  launch: LaunchSpec;
  /** The plugin's logger, made once its pid is known. */
  loggerFor: (pid: number | null) => Logger;
  requests: PluginRequests;
  startTimeoutMs: number;
  health: { intervalMs: number; timeoutMs: number };
  /** What the plugin may log (stderr, `warden.log`, stray stdout) before the rest is dropped and counted. */
  output?: OutputLimits;
  /** Called once when the plugin stops answering health checks. */
  onHang?: (message: string) => void;
  /** Called once when the process is gone, whatever the cause. */
  onExit?: (exit: ExitInfo) => void;
  /** Kills every process of this plugin wherever it went (its cgroup); the last rung of the stop ladder. */
  killTree?: () => Promise<void>;
  /** This launch, spawned ahead and waiting for its fds: taken instead of a spawn while it is still there. */
  parked?: ParkedLaunch | null;
  /** What it speaks: warden's protocol (default), or MCP (mcp-client.ts maps calls, health and the handshake). */
  protocol?: PluginProtocol;
}

/** What `stop` resolves with: the exit as observed or, once its bound passed without one, an unconfirmed exit. */
export interface StopExit extends ExitInfo {
  /**
   * Set (with `code` and `signal` null) when the process was sent SIGKILL but its exit was not seen within
   * `stop`'s bound: stuck in the kernel, frozen, or a sandbox that never reports. It is still watched; the
   * real exit, when it comes, settles `waitForExit` and `onExit` as usual.
   */
  unconfirmed?: true;
}

export interface InitializeParams {
  config: Record<string, unknown>;
  state: unknown;
}

const EXIT_OUTPUT_GRACE_MS = 250;

/**
 * One running plugin process: spawn, the `warden.initialize` handshake, calls with timeouts,
 * health checks, log capture and the stop ladder on its whole process group.
 * It reports facts (exit, hang); what to do about them is the supervisor's decision.
 */
export class PluginHost {
  readonly name: string;
  private readonly options: HostOptions;
  private subprocess: ChildProcess | null = null;
  /** Behind the wall: the sandbox's init and the plugin under it (unwalled: nothing). */
  private readonly sandbox: SandboxProcess;
  /** stdout/stderr capture: log budgets, the stderr tail and what it says about the exit. */
  private readonly capture: OutputCapture;
  /** JSON-RPC with the plugin: requests and their answers, the plugin's own requests. */
  private readonly rpc: RpcPeer;
  private exitInfo: ExitInfo | null = null;
  private readonly exitWaiters: Array<(exit: ExitInfo) => void> = [];
  private leaveHealthTicks: (() => void) | null = null;
  private stopping = false;
  private logger: Logger;
  methods: string[] = [];
  private declared = new Set<string>();
  private mcp: McpSession | null = null;
  /** The tools/list that follows tools/list_changed: one at a time, and one more if the list changed meanwhile. */
  private relisting: 'idle' | 'busy' | 'again' = 'idle';

  constructor(options: HostOptions) {
    this.name = options.name;
    this.options = options;
    this.logger = options.loggerFor(null);
    this.sandbox = new SandboxProcess(options.launch, () => this.exitInfo !== null);
    this.capture = new OutputCapture({ logger: () => this.logger, output: options.output });
    this.rpc = new RpcPeer({
      write: (text, done) => this.write(text, done),
      onRequest: (method, params) => this.pluginRequest(method, params),
      onStray: (line) => this.capture.logOutput(line),
    });
  }

  /** The plugin's own process as the host sees it (behind the wall: the program bwrap runs, not bwrap). */
  get pid(): number | null {
    if (!this.options.launch.walled) return this.subprocess?.pid ?? null;
    return this.sandbox.pluginPid() ?? this.subprocess?.pid ?? null;
  }

  /**
   * Where the sampler starts: the process whose tree holds every process of the plugin, and how many
   * levels at its top are the wall's own (behind the wall: bwrap's init, which adopts every orphan).
   */
  get sampleRoot(): { pid: number; wrappers: number } | null {
    const init = this.sandbox.init;
    if (this.options.launch.walled && init !== null) return { pid: init, wrappers: 1 };
    const pid = this.subprocess?.pid;
    if (pid === undefined) return null;
    return { pid, wrappers: this.options.launch.walled ? 2 : 0 };
  }

  get exited(): boolean {
    return this.exitInfo !== null;
  }

  /** Whether the plugin listed this method in its handshake. */
  declares(method: string): boolean {
    return this.declared.has(method);
  }

  /** Spawns the process and completes the handshake; rejects with a message fit for `lastError`. */
  async start(init: InitializeParams): Promise<void> {
    const parked = this.options.parked?.take() ?? null;
    if (!parked) await spawnTurn();
    if (this.stopping) {
      parked?.kill('SIGKILL');
      this.markExited({ code: null, signal: null, error: 'stopped before it was spawned' });
      throw new Error(this.describeStartFailure(null));
    }
    const subprocess = parked ?? spawnLaunch(this.options.launch);
    this.subprocess = subprocess;
    this.logger = this.options.loggerFor(subprocess.pid ?? null);
    this.sandbox.connectExtraFds(subprocess, parked !== null);
    // Exit is taken from the process itself, not from the streams: a grandchild holding stdout open must not hide it.
    // Its last words on stderr (often why it died) may still be in the pipe when 'exit' fires:
    // let them arrive, but never wait on a grandchild that keeps the pipe open.
    subprocess.once('exit', (code, signal) => {
      const stderr = subprocess.stderr;
      const exit = this.sandbox.exitFacts(code, signal);
      const report = (): void => {
        if (!stderr || stderr.readableEnded) return this.markExited(exit);
        const done = () => this.markExited(exit);
        stderr.once('end', done);
        setTimeout(done, EXIT_OUTPUT_GRACE_MS).unref();
      };
      // bwrap killed outright: its sandbox follows a moment later (parent-death signal, then the pid
      // namespace's end). The exit is reported once the plugin's processes are gone.
      this.sandbox.whenGone(report);
    });
    subprocess.once('error', (error) => {
      if (subprocess.pid === undefined) this.markExited({ code: null, signal: null, error: error.message });
    });
    subprocess.stdin?.on('error', () => undefined); // EPIPE after exit; the exit event tells the story
    this.capture.captureStdout(subprocess, {
      onLine: (line) => this.rpc.receive(line),
      // If it was the answer to a pending call, say so now rather than let the caller wait for its timeout.
      onOversized: (bytes, id) => {
        if (id !== null) this.rpc.fail(id, ErrorCodes.InternalError, `the plugin's answer of ${bytes} bytes is over the 1 MiB line limit`);
      },
    });
    this.capture.captureStderr(subprocess);

    if (this.isMcp) {
      this.mcp = await mcpHandshake(this.mcpPeer, { name: 'warden', version: WARDEN_VERSION }, this.options.startTimeoutMs).catch((error: unknown) => {
        throw new Error(this.describeStartFailure(error, 'initialize'));
      });
      this.methods = this.mcp.tools.map((t) => t.name);
    } else {
      const response = await this.request(
        'warden.initialize',
        { protocol: PROTOCOL_VERSION, name: this.name, version: this.options.version, ...init },
        this.options.startTimeoutMs,
      ).catch((error: unknown) => {
        throw new Error(this.describeStartFailure(error, 'warden.initialize'));
      });
      const methods = (response as { methods?: unknown } | null)?.methods;
      this.methods = Array.isArray(methods) ? methods.filter((m): m is string => typeof m === 'string') : [];
    }
    this.declared = new Set(this.methods);
    // Behind the wall the plugin's own pid is known by now; its log lines carry that one.
    if (this.options.launch.walled) this.logger = this.options.loggerFor(this.pid);
    if (this.isMcp && !(await this.answersPing())) {
      this.logger.warn(`no answer to ping within ${this.options.health.timeoutMs}ms: its health is judged by its calls alone`);
      return;
    }
    this.startHealthChecks();
  }

  /** One `ping` after an MCP server's handshake: one that answers (even with an error) is checked with it from then on. */
  private answersPing(): Promise<boolean> {
    return this.rpc.request('ping', {}, this.options.health.timeoutMs).then(
      () => true,
      (error: unknown) => !(error instanceof RpcError && error.code === ErrorCodes.CallTimeout),
    );
  }

  /**
   * Sends a request and resolves with its result; rejects with an RpcError (timeout -32004, exit -32006).
   * To an MCP plugin a method is a `tools/call`, `warden.health` a `ping`, and `warden.snapshot` has no
   * state to give (null).
   */
  request(method: string, params: unknown, timeoutMs: number): Promise<unknown> {
    if (!this.isMcp) return this.rpc.request(method, params, timeoutMs);
    if (method === 'warden.health') return this.rpc.request('ping', {}, timeoutMs);
    if (method === 'warden.snapshot') return Promise.resolve(null);
    if (method.startsWith('warden.')) return Promise.reject(new RpcError(ErrorCodes.MethodNotFound, `an MCP server has no ${method}`));
    return this.rpc.request('tools/call', toolCall(method, params), timeoutMs).then(toolResult);
  }

  /** The MCP session (protocol version, server, tools) of an MCP plugin once started; null otherwise. */
  get mcpSession(): McpSession | null {
    return this.mcp;
  }

  private get isMcp(): boolean {
    return this.options.protocol === 'mcp';
  }

  /** The peer as the MCP client sees it. */
  private readonly mcpPeer = {
    request: (method: string, params: unknown, timeoutMs: number) => this.rpc.request(method, params, timeoutMs),
    notify: (method: string, params: unknown) => void this.rpc.notify(method, params),
    warn: (message: string) => this.logger.warn(message),
  };

  /**
   * A notification that resolves once the pipe has taken it: a plugin that stops reading its stdin
   * holds up only its own event queue (which is bounded), never the daemon's memory.
   */
  notifyWhenWritten(method: string, params: unknown): Promise<boolean> {
    if (this.exitInfo || this.isMcp) return Promise.resolve(false); // an MCP server takes no warden events
    return new Promise((resolve) => {
      if (!this.rpc.notify(method, params, (error) => resolve(!error))) resolve(false);
    });
  }

  /**
   * Takes this process out of service after a reload: no more health checks or hang reports,
   * and resolves once its calls in flight are answered (or `timeoutMs` passes).
   */
  async drain(timeoutMs: number): Promise<void> {
    this.stopping = true;
    this.stopHealthChecks();
    await this.rpc.idle(timeoutMs);
  }

  /** Resolves once the process is gone. */
  waitForExit(): Promise<ExitInfo> {
    if (this.exitInfo) return Promise.resolve(this.exitInfo);
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  /**
   * The kill ladder, all within `timeoutMs`: `warden.shutdown` → close stdin → SIGTERM → SIGKILL,
   * each to the whole process group. `graceful: false` (a hung plugin) starts at SIGTERM;
   * `force` (a memory breach, where every moment counts) goes straight to SIGKILL.
   *
   * Resolves within `timeoutMs + STOP_KILL_GRACE_MS` whatever the process does: the grace is for the
   * kill to be seen and the leftovers swept. A process SIGKILL has not ended by then resolves as
   * `{ code: null, signal: null, unconfirmed: true }` (see StopExit) and is watched in the background:
   * its real exit still settles `waitForExit` and `onExit`, and the sweep follows it.
   */
  async stop(timeoutMs: number, options: { graceful?: boolean; force?: boolean } = {}): Promise<StopExit> {
    this.stopping = true;
    this.stopHealthChecks();
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<StopExit>((resolve) => {
      timer = setTimeout(() => resolve(this.exitInfo ?? this.unconfirmedExit(timeoutMs)), Math.max(0, timeoutMs) + STOP_KILL_GRACE_MS);
    });
    try {
      return await Promise.race([this.climb(timeoutMs, options), bound]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The ladder itself, unbounded at its end: it resolves once the exit is seen and the sweep is done. */
  private async climb(timeoutMs: number, options: { graceful?: boolean; force?: boolean }): Promise<ExitInfo> {
    if (options.force) await this.killEverything();
    const graceful = !options.force && (options.graceful ?? true);
    const begun = Date.now();
    const until = (fraction: number) => begun + timeoutMs * fraction;
    const deadline = until(1);
    if (!this.exitInfo && graceful) {
      // MCP's stdio rule: closing stdin is the request to stop.
      if (this.isMcp) this.closeStdin();
      else
        this.rpc.request('warden.shutdown', {}, timeoutMs).then(
          () => this.closeStdin(),
          () => undefined,
        );
      await this.exitBy(until(1 / 3));
      this.closeStdin();
      await this.exitBy(until(2 / 3));
    }
    if (!this.exitInfo) {
      this.closeStdin();
      this.terminate();
      await this.exitBy(deadline);
    }
    if (!this.exitInfo) await this.killEverything();
    const exit = await this.waitForExit();
    // The leader is gone; sweep anything it left behind (its group, its cgroup).
    await this.killEverything();
    return exit;
  }

  /** stop's answer when its bound passed with the process still there; says so in the log, and again when it does exit. */
  private unconfirmedExit(timeoutMs: number): StopExit {
    const waited = Math.max(0, timeoutMs) + STOP_KILL_GRACE_MS;
    this.logger.warn(`still there ${waited}ms into its stop, after SIGKILL; its exit will be reported when it comes`);
    const given = Date.now();
    void this.waitForExit().then((exit) =>
      this.logger.warn(`exited ${Date.now() - given}ms after its stop stopped waiting (${describeExit(exit)})`),
    );
    return { code: null, signal: null, unconfirmed: true };
  }

  /** Immediate SIGKILL of everything the plugin started (daemon forced shutdown). */
  kill(): Promise<void> {
    this.stopping = true;
    this.stopHealthChecks();
    return this.killEverything();
  }

  /** SIGTERM where the plugin can handle it: behind the wall, its own program (bwrap would just die and SIGKILL it). */
  private terminate(): void {
    const plugin = this.options.launch.walled ? this.sandbox.pluginPid() : null;
    if (plugin === null) return this.signalGroup('SIGTERM');
    try {
      process.kill(plugin, 'SIGTERM');
    } catch {
      this.signalGroup('SIGTERM');
    }
  }

  /**
   * SIGKILL to the process group, then the cgroup kill: a descendant that called setsid or
   * double-forked left the group but not the cgroup (or, behind the wall, the pid namespace,
   * which dies with its init).
   */
  private async killEverything(): Promise<void> {
    this.signalGroup('SIGKILL');
    await this.options.killTree?.().catch((error: Error) => this.logger.error(`could not kill the plugin's cgroup: ${error.message}`));
  }

  /** Writes to the plugin's stdin; false (and the text dropped) once the pipe is gone. */
  private write(text: string, done?: (error?: Error | null) => void): boolean {
    const stdin = this.subprocess?.stdin;
    if (!stdin || stdin.destroyed || !stdin.writable) return false;
    stdin.write(text, done);
    return true;
  }

  /**
   * What the plugin asks of the daemon (docs/protocol.md, "Plugin → daemon"); anything else is not found.
   * `warden.log` and `warden.emit` are carried out but never answered, even when sent with an id.
   */
  private pluginRequest(method: string, params: unknown): unknown {
    const p = (typeof params === 'object' && params !== null ? params : {}) as Record<string, unknown>;
    if (this.isMcp) return this.mcpMessage(method, p);
    switch (method) {
      case 'warden.log': {
        if (!this.capture.admitStdoutLog(0)) return NO_ANSWER;
        const { level, msg, ...fields } = p;
        const name = typeof level === 'string' && level in LOG_METHODS ? (level as keyof typeof LOG_METHODS) : 'info';
        this.logger[name](fields, typeof msg === 'string' ? msg : JSON.stringify(msg ?? ''));
        return NO_ANSWER;
      }
      case 'warden.emit':
        if (typeof p.topic === 'string') this.options.requests.emit(p.topic, p.data ?? null);
        else this.logger.warn('warden.emit without a string topic; dropped');
        return NO_ANSWER;
      case 'warden.call':
        if (typeof p.plugin !== 'string' || typeof p.method !== 'string') {
          throw new RpcError(ErrorCodes.InvalidParams, 'warden.call needs {plugin, method}');
        }
        return this.options.requests.call(p.plugin, p.method, p.params);
      default:
        throw new RpcError(ErrorCodes.MethodNotFound, `Method not found: ${method}`);
    }
  }

  /** What an MCP server sends on its own: its notifications (a changed tool list, a log message) and requests to its client. */
  private mcpMessage(method: string, p: Record<string, unknown>): unknown {
    if (method === 'notifications/tools/list_changed') {
      this.relistTools();
      return NO_ANSWER;
    }
    if (method === 'notifications/message') {
      if (!this.capture.admitStdoutLog(0)) return NO_ANSWER;
      const level = typeof p.level === 'string' && p.level in MCP_LOG_LEVELS ? MCP_LOG_LEVELS[p.level as keyof typeof MCP_LOG_LEVELS] : 'info';
      this.logger[level]({ logger: p.logger }, typeof p.data === 'string' ? p.data : JSON.stringify(p.data ?? ''));
      return NO_ANSWER;
    }
    if (method.startsWith('notifications/')) return NO_ANSWER;
    return serverRequest(method);
  }

  /**
   * Lists an MCP server's tools again after tools/list_changed. Changes that come while a listing is under
   * way are answered by one more listing after it: the last answer taken is never older than the last
   * change, and a server that floods the notification gets one listing at a time. A listing that fails
   * keeps the tools it had (and says why).
   */
  private relistTools(): void {
    if (this.relisting !== 'idle') {
      this.relisting = 'again';
      return;
    }
    this.relisting = 'busy';
    listTools(this.mcpPeer, this.options.startTimeoutMs)
      .then(
        (tools) => {
          if (!this.mcp) return;
          this.mcp = { ...this.mcp, tools };
          this.methods = tools.map((t) => t.name);
          this.declared = new Set(this.methods);
        },
        (error: Error) => this.logger.warn(`tools/list after tools/list_changed failed: ${error.message}`),
      )
      .finally(() => {
        const again = this.relisting === 'again';
        this.relisting = 'idle';
        if (again && !this.exitInfo) this.relistTools();
      });
  }

  /** Checks on the daemon's shared tick (health-ticks.ts); a check still unanswered at the next tick is not repeated. */
  private startHealthChecks(): void {
    const { intervalMs, timeoutMs } = this.options.health;
    const method = this.isMcp ? 'ping' : 'warden.health';
    let inFlight = false;
    this.leaveHealthTicks?.();
    this.leaveHealthTicks = onHealthTick(intervalMs, () => {
      if (inFlight || this.exitInfo || this.stopping) return;
      inFlight = true;
      /** Any answer, even an error, proves the plugin is alive; only silence is a hang. */
      const answered = (error?: unknown): void => {
        inFlight = false;
        if (this.exitInfo || this.stopping) return;
        if (error instanceof RpcError && error.code === ErrorCodes.CallTimeout) {
          this.stopHealthChecks();
          this.options.onHang?.(`no answer to ${method} within ${timeoutMs}ms`);
        }
      };
      this.rpc.request(method, {}, timeoutMs).then(() => answered(), answered);
    });
  }

  private stopHealthChecks(): void {
    this.leaveHealthTicks?.();
    this.leaveHealthTicks = null;
  }

  private markExited(exit: ExitInfo): void {
    if (this.exitInfo) return;
    this.exitInfo = this.capture.annotateExit(exit);
    this.stopHealthChecks();
    const how = describeExit(exit);
    this.rpc.close(ErrorCodes.PluginExited, `plugin ${this.name} exited during the call (${how})`, `plugin ${this.name} exited (${how})`);
    for (const waiter of this.exitWaiters.splice(0)) waiter(this.exitInfo);
    this.options.onExit?.(this.exitInfo);
  }

  private exitBy(deadline: number): Promise<void> {
    if (this.exitInfo) return Promise.resolve();
    const remaining = deadline - Date.now();
    if (remaining <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, remaining);
      void this.waitForExit().then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private closeStdin(): void {
    const stdin = this.subprocess?.stdin;
    if (stdin && !stdin.destroyed) stdin.end();
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.subprocess?.pid;
    if (!pid) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: the group is already empty.
    }
  }

  private describeStartFailure(error: unknown, handshake = 'warden.initialize'): string {
    if (this.exitInfo) return `exited during start (${describeExit(this.exitInfo)})`;
    if (error instanceof RpcError && error.code === ErrorCodes.CallTimeout) {
      return `no answer to ${handshake} within ${this.options.startTimeoutMs}ms`;
    }
    if (error instanceof RpcError) return `${handshake} failed: ${error.message}`;
    return `start failed: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/**
 * How long `stop` waits, past its timeout, for the kill to be seen: SIGKILL ends a process at once, but
 * a killed bwrap's exit is reported only once its sandbox is gone (up to SANDBOX_EXIT_MS) and its last
 * stderr is in (up to EXIT_OUTPUT_GRACE_MS).
 */
export const STOP_KILL_GRACE_MS = SANDBOX_EXIT_MS + EXIT_OUTPUT_GRACE_MS + 750;

const LOG_METHODS = { trace: 1, debug: 1, info: 1, warn: 1, error: 1, fatal: 1 } as const;
/** MCP's log levels (RFC 5424's) as warden's. */
const MCP_LOG_LEVELS = { debug: 'debug', info: 'info', notice: 'info', warning: 'warn', error: 'error', critical: 'fatal', alert: 'fatal', emergency: 'fatal' } as const;
