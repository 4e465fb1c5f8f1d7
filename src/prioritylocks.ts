/**
 * PriorityLock and PriorityCondition (asynkit's priority locks): waiters are
 * served in order of their tasks' effective priority, first in, first out
 * among equals, and a PriorityLock lends its waiters' priority to the task
 * that holds it (priority inheritance), so a low-priority holder is not kept
 * from finishing its critical section by tasks of middling priority.
 */
import type { Coro } from "./coro.js";
import { onWaitContinued } from "./eager.js";
import { SynchronousError } from "./errors.js";
import { getRunningLoop, hostCodeOwnerNow, peekRunningLoop, runningTask } from "./events.js";
import { PENDING } from "./futures.js";
import { Condition, Lock } from "./locks.js";
import {
  effectivePriority,
  holderPriority,
  type PriorityWait,
  startHolding,
  startWaiting,
  stopHolding,
  stopWaiting,
} from "./priority.js";
import type { Task } from "./tasks.js";
import { type Op, thenable } from "./thenable.js";
import { TimerHeap } from "./util/heap.js";
import { Waiter } from "./waiters.js";

/**
 * The task that acquires a PriorityLock, if any. Under awaitSync() there is
 * none, nor a loop: a free lock needs no loop, but a task, which is what the
 * error must say.
 */
function taskAcquiring(): Task | null {
  try {
    return runningTask(getRunningLoop());
  } catch (error) {
    if (error instanceof SynchronousError) return null;
    throw error;
  }
}

/**
 * The waiters of a PriorityLock or PriorityCondition, with their tasks, best
 * effective priority first and first come first among equals: a heap keyed
 * by (priority, arrival). A task's priority is kept up to date from outside
 * (reprioritize, when priority.ts says it changed), and a change files its
 * waiter anew under the same arrival: the entry it had goes stale, and is
 * dropped when it reaches the top, or with every other stale one when they
 * are the most.
 */
class WaitingLine<W extends Waiter<unknown>> {
  private readonly heap = new TimerHeap<W>();
  private readonly places = new Map<W, WaitingPlace<W>>();
  /** Each waiting task's latest place, which links to its earlier ones (see WaitingPlace.earlier). */
  private readonly byTask = new Map<Task, WaitingPlace<W>>();
  private arrivals = 0;
  /** Entries in the heap that are no waiter's place any more. */
  private stale = 0;

  /** `owner`: the lock or condition whose waiters these are, and which they lend priority to. */
  constructor(private readonly owner: PriorityWait) {}

  /** `waiter` joins the line for `task`, which lends its priority to the owner's holder. */
  join(waiter: W, task: Task | null): void {
    const before = holderPriority(this.owner);
    this.add(waiter, task);
    linesOf.set(waiter, this);
    if (task !== null) startWaiting(task, this.owner, before);
  }

  /** `waiter` leaves the line: its task is followed while it has another place there. */
  leave(waiter: W): void {
    const before = holderPriority(this.owner);
    const task = this.remove(waiter);
    if (task !== undefined && task !== null) this.placesChanged(task, before);
  }

  /** `task` carries on the wait `waiter` began elsewhere, in a start (see refile). */
  takeOver(waiter: W, task: Task): void {
    const before = holderPriority(this.owner);
    const previous = this.refile(waiter, task);
    if (previous === undefined) return;
    startWaiting(task, this.owner, before);
    if (previous !== null) this.placesChanged(previous, holderPriority(this.owner));
  }

  /** `waiter` joins the line, for `task` (null: a wait that is no task's, served at the default priority). */
  private add(waiter: W, task: Task | null): void {
    const place: WaitingPlace<W> = {
      priority: task === null ? 0 : effectivePriority(task),
      arrival: this.arrivals++,
      waiter,
      task: null,
      earlier: null,
      woken: false,
    };
    this.places.set(waiter, place);
    this.fileUnder(place, task);
    this.heap.push(waiter, place.priority, place.arrival);
  }

