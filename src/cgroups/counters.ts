/**
 * A plugin cgroup's own usage counters, read without walking /proc: each control file is opened once
 * and re-read from offset 0 on every pass (cgroupfs regenerates a file's text on each read at 0), so a
 * pass costs one pread per file and no path lookup. v1 reads memory.usage_in_bytes, cpuacct.usage,
 * cgroup.procs and memory.oom_control; v2 memory.current, cpu.stat, cgroup.procs and memory.events.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';

/** One reading of a plugin cgroup. */
export interface CounterReading {
  /** The memory the cgroup is charged for (what the kernel limits); less inactive file cache when asked. */
  memoryBytes: number;
  /** CPU time of every task the cgroup ever held, in nanoseconds. */
  cpuNs: number;
  /** The processes in the cgroup now (the wall's included). */
  pids: number[];
}

export interface CgroupCounters {
  /** The kernel's hard memory limit of this cgroup in bytes, null when unlimited or unknown. */
  readonly hardLimitBytes: number | null;
  /**
   * Reads every counter; null once the cgroup is gone. Above `workingSetAbove` bytes, memory.stat is read
   * too and inactive file cache (which the kernel reclaims before any OOM kill) is left out.
   */
  read(workingSetAbove?: number): CounterReading | null;
  /** Processes the kernel's OOM killer killed in this cgroup. */
  oomKills(): number;
  /** Closes the files; reading afterwards answers null. */
  close(): void;
}

/** Where each counter lives, per cgroup version. */
export interface CounterFiles {
  memory: string;
  /** v1 cpuacct.usage (ns, one integer) or v2 cpu.stat (usage_usec among other lines). */
  cpu: string;
  procs: string;
  /**
   * v1 only: its pids.current. A v1 kernel keeps the cgroup.procs list it built for an open file while that
   * file is read at least once a second, so a kept-open cgroup.procs never changes; the list is read from a
   * fresh open whenever this task count moves (and every REFRESH_PROCS_EVERY reads, for a fork and an exit
   * in one interval); null (v1 without a pids controller): a fresh open on every read.
   */
  taskCount?: string | null;
  /** v1 memory.oom_control or v2 memory.events: both hold an "oom_kill N" line. */
  oom: string;
  stat: string;
  /** memory.stat's key for inactive file cache: total_inactive_file (v1, hierarchical) or inactive_file (v2). */
  inactiveFileKey: string;
  hardLimit: string;
}

// Why: one buffer for every read; cgroup.procs of a plugin holds a few pids, memory.stat ~2 KB.
let buffer = Buffer.allocUnsafe(16 * 1024);

// Why: a file opened once and re-read from offset 0; null (never a throw) once the cgroup is removed (ENODEV, ENOENT).
class KeptFile {
  private fd: number | null;

  // Why: a missing file (old kernel, absent controller) is kept as "nothing to read".
  constructor(path: string) {
    try {
      this.fd = openSync(path, 'r');
    } catch {
      this.fd = null;
    }
  }

  // Why: pread at 0 makes the kernel regenerate the text; a short read is the end of it.
  read(): string | null {
    if (this.fd === null) return null;
    try {
      let length = 0;
      for (;;) {
        if (length === buffer.length) buffer = Buffer.concat([buffer, Buffer.allocUnsafe(buffer.length)]);
        const wanted = buffer.length - length;
        const read = readSync(this.fd, buffer, length, wanted, length);
        length += read;
        if (read < wanted) break;
      }
      return buffer.toString('latin1', 0, length);
    } catch {
      return null;
    }
  }

