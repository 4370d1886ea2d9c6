export { ConfigError, loadConfig, resolveConfigPath, defaultConfig, DEFAULT_CONFIG_PATH } from './load.js';
export { resolvePluginSettings, effectivePluginConfig, isEnabledByConfig, pluginOverride } from './plugin-settings.js';
export { PLUGIN_NAME_RE, LOG_LEVELS } from './schema.js';
export type * from './types.js';
