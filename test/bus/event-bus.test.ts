import { describe, expect, test, vi } from 'vitest';
import { EventBus, type BusEvent, type Subscriber } from '../../src/bus/event-bus.js';

/** Runs every pending microtask (setImmediate fires only after the microtask queue is empty). */
const flush = () => new Promise<void>((r) => setImmediate(r));

/** An in-memory subscriber that records what it gets and answers synchronously with `true`. */
function recorder(name: string, patterns: string[]) {
  const got: BusEvent[] = [];
  const sub: Subscriber = { name, patterns, deliver: (e) => (got.push(e), true) };
  return { sub, got, topics: () => got.map((e) => e.topic) };
}

/** A subscriber whose every deliver hangs until the test releases it (a stalled plugin). */
function staller(name: string, patterns: string[]) {
  const started: BusEvent[] = [];
  const pending: ((ok: boolean) => void)[] = [];
  const sub: Subscriber = {
    name,
    patterns,
    deliver: (e) => (started.push(e), new Promise<boolean>((r) => pending.push(r))),
  };
  /** Releases the delivery in progress and runs the loop up to the next one. */
  const release = async () => {
    pending.shift()?.(true);
    await flush();
  };
  return { sub, started, pending, release };
}

const ev = (topic: string, data: unknown = null, source = 'src'): BusEvent => ({ topic, data, source });

