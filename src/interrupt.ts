/**
 * Immediate interruption, as asynkit's task_throw / task_interrupt /
 * task_timeout: an error thrown into a task at its very next step, ahead of
 * everything else that is ready. Unlike cancel(), it cancels nothing: the
 * future the task waited on goes on, only the wait is abandoned.
 */
import "./util/dispose.js";
import { observed, publish } from "./channels.js";
import { type Coro, describe } from "./coro.js";
import { TimeoutError, TimeoutInterrupt } from "./errors.js";
import { getRunningLoop, runningTask, type TimerHandle } from "./events.js";
import { PENDING } from "./futures.js";
import { bodyCoroutine, HOST_AWAIT } from "./native.js";
import { effectivePriority } from "./priority.js";
import {
  type AnySchedulingLoop,
  checkTask,
  schedulingLoop,
  sleepAt,
  TASK_SWITCH_OPTIONS,
  type TaskSwitchOptions,
} from "./scheduling.js";
import { noteInterrupt, pendingInterrupt, type Task, throwIntoTask } from "./tasks.js";
import { type Op, thenable } from "./thenable.js";
import { checkDelay, checkFunction, checkInteger, checkOptions } from "./validate.js";

/**
 * Throws `error` (any value) into `task` at its next step, and moves that step
 * to the front of the ready queue: the task runs it before anything else that
 * is ready. A task blocked on a future stops waiting for it without cancelling
 * it (a lock or a queue gives what the future would have brought to the next
 * in line). The task must be pending, not the current task, and without a
 * cancellation or another interrupt pending (Errors that say which); a
 * cancel() made after it comes after it, at the task's next suspension.
 * Needs a scheduling loop.
 *
 * @example
 * ```ts
 * import { Event, createTask, run, schedulingLoopFactory, sleep, taskThrow } from "asynkit";
 * const log: string[] = [];
 * await run(function* () {
 *   const never = new Event();
 *   const waiter = createTask((function* () {
 *     try { yield* never.wait(); } catch (e) { log.push(`interrupted: ${(e as Error).message}`); }
 *   })());
 *   yield* sleep(0); // the waiter blocks on the event
 *   taskThrow(waiter, new Error("wake up"));
 *   yield* waiter;
 * }, { loopFactory: schedulingLoopFactory });
 * console.log(log); // ["interrupted: wake up"]
 * ```
 */
export function taskThrow(task: Task, error: unknown): void {
  checkTask("taskThrow", task);
  throwInto("taskThrow", schedulingLoop("taskThrow", task._loop), task, error);
}

/**
 * Interrupts `task` with `error` and switches to it at once, as taskThrow()
 * then taskSwitch(): the error is raised in the task before anything else
 * runs, and the caller waits at the end of the ready queue, or at `insertPos`
 * (1: right after the task). An AbortSignal's reason arrives as that very
 * object, so `catch (e) { if (e === signal.reason) … }` works.
 *
 * @example
 * ```ts
 * import { createTask, run, schedulingLoopFactory, sleep, taskInterrupt } from "asynkit";
 * const log: string[] = [];
 * await run(function* () {
 *   const sleeper = createTask((function* () {
 *     try { yield* sleep(60_000); } catch (e) { log.push(String(e)); }
 *   })());
 *   yield* sleep(0);
 *   yield* taskInterrupt(sleeper, "stop");
 *   log.push("back");
 * }, { loopFactory: schedulingLoopFactory });
 * console.log(log); // ["stop", "back"]
 * ```
 */
export function taskInterrupt(task: Task, error: unknown, options?: TaskSwitchOptions): Op<void> {
  checkTask("taskInterrupt", task);
  checkOptions("taskInterrupt()", options, "{ insertPos: 1 }", TASK_SWITCH_OPTIONS);
  const insertPos = options?.insertPos;
  if (insertPos !== undefined) checkInteger("taskInterrupt()", "insertPos", insertPos);
  return interrupt(task, error, insertPos) as Op<void>;
}

function* interrupt(task: Task, error: unknown, insertPos: number | undefined): Coro<void> {
  const loop = schedulingLoop("taskInterrupt");
  throwInto("taskInterrupt", loop, task, error);
  if (insertPos === undefined) yield;
  else yield* sleepAt("taskInterrupt", loop, insertPos);
}
thenable(interrupt);

/** An interrupt of `task` waits in the ready queue, to be thrown in at its turn. */
function interruptQueued(task: Task): boolean {
  if (pendingInterrupt(task) === null) return false;
  const loop = schedulingLoop("taskTimeout", task._loop);
  for (const queued of loop.queueTasks()) if (queued === task) return true;
  return false;
}

/** cancel() reached `task`: it is to cancel, or the future it waits on is cancelled already. */
function cancellationPending(task: Task): boolean {
  return task._mustCancel || task._futWaiter?.cancelled() === true;
}