  /** `waiter` leaves: the task it was filed under (null: none; undefined: it was not filed here). */
  private remove(waiter: W): Task | null | undefined {
    const place = this.places.get(waiter);
    if (place === undefined) return undefined;
    this.places.delete(waiter);
    const task = place.task;
    this.unfile(place);
    if (!place.woken) this.outdated();
    return task;
  }

  /**
   * A task other than the one `waiter` was filed under waits on it now (a
   * start continued elsewhere): it is filed under that task, keeping its
   * arrival. Returns the task it was filed under (null: none), or undefined
   * when nothing moved (not filed here, woken already, or that very task).
   */
  private refile(waiter: W, task: Task): Task | null | undefined {
    const place = this.places.get(waiter);
    if (place === undefined || place.woken || place.task === task) return undefined;
    const previous = place.task;
    this.unfile(place);
    this.fileUnder(place, task);
    this.moveTo(place, effectivePriority(task));
    return previous;
  }

  /** True while `task` has a place in the line. */
  private waits(task: Task): boolean {
    return this.byTask.has(task);
  }

  /**
   * `task`'s places in the line changed, from when the owner's holder ran at
   * `before`: it is followed as a waiter of the owner while it has one.
   */
  private placesChanged(task: Task, before: number | undefined): void {
    if (this.waits(task)) startWaiting(task, this.owner, before);
    else stopWaiting(task, this.owner, before);
  }

  /** The effective priority of `task`, which waits, may have changed: its waiters are filed anew. */
  reprioritize(task: Task, priority = effectivePriority(task)): void {
    for (let place = this.byTask.get(task) ?? null; place !== null; place = place.earlier) {
      this.moveTo(place, priority);
    }
  }

  /** Calls `visit` with each waiting task not yet woken and the priority it is filed under. */
  eachWaiter(visit: (task: Task, priority: number) => void): void {
    for (const place of this.places.values()) {
      if (!place.woken && place.task !== null) visit(place.task, place.priority);
    }
  }

  /** The best priority among the waiters not yet woken, or undefined when there is none. */
  bestPriority(): number | undefined {
    return this.first() === undefined ? undefined : this.heap.peekTime();
  }

  /** Takes the waiter that came first among the best, woken from now on. */
  takeFirst(): W | undefined {
    const waiter = this.first();
    if (waiter === undefined) return undefined;
    (this.places.get(waiter) as WaitingPlace<W>).woken = true;
    this.heap.pop();
    return waiter;
  }

  private first(): W | undefined {
    const heap = this.heap;
    while (heap.length > 0) {
      const waiter = heap.peek() as W;
      if (this.filedAs(waiter, heap.peekTime(), heap.peekSeq())) return waiter;
      heap.pop();
      this.stale--;
    }
    return undefined;
  }

  /** Files a place not woken under `priority`, if it changed: its entry goes stale, and a new one goes in. */
  private moveTo(place: WaitingPlace<W>, priority: number): void {
    if (place.woken || priority === place.priority) return;
    place.priority = priority;
    this.heap.push(place.waiter, priority, place.arrival);
    this.outdated();
  }

  /** Makes `place` the latest of `task`'s (none for null). */
  private fileUnder(place: WaitingPlace<W>, task: Task | null): void {
    place.task = task;
    if (task === null) return;
    place.earlier = this.byTask.get(task) ?? null;
    this.byTask.set(task, place);
  }

  /** Takes `place` out of its task's places. */
  private unfile(place: WaitingPlace<W>): void {
    const task = place.task;
    if (task === null) return;
    const latest = this.byTask.get(task) ?? null;
    if (latest === place) {
      if (place.earlier === null) this.byTask.delete(task);
      else this.byTask.set(task, place.earlier);
    } else {
      for (let at = latest; at !== null; at = at.earlier) {
        if (at.earlier === place) {
          at.earlier = place.earlier;
          break;
        }
      }
    }
    place.task = null;
    place.earlier = null;
  }

