/**
 * A fixed-capacity ring of items, also bounded by a byte budget so a plugin writing
 * huge lines cannot pin `capacity × 1 MiB` of memory. The newest item is always kept.
 * Its slots grow with use: a quiet plugin's ring holds a few entries, not `capacity` empty slots.
 */
export class Ring<T> {
  private readonly items: (T | undefined)[] = [];
  private readonly sizes: number[] = [];
  private start = 0; // index of the oldest item
  private count = 0;
  private bytes = 0;

  constructor(
    readonly capacity: number,
    readonly maxBytes: number = Number.POSITIVE_INFINITY,
  ) {
    if (!(capacity >= 1)) throw new RangeError('ring capacity must be at least 1');
  }

  get length(): number {
    return this.count;
  }

  push(item: T, size = 0): void {
    if (this.count === this.capacity) this.dropOldest();
    const at = (this.start + this.count) % this.capacity;
    // Until the ring first fills, `at` is the next slot at the end: the arrays grow by one, packed.
    if (at === this.items.length) {
      this.items.push(item);
      this.sizes.push(size);
    } else {
      this.items[at] = item;
      this.sizes[at] = size;
    }
    this.count++;
    this.bytes += size;
    while (this.bytes > this.maxBytes && this.count > 1) this.dropOldest();
  }

  /** Up to `limit` of the newest items accepted by `keep`, oldest first. */
  newest(limit: number, keep?: (item: T) => boolean): T[] {
    const out: T[] = [];
    for (let i = this.count - 1; i >= 0 && out.length < limit; i--) {
      const item = this.items[(this.start + i) % this.capacity] as T;
      if (!keep || keep(item)) out.push(item);
    }
    return out.reverse();
  }

  private dropOldest(): void {
    this.bytes -= this.sizes[this.start]!;
    this.items[this.start] = undefined; // let it be collected
    this.start = (this.start + 1) % this.capacity;
    this.count--;
  }
}
