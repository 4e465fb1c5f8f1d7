/**
 * Native `await` of what asynkit returns as a coroutine (sleep(), lock.acquire(),
 * gather() …): one `then` method, installed on the prototype of each of
 * asynkit's generator functions and iterator classes, so the same call serves
 * `yield*` in a coroutine and `await` in an async function. `yield*` never
 * reads `then`: the generator path costs nothing more.
 */
import type { Coro } from "./coro.js";
import { activeLoop, creatorNow, outsideTasks } from "./events.js";
import { awaitInTask } from "./native.js";
import type { Task } from "./tasks.js";

/**
 * An asynkit operation: a coroutine for `yield*` in a generator, and a
 * PromiseLike for `await` in an async function (run on the running loop),
 * whose then() returns a Promise, as a Future's does.
 */
export type Op<T> = Coro<T> & {
  then<A = T, B = never>(
    onfulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    // biome-ignore lint/suspicious/noExplicitAny: as PromiseLike's, so a handler may declare (e: Error)
    onrejected?: ((reason: any) => B | PromiseLike<B>) | null,
  ): Promise<A | B>;
};

/**
 * `await op`: runs the coroutine as a task on the running loop and settles
 * with it; with no loop running it rejects with the "no running event loop" error.
 */
function then<T, A = T, B = never>(
  this: Coro<T>,
  onfulfilled?: ((value: T) => A | PromiseLike<A>) | null,
  // biome-ignore lint/suspicious/noExplicitAny: as PromiseLike's, so a handler may declare (e: Error)
  onrejected?: ((reason: any) => B | PromiseLike<B>) | null,
): Promise<A | B> {
  if (awaitInTask(this, onfulfilled as never, onrejected)) return undefined as never;
  let task: Task<T>;
  try {
    const loop = activeLoop();
    if (outsideTasks()) loop._awaitedOutsideTasks(this);
    task = loop._createTaskOf(this, creatorNow(loop));
  } catch (error) {
    return Promise.reject(error).then(onfulfilled, onrejected);
  }
  return task._promise().then(onfulfilled, onrejected);
}

/**
 * @internal Makes what `maker` produces awaitable with `await`: `maker` is a
 * generator function (its generator objects) or an iterator class (its
 * instances). The functions that return them declare Op as their result.
 */
export function thenable(maker: { prototype: object }): void {
  // Not enumerable: a coroutine compared or printed in a test shows no extra key.
  // biome-ignore lint/suspicious/noThenProperty: asynkit's coroutines are deliberately PromiseLike.
  Object.defineProperty(maker.prototype, "then", {
    value: then,
    writable: true,
    configurable: true,
  });
}
