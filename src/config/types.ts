/** The daemon's configuration after validation, defaults applied and paths made absolute. */
import type { Limits, LogLevelName } from '../protocol/index.js';
import type { APPROVAL_MODES } from './schema.js';

/** `limits` and `logging.level` speak the protocol's words (src/protocol), re-exported for config users. */
export type { Limits, LogLevelName };

export interface HealthSettings {
  intervalMs: number;
  timeoutMs: number;
}

export interface RestartSettings {
  initialDelayMs: number;
  maxDelayMs: number;
  maxRestarts: number;
  windowMs: number;
  /** Keep the next instance's launch spawned ahead (host/parked-launch.ts), so a restart needs no fork. */
  standby: boolean;
}

/** `circuit` settings: the circuit breaker's own shape (policies/circuit-breaker.ts), re-exported for config users. */
/** When a plugin's circuit opens and how long it stays open (`defaults.circuit`). */
export interface CircuitSettings {
  failureThreshold: number;
  cooldownMs: number;
}

/** How much a plugin may write on stdout and stderr before lines are dropped (counted and logged). */
export interface OutputSettings {
  /** Lines per second, sustained (stdout and stderr together). */
  linesPerSec: number;
  /** Lines allowed at once above the sustained rate. */
  burst: number;
  bytesPerSec: number;
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
  output: OutputSettings;
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
  output?: Partial<OutputSettings>;
  permissions?: PermissionsOverride;
  config?: Record<string, unknown>;
}

/** `permissions.approval`: `required` waits for the operator; `declared` grants manifests as written (development only). */
export type ApprovalMode = (typeof APPROVAL_MODES)[number];

/** `sandbox`: how the wall is built (docs/configuration.md, "sandbox"). */
export interface SandboxSettings {
  /** true: a plugin that cannot be put behind the whole wall does not start. */
  require: boolean;
  /**
   * The identity plugins run as when the daemon runs as root: a user name or "uid:gid" (shape checked
   * here, resolved where plugins are launched); null = the `warden-plugin` user if it exists, else `nobody`.
   */
  user: string | null;
  /** Size of each plugin's private /tmp, in MiB. */
  tmpMb: number;
}

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
  sandbox: SandboxSettings;
  permissions: { approval: ApprovalMode };
  plugins: Record<string, PluginOverride>;
}
