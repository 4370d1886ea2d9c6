/**
 * A plugin's `schedules` (docs/manifest.md, "schedules"): each runs `method(params)` on its cron expression through the normal
 * call path. node-cron supplies the timing and next-run computation; the skip rules and counters live here.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { RunOutcome, ScheduleStatus } from '../protocol/index.js';

export interface ScheduleSpec {
  cron: string;
  method: string;
  params: unknown;
}

/** `plugin.get`'s `schedules` entries: wire types, written once in src/protocol. */
export type { RunOutcome, ScheduleStatus };

export interface PluginScheduleOptions {
  plugin: string;
  schedules: readonly ScheduleSpec[];
  /** Makes the call through the normal call path (timeout, circuit, recentErrors); rejects on failure. */
  call(method: string, params: unknown): Promise<unknown>;
  /** Whether the plugin is running right now; runs are skipped (and counted) while it is not. */
  isRunning(): boolean;
  onSkip?(schedule: number, why: 'overlap' | 'not-running'): void;
  onError?(schedule: number, error: Error): void;
}

interface Entry {
  spec: ScheduleSpec;
  task: ScheduledTask | null;
  /** Survives stop()/start(), so a run begun before a restart still blocks the next one. */
  inFlight: boolean;
  lastRun: RunOutcome | null;
  runs: number;
  failures: number;
  skippedOverlap: number;
  skippedNotRunning: number;
}

export class PluginSchedules {
  readonly #options: PluginScheduleOptions;
  readonly #entries: Entry[];
  /** Bumped by start() and stop(): a tick from an older arming never starts a run. */
  #generation = 0;
  #armed = false;

  constructor(options: PluginScheduleOptions) {
    this.#options = options;
    this.#entries = options.schedules.map((spec) => ({
      spec,
      task: null,
      inFlight: false,
      lastRun: null,
      runs: 0,
      failures: 0,
      skippedOverlap: 0,
      skippedNotRunning: 0,
    }));
  }

  /** Arms every schedule (idempotent). An expression node-cron rejects is reported through onError, not thrown. */
  start(): void {
    if (this.#armed) return;
    this.#armed = true;
    const generation = ++this.#generation;
    for (const [index, entry] of this.#entries.entries()) {
      try {
        entry.task = cron.schedule(entry.spec.cron, () => this.#tick(index, generation), {
          name: `${this.#options.plugin}#${index}`,
          // A blocked event loop is the supervisor's concern; node-cron would print to the console.
          suppressMissedWarning: true,
        });
      } catch (error) {
        entry.task = null;
        this.#report(index, error);
      }
    }
  }

  /** Disarms all: clears node-cron's timers and drops the tasks. Runs in flight finish and are recorded. */
  stop(): void {
    if (!this.#armed) return;
    this.#armed = false;
    this.#generation++;
    for (const entry of this.#entries) {
      // destroy() stops the timer and removes the task from node-cron's global registry.
      void entry.task?.destroy();
      entry.task = null;
    }
  }

  status(): ScheduleStatus[] {
    return this.#entries.map((e) => ({
      cron: e.spec.cron,
      method: e.spec.method,
      nextRun: e.task?.getNextRun()?.toISOString() ?? null,
      lastRun: e.lastRun === null ? null : { ...e.lastRun },
      runs: e.runs,
      failures: e.failures,
      skippedOverlap: e.skippedOverlap,
      skippedNotRunning: e.skippedNotRunning,
    }));
  }

  /**
   * Called by node-cron on each tick. Never throws or rejects, so node-cron neither logs nor sees a failure;
   * node-cron's own noOverlap is not used because its in-flight state resets on every start().
   */
  async #tick(index: number, generation: number): Promise<void> {
    const entry = this.#entries[index];
    if (!entry || generation !== this.#generation) return;
    if (!this.#options.isRunning()) {
      entry.skippedNotRunning++;
      this.#skip(index, 'not-running');
      return;
    }
    if (entry.inFlight) {
      entry.skippedOverlap++;
      this.#skip(index, 'overlap');
      return;
    }
    entry.inFlight = true;
    entry.runs++;
    const startedAt = Date.now();
    const time = new Date(startedAt).toISOString();
    try {
      await this.#options.call(entry.spec.method, entry.spec.params);
      entry.lastRun = { time, ok: true, durationMs: Date.now() - startedAt };
    } catch (error) {
      const err = toError(error);
      entry.failures++;
      entry.lastRun = { time, ok: false, durationMs: Date.now() - startedAt, error: err.message };
      this.#report(index, err);
    } finally {
      entry.inFlight = false;
    }
  }

  #skip(index: number, why: 'overlap' | 'not-running'): void {
    try {
      this.#options.onSkip?.(index, why);
    } catch {
      // An observer's bug must not stop the schedule.
    }
  }

  #report(index: number, error: unknown): void {
    try {
      this.#options.onError?.(index, toError(error));
    } catch {
      // As above.
    }
  }
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
