import type { Activation, Limits, Permissions, PluginKind } from '../protocol/index.js';

/** `kind` and `permissions` are also on the wire (PluginStatus): written once in src/protocol, re-exported here. */
export type { Permissions, PluginKind };

export interface Schedule {
  cron: string;
  method: string;
  params: unknown;
}

/** A validated `plugin.json`, with defaults applied. */
export interface Manifest {
  name: string;
  version: string;
  description: string;
  kind: PluginKind;
  /** Exactly one of `main` and `command` is set. */
  main?: string;
  command?: string[];
  engines: { warden?: string };
  dependencies: Record<string, string>;
  permissions: Permissions;
  limits: Partial<Limits>;
  callTimeoutMs?: number;
  schedules: Schedule[];
  subscribes: string[];
  emits: string[];
  config: Record<string, unknown>;
  /** eager (default): started with the daemon; lazy: started when first needed, stopped after `idleStopMs` idle. */
  activation: Activation;
  idleStopMs: number;
}

/** One folder under pluginsDir that holds a plugin.json: either a valid manifest or the reason it is not. */
export type DiscoveredPlugin =
  | { ok: true; dir: string; manifest: Manifest }
  | { ok: false; dir: string; name: string; version: string | null; kind: PluginKind; reason: string };
