/**
 * SchedulingMixin: a ready queue that user code can inspect and reorder, and
 * the concrete scheduling loops built with it (asynkit's `SchedulingMixin`).
 */
import { observed, publish } from "../channels.js";
import { Handle, type ReadyEntry } from "../events.js";
import { PENDING } from "../futures.js";
import type { Task } from "../tasks.js";
import { taskOfEntry } from "../tasktree.js";
import type { ReadyQueue } from "../util/deque.js";
import { argTypeError, checkCallback, checkFunction, checkInteger } from "../validate.js";
import { BaseEventLoop } from "./base.js";
import { HostEventLoop } from "./host.js";
import { VirtualEventLoop } from "./virtual.js";

/**
 * The ready queue of a loop, open to inspection and reordering. It holds the
 * `Handle`s that will run, in order: position 0 runs next. Positions follow
 * Python: `readyPop` indexes like `list.pop` (negative counts from the end),
 * `readyInsert` and `callInsert` clamp like `list.insert`, `readyRotate`
 * turns like `deque.rotate`.
 *
 * The `queue*` names are the same operations for code that should not assume
 * the queue is a plain FIFO.
 *
 * @example
 * ```ts
 * import { SchedulingVirtualEventLoop } from "asynkit";
 * const loop = new SchedulingVirtualEventLoop();
 * const log: string[] = [];
 * loop.callSoon(() => log.push("b"));
 * loop.callInsert(0, () => log.push("a"));
 * console.log(loop.readyLen()); // 2
 * loop.runSync((function* () { yield; })());
 * console.log(log); // ["a", "b"]
 * ```
 */
export interface SchedulingLoop {
  /** How many entries are ready to run. */
  readyLen(): number;
  /** Takes the entry at `pos` out of the queue (default -1, the last); RangeError when out of range. */
  readyPop(pos?: number): Handle;
  /** Puts `handle` (taken out with readyPop) back so that it sits at `pos`. */
  readyInsert(pos: number, handle: Handle): void;
  /** Rotates the queue: n > 0 moves the last n entries to the front, n < 0 the first -n to the back. */
  readyRotate(n: number): void;
  /** Schedules `callback(...args)` like `callSoon`, but at position `pos`. */
  callInsert<A extends unknown[]>(pos: number, callback: (...args: A) => void, ...args: A): Handle;
  /** Same as readyLen(). */
  queueLen(): number;
  /** The entries in the order they will run (a snapshot). */
  queueItems(): Iterable<Handle>;
  /** The last entry for which `key` is true, or null; `remove` also takes it out of the queue. */
  queueFind(key: (handle: Handle) => boolean, remove?: boolean): Handle | null;
  /** Takes `handle` out of the queue; Error if it is not there. */
  queueRemove(handle: Handle): void;
  /** Puts `handle` at the default position: the end. */
  queueInsert(handle: Handle): void;
  /** Puts `handle` at `pos`, as readyInsert(pos, handle). */
  queueInsertPos(handle: Handle, pos: number): void;
  /** Same as callInsert(). */
  callPos<A extends unknown[]>(pos: number, callback: (...args: A) => void, ...args: A): Handle;
  /** The task this entry will resume, or null if it resumes none. */
  taskFromHandle(handle: Handle): Task | null;
  /** The tasks the queue will resume, in order (a snapshot). */
  queueTasks(): Iterable<Task>;
}

/** @internal What the scheduling functions use besides the public interface. */
export interface SchedulingLoopInternals extends SchedulingLoop {
  /** Takes out the entry that will resume `task`; null when the task has none in the queue. */
  _takeTask(task: Task): Handle | null;
  /** Schedules `callback(arg0, arg1)` at the front of the queue, without an argument array or context. */
  _callFirst(callback: (arg0: never, arg1: never) => void, arg0: unknown, arg1: unknown): void;
  /** readyPop(index) for an index in range, unpublished: the caller publishes the move it makes. */
  _takeAt(index: number): Handle;
  /** readyInsert(pos, handle) for an entry taken out, unpublished; returns where it went. */
  _putBack(handle: Handle, pos: number): number;
}

const schedulingBrand: unique symbol = Symbol("asynkit.SchedulingLoop");

