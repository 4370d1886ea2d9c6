import type { ExitInfo } from '../host/exit.js';
import type { McpSession } from '../host/mcp-client.js';
import { PluginHost, type HostOptions, type InitializeParams } from '../host/plugin-host.js';

/**
 * The part of a PluginHost that supervision uses: one process instance of a plugin. A PluginHost is
 * one; tests supervise a fake that starts, fails, exits and hangs on command.
 */
export interface HostLike {
  /** The plugin's own process, null before the spawn. */
  readonly pid: number | null;
  /** Where the quota sampler starts, and how many levels at its top are the wall's own. */
  readonly sampleRoot: { pid: number; wrappers: number } | null;
  readonly exited: boolean;
  /** The methods it listed in its handshake. */
  readonly methods: readonly string[];
  declares(method: string): boolean;
  /** An MCP plugin's session once started (its protocol version and tools); null or absent otherwise. */
  readonly mcpSession?: McpSession | null;
  start(init: InitializeParams): Promise<void>;
  request(method: string, params: unknown, timeoutMs: number): Promise<unknown>;
  notifyWhenWritten(method: string, params: unknown): Promise<boolean>;
  drain(timeoutMs: number): Promise<void>;
  stop(timeoutMs: number, options?: { graceful?: boolean; force?: boolean }): Promise<ExitInfo>;
  /** SIGKILL to everything of this instance; resolves once the kill (its cgroup's too) is done. */
  kill(): Promise<void>;
}

/** The daemon's host factory: a real process. */
export function createPluginHost(options: HostOptions): HostLike {
  return new PluginHost(options);
}

