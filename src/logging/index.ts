export type { LogEntry, LogQuery, LogSystem, LogSystemOptions } from './types.js';
export { createLogSystem } from './system.js';
export { LEVELS, levelAtLeast, isLevelName } from './levels.js';
export { formatEntry } from './format.js';
