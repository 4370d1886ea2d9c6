import { LOG_LEVELS, type LogLevelName } from '../protocol/index.js';

/** Level names, least to most severe (the protocol's list); the numbers below are pino's. */
export const LEVELS: readonly LogLevelName[] = LOG_LEVELS;

const VALUES: Readonly<Record<LogLevelName, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

export function isLevelName(value: unknown): value is LogLevelName {
  return typeof value === 'string' && Object.hasOwn(VALUES, value);
}

/** True when `level` is `min` or more severe. */
export function levelAtLeast(level: LogLevelName, min: LogLevelName): boolean {
  return VALUES[level] >= VALUES[min];
}
