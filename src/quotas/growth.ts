import type { QuotaBreach } from './types.js';

const MB = 2 ** 20;

/** One memory reading of a plugin: when (ms, any monotonic clock) and how much. */
export interface GrowthPoint {
  time: number;
  bytes: number;
}

export interface GrowthOptions {
  /** The soonest the monitor looks at a plugin again: growth that passes the limit within it is acted on now. */
  minDelayMs: number;
  /** When the monitor looks again anyway (its fast tick): no earlier look is needed past it. */
  regularDelayMs: number;
}

export interface GrowthVerdict {
  /** The climb passes the limit before the monitor could look again: stop it now. */
  breach: QuotaBreach | null;
  /** Look again this many ms from now (before the regular tick); null: the regular cadence will do. */
  nextCheckMs: number | null;
}

const NOTHING: GrowthVerdict = { breach: null, nextCheckMs: null };

/**
 * Pure: what the climb between two readings means where no kernel limit bounds memory. A plugin that will
 * pass its limit before the monitor could look again is stopped on the projection; one that could pass it
 * within two regular looks is looked at again a third of the way there (so a rate first seen
 * underestimated, as when the climb began between two readings, is corrected before the limit). A reading already over the
 * limit is judge()'s breach, not this one's.
 */
export function judgeGrowth(previous: GrowthPoint | null, now: GrowthPoint, limitMb: number, options: GrowthOptions): GrowthVerdict {
  if (!previous || now.time <= previous.time) return NOTHING;
  const limit = limitMb * MB;
  const bytesPerMs = (now.bytes - previous.bytes) / (now.time - previous.time);
  if (bytesPerMs <= 0 || now.bytes > limit) return NOTHING;
  const msToLimit = (limit - now.bytes) / bytesPerMs;
  if (msToLimit <= options.minDelayMs) {
    const rate = Math.round((bytesPerMs * 1000) / MB);
    return {
      breach: {
        limit: 'memoryMb',
        measured: now.bytes / MB,
        allowed: limitMb,
        message: `memory ${Math.round(now.bytes / MB)} MB growing at ${rate} MB/s would pass its limit of ${limitMb} MB within ${Math.ceil(msToLimit)} ms`,
      },
      nextCheckMs: null,
    };
  }
  // A climb that began between two readings is seen at a fraction of its rate: anything that could reach
  // the limit within two regular looks is looked at sooner, a third of the way there.
  if (msToLimit >= 2 * options.regularDelayMs) return NOTHING;
  return { breach: null, nextCheckMs: Math.max(options.minDelayMs, Math.floor(msToLimit / 3)) };
}
