export { againstConfigFolder, ConfigError, loadConfig, resolveConfigPath, defaultConfig, groupProblem, DEFAULT_CONFIG_PATH, GROUP_FILE } from './load.js';
export type { ConfigProblem, LoadConfigOptions } from './load.js';
export { resolvePluginSettings, effectivePluginConfig, isEnabledByConfig, pluginOverride } from './plugin-settings.js';
export { PLUGIN_NAME_RE, LOG_LEVELS } from './schema.js';
export type * from './types.js';
