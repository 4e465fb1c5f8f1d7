/**
 * One millisecond's timers, sorted once by (time, sequence number) and then
 * taken from the front: a timer costs a share of one sort instead of a heap
 * pop that sifts through all of that millisecond's timers.
 *
 * The sort is a counting sort on the time's fraction of the millisecond, each
 * slot about two timers wide, then an insertion sort by (time, sequence
 * number), which only has to move timers that share a slot.
 */

/** Below this many timers an insertion sort alone is cheaper than counting. */
const COUNTING_FROM = 32;

export class SortedRun<T> {
  /** The millisecond's timers and keys, as they were pushed. */
  private items: (T | undefined)[] = [];
  private times: readonly number[] = [];
  private seqs: readonly number[] = [];
  /** Indexes into them in (time, seq) order. */
  private order: Int32Array = new Int32Array(0);
  /** Where the timers not yet taken start in `order`. */
  private head = 0;

  get length(): number {
    return this.order.length - this.head;
  }

  /** The first timer's time; only when not empty. */
  headTime(): number {
    return this.times[this.order[this.head] as number] as number;
  }

  /** The first timer's sequence number; only when not empty. */
  headSeq(): number {
    return this.seqs[this.order[this.head] as number] as number;
  }

  peek(): T | undefined {
    return this.length === 0 ? undefined : this.items[this.order[this.head] as number];
  }

  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const k = this.order[this.head++] as number;
    const item = this.items[k];
    this.items[k] = undefined; // taken: not kept alive by the run
    if (this.head === this.order.length) this.clear();
    return item;
  }

  /**
   * Makes the run (which must be empty) of a millisecond's bucket, whose
   * times all lie in [ms, ms + 1). The run takes the arrays over.
   */
  load(items: T[], times: readonly number[], seqs: readonly number[], ms: number): void {
    this.items = items;
    this.times = times;
    this.seqs = seqs;
    this.order = sortOrder(times, seqs, ms);
    this.head = 0;
  }

  /** Keeps only the timers for which `keep` is true, in their order. */
  filter(keep: (item: T) => boolean): void {
    const items: T[] = [];
    const times: number[] = [];
    const seqs: number[] = [];
    for (let i = this.head; i < this.order.length; i++) {
      const k = this.order[i] as number;
      const item = this.items[k] as T;
      if (!keep(item)) continue;
      items.push(item);
      times.push(this.times[k] as number);
      seqs.push(this.seqs[k] as number);
    }
    this.items = items;
    this.times = times;
    this.seqs = seqs;
    this.order = Int32Array.from(items.keys());
    this.head = 0;
  }

  clear(): void {
    this.items = [];
    this.times = this.seqs = [];
    this.order = new Int32Array(0);
    this.head = 0;
  }
}

/** The indexes of `times` in (time, seq) order; every time lies in [ms, ms + 1). */
function sortOrder(times: readonly number[], seqs: readonly number[], ms: number): Int32Array {
  const n = times.length;
  const order = new Int32Array(n);
  if (n < COUNTING_FROM) {
    for (let i = 0; i < n; i++) order[i] = i;
  } else {
    let slots = 1;
    while (slots * 2 < n) slots *= 2;
    const starts = new Int32Array(slots + 1);
    const slotOf = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      // Exact: the fraction is below 1, and slots is a power of two.
      const slot = Math.floor(((times[i] as number) - ms) * slots);
      slotOf[i] = slot;
      starts[slot + 1] = (starts[slot + 1] as number) + 1;
    }
    for (let s = 0; s < slots; s++)
      starts[s + 1] = (starts[s + 1] as number) + (starts[s] as number);
    for (let i = 0; i < n; i++) {
      const slot = slotOf[i] as number;
      const at = starts[slot] as number;
      order[at] = i;
      starts[slot] = at + 1;
    }
  }
  for (let j = 1; j < n; j++) {
    const k = order[j] as number;
    const time = times[k] as number;
    const seq = seqs[k] as number;
    let i = j - 1;
    for (; i >= 0; i--) {
      const other = order[i] as number;
      const t = times[other] as number;
      if (t < time || (t === time && (seqs[other] as number) < seq)) break;
      order[i + 1] = other;
    }
    order[i + 1] = k;
  }
  return order;
}
