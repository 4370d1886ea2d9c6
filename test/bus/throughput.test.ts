import { expect, test } from 'vitest';
import { EventBus, type Subscriber } from '../../src/bus/event-bus.js';

// Measured and printed, not asserted as timing: CI machines vary too much.
const EVENTS = 100_000;
const SUBSCRIBERS = 10;
const BATCH = 500; // below the default queue limit, so nothing is dropped

async function measure(label: string, makeDeliver: (count: () => void) => Subscriber['deliver']) {
  const bus = new EventBus();
  let received = 0;
  for (let i = 0; i < SUBSCRIBERS; i++) {
    // Half exact, half wildcard, so matching both kinds is part of the cost.
    bus.subscribe({ name: `s${i}`, patterns: [i % 2 ? 'bench.tick' : 'bench.*'], deliver: makeDeliver(() => received++) });
  }
  const t0 = performance.now();
  for (let sent = 0; sent < EVENTS; sent += BATCH) {
    for (let j = 0; j < BATCH; j++) bus.publish({ topic: 'bench.tick', data: sent + j, source: 'bench' });
    await bus.idle();
  }
  const ms = performance.now() - t0;
  expect(received).toBe(EVENTS * SUBSCRIBERS);
  for (let i = 0; i < SUBSCRIBERS; i++) expect(bus.stats(`s${i}`)).toEqual({ queued: 0, delivered: EVENTS, dropped: 0 });
  const line = `bus ${label}: ${EVENTS} events x ${SUBSCRIBERS} subscribers in ${ms.toFixed(0)} ms = ` +
    `${Math.round(EVENTS / (ms / 1000)).toLocaleString('en')} events/s, ${Math.round((EVENTS * SUBSCRIBERS) / (ms / 1000)).toLocaleString('en')} deliveries/s`;
  console.log(line);
}

test('throughput: synchronous deliver', async () => {
  await measure('sync deliver', (count) => () => (count(), true));
}, 60_000);

test('throughput: async deliver (resolves when "written")', async () => {
  await measure('async deliver', (count) => async () => (count(), true));
}, 60_000);
