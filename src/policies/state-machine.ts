import type { PluginState } from '../protocol/index.js';

/**
 * The plugin lifecycle (docs/control-api.md, "Plugin states") as one explicit table. Anything not listed is a supervisor bug,
 * so it throws rather than being silently accepted. Same-state moves are not listed.
 */
export const TRANSITIONS: Readonly<Record<PluginState, readonly PluginState[]>> = Object.freeze({
  waiting: Object.freeze(['starting', 'stopped', 'disabled', 'invalid'] as const),
  // backoff: failed start; disabled: failed start that exhausts the budget.
  starting: Object.freeze(['running', 'stopping', 'backoff', 'disabled', 'invalid'] as const),
  // backoff: crash; disabled: crash exhausting the budget; waiting: a dependency went down.
  running: Object.freeze(['stopping', 'backoff', 'disabled', 'waiting'] as const),
  // backoff: quota/hang stop counted as a failure; starting: restart.
  stopping: Object.freeze(['stopped', 'disabled', 'backoff', 'starting', 'waiting'] as const),
  stopped: Object.freeze(['starting', 'waiting', 'disabled', 'invalid'] as const),
  backoff: Object.freeze(['starting', 'stopped', 'disabled', 'waiting', 'invalid'] as const),
  disabled: Object.freeze(['starting', 'waiting', 'stopped', 'invalid'] as const),
  // A reload that fixes the manifest leaves invalid.
  invalid: Object.freeze(['waiting', 'starting', 'stopped', 'disabled'] as const),
});

export class IllegalTransitionError extends Error {
  readonly from: PluginState;
  readonly to: PluginState;

  constructor(from: PluginState, to: PluginState) {
    super(`illegal plugin state transition: ${from} → ${to}`);
    this.name = 'IllegalTransitionError';
    this.from = from;
    this.to = to;
  }
}

export function canTransition(from: PluginState, to: PluginState): boolean {
  const allowed = TRANSITIONS[from];
  return allowed !== undefined && allowed.includes(to);
}

export class PluginStateMachine {
  private current: PluginState;
  private readonly onChange: ((from: PluginState, to: PluginState) => void) | undefined;

  constructor(initial: PluginState, onChange?: (from: PluginState, to: PluginState) => void) {
    if (!(initial in TRANSITIONS)) throw new TypeError(`unknown plugin state: ${String(initial)}`);
    this.current = initial;
    this.onChange = onChange;
  }

  get state(): PluginState {
    return this.current;
  }

  can(to: PluginState): boolean {
    return canTransition(this.current, to);
  }

  to(next: PluginState): void {
    const from = this.current;
    if (!canTransition(from, next)) throw new IllegalTransitionError(from, next);
    // State is updated before the callback so a listener sees the new state.
    this.current = next;
    this.onChange?.(from, next);
  }
}
