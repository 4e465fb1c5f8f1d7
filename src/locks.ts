/**
 * Synchronization primitives for coroutines, as asyncio's `locks` module:
 * Lock, Event, Condition, Semaphore, BoundedSemaphore and Barrier.
 *
 * Every primitive stays consistent when a waiter is cancelled at any point,
 * including between being woken and resuming: a wakeup that its waiter can no
 * longer take is passed on to the next waiter, never lost.
 */
import "./util/dispose.js";
import { type Coro, isGeneratorFunction, isLocalAsyncFunction, type Suspend } from "./coro.js";
import { BrokenBarrierError, CancelledError } from "./errors.js";
import { getRunningLoop, peekRunningLoop, waitingTask } from "./events.js";
import { FINISHED, PENDING, waitOwner, waitStep, waitSteps } from "./futures.js";
import type { BaseEventLoop } from "./loops/base.js";
import type { Task } from "./tasks.js";
import { taskLabel } from "./tasktree.js";
import { type Op, thenable } from "./thenable.js";
import { classNameOf, inspectAsString } from "./util/inspect.js";
import { argTypeError, checkFunction, checkInteger } from "./validate.js";
import { Waiter, WaiterLine } from "./waiters.js";

/** `T` without its falsy values: what a predicate gives once it holds. */
// biome-ignore lint/suspicious/noConfusingVoidType: a predicate typed `() => T | void` gives void when it fails
export type Truthy<T> = Exclude<T, false | 0 | 0n | "" | null | undefined | void>;

/**
 * The base of the synchronisation primitives and queues, as asyncio's
 * `_LoopBoundMixin`: a primitive belongs to the first event loop that waits on
 * it, and using it from any other loop is an error.
 *
 * @example
 * ```ts
 * import { Lock, LoopBound } from "asynkit";
 * console.log(new Lock() instanceof LoopBound); // true
 * ```
 */
export abstract class LoopBound {
  /** @internal */ _loop: BaseEventLoop | null = null;

  /** @internal The running loop, once checked to be this primitive's loop. */
  _getLoop(): BaseEventLoop {
    const loop = getRunningLoop();
    if (this._loop === null) this._loop = loop;
    else if (loop !== this._loop) {
      const closed = this._loop.isClosed() ? " (now closed)" : "";
      throw new Error(
        `${this} is bound to a different event loop${closed}: a primitive belongs to the first loop that waits on it. ` +
          "To share one between requests, run them all on one long-lived loop: `const app = new HostEventLoop()` once, " +
          "then `await app.submit(handler())` for each (see docs/servers.md); otherwise create the primitive inside the coroutine that run() runs.",
      );
    }
    return loop;
  }
}

inspectAsString(LoopBound);

/** Releases a held lock or semaphore once, however often it is disposed. */
class Held implements Disposable {
  constructor(private owner: { release(): void } | null) {}

  [Symbol.dispose](): void {
    const owner = this.owner;
    if (owner === null) return;
    this.owner = null;
    owner.release();
  }
}

/** What hold() works with: a lock, a semaphore. */
interface Holdable {
  acquire(): Coro<true>;
  release(): void;
}

/**
 * `yield* x.hold()`: acquires, then returns the Disposable that releases. A
 * plain iterator rather than a generator, so that it can refuse `using _ =
 * x.hold()` without `yield*`, which would never acquire (a generator is
 * disposable where the lib declares iterators disposable).
 */
class Hold {
  /** The acquire under way: null before the first await, and after one that failed (cancelled). */
  private acquiring: Coro<true> | null = null;
  private awaited = false;
  private held: Held | null = null;
  /** The task whose acquire it is, while it waits: another one's yield* of it is refused. */
  private by: Task | null = null;
  /** What the acquire waits on, while it waits. */
  private waitingOn: unknown = null;

  constructor(
    private readonly owner: Holdable,
    /** The call, as the error shows it: "lock.hold()". */
    private readonly call: string,
  ) {}

  next(): IteratorResult<Suspend, Disposable> {
    const current = peekRunningLoop()?._currentTask ?? null;
    this.by = waitOwner(this.by, current, this.waitingOn, this.call);
    this.awaited = true;
    return this.step(false, undefined);
  }

