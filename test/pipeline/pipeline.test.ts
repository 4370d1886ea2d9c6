import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonError } from '../../src/control/client.js';
import { bootDaemon, REPO, type Sandbox, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

// The example pipeline in plugins/: file-connector → item.fetched → text-processor → item.cleaned → keyword-analyzer.
const PIPELINE = ['file-connector', 'text-processor', 'keyword-analyzer'] as const;

let sandbox: Sandbox;
let daemon: TestDaemon;

async function boot(): Promise<void> {
  const plugins = Object.fromEntries(PIPELINE.map((name) => [name, { from: join(REPO, 'plugins', name) }]));
  ({ sandbox, daemon } = await bootDaemon({ hotReload: { enabled: true, debounceMs: 100 } }, plugins));
  for (const name of PIPELINE) await daemon.waitForState(name, 'running');
}

const inbox = (...parts: string[]): string => join(sandbox.pluginsDir, 'file-connector/inbox', ...parts);

type Top = Array<{ word: string; count: number }>;

/** Waits until keyword-analyzer's `top {n}` equals `expected` (the connector polls every 2 s). */
async function waitForTop(n: number, expected: Top): Promise<void> {
  let last: Top = [];
  await waitFor(`keyword-analyzer top ${n} to be ${JSON.stringify(expected)}`, async () => {
    last = await daemon.call<Top>('keyword-analyzer', 'top', { n });
    return JSON.stringify(last) === JSON.stringify(expected);
  }, { timeoutMs: 15_000, intervalMs: 100 }).catch((error: Error) => {
    throw new Error(`${error.message}; last answer ${JSON.stringify(last)}`);
  });
}

afterEach(async () => {
  await daemon?.cleanup();
  sandbox?.remove();
});

describe('example pipeline', () => {
  it('text-processor cleans and tokenises on a direct call', async () => {
    await boot();
    const { tokens } = await daemon.call<{ tokens: string[] }>('text-processor', 'clean', {
      text: "  The QUICK, brown fox!\n\tJumps over the lazy dog — don't stop. Café 42 ",
    });
    expect(tokens).toEqual(['quick', 'brown', 'fox', 'jumps', 'lazy', 'dog', 'dont', 'stop', 'café', '42']);
    expect(await daemon.call('text-processor', 'clean', { text: '... the, and!' })).toEqual({ tokens: [] });
    const bad = await daemon.call('text-processor', 'clean', { text: 42 }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(DaemonError);
    expect((bad as DaemonError).code).toBe(-32602);
  });

  it('counts the words of dropped files end to end, and keeps the counts across a hot reload', async () => {
    await boot();
    const connector = await daemon.status('file-connector');
    // Runs sandboxed: it reads, renames within and creates folders in ./inbox under Node's permission model.
    expect(connector.enforcement.fs).toBe('mount-namespace+node-permission');
    writeFileSync(inbox('one.txt'), 'Apple banana, apple! The cherry and the APPLE.\nBanana split.');
    await waitForTop(5, [
      { word: 'apple', count: 3 },
      { word: 'banana', count: 2 },
      { word: 'cherry', count: 1 },
      { word: 'split', count: 1 },
    ]);
    expect(existsSync(inbox('done/one.txt'))).toBe(true);
    expect(existsSync(inbox('one.txt'))).toBe(false);

    // A second file adds to the counts.
    writeFileSync(inbox('two.txt'), 'cherry cherry cherry date');
    const afterTwo: Top = [
      { word: 'cherry', count: 4 },
      { word: 'apple', count: 3 },
      { word: 'banana', count: 2 },
      { word: 'date', count: 1 },
      { word: 'split', count: 1 },
    ];
    await waitForTop(5, afterTwo);
    await waitFor('two.txt to move to done/', () => existsSync(inbox('done/two.txt')) && !existsSync(inbox('two.txt')));
    expect(await daemon.call('file-connector', 'status')).toMatchObject({ seen: 2, fetched: 2, skipped: 0 });
    // What it writes in its declared fs.write path never counts as a change to reload it for.
    expect((await daemon.status('file-connector')).pid).toBe(connector.pid);

    // Hot reload: a new version of the analyzer gets the old one's snapshot as its state.
    const before = await daemon.status('keyword-analyzer');
    expect(before.version).toBe('1.0.0');
    const manifestPath = join(sandbox.pluginsDir, 'keyword-analyzer/plugin.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { version: string };
    writeFileSync(manifestPath, JSON.stringify({ ...manifest, version: '1.0.1' }, null, 2));
    const after = await waitFor('keyword-analyzer 1.0.1 to be running', async () => {
      const status = await daemon.status('keyword-analyzer');
      return status.version === '1.0.1' && status.state === 'running' ? status : undefined;
    });
    expect(after.pid).not.toBe(before.pid);
    expect(await daemon.call('keyword-analyzer', 'top', { n: 5 })).toEqual(afterTwo);

    // And the reloaded analyzer still takes events.
    writeFileSync(inbox('three.txt'), 'date date date date');
    await waitForTop(1, [{ word: 'date', count: 5 }]);
    expect(await daemon.call('keyword-analyzer', 'reset')).toEqual({ cleared: 5 });
    expect(await daemon.call('keyword-analyzer', 'top', { n: 5 })).toEqual([]);
  });

  it('skips a file over 1 MB with a warning and moves it aside', async () => {
    await boot();
    writeFileSync(inbox('big.txt'), 'word '.repeat(200_001)); // 1,000,005 bytes
    await waitFor('big.txt to move to skipped/', () => existsSync(inbox('skipped/big.txt')), { timeoutMs: 15_000 });
    expect(existsSync(inbox('done/big.txt'))).toBe(false);
    expect(await daemon.call('file-connector', 'status')).toMatchObject({ seen: 1, fetched: 0, skipped: 1 });
    const { entries } = await daemon.request<{ entries: Array<{ msg: string }> }>('logs.tail', { level: 'warn' });
    expect(entries.some((e) => e.msg.includes('skipped big.txt: 1000005 bytes is over the 1000000-byte limit'))).toBe(true);
    expect(await daemon.call('keyword-analyzer', 'top', { n: 5 })).toEqual([]);
  });
});
