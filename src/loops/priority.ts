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
import { TimerHeap } from "../util/heap.js";
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
 * waits at most the rest of the period it arrived in and one whole period
 * before it is raised to run next, with the others passed over as long.
 * Deterministic: the same program gives the same order.
 */
export const STARVATION_BOUND = 64;

/** How many buckets may fill or empty with no position asked before the order of them is dropped. */
const ORDERED_EDITS = 16;

/** The entries of one priority, in order of arrival, with when each arrived. */
class Bucket {
  readonly entries = new Deque<Entry>();
  readonly arrivals = new Deque<number>();
  /** In `best`: an emptied bucket leaves it when it comes up there, and comes back when refilled. */
  queued = false;
  constructor(readonly priority: number) {}
}

/**
 * @internal A ready queue in two parts: the entries placed at a position (readyInsert,
 * taskSwitch, sleepInsert, …), in the order they were placed, which run
 * first; then the rest in one first-in-first-out bucket per priority, the
 * buckets in order of priority. Taking the next entry and adding one cost
 * O(log k) for k distinct priorities, through a heap of the buckets (a
 * sorted array of them cost O(k) to make or empty one, which every switch
 * does when each task has a priority of its own); a binary heap over all
 * entries was O(log n) in theory but cost 12 times as much at 100k entries
 * as at 100, in cache misses. A position (the scheduling API's) walks the
 * buckets in order, from where the last one was found or from the nearer end.
 */
