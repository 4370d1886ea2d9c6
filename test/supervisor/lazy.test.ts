/**
 * Lazy activation of one ManagedPlugin on a fake clock with fake hosts: at rest until needed, started by
 * a call or an event, stopped once idle, and the operator's stop apart from an idle one.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCodes, RpcError } from '../../src/protocol/index.js';
import { StartSlots } from '../../src/policies/start-slots.js';
import { Harness, NAME } from './harness.js';

const IDLE_MS = 5_000;

function lazyHarness(): Harness {
  return new Harness({ definition: { activation: 'lazy', idleStopMs: IDLE_MS } });
}

/** The error a promise rejected with (it must reject). */
async function rejection(promise: Promise<unknown>): Promise<RpcError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RpcError);
  return error as RpcError;
}

describe('a lazy plugin', () => {
  it('has no process after boot: stopped, reason idle; the first call starts it and waits for its handshake', async () => {
    const h = lazyHarness();
    await h.plugin.boot();
    expect(h.hosts).toHaveLength(0);
    expect(h.plugin.status()).toMatchObject({ state: 'stopped', reason: 'idle', pid: null });
    expect(h.plugin.availableOnDemand).toBe(true);

    const call = h.plugin.call('echo', { n: 1 });
    await h.settle();
    expect(h.state).toBe('starting');
    expect(h.dependencyActivations).toBe(1);
    const second = h.plugin.call('echo', { n: 2 }); // a call meanwhile waits for the same start
    await h.settle();
    expect(h.hosts).toHaveLength(1);
    h.host.ready();
    expect(await call).toEqual({ from: 1, method: 'echo', params: { n: 1 } });
    expect(await second).toEqual({ from: 1, method: 'echo', params: { n: 2 } });
    expect(h.plugin.status()).toMatchObject({ state: 'running', reason: null, restarts: 0 });
    expect(h.plugin.availableOnDemand).toBe(false);
  });

  it('a call that arrives before its boot waits for it, then starts it (the socket opens before the boot)', async () => {
    const h = lazyHarness();
    const call = h.plugin.call('echo', { early: true });
    await h.settle();
    expect(h.hosts).toHaveLength(0); // nothing decided yet: neither refused nor started
    await h.plugin.boot();
    await h.settle();
    expect(h.state).toBe('starting');
    h.host.ready();
    expect(await call).toEqual({ from: 1, method: 'echo', params: { early: true } });
  });

  it('stops after idleStopMs without calls, carries its snapshot into the next start, and a call revives it', async () => {
    const h = lazyHarness();
    await h.plugin.boot();
    const first = h.plugin.call('echo', {});
    await h.settle();
    h.host.ready();
    await first;

    await h.advance(IDLE_MS - 1);
    expect(h.state).toBe('running');
    await h.plugin.call('echo', {}); // activity: the idle time counts from here
    await h.advance(IDLE_MS - 1);
    expect(h.state).toBe('running');
    await h.advance(1);
    expect(h.plugin.status()).toMatchObject({ state: 'stopped', reason: 'idle', pid: null });
    expect(h.host.requests.map((r) => r.method)).toContain('warden.snapshot');
    expect(h.host.stops).toEqual([{}]); // the whole ladder, gracefully
    expect(h.transitions.slice(-2)).toEqual(['running>stopping', 'stopping>stopped']);

    const again = h.plugin.call('echo', { back: true });
    await h.settle();
    h.host.ready();
    expect(await again).toMatchObject({ from: 2 });
    expect(h.host.init?.state).toEqual({ count: 1 }); // the first instance's snapshot
  });

  it('a call in flight keeps it running however long it takes', async () => {
    const h = lazyHarness();
    await h.plugin.boot();
    const first = h.plugin.call('echo', {});
    await h.settle();
    h.host.ready();
    await first;
    let answer!: (value: unknown) => void;
    const request = h.host.request.bind(h.host);
    h.host.request = async (method, params, timeoutMs) =>
      method === 'slow' ? new Promise((resolve) => (answer = resolve)) : request(method, params, timeoutMs);
    const slow = h.plugin.call('slow', {});
    await h.advance(IDLE_MS * 3);
    expect(h.state).toBe('running');
    answer('done');
    expect(await slow).toBe('done');
    await h.advance(IDLE_MS);
    expect(h.plugin.status()).toMatchObject({ state: 'stopped', reason: 'idle' });
  });

  it('an event starts it, and is delivered once it runs', async () => {
    const h = lazyHarness();
    await h.plugin.boot();
    const delivered = h.plugin.deliverEvent({ topic: 'item.new', data: 1, source: 'operator' });
    await h.settle();
    expect(h.state).toBe('starting');
    h.host.ready();
    expect(await delivered).toBe(true);
    expect(h.host.events).toEqual([{ topic: 'item.new', data: 1, source: 'operator' }]);
  });

  it("the operator's stop is not idle: calls fail as for any stopped plugin until `warden start`", async () => {
    const h = lazyHarness();
    await h.plugin.boot();
    await h.plugin.stop();
    expect(h.plugin.status()).toMatchObject({ state: 'stopped', reason: null });
    expect(h.plugin.availableOnDemand).toBe(false);
    expect(h.plugin.takesDemand).toBe(false);
    const error = await rejection(h.plugin.call('echo', {}));
    expect(error.code).toBe(ErrorCodes.NotRunning);
    expect(error.message).toBe(`plugin ${NAME} is not running (state: stopped)`);
    expect(h.hosts).toHaveLength(0);

    const started = h.plugin.start(); // the operator's start starts it, lazy or not
    await h.settle();
    h.host.ready();
    await started;
    expect(h.state).toBe('running');
    await h.advance(IDLE_MS);
    expect(h.plugin.status()).toMatchObject({ state: 'stopped', reason: 'idle' }); // and it goes idle like any start
  });

  it('a start that does not finish within startTimeoutMs fails the waiting call with -32004', async () => {
    const h = lazyHarness();
    await h.plugin.boot();
    const call = rejection(h.plugin.call('echo', {}));
    await h.settle();
    await h.advance(1000); // SETTINGS.startTimeoutMs
    const error = await call;
    expect(error.code).toBe(ErrorCodes.CallTimeout);
    expect(error.message).toBe(`plugin ${NAME} did not start within 1000ms (state: starting)`);
  });

  it('a crash backs off and restarts as usual; a failed start fails the waiting call with the reason', async () => {
    const h = lazyHarness();
    await h.plugin.boot();
    const first = h.plugin.call('echo', {});
    await h.settle();
    h.host.ready();
    await first;
    h.host.crash();
    await h.settle();
    expect(h.plugin.status()).toMatchObject({ state: 'backoff', reason: 'crash: exit code 1; restarting in 100ms' });
    await h.advance(100);
    h.host.ready();
    await h.settle();
    expect(h.plugin.status()).toMatchObject({ state: 'running', restarts: 1 });

    await h.advance(IDLE_MS);
    const call = h.plugin.call('echo', {});
    await h.settle();
    h.host.failStart('no answer to warden.initialize within 1000ms');
    const error = await rejection(call);
    expect(error.code).toBe(ErrorCodes.NotRunning);
    expect(error.message).toMatch(/state: backoff\): start: no answer to warden.initialize/);
  });

  it('with every start slot taken it waits its turn, and a stop withdraws it without a process', async () => {
    const slots = new StartSlots(1);
    const other = slots.acquire();
    const h = new Harness({ starts: slots, definition: { activation: 'lazy', idleStopMs: IDLE_MS } });
    await h.plugin.boot();
    void h.plugin.call('echo', {}).catch(() => undefined);
    await h.settle();
    expect(h.state).toBe('starting');
    expect(h.hosts).toHaveLength(0);
    expect(slots.usage).toEqual({ held: 1, waiting: 1, limit: 1 });
    await h.plugin.stop();
    expect(h.plugin.status()).toMatchObject({ state: 'stopped', reason: null });
    expect(slots.usage).toEqual({ held: 1, waiting: 0, limit: 1 });
    other.release();
    await h.settle();
    expect(h.hosts).toHaveLength(0);
  });

  it('a hot reload while idle has nothing to swap: it takes the new definition and stays at rest', async () => {
    const h = lazyHarness();
    await h.plugin.boot();
    await h.plugin.reload(h.definition({ version: '1.1.0', activation: 'lazy', idleStopMs: IDLE_MS }));
    expect(h.hosts).toHaveLength(0);
    expect(h.plugin.status()).toMatchObject({ state: 'stopped', reason: 'idle', version: '1.1.0' });
    // Eager now: it starts like any eager plugin.
    const reloaded = h.plugin.reload(h.definition({ version: '1.2.0' }));
    await h.settle();
    h.host.ready();
    await reloaded;
    expect(h.plugin.status()).toMatchObject({ state: 'running', version: '1.2.0' });
  });

  it('at rest it follows its dependencies: waiting while one is down, back at rest (not started) when it returns', async () => {
    const h = lazyHarness();
    await h.plugin.boot();
    await h.plugin.suspend('waiting for base: it is backoff');
    expect(h.plugin.status()).toMatchObject({ state: 'waiting', reason: 'waiting for base: it is backoff' });
    expect(h.plugin.availableOnDemand).toBe(false);
    expect((await rejection(h.plugin.call('echo', {}))).code).toBe(ErrorCodes.NotRunning);
    await h.plugin.resume();
    expect(h.plugin.status()).toMatchObject({ state: 'stopped', reason: 'idle' });
    expect(h.hosts).toHaveLength(0);
  });

  it('once the daemon shuts down, a demand starts nothing', async () => {
    const h = lazyHarness();
    await h.plugin.boot();
    await h.plugin.shutdown();
    expect((await rejection(h.plugin.call('echo', {}))).code).toBe(ErrorCodes.NotRunning);
    expect(await h.plugin.deliverEvent({ topic: 't', data: null, source: 'operator' })).toBe(false);
    expect(h.hosts).toHaveLength(0);
  });
});
