/**
 * The loop's timers in (time, sequence number) order, as one heap would keep
 * them, at less cost when there are many.
 *
 * Only the timers of the earliest millisecond that has any sit in a heap (the
 * near heap); later ones wait unsorted in a bucket per millisecond, and a
 * bucket becomes the near heap when the near heap runs out. A push is then
 * an append, and a pop sifts through a heap of one millisecond's timers, which
 * stays small and in cache, instead of through all of them.
 */
import { TimerHeap } from "./heap.js";

/** One millisecond's timers in the order they were pushed, keys beside the items. */
interface Bucket<T> {
  readonly items: T[];
  readonly times: number[];
  readonly seqs: number[];
}

export class TimerQueue<T> {
  private readonly near = new TimerHeap<T>();
  /** Every time in the near heap is below this; timers at or past it go to buckets. */
  private horizon = Number.NEGATIVE_INFINITY;
  private readonly buckets = new Map<number, Bucket<T>>();
  /** The buckets' milliseconds, the earliest on top. */
  private readonly keys = new TimerHeap<number>();
  private bucketed = 0;

  get length(): number {
    return this.near.length + this.bucketed;
  }

  push(item: T, time: number, seq: number): void {
    if (time < this.horizon) {
      this.near.push(item, time, seq);
      return;
    }
    const key = Math.floor(time);
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = { items: [], times: [], seqs: [] };
      this.buckets.set(key, bucket);
      this.keys.push(key, key, 0);
    }
    bucket.items.push(item);
    bucket.times.push(time);
    bucket.seqs.push(seq);
    this.bucketed++;
  }

  /** The item due first, or undefined when empty. */
  peek(): T | undefined {
    if (this.near.length === 0 && this.bucketed !== 0) this.nextBucket();
    return this.near.peek();
  }

  pop(): T | undefined {
    if (this.near.length === 0 && this.bucketed !== 0) this.nextBucket();
    return this.near.pop();
  }

  /** Keeps only the items for which `keep` is true, in their order. */
  filter(keep: (item: T) => boolean): void {
    this.near.filter(keep);
    this.bucketed = 0;
    this.keys.clear();
    for (const [key, bucket] of this.buckets) {
      const { items, times, seqs } = bucket;
      let kept = 0;
      for (let i = 0; i < items.length; i++) {
        const item = items[i] as T;
        if (!keep(item)) continue;
        items[kept] = item;
        times[kept] = times[i] as number;
        seqs[kept] = seqs[i] as number;
        kept++;
      }
      items.length = times.length = seqs.length = kept;
      if (kept === 0) this.buckets.delete(key);
      else {
        this.keys.push(key, key, 0);
        this.bucketed += kept;
      }
    }
  }

  clear(): void {
    this.near.clear();
    this.buckets.clear();
    this.keys.clear();
    this.bucketed = 0;
  }

  /** The near heap ran out: the earliest bucket becomes it. */
  private nextBucket(): void {
    const key = this.keys.pop() as number;
    const bucket = this.buckets.get(key) as Bucket<T>;
    this.buckets.delete(key);
    this.horizon = key + 1;
    const { items, times, seqs } = bucket;
    this.bucketed -= items.length;
    const near = this.near;
    for (let i = 0; i < items.length; i++) {
      near.push(items[i] as T, times[i] as number, seqs[i] as number);
    }
  }
}