  throw(error: unknown): IteratorResult<Suspend, Disposable> {
    if (this.acquiring === null) throw error;
    return this.step(true, error);
  }

  return(value: Disposable): IteratorResult<Suspend, Disposable> {
    if (this.held === null) {
      this.acquiring?.return(true);
      this.startOver();
    }
    return { done: true, value };
  }

  [Symbol.iterator](): this {
    return this;
  }

  /** `using h = x.hold(); yield* h;` releases what it acquired, as the Disposable would. */
  [Symbol.dispose](): void {
    if (this.awaited) {
      this.held?.[Symbol.dispose]();
      return;
    }
    throw new TypeError(
      `${this.call} was disposed without being awaited, so it never acquired, and the block ran without it: write \`using _ = yield* ${this.call};\` in a coroutine, \`using _ = await ${this.call};\` in an async function.`,
    );
  }

  /** Steps the acquire; one that fails (cancelled while it waits) leaves the call to start over. */
  private step(throwing: boolean, error: unknown): IteratorResult<Suspend, Disposable> {
    const acquiring = (this.acquiring ??= this.owner.acquire());
    try {
      return this.toHeld(throwing ? acquiring.throw(error) : acquiring.next());
    } catch (raised) {
      this.startOver();
      throw raised;
    }
  }

  /** The acquire failed or was let go before it acquired: awaited again, the call acquires afresh. */
  private startOver(): void {
    this.acquiring = null;
    this.by = null;
    this.waitingOn = null;
  }

  private toHeld(step: IteratorResult<Suspend, true>): IteratorResult<Suspend, Disposable> {
    if (step.done !== true) {
      const loop = peekRunningLoop();
      this.by = loop === null ? null : waitingTask(loop);
      this.waitingOn = step.value;
      return step;
    }
    this.by = null;
    // Awaited again, it acquired nothing more: undefined, as from a finished generator.
    if (this.held !== null) return { done: true, value: undefined as never };
    this.held = new Held(this.owner);
    return { done: true, value: this.held };
  }
}

thenable(Hold);

function describeWaiters(state: string, waiters: WaiterLine<unknown> | null): string {
  return waiters !== null && waiters.waiting > 0 ? `${state}, waiters:${waiters.waiting}` : state;
}

/**
 * A mutual-exclusion lock, as asyncio.Lock. Not owned by a task: any code may
 * release it. Waiters acquire it in FIFO order.
 *
 * @example
 * ```ts
 * import { Lock, run } from "asynkit";
 * const lock = new Lock();
 * await run(function* () {
 *   using _ = yield* lock.hold(); // released on every exit path
 *   // … the critical section …
 * });
 * ```
 */
export class Lock extends LoopBound {
  /** @internal */ _locked = false;
  /** @internal The task that took the lock (null: none, or code outside a task), for deadlock reports. */
  _holder: Task<unknown> | null = null;
  /** @internal What a waiter waits on, in words made only when printed: which lock, by its holder. */
  private _waitLabel: { toString(): string } | null = null;
  /** @internal Futures of the waiting acquirers; a woken one stays until it resumes. */
  _waiters: WaiterLine<true> | null = null;
  /** Who released it last while another task held it, for the error of that holder's own release. */
  private _strayRelease: string | null = null;

  /** True while the lock is held. */
  locked(): boolean {
    return this._locked;
  }

  /**
   * Waits until the lock is free, then takes it. Waiters are served first in,
   * first out; one cancelled while waiting never ends up holding the lock.
   */
  acquire(): Op<true>;
  *acquire(): Coro<true> {
    if (!this._locked && allCancelled(this._waiters)) {
      this._take();
      return true;
    }
    this._waitLabel ??= { toString: () => this._describeWait() };
    const fut = new Waiter<true>(this._getLoop(), this._waitLabel);
    this._join(fut);
    let acquired = false;
    try {
      yield* fut;
      acquired = true;
    } finally {
      this._leave(fut);
      // Woken but not taking the lock (cancelled, or closed): pass the turn on.
      if (!acquired && !this._locked) this._wakeUpFirst();
    }
    this._take();
    return true;
  }

