// Baselines for the fleet bench: a bare parent that starts N children of the bench's protocol plugin at
// once, sends each the handshake and waits for every answer, then prints "started MS" (from its first
// spawn to its last answer); then it holds them idle while measuring its own CPU and memory, and prints
// one JSON line. With `walled`, each child is the launch warden plans (cgroup, setpriv, bwrap, node):
// the wall's own cost, with no supervisor.
import { INITIALIZE_LINE, protocolPluginFile } from './protocol-plugin.js';
import { endLaunch, planWalled, prepareFloor, spawnToAnswer } from './launch-floor.js';
import { spawn } from 'node:child_process';
import { idleUsage } from './usage.js';

const count = Number(process.argv[2] ?? 100);
const idleSeconds = Number(process.argv[3] ?? 30);
const walled = process.argv[4] === 'walled';

const floor = walled ? await prepareFloor() : null;
const script = protocolPluginFile();
const started = process.hrtime.bigint();
const children = Array.from({ length: count }, (_, i) => {
  if (floor) {
    const { launch, cgroup } = planWalled(floor, `${process.pid}-${i}`);
    return { ...spawnToAnswer(launch), cgroup };
  }
  const child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'inherit'], env: { PATH: process.env.PATH ?? '' } });
  child.stdin!.write(INITIALIZE_LINE);
  return { child, answered: new Promise<void>((resolve) => child.stdout!.once('data', () => resolve())), cgroup: null };
});
await Promise.all(children.map((c) => c.answered));
process.stdout.write(`started ${Number(process.hrtime.bigint() - started) / 1e6}\n`);
const usage = idleSeconds > 0 ? await idleUsage(process.pid, idleSeconds) : null;
await Promise.all(children.map((c) => endLaunch(c.child, c.cgroup)));
console.log(JSON.stringify(usage));
