import { describeExit, type ExitInfo } from '../../src/host/exit.js';
import type { McpSession, McpTool } from '../../src/host/mcp-client.js';
import type { HostOptions, InitializeParams } from '../../src/host/plugin-host.js';
import { ErrorCodes, RpcError } from '../../src/protocol/index.js';
import type { HostLike } from '../../src/supervisor/host-like.js';

type Settle = { resolve: () => void; reject: (error: Error) => void };

/**
 * A plugin process that is not one: its start resolves or rejects when the test says, and it exits
 * or hangs on command, reporting through the same HostOptions callbacks (onExit, onHang) a PluginHost uses.
 */
export class FakeHost implements HostLike {
  readonly options: HostOptions;
  readonly instance: number;
  pid: number | null = null;
  methods: string[] = [];
  /** An MCP plugin's session once its handshake succeeded (readyMcp). */
  mcpSession: McpSession | null = null;
  exitInfo: ExitInfo | null = null;
  /** What `start` was given (config, and the old instance's snapshot after a reload). */
  init: InitializeParams | null = null;
  readonly requests: Array<{ method: string; params: unknown }> = [];
  readonly stops: Array<{ graceful?: boolean; force?: boolean }> = [];
  readonly events: unknown[] = [];
  killed = false;
  drained = false;
  /** What `warden.snapshot` answers. */
  snapshot: unknown = { count: 1 };
  /** Whether `warden.health` answers. */
  healthy = true;
  private starting: Settle | null = null;

  constructor(options: HostOptions, instance: number) {
    this.options = options;
    this.instance = instance;
  }

  get exited(): boolean {
    return this.exitInfo !== null;
  }

  get sampleRoot(): { pid: number; wrappers: number } | null {
    return this.pid === null ? null : { pid: this.pid, wrappers: 0 };
  }

  /** Whether its start is waiting for the test to say how it ends. */
  get startPending(): boolean {
    return this.starting !== null;
  }

  declares(method: string): boolean {
    return this.methods.includes(method);
  }

  start(init: InitializeParams): Promise<void> {
    this.init = init;
    this.pid = 10_000 + this.instance;
    return new Promise((resolve, reject) => {
      this.starting = { resolve, reject };
    });
  }

  /** Its handshake succeeds, listing `methods`. */
  ready(methods: string[] = ['echo']): void {
    this.methods = methods;
    this.settleStart()?.resolve();
  }

  /** Its MCP handshake succeeds, listing `tools`. */
  readyMcp(tools: McpTool[]): void {
    this.mcpSession = { protocolVersion: '2025-06-18', serverInfo: null, tools };
    this.ready(tools.map((t) => t.name));
  }

  /** Its start fails with `message`, the way PluginHost.start rejects (the process may still be there until stopped). */
  failStart(message: string): void {
    this.settleStart()?.reject(new Error(message));
  }

  /** The process dies by itself. */
  crash(exit: ExitInfo = { code: 1, signal: null }): void {
    this.exit(exit);
  }

  /** It stops answering health checks. */
  hang(message = 'no answer to 3 health checks'): void {
    this.options.onHang?.(message);
  }

  async request(method: string, params: unknown, _timeoutMs: number): Promise<unknown> {
    this.requests.push({ method, params });
    if (this.exited) throw new RpcError(ErrorCodes.PluginExited, `plugin ${this.options.name} exited`);
    if (method === 'warden.snapshot') return this.snapshot;
    if (method === 'warden.health') {
      if (!this.healthy) throw new RpcError(ErrorCodes.CallTimeout, 'warden.health timed out');
      return { ok: true };
    }
    return { from: this.instance, method, params };
  }

  async notifyWhenWritten(_method: string, params: unknown): Promise<boolean> {
    if (this.exited) return false;
    this.events.push(params);
    return true;
  }

  async drain(_timeoutMs: number): Promise<void> {
    this.drained = true;
  }

  async stop(_timeoutMs: number, options: { graceful?: boolean; force?: boolean } = {}): Promise<ExitInfo> {
    this.stops.push(options);
    this.exit(options.graceful === false || options.force ? { code: null, signal: 'SIGKILL' } : { code: 0, signal: null });
    return this.exitInfo!;
  }

  async kill(): Promise<void> {
    this.killed = true;
    this.exit({ code: null, signal: 'SIGKILL' });
  }

  /** Gone: a start in progress fails as PluginHost's does, and onExit reports it (once). */
  private exit(exit: ExitInfo): void {
    if (this.exitInfo) return;
    this.exitInfo = exit;
    this.settleStart()?.reject(new Error(`exited during start (${describeExit(exit)})`));
    this.options.onExit?.(exit);
  }

  private settleStart(): Settle | null {
    const starting = this.starting;
    this.starting = null;
    return starting;
  }
}