  /** @internal `waiter` joins the line of those waiting for the lock. */
  _join(waiter: Waiter<true>): void {
    if (this._waiters === null) this._waiters = new WaiterLine();
    this._waiters.push(waiter);
  }

  /** @internal `waiter` leaves the line: it took the lock, or gave up waiting. */
  _leave(waiter: Waiter<true>): void {
    (this._waiters as WaiterLine<true>).remove(waiter);
  }

  private _take(): void {
    this._locked = true;
    this._holder = peekRunningLoop()?._currentTask ?? null;
  }

  /**
   * "Lock.acquire()" (or the subclass's name), and the task that holds the
   * lock: two locks in a deadlock report tell apart.
   */
  private _describeWait(): string {
    const wait = `${classNameOf(this)}.acquire()`;
    const holder = this._holder;
    if (holder === null) return wait;
    // A holder that ended without releasing the lock is why nobody gets it.
    return `${wait} (held by ${taskLabel(holder)}${holder.done() ? ", which is done" : ""})`;
  }

  /**
   * Frees the lock and wakes the first waiter. Throws if the lock is not
   * held. Any task may release it, as asyncio's; the error of a release
   * that then finds it free names the last task that released it for
   * another (a PriorityLock lets only its holder release it).
   */
  release(): void {
    if (!this._locked) {
      const stray =
        this._strayRelease === null ? "" : ` It was released last by ${this._strayRelease}.`;
      throw new Error(
        `${classNameOf(this)} is not acquired: release() must match a completed acquire(), \`await lock.acquire()\` in an async function or \`yield* lock.acquire()\` in a coroutine (called without either, it never runs); or hold the lock for a block: \`using _ = await lock.hold()\` (\`yield* lock.hold()\`).${stray}`,
      );
    }
    // Any task may release it, as asyncio's; a holder's own release that then fails says who did.
    const holder = this._holder;
    const by = holder === null ? null : (peekRunningLoop()?._currentTask ?? null);
    this._strayRelease =
      by === holder
        ? null
        : `${by === null ? "code outside the tasks" : taskLabel(by)}, while ${taskLabel(holder as Task<unknown>)} held it`;
    this._locked = false;
    this._holder = null;
    this._wakeUpFirst();
  }

  /**
   * Acquires the lock and returns a Disposable that releases it:
   * `using _ = yield* lock.hold();`. Disposing what hold() returns without
   * `yield*` is a TypeError, since the lock was never taken.
   */
  hold(): Op<Disposable> {
    return new Hold(this, "lock.hold()") as unknown as Op<Disposable>;
  }

  override toString(): string {
    return `<${classNameOf(this)} [${describeWaiters(this._locked ? "locked" : "unlocked", this._waiters)}]>`;
  }

  /** @internal A woken waiter (done, not cancelled) already has the turn: wake nobody else. */
  _wakeUpFirst(): void {
    const waiters = this._waiters;
    if (waiters === null || waiters.length === 0) return;
    const first = waiters.get(0);
    if (first._state === PENDING) first._resolve(true);
  }
}

thenable(Lock.prototype.acquire);

/** True when no waiter is left that a free lock should go to first (all were cancelled). */
function allCancelled(waiters: WaiterLine<unknown> | null): boolean {
  return waiters === null || waiters.allCancelled();
}

/**
 * A flag that tasks can wait for, as asyncio.Event. `set()` wakes every waiter;
 * `wait()` on a set event returns at once.
 *
 * @example
 * ```ts
 * import { Event, createTask, run } from "asynkit";
 * await run(function* () {
 *   const ready = new Event();
 *   const waiter = createTask((function* () { yield* ready.wait(); return "woken"; })());
 *   ready.set();
 *   console.log(yield* waiter); // "woken"
 * });
 * ```
 */
export class Event extends LoopBound {
  /** @internal */ _value = false;
  /** @internal */ _waiters: WaiterLine<true> = new WaiterLine();
  /** @internal What its waits are called in the task tree (a Queue's join() names its own). */
  _waitName = "Event.wait()";

