/**
 * The in-daemon event bus behind `warden.emit` and `events.publish`.
 *
 * Every subscriber has its own bounded queue and at most one delivery loop, so events reach a plugin in
 * publish order and one slow plugin only ever backs up its own queue. Publishing never waits: it
 * queues and returns; loops start on a microtask (no timers), so `deliver` is never called re-entrantly
 * from inside `publish`. Whether a source may emit a topic is checked by the caller, not here.
 */
import type { EventCounts, PublishResult } from '../protocol/index.js';
import { BoundedQueue } from './queue.js';
import { anyTopicMatches } from './topics.js';

export interface BusEvent {
  topic: string;
  data: unknown;
  /** The plugin name, or "operator" for events.publish. */
  source: string;
}

export interface Subscriber {
  name: string;
  patterns: readonly string[];
  /** Hands one event to the plugin (the supervisor sends the `warden.event` notification); resolves when written. Returns false if the plugin is not running (the event is then dropped for it, not queued). */
  deliver(event: BusEvent): Promise<boolean> | boolean;
}

export interface EventBusOptions {
  /** Per-subscriber queue bound (default 1000). On overflow the OLDEST events are dropped. */
  queueLimit?: number;
  /** Called once per overflow burst per subscriber (a burst ends when its queue drains empty), with how many were dropped so far in the burst; the supervisor logs a warning. */
  onOverflow?(subscriber: string, droppedInBurst: number): void;
  onError?(subscriber: string, error: Error): void;
  /** Counts for metrics: per subscriber, `count` events handed over or lost (and why). Called at once; one that throws is ignored. */
  onOutcome?(subscriber: string, outcome: EventOutcome, count: number): void;
}

/** What became of an event queued for a subscriber: handed over, or dropped on overflow, for a plugin not running, or by a deliver that threw. */
export type EventOutcome = 'delivered' | 'overflow' | 'not-running' | 'error';

/** `events.publish`'s result and `plugin.get`'s `events`: wire types, written once in src/protocol. */
export type { PublishResult };
export type SubscriberStats = EventCounts;

export const DEFAULT_QUEUE_LIMIT = 1000;

interface Slot {
  sub: Subscriber;
  queue: BoundedQueue<BusEvent>;
  /** Bumped when the subscriber is replaced, so a loop stuck in the old deliver exits when it returns. */
  gen: number;
  /** The generation whose loop is scheduled or running, or null: the one-loop-at-a-time guard. */
  loopGen: number | null;
  loop: Promise<void> | null;
  delivered: number;
  dropped: number;
  /** The current overflow burst; its count is read by the (microtask-deferred) report. */
  burst: { dropped: number } | null;
}

export class EventBus {
  private readonly slots = new Map<string, Slot>();
  private readonly queueLimit: number;

  constructor(private readonly options: EventBusOptions = {}) {
    const limit = options.queueLimit ?? DEFAULT_QUEUE_LIMIT;
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`queueLimit must be a positive integer, got ${limit}`);
    this.queueLimit = limit;
  }

  /**
   * Adds a subscriber, or replaces the one with the same name (e.g. a reloaded plugin with new
   * patterns). A replacement keeps the queue and counters: the events are for the plugin, whichever
   * instance serves it. An event already in the old `deliver` finishes there.
   */
  subscribe(subscriber: Subscriber): void {
    const slot = this.slots.get(subscriber.name);
    if (!slot) {
      this.slots.set(subscriber.name, {
        sub: subscriber, queue: new BoundedQueue(this.queueLimit), gen: 0, loopGen: null, loop: null,
        delivered: 0, dropped: 0, burst: null,
      });
      return;
    }
    slot.sub = subscriber;
    slot.gen++;
    if (slot.queue.length > 0) this.ensureLoop(slot);
  }

  /** Removes the subscriber and drops its queue; an event already being delivered still completes. */
  unsubscribe(name: string): void {
    const slot = this.slots.get(name);
    if (!slot) return;
    this.slots.delete(name);
    slot.queue.clear();
    slot.loop = null;
  }

  /** Queues the event for every subscriber whose pattern matches (never the source itself unless it subscribes), without waiting for any of them: a slow subscriber never blocks the publisher or the others. */
  publish(event: BusEvent): PublishResult {
    let delivered = 0;
    for (const slot of this.slots.values()) {
      if (!anyTopicMatches(slot.sub.patterns, event.topic)) continue;
      delivered++;
      const dropped = slot.queue.push(event);
      if (dropped > 0) this.overflowed(slot, dropped);
      this.ensureLoop(slot);
    }
    return { delivered };
  }

  /** Per subscriber: queued now, delivered total, dropped total (overflow), for PluginStatus. */
  stats(name: string): SubscriberStats | null {
    const slot = this.slots.get(name);
    return slot ? { queued: slot.queue.length, delivered: slot.delivered, dropped: slot.dropped } : null;
  }

  /**
   * Resolves once every subscriber's queue is empty and no delivery is in progress. Never resolves
   * while a subscriber is stalled, so callers that may face one should race it against a deadline.
   */
  async idle(): Promise<void> {
    for (;;) {
      const loops: Promise<void>[] = [];
      for (const slot of this.slots.values()) if (slot.loop) loops.push(slot.loop);
      if (loops.length === 0) return;
      await Promise.all(loops);
    }
  }

  private overflowed(slot: Slot, dropped: number): void {
    slot.dropped += dropped;
    this.count(slot.sub.name, 'overflow', dropped);
    if (slot.burst) {
      slot.burst.dropped += dropped;
      return;
    }
    const burst = { dropped };
    slot.burst = burst;
    // Deferred so a synchronous run of publishes is reported once, with its full count.
    const name = slot.sub.name;
    queueMicrotask(() => this.safely(() => this.options.onOverflow?.(name, burst.dropped)));
  }

  private ensureLoop(slot: Slot): void {
    if (slot.loopGen === slot.gen) return;
    const gen = slot.gen;
    slot.loopGen = gen;
    slot.loop = Promise.resolve().then(() => this.run(slot, gen));
  }

  private current(slot: Slot, gen: number): boolean {
    return slot.gen === gen && this.slots.get(slot.sub.name) === slot;
  }

  private async run(slot: Slot, gen: number): Promise<void> {
    const sub = slot.sub;
    try {
      while (this.current(slot, gen)) {
        const event = slot.queue.shift();
        if (event === undefined) break;
        try {
          const r = sub.deliver(event);
          // Skip the await for synchronous delivers: a microtask per event is most of the bus's cost.
          const ok = isThenable(r) ? await r : r;
          if (ok !== false) slot.delivered++;
          this.count(sub.name, ok !== false ? 'delivered' : 'not-running', 1);
        } catch (err) {
          this.count(sub.name, 'error', 1);
          this.safely(() => this.options.onError?.(sub.name, err instanceof Error ? err : new Error(String(err))));
        }
      }
    } finally {
      // Only the live loop may clear the guard or end a burst; a superseded one just leaves.
      if (slot.loopGen === gen) {
        slot.loopGen = null;
        slot.loop = null;
        if (slot.queue.length === 0) slot.burst = null;
      }
    }
  }

  /** onOutcome without a closure per event; like the other callbacks, one that throws is ignored. */
  private count(subscriber: string, outcome: EventOutcome, n: number): void {
    try {
      this.options.onOutcome?.(subscriber, outcome, n);
    } catch {
      // ignored on purpose
    }
  }

  /** The supervisor's callbacks only log; one that throws must not kill a delivery loop. */
  private safely(fn: () => void): void {
    try {
      fn();
    } catch {
      // ignored on purpose
    }
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}