export class PriorityReadyQueue implements ReadyQueue<Entry> {
  private readonly placed = new Deque<Entry>();
  /**
   * The buckets by priority, emptied ones too (kept for their priority's next
   * entry, up to a bound), so a priority that comes and goes makes no bucket
   * each time.
   */
  private readonly buckets = new Map<number, Bucket>();
  /** The buckets with entries, best priority on top, and emptied ones not yet come up. */
  private readonly best = new TimerHeap<Bucket>();
  /** How many buckets have entries. */
  private filled = 0;
  /**
   * The buckets with entries in order of priority, made when a position is
   * asked for, and kept in order from then on as buckets fill and empty.
   */
  private ordered: Bucket[] | null = null;
  /**
   * Where the last position asked for was found (the bucket's index in
   * `ordered`, and how many entries come before it): a walk over the queue's
   * positions in order finds each from there, not from the first bucket.
   * -1 once an entry came or went.
   */
  private cursorBucket = -1;
  private cursorBefore = 0;
  /** Buckets filled or emptied since a position was last asked: see reorder(). */
  private editsUnasked = 0;
  private inBuckets = 0;
  private arrived = 0;
  /** Picks in the starvation guard's current period, and how many it lasts. */
  private picks = 0;
  private period = STARVATION_BOUND;
  /** The arrival number the current period began at. */
  private periodStart = 0;

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
    let entry: Entry | undefined;
    if (this.placed.length > 0) entry = this.placed.shift();
    else if (this.inBuckets > 0) entry = this.takeFrom(this.first(), 0);
    else return undefined;
    // Once a pick ends the period, what it raises shows at position 0 before it runs.
    if (++this.picks >= this.period) this.endPeriod();
    return entry;
  }

  pop(): Entry | undefined {
    if (this.inBuckets === 0) return this.placed.pop();
    const ordered = this.inOrder();
    const last = ordered[ordered.length - 1] as Bucket;
    return this.takeFrom(last, last.entries.length - 1);
  }

  get(index: number): Entry {
    const placed = this.placed.length;
    if (index < placed) return this.placed.get(index);
    const [bucket, at] = this.locate(index - placed);
    return bucket.entries.get(at);
  }

  set(index: number, entry: Entry): void {
    const placed = this.placed.length;
    if (index < placed) {
      this.placed.set(index, entry);
      return;
    }
    const [bucket, at] = this.locate(index - placed);
    bucket.entries.set(at, entry);
  }

  /**
   * Puts `entry` at `index`: the entries before it are placed too, in their
   * order, so it runs after exactly `index` others whatever its priority
   * (asynkit's "immediate" placement).
   */
  insert(index: number, entry: Entry): void {
    const placed = this.placed;
    while (placed.length < index && this.inBuckets > 0) {
      placed.push(this.takeFrom(this.first(), 0));
    }
    placed.insert(Math.min(index, placed.length), entry);
  }

  removeAt(index: number): Entry {
    const placed = this.placed.length;
    if (index < placed) return this.placed.removeAt(index);
    const [bucket, at] = this.locate(index - placed);
    return this.takeFrom(bucket, at);
  }

  /**
   * Python's deque.rotate on the order of running; the result is placed as it
   * stands. Only the entries not placed yet move to be placed, so rotating
   * again costs the rotation, not the queue's length.
   */
  rotate(n: number): void {
    const placed = this.placed;
    while (this.inBuckets > 0) placed.push(this.takeFrom(this.first(), 0));
    placed.rotate(n);
  }

  clear(): void {
    this.placed.clear();
    this.buckets.clear();
    this.best.clear();
    this.ordered = null;
    this.cursorBucket = -1;
    this.filled = 0;
    this.inBuckets = 0;
  }

  toArray(): Entry[] {
    const all = this.placed.toArray();
    for (const bucket of this.inOrder()) all.push(...bucket.entries.toArray());
    return all;
  }

  /**
   * @internal A task's entry moves to the end of its new priority's bucket,
   * unless placed. `before`, the priority it had, names the bucket to search
   * first (its entry went there, unless a change came unannounced).
   */
  reprioritize(task: Task, before?: number): void {
    // A task that is done, running, blocked or on the host has no entry: no search for one.
    if (task._state !== PENDING || task._loop._currentTask === task || task._blockedOnHost) return;
    const waitingFor = task._futWaiter;
    if (waitingFor !== null && waitingFor._state === PENDING) return;
    const likely = before === undefined ? undefined : this.buckets.get(before);
    if (likely !== undefined && this.moveFrom(likely, task)) return;
    for (const bucket of this.buckets.values()) {
      if (bucket !== likely && this.moveFrom(bucket, task)) return;
    }
  }

  /** Moves `task`'s entry out of `bucket` to its priority's, if it is there; true if it was. */
  private moveFrom(bucket: Bucket, task: Task): boolean {
    const i = indexIn(bucket.entries, (entry) => taskOfEntry(entry) === task);
    if (i < 0) return false;
    const priority = effectivePriority(task);
    // Unchanged (a waiter that lends no better): it keeps its place among its equals.
    if (priority !== bucket.priority) this.append(this.takeFrom(bucket, i), priority);
    return true;
  }

  /**
   * @internal The position of the entry `matches` accepts, or -1. Searched
   * where it should be: among the placed entries and in the bucket of
   * `priority` (its end holds the entries just queued) at once, from the ends
   * of both, and only then in the others, so a search costs the entry's
   * distance from an end of its line, not the whole queue's length (an entry
   * just queued is found at once behind 100k placed by a readyRotate()).
   */
  indexWhere(matches: (entry: Entry) => boolean, priority: number): number {
    const placed = this.placed;
    const likely = this.buckets.get(priority);
    const found = indexInEither(placed, likely?.entries, matches);
    if (found >= 0) return found;
    // Found in the likely bucket: its position counts the buckets before it, unsearched.
    const inLikely = found === NOT_FOUND ? -1 : -2 - found;
    let before = placed.length;
    for (const bucket of this.inOrder()) {
      if (bucket === likely) {
        if (inLikely >= 0) return before + inLikely;
      } else if (inLikely < 0) {
        const i = indexIn(bucket.entries, matches);
        if (i >= 0) return before + i;
      }
      before += bucket.entries.length;
    }
    return -1;
  }

  private append(entry: Entry, priority: number): void {
    let bucket = this.buckets.get(priority);
    if (bucket === undefined) {
      bucket = new Bucket(priority);
      this.buckets.set(priority, bucket);
    }
    if (bucket.entries.length === 0) {
      if (!bucket.queued) {
        bucket.queued = true;
        this.best.push(bucket, priority, 0);
      }
      this.filled++;
      if (this.ordered !== null) this.reorder(bucket, true);
    }
    bucket.entries.push(entry);
    bucket.arrivals.push(this.arrived++);
    this.inBuckets++;
    this.cursorBucket = -1;
  }

  /** The bucket of best priority; only when some bucket has an entry. */
  private first(): Bucket {
    const best = this.best;
    let top = best.peek() as Bucket;
    while (top.entries.length === 0) {
      best.pop();
      top.queued = false;
      top = best.peek() as Bucket;
    }
    return top;
  }

  /** Takes entry `at` of `bucket`, dropping the bucket once empty. */
  private takeFrom(bucket: Bucket, at: number): Entry {
    const entry = at === 0 ? (bucket.entries.shift() as Entry) : bucket.entries.removeAt(at);
    if (at === 0) bucket.arrivals.shift();
    else bucket.arrivals.removeAt(at);
    this.inBuckets--;
    this.cursorBucket = -1;
    if (bucket.entries.length === 0) this.bucketEmptied(bucket);
    return entry;
  }

  /** `bucket` has no entry left: it stays, in `best` until it comes up there, and in `buckets`. */
  private bucketEmptied(bucket: Bucket): void {
    this.filled--;
    if (this.ordered !== null) this.reorder(bucket, false);
    // Once the empty buckets are most of them, they go (all priorities used once would
    // otherwise stay), and `best` is made anew from the rest.
    if (this.buckets.size > 2 * this.filled + 64) {
      this.best.clear();
      for (const [priority, left] of this.buckets) {
        left.queued = left.entries.length > 0;
        if (left.queued) this.best.push(left, priority, 0);
        else this.buckets.delete(priority);
      }
    }
  }

  /**
   * `bucket` was filled (or emptied): it goes into `ordered` (or leaves it),
   * a splice, O(k) but a memmove; after ORDERED_EDITS such changes with no
   * position asked, `ordered` is dropped instead, to be sorted again when one
   * is (O(k log k)), so a loop that once asked keeps no O(k) cost on every switch.
   */
  private reorder(bucket: Bucket, filled: boolean): void {
    const ordered = this.ordered as Bucket[];
    if (++this.editsUnasked > ORDERED_EDITS) this.ordered = null;
    else if (filled) ordered.splice(orderedIndex(ordered, bucket.priority), 0, bucket);
    else ordered.splice(orderedIndex(ordered, bucket.priority), 1);
  }

  /** The buckets with entries, in order of priority. */
  private inOrder(): Bucket[] {
    this.editsUnasked = 0;
    if (this.ordered === null) {
      const filled: Bucket[] = [];
      for (const bucket of this.buckets.values())
        if (bucket.entries.length > 0) filled.push(bucket);
      this.ordered = filled.sort((a, b) => a.priority - b.priority);
    }
    return this.ordered;
  }

  /** The bucket and position of the `index`-th entry after the placed ones. */
  private locate(index: number): [Bucket, number] {
    const ordered = this.inOrder();
    let b = 0;
    let before = 0;
    if (this.cursorBucket >= 0 && index >= this.cursorBefore) {
      b = this.cursorBucket;
      before = this.cursorBefore;
    } else if (index >= this.inBuckets / 2) {
      // Nearer the end (readyPop() takes the last): walk in from there.
      before = this.inBuckets;
      for (b = ordered.length - 1; b > 0; b--) {
        before -= (ordered[b] as Bucket).entries.length;
        if (index >= before) break;
      }
      if (b === 0) before = 0;
    }
    for (; b < ordered.length; b++) {
      const bucket = ordered[b] as Bucket;
      const length = bucket.entries.length;
      if (index - before < length) {
        this.cursorBucket = b;
        this.cursorBefore = before;
        return [bucket, index - before];
      }
      before += length;
    }
    throw new RangeError(`no entry at position ${index} of the ready queue`);
  }

  /**
   * The starvation guard, at the end of a period of picks (STARVATION_BOUND,
   * or the queue's length when it began if more): the entries that arrived
   * before it began, passed over all of it, are placed to run next, oldest
   * first. (Those of the best priority queued now count too: the pick that
   * ends the period has taken its entry, which may be back before the next.)
   */
  private endPeriod(): void {
    const oldest = this.periodStart;
    const stragglers: { entry: Entry; arrival: number }[] = [];
    const ordered = this.inOrder();
    for (let b = ordered.length - 1; b >= 0; b--) {
      const bucket = ordered[b] as Bucket;
      while (bucket.entries.length > 0 && (bucket.arrivals.get(0) as number) < oldest) {
        const arrival = bucket.arrivals.get(0) as number;
        stragglers.push({ entry: this.takeFrom(bucket, 0), arrival });
      }
    }
    stragglers.sort((x, y) => x.arrival - y.arrival);
    for (const { entry } of stragglers) this.placed.push(entry);
    this.picks = 0;
    this.periodStart = this.arrived;
    this.period = Math.max(STARVATION_BOUND, this.length);
  }
}

