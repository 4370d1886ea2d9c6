import { describe, expect, it } from 'vitest';
import { background, settled } from '../../src/supervisor/background.js';

type Line = [fields: Record<string, unknown>, message: string];

function recorder() {
  const lines: Line[] = [];
  return { lines, log: { error: (fields: Record<string, unknown>, message: string) => lines.push([fields, message]) } };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('background', () => {
  it('logs a failure with what failed and whose, and the stack', async () => {
    const { lines, log } = recorder();
    background(log, 'resume of web', Promise.reject(new Error('boom')), { plugin: 'web' });
    await tick();
    expect(lines).toHaveLength(1);
    expect(lines[0]![1]).toBe('resume of web failed: boom');
    expect(lines[0]![0]).toMatchObject({ plugin: 'web', stack: expect.stringContaining('boom') });
  });

  it('logs nothing for work that succeeds, and takes a rejection that is not an Error', async () => {
    const { lines, log } = recorder();
    background(log, 'suspend of db', Promise.resolve('done'));
    background(log, 'reload of db', Promise.reject('plain'));
    await tick();
    expect(lines.map(([, message]) => message)).toEqual(['reload of db failed: plain']);
  });

  it('gets a lazy logger only when there is a failure to log', async () => {
    const { lines, log } = recorder();
    let asked = 0;
    const lazy = () => {
      asked++;
      return log;
    };
    background(lazy, 'supervision', Promise.resolve());
    await tick();
    expect(asked).toBe(0);
    background(lazy, 'supervision', Promise.reject(new Error('late')));
    await tick();
    expect(asked).toBe(1);
    expect(lines.map(([, message]) => message)).toEqual(['supervision failed: late']);
  });
});

describe('settled', () => {
  it('never rejects, so work awaited together is not cut short by one failure', async () => {
    const { lines, log } = recorder();
    const all = Promise.all([settled(log, 'boot of a', Promise.reject(new Error('no'))), settled(log, 'boot of b', Promise.resolve(1))]);
    await expect(all).resolves.toEqual([undefined, undefined]);
    expect(lines.map(([, message]) => message)).toEqual(['boot of a failed: no']);
  });
});
