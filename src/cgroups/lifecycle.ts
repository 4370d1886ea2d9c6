/**
 * The asynchronous end of a plugin cgroup's life, shared by v1 and v2: kill everything in it (with a
 * deadline) and remove its folders (retrying the kernel's EBUSY).
 */
import { rmdir } from 'node:fs/promises';
import { cgroupTree } from './fs.js';

// Why: a stale pid (process already gone) is not an error; our own pid must never be killed by mistake.
export function sigkillAll(pids: readonly number[]): void {
  for (const pid of pids) {
    if (pid === process.pid || pid <= 1) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // ESRCH: gone already
    }
  }
}

// Why: waits on conditions, never on bare sleeps; the interval grows so long waits stay cheap.
export async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let interval = 5; ; interval = Math.min(interval * 2, 50)) {
    if (condition()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.min(interval, Math.max(1, deadline - Date.now()))));
  }
}

// Why: rmdir of a cgroup can be refused (EBUSY) for a moment after its last process died.
export async function rmdirRetry(dir: string): Promise<void> {
  for (let attempt = 0, delay = 10; ; attempt++, delay *= 2) {
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if ((code !== 'EBUSY' && code !== 'ENOTEMPTY') || attempt >= 5) {
        throw new Error(`warden: cannot remove cgroup ${dir} (${code ?? String(error)}): processes still inside?`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

// Why: remove() is the same on v1 and v2: every folder of every tree, deepest first.
export async function removeTrees(dirs: readonly string[]): Promise<void> {
  const errors: string[] = [];
  for (const dir of dirs) {
    for (const sub of cgroupTree(dir).reverse()) {
      try {
        await rmdirRetry(sub);
      } catch (error) {
        errors.push((error as Error).message);
      }
    }
  }
  if (errors.length > 0) throw new Error(errors.join('; '));
}

export interface Freezer {
  /** Freezes the cgroup (resolves once frozen, or after a short wait if the kernel is slow). */
  freeze(): Promise<void>;
  thaw(): void;
}

// Why: one kill loop for both modes: freeze (so nothing forks or exits under us), SIGKILL, thaw, repeat until empty.
export async function killUntilEmpty(options: {
  label: string;
  list: () => number[];
  freezer: Freezer | null;
  /** v2 cgroup.kill: one write kills the whole tree; the loop then only waits. */
  killAll?: () => void;
  timeoutMs: number;
}): Promise<void> {
  const { label, list, freezer, killAll, timeoutMs } = options;
  const deadline = Date.now() + timeoutMs;
  killAll?.(); // one write is cheap and catches a process the list has not shown yet
  for (;;) {
    if (list().length === 0) return;
    if (Date.now() >= deadline) {
      throw new Error(`warden: cgroup ${label} still holds pids ${list().join(', ')} ${timeoutMs} ms after kill`);
    }
    if (killAll) {
      killAll();
    } else {
      try {
        await freezer?.freeze().catch(() => undefined);
        sigkillAll(list());
      } finally {
        freezer?.thaw();
      }
    }
    await waitUntil(() => list().length === 0, Math.min(250, Math.max(1, deadline - Date.now())));
  }
}
