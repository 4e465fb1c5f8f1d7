/**
 * The loop's timers in (time, sequence number) order, as one heap would keep
 * them, at less cost when many are due soon.
 *
 * Three tiers, each later than the one before:
 * - the near timers, every timer due before `horizon`: the earliest
 *   millisecond's bucket, sorted once (a SortedRun), and a heap for the
 *   timers that come below the horizon after it was sorted;
 * - a bucket per millisecond for timers set less than `WINDOW_MS` ahead,
 *   unsorted: a push there is an append;
 * - the far heap: timers set further ahead (timeouts, most of them
 *   cancelled), which cost what they cost in a plain heap, and no bucket
 *   each; and timers at ±Infinity, which have no millisecond.
 * When the near timers run out, the earliest millisecond that has a timer, in
 * a bucket or on top of the far heap, becomes them. A pop then takes the
 * front of a sorted millisecond instead of sifting through all the timers.
 */
import { TimerHeap } from "./heap.js";
import { SortedRun } from "./sortedrun.js";

/** Timers set less than this far ahead go into buckets, which so span about this many milliseconds. */
const WINDOW_MS = 64;

/** One millisecond's timers in the order they were pushed, keys beside the items. */
interface Bucket<T> {
  readonly items: T[];
  readonly times: number[];
  readonly seqs: number[];
}

export class TimerQueue<T> {
  /** The earliest millisecond's bucket, sorted when it became near. */
  private readonly run = new SortedRun<T>();
  /** Near timers that came after the run was sorted. */
  private readonly near = new TimerHeap<T>();
  /** No bucket or far timer is due before this; the near timers come before them all. */
  private horizon = Number.POSITIVE_INFINITY;
  private readonly buckets = new Map<number, Bucket<T>>();
  /** The buckets' milliseconds, the earliest on top. */
  private readonly keys = new TimerHeap<number>();
  private bucketed = 0;
  private readonly far = new TimerHeap<T>();
  /** Timers in all tiers: the loop asks at every iteration, so it is kept rather than summed. */
  private size = 0;

  get length(): number {
    return this.size;
  }

  /** Adds `item`, due at `time`, set `delay` ms ahead (+Infinity when not known). */
  push(item: T, time: number, seq: number, delay: number): void {
    this.size++;
    if (time < this.horizon) {
      if (this.run.length > 0 || this.near.length > 0) {
        this.near.push(item, time, seq);
        return;
      }
      // Nothing is below the horizon: it can move down to this timer's millisecond.
      this.horizon = Math.floor(time);
    }
    if (!(delay < WINDOW_MS) || !Number.isFinite(time)) {
      this.far.push(item, time, seq);
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
    if (this.size === 0) return undefined;
    return this.runFirst() ? this.run.peek() : this.near.peek();
  }

  pop(): T | undefined {
    if (this.size === 0) return undefined;
    this.size--;
    return this.runFirst() ? this.run.shift() : this.near.pop();
  }

  /**
   * The item due first, taken if its time is at most `time`; else undefined.
   * One look at the tiers and at the stored time, not the item's own: a loop
   * collecting due timers would otherwise read each one from memory twice.
   */
  popDue(time: number): T | undefined {
    if (this.size === 0) return undefined;
    const fromRun = this.runFirst();
    if ((fromRun ? this.run.headTime() : this.near.peekTime()) > time) return undefined;
    this.size--;
    return fromRun ? this.run.shift() : this.near.pop();
  }

  /** True when the first item is the run's, false when it is the near heap's (or there is none). */
  private runFirst(): boolean {
    const run = this.run;
    const near = this.near;
    if (run.length === 0 && near.length === 0) this.advance();
    if (run.length === 0) return false;
    if (near.length === 0) return true;
    const rt = run.headTime();
    const nt = near.peekTime();
    return rt < nt || (rt === nt && run.headSeq() < near.peekSeq());
  }

  /** Keeps only the items for which `keep` is true, in their order. */
  filter(keep: (item: T) => boolean): void {
    this.run.filter(keep);
    this.near.filter(keep);
    this.far.filter(keep);
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
    this.size = this.run.length + this.near.length + this.bucketed + this.far.length;
  }

  clear(): void {
    this.run.clear();
    this.near.clear();
    this.buckets.clear();
    this.keys.clear();
    this.bucketed = 0;
    this.far.clear();
    this.size = 0;
  }

  /** The near timers ran out: the earliest millisecond with a timer becomes them. */
  private advance(): void {
    const near = this.near;
    const far = this.far;
    const first = this.keys.peek();
    const farTime = far.peekTime();
    if (first !== undefined && first <= Math.floor(farTime)) {
      this.keys.pop();
      const { items, times, seqs } = this.buckets.get(first) as Bucket<T>;
      this.buckets.delete(first);
      this.bucketed -= items.length;
      this.run.load(items, times, seqs, first);
      this.horizon = first + 1;
    } else if (far.length > 0) {
      far.popInto(near);
      this.horizon = Math.floor(farTime) + 1; // ±Infinity stays itself
    } else return;
    while (far.peekTime() < this.horizon) far.popInto(near);
  }
}