/** Publishes on `asynkit:ready.move` that `op` moved `handle` to (or from) `position`. */
function publishMove(loop: BaseEventLoop, op: string, handle: Handle, position: number): void {
  publish("ready.move", { loop, op, task: taskOfEntry(handle), position });
}

/**
 * The entry at `index` as a Handle. A task queued for its own step (or a due
 * sleep) gets its Handle here, once: it takes the entry's place in the queue,
 * so the same Handle is seen every time after and cancelling it cancels the entry.
 */
function handleAt(ready: ReadyQueue<Handle | ReadyEntry>, index: number): Handle {
  const entry = ready.get(index);
  if (entry instanceof Handle) return entry;
  const handle = entry._readyHandle();
  ready.set(index, handle);
  return handle;
}

/** Takes the entry at `index` out of the queue, as a Handle. */
function removeAt(ready: ReadyQueue<Handle | ReadyEntry>, index: number): Handle {
  const handle = handleAt(ready, index);
  ready.removeAt(index);
  return handle;
}

/** Python's list.insert position: negative counts from the end, out of range clamps. */
function insertIndex(pos: number, length: number): number {
  if (pos < 0) return Math.max(0, pos + length);
  return Math.min(pos, length);
}

/** @internal Throws unless `base` is an event loop class, for the mixin `where` names. */
export function checkLoopClass(where: string, base: unknown): void {
  if (!(typeof base === "function" && base.prototype instanceof BaseEventLoop)) {
    throw argTypeError(
      where,
      "base",
      base,
      "an event loop class",
      "pass a class such as VirtualEventLoop or HostEventLoop",
    );
  }
}

/** A class whose instances are `T`, as a mixin such as {@link SchedulingMixin} takes and returns it. */
// biome-ignore lint/suspicious/noExplicitAny: TypeScript's mixin pattern requires any[] constructor arguments.
export type LoopConstructor<T = BaseEventLoop> = abstract new (...args: any[]) => T;

/**
 * Adds the {@link SchedulingLoop} methods to an event loop class.
 *
 * A task's entry in the ready queue is searched for from both ends of the
 * queue at once, so moving a task that sits near either end costs the same
 * however long the queue is.
 *
 * @example
 * ```ts
 * import { SchedulingMixin, VirtualEventLoop } from "asynkit";
 * class MyLoop extends SchedulingMixin(VirtualEventLoop) {}
 * const loop = new MyLoop();
 * loop.callSoon(() => console.log("second"));
 * loop.callInsert(0, () => console.log("first"));
 * loop.runSync((function* () { yield; })());
 * ```
 */
