import type { GraphNode } from '../../src/graph/index.js';

/** Shorthand: "a: b c" → a depends on b and c (any version). */
export function graph(...lines: string[]): GraphNode[] {
  return lines.map((line) => {
    const [name, deps = ''] = line.split(':');
    const dependencies = Object.fromEntries(deps.trim().split(/\s+/).filter(Boolean).map((d) => [d, '*']));
    return { name: name!.trim(), version: '1.0.0', dependencies };
  });
}
