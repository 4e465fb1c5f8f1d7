/**
 * Queues for coroutines, as asyncio's `queues` module: Queue (FIFO),
 * LifoQueue, PriorityQueue, with join()/taskDone() and shutdown().
 *
 * A getter cancelled at the moment it is woken leaves the item in the queue
 * and passes its wakeup to the next getter; the same holds for putters.
 */
import { type Coro, describe, type Suspend } from "./coro.js";
import { QueueEmpty, QueueFull, QueueShutDown } from "./errors.js";
import { waitingTask } from "./events.js";
import { doneStep, FINISHED, PENDING, waitOwner, waitStep, waitSteps } from "./futures.js";
import { Event, LoopBound } from "./locks.js";
import type { Task } from "./tasks.js";
import { type Op, thenable } from "./thenable.js";
import { Deque } from "./util/deque.js";
import { classNameOf } from "./util/inspect.js";
import { checkBooleanOption, checkFunction, checkNonNegative } from "./validate.js";
import { Waiter, WaiterLine } from "./waiters.js";

/** Wakes the first waiter that is still waiting, and forgets it. */
function wakeupNext(waiters: WaiterLine<void>): void {
  for (;;) {
    const waiter = waiters.shift();
    if (waiter === undefined) return;
    if (waiter._state === PENDING) {
      waiter._resolve(undefined);
      return;
    }
  }
}

/**
 * A first-in, first-out queue, as asyncio.Queue. With a `maxsize` above 0,
 * put() waits while the queue is full. Getters and putters are served in the
 * order they came.
 *
 * @example
 * ```ts
 * import { Queue, createTask, run } from "asynkit";
 * await run(function* () {
 *   const queue = new Queue<number>(1);
 *   const consumer = createTask((function* () {
 *     let sum = 0;
 *     for (let i = 0; i < 3; i++) { sum += yield* queue.get(); queue.taskDone(); }
 *     return sum;
 *   })());
 *   for (const x of [1, 2, 3]) yield* queue.put(x); // waits while the queue is full
 *   yield* queue.join();                            // until every item is processed
 *   console.log(yield* consumer);                   // 6
 * });
 * ```
 */
export class Queue<T> extends LoopBound {
  /** @internal */ readonly _maxsize: number;
  /** @internal */ _getters = new WaiterLine<void>();
  /** @internal */ _putters = new WaiterLine<void>();
  /** @internal */ _unfinishedTasks = 0;
  /** @internal */ _finished = new Event();
  /** @internal What its get() waits are called in the task tree (asCompleted() names its own). */
  _getName = "Queue.get()";
  /** @internal */ _isShutdown = false;
  private readonly _items: Deque<T> = new Deque<T>();

  /** A queue holding at most `maxsize` items (0, the default: unbounded); RangeError if negative. */
  constructor(maxsize = 0) {
    super();
    checkNonNegative(
      `new ${new.target.name}()`,
      "maxsize",
      maxsize,
      "pass 0 for no limit, or the most items it may hold",
    );
    this._maxsize = maxsize;
    this._finished.set();
    this._finished._waitName = "Queue.join()"; // the task tree names join()'s waits as its own
  }

  /** The most items the queue holds (0: unbounded). */
  get maxsize(): number {
    return this._maxsize;
  }

  /** How many items are in the queue. */
  qsize(): number {
    return this._size();
  }

  /** True when the queue holds no items. */
  empty(): boolean {
    return this._size() === 0;
  }

  /** True when put() would wait. */
  full(): boolean {
    return this._maxsize > 0 && this._size() >= this._maxsize;
  }

  /** Puts `item` in, waiting while the queue is full. QueueShutDown after shutdown(). */
  put(item: T): Op<void> {
    return new QueueWait<T, void>(this, PUT, item) as unknown as Op<void>;
  }

  /** Puts `item` in without waiting; QueueFull if the queue is full, QueueShutDown after shutdown(). */
  putNowait(item: T): void {
    this._putNow(item, "putNowait");
  }

  /** @internal putNowait(), or put() with room: `call` names which in a QueueShutDown. */
  _putNow(item: T, call: string): void {
    if (this._isShutdown) throw shutDownError(call);
    if (this.full()) {
      throw new QueueFull(
        `Queue is full (maxsize ${this._maxsize}): use yield* queue.put(item) (await in an async function) to wait for space.`,
      );
    }
    this._put(item);
    this._unfinishedTasks++;
    if (this._finished._value) this._finished.clear();
    if (this._getters.length > 0) wakeupNext(this._getters);
  }

