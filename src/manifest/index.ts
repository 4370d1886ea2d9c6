export { discoverPlugins, loadPlugin, pluginName, MANIFEST_FILE } from './discover.js';
export { validateManifest, manifestJsonSchema, manifestSchema, PLUGIN_KINDS } from './schema.js';
export type { ValidateResult } from './schema.js';
export { cronProblem } from './cron.js';
export type * from './types.js';
