/**
 * awaitSync(): drive a coroutine to its end without an event loop, as
 * asynkit's `await_sync()`, for async code that in fact never has to wait.
 */
import { type Awaitable, type Coro, coroutineOf, describe, type Suspend } from "./coro.js";
import { SynchronousError } from "./errors.js";
import { enterAwaitSync } from "./events.js";
import { Future } from "./futures.js";
import { notAwaitable } from "./validate.js";

/**
 * Runs `awaitable` to its end right here, with no event loop, and returns its
 * result (or throws its error). Bare yields (`yield* sleep(0)`) are skipped.
 * Waiting on anything not done yet (a pending Future or Task) cannot finish
 * synchronously: a SynchronousError is thrown into the coroutine at that
 * point, so its `finally` blocks run, and then raised here. A coroutine that
 * catches it and returns has decided not to wait after all, and its value is
 * the result.
 *
 * @example
 * ```ts
 * import { awaitSync, Future, sleep, SynchronousError } from "asynkit";
 * function* cached(key: string) { yield* sleep(0); return `value of ${key}`; }
 * console.log(awaitSync(cached("a"))); // "value of a"
 * try { awaitSync(new Future()); } catch (e) { console.log(e instanceof SynchronousError); } // true
 * ```
 */
export function awaitSync<T>(awaitable: Awaitable<T>): T {
  const iterator = iteratorOf(awaitable);
  const leave = enterAwaitSync();
  try {
    let step = iterator.next();
    while (step.done !== true) {
      const yielded = step.value;
      if (yielded === undefined) {
        step = iterator.next();
        continue;
      }
      return abort(iterator, yielded);
    }
    return step.value;
  } finally {
    leave();
  }
}

/** The coroutine wants to wait: throw the error into it, and give up if it still waits. */
function abort<T>(iterator: Coro<T>, yielded: Suspend): T {
  const error = new SynchronousError(
    `awaitSync(): the coroutine waited on ${yielded instanceof Future ? String(yielded) : describe(yielded)}, which is not done, so it cannot finish synchronously. Run it on an event loop (run(), createTask) instead.`,
  );
  let step = iterator.throw(error);
  while (step.done !== true) {
    if (step.value === undefined) {
      step = iterator.next();
      continue;
    }
    // It caught the error and waits again: end it, then fail.
    iterator.return?.(undefined as T);
    throw error;
  }
  return step.value;
}

function iteratorOf<T>(awaitable: Iterable<Suspend, T, unknown>): Coro<T> {
  const coro = coroutineOf(awaitable);
  if (coro === null) {
    throw notAwaitable(
      "awaitSync()",
      "awaitable",
      awaitable,
      "a coroutine, a Future or another yield*-able",
    );
  }
  return coro as Coro<T>;
}
