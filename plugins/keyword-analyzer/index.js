// keyword-analyzer — step 3 of the example pipeline (connector → processor → analyzer).
//
// Shows: snapshot/restore. The counts live in memory only; on a hot reload warden asks this instance
// for snapshot() and hands the result to the next one as ctx.state, so editing this plugin (or just
// bumping its version) keeps the counts. A daemon restart starts from zero.
import { definePlugin, PluginError } from 'warden/sdk';

const counts = new Map(); // word → count

definePlugin({
  init(ctx) {
    // ctx.state is null on a cold start, else what the previous instance's snapshot() returned.
    const saved = ctx.state?.counts;
    if (saved && typeof saved === 'object') {
      for (const [word, count] of Object.entries(saved)) if (Number.isInteger(count) && count > 0) counts.set(word, count);
      ctx.log.info('restored keyword counts', { words: counts.size });
    }
  },

  snapshot: () => ({ counts: Object.fromEntries(counts) }),

  onEvent({ data }) {
    if (!Array.isArray(data?.tokens)) return;
    for (const word of data.tokens) if (typeof word === 'string') counts.set(word, (counts.get(word) ?? 0) + 1);
  },

  methods: {
    /** {n} → the n most frequent words as [{word, count}], by count, then alphabetically. */
    top: ({ n = 10 } = {}) => {
      if (!Number.isInteger(n) || n < 0) throw new PluginError('top needs {n: a non-negative integer}', -32602);
      return [...counts]
        .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
        .slice(0, n)
        .map(([word, count]) => ({ word, count }));
    },

    /** Forgets every count. */
    reset: () => {
      const cleared = counts.size;
      counts.clear();
      return { cleared };
    },
  },
});
