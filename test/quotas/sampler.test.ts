import { afterEach, describe, expect, it } from 'vitest';
import { sampleTrees } from '../../src/quotas/sampler.js';
import type { UsageSample } from '../../src/quotas/types.js';
import { waitFor } from '../helpers/wait.js';
import { idle, Procs } from './procs.js';

const procs = new Procs();
afterEach(() => procs.killAll());

const MB = 2 ** 20;
// 50 MB, filled so every page is resident
const HOG = idle(`globalThis.hog = Buffer.alloc(50 * 1024 * 1024, 1)`);
const SPINNER = `console.log('ready'); for (;;) {}`;

describe('sampleTrees', () => {
  it('samples two real trees in one pass: memory of an allocator, CPU of a spinner', async () => {
    const [hog, spinner] = await Promise.all([procs.node(HOG), procs.node(SPINNER)]);
    const roots = new Map([['hog', hog.pid!], ['spinner', spinner.pid!]]);

    const first = await sampleTrees(roots);
    // a pid's first reading has nothing to diff against: it counts no CPU (no startup burst)
    expect(first.get('spinner')?.cpuPercent).toBe(0);

    const hot = await waitFor('a spinner sample over 50 %', async () => {
      const samples = await sampleTrees(roots);
      return (samples.get('spinner')?.cpuPercent ?? 0) > 50 ? samples : null;
    });
    const hogSample = hot.get('hog') as UsageSample;
    expect(hogSample.memoryBytes).toBeGreaterThanOrEqual(50 * MB);
    expect(hogSample).toMatchObject({ processes: 1, pids: [hog.pid] });
    expect(hogSample.handles).toBeGreaterThan(2);
    expect(hogSample.cpuPercent).toBeLessThan(50);
    expect(hot.get('spinner')!.pids).toEqual([spinner.pid]);
  });

  it('sums a whole tree and gives null for a root that is gone', async () => {
    const parent = await procs.node(
      idle(`require('child_process').spawn('sh', ['-c', 'sleep 100 & sleep 100 & wait'], { stdio: 'ignore' })`),
    );
    const samples = await waitFor('the whole tree', async () => {
      const result = await sampleTrees(new Map([['tree', parent.pid!], ['gone', 2 ** 22 + 1]]));
      return result.get('tree')?.processes === 4 ? result : null;
    });
    expect(samples.get('gone')).toBeNull();
    const tree = samples.get('tree')!;
    expect(tree.pids).toHaveLength(4);
    expect(tree.memoryBytes).toBeGreaterThan(20 * MB);
    expect(tree.handles).toBeGreaterThan(4);
  });

  it('returns an empty map for no roots', async () => {
    expect((await sampleTrees(new Map())).size).toBe(0);
  });
});
