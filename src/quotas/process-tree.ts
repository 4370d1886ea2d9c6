import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';

/** Errors meaning the process (or thread) exited while we looked at it. */
export function isVanished(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ESRCH';
}

// Reads here are synchronous on purpose: /proc files never wait on a disk, and async reads
// cost ~15× the CPU (fs/promises readFile is five thread-pool round trips per file; a
// Node process has 7+ threads to read). The walk yields to the event loop between
// processes instead, so a large tree never blocks it for long.
let buffer = Buffer.allocUnsafe(64 * 1024);

/** Reads a whole /proc file synchronously into a shared buffer (latin1: /proc is ASCII). */
export function readProcFile(path: string): string {
  const fd = openSync(path, 'r');
  try {
    let length = 0;
    for (;;) {
      // a fork bomb's thread can list thousands of children: grow rather than fail the pass
      if (length === buffer.length) buffer = Buffer.concat([buffer, Buffer.allocUnsafe(buffer.length)]);
      const wanted = buffer.length - length;
      const read = readSync(fd, buffer, length, wanted, null);
      length += read;
      // a seq_file read stops short only at the end: no second read to see 0
      if (read < wanted) break;
    }
    return buffer.toString('latin1', 0, length);
  } finally {
    closeSync(fd);
  }
}

/** Direct children of `pid` (of every thread, or of its main thread only); null if the process is gone. */
function childrenOf(pid: number, allThreads: boolean): number[] | null {
  let tids: string[];
  try {
    tids = allThreads ? readdirSync(`/proc/${pid}/task`) : [String(pid)];
  } catch (error) {
    if (isVanished(error)) return null;
    throw error;
  }
  const children: number[] = [];
  // Children hang off the thread that forked them, so every thread has to be read
  // (a Node worker thread or a Go runtime thread may fork too).
  for (const tid of tids) {
    let list: string;
    try {
      list = readProcFile(`/proc/${pid}/task/${tid}/children`);
    } catch (error) {
      if (isVanished(error)) {
        if (!allThreads) return null;
        continue;
      }
      throw error;
    }
    for (const field of list.split(' ')) {
      const child = parseInt(field, 10); // "123 456 " — the trailing field is empty
      if (child > 0) children.push(child);
    }
  }
  return children;
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The root and all its descendants, from /proc/<pid>/task/<tid>/children (cost grows with the tree,
 * not with the host); [] if the root is gone. `allThreads: false` reads only each process's main
 * thread: for a plugin that cannot start processes or workers at all (the node permission model),
 * so a check for anything unexpected costs one read instead of one per thread.
 */
export async function processTree(rootPid: number, options: { allThreads?: boolean; skipLevels?: number } = {}): Promise<number[]> {
  const allThreads = options.allThreads ?? true;
  // The top levels of a walled plugin's tree are the wall's own processes (bwrap and its init): walked, not reported.
  const skipLevels = options.skipLevels ?? 0;
  const found: number[] = [];
  const seen = new Set<number>([rootPid]);
  const queue = [rootPid];
  const depth = [0];
  // Breadth-first. A process that exits mid-walk is dropped; one forked mid-walk may be
  // missed until the next pass.
  for (let i = 0; i < queue.length; i++) {
    // Yield now and then, not per process: a big tree never blocks the loop long, a small one costs nothing.
    if (i > 0 && i % 32 === 0) await yieldToLoop();
    const pid = queue[i]!;
    const children = childrenOf(pid, allThreads);
    if (children === null) {
      if (pid === rootPid) return [];
      continue;
    }
    if (depth[i]! >= skipLevels) found.push(pid);
    for (const child of children) {
      // the Set guards against a cycle made by pid reuse during the walk
      if (!seen.has(child)) {
        seen.add(child);
        queue.push(child);
        depth.push(depth[i]! + 1);
      }
    }
  }
  return found;
}

/** Open file descriptors of one process (entries of /proc/<pid>/fd); 0 if it vanished. */
export async function countHandles(pid: number): Promise<number> {
  return countHandlesSync(pid);
}

/** countHandles without the promise, for the sampler's batched pass. */
export function countHandlesSync(pid: number): number {
  try {
    // Since Linux 6.2 the size of /proc/<pid>/fd is its number of entries: one stat instead
    // of listing every descriptor. Older kernels report 0, and then the listing decides.
    const { size } = statSync(`/proc/${pid}/fd`);
    return size > 0 ? size : readdirSync(`/proc/${pid}/fd`).length;
  } catch (error) {
    if (isVanished(error)) return 0;
    throw error;
  }
}
