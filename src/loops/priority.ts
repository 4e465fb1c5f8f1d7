/**
 * Priority scheduling loops (asynkit's PrioritySchedulingMixin): the ready
 * entry of best effective priority runs next, first in, first out among
 * equals, with the SchedulingMixin operations still meaning what they say.
 */
import type { Handle, ReadyEntry } from "../events.js";
import { PENDING } from "../futures.js";
import { effectivePriority, type PriorityListener } from "../priority.js";
import type { Task } from "../tasks.js";
import { taskOfEntry, timerTask } from "../tasktree.js";
import { Deque, type ReadyQueue } from "../util/deque.js";
import { HostEventLoop } from "./host.js";
import {
  checkLoopClass,
  type LoopConstructor,
  type SchedulingLoop,
  SchedulingMixin,
} from "./scheduling.js";
import { VirtualEventLoop } from "./virtual.js";

type Entry = Handle | ReadyEntry;

/**
 * How often, in picks, the starvation guard looks for entries passed over
 * since the look before (or every queue's length of picks, if that is more,
 * so a long queue of better entries is still worked through first): an entry
 * waits at most about twice this many picks before it is raised to run next.
 * Deterministic: the same program gives the same order.
 */
export const STARVATION_BOUND = 64;

/** The entries of one priority, in order of arrival, with when each arrived. */
class Bucket {
  readonly entries = new Deque<Entry>();
  readonly arrivals = new Deque<number>();
  constructor(readonly priority: number) {}
}

/**
 * @internal A ready queue in two parts: the entries placed at a position (readyInsert,
 * taskSwitch, sleepInsert, …), in the order they were placed, which run
 * first; then the rest in one first-in-first-out bucket per priority, the
 * buckets in order of priority. Taking the next entry is O(1), adding one
 * O(log k) for k distinct priorities (a few, in most programs): a binary heap
 * over all entries was O(log n) in theory but cost 12 times as much at 100k
 * entries as at 100, in cache misses.
 */
export class PriorityReadyQueue implements ReadyQueue<Entry> {
  private readonly placed = new Deque<Entry>();
  /** The non-empty buckets, best priority first. */
  private buckets: Bucket[] = [];
  private inBuckets = 0;
  private arrived = 0;
  private picks = 0;

  get length(): number {
    return this.placed.length + this.inBuckets;
  }

  push(entry: Entry): void {
    this.append(entry, priorityOf(entry));
  }

  unshift(entry: Entry): void {
    this.placed.unshift(entry);
  }

  shift(): Entry | undefined {
    if (this.placed.length > 0) return this.placed.shift();
    if (this.inBuckets === 0) return undefined;
    if (++this.picks >= Math.max(STARVATION_BOUND, this.inBuckets)) this.raiseStragglers();
    if (this.placed.length > 0) return this.placed.shift();
    return this.takeFrom(0, 0);
  }

  pop(): Entry | undefined {
    const last = this.buckets.length - 1;
    if (last < 0) return this.placed.pop();
    return this.takeFrom(last, (this.buckets[last] as Bucket).entries.length - 1);
  }

  get(index: number): Entry {
    const placed = this.placed.length;
    if (index < placed) return this.placed.get(index);
    const [bucket, at] = this.locate(index - placed);
    return (this.buckets[bucket] as Bucket).entries.get(at);
  }

  set(index: number, entry: Entry): void {
    const placed = this.placed.length;
    if (index < placed) {
      this.placed.set(index, entry);
      return;
    }
    const [bucket, at] = this.locate(index - placed);
    (this.buckets[bucket] as Bucket).entries.set(at, entry);
  }

  /**
   * Puts `entry` at `index`: the entries before it are placed too, in their
   * order, so it runs after exactly `index` others whatever its priority
   * (asynkit's "immediate" placement).
   */
  insert(index: number, entry: Entry): void {
    const placed = this.placed;
    while (placed.length < index && this.inBuckets > 0) placed.push(this.takeFrom(0, 0));
    placed.insert(Math.min(index, placed.length), entry);
  }

  removeAt(index: number): Entry {
    const placed = this.placed.length;
    if (index < placed) return this.placed.removeAt(index);
    const [bucket, at] = this.locate(index - placed);
    return this.takeFrom(bucket, at);
  }

  /** Python's deque.rotate on the order of running; the result is placed as it stands. */
  rotate(n: number): void {
    const order = this.toArray();
    this.clear();
    for (const entry of order) this.placed.push(entry);
    this.placed.rotate(n);
  }

  clear(): void {
    this.placed.clear();
    this.buckets = [];
    this.inBuckets = 0;
  }

  toArray(): Entry[] {
    const all = this.placed.toArray();
    for (const bucket of this.buckets) all.push(...bucket.entries.toArray());
    return all;
  }

  /** @internal A task's entry moves to the end of its new priority's bucket, unless placed. */
  reprioritize(task: Task): void {
    // A task that is done, running, blocked or on the host has no entry: no search for one.
    if (task._state !== PENDING || task._loop._currentTask === task || task._blockedOnHost) return;
    const waitingFor = task._futWaiter;
    if (waitingFor !== null && waitingFor._state === PENDING) return;
    for (let b = 0; b < this.buckets.length; b++) {
      const entries = (this.buckets[b] as Bucket).entries;
      for (let i = 0; i < entries.length; i++) {
        const entry = entries.get(i);
        if (taskOfEntry(entry) === task) {
          const priority = effectivePriority(task);
          // Unchanged (a waiter that lends no better): it keeps its place among its equals.
          if (priority === (this.buckets[b] as Bucket).priority) return;
          this.takeFrom(b, i);
          this.append(entry, priority);
          return;
        }
      }
    }
  }

