import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { waitFor } from '../helpers/wait.js';

/**
 * Real processes for a test, each the leader of its own process group so that
 * killAll() also takes its descendants. Call killAll() in afterEach.
 */
export class Procs {
  private readonly children: ChildProcess[] = [];

  /** Starts `node -e script` and resolves once it prints its first line (its ready signal). */
  async node(script: string): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['-e', script], {
      detached: true,
      stdio: ['pipe', 'pipe', 'inherit'],
      // no NODE_EXTRA_CA_CERTS & co: they slow every node start down
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    this.children.push(child);
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      lines.once('line', () => resolve());
      child.once('exit', (code, signal) => reject(new Error(`child exited early (${code ?? signal})`)));
    });
    return child;
  }

  async killAll(): Promise<void> {
    const running = this.children.splice(0);
    for (const child of running) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await waitFor('test processes to exit', () => running.every((c) => c.exitCode !== null || c.signalCode !== null), {
      timeoutMs: 5000,
    });
  }
}

/** A node script that keeps running and prints "ready" once `setup` has run. */
export function idle(setup = ''): string {
  return `${setup}; setInterval(() => {}, 1 << 30); console.log('ready');`;
}
