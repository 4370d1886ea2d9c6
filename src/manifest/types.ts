import type { Activation, Limits, Permissions, PluginKind, PluginProtocol } from '../protocol/index.js';

/** `kind` and `permissions` are also on the wire (PluginStatus): written once in src/protocol, re-exported here. */
export type { Permissions, PluginKind };

export interface Schedule {
  cron: string;
  method: string;
  params: unknown;
}

/** A JSON Schema (draft-07 and 2020-12's common subset: what OpenRPC and MCP both read), or true/false. */
export type JsonSchema = boolean | Record<string, unknown>;

/** One example of a method: params it takes and (when given) the result they give. */
export interface MethodExample {
  name?: string;
  params: unknown;
  result?: unknown;
}

/** One entry of `methods` (docs/manifest.md, "methods"): what the method does, takes and gives. */
export interface MethodSpec {
  description: string;
  /** Its params' schema: a call whose params fail it is answered -32602 by the daemon, never reaching the plugin. */
  params?: JsonSchema;
  result?: JsonSchema;
  examples: MethodExample[];
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
  /**
   * Fixed variables for its process (docs/manifest.md, "environment"), values as written (`./…` is made
   * absolute against the plugin folder at launch: resolveEnvironment). Set only when the manifest has any.
   */
  environment?: Record<string, string>;
  limits: Partial<Limits>;
  callTimeoutMs?: number;
  schedules: Schedule[];
  subscribes: string[];
  emits: string[];
  config: Record<string, unknown>;
  /** eager (default): started with the daemon; lazy: started when first needed, stopped after `idleStopMs` idle. */
  activation: Activation;
  idleStopMs: number;
  /** The methods it describes (possibly fewer than it serves): schemas, examples, descriptions. */
  methods: Record<string, MethodSpec>;
  /** warden (docs/protocol.md) or mcp (a Model Context Protocol server on stdio: its tools are its methods). */
  protocol: PluginProtocol;
}

/** One folder under pluginsDir that holds a plugin.json: either a valid manifest or the reason it is not. */
export type DiscoveredPlugin =
  | { ok: true; dir: string; manifest: Manifest }
  | { ok: false; dir: string; name: string; version: string | null; kind: PluginKind; reason: string };
