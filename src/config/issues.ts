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

/** The first issue of a failed parse as `{path, reason}`; `raw` is the parsed input. */
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
