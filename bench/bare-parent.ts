// Baseline for the fleet bench: a bare parent that starts N node children, waits for a line from each,
// then holds them idle while measuring its own CPU and memory. Prints one JSON line.
import { spawn } from 'node:child_process';
import { idleUsage } from './usage.js';

const count = Number(process.argv[2] ?? 100);
const idleSeconds = Number(process.argv[3] ?? 30);
const started = process.hrtime.bigint();
const children = Array.from({ length: count }, () =>
  spawn(process.execPath, ['-e', 'console.log("ready"); setInterval(() => {}, 1 << 30)'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { PATH: process.env.PATH ?? '' },
  }),
);
await Promise.all(children.map((child) => new Promise((resolve) => child.stdout!.once('data', resolve))));
const startMs = Number(process.hrtime.bigint() - started) / 1e6;
const usage = await idleUsage(process.pid, idleSeconds);
for (const child of children) child.kill('SIGKILL');
console.log(JSON.stringify({ startMs, ...usage }));
