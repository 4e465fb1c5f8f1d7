/**
 * A binary min-heap of items ordered by (time, sequence number).
 *
 * The keys live in their own arrays beside the items, so sifting compares
 * numbers in contiguous memory instead of reaching into every item: with
 * 100k timers that is most of the cost of the heap.
 */
export class TimerHeap<T> {
  private readonly items: T[] = [];
  private readonly times: number[] = [];
  private readonly seqs: number[] = [];

  get length(): number {
    return this.items.length;
  }

  /** The item due first, or undefined when empty. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** The time of the item due first (+Infinity when empty). */
  peekTime(): number {
    return this.items.length === 0 ? Number.POSITIVE_INFINITY : (this.times[0] as number);
  }

  /** The sequence number of the item due first; only when not empty. */
  peekSeq(): number {
    return this.seqs[0] as number;
  }

  /** Moves the item due first, with its keys, into `other`. */
  popInto(other: TimerHeap<T>): void {
    const item = this.items[0] as T;
    const time = this.times[0] as number;
    const seq = this.seqs[0] as number;
    this.pop();
    other.push(item, time, seq);
  }

  push(item: T, time: number, seq: number): void {
    const { items, times, seqs } = this;
    let i = items.length;
    items.push(item);
    times.push(time);
    seqs.push(seq);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent] as number;
      if (pt < time || (pt === time && (seqs[parent] as number) < seq)) break;
      items[i] = items[parent] as T;
      times[i] = pt;
      seqs[i] = seqs[parent] as number;
      i = parent;
    }
    items[i] = item;
    times[i] = time;
    seqs[i] = seq;
  }

  pop(): T | undefined {
    const { items, times, seqs } = this;
    const top = items[0];
    const item = items.pop();
    const time = times.pop();
    const seq = seqs.pop();
    const n = items.length;
    if (n === 0 || item === undefined || time === undefined || seq === undefined) return top;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      let ct = times[child] as number;
      const right = child + 1;
      if (right < n) {
        const rt = times[right] as number;
        if (rt < ct || (rt === ct && (seqs[right] as number) < (seqs[child] as number))) {
          child = right;
          ct = rt;
        }
      }
      if (time < ct || (time === ct && seq < (seqs[child] as number))) break;
      items[i] = items[child] as T;
      times[i] = ct;
      seqs[i] = seqs[child] as number;
      i = child;
    }
    items[i] = item;
    times[i] = time;
    seqs[i] = seq;
    return top;
  }

  /** Keeps only the items for which `keep` is true, then restores the heap order. */
  filter(keep: (item: T) => boolean): void {
    const { items, times, seqs } = this;
    const kept: [T, number, number][] = [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as T;
      if (keep(item)) kept.push([item, times[i] as number, seqs[i] as number]);
    }
    this.clear();
    for (const [item, time, seq] of kept) this.push(item, time, seq);
  }

  clear(): void {
    this.items.length = 0;
    this.times.length = 0;
    this.seqs.length = 0;
  }
}
