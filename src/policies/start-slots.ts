/**
 * How many plugin instances may be starting (spawned and not yet past their handshake) at once, and
 * who starts next. A start is mostly CPU (the wall's namespaces and mounts, the runtime's boot): with
 * every plugin spawned at once they share the cores and each answers late, some after their start
 * timeout; with a few at a time each answers at the speed of one start, and the fleet takes as long.
 * No timers and no I/O: a slot is asked for, granted in order of asking, and given back.
 */

/** Starts in flight per core: one being spawned or handshaking while another waits on I/O. */
export const STARTS_PER_CORE = 2;

/** The bound for a host with `cores` cores (os.availableParallelism()): at least 2. */
export function startConcurrency(cores: number): number {
  return Math.max(2, Math.floor(cores) * STARTS_PER_CORE);
}

/** One request for a slot: `granted` resolves true once it holds one, false if cancelled first. */
export interface StartTicket {
  readonly granted: Promise<boolean>;
  /** Gives the slot back (or withdraws the request while it waits); idempotent. */
  release(): void;
}

interface Waiter {
  grant: (held: boolean) => void;
  done: boolean;
}

/** Slots for starts, granted first come, first served; one state record: how many are held, who waits. */
export class StartSlots {
  private held = 0;
  private readonly queue: Waiter[] = [];

  constructor(private limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`start slots: expected a positive integer, got ${limit}`);
  }

  /** Slots in use and requests waiting (status, tests). */
  get usage(): { held: number; waiting: number; limit: number } {
    return { held: this.held, waiting: this.queue.length, limit: this.limit };
  }

  /** Asks for a slot: granted at once while fewer than `limit` are held, else when one is given back. */
  acquire(): StartTicket {
    let resolve!: (held: boolean) => void;
    const granted = new Promise<boolean>((r) => (resolve = r));
    const waiter: Waiter = { grant: resolve, done: false };
    let holds = false;
    const ticket: StartTicket = {
      granted,
      release: () => {
        if (waiter.done && !holds) return;
        if (!waiter.done) {
          // Still queued: withdrawn without ever holding a slot.
          waiter.done = true;
          this.queue.splice(this.queue.indexOf(waiter), 1);
          resolve(false);
          return;
        }
        holds = false;
        this.held--;
        this.grantNext();
      },
    };
    waiter.grant = (held) => {
      waiter.done = true;
      holds = held;
      resolve(held);
    };
    if (this.held < this.limit) {
      this.held++;
      waiter.grant(true);
    } else {
      this.queue.push(waiter);
    }
    return ticket;
  }

  /** A slot came free: the longest waiter gets it. */
  private grantNext(): void {
    while (this.held < this.limit) {
      const next = this.queue.shift();
      if (!next) return;
      this.held++;
      next.grant(true);
    }
  }
}