  /** True when (priority, arrival) is where `waiter` waits now: its entry is not stale. */
  private filedAs(waiter: W, priority: number, arrival: number): boolean {
    const place = this.places.get(waiter);
    return (
      place !== undefined &&
      !place.woken &&
      place.priority === priority &&
      place.arrival === arrival
    );
  }

  /** An entry went stale; when stale ones are the most, each waiter keeps its one entry. */
  private outdated(): void {
    if (++this.stale <= STALE_AT_MOST || this.stale <= this.places.size) return;
    this.heap.clear();
    for (const place of this.places.values()) {
      if (!place.woken) this.heap.push(place.waiter, place.priority, place.arrival);
    }
    this.stale = 0;
  }
}

interface WaitingPlace<W> {
  priority: number;
  readonly arrival: number;
  readonly waiter: W;
  /** The task that waits on it, the one whose priority it is filed under (null: none). */
  task: Task | null;
  /** The same task's place before this one, when it waits in the line twice (an eager start's can). */
  earlier: WaitingPlace<W> | null;
  /** Taken out of the heap and woken: it has the turn until it leaves. */
  woken: boolean;
}

/** The line each waiter filed by task waits in, for onWaitContinued. */
const linesOf = new WeakMap<Waiter<unknown>, WaitingLine<Waiter<unknown>>>();

// A wait begun in a start (coroStart) that another task continues is that task's from then on.
onWaitContinued((suspension, task) => {
  if (!(suspension instanceof Waiter)) return;
  linesOf.get(suspension)?.takeOver(suspension, task);
});

/** Stale heap entries a PriorityLock keeps before it drops them all (see WaitingLine). */
const STALE_AT_MOST = 64;

/**
 * A Lock that serves waiters by priority and knows its holder: while a task
 * of better priority waits for it, the holder runs at that priority
 * (transitively, through chains of PriorityLocks), on a priority loop.
 * Only the task that holds it may release it.
 *
 * @example
 * ```ts
 * import { PriorityLock, PriorityVirtualEventLoop, createTask } from "asynkit";
 * const lock = new PriorityLock();
 * const order: string[] = [];
 * new PriorityVirtualEventLoop().runSync((function* () {
 *   yield* lock.acquire();
 *   const low = createTask((function* () { using _ = yield* lock.hold(); order.push("low"); })(), { priority: 10 });
 *   const high = createTask((function* () { using _ = yield* lock.hold(); order.push("high"); })(), { priority: -10 });
 *   yield* (function* () { yield; })(); // both wait now
 *   lock.release();
 *   yield* low;
 *   yield* high;
 * })());
 * console.log(order); // ["high", "low"]
 * ```
 */
export class PriorityLock extends Lock {
  private readonly _waiting = new WaitingLine<Waiter<true>>(this);
  /** The waiter last woken: it has the turn until it leaves the line (see _wakeUpFirst). */
  private _woken: Waiter<true> | null = null;

  override acquire(): Op<true>;
  override *acquire(): Coro<true> {
    if (taskAcquiring() === null) {
      throw new Error("PriorityLock.acquire() must be awaited by a task: its holder is a task.");
    }
    yield* super.acquire(); // a waiter is filed under the task (_join) until it leaves (_leave)
    // The task that has it now: the one that asked (even inside an eager start), or one
    // that continued a wait begun in a start (coroStart) elsewhere.
    const holder = taskAcquiring() as Task;
    this._holder = holder;
    startHolding(holder, this);
    return true;
  }

  /** @internal The asking task waits: its waiter is filed by its priority, which it lends the holder. */
  override _join(waiter: Waiter<true>): void {
    super._join(waiter);
    this._waiting.join(waiter, taskAcquiring() as Task);
  }

