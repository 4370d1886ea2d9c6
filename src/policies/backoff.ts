export interface BackoffSettings {
  initialDelayMs: number;
  maxDelayMs: number;
}

/** ±20 % so that plugins that crashed together do not restart in lock-step. */
const JITTER = 0.2;

/**
 * failures >= 1 is the count of recent failures; exponential from initialDelayMs doubling each
 * failure, capped at maxDelayMs, with jitter. Result is an integer in [0.8·d, 1.2·d] capped at
 * maxDelayMs, d = min(max, initial·2^(failures−1)). initialDelayMs 0 always gives 0.
 */
export function backoffDelay(
  failures: number,
  settings: BackoffSettings,
  random: () => number = Math.random,
): number {
  const initial = Math.max(0, finiteOr(settings.initialDelayMs, 0));
  const max = Math.max(0, finiteOr(settings.maxDelayMs, 0));
  if (initial === 0 || max === 0) return 0;

  // failures < 1 (or NaN) is treated as the first failure.
  const n = Number.isNaN(failures) ? 1 : Math.max(1, Math.floor(failures));
  // 2^1100 is already Infinity; clamping the exponent avoids NaN/∞ arithmetic for huge counts.
  const exp = Math.min(n - 1, 1100);
  const base = Math.min(max, initial * 2 ** exp);

  let r = random();
  if (!Number.isFinite(r)) r = 0.5;
  r = Math.min(1, Math.max(0, r));
  // Round, then clamp to the integer part of the jitter band so rounding never leaves it.
  const lo = Math.ceil(base * (1 - JITTER));
  const hi = Math.floor(base * (1 + JITTER));
  const jittered = Math.round(base * (1 - JITTER + 2 * JITTER * r));
  const delay = lo <= hi ? Math.min(hi, Math.max(lo, jittered)) : Math.round(base);
  return Math.min(Math.floor(max), delay);
}

function finiteOr(v: number, fallback: number): number {
  return Number.isFinite(v) ? v : v === Infinity ? Number.MAX_SAFE_INTEGER : fallback;
}