const NOT_FOUND = -1;

/**
 * Where `matches` accepts an entry of `first` or `second`, searched from the
 * four ends at once: its position in `first`; -2 - its position in `second`;
 * or NOT_FOUND.
 */
function indexInEither(
  first: Deque<Entry>,
  second: Deque<Entry> | undefined,
  matches: (entry: Entry) => boolean,
): number {
  const n1 = first.length;
  const n2 = second === undefined ? 0 : second.length;
  for (let front = 0; front <= n1 - 1 - front || front <= n2 - 1 - front; front++) {
    const back1 = n1 - 1 - front;
    if (front <= back1) {
      if (matches(first.get(back1))) return back1;
      if (matches(first.get(front))) return front;
    }
    const back2 = n2 - 1 - front;
    if (front <= back2) {
      if (matches((second as Deque<Entry>).get(back2))) return -2 - back2;
      if (matches((second as Deque<Entry>).get(front))) return -2 - front;
    }
  }
  return NOT_FOUND;
}

/** The position in `entries` of the one `matches` accepts, searched from both ends at once; or -1. */
function indexIn(entries: Deque<Entry>, matches: (entry: Entry) => boolean): number {
  return indexInEither(entries, undefined, matches);
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
    _priorityChanged(task: Task, before?: number): void {
      (this._ready as PriorityReadyQueue).reprioritize(task, before);
    }

    /** @internal SchedulingMixin's, looking first where the queue files the entry: by its priority. */
    _findEntry(handle: Handle | null, task: Task | null): number {
      const priority = task !== null ? effectivePriority(task) : priorityOf(handle as Handle);
      return (this._ready as PriorityReadyQueue).indexWhere(
        (entry) => entry === handle || (task !== null && taskOfEntry(entry) === task),
        priority,
      );
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

/** Where a bucket of `priority` is, or goes, in `ordered` (sorted by priority): a binary search. */
function orderedIndex(ordered: readonly Bucket[], priority: number): number {
  let low = 0;
  let high = ordered.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((ordered[middle] as Bucket).priority < priority) low = middle + 1;
    else high = middle;
  }
  return low;
}