/** Puts `error` at the front of the ready queue as `task`'s next step, or says why it cannot. */
function throwInto(what: string, loop: AnySchedulingLoop, task: Task, error: unknown): void {
  const cannot = (why: string): Error => new Error(`${what}(): cannot interrupt ${task}: ${why}.`);
  if (task.done()) throw cannot("it is done");
  if (task._loop !== loop) {
    throw cannot("it belongs to a different event loop (taskThrow() queues it on its own)");
  }
  if (task === loop._currentTask) {
    throw cannot("it is the task running now (to stop yourself, throw the error)");
  }
  if (cancellationPending(task)) {
    throw cannot("it has a cancellation pending, which it must take first");
  }
  const waitedOn = task._futWaiter;
  const queued = pendingInterrupt(task);
  if (queued !== null) {
    throw cannot(
      `it has an interrupt pending (${describe(queued.error)}), which it must take first`,
    );
  }
  if (waitedOn !== null && waitedOn._state === PENDING) {
    task._stopWaiting(); // blocked: the future goes on without it
  } else if (task._blockedOnHost) {
    throw cannot(
      `it awaits ${HOST_AWAIT}, which the loop cannot interrupt: await it through fromPromise() to make the wait interruptible, or cancel() the task (its taskSignal() aborts at once)`,
    );
  } else if (task._stepInMicrotasks) {
    throw cannot(
      "its function runs on in microtasks, past an await of a promise in its eager start, and takes no interrupt until it awaits something of the loop's: cancel() it, or interrupt it once it waits",
    );
  } else if (loop._takeTask(task) === null) {
    throw cannot("it has no step in the ready queue to replace (it was taken out)");
  }
  noteInterrupt(task, error);
  loop._callFirst(throwIntoTask, task, error);
  if (observed) publish("task.interrupted", { task, error });
}

/**
 * The deadline of a `taskTimeout()` block: `expired()` tells whether it
 * interrupted the block; disposing it (the end of a `using` block) disarms it.
 *
 * @example
 * ```ts
 * import { run, schedulingLoopFactory, sleep, taskTimeout, TimeoutInterrupt } from "asynkit";
 * await run(function* () {
 *   try {
 *     using deadline = yield* taskTimeout(10);
 *     yield* sleep(1000);
 *   } catch (e) {
 *     console.log(e instanceof TimeoutInterrupt); // true: the deadline interrupted the scope
 *   }
 * }, { loopFactory: schedulingLoopFactory });
 * ```
 */
export class TaskTimeout implements Disposable {
  /** The deadline's timer; null once it fired or the block ended (see _armed). */
  private _timer: TimerHandle | null = null;
  /** True until the deadline fired or the block ended. */
  private _armed = true;
  private _interrupt: TimeoutInterrupt | null = null;
  /** The deadline passed while the task was blocked on the host: see _fire. */
  private _undelivered = false;

  /** @internal The task whose deadline this is. */
  readonly _task: Task;

  /** @internal Use taskTimeout(). */
  constructor(task: Task, ms: number | null) {
    const loop = schedulingLoop("taskTimeout", task._loop);
    this._task = task;
    if (ms === null) return; // no deadline
    // A deadline already passed fires now: its task is queued ahead of the
    // block's first suspension, as timeout()'s callback is.
    if (ms <= 0) this._fireNow(ms);
    else this._timer = loop.callLater(ms, fireTaskTimeout, this, ms);
  }

  /**
   * @internal The deadline passed: interrupt from a task of its own, as
   * taskInterrupt() does (two deadlines due at once interrupt one after the
   * other, each after the last was delivered), at the priority of the task it
   * interrupts, which a priority loop would otherwise hold it back from.
   */
  _fireNow(ms: number): void {
    const task = this._task;
    task._loop.createTask(this._fire(task, ms), {
      name: `taskTimeout(${ms})`,
      priority: effectivePriority(task),
      // Queued, as a timer's callback would make it: started at once (an eager task factory),
      // it would interrupt from inside the step of the task it interrupts.
      eagerStart: false,
    });
  }

  /**
   * The error this deadline interrupted its task with, or null while it has
   * not: made only then, so a block that ends in time costs no Error.
   */
  get interrupt(): TimeoutInterrupt | null {
    return this._interrupt;
  }

  /** True once the deadline interrupted the block. */
  expired(): boolean {
    return this._interrupt !== null;
  }

  /**
   * Disarms the deadline (the block is over). If it passed while the task
   * awaited a promise only the host settles, which no interrupt can reach,
   * the interrupt comes out here, at the block's end.
   */
  [Symbol.dispose](): void {
    this._disarm();
    this._throwUndelivered();
  }

  /** @internal */
  _disarm(): void {
    this._timer?.cancel();
    this._timer = null;
    this._armed = false;
  }

