/**
 * Per-key debouncing of async work: a burst of `schedule(key)` calls becomes one `run(key)`,
 * `delayMs` after the last; runs for one key never overlap (calls during a run lead to one more run
 * right after it), so a slow decision cannot race a newer one about the same folder.
 */
interface KeyState {
  timer?: NodeJS.Timeout;
  running?: Promise<void>;
  again?: boolean;
}

export class KeyedDebouncer {
  private readonly keys = new Map<string, KeyState>();
  private closed = false;

  constructor(
    private readonly delayMs: number,
    /** Must not reject: it owns its errors. */
    private readonly run: (key: string) => Promise<void>,
  ) {}

  schedule(key: string): void {
    if (this.closed) return;
    let state = this.keys.get(key);
    if (!state) this.keys.set(key, (state = {}));
    clearTimeout(state.timer);
    state.timer = setTimeout(() => {
      state.timer = undefined;
      this.fire(key, state);
    }, this.delayMs);
  }

  /** Cancels pending runs and waits for the ones in progress. */
  async close(): Promise<void> {
    this.closed = true;
    for (const state of this.keys.values()) clearTimeout(state.timer);
    await Promise.allSettled([...this.keys.values()].map((s) => s.running));
  }

  private fire(key: string, state: KeyState): void {
    if (this.closed) return;
    if (state.running) {
      state.again = true;
      return;
    }
    state.running = this.run(key)
      .catch(() => undefined) // run owns its errors; never leave a rejection dangling
      .finally(() => {
        state.running = undefined;
        if (state.again) {
          state.again = false;
          this.fire(key, state);
        } else if (!state.timer) {
          this.keys.delete(key); // idle: do not keep state for every folder ever touched
        }
      });
  }
}