  /** True while the flag is set. */
  isSet(): boolean {
    return this._value;
  }

  /** Sets the flag and wakes every waiter. */
  set(): void {
    if (this._value) return;
    this._value = true;
    const waiters = this._waiters;
    for (let i = 0; i < waiters.length; i++) {
      const fut = waiters.get(i);
      if (fut._state === PENDING) fut._resolve(true);
    }
  }

  /** Clears the flag: later wait() calls block until the next set(). */
  clear(): void {
    this._value = false;
  }

  /** Returns true once the flag is set (at once if it already is). */
  wait(): Op<true> {
    return new EventWait(this) as unknown as Op<true>;
  }

  override toString(): string {
    return `<${classNameOf(this)} [${describeWaiters(this._value ? "set" : "unset", this._waiters)}]>`;
  }
}

const DONE_TRUE: IteratorResult<Suspend, true> = Object.freeze({ done: true, value: true });

/**
 * `yield* event.wait()`, written as an iterator rather than a generator: it is
 * the hot path of every Event hand-off, and this is one object per wait. It is
 * also its own pending step (`{ done: false, value: future }`).
 */
class EventWait {
  readonly done = false;
  /** The future the wait blocks on, once it has to. */
  value: Waiter<true> | null = null;
  /** The task whose wait it is, once it blocks: another one's yield* of it is refused. */
  private by: Task | null = null;

  constructor(private readonly event: Event) {}

  next(): IteratorResult<Suspend, true> {
    const waited = this.value;
    if (waited !== null) {
      this.by = waitOwner(this.by, waited._loop._currentTask, waited, "Event.wait()");
      this._leave();
      return waitStep(waited, true);
    }
    const event = this.event;
    if (event._value) return DONE_TRUE;
    const fut = new Waiter<true>(event._getLoop(), event._waitName);
    this.value = fut;
    this.by = waitingTask(fut._loop);
    event._waiters.push(fut);
    return waitStep(fut, false, this as IteratorYieldResult<Suspend>);
  }

  /** Cancelled (or otherwise thrown into) while waiting: stop waiting, then raise. */
  throw(error: unknown): never {
    this._leave();
    throw error;
  }

  return(value: true): IteratorResult<Suspend, true> {
    this._leave();
    return { done: true, value };
  }

  [Symbol.iterator](): this {
    return this;
  }

  /** Stops waiting: awaited again, the call waits afresh (see from-asyncio.md). */
  private _leave(): void {
    const waited = this.value;
    if (waited === null) return;
    this.value = null;
    this.event._waiters.remove(waited);
  }
}

waitSteps(EventWait);

thenable(EventWait);

/** What a condition's wait that took its lock back failed with: nothing. */
const NO_FAILURE: unique symbol = Symbol("no failure");

/**
 * A condition variable, as asyncio.Condition: tasks wait, holding its lock,
 * until another task notifies them. A wait() that is cancelled still
 * re-acquires the lock before it raises, and passes its notification on.
 *
 * @example
 * ```ts
 * import { Condition, createTask, run } from "asynkit";
 * await run(function* () {
 *   const cond = new Condition();
 *   const items: number[] = [];
 *   const consumer = createTask((function* () {
 *     using _ = yield* cond.hold();
 *     yield* cond.waitFor(() => items.length > 0);
 *     return items.shift();
 *   })());
 *   { using _ = yield* cond.hold(); items.push(1); cond.notify(); }
 *   console.log(yield* consumer); // 1
 * });
 * ```
 */
export class Condition extends LoopBound {
  /** @internal */ readonly _lock: Lock;
  /** @internal */ _waiters: WaiterLine<boolean> = new WaiterLine();
  /** @internal What its waits are called in the task tree (a Barrier's wait() names its own). */
  _waitName: string;

  /** Uses `lock` as the underlying lock, or a new Lock. */
  constructor(lock?: Lock) {
    super();
    if (lock !== undefined && !(lock instanceof Lock)) {
      throw argTypeError(
        `new ${new.target.name}()`,
        "lock",
        lock,
        "a Lock",
        "pass a Lock, or nothing for a new one",
      );
    }
    this._lock = lock ?? new Lock();
    this._waitName = `${new.target.name}.wait()`;
  }

