import type { Manifest } from '../manifest/types.js';
import type { Capabilities } from '../sandbox/capabilities.js';

/**
 * Names, for each limit and permission, what enforces it on this host — or "unenforced".
 * Never a silent pass: an operator reading status sees exactly what is and is not contained.
 */
export function describeEnforcement(_capabilities: Capabilities, manifest: Manifest | null): Record<string, string> {
  return {
    memoryMb: 'unenforced',
    cpuPercent: 'unenforced',
    handles: 'unenforced',
    processes: 'unenforced',
    fs: 'unenforced',
    network: 'unenforced',
    childProcess: 'unenforced',
    // Only the minimal set and the declared names reach the plugin (sandbox/env.ts).
    env: manifest ? 'env-allowlist' : 'unenforced',
  };
}
