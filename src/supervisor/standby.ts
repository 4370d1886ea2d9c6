import type { Logger } from 'pino';
import { discardStandby, type Standby } from './instance.js';
import type { Timers } from './timers.js';

/** How long a plugin runs before its standby is parked: a boot's or a restart's own spawns come first. */
export const PARK_DELAY_MS = 1000;

/**
 * The restart standby of one plugin (`restart.standby`): parked a moment after an instance is running,
 * taken by the next start (a crash's restart, an operator's restart, a reload's new instance), and
 * dropped whenever the plugin comes to rest. At most one exists per plugin.
 */
export class StandbyKeeper {
  private standby: Standby | null = null;
  private timer: unknown = null;

  constructor(
    private readonly options: {
      timers: Timers;
      /** Whether the plugin's settings ask for one (restart.standby). */
      wanted: () => boolean;
      /** Whether it is running now: a standby is parked only then. */
      running: () => boolean;
      /** Parks one (instance.ts parkStandby); null when the host has nothing to park. */
      park: () => Standby | null;
      log: () => Logger;
    },
  ) {}

  /** The plugin is running: park one after PARK_DELAY_MS, unless one is waiting already. */
  arm(): void {
    if (this.standby || this.timer !== null || !this.options.wanted()) return;
    this.timer = this.options.timers.setTimeout(() => {
      this.timer = null;
      if (this.standby || !this.options.wanted() || !this.options.running()) return;
      try {
        this.standby = this.options.park();
      } catch (error) {
        this.options.log().warn(`could not park a restart standby: ${(error as Error).message}`);
      }
    }, PARK_DELAY_MS);
  }

  /** For a start: the waiting standby, once; null when there is none or it is no longer wanted. */
  take(): Standby | null {
    const standby = this.standby;
    this.standby = null;
    if (standby && !this.options.wanted()) {
      discardStandby(standby, this.options.log);
      return null;
    }
    return standby;
  }

  /** At rest (stopped, disabled, waiting) or at shutdown: kills the standby and removes its cgroup. */
  drop(): void {
    if (this.timer !== null) this.options.timers.clearTimeout(this.timer);
    this.timer = null;
    const standby = this.standby;
    this.standby = null;
    if (standby) discardStandby(standby, this.options.log);
  }
}
