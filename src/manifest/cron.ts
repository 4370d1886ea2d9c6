/**
 * Checks a cron expression as plugin.json takes it (docs/manifest.md, "schedules"): 5 fields, or 6 with seconds first.
 * Each field: `*`, `?` (day fields), numbers or names, ranges `a-b`, steps `/n`, lists `a,b`.
 */

interface Field {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** Index 0 of `names` maps to this number. */
  namesFrom?: number;
  question?: boolean;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] as const;
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

const FIVE: readonly Field[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31, question: true },
  { name: 'month', min: 1, max: 12, names: MONTHS, namesFrom: 1 },
  { name: 'day-of-week', min: 0, max: 7, names: DAYS, namesFrom: 0, question: true },
];
const SIX: readonly Field[] = [{ name: 'second', min: 0, max: 59 }, ...FIVE];

/** null when the expression is fine, else the reason (without the field path). */
export function cronProblem(expr: string): string | null {
  const parts = expr.trim().split(/\s+/).filter((p) => p !== '');
  const fields = parts.length === 5 ? FIVE : parts.length === 6 ? SIX : null;
  if (!fields) return `expected 5 fields, or 6 with seconds first, got ${parts.length} in ${JSON.stringify(expr)}`;
  for (const [i, field] of fields.entries()) {
    const problem = fieldProblem(parts[i] ?? '', field);
    if (problem) return `${field.name} field ${JSON.stringify(parts[i])}: ${problem}`;
  }
  return null;
}

function fieldProblem(text: string, f: Field): string | null {
  for (const item of text.split(',')) {
    if (item === '') return 'empty list item';
    const [rangePart = '', step, extra] = item.split('/');
    if (extra !== undefined) return `more than one "/" in ${JSON.stringify(item)}`;
    if (step !== undefined && !/^[1-9]\d*$/.test(step)) return `step ${JSON.stringify(step)} is not a positive integer`;
    if (rangePart === '*' || (rangePart === '?' && f.question && step === undefined)) continue;
    const [lo, hi, more] = rangePart.split('-');
    if (more !== undefined) return `bad range ${JSON.stringify(rangePart)}`;
    const a = value(lo ?? '', f);
    if (typeof a === 'string') return a;
    if (hi !== undefined) {
      const b = value(hi, f);
      if (typeof b === 'string') return b;
      if (b < a) return `range ${JSON.stringify(rangePart)} runs backwards`;
    }
  }
  return null;
}

function value(text: string, f: Field): number | string {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n >= f.min && n <= f.max ? n : `${text} is out of range ${f.min}-${f.max}`;
  }
  const idx = f.names?.indexOf(text.toUpperCase() as never) ?? -1;
  if (idx >= 0) return idx + (f.namesFrom ?? 0);
  return `${JSON.stringify(text)} is not a number${f.names ? ' or a name' : ''}`;
}
