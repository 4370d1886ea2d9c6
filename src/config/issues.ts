/**
 * Turning a zod issue into one line "<key.path>: <reason>" for operators and plugin authors.
 * Shared by the config loader and the manifest validator so both read the same way.
 */
import type * as z from 'zod';

/** A value as it should appear after "got": strings quoted, long ones cut short, containers named. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') {
    const quoted = JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
    return quoted;
  }
  return String(value);
}

/** `a.b[0].c`: keys joined by dots, array indexes in brackets. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

const ARTICLE: Record<string, string> = {
  object: 'an object',
  array: 'an array',
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  record: 'an object',
};

/** Reads the raw input at a path (issues from the input side do not always carry it). */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur = root;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

/** One issue of a failed parse as `{path, reason}` (an unrecognized key: the first); `raw` is the parsed input. */
export function describeIssue(issue: z.core.$ZodIssue, raw: unknown): { path: string; reason: string } {
  const path = [...issue.path];
  switch (issue.code) {
    case 'unrecognized_keys':
      // Name the offending key itself, not its parent object.
      return { path: formatPath([...path, issue.keys[0] ?? '?']), reason: 'unknown key' };
    case 'invalid_key': {
      const inner = issue.issues[0];
      return { path: formatPath(path), reason: inner?.message ?? 'invalid key' };
    }
    case 'invalid_type': {
      const input = valueAt(raw, path);
      if (input === undefined) return { path: formatPath(path), reason: 'is required' };
      // Schemas with their own message (leaf fields) keep it; zod's stock text is replaced.
      if (!issue.message.startsWith('Invalid input')) return { path: formatPath(path), reason: issue.message };
      const expected = ARTICLE[issue.expected] ?? issue.expected;
      return { path: formatPath(path), reason: `expected ${expected}, got ${show(input)}` };
    }
    default:
      return { path: formatPath(path), reason: issue.message };
  }
}

/** One problem found in a config or manifest: the key path (`''` for the whole document) and why. */
export interface Problem {
  path: string;
  reason: string;
}

/**
 * Every issue of a failed parse, one problem each, in zod's order. An unrecognized key becomes one
 * problem per key, with the nearest key the schema knows at that place suggested when one is close
 * (`schema` is what was parsed, walked to find the keys it accepts there).
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[], raw: unknown, schema?: z.core.$ZodType): Problem[] {
  const out: Problem[] = [];
  const seen = new Set<string>();
  const add = (p: Problem) => {
    const key = `${p.path}\u0000${p.reason}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(p);
  };
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = schema ? knownKeysAt(schema, issue.path) : [];
      for (const key of issue.keys) {
        const near = closest(key, known);
        add({ path: formatPath([...issue.path, key]), reason: near ? `unknown key; did you mean ${near}?` : 'unknown key' });
      }
      continue;
    }
    add(describeIssue(issue, raw));
  }
  return out;
}

/**
 * Edit distance with adjacent transpositions (optimal string alignment): `mian` is 1 from `main`.
 * Letter case is ignored, so `intervalMS` is 0 from `intervalMs`.
 */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const rows: number[][] = Array.from({ length: s.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= t.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[s.length]![t.length]!;
}

/**
 * The candidate a misspelt `word` most likely meant: the nearest by edit distance, if within a third
 * of the longer word's length (at least 1); ties go to the first candidate. Null when none is close.
 */
export function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate === word) continue;
    const d = editDistance(word, candidate);
    const limit = Math.max(1, Math.floor(Math.max(word.length, candidate.length) / 3));
    if (d <= limit && d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

type Def = { type: string } & Record<string, unknown>;
const defOf = (schema: unknown): Def | null => {
  const zod = (schema as { _zod?: { def?: Def } } | null)?._zod;
  return zod?.def ?? null;
};

/** Strips the wrappers (defaults, optional, preprocess, …) down to the schema that holds the keys. */
function unwrap(schema: unknown): Def | null {
  for (let depth = 0; depth < 32; depth++) {
    const def = defOf(schema);
    if (!def) return null;
    switch (def.type) {
      case 'default':
      case 'prefault':
      case 'optional':
      case 'nullable':
      case 'nonoptional':
      case 'readonly':
      case 'catch':
        schema = def['innerType'];
        break;
      case 'pipe': {
        // z.preprocess(fn, schema) is pipe(transform, schema); schema.transform(fn) is pipe(schema, transform).
        const out = defOf(def['out']);
        schema = out && out.type !== 'transform' ? def['out'] : def['in'];
        break;
      }
      case 'lazy':
        schema = (def['getter'] as () => unknown)();
        break;
      default:
        return def;
    }
  }
  return null;
}

/** The keys an object schema accepts at `path` (empty when that place is not a known object). */
export function knownKeysAt(schema: unknown, path: readonly PropertyKey[]): string[] {
  let def = unwrap(schema);
  for (const key of path) {
    if (!def) return [];
    if (def.type === 'object') def = unwrap((def['shape'] as Record<PropertyKey, unknown>)[key]);
    else if (def.type === 'record') def = unwrap(def['valueType']);
    else if (def.type === 'array') def = unwrap(def['element']);
    else return [];
  }
  return def?.type === 'object' ? Object.keys(def['shape'] as Record<string, unknown>) : [];
}

/** 1-based line and column of a character offset in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lastBreak = before.lastIndexOf('\n');
  return { line: before.split('\n').length, column: before.length - lastBreak };
}