  /** @internal Throws the interrupt made while the task was blocked on the host, once. */
  _throwUndelivered(): void {
    if (!this._undelivered) return;
    this._undelivered = false;
    throw this._interrupt;
  }

  private *_fire(task: Task, ms: number): Coro<void> {
    // An interrupt queued before this one (taskThrow(), taskInterrupt()) is thrown in
    // first: once it is, the block may have ended; if not, the deadline still holds.
    while (this._armed && !task.done() && interruptQueued(task)) yield;
    // The block may have ended, or its task be done or cancelled, by now.
    if (!this._armed || task.done() || cancellationPending(task)) return;
    this._timer = null;
    this._armed = false;
    this._interrupt = new TimeoutInterrupt(`taskTimeout(${ms}): the deadline passed`);
    // No interrupt reaches an await of a host promise, nor, before the one due first, a
    // task whose entry readyPop() holds out of the queue: the block's end delivers it.
    if (task._blockedOnHost || pendingInterrupt(task) !== null) this._undelivered = true;
    else yield* taskInterrupt(task, this._interrupt);
  }
}

/**
 * A taskTimeout()'s callback, with the deadline as its argument rather than a
 * closure: a priority loop orders it by the deadline's task.
 */
function fireTaskTimeout(deadline: TaskTimeout, ms: number): void {
  deadline._fireNow(ms);
}

/**
 * Interrupts the current task with a {@link TimeoutInterrupt} if the block
 * has not ended `ms` milliseconds from now (asynkit's task_timeout). Unlike
 * `timeout()`, nothing is cancelled and no cancellation is counted: the error
 * is thrown straight in, at once (see taskInterrupt()).
 *
 * With a body (a function* or an async function, as timeout() takes), it
 * returns the body's result, and its own interrupt comes out of the block as
 * a TimeoutError (any other error passes through). Without
 * one, `using _ = yield* taskTimeout(ms)` guards the rest of the scope, and
 * the interrupt comes out as it is: a TimeoutInterrupt, which a Disposable
 * cannot turn into something else. A timeout of 0 or less means now (at the
 * block's first suspension, as timeout()'s); `null`, no deadline (the block
 * just runs). Needs a scheduling loop.
 *
 * @example
 * ```ts
 * import { run, schedulingLoopFactory, sleep, taskTimeout, TimeoutError } from "asynkit";
 * await run(function* () {
 *   try {
 *     yield* taskTimeout(10, function* () { yield* sleep(1000); });
 *   } catch (e) {
 *     console.log(e instanceof TimeoutError); // true, after 10 ms
 *   }
 * }, { loopFactory: schedulingLoopFactory });
 * ```
 */
export function taskTimeout(ms: number | null): Op<TaskTimeout>;
export function taskTimeout<T>(ms: number | null, body: () => Coro<T> | PromiseLike<T>): Op<T>;
export function taskTimeout<T>(
  ms: number | null,
  body?: () => Coro<T> | PromiseLike<T>,
): Op<TaskTimeout | T> {
  const delay = ms === null ? null : checkDelay("taskTimeout()", "ms", ms);
  if (body !== undefined) {
    checkFunction(
      "taskTimeout()",
      "body",
      body,
      "pass function* () { ... } or an async function, or no body",
    );
    return timeBody(delay, body) as Op<T>;
  }
  return startTimeout(delay) as Op<TaskTimeout>;
}

// biome-ignore lint/correctness/useYield: a coroutine, so that it is awaited in the task it guards.
function* startTimeout(ms: number | null): Coro<TaskTimeout> {
  const task = runningTask(getRunningLoop());
  if (task === null) {
    throw new Error(
      "taskTimeout() must be awaited by a task: yield* it from a coroutine the loop runs.",
    );
  }
  return new TaskTimeout(task, ms);
}

thenable(startTimeout);

// `using _ = taskTimeout(ms)`, without the yield*, would arm no deadline: say so where it is
// disposed (on hosts whose iterators are Disposable, that would do nothing at all).
Object.defineProperty(startTimeout.prototype, Symbol.dispose, {
  value(): never {
    throw new TypeError(
      "taskTimeout() was disposed without being awaited, so it never armed its deadline: write `using _ = yield* taskTimeout(ms);` in a coroutine, `using _ = await taskTimeout(ms);` in an async function.",
    );
  },
});

function* timeBody<T>(ms: number | null, body: () => Coro<T> | PromiseLike<T>): Coro<T> {
  const deadline = yield* startTimeout(ms);
  try {
    const result = yield* bodyCoroutine<T, undefined>("taskTimeout()", body, undefined);
    deadline._throwUndelivered();
    return result;
  } catch (error) {
    if (error !== null && error === deadline.interrupt) {
      throw new TimeoutError(`taskTimeout(): the block did not finish within ${ms} ms.`, {
        cause: error,
      });
    }
    throw error;
  } finally {
    deadline._disarm();
  }
}
thenable(timeBody);
