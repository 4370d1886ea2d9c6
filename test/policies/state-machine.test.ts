import { describe, expect, it, vi } from 'vitest';
import type { PluginState } from '../../src/protocol/index.js';
import {
  IllegalTransitionError,
  PluginStateMachine,
  TRANSITIONS,
  canTransition,
} from '../../src/policies/state-machine.js';

const ALL: PluginState[] = ['waiting', 'starting', 'running', 'stopping', 'stopped', 'backoff', 'disabled', 'invalid'];

// The table from the brief, written out independently so a change to TRANSITIONS is noticed.
const EXPECTED: Record<PluginState, PluginState[]> = {
  waiting: ['starting', 'stopped', 'disabled', 'invalid'],
  starting: ['running', 'stopping', 'backoff', 'disabled', 'invalid'],
  running: ['stopping', 'backoff', 'disabled', 'waiting'],
  stopping: ['stopped', 'disabled', 'backoff', 'starting', 'waiting'],
  stopped: ['starting', 'waiting', 'disabled', 'invalid'],
  backoff: ['starting', 'stopped', 'disabled', 'waiting', 'invalid'],
  disabled: ['starting', 'waiting', 'stopped', 'invalid'],
  invalid: ['waiting', 'starting', 'stopped', 'disabled'],
};

describe('TRANSITIONS', () => {
  it('has an entry for every state and nothing else', () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...ALL].sort());
  });

  it('matches the agreed table exactly', () => {
    for (const s of ALL) expect([...TRANSITIONS[s]].sort()).toEqual([...EXPECTED[s]].sort());
  });

  it('is frozen', () => {
    expect(Object.isFrozen(TRANSITIONS)).toBe(true);
    for (const s of ALL) expect(Object.isFrozen(TRANSITIONS[s])).toBe(true);
  });

  it('lists no same-state transitions', () => {
    for (const s of ALL) expect(canTransition(s, s)).toBe(false);
  });
});

describe('PluginStateMachine', () => {
  for (const from of ALL) {
    for (const to of ALL) {
      const legal = EXPECTED[from].includes(to);
      it(`${from} → ${to} is ${legal ? 'allowed' : 'illegal'}`, () => {
        const onChange = vi.fn();
        const m = new PluginStateMachine(from, onChange);
        expect(m.can(to)).toBe(legal);
        expect(canTransition(from, to)).toBe(legal);
        if (legal) {
          m.to(to);
          expect(m.state).toBe(to);
          expect(onChange).toHaveBeenCalledExactlyOnceWith(from, to);
        } else {
          let caught: unknown;
          try {
            m.to(to);
          } catch (err) {
            caught = err;
          }
          expect(caught).toBeInstanceOf(IllegalTransitionError);
          expect(caught).toBeInstanceOf(Error);
          expect((caught as IllegalTransitionError).from).toBe(from);
          expect((caught as IllegalTransitionError).to).toBe(to);
          expect((caught as Error).message).toContain(`${from} → ${to}`);
          expect(m.state).toBe(from);
          expect(onChange).not.toHaveBeenCalled();
        }
      });
    }
  }

  it('walks a typical lifecycle', () => {
    const seen: string[] = [];
    const m = new PluginStateMachine('waiting', (f, t) => seen.push(`${f}>${t}`));
    for (const s of ['starting', 'running', 'backoff', 'starting', 'running', 'stopping', 'stopped'] as const) m.to(s);
    expect(m.state).toBe('stopped');
    expect(seen).toHaveLength(7);
    expect(seen[2]).toBe('running>backoff');
  });

  it('the listener sees the new state', () => {
    let observed: PluginState | undefined;
    const m: PluginStateMachine = new PluginStateMachine('starting', () => {
      observed = m.state;
    });
    m.to('running');
    expect(observed).toBe('running');
  });

  it('rejects an unknown initial state', () => {
    expect(() => new PluginStateMachine('bogus' as PluginState)).toThrow(TypeError);
  });
});
