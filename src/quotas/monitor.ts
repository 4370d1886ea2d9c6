import type { Limits } from '../config/types.js';
import type { SamplingPass } from '../protocol/index.js';
import { sampleTrees, type SampleRoot } from './sampler.js';
import type { QuotaBreach, UsageSample } from './types.js';
import { initialVerdictState, judge, type VerdictState } from './verdict.js';

export interface QuotaMonitorOptions {
  intervalMs: number;
  cpuSamples?: number;
  /** hot plugins (memory ≥ 70 %) are sampled this many times per interval; default 5 */
  fastFactor?: number;
  onSample(name: string, sample: UsageSample): void;
  onWarning(name: string, message: string): void;
  /** The monitor stops watching that plugin before calling this. */
  onBreach(name: string, breach: QuotaBreach, sample: UsageSample): void;
  onError?(error: Error): void;
}

interface Watched {
  pid: number;
  canFork: boolean;
  wrappers: number;
  limits: Limits;
  state: VerdictState;
  /** Changes on every watch(): results of a pass that began under another generation are stale. */
  generation: number;
  hot: boolean;
  /** Not sampled yet: included in the next tick, fast or full. */
  fresh: boolean;
}

type PassKind = 'full' | 'fast';

/** One timer, one batched pass per tick for every watched plugin; verdicts go to the callbacks. */
export class QuotaMonitor {
  private readonly watched = new Map<string, Watched>();
  private readonly fastFactor: number;
  private intervalMs: number;
  private timer: NodeJS.Timeout | null = null;
  private generation = 0;
  private lastFullAt = 0;
  private running: Promise<void> | null = null;
  private last: { ms: number; plugins: number; processes: number } | null = null;

  constructor(private readonly options: QuotaMonitorOptions) {
    this.intervalMs = options.intervalMs;
    this.fastFactor = Math.max(1, Math.floor(options.fastFactor ?? 5));
  }

  /** Duration of the last full pass in ms, and how many processes it covered — for the bench. */
  get lastPass(): SamplingPass {
    return this.last;
  }

  /** (Re)starts watching with a fresh verdict state; the plugin is sampled on the next tick. */
  watch(name: string, pid: number, limits: Limits, options: { canFork?: boolean; wrappers?: number } = {}): void {
    this.watched.set(name, {
      pid,
      canFork: options.canFork ?? true,
      wrappers: options.wrappers ?? 0,
      limits,
      state: initialVerdictState(),
      generation: ++this.generation,
      hot: false,
      fresh: true,
    });
  }

  unwatch(name: string): void {
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
    // gone by since the last one, otherwise it samples only hot and fresh plugins.
    const tickMs = Math.max(1, Math.floor(this.intervalMs / this.fastFactor));
    this.timer = setInterval(() => this.tick(), tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Runs one full pass now (tests, bench); waits for a pass already under way first. */
  async sampleNow(): Promise<void> {
    while (this.running) await this.running;
    await this.run('full');
  }

  private tick(): void {
    if (this.running) return; // never two passes at once: this tick is skipped
    const tickMs = this.intervalMs / this.fastFactor;
    // half a tick of slack so timer jitter does not push a full pass to the next tick
    const kind: PassKind = Date.now() - this.lastFullAt >= this.intervalMs - tickMs / 2 ? 'full' : 'fast';
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
    const roots = new Map<string, SampleRoot>();
    const generations = new Map<string, number>();
    for (const [name, entry] of this.watched) {
      if (kind === 'full' || entry.hot || entry.fresh) {
        roots.set(name, { pid: entry.pid, canFork: entry.canFork, wrappers: entry.wrappers });
        generations.set(name, entry.generation);
      }
    }
    if (roots.size === 0) {
      if (kind === 'full') this.last = { ms: performance.now() - started, plugins: 0, processes: 0 };
      return;
    }

    let samples: Map<string, UsageSample | null>;
    try {
      samples = await sampleTrees(roots);
    } catch (error) {
      this.report(error);
      return;
    }

    let processes = 0;
    for (const sample of samples.values()) processes += sample?.processes ?? 0;
    if (kind === 'full') this.last = { ms: performance.now() - started, plugins: roots.size, processes };

    for (const [name, sample] of samples) {
      const entry = this.watched.get(name);
      // unwatched or re-watched while the pass ran: this result is about a process we no longer follow
      if (!entry || entry.generation !== generations.get(name) || !sample) continue;
      this.apply(name, entry, sample, kind);
    }
  }

  private apply(name: string, entry: Watched, sample: UsageSample, kind: PassKind): void {
    const verdict = judge(sample, entry.limits, entry.state, { cpuSamples: this.options.cpuSamples });
    // The CPU window counts full-interval samples only: extra samples of a hot plugin
    // would otherwise shorten the sustained window to a fraction of it.
    if (kind === 'fast') verdict.state.cpuOverSamples = entry.state.cpuOverSamples;
    const breach = kind === 'fast' && verdict.breach?.limit === 'cpuPercent' ? null : verdict.breach;
    entry.state = verdict.state;
    entry.hot = verdict.hot;
    entry.fresh = false;

    this.call(() => this.options.onSample(name, sample));
    for (const message of verdict.warnings) this.call(() => this.options.onWarning(name, message));
    // a callback above may have unwatched or re-watched it: then this verdict is stale
    if (breach && this.watched.get(name) === entry) {
      this.watched.delete(name);
      this.call(() => this.options.onBreach(name, breach, sample));
    }
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
