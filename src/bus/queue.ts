/**
 * A FIFO with O(1) push, shift and drop-oldest: an array plus a head index, compacted now and then,
 * so a full 1000-event queue under sustained overflow does not cost an O(n) Array#shift per event.
 */
export class BoundedQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  constructor(readonly limit: number) {}

  get length(): number {
    return this.items.length - this.head;
  }

  /** Appends; if that goes over the limit, drops the oldest and returns how many were dropped. */
  push(item: T): number {
    this.items.push(item);
    let dropped = 0;
    while (this.length > this.limit) {
      this.items[this.head++] = undefined;
      dropped++;
    }
    this.compact();
    return dropped;
  }

  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined; // let the event be collected once delivered
    this.compact();
    return item;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }

  private compact(): void {
    if (this.head === this.items.length) this.clear();
    else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
