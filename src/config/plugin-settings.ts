/**
 * One plugin's effective runtime settings: the config's `defaults`, lowered (never raised) by its
 * manifest, then the operator's `plugins.<name>` overrides, which win over both.
 */
import type { Config, Limits, PluginOverride, PluginSettings } from './types.js';

/**
 * What a manifest may ask of its settings: lower limits and a call timeout. A validated `Manifest`
 * (manifest/types.ts) is one; named here so that config does not import manifest (manifest imports config).
 */
export interface ManifestSettings {
  limits: Partial<Limits>;
  callTimeoutMs?: number;
}

const LIMIT_KEYS = ['memoryMb', 'cpuPercent', 'handles', 'processes'] as const satisfies readonly (keyof Limits)[];

/** The operator's override for one plugin, if any (own keys only: "constructor" is a valid plugin name). */
export function pluginOverride(config: Config, name: string): PluginOverride | undefined {
  return Object.hasOwn(config.plugins, name) ? config.plugins[name] : undefined;
}

/** `plugins.<name>.enabled`, default true. */
export function isEnabledByConfig(config: Config, name: string): boolean {
  return pluginOverride(config, name)?.enabled ?? true;
}

export function resolvePluginSettings(
  config: Config,
  name: string,
  manifest: ManifestSettings | null,
): { settings: PluginSettings; warnings: string[] } {
  const d = config.defaults;
  const o = pluginOverride(config, name) ?? {};
  const warnings: string[] = [];

  // Only called where the operator has not set that key for this plugin: an override makes the manifest moot.
  const lowered = (key: string, operator: number, declared: number | undefined): number => {
    if (declared === undefined) return operator;
    if (declared <= operator) return declared;
    warnings.push(`${key} ${declared} in plugin.json is above the operator's ${operator}; capped to ${operator}`);
    return operator;
  };

  const limits = { ...d.limits };
  for (const key of LIMIT_KEYS) {
    limits[key] = o.limits?.[key] ?? lowered(`limits.${key}`, d.limits[key], manifest?.limits[key]);
  }
  const callTimeoutMs = o.callTimeoutMs ?? lowered('callTimeoutMs', d.callTimeoutMs, manifest?.callTimeoutMs);

  return {
    settings: {
      limits,
      callTimeoutMs,
      startTimeoutMs: o.startTimeoutMs ?? d.startTimeoutMs,
      stopTimeoutMs: o.stopTimeoutMs ?? d.stopTimeoutMs,
      health: { ...d.health, ...defined(o.health) },
      restart: { ...d.restart, ...defined(o.restart) },
      circuit: { ...d.circuit, ...defined(o.circuit) },
      output: { ...d.output, ...defined(o.output) },
    },
    warnings,
  };
}

/** Drops undefined values so spreading a partial override never blanks a default. */
function defined<T extends object>(partial: T | undefined): Partial<T> {
  if (!partial) return {};
  return Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The plugin's `config`: its manifest's defaults with the operator's `plugins.<name>.config` merged over.
 * Objects merge key by key; anything else (arrays included) in the override replaces the manifest's value.
 */
export function effectivePluginConfig(
  manifestConfig: Record<string, unknown> | undefined,
  overrideConfig: Record<string, unknown> | undefined,
): Record<string, unknown> {
  return deepMerge(manifestConfig ?? {}, overrideConfig ?? {});
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(base)) set(out, k, clone(v));
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const prev = Object.hasOwn(out, k) ? out[k] : undefined;
    set(out, k, isPlainObject(prev) && isPlainObject(v) ? deepMerge(prev, v) : clone(v));
  }
  return out;
}

function clone(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clone);
  if (isPlainObject(v)) return deepMerge(v, {});
  return v;
}

/** defineProperty, so a JSON key "__proto__" stays data instead of replacing the prototype. */
function set(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
