/**
 * `import … from 'warden'`: the package's main entry, for plugin authors and tools.
 *
 * At run time it is exactly `warden/sdk` (definePlugin, PluginError, ErrorCodes): a plugin that imports
 * either runs the same whether warden is installed beside it (node_modules/warden) or the daemon maps both
 * specifiers onto its own SDK (src/sdk/resolve-hooks.ts). Nothing else is exported as a value, so importing
 * `warden` never loads the daemon or its dependencies. The types add what an author or a control-socket
 * client reads: the manifest, a plugin's status and its limits.
 */
export * from './sdk/index.js';

export type { Manifest, Manifest as PluginManifest, Schedule } from './manifest/types.js';
export type {
  CircuitState,
  FailureKind,
  LastError,
  Limits,
  Permissions,
  PluginKind,
  PluginState,
  PluginStatus,
  RecentError,
  Usage,
} from './protocol/index.js';