  /**
   * Takes the next item, waiting while the queue is empty. QueueShutDown once
   * the queue is shut down and empty.
   */
  get(): Op<T> {
    return new QueueWait<T, T>(this, GET, undefined) as unknown as Op<T>;
  }

  /** Takes the next item without waiting; QueueEmpty if there is none (QueueShutDown once shut down). */
  getNowait(): T {
    if (this._size() === 0) {
      if (this._isShutdown) throw shutDownError("getNowait");
      throw new QueueEmpty(
        "Queue is empty: use yield* queue.get() (await in an async function) to wait for an item.",
      );
    }
    const item = this._get();
    if (this._putters.length > 0) wakeupNext(this._putters);
    return item;
  }

  /**
   * Marks one item taken by get() as processed; join() returns once every item
   * put in is. RangeError if called more often than items were put.
   */
  taskDone(): void {
    if (this._unfinishedTasks <= 0) {
      throw new RangeError(
        "taskDone() called too many times: call it once for each item taken with get().",
      );
    }
    this._unfinishedTasks--;
    if (this._unfinishedTasks === 0) this._finished.set();
  }

  /** Waits until every item put in has been marked processed with taskDone(). */
  join(): Op<void>;
  *join(): Coro<void> {
    if (this._unfinishedTasks > 0) yield* this._finished.wait();
  }

  /**
   * Shuts the queue down: put() raises QueueShutDown, and get() does once the
   * queue is empty. With `immediate`, the items left are dropped (counted as
   * done for join()) and get() raises at once. Waiting putters and getters wake.
   */
  shutdown(immediate = false): void {
    checkBooleanOption("queue.shutdown()", "immediate", immediate);
    this._isShutdown = true;
    if (immediate) {
      this._unfinishedTasks = Math.max(0, this._unfinishedTasks - this._dropAll());
      if (this._unfinishedTasks === 0) this._finished.set();
    }
    // Every waiter wakes and re-checks, to raise QueueShutDown.
    for (let getter = this._getters.shift(); getter; getter = this._getters.shift()) {
      if (getter._state === PENDING) getter._resolve(undefined);
    }
    for (let putter = this._putters.shift(); putter; putter = this._putters.shift()) {
      if (putter._state === PENDING) putter._resolve(undefined);
    }
  }

  override toString(): string {
    let extra = `maxsize=${this._maxsize}`;
    if (this._size() > 0) extra += ` qsize=${this._size()}`;
    if (this._getters.waiting > 0) extra += ` getters[${this._getters.waiting}]`;
    if (this._putters.waiting > 0) extra += ` putters[${this._putters.waiting}]`;
    if (this._unfinishedTasks > 0) extra += ` tasks=${this._unfinishedTasks}`;
    if (this._isShutdown) extra += " shutdown";
    return `<${classNameOf(this)} ${extra}>`;
  }

  // The storage: subclasses override these three to change the order.

  /** @internal */
  _size(): number {
    return this._items.length;
  }

  /** @internal Drops every item (shutdown(true)) and says how many; through _get(), which a subclass may have. */
  _dropAll(): number {
    let dropped = 0;
    for (; this._size() > 0; dropped++) this._get();
    return dropped;
  }

  /** @internal */
  _put(item: T): void {
    this._items.push(item);
  }

  /** @internal */
  _get(): T {
    return this._items.shift() as T;
  }
}

function shutDownError(operation: string): QueueShutDown {
  return new QueueShutDown(`${operation}() on a queue that was shut down.`);
}

const GET = 0;
const PUT = 1;
/** A call that took or put its item: awaited again, it gives undefined, as a finished generator does. */
const OVER = 2;
/** By kind: the call's name (its future's label in deadlock reports: queue._getName, or PUT_LABEL). */
const NAMES = ["get", "put"] as const;
const PUT_LABEL = "Queue.put()";

/**
 * `yield* queue.get()` and `yield* queue.put(item)`, written as an iterator
 * rather than a generator, as Event.wait is: a hand-off through a queue is one
 * object per call, and its own pending step. It waits on a future of its own
 * while the queue is empty (get) or full (put), and tries again once woken; a
 * wait that ends otherwise (cancelled, thrown into, closed) leaves the line of
 * waiters, and passes a wakeup it took on to the next waiter.
 */
