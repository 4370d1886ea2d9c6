import type { Manifest, Permissions } from '../manifest/types.js';
import type { Capabilities } from '../sandbox/capabilities.js';
import { planEnforcement } from '../sandbox/launch.js';

const NOTHING_RUNS = ['memoryMb', 'cpuPercent', 'handles', 'processes', 'fs', 'network', 'childProcess', 'env'];

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
  if (!manifest || !permissions) return Object.fromEntries(NOTHING_RUNS.map((key) => [key, 'unenforced']));
  return planEnforcement(manifest, permissions, capabilities);
}
