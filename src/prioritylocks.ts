/**
 * PriorityLock and PriorityCondition (asynkit's priority locks): waiters are
 * served in order of their tasks' effective priority, first in, first out
 * among equals, and a PriorityLock lends its waiters' priority to the task
 * that holds it (priority inheritance), so a low-priority holder is not kept
 * from finishing its critical section by tasks of middling priority.
 */
import type { Coro } from "./coro.js";
import { SynchronousError } from "./errors.js";
import { getRunningLoop, hostCodeOwnerNow, peekRunningLoop, runningTask } from "./events.js";
import { FINISHED, type Future, PENDING } from "./futures.js";
import { allCancelled, Condition, Lock } from "./locks.js";
import {
  effectivePriority,
  startHolding,
  startWaiting,
  stopHolding,
  stopWaiting,
} from "./priority.js";
import { Task } from "./tasks.js";
import { type Op, thenable } from "./thenable.js";
import type { WaiterLine } from "./waiters.js";

/** The task waiting on a waiter future: its one callback. */
function taskWaitingOn(future: Future<unknown>): Task | null {
  const callbacks = future._callbacks;
  return callbacks instanceof Task ? callbacks : null;
}

/**
 * The pending waiter futures in the order they are served: best effective
 * priority of the waiting task first, first come first among equals. The one
 * way of waiting both priority primitives share.
 */
function servingOrder(waiters: WaiterLine<unknown>): Future<unknown>[] {
  const pending: { future: Future<unknown>; priority: number }[] = [];
  for (let i = 0; i < waiters.length; i++) {
    const future = waiters.get(i);
    if (future._state === PENDING) pending.push({ future, priority: servingPriority(future) });
  }
  // Array.prototype.sort is stable: equal priorities keep their order of arrival.
  return pending.sort((a, b) => a.priority - b.priority).map((w) => w.future);
}

/** Where a waiter is served: by its task's effective priority (0 for a wait that is no task's). */
function servingPriority(future: Future<unknown>): number {
  const task = taskWaitingOn(future);
  return task === null ? 0 : effectivePriority(task);
}

/** The first of servingOrder(), found in one pass with nothing made: what a release or notify(1) wakes. */
function firstServed(waiters: WaiterLine<unknown>): Future<unknown> | undefined {
  let first: Future<unknown> | undefined;
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < waiters.length; i++) {
    const future = waiters.get(i);
    if (future._state !== PENDING) continue;
    const priority = servingPriority(future);
    if (first === undefined || priority < best) {
      first = future;
      best = priority;
    }
  }
  return first;
}

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
  private readonly _waitingTasks = new Set<Task>();

  override acquire(): Op<true>;
  override *acquire(): Coro<true> {
    const task = taskAcquiring();
    if (task === null) {
      throw new Error("PriorityLock.acquire() must be awaited by a task: its holder is a task.");
    }
    // Lock.acquire()'s own test for whether it waits.
    const waits = this._locked || !allCancelled(this._waiters);
    if (waits) {
      this._waitingTasks.add(task);
      startWaiting(task, this);
    }
    try {
      yield* super.acquire();
    } finally {
      if (waits) {
        this._waitingTasks.delete(task);
        stopWaiting(task);
      }
    }
    this._holder = task; // the task that asked, even inside an eager start
    startHolding(task, this);
    return true;
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

  override toString(): string {
    return super.toString().replace("<Lock", "<PriorityLock");
  }

  /** @internal A woken waiter already has the turn; else the waiter of best priority gets it. */
  override _wakeUpFirst(): void {
    const waiters = this._waiters;
    if (waiters === null) return;
    for (let i = 0; i < waiters.length; i++) if (waiters.get(i)._state === FINISHED) return;
    firstServed(waiters)?._resolve(true);
  }

  /** @internal */
  _waitersPriority(): number | undefined {
    let best: number | undefined;
    for (const task of this._waitingTasks) {
      const priority = effectivePriority(task);
      if (best === undefined || priority < best) best = priority;
    }
    return best;
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
  /** Uses `lock` as the underlying lock, or a new PriorityLock. */
  constructor(lock?: Lock) {
    // Condition checks `lock`, naming this class in its error.
    super(lock ?? new PriorityLock());
  }

  /** @internal */
  override _notify(n: number): void {
    if (n === 1) {
      firstServed(this._waiters)?._resolve(false);
      return;
    }
    const order = servingOrder(this._waiters);
    for (let i = 0; i < order.length && i < n; i++) order[i]?._resolve(false);
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
