/**
 * One timer per health-check interval, shared by every plugin host in the daemon: 100 plugins checked every
 * 5 s wake the daemon once per 5 s, not 20 times a second (each wake-up costs the event loop more than the
 * check itself). A host joins at its handshake and leaves when it stops; its first check comes at the next
 * tick, so within one interval of its start.
 */

interface Ticker {
  timer: NodeJS.Timeout;
  checks: Set<() => void>;
}

const tickers = new Map<number, Ticker>();

/** Runs `check` on every tick of the shared `intervalMs` timer until the returned function is called. */
export function onHealthTick(intervalMs: number, check: () => void): () => void {
  let ticker = tickers.get(intervalMs);
  if (!ticker) {
    const checks = new Set<() => void>();
    // A copy: a check may leave (its plugin hung) while the tick runs.
    const timer = setInterval(() => [...checks].forEach((run) => run()), intervalMs);
    timer.unref();
    ticker = { timer, checks };
    tickers.set(intervalMs, ticker);
  }
  const joined = ticker;
  joined.checks.add(check);
  return () => {
    if (!joined.checks.delete(check) || joined.checks.size > 0) return;
    clearInterval(joined.timer);
    if (tickers.get(intervalMs) === joined) tickers.delete(intervalMs);
  };
}
