import type { Limits } from '../config/types.js';
import type { SamplingPass } from '../protocol/index.js';
import { initialCounterMarks, sampleCounters, type CounterMarks } from './cgroup-sample.js';
import { judgeGrowth, type GrowthPoint } from './growth.js';
import { RssWatch } from './rss-watch.js';
import { sampleTrees, type SampleRoot } from './sampler.js';
import type { QuotaBreach, UsageCounters, UsageSample } from './types.js';
import { initialVerdictState, judge, type VerdictState } from './verdict.js';

const MB = 2 ** 20;
/**
 * With cgroup counters, open descriptors (one stat per process) and, below 70 % of the memory limit, the
 * OOM-kill count are read every this many full passes: a leak climbs slowly, RLIMIT_NOFILE holds each
 * process at a hard limit above the quota, and a kill count that rose stays risen.
 */
const SLOW_EVERY = 5;

export interface QuotaMonitorOptions {
  intervalMs: number;
  cpuSamples?: number;
  /** ticks per interval: hot plugins (memory ≥ 70 %), and every plugin's memory where no cgroup bounds it; default 5 */
  fastFactor?: number;
  /** The soonest a fast-growing plugin is looked at again (ms); default 20. */
  minDelayMs?: number;
  /** The plugin's own cgroup counters, where it has a cgroup: read instead of walking /proc. */
  countersOf?(pid: number): UsageCounters | null;
  onSample(name: string, sample: UsageSample): void;
  onWarning(name: string, message: string): void;
  /** The monitor stops watching that plugin before calling this. */
  onBreach(name: string, breach: QuotaBreach, sample: UsageSample): void;
  onError?(error: Error): void;
}

interface Watched {
  root: Required<SampleRoot>;
  limits: Limits;
  state: VerdictState;
  /** Changes on every watch(): results of a pass that began under another generation are stale. */
  generation: number;
  hot: boolean;
  /** Not sampled yet: included in the next tick, fast or full. */
  fresh: boolean;
  /** The cgroup's counters, or null: then the tree is walked and memory looked at through statm. */
  counters: UsageCounters | null;
  marks: CounterMarks;
  /** Full looks at its counters so far (handles and the OOM-kill count are read on every SLOW_EVERY-th). */
  fullLooks: number;
  /** Without counters: the plugin's processes of the last full pass, for the quick memory look. */
  rss: RssWatch | null;
  last: UsageSample | null;
  growth: GrowthPoint | null;
  soon: NodeJS.Timeout | null;
}

type PassKind = 'full' | 'fast';

/**
 * One timer for every watched plugin. Each interval a full pass: a plugin with a cgroup is read from its
 * counters, the others' trees in one batched /proc walk. Between full passes, fast ticks look at hot
 * plugins, and where no cgroup bounds memory at every plugin's resident memory (one pread each), so a
 * fast climb is seen within a tick and judged on its rate. Verdicts go to the callbacks.
 */
export class QuotaMonitor {
  private readonly watched = new Map<string, Watched>();
  private readonly fastFactor: number;
  private readonly minDelayMs: number;
  private intervalMs: number;
  private timer: NodeJS.Timeout | null = null;
  private generation = 0;
  private lastFullAt = 0;
  private running: Promise<void> | null = null;
  private last: { ms: number; plugins: number; processes: number } | null = null;

  constructor(private readonly options: QuotaMonitorOptions) {
    this.intervalMs = options.intervalMs;
    this.fastFactor = Math.max(1, Math.floor(options.fastFactor ?? 5));
    this.minDelayMs = options.minDelayMs ?? 20;
  }

  /** Duration of the last full pass in ms, and how many processes it covered — for the bench. */
  get lastPass(): SamplingPass {
    return this.last;
  }

  /** (Re)starts watching with a fresh verdict state; the plugin is sampled on the next tick. */
  watch(name: string, pid: number, limits: Limits, options: { canFork?: boolean; wrappers?: number } = {}): void {
    this.release(this.watched.get(name));
    let counters: UsageCounters | null = null;
    try {
      counters = this.options.countersOf?.(pid) ?? null;
    } catch (error) {
      this.report(error);
    }
    this.watched.set(name, {
      root: { pid, canFork: options.canFork ?? true, wrappers: options.wrappers ?? 0 },
      limits,
      state: initialVerdictState(),
      generation: ++this.generation,
      hot: false,
      fresh: true,
      counters,
      marks: initialCounterMarks(),
      fullLooks: 0,
      rss: null,
      last: null,
      growth: null,
      soon: null,
    });
  }

  unwatch(name: string): void {
    this.release(this.watched.get(name));
    this.watched.delete(name);
  }

  updateLimits(name: string, limits: Limits): void {
    const entry = this.watched.get(name);
    if (entry) entry.limits = limits;
  }

  setIntervalMs(ms: number): void {
    this.intervalMs = ms;
    if (this.timer) {
      this.stop();
      this.start();
    }
  }