describe('EventBus', () => {
  test('fans out to a wildcard and an exact subscriber; non-matching ones get nothing', async () => {
    const bus = new EventBus();
    const wild = recorder('wild', ['item.*']);
    const exact = recorder('exact', ['item.fetched']);
    const other = recorder('other', ['log.line']);
    [wild, exact, other].forEach((r) => bus.subscribe(r.sub));

    expect(bus.publish(ev('item.fetched', { id: 1 }, 'connector'))).toEqual({ delivered: 2 });
    expect(bus.publish(ev('item.cleaned'))).toEqual({ delivered: 1 });
    expect(bus.publish(ev('nobody.cares'))).toEqual({ delivered: 0 });
    await bus.idle();

    expect(wild.topics()).toEqual(['item.fetched', 'item.cleaned']);
    expect(exact.got).toEqual([{ topic: 'item.fetched', data: { id: 1 }, source: 'connector' }]);
    expect(other.got).toEqual([]);
    expect(bus.stats('wild')).toEqual({ queued: 0, delivered: 2, dropped: 0 });
    expect(bus.stats('missing')).toBeNull();
  });

  test('a subscriber with several matching patterns gets the event once', async () => {
    const bus = new EventBus();
    const r = recorder('r', ['item.*', 'item.fetched']);
    bus.subscribe(r.sub);
    expect(bus.publish(ev('item.fetched'))).toEqual({ delivered: 1 });
    await bus.idle();
    expect(r.topics()).toEqual(['item.fetched']);
  });

  test('the source does not get its own event unless it subscribes to the topic', async () => {
    const bus = new EventBus();
    const connector = recorder('connector', ['item.cleaned']);
    const loopback = recorder('loopback', ['echo.*']);
    bus.subscribe(connector.sub);
    bus.subscribe(loopback.sub);

    expect(bus.publish(ev('item.fetched', null, 'connector'))).toEqual({ delivered: 0 });
    expect(bus.publish(ev('echo.me', null, 'loopback'))).toEqual({ delivered: 1 });
    await bus.idle();
    expect(connector.got).toEqual([]);
    expect(loopback.got).toEqual([ev('echo.me', null, 'loopback')]);
  });

  test('publish never calls deliver synchronously', async () => {
    const bus = new EventBus();
    const r = recorder('r', ['a']);
    bus.subscribe(r.sub);
    bus.publish(ev('a'));
    expect(r.got).toHaveLength(0);
    expect(bus.stats('r')?.queued).toBe(1);
    await flush();
    expect(r.got).toHaveLength(1);
  });

  test('keeps order per subscriber, one deliver at a time, with async delivers of varying speed', async () => {
    const bus = new EventBus();
    const got: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    bus.subscribe({
      name: 'slowish',
      patterns: ['n'],
      async deliver(e) {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        for (let i = 0; i < (e.data as number) % 4; i++) await Promise.resolve();
        got.push(e.data as number);
        inFlight--;
        return true;
      },
    });
    const fast = recorder('fast', ['n']);
    bus.subscribe(fast.sub);
    for (let i = 0; i < 50; i++) bus.publish(ev('n', i));
    await bus.idle();
    const expected = Array.from({ length: 50 }, (_, i) => i);
    expect(got).toEqual(expected);
    expect(fast.got.map((e) => e.data)).toEqual(expected);
    expect(maxInFlight).toBe(1);
  });

  test('a stalled subscriber blocks neither publish nor others; its queue overflows dropping the oldest', async () => {
    const onOverflow = vi.fn();
    const bus = new EventBus({ queueLimit: 3, onOverflow });
    const stuck = staller('stuck', ['t']);
    const ok = recorder('ok', ['t']);
    bus.subscribe(stuck.sub);
    bus.subscribe(ok.sub);

    bus.publish(ev('t', 0));
    await flush(); // event 0 is now inside the stalled deliver
    expect(stuck.started.map((e) => e.data)).toEqual([0]);

    // One at a time, so only the stalled subscriber falls behind (a synchronous burst bigger than the
    // limit would overflow any subscriber, fast or not).
    for (let i = 1; i <= 10; i++) {
      expect(bus.publish(ev('t', i))).toEqual({ delivered: 2 });
      await flush();
    }

    expect(ok.got.map((e) => e.data)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(bus.stats('ok')).toEqual({ queued: 0, delivered: 11, dropped: 0 });
    // 1..10 queued behind the stall with room for 3: 1..7 dropped, 8, 9, 10 kept.
    expect(bus.stats('stuck')).toEqual({ queued: 3, delivered: 0, dropped: 7 });
    expect(onOverflow).toHaveBeenCalledTimes(1);
    expect(onOverflow).toHaveBeenCalledWith('stuck', 1); // reported at the first drop of the burst

    // Still stalled: more overflow is the same burst, no new report.
    bus.publish(ev('t', 11));
    await flush();
    expect(onOverflow).toHaveBeenCalledTimes(1);
    expect(bus.stats('stuck')?.dropped).toBe(8);

    // Unstick: the survivors arrive in order, the queue drains and the burst ends.
    for (let i = 0; i < 4; i++) await stuck.release();
    expect(stuck.started.map((e) => e.data)).toEqual([0, 9, 10, 11]);
    expect(bus.stats('stuck')).toEqual({ queued: 0, delivered: 4, dropped: 8 });

    // A new stall and a new overflow: reported again, counting only this burst; a synchronous run of
    // publishes is one report with its full count (12 and 13 dropped, 14 in flight, 15 and 16 queued).
    bus.unsubscribe('ok'); // a burst of 5 would overflow its queue of 3 too
    for (let i = 12; i <= 16; i++) bus.publish(ev('t', i));
    await flush();
    expect(onOverflow).toHaveBeenCalledTimes(2);
    expect(onOverflow).toHaveBeenLastCalledWith('stuck', 2);
    expect(stuck.started.map((e) => e.data)).toEqual([0, 9, 10, 11, 14]);
    expect(bus.stats('stuck')).toEqual({ queued: 2, delivered: 4, dropped: 10 });
  });

  test('unsubscribe drops the queue and stops delivery', async () => {
    const bus = new EventBus();
    const stuck = staller('stuck', ['t']);
    bus.subscribe(stuck.sub);
    for (let i = 0; i < 5; i++) bus.publish(ev('t', i));
    await flush();
    expect(bus.stats('stuck')?.queued).toBe(4);

    bus.unsubscribe('stuck');
    expect(bus.stats('stuck')).toBeNull();
    expect(bus.publish(ev('t', 99))).toEqual({ delivered: 0 });
    await stuck.release(); // the in-flight one completes; nothing after it is delivered
    expect(stuck.started.map((e) => e.data)).toEqual([0]);
    await bus.idle();
    bus.unsubscribe('never-subscribed'); // harmless
  });

  test('subscribe with the same name replaces the subscriber and keeps its queue', async () => {
    const bus = new EventBus();
    const old = staller('p', ['a']);
    bus.subscribe(old.sub);
    bus.publish(ev('a', 1));
    bus.publish(ev('a', 2));
    await flush(); // 1 is stuck in the old instance, 2 waits

    const fresh = recorder('p', ['a', 'b']);
    bus.subscribe(fresh.sub);
    bus.publish(ev('b', 3));
    await flush();
    expect(fresh.got.map((e) => e.data)).toEqual([2, 3]);

    await old.release(); // the old deliver finishing does not disturb the new loop
    bus.publish(ev('a', 4));
    await bus.idle();
    expect(fresh.got.map((e) => e.data)).toEqual([2, 3, 4]);
    expect(old.started.map((e) => e.data)).toEqual([1]);
    expect(bus.stats('p')).toEqual({ queued: 0, delivered: 4, dropped: 0 });
  });

  test('deliver returning false drops that event only (plugin not running)', async () => {
    const bus = new EventBus();
    let running = false;
    const got: unknown[] = [];
    bus.subscribe({ name: 'p', patterns: ['t'], deliver: (e) => (running ? (got.push(e.data), true) : false) });
    bus.publish(ev('t', 1));
    bus.publish(ev('t', 2));
    await bus.idle();
    running = true;
    bus.publish(ev('t', 3));
    await bus.idle();
    expect(got).toEqual([3]);
    expect(bus.stats('p')).toEqual({ queued: 0, delivered: 1, dropped: 0 });
  });

  test('a deliver that throws or rejects goes to onError and the next event still goes', async () => {
    const onError = vi.fn();
    const bus = new EventBus({ onError });
    const got: unknown[] = [];
    bus.subscribe({
      name: 'p',
      patterns: ['t'],
      deliver(e) {
        if (e.data === 'throw') throw new Error('sync boom');
        if (e.data === 'reject') return Promise.reject(new Error('async boom'));
        if (e.data === 'string') throw 'not an error';
        got.push(e.data);
        return true;
      },
    });
    for (const d of ['throw', 1, 'reject', 2, 'string', 3]) bus.publish(ev('t', d));
    await bus.idle();
    expect(got).toEqual([1, 2, 3]);
    expect(onError.mock.calls.map(([name, err]) => [name, (err as Error).message])).toEqual([
      ['p', 'sync boom'],
      ['p', 'async boom'],
      ['p', 'not an error'],
    ]);
    expect(bus.stats('p')?.delivered).toBe(3);
  });

  test('a throwing onError or onOverflow callback does not kill the loop', async () => {
    const bus = new EventBus({
      queueLimit: 1,
      onError: () => { throw new Error('logger down'); },
      onOverflow: () => { throw new Error('logger down'); },
    });
    const got: unknown[] = [];
    bus.subscribe({ name: 'p', patterns: ['t'], deliver: (e) => { if (e.data === 0) throw new Error('x'); got.push(e.data); return true; } });
    bus.publish(ev('t', 0));
    await flush();
    bus.publish(ev('t', 1));
    await bus.idle();
    bus.publish(ev('t', 2));
    bus.publish(ev('t', 3)); // overflows: 2 dropped
    await bus.idle();
    expect(got).toEqual([1, 3]);
  });

  test('rejects a bad queueLimit', () => {
    expect(() => new EventBus({ queueLimit: 0 })).toThrow(RangeError);
  });
});
