// The batched writer every peer uses: a burst of lines in one tick is one write, in order.
import { describe, expect, it } from 'vitest';
import { LineBatcher } from '../../src/rpc/line-reader.js';

describe('LineBatcher', () => {
  it('writes the lines of one tick in one write, in order, and the next tick in another', async () => {
    const writes: string[] = [];
    const out = new LineBatcher((text) => writes.push(text));
    out.push('a\n');
    out.push('b\n');
    expect(out.queuedLength).toBe(4);
    expect(writes).toEqual([]);
    await Promise.resolve();
    expect(writes).toEqual(['a\nb\n']);
    out.push('c\n');
    await Promise.resolve();
    expect(writes).toEqual(['a\nb\n', 'c\n']);
  });

  it('flushes at once on demand, and hands out what is queued (with a last line) for a write of its own', async () => {
    const writes: string[] = [];
    const out = new LineBatcher((text) => writes.push(text));
    out.push('a\n');
    out.flush();
    expect(writes).toEqual(['a\n']);
    out.push('b\n');
    expect(out.take('c\n')).toBe('b\nc\n');
    await Promise.resolve();
    expect(writes).toEqual(['a\n']); // nothing left for the queued flush
    expect(out.queuedLength).toBe(0);
  });
});
