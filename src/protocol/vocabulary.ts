/**
 * The names warden's wire speaks in, each list written once: plugin states, circuit states, failure kinds,
 * plugin kinds, activations, log levels, and the shape of a plugin name.
 */

/** The plugin states (docs/control-api.md, "Plugin states"). */
export const PLUGIN_STATES = Object.freeze(['waiting', 'starting', 'running', 'stopping', 'stopped', 'backoff', 'disabled', 'invalid'] as const);
export type PluginState = (typeof PLUGIN_STATES)[number];

/** A plugin's circuit (docs/protocol.md, "Errors and the circuit"). */
export const CIRCUIT_STATES = Object.freeze(['closed', 'open', 'half-open'] as const);
export type CircuitState = (typeof CIRCUIT_STATES)[number];

/** `lastError.kind`: what kind of failure it was. */
export const FAILURE_KINDS = Object.freeze(['crash', 'hang', 'quota', 'start', 'reload', 'call'] as const);
export type FailureKind = (typeof FAILURE_KINDS)[number];

/** A manifest's `kind` (docs/manifest.md). */
export const PLUGIN_KINDS = Object.freeze(['connector', 'processor', 'analyzer', 'service'] as const);
export type PluginKind = (typeof PLUGIN_KINDS)[number];

/** A manifest's `activation` (docs/manifest.md, "activation and idleStopMs"): eager starts at once, lazy when first needed. */
export const ACTIVATIONS = Object.freeze(['eager', 'lazy'] as const);
/** What a plugin speaks on its stdio: warden's protocol (docs/protocol.md), or the Model Context Protocol. */
export const PLUGIN_PROTOCOLS = Object.freeze(['warden', 'mcp'] as const);
export type PluginProtocol = (typeof PLUGIN_PROTOCOLS)[number];
export type Activation = (typeof ACTIVATIONS)[number];

/** Log level names, least to most severe (a `level` filter means "this level and above": docs/control-api.md, "logs.tail and logs.entry"). */
export const LOG_LEVELS = Object.freeze(['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const);
export type LogLevelName = (typeof LOG_LEVELS)[number];

/** A plugin's name: in plugin.json, in the config's `plugins.<name>`, and in every `{name}` param. */
export const PLUGIN_NAME_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;
