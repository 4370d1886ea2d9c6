/** Latency samples in microseconds → the figures the table prints. */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? NaN;
}

export function median(samples: number[]): number {
  return percentile(samples, 50);
}

/** A call function under test: one request, one answer. */
export type Call = (params: unknown) => Promise<unknown>;

export interface CallFigures {
  p50Us: number;
  p99Us: number;
  callsPerSecond: number;
}

/** Sequential round trips, then pipelined throughput with `inFlight` calls outstanding. */
export async function measureCalls(call: Call, options: { sequential: number; pipelined: number; inFlight: number }): Promise<CallFigures> {
  const payload = { text: 'hello', n: 42 };
  for (let i = 0; i < 500; i++) await call(payload); // warm the JIT on both ends
  const latencies: number[] = [];
  for (let i = 0; i < options.sequential; i++) {
    const start = process.hrtime.bigint();
    await call(payload);
    latencies.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  const start = process.hrtime.bigint();
  await pipeline(call, payload, options.pipelined, options.inFlight);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { p50Us: percentile(latencies, 50), p99Us: percentile(latencies, 99), callsPerSecond: options.pipelined / seconds };
}

/** `count` calls with `inFlight` of them outstanding at any time. */
export async function pipeline(call: Call, payload: unknown, count: number, inFlight: number): Promise<void> {
  let issued = 0;
  const worker = async (): Promise<void> => {
    while (issued < count) {
      issued++;
      await call(payload);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

/** Each figure the median of its rounds, so one noisy moment of the VM does not decide a ratio. */
export function medianFigures(rounds: CallFigures[]): CallFigures {
  return {
    p50Us: median(rounds.map((r) => r.p50Us)),
    p99Us: median(rounds.map((r) => r.p99Us)),
    callsPerSecond: median(rounds.map((r) => r.callsPerSecond)),
  };
}

export function printTable(title: string, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\n### ${title}\n`);
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}
