/**
 * A plugin launch spawned ahead of need (a restart standby, sandbox/launch.ts standbyLaunch): the launch
 * shell has joined its cgroup and bwrap has built the sandbox, and waits on its block fd before exec'ing
 * the plugin. A crash then restarts without a fork from the daemon, a cgroup to make, the kernel's wait on
 * a cgroup migration, or bwrap's set-up: the host writes one byte. Should the daemon die, setpriv's
 * parent-death signal and bwrap's --die-with-parent end it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import type { LaunchSpec } from '../sandbox/launch.js';

/** Spawns a launch as every plugin is spawned: piped stdio and extra fds, its own process group. */
export function spawnLaunch(launch: LaunchSpec): ChildProcess {
  return spawn(launch.file, launch.args, {
    cwd: launch.cwd,
    env: launch.env,
    stdio: ['pipe', 'pipe', 'pipe', ...(launch.fds ?? []).map(() => 'pipe' as const)],
    // Its own process group, so the stop ladder reaches every child it forks.
    detached: true,
  });
}

export class ParkedLaunch {
  private child: ChildProcess | null;
  private alive = true;

  /** Spawns `launch` (a standby one) now and feeds its inputs; its status and block fds wait for the host. */
  constructor(readonly launch: LaunchSpec) {
    const child = spawnLaunch(launch);
    this.child = child;
    for (const stream of child.stdio) stream?.on('error', () => undefined);
    (launch.fds ?? []).forEach((fd, i) => {
      const stream = child.stdio[i + 3] as Writable | null;
      // As for any launch (sandbox-process.ts): once the kernel has the data, the socket is let go.
      if ('input' in fd && stream) stream.end(fd.input, () => stream.destroy());
    });
    child.once('error', () => (this.alive = false));
    child.once('exit', () => (this.alive = false));
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** The waiting process, once; null when it is gone (or was taken): the caller spawns afresh. */
  take(): ChildProcess | null {
    const child = this.child;
    this.child = null;
    if (!child || !this.alive || child.exitCode !== null || child.signalCode !== null) return null;
    child.removeAllListeners('error');
    child.removeAllListeners('exit');
    return child;
  }

  /** Kills it (its process group) unless taken; its cgroup is the caller's to remove. */
  discard(): void {
    const child = this.child;
    this.child = null;
    if (!child?.pid || !this.alive) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  }
}
