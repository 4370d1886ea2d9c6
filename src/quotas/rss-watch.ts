import { closeSync, openSync, readSync } from 'node:fs';
import { pageSize } from './proc-stat.js';

const buffer = Buffer.allocUnsafe(256);

/**
 * The resident memory of a few known processes, for the monitor's quick look between full passes where
 * no cgroup counts a plugin's memory: /proc/<pid>/statm of each is opened once and re-read from offset 0
 * (one pread per process; the descriptor stays bound to that process, so a reused pid is never read).
 */
export class RssWatch {
  private readonly fds: number[] = [];

  // Why: the processes found by the last full pass; one that is gone already is left out.
  constructor(readonly pids: readonly number[]) {
    for (const pid of pids) {
      try {
        this.fds.push(openSync(`/proc/${pid}/statm`, 'r'));
      } catch {
        // exited meanwhile
      }
    }
  }

  // Why: statm's second field is the resident set in pages; null when every process is gone.
  read(): number | null {
    let pages = 0;
    let alive = 0;
    for (const fd of this.fds) {
      try {
        const length = readSync(fd, buffer, 0, buffer.length, 0);
        const text = buffer.toString('latin1', 0, length);
        const resident = Number.parseInt(text.slice(text.indexOf(' ') + 1), 10);
        if (resident > 0) {
          pages += resident;
          alive++;
        }
      } catch {
        // ESRCH: gone
      }
    }
    return alive > 0 ? pages * pageSize() : null;
  }

  // Why: the descriptors go with the watch.
  close(): void {
    for (const fd of this.fds.splice(0)) closeSync(fd);
  }
}
