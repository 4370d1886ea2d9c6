/**
 * What the host knows about a walled (bwrap) plugin process: it feeds the wall's extra fds (passwd,
 * group, seccomp), reads bwrap's status fd for the sandbox's init (`child-pid`), finds the plugin's
 * own program under that init, turns bwrap's exit into the plugin's (128+n → signal; no sandbox →
 * set-up failed), and waits for the sandbox to be gone once bwrap has exited.
 * Unwalled, it knows nothing and changes nothing: no init, no plugin pid, exits as observed.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import type { LaunchSpec } from '../sandbox/launch.js';
import { signalName, type ExitInfo } from './exit.js';

/** How long an exit report waits for a killed bwrap's sandbox to follow it. */
export const SANDBOX_EXIT_MS = 2000;
/**
 * How often it looks meanwhile: bwrap's monitor often exits while the sandbox's init is still being
 * torn down, and a restart waits on this, so the poll is tight (two /proc reads, for a few ms at most).
 */
const SANDBOX_POLL_MS = 1;

export class SandboxProcess {
  /** The host pid of the sandbox's init (bwrap's status fd); null until reported, and always unwalled. */
  private initPid: number | null = null;
  /** The host pid of the plugin's program under that init, once found. */
  private plugin: number | null = null;

  /** `exited`: whether the host has reported the exit (after it, /proc is not read again). */
  constructor(
    private readonly launch: LaunchSpec,
    private readonly exited: () => boolean,
  ) {}

  /** The sampler starts from the init, which adopts every orphan of the plugin. */
  get init(): number | null {
    return this.initPid;
  }

  /**
   * Feeds the wall's inputs (passwd, group, seccomp) and reads its status: bwrap writes
   * `{"child-pid": N}` once the sandbox exists (no such line: the sandbox was never built). A restart
   * standby was fed when it was spawned (`fed`): its block fd gets the byte that lets the plugin run.
   */
  connectExtraFds(subprocess: ChildProcess, fed = false): void {
    (this.launch.fds ?? []).forEach((fd, i) => {
      const stream = subprocess.stdio[i + 3] as (Readable & Writable) | null | undefined;
      if (!stream) return;
      stream.on('error', () => undefined);
      if ('input' in fd) {
        // Once the kernel has the data, the socket object has nothing left to do in the daemon.
        if (!fed) stream.end(fd.input, () => stream.destroy());
        return;
      }
      if ('block' in fd) {
        stream.end('x', () => stream.destroy());
        return;
      }
      let text = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        text += chunk;
        const pid = /"child-pid"\s*:\s*(\d+)/.exec(text)?.[1];
        if (pid && this.initPid === null) this.initPid = Number(pid);
        if (text.length > 4096) text = text.slice(-1024);
      });
    });
  }

  /** The plugin's program under the sandbox's init (the init's first child), read once from /proc. */
  pluginPid(): number | null {
    if (this.plugin !== null || this.initPid === null || this.exited()) return this.plugin;
    try {
      const init = this.initPid;
      const children = readFileSync(`/proc/${init}/task/${init}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      if (children.length > 0) this.plugin = Number(children[0]);
    } catch {
      // not forked yet, or gone
    }
    return this.plugin;
  }

  /** The exit as the plugin had it: behind the wall bwrap turns a signal into 128+n, and no sandbox means set-up failed. */
  exitFacts(code: number | null, signal: NodeJS.Signals | null): ExitInfo {
    if (!this.launch.walled || signal !== null) return { code, signal };
    if (this.initPid === null) return { code, signal, sandboxFailed: true };
    const name = code !== null && code > 128 ? signalName(code - 128) : null;
    return name ? { code: null, signal: name } : { code, signal };
  }

  /**
   * Runs `then` once the sandbox's processes are gone (at once if they are, or unwalled): a killed bwrap's
   * sandbox follows it a moment later (parent-death signal, then the pid namespace's end). Bounded by SANDBOX_EXIT_MS.
   */
  whenGone(then: () => void): void {
    const inside = [this.initPid, this.pluginPid()].filter((pid): pid is number => pid !== null);
    if (inside.every(isGone)) return then();
    const deadline = Date.now() + SANDBOX_EXIT_MS;
    const poll = setInterval(() => {
      if (!inside.every(isGone) && Date.now() < deadline) return;
      clearInterval(poll);
      then();
    }, SANDBOX_POLL_MS);
  }
}

/** Whether a process has ended: no longer there, or a zombie waiting to be reaped. */
function isGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}
