// Baseline for the fleet bench: a bare parent that spawns N children of one plugin file at once, sends
// each the handshake and waits for every answer (then prints "started"), holds them idle while measuring
// its own CPU and memory, and prints one JSON line.
import { spawn } from 'node:child_process';
import { INITIALIZE_LINE } from './protocol-plugin.js';
import { idleUsage } from './usage.js';

const script = process.argv[2]!;
const count = Number(process.argv[3] ?? 100);
const idleSeconds = Number(process.argv[4] ?? 30);
const children = Array.from({ length: count }, () => {
  const child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'inherit'], env: { PATH: process.env.PATH ?? '' } });
  child.stdin!.write(INITIALIZE_LINE);
  return child;
});
await Promise.all(children.map((child) => new Promise((resolve) => child.stdout!.once('data', resolve))));
process.stdout.write('started\n');
const usage = await idleUsage(process.pid, idleSeconds);
for (const child of children) child.kill('SIGKILL');
console.log(JSON.stringify(usage));
