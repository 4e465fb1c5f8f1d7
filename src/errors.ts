/**
 * The errors asynkit raises, as in asyncio's `exceptions` module.
 * Each sets `name`, so messages and stack traces say which one it is.
 */
import type { Task } from "./tasks.js";

/**
 * Thrown into a coroutine when its task is cancelled, and raised by
 * `result()` of a cancelled future. Catch it only to clean up, then rethrow.
 *
 * @example
 * ```ts
 * import { CancelledError, createTask, run, sleep } from "asynkit";
 * await run(function* () {
 *   const worker = createTask((function* () {
 *     try { yield* sleep(1000); } catch (e) { console.log(e instanceof CancelledError); throw e; } // true
 *   })());
 *   yield* sleep(10);
 *   worker.cancel();
 *   yield* sleep(0);
 * });
 * ```
 */
export class CancelledError extends Error {
  override name = "CancelledError";
}

/**
 * @internal The cancellation an error stands for: a CancelledError itself, or
 * the one a host API's AbortError carries as its cause (Node's timers, fs and
 * child_process reject so when given a taskSignal() that a cancellation
 * aborted); null for any other error.
 */
export function cancellationOf(error: unknown): CancelledError | null {
  if (error instanceof CancelledError) return error;
  if (
    error instanceof Error &&
    error.name === "AbortError" &&
    error.cause instanceof CancelledError
  ) {
    return error.cause;
  }
  return null;
}

/**
 * An operation was attempted on a future in the wrong state, such as
 * `result()` on a pending future or `setResult()` on a done one.
 *
 * @example
 * ```ts
 * import { Future, InvalidStateError, VirtualEventLoop } from "asynkit";
 * const future = new Future({ loop: new VirtualEventLoop() });
 * try { future.result(); } catch (e) { console.log(e instanceof InvalidStateError); } // true
 * ```
 */
export class InvalidStateError extends Error {
  override name = "InvalidStateError";
}

/**
 * A deadline passed: raised by `timeout()` and `waitFor()`.
 *
 * @example
 * ```ts
 * import { run, sleep, TimeoutError, waitFor } from "asynkit";
 * await run(function* () {
 *   try { yield* waitFor(sleep(100), 10); } catch (e) { console.log(e instanceof TimeoutError); } // true
 * });
 * ```
 */
export class TimeoutError extends Error {
  override name = "TimeoutError";
}

/**
 * A coroutine driven without an event loop (`awaitSync`) tried to wait for
 * something that is not done yet.
 *
 * @example
 * ```ts
 * import { awaitSync, Future, SynchronousError, VirtualEventLoop } from "asynkit";
 * const pending = new Future({ loop: new VirtualEventLoop() });
 * try { awaitSync(pending); } catch (e) { console.log(e instanceof SynchronousError); } // true
 * ```
 */
export class SynchronousError extends Error {
  override name = "SynchronousError";
}

/**
 * Raised by `Queue.getNowait()` on an empty queue.
 *
 * @example
 * ```ts
 * import { Queue, QueueEmpty } from "asynkit";
 * try { new Queue().getNowait(); } catch (e) { console.log(e instanceof QueueEmpty); }
 * ```
 */
export class QueueEmpty extends Error {
  override name = "QueueEmpty";
}

/**
 * Raised by `Queue.putNowait()` on a full queue.
 *
 * @example
 * ```ts
 * import { Queue, QueueFull } from "asynkit";
 * const q = new Queue<number>(1); q.putNowait(1);
 * try { q.putNowait(2); } catch (e) { console.log(e instanceof QueueFull); }
 * ```
 */
export class QueueFull extends Error {
  override name = "QueueFull";
}

/**
 * Raised by a queue's `put`/`get` after `shutdown()`.
 *
 * @example
 * ```ts
 * import { Queue, QueueShutDown } from "asynkit";
 * const q = new Queue<number>(); q.shutdown();
 * try { q.putNowait(1); } catch (e) { console.log(e instanceof QueueShutDown); }
 * ```
 */
export class QueueShutDown extends Error {
  override name = "QueueShutDown";
}

/**
 * Raised by `Barrier.wait()` when the barrier is reset or aborted.
 *
 * @example
 * ```ts
 * import { Barrier, BrokenBarrierError, createTask, run, sleep } from "asynkit";
 * await run(function* () {
 *   const barrier = new Barrier(2);
 *   const waiter = createTask(barrier.wait());
 *   yield* sleep(0);
 *   yield* barrier.abort();
 *   try { yield* waiter; } catch (e) { console.log(e instanceof BrokenBarrierError); } // true
 * });
 * ```
 */
export class BrokenBarrierError extends Error {
  override name = "BrokenBarrierError";
}

/**
 * A cancellation that interrupts a task with a specific reason; being a
 * `CancelledError`, it unwinds the task the same way.
 *
 * @example
 * ```ts
 * import { InterruptError, CancelledError } from "asynkit";
 * console.log(new InterruptError("stop") instanceof CancelledError); // true
 * ```
 */
export class InterruptError extends CancelledError {
  override name = "InterruptError";
}

/**
 * What taskTimeout() interrupts its task with when the deadline passes; its
 * body form turns it into a TimeoutError as it leaves the block.
 *
 * @example
 * ```ts
 * import { InterruptError, TimeoutInterrupt } from "asynkit";
 * console.log(new TimeoutInterrupt("late") instanceof InterruptError); // true
 * ```
 */
export class TimeoutInterrupt extends InterruptError {
  override name = "TimeoutInterrupt";
}

/**
 * A program can never finish: the run waits for tasks that wait for things
 * nothing will ever deliver (a lock never released, an event never set, a
 * future nobody resolves). Raised by `run()` and `runUntilComplete()` when the
 * loop is idle with nothing pending on the host (or the process is about to
 * exit), and by `runSync()`. The message lists every unfinished task and what
 * it waits on; `tasks` holds them.
 *
 * @example
 * ```ts
 * import { DeadlockError, Future, run } from "asynkit";
 * try {
 *   await run(function* () { yield* new Future(); }); // nobody will resolve it
 * } catch (e) {
 *   console.log(e instanceof DeadlockError); // true
 * }
 * ```
 */
export class DeadlockError extends Error {
  override name = "DeadlockError";

  /** The tasks that were not done when the deadlock was found, oldest first. */
  declare readonly tasks: readonly Task[];

  /** @internal Made by the loop that found the deadlock. */
  constructor(message: string, tasks: readonly Task[]) {
    super(message);
    // Not enumerable: an uncaught error is printed with its own properties, and the message lists the tasks already.
    Object.defineProperty(this, "tasks", { value: tasks });
  }
}

/**
 * A native task awaited a promise its VirtualEventLoop did not make (a host
 * timer, fetch, a promise of its own), or code outside the loop's tasks
 * awaited one of asynkit's while a task's function went on past such an
 * await: the run is no longer deterministic. Thrown where the loop was given
 * `hostAwaits: "error"`; the task it names ends with it.
 *
 * @example
 * ```ts
 * import { HostAwaitError, VirtualEventLoop, createTask } from "asynkit";
 * const loop = new VirtualEventLoop({ hostAwaits: "error" });
 * const failed = await loop.runUntilComplete(async () => {
 *   const task = createTask(async () => {
 *     await new Promise((resolve) => setTimeout(resolve, 1)); // a host timer
 *   });
 *   try {
 *     await task;
 *     return null;
 *   } catch (error) {
 *     return error;
 *   }
 * });
 * console.log(failed instanceof HostAwaitError); // true
 * loop.close();
 * ```
 */
export class HostAwaitError extends Error {
  override name = "HostAwaitError";
}
