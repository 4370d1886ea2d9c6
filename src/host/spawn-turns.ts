/**
 * Spawns take turns with the event loop. `child_process.spawn` blocks the daemon until the child has
 * exec'd (fork, exec, a few ms each, more as the daemon grows), and a burst of starts queued in one
 * microtask chain would spawn every plugin before reading anything: handshake answers waited unread
 * (a median of 3 s for 150 plugins) and plugins missed their start timeout. Each turn here is one
 * setImmediate, queued only when the previous one ran, so I/O is read between any two spawns.
 */

const waiting: Array<() => void> = [];
let scheduled = false;

/** Runs the next waiting spawn, then queues the turn after it behind the I/O that arrived meanwhile. */
function nextTurn(): void {
  scheduled = false;
  waiting.shift()?.();
  if (waiting.length > 0) schedule();
}

/** Queues one turn, unless one is queued already. */
function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(nextTurn);
}

/** Resolves when it is this caller's turn to spawn (at the next turn of the event loop when none wait). */
export function spawnTurn(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    schedule();
  });
}
