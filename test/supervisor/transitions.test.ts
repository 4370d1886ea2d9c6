import { beforeAll, describe, expect, it } from 'vitest';
import { canTransition, TRANSITIONS } from '../../src/policies/state-machine.js';
import type { PluginState } from '../../src/protocol/index.js';
import { transitionsSeen } from './harness.js';
import { scenarios } from './scenarios.js';

/**
 * Edges the table allows that ManagedPlugin never takes, and why. Kept honest both ways: an edge
 * listed here that a scenario drives fails the check, as does an allowed edge neither driven nor listed.
 */
const UNUSED: Record<string, string> = {
  'running>waiting': 'a running plugin goes to waiting only down the stop ladder (halt), so through stopping',
  'stopping>starting': 'a restart settles in stopped first (halt), then launches: stopping>stopped>starting',
  'disabled>stopped': 'nothing stops a disabled plugin: stop and restart are refused, shutdown leaves it disabled',
  'invalid>waiting': 'a fixed manifest goes invalid>stopped first (adopt), then launches: stopped>waiting',
  'invalid>starting': 'a fixed manifest goes invalid>stopped first (adopt), then launches: stopped>starting',
};

const allowed = (Object.keys(TRANSITIONS) as PluginState[]).flatMap((from) => TRANSITIONS[from].map((to) => `${from}>${to}`));

// The edges ManagedPlugin really takes: every scenario of managed-plugin.test.ts, run again here, recorded by its listener.
beforeAll(async () => {
  for (const cases of Object.values(scenarios)) for (const run of Object.values(cases)) await run();
});

describe('the state machine against the edges ManagedPlugin takes', () => {
  it('every transition driven is one the table allows', () => {
    const illegal = [...transitionsSeen].filter((edge) => {
      const [from, to] = edge.split('>') as [PluginState, PluginState];
      return !canTransition(from, to);
    });
    expect(illegal).toEqual([]);
  });

  it('every edge the table allows is driven by some scenario, or listed as unused with why', () => {
    const missing = allowed.filter((edge) => !transitionsSeen.has(edge) && !(edge in UNUSED));
    expect(missing).toEqual([]);
  });

  it('the unused list names edges of the table that no scenario drives', () => {
    for (const edge of Object.keys(UNUSED)) {
      expect(allowed).toContain(edge);
      expect(transitionsSeen.has(edge)).toBe(false);
    }
  });
});
