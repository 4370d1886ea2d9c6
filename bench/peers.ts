import { spawn, type ChildProcess } from 'node:child_process';
import { createLineReader } from '../dist/rpc/line-reader.js';
import { protocolPluginFile } from './protocol-plugin.js';
import type { Call } from './stats.js';

/** The baseline: a bare NDJSON client over a bare child's pipe, the child running the bench's protocol plugin. */
export class BarePeer {
  readonly child: ChildProcess;
  private readonly pending = new Map<number, (value: unknown) => void>();
  private nextId = 1;

  constructor() {
    this.child = spawn(process.execPath, [protocolPluginFile()], { stdio: ['pipe', 'pipe', 'inherit'], env: { PATH: process.env.PATH ?? '' } });
    const reader = createLineReader({
      onLine: (line) => {
        const response = JSON.parse(line) as { id: number; result: unknown };
        const resolve = this.pending.get(response.id);
        this.pending.delete(response.id);
        resolve?.(response.result);
      },
    });
    this.child.stdout!.on('data', (chunk: Buffer) => reader.push(chunk));
  }

  readonly call: Call = (params) =>
    new Promise((resolve) => {
      const id = this.nextId++;
      this.pending.set(id, resolve);
      this.child.stdin!.write(`${JSON.stringify({ jsonrpc: '2.0', id, method: 'echo', params })}\n`);
    });

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.stdin!.end();
    });
  }
}

/** Time from spawning a bare child to its first answer: the floor for any restart. */
export async function bareSpawnToAnswerMs(): Promise<number> {
  const start = process.hrtime.bigint();
  const peer = new BarePeer();
  await peer.call({});
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  await peer.close();
  return ms;
}
