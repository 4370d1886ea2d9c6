/** A plugin's persisted disable, as the state store holds it (the operator's `warden disable`, or a spent restart budget). */
export interface PersistedDisable {
  reason: string | null;
}

/** What may keep a plugin disabled. */
export interface DisableHolds {
  /** The persisted disable, or null: it survives daemon restarts and only `warden enable` lifts it. */
  persisted: PersistedDisable | null;
  /** False while the config sets `plugins.<name>.enabled: false`: a re-read config lifts it. */
  enabledByConfig: boolean;
}

/** The reason shown while the config disables a plugin (never persisted: the config says it). */
export function configDisabledReason(name: string): string {
  return `disabled in config (plugins.${name}.enabled: false)`;
}

/**
 * Why a plugin must stay disabled, or null when nothing holds it. The persisted disable comes first:
 * it outlasts the config (setting `enabled: true` again does not undo the operator's `warden disable`).
 */
export function disabledReason(name: string, holds: DisableHolds): string | null {
  if (holds.persisted) return holds.persisted.reason ?? 'disabled';
  if (!holds.enabledByConfig) return configDisabledReason(name);
  return null;
}