export function SchedulingMixin<B extends LoopConstructor>(
  base: B,
): B & LoopConstructor<SchedulingLoop> {
  checkLoopClass("SchedulingMixin()", base);
  abstract class Scheduling extends base implements SchedulingLoopInternals {
    get [schedulingBrand](): true {
      return true;
    }

    /**
     * Handles readyPop() took out and readyInsert() has not put back: none is
     * in the queue (nothing else queues a Handle again, and a task whose entry
     * is out has no other), so their insert skips the search for a duplicate.
     */
    private readonly _popped = new WeakSet<Handle>();

    readyLen(): number {
      return this._ready.length;
    }

    readyPop(pos = -1): Handle {
      checkInteger("loop.readyPop()", "pos", pos);
      const ready = this._ready;
      const length = ready.length;
      const index = pos < 0 ? pos + length : pos;
      if (index < 0 || index >= length) {
        throw new RangeError(
          length === 0
            ? "readyPop(): the ready queue is empty."
            : `readyPop(${pos}): no such position in a ready queue of ${length} entries.`,
        );
      }
      const handle = this._takeAt(index);
      this._popped.add(handle);
      if (observed) publishMove(this, "readyPop", handle, index);
      return handle;
    }

    _takeAt(index: number): Handle {
      return removeAt(this._ready, index);
    }

    readyInsert(pos: number, handle: Handle): void {
      checkInteger("loop.readyInsert()", "pos", pos);
      if (!(handle instanceof Handle)) {
        throw argTypeError(
          "loop.readyInsert()",
          "handle",
          handle,
          "a Handle",
          "insert one taken out with readyPop()",
        );
      }
      if (handle._loop !== this) {
        throw new Error(
          `readyInsert(): ${handle} belongs to a different event loop: insert it into its own loop.`,
        );
      }
      const task = taskOfEntry(handle);
      if (task !== null && task._state !== PENDING) {
        throw new Error(`readyInsert(): ${handle} resumes ${task}, which is already done.`);
      }
      if (!this._popped.delete(handle)) {
        const queued = this._findEntry(handle, task);
        throw new Error(
          queued >= 0
            ? `readyInsert(): ${handle} is in the ready queue already, at ${queued}: take it out with readyPop(${queued}) before inserting it elsewhere.`
            : `readyInsert(): ${handle} was not taken out with readyPop(): it ran already, or was never queued on this loop. Only an entry readyPop() took out goes back in; one put back twice would run twice.`,
        );
      }
      const index = this._putBack(handle, pos);
      if (observed) publishMove(this, "readyInsert", handle, index);
    }

    _putBack(handle: Handle, pos: number): number {
      const index = insertIndex(pos, this._ready.length);
      this._ready.insert(index, handle);
      if (this._parked) this._unpark();
      return index;
    }

    readyRotate(n: number): void {
      checkInteger("loop.readyRotate()", "n", n);
      this._ready.rotate(n);
      if (observed && n !== 0) {
        publish("ready.move", { loop: this, op: "readyRotate", task: null, position: n });
      }
    }

    callInsert<A extends unknown[]>(
      pos: number,
      callback: (...args: A) => void,
      ...args: A
    ): Handle {
      checkInteger("loop.callInsert()", "pos", pos);
      checkCallback("callInsert", callback);
      const handle = this.callSoon(callback, ...args);
      const ready = this._ready;
      ready.removeAt(this._indexOf(handle));
      ready.insert(insertIndex(pos, ready.length), handle);
      return handle;
    }

    queueLen(): number {
      return this._ready.length;
    }

    queueItems(): Handle[] {
      const ready = this._ready;
      const items: Handle[] = [];
      for (let i = 0; i < ready.length; i++) items.push(handleAt(ready, i));
      return items;
    }

    queueFind(key: (handle: Handle) => boolean, remove = false): Handle | null {
      checkFunction(
        "loop.queueFind()",
        "key",
        key,
        "pass (handle) => boolean, e.g. (h) => loop.taskFromHandle(h) === task",
      );
      const ready = this._ready;
      for (let i = ready.length - 1; i >= 0; i--) {
        const handle = handleAt(ready, i);
        if (key(handle)) {
          if (remove) this.readyPop(i);
          return handle;
        }
      }
      return null;
    }

    queueRemove(handle: Handle): void {
      const index = this._indexOf(handle);
      if (index < 0) {
        throw new Error(
          `queueRemove(): ${handle} is not in the ready queue (it ran, was removed, or was never scheduled here).`,
        );
      }
      this.readyPop(index);
    }

    queueInsert(handle: Handle): void {
      this.readyInsert(this._ready.length, handle);
    }

    queueInsertPos(handle: Handle, pos: number): void {
      this.readyInsert(pos, handle);
    }

    callPos<A extends unknown[]>(pos: number, callback: (...args: A) => void, ...args: A): Handle {
      return this.callInsert(pos, callback, ...args);
    }

    taskFromHandle(handle: Handle): Task | null {
      return taskOfEntry(handle);
    }

    queueTasks(): Task[] {
      const tasks: Task[] = [];
      const ready = this._ready;
      for (let i = 0; i < ready.length; i++) {
        const task = taskOfEntry(ready.get(i));
        if (task !== null) tasks.push(task);
      }
      return tasks;
    }

    /** @internal */
    _takeTask(task: Task): Handle | null {
      // A task that is done, running, blocked or on another loop has no entry: no search needed.
      if (task._loop !== this || task._state !== PENDING || task === this._currentTask) return null;
      const waitingFor = task._futWaiter;
      if (waitingFor !== null && waitingFor._state === PENDING) return null;
      const index = this._findEntry(null, task);
      return index < 0 ? null : removeAt(this._ready, index);
    }

    /** @internal */
    _callFirst(callback: (arg0: never, arg1: never) => void, arg0: unknown, arg1: unknown): void {
      const handle = this._call(callback, 2, arg0, arg1, null);
      this._ready.removeAt(this._indexOf(handle));
      this._ready.unshift(handle);
    }

    /** @internal Position of `handle`, or -1. */
    _indexOf(handle: Handle): number {
      return this._findEntry(handle, null);
    }

    /**
     * @internal Position of `handle`, or of the entry of `task` (the one it
     * resumes), or -1. Searched from both ends at once: an entry just queued
     * is at the back, one just moved to the front is there. (A priority loop
     * looks where its queue put the entry.)
     */
    _findEntry(handle: Handle | null, task: Task | null): number {
      const ready = this._ready;
      const matches = (entry: Handle | ReadyEntry): boolean =>
        entry === handle || (task !== null && taskOfEntry(entry) === task);
      for (let front = 0, back = ready.length - 1; front <= back; front++, back--) {
        if (matches(ready.get(back))) return back;
        if (matches(ready.get(front))) return front;
      }
      return -1;
    }
  }
  return Scheduling;
}

