import type { Manifest, Permissions } from '../manifest/types.js';
import type { Capabilities } from '../sandbox/capabilities.js';
import { ENFORCEMENT_KEYS, planEnforcement } from '../sandbox/launch.js';

/**
 * Names, for each limit and permission, what enforces it on this host — or "unenforced".
 * Never a silent pass: an operator reading status sees exactly what is and is not contained.
 * Delegates to the launch planner, so it states what planLaunch applies (pass the effective
 * permissions; the manifest's own are the fallback). A plugin without a valid manifest never runs.
 */
export function describeEnforcement(
  capabilities: Capabilities,
  manifest: Manifest | null,
  permissions: Permissions | undefined = manifest?.permissions,
): Record<string, string> {
  if (!manifest || !permissions) return Object.fromEntries(ENFORCEMENT_KEYS.map((key) => [key, 'unenforced']));
  return planEnforcement(manifest, permissions, capabilities);
}