  // Why: the descriptor goes with the watch; closing twice is harmless.
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

// Why: "key N" lines (memory.events, memory.oom_control, memory.stat, cpu.stat) hold the facts we need.
function keyOf(text: string, key: string): number | null {
  const at = text.indexOf(`${key} `);
  if (at < 0 || (at > 0 && text[at - 1] !== '\n')) {
    const match = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
    return match ? Number(match[1]) : null;
  }
  return Number.parseInt(text.slice(at + key.length + 1), 10);
}

/** Reads between fresh reads of a v1 cgroup.procs whose task count did not move. */
const REFRESH_PROCS_EVERY = 5;

// Why: a fresh open of a file whose kept-open reads are cached by the kernel (v1 cgroup.procs).
function readFresh(path: string): string | null {
  const file = new KeptFile(path);
  try {
    return file.read();
  } finally {
    file.close();
  }
}

// Why: the plugin's pids: from the kept-open file (v2), or (v1) from a fresh open whenever the task count moved.
function procsReader(files: CounterFiles): { read(): string | null; close(): void } {
  if (files.taskCount === undefined) return new KeptFile(files.procs);
  const tasks = files.taskCount === null ? null : new KeptFile(files.taskCount);
  let lastTasks: string | null = null;
  let lastProcs: string | null = null;
  let reads = 0;
  return {
    read() {
      const count = tasks?.read() ?? null;
      if (lastProcs === null || count === null || count !== lastTasks || ++reads % REFRESH_PROCS_EVERY === 0) {
        lastProcs = readFresh(files.procs);
        lastTasks = count;
      }
      return lastProcs;
    },
    close: () => tasks?.close(),
  };
}

// Why: opens the files once, at the start of a watch; the pass then only preads them.
export function openCounters(files: CounterFiles): CgroupCounters {
  const memory = new KeptFile(files.memory);
  const cpu = new KeptFile(files.cpu);
  const procs = procsReader(files);
  const oom = new KeptFile(files.oom);
  let stat: KeptFile | null = null;
  const cpuIsStat = files.cpu.endsWith('cpu.stat');
  const limitText = new KeptFile(files.hardLimit);
  const limit = Number.parseInt(limitText.read() ?? '', 10); // v2 "max" and v1's huge "unlimited" are no limit
  limitText.close();
  return {
    hardLimitBytes: Number.isFinite(limit) && limit < 2 ** 52 ? limit : null,
    read(workingSetAbove = Number.POSITIVE_INFINITY) {
      const memoryText = memory.read();
      const procsText = procs.read();
      if (memoryText === null || procsText === null) return null;
      let memoryBytes = Number.parseInt(memoryText, 10);
      if (memoryBytes > workingSetAbove) {
        stat ??= new KeptFile(files.stat);
        memoryBytes -= keyOf(stat.read() ?? '', files.inactiveFileKey) ?? 0;
      }
      const cpuText = cpu.read() ?? '';
      const cpuNs = cpuIsStat ? (keyOf(cpuText, 'usage_usec') ?? 0) * 1000 : Number.parseInt(cpuText, 10) || 0;
      const pids: number[] = [];
      for (const line of procsText.split('\n')) if (line) pids.push(Number(line));
      return { memoryBytes, cpuNs, pids };
    },
    oomKills() {
      return keyOf(oom.read() ?? '', 'oom_kill') ?? 0;
    },
    close() {
      for (const file of [memory, cpu, procs, oom, stat]) file?.close();
    },
  };
}

// Why: the v1 files of one plugin cgroup, from its memory and cpu(acct) folders (either may be missing).
export function v1CounterFiles(memoryDir: string, cpuDir: string, procsDir: string, pidsDir: string | null): CounterFiles {
  return {
    memory: join(memoryDir, 'memory.usage_in_bytes'),
    cpu: join(cpuDir, 'cpuacct.usage'),
    procs: join(procsDir, 'cgroup.procs'),
    taskCount: pidsDir === null ? null : join(pidsDir, 'pids.current'),
    oom: join(memoryDir, 'memory.oom_control'),
    stat: join(memoryDir, 'memory.stat'),
    inactiveFileKey: 'total_inactive_file',
    hardLimit: join(memoryDir, 'memory.limit_in_bytes'),
  };
}

// Why: the v2 files of one plugin cgroup: one folder holds them all.
export function v2CounterFiles(dir: string): CounterFiles {
  return {
    memory: join(dir, 'memory.current'),
    cpu: join(dir, 'cpu.stat'),
    procs: join(dir, 'cgroup.procs'),
    oom: join(dir, 'memory.events'),
    stat: join(dir, 'memory.stat'),
    inactiveFileKey: 'inactive_file',
    hardLimit: join(dir, 'memory.max'),
  };
}