  /** True while the underlying lock is held. */
  locked(): boolean {
    return this._lock.locked();
  }

  /** Acquires the underlying lock (see Lock.acquire). */
  acquire(): Op<true> {
    return this._lock.acquire();
  }

  /** Releases the underlying lock (see Lock.release). */
  release(): void {
    this._lock.release();
  }

  /** Acquires the underlying lock as a Disposable: `using _ = yield* condition.hold();`. */
  hold(): Op<Disposable> {
    return new Hold(this._lock, "condition.hold()") as unknown as Op<Disposable>;
  }

  /**
   * Releases the lock, waits until notified, re-acquires the lock and returns
   * true. Throws if the lock is not held.
   */
  wait(): Op<true>;
  *wait(): Coro<true> {
    if (!this.locked()) {
      throw new Error("Cannot wait on an un-acquired lock: acquire the condition first.");
    }
    const loop = this._getLoop();
    this.release();
    const fut = new Waiter<boolean>(loop, this._waitName);
    let notified = false;
    try {
      this._join(fut);
      try {
        yield* fut;
      } finally {
        this._leave(fut);
      }
      notified = true;
    } finally {
      // The lock must be held again on every exit: a wait that failed (cancelled), and one
      // closed with return() (GeneratorObject.close(), forAwait() leaving early).
      let failure: unknown = NO_FAILURE;
      for (;;) {
        try {
          yield* this._lock.acquire();
          break;
        } catch (error) {
          failure = error; // the last cancellation, or another error, which gives up
          if (!(error instanceof CancelledError)) break;
        }
      }
      // Notified but not returning: another waiter takes the notification instead. One
      // cancelled while it waited was not, and passes nothing on (asyncio notifies another
      // either way, which made cancelling n waiters scan the queue n times).
      if (!(notified && failure === NO_FAILURE) && fut._state === FINISHED && this._lock._locked)
        this._notify(1);
      // biome-ignore lint/correctness/noUnsafeFinally: a failure to take the lock back wins, as asyncio's.
      if (failure !== NO_FAILURE) throw failure;
    }
    return true;
  }

  /** @internal `waiter` joins the line of those waiting to be notified. */
  _join(waiter: Waiter<boolean>): void {
    this._waiters.push(waiter);
  }

  /** @internal `waiter` leaves the line: notified, or gave up waiting. */
  _leave(waiter: Waiter<boolean>): void {
    this._waiters.remove(waiter);
  }

  /** Waits until `predicate()` is truthy and returns its value (so none of its falsy ones). */
  waitFor<T>(predicate: () => T): Op<Truthy<T>> {
    checkFunction(
      "condition.waitFor()",
      "predicate",
      predicate,
      "pass a function that says whether to stop waiting, e.g. () => items.length > 0",
    );
    // Its promise or coroutine would be truthy at once: the wait would end before anything was checked.
    if (isLocalAsyncFunction(predicate) || isGeneratorFunction(predicate)) {
      throw argTypeError(
        "condition.waitFor()",
        "predicate",
        predicate,
        "a plain function",
        "it is called synchronously, and what an async function or a function* returns is always truthy: pass a function that says whether to stop waiting, e.g. () => items.length > 0",
      );
    }
    return this._waitForPredicate(predicate) as Op<Truthy<T>>;
  }

  /** @internal */
  *_waitForPredicate<T>(predicate: () => T): Coro<T> {
    let result = predicate();
    while (!result) {
      yield* this.wait();
      result = predicate();
    }
    return result;
  }

  /** Wakes up to `n` waiters (default 1). Throws if the lock is not held. */
  notify(n = 1): void {
    checkInteger("condition.notify()", "n", n, 0);
    if (!this.locked()) {
      throw new Error("Cannot notify on an un-acquired lock: acquire the condition first.");
    }
    this._notify(n);
  }

  /** Wakes every waiter. Throws if the lock is not held. */
  notifyAll(): void {
    this.notify(this._waiters.length);
  }

