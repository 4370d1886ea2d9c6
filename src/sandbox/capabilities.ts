import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** What this host offers for containing plugins; detected once at start-up and logged. */
export interface Capabilities {
  /** `setpriv` with `--pdeathsig`: the kernel kills a plugin when the daemon dies, even by SIGKILL. */
  setpriv: string | null;
}

export function findExecutable(name: string, path = process.env.PATH ?? '/usr/bin:/bin'): string | null {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return null;
}

export function detectCapabilities(): Capabilities {
  // pdeathsig is a Linux prctl; setpriv exists elsewhere without it.
  const setpriv = process.platform === 'linux' ? findExecutable('setpriv') : null;
  return { setpriv };
}