  start(): void {
    if (this.timer) return;
    // A single timer at the fast cadence; a tick becomes a full pass once intervalMs has
    // gone by since the last one, otherwise it is a fast one.
    this.timer = setInterval(() => this.tick(), this.tickMs());
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const entry of this.watched.values()) this.cancelSoon(entry);
  }

  /** Runs one full pass now (tests, bench); waits for a pass already under way first. */
  async sampleNow(): Promise<void> {
    while (this.running) await this.running;
    await this.run('full');
  }

  private tickMs(): number {
    return Math.max(1, Math.floor(this.intervalMs / this.fastFactor));
  }

  private tick(): void {
    if (this.running) return; // never two passes at once: this tick is skipped
    // half a tick of slack so timer jitter does not push a full pass to the next tick
    const kind: PassKind = Date.now() - this.lastFullAt >= this.intervalMs - this.tickMs() / 2 ? 'full' : 'fast';
    void this.run(kind);
  }

  private run(kind: PassKind): Promise<void> {
    const pass = this.pass(kind).finally(() => {
      this.running = null;
    });
    this.running = pass;
    return pass;
  }

  private async pass(kind: PassKind): Promise<void> {
    const started = performance.now();
    if (kind === 'full') this.lastFullAt = Date.now();
    const walk = new Map<string, SampleRoot>();
    const generations = new Map<string, number>();
    let plugins = 0;
    let processes = 0;
    try {
      for (const [name, entry] of [...this.watched]) {
        const full = kind === 'full' || entry.fresh;
        if (full) plugins++;
        if (entry.counters === null && full) {
          walk.set(name, entry.root);
          generations.set(name, entry.generation);
        } else if (full || entry.hot || entry.counters === null) {
          processes += (await this.look(name, entry, full ? 'full' : 'fast')) ?? 0;
        }
      }
      if (walk.size > 0) {
        const samples = await sampleTrees(walk);
        for (const [name, sample] of samples) {
          const entry = this.watched.get(name);
          // unwatched or re-watched while the pass ran: this result is about a process we no longer follow
          if (!entry || entry.generation !== generations.get(name) || !sample) continue;
          processes += sample.processes;
          if (entry.rss?.pids.join() !== sample.pids.join()) {
            entry.rss?.close();
            entry.rss = new RssWatch(sample.pids);
          }
          this.apply(name, entry, sample, null, 'full');
        }
      }
    } catch (error) {
      this.report(error);
    }
    if (kind === 'full') this.last = { ms: performance.now() - started, plugins, processes };
  }

  /** Samples one plugin outside the tree walk: from its counters, or its memory alone through statm. Returns its process count. */
  private async look(name: string, entry: Watched, kind: PassKind): Promise<number | null> {
    const generation = entry.generation;
    if (entry.counters) {
      const limitBytes = entry.limits.memoryMb * MB;
      const result = await sampleCounters(entry.counters, entry.root, entry.marks, {
        limitMb: entry.limits.memoryMb,
        // file cache is left out only near the limit, where it could decide a breach (memory.stat is larger)
        workingSetAbove: 0.7 * limitBytes,
        slow: kind === 'full' && entry.fullLooks++ % SLOW_EVERY === 0,
        previousHandles: entry.last?.handles ?? 0,
      });
      if (!result || this.watched.get(name)?.generation !== generation) return null;
      this.apply(name, entry, result.sample, result.oomKill, kind);
      return result.sample.processes;
    }
    const bytes = entry.rss?.read() ?? null;
    if (bytes === null || !entry.last) return null;
    this.apply(name, entry, { ...entry.last, memoryBytes: bytes, time: Date.now() }, null, 'fast');
    return null;
  }

  private apply(name: string, entry: Watched, sample: UsageSample, oomKill: QuotaBreach | null, kind: PassKind): void {
    const verdict = judge(sample, entry.limits, entry.state, { cpuSamples: this.options.cpuSamples });
    // The CPU window counts full-interval samples only: extra samples of a hot plugin
    // would otherwise shorten the sustained window to a fraction of it.
    if (kind === 'fast') verdict.state.cpuOverSamples = entry.state.cpuOverSamples;
    const point = { time: performance.now(), bytes: sample.memoryBytes };
    const growth = judgeGrowth(entry.growth, point, entry.limits.memoryMb, { minDelayMs: this.minDelayMs, regularDelayMs: this.tickMs() });
    const breach = oomKill ?? (kind === 'fast' && verdict.breach?.limit === 'cpuPercent' ? null : verdict.breach) ?? growth.breach;
    entry.state = verdict.state;
    entry.hot = verdict.hot;
    entry.fresh = false;
    entry.growth = point;
    if (kind === 'full') entry.last = sample;

    if (kind === 'full' || entry.hot || breach) this.call(() => this.options.onSample(name, sample));
    for (const message of verdict.warnings) this.call(() => this.options.onWarning(name, message));
    // a callback above may have unwatched or re-watched it: then this verdict is stale
    if (this.watched.get(name) !== entry) return;
    if (breach) {
      this.unwatch(name);
      this.call(() => this.options.onBreach(name, breach, sample));
    } else if (growth.nextCheckMs !== null) {
      this.lookSoon(name, entry, growth.nextCheckMs);
    }
  }

  /** A plugin climbing toward its limit is looked at again before the next tick, once. */
  private lookSoon(name: string, entry: Watched, ms: number): void {
    if (entry.soon) return;
    entry.soon = setTimeout(() => {
      entry.soon = null;
      if (this.watched.get(name) !== entry) return;
      this.look(name, entry, 'fast').catch((error: unknown) => this.report(error));
    }, ms);
    entry.soon.unref();
  }

  private cancelSoon(entry: Watched): void {
    if (entry.soon) clearTimeout(entry.soon);
    entry.soon = null;
  }

  /** Open descriptors and the timer of a watch that ends. */
  private release(entry: Watched | undefined): void {
    if (!entry) return;
    this.cancelSoon(entry);
    entry.counters?.close();
    entry.rss?.close();
    entry.rss = null;
  }

  /** A throwing callback must not stop the monitor or the other plugins' verdicts. */
  private call(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.report(error);
    }
  }

  private report(error: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error));
    if (this.options.onError) this.options.onError(err);
  }
}
