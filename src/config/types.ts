/** The daemon's configuration after validation, defaults applied and paths made absolute. */

export interface Limits {
  memoryMb: number;
  cpuPercent: number;
  handles: number;
  processes: number;
}

export interface HealthSettings {
  intervalMs: number;
  timeoutMs: number;
}

export interface RestartSettings {
  initialDelayMs: number;
  maxDelayMs: number;
  maxRestarts: number;
  windowMs: number;
}

export interface CircuitSettings {
  failureThreshold: number;
  cooldownMs: number;
}

/** Per-plugin runtime settings: config `defaults`, lowered by the manifest, overridden by `plugins.<name>`. */
export interface PluginSettings {
  limits: Limits;
  callTimeoutMs: number;
  startTimeoutMs: number;
  stopTimeoutMs: number;
  health: HealthSettings;
  restart: RestartSettings;
  circuit: CircuitSettings;
}

export interface PermissionsOverride {
  fs?: { read?: string[]; write?: string[] };
  network?: boolean;
  childProcess?: boolean;
  env?: string[];
}

/** `plugins.<name>` in the config: the operator's word on one plugin. */
export interface PluginOverride {
  enabled?: boolean;
  limits?: Partial<Limits>;
  callTimeoutMs?: number;
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
  health?: Partial<HealthSettings>;
  restart?: Partial<RestartSettings>;
  circuit?: Partial<CircuitSettings>;
  permissions?: PermissionsOverride;
  config?: Record<string, unknown>;
}

export type LogLevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export interface Config {
  /** Absolute path of the file this came from (null when built from defaults only). */
  file: string | null;
  pluginsDir: string;
  stateDir: string;
  socket: { path: string; mode: number; group: string | null };
  logging: { level: LogLevelName; dir: string; maxBytes: number; keep: number };
  sampling: { intervalMs: number; cpuSamples: number };
  defaults: PluginSettings;
  hotReload: { enabled: boolean; debounceMs: number };
  metrics: { listen: string | null };
  plugins: Record<string, PluginOverride>;
}