class QueueWait<T, R> {
  readonly done = false;
  /** The future it waits on, while it waits. */
  value: Waiter<void> | null = null;
  /** The task whose wait it is, while it waits: another one's yield* of it is refused. */
  private by: Task<unknown> | null = null;

  constructor(
    private readonly queue: Queue<T>,
    private kind: typeof GET | typeof PUT | typeof OVER,
    private readonly item: T | undefined,
  ) {}

  next(): IteratorResult<Suspend, R> {
    const waited = this.value;
    if (waited !== null) {
      const call = this.kind === GET ? "Queue.get()" : PUT_LABEL;
      this.by = waitOwner(this.by, waited._loop._currentTask, waited, call);
      if (waited._state !== FINISHED) {
        // Cancelled: leave, then raise what the wait gives.
        this._leave();
        return waitStep(waited, true) as IteratorResult<Suspend, R>;
      }
    }
    this.value = null;
    const queue = this.queue;
    const kind = this.kind;
    if (kind === GET) {
      if (queue._size() === 0) return this._wait(queue._getters, GET);
      this.kind = OVER;
      return doneStep(queue.getNowait() as unknown as R);
    }
    if (kind === OVER) return doneStep(undefined as R);
    if (queue.full()) return this._wait(queue._putters, PUT);
    queue._putNow(this.item as T, "put");
    this.kind = OVER;
    return doneStep(undefined as R);
  }

  throw(error: unknown): never {
    this._leave();
    throw error;
  }

  return(value: R): IteratorResult<Suspend, R> {
    this._leave();
    return { done: true, value };
  }

  [Symbol.iterator](): this {
    return this;
  }

  /** Joins `waiters`, the line of its `kind` of call, on a future of its own. */
  private _wait(
    waiters: WaiterLine<void>,
    kind: typeof GET | typeof PUT,
  ): IteratorResult<Suspend, R> {
    const queue = this.queue;
    if (queue._isShutdown) throw shutDownError(NAMES[kind]);
    const fut = new Waiter<void>(queue._getLoop(), kind === GET ? queue._getName : PUT_LABEL);
    waiters.push(fut);
    this.value = fut;
    this.by = waitingTask(fut._loop);
    return waitStep(fut, false, this as IteratorYieldResult<Suspend>) as IteratorResult<Suspend, R>;
  }

  /** Stops waiting: a wakeup it was given but will not use goes to the next waiter. */
  private _leave(): void {
    const waited = this.value;
    if (waited === null) return;
    this.value = null;
    const queue = this.queue;
    const get = this.kind === GET;
    const waiters = get ? queue._getters : queue._putters;
    waiters.remove(waited);
    // Woken, it could go on now (an item to take, room to put one), but will not: pass it
    // on. One that was not woken (cancelled, or interrupted while it waited) has nothing to pass.
    const canGo = get ? queue._size() > 0 : !queue.full();
    if (canGo && waited._state === FINISHED) wakeupNext(waiters);
  }
}

waitSteps(QueueWait);
thenable(QueueWait);

/**
 * A last-in, first-out queue (a stack), as asyncio.LifoQueue.
 *
 * @example
 * ```ts
 * import { LifoQueue } from "asynkit";
 * const stack = new LifoQueue<number>();
 * stack.putNowait(1); stack.putNowait(2);
 * console.log(stack.getNowait()); // 2
 * ```
 */
export class LifoQueue<T> extends Queue<T> {
  private readonly _stack: T[] = [];

  /** @internal */
  override _size(): number {
    return this._stack.length;
  }

  /** @internal */
  override _put(item: T): void {
    this._stack.push(item);
  }

  /** @internal */
  override _get(): T {
    return this._stack.pop() as T;
  }
}

/**
 * Python's ordering for the default PriorityQueue: numbers and bigints, or
 * strings, by `<`, arrays (such as `[priority, item]`) element by element.
 * Anything else cannot be ordered, as in Python: a TypeError. NaN is kept
 * out at put() (see hasNaN).
 */
