/**
 * Asynchronous iteration across the border between coroutines and native
 * code: a native AsyncIterable (a Node stream, an async generator) consumed
 * from a coroutine, a loop over items for coroutines (`for await`'s twin),
 * and a GeneratorObject iterated by synchronous code with no loop.
 */
import { awaitSync } from "./awaitsync.js";
import type { Coro } from "./coro.js";
import { getEventLoop } from "./events.js";
import { fromPromise } from "./futures.js";
import { GeneratorObject } from "./generatorobject.js";
import { callBody, resultCoroutine, runAsNoOwner } from "./native.js";
import { type Op, thenable } from "./thenable.js";
import { argTypeError, checkFunction } from "./validate.js";

/** A source that a stream's destroy() ends at once, even in the middle of a read. */
type Destroyable = { destroy(): unknown };

/**
 * A GeneratorObject over a native async iterable, so a coroutine can consume
 * it: each `next()` waits for the source's next item. Closing it (return(),
 * close(), leaving a {@link forAwait} early, or cancelling the consumer)
 * closes the source with its `return()`, as `for await` would. A read that
 * is still pending when the consumer is cancelled cannot be taken back, and
 * the source takes return() only after it: a Node stream (anything with
 * `destroy()`) is destroyed, which ends the read at once; any other source is
 * asked to return without waiting for it.
 *
 * @example
 * ```ts
 * import { fromAsyncIterable, run } from "asynkit";
 * async function* native() { yield "a"; yield "b"; }
 * await run(function* () {
 *   const items = fromAsyncIterable(native());
 *   for (let r = yield* items.next(); !r.done; r = yield* items.next()) console.log(r.value); // a b
 * });
 * ```
 */
export function fromAsyncIterable<T, TReturn = unknown>(
  source: AsyncIterable<T, TReturn>,
): GeneratorObject<T, TReturn | undefined> {
  if (!isAsyncIterable(source)) {
    throw argTypeError(
      "fromAsyncIterable()",
      "source",
      source,
      "an async iterable",
      "pass an object with [Symbol.asyncIterator](), such as an async generator or a Node stream",
    );
  }
  return new GeneratorObject((g) => pump(g, source));
}

function* pump<T, TReturn>(
  g: GeneratorObject<T, TReturn | undefined>,
  source: AsyncIterable<T, TReturn>,
): Coro<TReturn | undefined> {
  const iterator = source[Symbol.asyncIterator]();
  // Whether the source still needs closing, and whether a read of it is pending.
  let open = true;
  let reading = false;
  try {
    for (;;) {
      // Its awaits of asynkit awaitables (an async generator's) are no task's: each runs as
      // a task of its own, with or without the asyncLocalStorage option.
      const read = fromPromise(runAsNoOwner(() => iterator.next()));
      let step: IteratorResult<T, TReturn>;
      try {
        step = yield* read;
      } catch (error) {
        // A read that failed ended the source; one that was abandoned is still running.
        reading = !read.done() || read.cancelled();
        open = reading;
        throw error;
      }
      if (step.done === true) {
        open = false;
        return step.value;
      }
      yield* g.yield(step.value);
    }
  } catch (error) {
    if (open) {
      open = false;
      yield* closeAfterError(closeSource(source, iterator, reading));
    }
    throw error;
  } finally {
    // Closed with return() where it yields an item: no read is pending.
    if (open) yield* closeSource(source, iterator, false);
  }
}

function* closeSource<T, TReturn>(
  source: AsyncIterable<T, TReturn>,
  iterator: AsyncIterator<T, TReturn>,
  reading: boolean,
): Coro<void> {
  if (!reading) {
    const close = iterator.return;
    if (typeof close === "function") yield* fromPromise(runAsNoOwner(() => close.call(iterator)));
    return;
  }
  const stream = source as Partial<Destroyable>;
  if (typeof stream.destroy === "function") stream.destroy();
  const loop = getEventLoop();
  runAsNoOwner(() => iterator.return?.())?.then(undefined, (exception: unknown) =>
    loop.callExceptionHandler({
      message: "fromAsyncIterable(): the source failed to close after a read was abandoned",
      exception,
    }),
  );
}

/** Anything {@link forAwait} iterates: a GeneratorObject, or a native async iterable. */
export type ForAwaitSource<T> = GeneratorObject<T, unknown, unknown> | AsyncIterable<T, unknown>;

/**
 * What {@link forAwait} runs for each item: false stops the loop; anything
 * else goes on. A coroutine or a promise (an async body) is waited for first.
 */
export type ForAwaitBody<T> = (
  item: T,
) => ForAwaitOutcome | Coro<ForAwaitOutcome> | PromiseLike<ForAwaitOutcome>;

/** What a {@link ForAwaitBody} gives for an item, at once or when awaited: false stops the loop. */
// biome-ignore lint/suspicious/noConfusingVoidType: a body that returns nothing is typed as returning void.
export type ForAwaitOutcome = boolean | undefined | void;

