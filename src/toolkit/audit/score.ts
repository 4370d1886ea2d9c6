/**
 * The audit score: a pure function of the findings. The rule is the table below, written once;
 * docs/audit.md explains it (keep the two in step).
 */
import type { Capability, Finding, Rule } from './types.js';

export interface RuleWeight {
  capability: Capability;
  /** Points one undeclared finding costs. */
  undeclared: number;
  /** Points one declared finding costs (null: the manifest cannot declare it). */
  declared: number | null;
  /** The most this rule can cost, however many findings it has. */
  cap: number;
}

/** The severity table of docs/audit.md, in the order the report lists capabilities. */
export const SEVERITY: Readonly<Record<Rule, RuleWeight>> = {
  'child-process': { capability: 'childProcess', undeclared: 30, declared: 0, cap: 40 },
  'native-code': { capability: 'nativeCode', undeclared: 30, declared: null, cap: 40 },
  'process-binding': { capability: 'processBinding', undeclared: 30, declared: null, cap: 40 },
  'dynamic-code': { capability: 'dynamicCode', undeclared: 25, declared: null, cap: 35 },
  network: { capability: 'network', undeclared: 25, declared: 0, cap: 35 },
  'fs-outside': { capability: 'fs', undeclared: 15, declared: 0, cap: 30 },
  'fs-computed': { capability: 'fs', undeclared: 2, declared: null, cap: 10 },
  'env-all': { capability: 'env', undeclared: 10, declared: null, cap: 20 },
  env: { capability: 'env', undeclared: 5, declared: 0, cap: 15 },
  'parse-error': { capability: 'analysis', undeclared: 10, declared: null, cap: 20 },
  'not-analyzed': { capability: 'analysis', undeclared: 10, declared: null, cap: 20 },
  'typescript-source': { capability: 'analysis', undeclared: 0, declared: null, cap: 0 },
};

/** 100 minus each rule's cost (the sum of its findings' weights, capped per rule), never under 0. */
export function auditScore(findings: readonly Finding[]): number {
  const cost = new Map<Rule, number>();
  for (const f of findings) {
    const w = SEVERITY[f.rule];
    const points = f.declared && w.declared !== null ? w.declared : w.undeclared;
    cost.set(f.rule, (cost.get(f.rule) ?? 0) + points);
  }
  let total = 0;
  for (const [rule, points] of cost) total += Math.min(points, SEVERITY[rule].cap);
  return Math.max(0, 100 - total);
}
