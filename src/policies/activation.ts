/**
 * Lazy activation (docs/manifest.md, "activation and idleStopMs"): when a plugin's process starts, and
 * when a lazy one is stopped for being idle. An eager plugin starts as soon as it may; a lazy one has no
 * process until something needs it (a call, an event it subscribes to, a schedule) and is stopped again
 * after `idleStopMs` without any. Pure: the supervisor brings the facts and the clock's time.
 */
import type { LaunchCause } from './launch-cause.js';
import type { Activation, PluginState } from '../protocol/index.js';

export type { Activation };

/** `reason` of a lazy plugin at rest without a process until its next call, event or schedule. */
export const IDLE_REASON = 'idle';

/**
 * Whether a launch for `cause` spawns a process now, or (a lazy plugin) rests idle until it is needed:
 * a lazy plugin starts on demand, when the operator starts it, and after a failure (backoff as usual);
 * boot, a dependency back, a grant, an enabling config or a fixed manifest only make it available.
 */
export function startsNow(activation: Activation, cause: LaunchCause): boolean {
  if (activation === 'eager') return true;
  return cause === 'demand' || cause === 'operator' || cause === 'failure';
}

/**
 * What a launch for `cause` does: start the process; rest idle without one; or (a lazy MCP server whose
 * tools warden has not seen at this version) start it only to learn its tools, stopping it as soon as it is
 * idle, so `rpc.discover` and `warden mcp` can list it while it sleeps.
 */
export type LaunchVerdict = 'start' | 'rest' | 'discover';

/** The one decision of what a launch does; `toolsUnknown`: an MCP plugin with no tool list remembered for its version. */
export function launchVerdict(activation: Activation, cause: LaunchCause, toolsUnknown: boolean): LaunchVerdict {
  if (startsNow(activation, cause)) return 'start';
  return toolsUnknown ? 'discover' : 'rest';
}

/** What a plugin is when something needs it (a call, an event, a schedule, a dependent's activation). */
export interface DemandFacts {
  activation: Activation;
  state: PluginState;
  /** At rest idle (or being stopped for it): it starts again on demand. */
  idle: boolean;
  /** The daemon is shutting down: nothing starts any more. */
  closing: boolean;
  /** Through its first launch (the daemon's boot, or its folder's arrival), which decides whether it rests idle. */
  booted: boolean;
}

/**
 * serve: it runs; start: activate it now; wait: a start, an idle stop or its first launch is under way, ask
 * again once it ends; refuse: not running, and a demand does not change that (stopped by the operator, waiting,
 * backing off, disabled, invalid; or an eager plugin).
 */
export type Demand = 'serve' | 'start' | 'wait' | 'refuse';

/** The one decision for every demand on a plugin that may not be running. */
export function onDemand(facts: DemandFacts): Demand {
  if (facts.state === 'running') return 'serve';
  if (facts.activation !== 'lazy' || facts.closing) return 'refuse';
  if (facts.state === 'starting' || (facts.state === 'stopped' && !facts.booted)) return 'wait';
  if (facts.state === 'stopping') return facts.idle ? 'wait' : 'refuse';
  if (facts.state === 'stopped' && facts.idle) return 'start';
  return 'refuse';
}

/** What idle means for a running lazy plugin. */
export interface ActivityFacts {
  /** Calls to it now in flight (they keep it busy however long they take). */
  inFlight: number;
  /** When a call last ended or began, an event was delivered, or the process started (clock ms). */
  lastActivityMs: number;
  idleStopMs: number;
  nowMs: number;
}

/** Stop it now, or look again in `checkInMs` (the earliest moment it could be idle long enough). */
export type IdleVerdict = { stop: true } | { stop: false; checkInMs: number };

/** Whether a running lazy plugin has been idle for `idleStopMs`: no call in flight and none for that long. */
export function idleStopDue(facts: ActivityFacts): IdleVerdict {
  if (facts.inFlight > 0) return { stop: false, checkInMs: facts.idleStopMs };
  const idleFor = facts.nowMs - facts.lastActivityMs;
  if (idleFor >= facts.idleStopMs) return { stop: true };
  return { stop: false, checkInMs: facts.idleStopMs - idleFor };
}