/**
 * True for a loop made with {@link SchedulingMixin}, such as
 * {@link SchedulingHostEventLoop} and {@link SchedulingVirtualEventLoop}.
 *
 * @example
 * ```ts
 * import { getRunningLoop, isSchedulingLoop, run } from "asynkit";
 * await run(function* () {
 *   const loop = getRunningLoop();
 *   if (isSchedulingLoop(loop)) console.log(loop.readyLen());
 * });
 * ```
 */
export function isSchedulingLoop(loop: BaseEventLoop): loop is BaseEventLoop & SchedulingLoop {
  return typeof loop === "object" && loop !== null && schedulingBrand in loop;
}

/**
 * A {@link HostEventLoop} whose ready queue can be inspected and reordered.
 *
 * @example
 * ```ts
 * import { SchedulingHostEventLoop, run, sleepInsert } from "asynkit";
 * await run(function* () { yield* sleepInsert(0); }, { loopFactory: () => new SchedulingHostEventLoop() });
 * ```
 */
export class SchedulingHostEventLoop extends SchedulingMixin(HostEventLoop) {}

/**
 * A {@link VirtualEventLoop} whose ready queue can be inspected and reordered:
 * the loop for deterministic tests of scheduling.
 *
 * @example
 * ```ts
 * import { SchedulingVirtualEventLoop, createTask, taskSwitch } from "asynkit";
 * const loop = new SchedulingVirtualEventLoop();
 * const log: string[] = [];
 * loop.runSync((function* () {
 *   const a = createTask((function* () { log.push("a"); })());
 *   const b = createTask((function* () { log.push("b"); })());
 *   yield* taskSwitch(b);
 *   log.push("main");
 *   yield* a;
 * })());
 * console.log(log); // ["b", "a", "main"]
 * ```
 */
export class SchedulingVirtualEventLoop extends SchedulingMixin(VirtualEventLoop) {}

/**
 * The scheduling loop for real programs: the class `SchedulingEventLoopPolicy` creates.
 *
 * @example
 * ```ts
 * import { DefaultSchedulingEventLoop } from "asynkit";
 * const loop = new DefaultSchedulingEventLoop();
 * ```
 */
export const DefaultSchedulingEventLoop: typeof SchedulingHostEventLoop = SchedulingHostEventLoop;
/** The instance type of {@link DefaultSchedulingEventLoop}. */
export type DefaultSchedulingEventLoop = SchedulingHostEventLoop;

/**
 * A new {@link DefaultSchedulingEventLoop}: pass it as `run()`'s `loopFactory`.
 *
 * @example
 * ```ts
 * import { run, schedulingLoopFactory, sleepInsert } from "asynkit";
 * await run(function* () { yield* sleepInsert(0); }, { loopFactory: schedulingLoopFactory });
 * ```
 */
export function schedulingLoopFactory(): SchedulingHostEventLoop {
  return new DefaultSchedulingEventLoop();
}
