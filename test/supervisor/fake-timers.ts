import type { Timers } from '../../src/supervisor/timers.js';
import type { FakeClock } from '../helpers/fake-clock.js';

interface Pending {
  id: number;
  at: number;
  callback: () => void;
}

/** Timers on a fake clock: nothing fires until the test moves the clock, and then each fires at its own time, in order. */
export class FakeTimers implements Timers {
  private pending: Pending[] = [];
  private nextId = 1;

  constructor(readonly clock: FakeClock) {}

  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { id: this.nextId++, at: this.clock.now() + Math.max(0, ms), callback };
    this.pending.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((timer) => timer.id !== handle);
  }

  /** Milliseconds from now to each pending timer, soonest first. */
  get delays(): number[] {
    return this.pending.map((timer) => timer.at - this.clock.now()).sort((a, b) => a - b);
  }

  /** Moves the clock by `ms`, stopping at each timer that falls due on the way to run it. */
  advance(ms: number): void {
    const end = this.clock.now() + ms;
    for (;;) {
      const due = this.pending.filter((timer) => timer.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.pending = this.pending.filter((timer) => timer !== due);
      this.clock.set(Math.max(this.clock.now(), due.at));
      due.callback();
    }
    this.clock.set(end);
  }
}
