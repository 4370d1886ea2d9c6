import { describe, expect, it } from 'vitest';
import { createLineReader } from '../../src/rpc/line-reader.js';

function collect(maxLineBytes: number) {
  const lines: string[] = [];
  const overflows: number[] = [];
  const heads: string[] = [];
  const reader = createLineReader({
    maxLineBytes,
    onLine: (l) => lines.push(l),
    onOverflow: (n, head) => {
      overflows.push(n);
      heads.push(head.toString());
    },
  });
  return { reader, lines, overflows, heads };
}

describe('createLineReader', () => {
  it('splits lines across chunk boundaries and tolerates CRLF and blank lines', () => {
    const { reader, lines } = collect(100);
    for (const chunk of ['{"a"', ':1}\n{"b":2}\r', '\n\n', 'tail']) reader.push(Buffer.from(chunk));
    reader.end();
    expect(lines).toEqual(['{"a":1}', '{"b":2}', 'tail']);
  });

  it('keeps multi-byte characters split across chunks intact', () => {
    const { reader, lines } = collect(100);
    const bytes = Buffer.from('héllo ✓\n');
    reader.push(bytes.subarray(0, 2));
    reader.push(bytes.subarray(2));
    expect(lines).toEqual(['héllo ✓']);
  });

  it('drops an overlong line without buffering it, reports its size once, and carries on', () => {
    const { reader, lines, overflows } = collect(10);
    reader.push(Buffer.from('short\n0123456789'));
    reader.push(Buffer.from('abcdef'));
    reader.push(Buffer.from('ghij\nnext\n'));
    expect(lines).toEqual(['short', 'next']);
    expect(overflows).toEqual([20]);
  });

  it('hands over the first bytes of a dropped line, across chunks', () => {
    const { reader, heads } = collect(8);
    reader.push(Buffer.from('{"id":'));
    reader.push(Buffer.from('42,"result":"long"}\n'));
    expect(heads).toEqual(['{"id":42,"result":"long"}']);
  });

  it('drops an overlong line that arrives in one chunk', () => {
    const { reader, lines, overflows } = collect(4);
    reader.push(Buffer.from('12345678\nok\n'));
    expect(lines).toEqual(['ok']);
    expect(overflows).toEqual([8]);
  });

  it('reports an overlong final line at end of stream', () => {
    const { reader, lines, overflows } = collect(4);
    reader.push(Buffer.from('123456'));
    reader.end();
    expect(lines).toEqual([]);
    expect(overflows).toEqual([6]);
  });

  it('accepts a line of exactly the limit', () => {
    const { reader, lines } = collect(4);
    reader.push(Buffer.from('1234\n'));
    expect(lines).toEqual(['1234']);
  });
});
