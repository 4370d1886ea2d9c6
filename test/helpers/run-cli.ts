// The built CLI run without blocking the test process (a server in this process, a registry stand-in or
// a webhook, must keep answering while it runs).
import { spawn } from 'node:child_process';
import { CLI } from './daemon.js';

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `node dist/cli/main.js ...args` in `cwd` with `env` added to this process's; resolves once it has closed. */
export function runCliAsync(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}