function defaultCompare(a: unknown, b: unknown): number {
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const c = defaultCompare(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  if (!(typeof a === "string" ? typeof b === "string" : isNumeric(a) && isNumeric(b))) {
    throw new TypeError(
      `PriorityQueue cannot order ${describe(a)} and ${describe(b)}: without a compare function it orders numbers, strings and arrays of them, as Python does. Pass one, e.g. new PriorityQueue(0, (a, b) => a.priority - b.priority).`,
    );
  }
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

/**
 * NaN, alone or in an array, is neither below nor above anything: it would
 * sit anywhere in the heap, where Python lets it in. Almost always a priority
 * computed from undefined.
 */
function hasNaN(item: unknown): boolean {
  return Array.isArray(item) ? item.some(hasNaN) : Number.isNaN(item);
}

function isNumeric(x: unknown): boolean {
  return typeof x === "number" || typeof x === "bigint";
}

/**
 * A queue that hands out its smallest item first, as asyncio.PriorityQueue.
 * Items are ordered by `compare` (negative: a first), by default as Python
 * orders them: numbers and strings by `<`, arrays like `[priority, data]`
 * element by element; an item it cannot order so (an object, a string beside
 * numbers) is refused with a TypeError. Equal items come out in no particular
 * order.
 *
 * @example
 * ```ts
 * import { PriorityQueue } from "asynkit";
 * const jobs = new PriorityQueue<[number, string]>();
 * jobs.putNowait([2, "later"]); jobs.putNowait([1, "first"]);
 * console.log(jobs.getNowait()); // [1, "first"]
 * const byDeadline = new PriorityQueue<{ due: number }>(0, (a, b) => a.due - b.due);
 * ```
 */
export class PriorityQueue<T> extends Queue<T> {
  private readonly _heap: T[] = [];
  private readonly _compare: (a: T, b: T) => number;

  /** `maxsize` as for Queue; `compare` as for Array.prototype.sort. */
  constructor(maxsize = 0, compare?: (a: T, b: T) => number) {
    super(maxsize);
    if (compare !== undefined) {
      checkFunction(
        "new PriorityQueue()",
        "compare",
        compare,
        "pass (a, b) => number, as for Array.prototype.sort, or nothing",
      );
    }
    this._compare = compare ?? defaultCompare;
  }

  /** @internal */
  override _size(): number {
    return this._heap.length;
  }

  /** @internal In one go, with no comparison: items that cannot be ordered are dropped too. */
  override _dropAll(): number {
    const dropped = this._heap.length;
    this._heap.length = 0;
    return dropped;
  }

  /**
   * @internal Sift up, its comparisons before its writes: an item that
   * cannot be ordered (the compare throws) leaves the queue as it was.
   */
  override _put(item: T): void {
    if (this._compare === defaultCompare && hasNaN(item)) {
      throw new TypeError(
        `PriorityQueue cannot order ${describe(item)}: NaN has no place in an order (a priority computed from undefined?).`,
      );
    }
    const heap = this._heap;
    let levels = 0;
    for (let i = heap.length; i > 0; i = (i - 1) >> 1, levels++) {
      if (this._compare(item, heap[(i - 1) >> 1] as T) >= 0) break;
    }
    let i = heap.length;
    heap.push(item);
    for (; levels > 0; levels--) {
      const parent = (i - 1) >> 1;
      heap[i] = heap[parent] as T;
      i = parent;
    }
    heap[i] = item;
  }

  /**
   * @internal Take the top, sift the last item down. Items that were never
   * compared with each other meet here (`[2, "a"]` and `[2, 5]`): a compare
   * that throws puts every item back where it was, and the get fails.
   */
  override _get(): T {
    const heap = this._heap;
    const top = heap[0] as T;
    const last = heap.pop() as T;
    const n = heap.length;
    if (n === 0) return top;
    let i = 0;
    try {
      for (;;) {
        let child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && this._compare(heap[child + 1] as T, heap[child] as T) < 0) child++;
        const c = heap[child] as T;
        if (this._compare(c, last) >= 0) break;
        heap[i] = c;
        i = child;
      }
    } catch (error) {
      // Each place on the path down holds its child's item: move them back.
      for (let j = i; j > 0; ) {
        const parent = (j - 1) >> 1;
        heap[j] = heap[parent] as T;
        j = parent;
      }
      heap[0] = top;
      heap.push(last);
      throw error;
    }
    heap[i] = last;
    return top;
  }
}

thenable(Queue.prototype.join);