  override toString(): string {
    return `<${classNameOf(this)} [${describeWaiters(this.locked() ? "locked" : "unlocked", this._waiters)}]>`;
  }

  /** @internal */
  _notify(n: number): void {
    for (let woken = 0; woken < n; woken++) {
      const fut = this._waiters.firstPending();
      if (fut === undefined) return;
      fut._resolve(false);
    }
  }
}

thenable(Condition.prototype.wait);
thenable(Condition.prototype._waitForPredicate);

/**
 * A counter of free slots, as asyncio.Semaphore: acquire() takes one (waiting
 * while none is free), release() gives one back. Waiters are served FIFO.
 *
 * @example
 * ```ts
 * import { Semaphore, gather, run, sleep } from "asynkit";
 * const slots = new Semaphore(2); // at most two downloads at a time
 * function* download(url: string) {
 *   using _ = yield* slots.hold();
 *   yield* sleep(100);
 *   return url;
 * }
 * await run(gather(download("a"), download("b"), download("c")));
 * ```
 */
export class Semaphore extends LoopBound {
  /** @internal */ _value: number;
  /** @internal */ _waiters: WaiterLine<true> | null = null;

  /** `value` free slots to start with (default 1); RangeError if negative. */
  constructor(value = 1) {
    super();
    checkInteger(`new ${new.target.name}()`, "value", value, 0);
    this._value = value;
  }

  /** True if acquire() would wait: no free slot, or earlier waiters go first. */
  locked(): boolean {
    if (this._value === 0) return true;
    const waiters = this._waiters;
    if (waiters === null) return false;
    return !allCancelled(waiters);
  }

  /** Takes a slot, waiting FIFO for one if none is free. */
  acquire(): Op<true>;
  *acquire(): Coro<true> {
    if (!this.locked()) {
      this._value--;
      return true;
    }
    const fut = new Waiter<true>(this._getLoop(), "Semaphore.acquire()");
    if (this._waiters === null) this._waiters = new WaiterLine();
    this._waiters.push(fut);
    let acquired = false;
    try {
      try {
        yield* fut;
        acquired = true;
      } finally {
        this._waiters.remove(fut);
      }
    } finally {
      // Woken (the slot was counted for us) but not taking it: give it back.
      if (!acquired && fut._state === FINISHED) this._value++;
      // Later waiters may have queued behind us while slots were free.
      while (this._value > 0 && this._wakeUpNext()) {}
    }
    return true;
  }

  /** Gives a slot back and wakes the first waiter. */
  release(): void {
    this._value++;
    this._wakeUpNext();
  }

  /** Acquires a slot and returns a Disposable that releases it: `using _ = yield* semaphore.hold();`. */
  hold(): Op<Disposable> {
    return new Hold(this, "semaphore.hold()") as unknown as Op<Disposable>;
  }

  override toString(): string {
    const state = this.locked() ? "locked" : `unlocked, value:${this._value}`;
    return `<${classNameOf(this)} [${describeWaiters(state, this._waiters)}]>`;
  }

  /** @internal Hands a slot to the first waiter not yet woken; false if there is none. */
  _wakeUpNext(): boolean {
    const fut = this._waiters?.firstPending();
    if (fut === undefined) return false;
    this._value--;
    fut._resolve(true);
    return true;
  }
}

thenable(Semaphore.prototype.acquire);

/**
 * A Semaphore that refuses to be released more often than it was acquired,
 * as asyncio.BoundedSemaphore.
 *
 * @example
 * ```ts
 * import { BoundedSemaphore } from "asynkit";
 * const sem = new BoundedSemaphore(1);
 * try { sem.release(); } catch (e) { console.log(e instanceof RangeError); } // true
 * ```
 */
export class BoundedSemaphore extends Semaphore {
  private readonly _bound: number;

  constructor(value = 1) {
    super(value);
    this._bound = value;
  }

  /** Gives a slot back; RangeError if that would exceed the initial value. */
  override release(): void {
    if (this._value >= this._bound) {
      throw new RangeError(
        `BoundedSemaphore released too many times: its value is already ${this._bound}, its initial value.`,
      );
    }
    super.release();
  }
}

