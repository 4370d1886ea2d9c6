import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { countHandles, processTree } from '../../src/quotas/process-tree.js';
import { isAlive, waitFor } from '../helpers/wait.js';
import { idle, Procs } from './procs.js';

const procs = new Procs();
afterEach(() => procs.killAll());

function comm(pid: number): string {
  return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
}

describe('processTree', () => {
  it('finds the root, its child and its grandchildren', async () => {
    const root = await procs.node(
      idle(`require('child_process').spawn('sh', ['-c', 'sleep 100 & sleep 100 & wait'], { stdio: 'ignore' })`),
    );
    // (sh forks before the sleeps exec: wait until both are sleep, not a forked sh)
    const tree = await waitFor('node → sh → 2 × sleep', async () => {
      const pids = await processTree(root.pid!);
      return pids.length === 4 && pids.slice(1).map(comm).sort().join() === 'sh,sleep,sleep' ? pids : null;
    });
    expect(tree[0]).toBe(root.pid);
    // the sleeps are grandchildren: their parent is sh, not the root
    const sh = tree.find((pid) => comm(pid) === 'sh')!;
    for (const pid of tree.filter((p) => comm(p) === 'sleep')) {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      expect(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])).toBe(sh);
    }
  });

  it('returns [] for a dead pid', async () => {
    const child = await procs.node(idle());
    const pid = child.pid!;
    process.kill(pid, 'SIGKILL');
    await waitFor('the child to be reaped', () => child.exitCode !== null || child.signalCode !== null);
    await waitFor('its /proc entry to go', () => !isAlive(pid));
    expect(await processTree(pid)).toEqual([]);
    expect(await countHandles(pid)).toBe(0);
  });
});

describe('countHandles', () => {
  it('grows when a process opens files', async () => {
    const child = await procs.node(
      idle(`const fs = require('fs'); process.stdin.on('data', () => {
        for (let i = 0; i < 50; i++) fs.openSync(process.execPath, 'r');
        console.log('opened');
      })`),
    );
    const before = await countHandles(child.pid!);
    expect(before).toBeGreaterThan(2);
    child.stdin!.write('go\n');
    const after = await waitFor('50 more descriptors', async () => {
      const count = await countHandles(child.pid!);
      return count >= before + 50 ? count : null;
    });
    expect(after).toBeGreaterThanOrEqual(before + 50);
  });
});