  /** @internal */
  override _leave(waiter: Waiter<true>): void {
    super._leave(waiter);
    this._waiting.leave(waiter);
  }

  /** Frees the lock and wakes the waiter of best priority. Only its holder may release it. */
  override release(): void {
    const holder = this._holder;
    if (holder !== null) {
      const current = releasingTask(holder);
      if (current !== undefined && current !== holder) {
        throw new Error(
          `PriorityLock.release(): the lock is held by ${holder}, not by ${current ?? "a callback"}: only its holder may release it.`,
        );
      }
      stopHolding(holder, this);
    }
    super.release();
  }

  /** @internal A woken waiter still in the line has the turn; else the waiter of best priority gets it. */
  override _wakeUpFirst(): void {
    const waiters = this._waiters;
    if (waiters === null || (this._woken !== null && waiters.has(this._woken))) return;
    this._woken = null;
    // A cancelled waiter is filed until its task resumes and leaves: it is passed over.
    for (let waiter = this._waiting.takeFirst(); waiter !== undefined; ) {
      if (waiter._state === PENDING) {
        this._woken = waiter;
        waiter._resolve(true);
        return;
      }
      waiter = this._waiting.takeFirst();
    }
  }

  /** @internal */
  _waitersPriority(): number | undefined {
    return this._waiting.bestPriority();
  }

  /** @internal */
  _waiterChanged(task: Task, priority?: number): void {
    this._waiting.reprioritize(task, priority);
  }

  /** @internal */
  _eachWaiter(visit: (task: Task, priority: number) => void): void {
    this._waiting.eachWaiter(visit);
  }

  /** @internal */
  _owner(): Task | null {
    return this._holder;
  }
}

thenable(PriorityLock.prototype.acquire);

/**
 * A Condition that notifies its waiters in priority order (first come first
 * among equals), over a PriorityLock by default.
 *
 * @example
 * ```ts
 * import { PriorityCondition } from "asynkit";
 * const ready = new PriorityCondition();
 * ```
 */
export class PriorityCondition extends Condition {
  private readonly _waiting = new WaitingLine<Waiter<boolean>>(this);

  /** Uses `lock` as the underlying lock, or a new PriorityLock. */
  constructor(lock?: Lock) {
    // Condition checks `lock`, naming this class in its error.
    super(lock ?? new PriorityLock());
  }

  /** @internal The waiting task is filed by its priority, followed as it changes. */
  override _join(waiter: Waiter<boolean>): void {
    super._join(waiter);
    this._waiting.join(waiter, runningTask(this._getLoop()));
  }

  /** @internal */
  override _leave(waiter: Waiter<boolean>): void {
    super._leave(waiter);
    this._waiting.leave(waiter);
  }

  /** @internal Wakes the first `n` waiters by priority. */
  override _notify(n: number): void {
    for (let woken = 0; woken < n; ) {
      const waiter = this._waiting.takeFirst();
      if (waiter === undefined) return;
      // A cancelled waiter is filed until its task resumes and leaves: it is passed over.
      if (waiter._state === PENDING) {
        waiter._resolve(false);
        woken++;
      }
    }
  }

  /** @internal */
  _waiterChanged(task: Task, priority?: number): void {
    this._waiting.reprioritize(task, priority);
  }

  /** @internal A condition has no holder to lend its waiters' priority to. */
  _owner(): null {
    return null;
  }
}

/**
 * The task whose code releases a lock `holder` holds: the running loop's task,
 * else, for an async function's code after a host await (no loop's step runs
 * it), the task the host's async context names when the holder's loop asks it
 * (its asyncLocalStorage option); undefined when nothing can tell, and the
 * release is taken as the holder's, as a Lock takes any.
 */
function releasingTask(holder: Task): Task | null | undefined {
  const loop = peekRunningLoop();
  if (loop !== null) return runningTask(loop);
  return holder._loop._asyncLocalStorage ? hostCodeOwnerNow() : undefined;
}