const FILLING = "filling";
const DRAINING = "draining";
const RESETTING = "resetting";
const BROKEN = "broken";
type BarrierState = typeof FILLING | typeof DRAINING | typeof RESETTING | typeof BROKEN;

/**
 * A meeting point for a fixed number of tasks, as asyncio.Barrier: each
 * wait() blocks until `parties` tasks wait, then all go on together.
 *
 * @example
 * ```ts
 * import { Barrier, createTask, run } from "asynkit";
 * await run(function* () {
 *   const barrier = new Barrier(2);
 *   const other = createTask(barrier.wait()); // arrives once main waits
 *   const index = yield* barrier.wait(); // 0: the first to arrive
 *   console.log(index, yield* other);    // 0 1
 * });
 * ```
 */
export class Barrier {
  private readonly _cond = new Condition();
  private readonly _parties: number;
  private _state: BarrierState = FILLING;
  private _count = 0;

  /** A barrier for `parties` tasks; RangeError unless it is at least 1. */
  constructor(parties: number) {
    checkInteger("new Barrier()", "parties", parties, 1);
    this._parties = parties;
    this._cond._waitName = "Barrier.wait()"; // the task tree names its tasks' waits as the barrier's
  }

  /** How many tasks must wait before all are released. */
  get parties(): number {
    return this._parties;
  }

  /** How many tasks wait now, while the barrier fills. */
  get nWaiting(): number {
    return this._state === FILLING ? this._count : 0;
  }

  /** True after abort(), until reset(). */
  get broken(): boolean {
    return this._state === BROKEN;
  }

  /**
   * Waits until `parties` tasks wait, and returns this task's arrival index
   * (0 … parties-1). BrokenBarrierError if the barrier is reset or aborted.
   */
  wait(): Op<number>;
  *wait(): Coro<number> {
    const cond = this._cond;
    yield* cond.acquire();
    try {
      yield* this._block();
      const index = this._count++;
      try {
        if (index + 1 === this._parties) {
          this._state = DRAINING;
          cond.notifyAll();
        } else {
          yield* cond.waitFor(() => this._state !== FILLING);
          if (this._state === BROKEN || this._state === RESETTING) {
            throw new BrokenBarrierError("Barrier aborted or reset while waiting.");
          }
        }
        return index;
      } finally {
        this._count--;
        this._exit();
      }
    } finally {
      cond.release();
    }
  }

  /** Returns the barrier to its empty state; tasks waiting now get BrokenBarrierError. */
  reset(): Op<void>;
  *reset(): Coro<void> {
    const cond = this._cond;
    yield* cond.acquire();
    try {
      if (this._count > 0) {
        if (this._state !== RESETTING) this._state = RESETTING;
      } else {
        this._state = FILLING;
      }
      cond.notifyAll();
    } finally {
      cond.release();
    }
  }

  /** Breaks the barrier: current and future wait() calls get BrokenBarrierError. */
  abort(): Op<void>;
  *abort(): Coro<void> {
    const cond = this._cond;
    yield* cond.acquire();
    try {
      this._state = BROKEN;
      cond.notifyAll();
    } finally {
      cond.release();
    }
  }

  toString(): string {
    return `<${classNameOf(this)} [${this._state}, waiters:${this.nWaiting}/${this._parties}]>`;
  }

  /** Waits while the barrier drains or resets; BrokenBarrierError if it is broken. */
  private *_block(): Coro<void> {
    yield* this._cond.waitFor(() => this._state !== DRAINING && this._state !== RESETTING);
    if (this._state === BROKEN) throw new BrokenBarrierError("Barrier aborted.");
  }

  /** The last task out lets the next round fill. */
  private _exit(): void {
    if (this._count === 0) {
      if (this._state === RESETTING || this._state === DRAINING) this._state = FILLING;
      this._cond.notifyAll();
    }
  }
}

inspectAsString(Barrier);

thenable(Barrier.prototype.wait);
thenable(Barrier.prototype.reset);
thenable(Barrier.prototype.abort);