  private append(entry: Entry, priority: number): void {
    const buckets = this.buckets;
    // The first bucket of this priority or worse, by binary search: O(log k) for k priorities.
    let b = 0;
    for (let end = buckets.length; b < end; ) {
      const mid = (b + end) >> 1;
      if ((buckets[mid] as Bucket).priority < priority) b = mid + 1;
      else end = mid;
    }
    let bucket = buckets[b];
    if (bucket === undefined || bucket.priority !== priority) {
      bucket = new Bucket(priority);
      buckets.splice(b, 0, bucket);
    }
    bucket.entries.push(entry);
    bucket.arrivals.push(this.arrived++);
    this.inBuckets++;
  }

  /** Takes entry `at` of bucket `b`, dropping the bucket once empty. */
  private takeFrom(b: number, at: number): Entry {
    const bucket = this.buckets[b] as Bucket;
    const entry = at === 0 ? (bucket.entries.shift() as Entry) : bucket.entries.removeAt(at);
    if (at === 0) bucket.arrivals.shift();
    else bucket.arrivals.removeAt(at);
    if (bucket.entries.length === 0) this.buckets.splice(b, 1);
    this.inBuckets--;
    return entry;
  }

  /** The bucket and position of the `index`-th entry after the placed ones. */
  private locate(index: number): [number, number] {
    let rest = index;
    for (let b = 0; b < this.buckets.length; b++) {
      const length = (this.buckets[b] as Bucket).entries.length;
      if (rest < length) return [b, rest];
      rest -= length;
    }
    throw new RangeError(`no entry at position ${index} of the ready queue`);
  }

  /**
   * The starvation guard: the entries that arrived before the last
   * `max(STARVATION_BOUND, length)` picks began, passed over all that time,
   * are placed to run next, oldest first.
   */
  private raiseStragglers(): void {
    this.picks = 0;
    const oldest = this.arrived - Math.max(STARVATION_BOUND, this.inBuckets);
    const stragglers: { entry: Entry; arrival: number }[] = [];
    for (let b = this.buckets.length - 1; b >= 1; b--) {
      const bucket = this.buckets[b] as Bucket;
      while (bucket.entries.length > 0 && (bucket.arrivals.get(0) as number) < oldest) {
        const arrival = bucket.arrivals.get(0) as number;
        stragglers.push({ entry: this.takeFrom(b, 0), arrival });
        if (bucket.entries.length === 0) break;
      }
    }
    stragglers.sort((x, y) => x.arrival - y.arrival);
    for (const { entry } of stragglers) this.placed.push(entry);
  }
}

/**
 * The priority an entry is ordered by: its task's effective priority, and a
 * timer's for a task (a sleep's, a deadline's) its task's too, so that an
 * urgent task's deadline does not wait behind the urgent work it is there to
 * cut short; a plain callback has 0.
 */
function priorityOf(entry: Entry): number {
  const task = taskOfEntry(entry) ?? timerTask(entry);
  return task === null ? 0 : effectivePriority(task);
}

/**
 * Adds priority scheduling to an event loop class, on top of
 * {@link SchedulingMixin}: the ready entry of best effective priority runs
 * next (lower numbers first, FIFO among equals; callbacks have priority 0,
 * a task's timers the task's),
 * and an entry passed over for long is raised (STARVATION_BOUND).
 *
 * @example
 * ```ts
 * import { PriorityMixin, VirtualEventLoop } from "asynkit";
 * class MyPriorityLoop extends PriorityMixin(VirtualEventLoop) {}
 * const loop = new MyPriorityLoop();
 * ```
 */
export function PriorityMixin<B extends LoopConstructor>(
  base: B,
): B & LoopConstructor<SchedulingLoop> {
  checkLoopClass("PriorityMixin()", base);
  abstract class Priority extends SchedulingMixin(base) implements PriorityListener {
    // biome-ignore lint/suspicious/noExplicitAny: the mixin constructor passes its arguments on.
    constructor(...args: any[]) {
      super(...args);
      this._ready = new PriorityReadyQueue();
      this._readyInArrivalOrder = false;
    }

    /** @internal */
    _priorityChanged(task: Task): void {
      (this._ready as PriorityReadyQueue).reprioritize(task);
    }
  }
  return Priority;
}

/**
 * A {@link HostEventLoop} that runs the ready task of best priority first.
 *
 * @example
 * ```ts
 * import { PriorityHostEventLoop, createTask, run } from "asynkit";
 * await run(function* () {
 *   const low = createTask((function* () { console.log("background"); })(), { priority: "background" });
 *   const high = createTask((function* () { console.log("urgent"); })(), { priority: "user-blocking" });
 *   yield* low;
 *   yield* high;
 * }, { loopFactory: () => new PriorityHostEventLoop() }); // "urgent", then "background"
 * ```
 */
export class PriorityHostEventLoop extends PriorityMixin(HostEventLoop) {}

/**
 * A {@link VirtualEventLoop} that runs the ready task of best priority first:
 * the loop for deterministic tests of priorities.
 *
 * @example
 * ```ts
 * import { PriorityVirtualEventLoop, createTask } from "asynkit";
 * const loop = new PriorityVirtualEventLoop();
 * const order: string[] = [];
 * loop.runSync((function* () {
 *   const low = createTask((function* () { order.push("low"); })(), { priority: 10 });
 *   const high = createTask((function* () { order.push("high"); })(), { priority: -10 });
 *   yield* low;
 *   yield* high;
 * })());
 * console.log(order); // ["high", "low"]
 * ```
 */
export class PriorityVirtualEventLoop extends PriorityMixin(VirtualEventLoop) {}
