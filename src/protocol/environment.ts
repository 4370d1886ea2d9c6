/**
 * What a plugin's environment holds that warden decides: the variables every plugin gets from the daemon's
 * environment, and the names a manifest's `environment` may not fix (docs/manifest.md, "environment").
 */

/** The variables every plugin gets; nothing else leaks from the daemon's environment unless declared. */
export const BASE_VARIABLES = Object.freeze(['PATH', 'LANG', 'LC_ALL', 'TZ'] as const);

/**
 * Why a plugin.json may not fix the variable `name` in its `environment`, or null when it may: warden sets
 * `HOME`, the base variables and every `WARDEN_*` itself, and `LD_*` would reach into how every program of
 * the launch chain (the launch shell, setpriv, bwrap) and the plugin itself is loaded. The one place this
 * rule is written: the manifest's schema refuses these names, and the sandbox never applies them.
 */
export function reservedVariable(name: string): string | null {
  if (name === 'HOME' || (BASE_VARIABLES as readonly string[]).includes(name) || name.startsWith('WARDEN_')) {
    return `${name} is set by warden itself (HOME, ${BASE_VARIABLES.join(', ')} and WARDEN_* are reserved)`;
  }
  if (name.startsWith('LD_')) return `${name} is reserved: LD_* variables change how programs are loaded`;
  return null;
}
