// Shared by the cgroup tests: a tracker that cleans up every process, cgroup and temp folder a test
// made (even when it fails), a fake cgroupfs, and small process helpers.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { PluginCgroup } from '../../src/cgroups/index.js';

export { waitFor } from '../helpers/wait.js';

/** The real interpreter behind pyenv's shim (the shim is a shell script: extra processes, slower). */
export const PYTHON = (() => {
  try {
    return execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
})();

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class Tracker {
  private readonly children: ChildProcess[] = [];
  private readonly cgroups: PluginCgroup[] = [];
  private readonly temps: string[] = [];
  /** warden-<pid> folders: removed after the whole file (shared by the file's tests). */
  readonly bases = new Set<string>();
  readonly extraPids = new Set<number>();

  cgroup<T extends PluginCgroup>(cg: T): T {
    this.cgroups.push(cg);
    for (const dir of cg.dirs) this.bases.add(dirname(dir));
    return cg;
  }

  tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.temps.push(dir);
    return dir;
  }

  /** Spawns cg.joinArgv() + command; stdout is collected line by line; `stdin` gives it a pipe to read. */
  spawnIn(cg: PluginCgroup, command: string[], options: { stdin?: boolean } = {}): { child: ChildProcess; lines: string[]; stderr: () => string; exit: Promise<Exit> } {
    const [sh, ...prefix] = cg.joinArgv();
    const child = spawn(sh!, [...prefix, ...command], { stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    this.children.push(child);
    const lines: string[] = [];
    let out = '';
    let err = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const parts = out.split('\n');
      out = parts.pop()!;
      lines.push(...parts);
    });
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exit = new Promise<Exit>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    return { child, lines, stderr: () => err, exit };
  }

  async cleanup(): Promise<void> {
    for (const cg of this.cgroups.splice(0)) {
      await cg.kill(3000).catch(() => undefined);
      await cg.remove().catch(() => undefined);
    }
    for (const child of this.children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const pid of this.extraPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    this.extraPids.clear();
    for (const dir of this.temps.splice(0)) rmSync(dir, { recursive: true, force: true });
  }

  removeBases(): void {
    for (const base of this.bases) {
      try {
        rmdirSync(base);
      } catch {
        // ENOENT, or a leftover the next sweep() removes
      }
    }
    this.bases.clear();
  }
}
