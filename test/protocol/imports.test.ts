// The folders of src/ import one way: down to the pure policies and the protocol layer, never back up.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/daemon.js';

const SRC = join(REPO, 'src');

/** folder → the other src folders its files import ("(root)" for src/*.ts). */
function importGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  const folderOf = (path: string) => {
    const parts = relative(SRC, path).split('/');
    return parts.length > 1 ? parts[0]! : '(root)';
  };
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) {
        const from = folderOf(path);
        for (const [, spec] of readFileSync(path, 'utf8').matchAll(/from '(\.\.?\/[^']+)'/g)) {
          const to = folderOf(normalize(join(dirname(path), spec!)));
          if (to !== from) (graph.get(from) ?? graph.set(from, new Set()).get(from)!).add(to);
        }
      }
    }
  };
  walk(SRC);
  return graph;
}

describe('the import graph of src/', () => {
  const graph = importGraph();

  it('protocol and rpc import nothing; policies only protocol and config types', () => {
    expect([...(graph.get('protocol') ?? [])]).toEqual([]);
    expect([...(graph.get('rpc') ?? [])]).toEqual([]);
    expect([...(graph.get('policies') ?? [])].sort()).toEqual(['config', 'protocol']);
  });

  it('nothing below imports the supervisor, the control socket, the CLI or the daemon', () => {
    const top = new Set(['supervisor', 'control', 'cli', 'daemon']);
    const allowed: Record<string, string[]> = { control: ['supervisor'], daemon: ['supervisor', 'control'], cli: ['control', 'daemon'] };
    for (const [from, tos] of graph) {
      for (const to of tos) if (top.has(to)) expect(allowed[from] ?? [], `${from} → ${to}`).toContain(to);
    }
  });

  it('no two folders import each other (src/index.ts re-exporting manifest types aside)', () => {
    const twoWay = [...graph].flatMap(([a, tos]) => [...tos].filter((b) => a < b && graph.get(b)?.has(a)).map((b) => `${a} ↔ ${b}`));
    expect(twoWay).toEqual(['(root) ↔ manifest']);
  });
});
