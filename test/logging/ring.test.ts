import { describe, expect, it } from 'vitest';
import { Ring } from '../../src/logging/ring.js';

describe('Ring', () => {
  it('keeps the newest `capacity` items, oldest first', () => {
    const ring = new Ring<number>(3);
    for (let i = 1; i <= 7; i++) ring.push(i);
    expect(ring.length).toBe(3);
    expect(ring.newest(10)).toEqual([5, 6, 7]);
    expect(ring.newest(2)).toEqual([6, 7]);
  });

  it('filters before limiting', () => {
    const ring = new Ring<number>(10);
    for (let i = 1; i <= 10; i++) ring.push(i);
    expect(ring.newest(3, (n) => n % 2 === 0)).toEqual([6, 8, 10]);
  });

  it('evicts by byte budget but always keeps the newest item', () => {
    const ring = new Ring<string>(100, 10);
    ring.push('a', 4);
    ring.push('b', 4);
    ring.push('c', 4); // 12 > 10: 'a' goes
    expect(ring.newest(100)).toEqual(['b', 'c']);
    ring.push('huge', 50);
    expect(ring.newest(100)).toEqual(['huge']);
    ring.push('d', 1);
    expect(ring.newest(100)).toEqual(['d']);
  });

  it('grows its slots with use and stays right across byte evictions before it first fills, then wraps', () => {
    const ring = new Ring<number>(4, 10);
    for (let i = 1; i <= 3; i++) ring.push(i, 4); // the byte budget drops 1 before any wrap
    expect(ring.newest(10)).toEqual([2, 3]);
    for (let i = 4; i <= 9; i++) ring.push(i, 1);
    expect(ring.newest(10)).toEqual([6, 7, 8, 9]);
    expect(ring.length).toBe(4);
    ring.push(10, 9); // 9 + 1 fits the 10 bytes; the older ones go
    expect(ring.newest(10)).toEqual([9, 10]);
  });
});
