/**
 * The public shapes of the cgroups module, kept apart from the drivers so v1.ts and v2.ts can share
 * them without importing index.ts (which imports them).
 */
import type { Limits } from '../config/types.js';
import type { CgroupCounters } from './counters.js';

export type CgroupMode = 'v2' | 'v1' | 'none';

/** What the kernel is told for one plugin instance (see cgroupLimits). */
export interface CgroupValues {
  memoryBytes: number;
  /** v2 memory.high: where the kernel starts throttling and reclaiming (see cgroupLimits). */
  memoryHighBytes: number;
  cpuQuotaUs: number;
  cpuPeriodUs: number;
  pidsMax: number;
}

export interface CgroupDriver {
  readonly mode: 'v1' | 'v2';
  /** One line for the start-up log: where plugin cgroups live and which controllers (memory, pids, cpu, kill/freezer). */
  describe(): string;
  /** Which limits this driver enforces: e.g. {memoryMb: true, cpuPercent: true, processes: true}. */
  readonly enforces: { memoryMb: boolean; cpuPercent: boolean; processes: boolean };
  /**
   * The one step that writes the daemon's own cgroup, called once at daemon start before the first
   * create() (detection only reads). v2: moves the daemon into its leaf and enables the controllers;
   * v1: nothing (the per-daemon folders come with create()). Throws with the reason; calling it again is a no-op.
   */
  claim(): void;
  /**
   * A fresh cgroup for one launch of plugin `name` (`id` makes it unique: a blue/green reload runs two
   * instances at once). Creates the folders and writes the limits synchronously; throws with a clear
   * message if the kernel refuses.
   */
  create(name: string, id: string, limits: Limits): PluginCgroup;
  /** Removes leftovers of earlier daemons (empty warden cgroups whose daemon pid is dead). Best effort. */
  sweep(): void;
  /**
   * The usage counters of the plugin cgroup this driver made that `pid` is in, opened for repeated
   * reads (the caller closes them); null when the pid is in none of them.
   */
  countersOf(pid: number): CgroupCounters | null;
}

export interface PluginCgroup {
  /** The cgroup folders of this instance (one per v1 hierarchy, one on v2), for logs. */
  readonly dirs: readonly string[];
  /**
   * argv prefix that moves the process into the cgroup (every hierarchy for v1) and then execs the
   * rest: ['/bin/sh','-c', script, ...paths]; append the command and its arguments.
   */
  joinArgv(sh?: string): string[];
  /** How many processes the kernel's OOM killer killed in this cgroup. */
  oomKills(): number;
  /** Peak memory if the kernel tells it (v2 memory.peak, v1 memory.max_usage_in_bytes), else null. */
  memoryPeakBytes(): number | null;
  /** Its usage counters, opened for repeated reads; the caller closes them. */
  counters(): CgroupCounters;
  /** Every pid in the cgroup (and any sub-cgroup a plugin made) now, sorted. */
  pids(): number[];
  /** Kills every process in the cgroup, race-free against forks; resolves once it is empty, rejects after timeoutMs. */
  kill(timeoutMs?: number): Promise<void>;
  /** rmdir every folder of this cgroup once empty (retries EBUSY). Never throws for an already-removed cgroup. */
  remove(): Promise<void>;
}