/**
 * Runs `body` for each item of `source`, in order, as `for await` does for
 * native code: `yield* forAwait(gen, function* (item) { ... })`, or `await
 * forAwait(...)` in an async function. `body` may be a generator function or
 * an async function (each call is waited for before the next item, in the
 * task's order) or a plain function; returning `false` stops the loop, as
 * `break` would. When
 * the loop ends early (false, an error, a cancellation), the source is closed
 * with its return(). A native async iterable is read through
 * {@link fromAsyncIterable}.
 *
 * @example
 * ```ts
 * import { type Coro, forAwait, GeneratorObject, run, sleep } from "asynkit";
 * function* numbers(g: GeneratorObject<number>): Coro<void> {
 *   for (let i = 1; ; i++) {
 *     yield* sleep(1);
 *     yield* g.yield(i);
 *   }
 * }
 * await run(function* () {
 *   yield* forAwait(new GeneratorObject(numbers), function* (n) {
 *     yield* sleep(1);
 *     console.log(n); // 1 2 3
 *     return n < 3;
 *   });
 * });
 * ```
 */
export function forAwait<T>(source: ForAwaitSource<T>, body: ForAwaitBody<T>): Op<void> {
  const gen = source instanceof GeneratorObject ? source : null;
  if (gen === null && !isAsyncIterable(source)) {
    throw argTypeError(
      "forAwait()",
      "source",
      source,
      "a GeneratorObject or an async iterable",
      "pass new GeneratorObject(function* (g) { ... }), an async generator or a Node stream",
    );
  }
  checkFunction(
    "forAwait()",
    "body",
    body,
    "pass the function to run for each item, e.g. function* (item) { ... }",
  );
  return eachItem(gen ?? fromAsyncIterable(source as AsyncIterable<T, unknown>), body) as Op<void>;
}

function* eachItem<T>(
  gen: GeneratorObject<T, unknown, unknown>,
  body: ForAwaitBody<T>,
): Coro<void> {
  // While the body handles an item, the generator waits where it yielded it: leaving then closes it.
  let open = false;
  try {
    for (;;) {
      const step = yield* gen.next();
      if (step.done === true) return;
      open = true;
      const outcome = callBody("forAwait()", body, step.value);
      const waitFor = resultCoroutine("forAwait()", outcome);
      if ((waitFor === null ? outcome : yield* waitFor) === false) return;
      open = false;
    }
  } catch (error) {
    if (open) {
      open = false;
      yield* closeAfterError(gen.return());
    }
    throw error;
  } finally {
    if (open) yield* gen.return();
  }
}

/** Closes what a loop left early because of an error, which wins over one from closing, as in `for await`. */
function* closeAfterError(closing: Coro<unknown>): Coro<void> {
  try {
    yield* closing;
  } catch {
    // The error that ended the loop is the one to report.
  }
}

/**
 * Iterates a GeneratorObject from synchronous code, with no event loop: each
 * item is awaited with {@link awaitSync}, so a body that has to wait on
 * something not done yet raises a SynchronousError (asynkit's `aiter_sync()`).
 * Leaving the loop early closes the generator.
 *
 * @example
 * ```ts
 * import { aiterSync, type Coro, GeneratorObject } from "asynkit";
 * function* squares(g: GeneratorObject<number>): Coro<void> {
 *   for (let i = 1; i <= 3; i++) yield* g.yield(i * i);
 * }
 * console.log([...aiterSync(new GeneratorObject(squares))]); // [ 1, 4, 9 ]
 * ```
 */
export function aiterSync<T, TReturn>(
  gen: GeneratorObject<T, TReturn, unknown>,
): Generator<T, TReturn | undefined, undefined> {
  if (!(gen instanceof GeneratorObject)) {
    const todo = isAsyncIterable(gen)
      ? "a native async iterable gives its items through promises, which synchronous code cannot wait for: use for await"
      : "pass new GeneratorObject(function* (g) { ... })";
    throw argTypeError("aiterSync()", "gen", gen, "a GeneratorObject", todo);
  }
  return iterateSync(gen);
}

function* iterateSync<T, TReturn>(
  gen: GeneratorObject<T, TReturn, unknown>,
): Generator<T, TReturn | undefined, undefined> {
  let exhausted = false;
  try {
    for (;;) {
      const step = awaitSync(gen.next());
      if (step.done === true) {
        exhausted = true;
        return step.value;
      }
      yield step.value;
    }
  } finally {
    if (!exhausted) awaitSync(gen.return());
  }
}

function isAsyncIterable(x: unknown): x is AsyncIterable<unknown, unknown> {
  return (
    typeof x === "object" &&
    x !== null &&
    typeof (x as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === "function"
  );
}

// Awaitable from async functions too, as the rest of asynkit (see thenable.ts).
thenable(eachItem);
