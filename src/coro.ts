/**
 * What a coroutine is in asynkit: a generator that suspends by yielding a
 * pending Future (`yield* future`) or nothing (a bare `yield`).
 */
import type { Future } from "./futures.js";

declare const signalBrand: unique symbol;

/** An opaque message from asynkit's own machinery to the task driving a coroutine. */
export interface Signal {
  readonly [signalBrand]: true;
}

/** What a coroutine may yield to its task. */
export type Suspend = Future<unknown> | undefined | Signal;

/** A coroutine: the generator object a `function*` returns. */
export type Coro<T = unknown> = Generator<Suspend, T, unknown>;

/** Anything `yield*` accepts that produces T: a Coro, a Future, a Task, a CoroStart. */
export type Awaitable<T> = Coro<T> | Future<T> | Iterable<Suspend, T, unknown>;

/** What `yield*` of an awaitable gives: the result type of a coroutine, Future, Task or CoroStart. */
export type AwaitedResult<A> = A extends Iterable<Suspend, infer T, unknown> ? T : never;

/** True for a generator-like object that a task can drive (it has `next` and `throw`). */
export function isCoroutine(x: unknown): x is Coro<unknown> {
  return (
    typeof x === "object" &&
    x !== null &&
    typeof (x as Coro).next === "function" &&
    typeof (x as Coro).throw === "function"
  );
}

/**
 * True for a collection: an array, Set, Map, string or typed array. Its
 * iterator has no `throw`, so it is never awaitable, whatever it holds.
 */
function isCollection(x: unknown): boolean {
  return (
    typeof x === "string" ||
    Array.isArray(x) ||
    x instanceof Set ||
    x instanceof Map ||
    ArrayBuffer.isView(x)
  );
}

/**
 * True for what `yield*` can wait on: a coroutine, a Future, or another object
 * whose `[Symbol.iterator]()` gives a coroutine (a CoroStart). The iterator is
 * not called, so an odd iterable passes here and fails in coroutineOf().
 */
export function isAwaitable(x: unknown): x is Awaitable<unknown> {
  return (
    isCoroutine(x) ||
    (typeof x === "object" &&
      x !== null &&
      typeof (x as Partial<Iterable<unknown>>)[Symbol.iterator] === "function" &&
      !isCollection(x))
  );
}

/** The coroutine `yield* x` drives: x itself, or what its `[Symbol.iterator]()` gives; null when x is not awaitable. */
export function coroutineOf(x: unknown): Coro<unknown> | null {
  if (isCoroutine(x)) return x;
  if (!isAwaitable(x)) return null;
  const iterator = (x as Iterable<Suspend>)[Symbol.iterator]();
  return isCoroutine(iterator) ? iterator : null;
}

/** True for a function declared with `function*`. */
export function isGeneratorFunction(x: unknown): x is (...args: unknown[]) => Coro<unknown> {
  return typeof x === "function" && x.constructor?.name === "GeneratorFunction";
}

/** True for a native promise or any other object with a `then` method. */
export function isPromiseLike(x: unknown): x is PromiseLike<unknown> {
  return (
    (typeof x === "object" || typeof x === "function") &&
    x !== null &&
    typeof (x as PromiseLike<unknown>).then === "function"
  );
}

/** A short description of a value for error messages. */
export function describe(x: unknown): string {
  if (x === null) return "null";
  if (typeof x === "string")
    return `string ${JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}…` : x)}`;
  if (typeof x === "function") return `function ${x.name || "(anonymous)"}`;
  if (typeof x === "object") return `${x.constructor?.name ?? "object"} ${String(x).slice(0, 60)}`;
  return `${typeof x} ${String(x)}`;
}

/** The likely fix for passing `x` where a coroutine or another awaitable was expected. */
function awaitableHint(where: string, x: unknown): string {
  if (isGeneratorFunction(x)) return `call it first: ${where}(${x.name || "fn"}()).`;
  if (isPromiseLike(x)) return "wrap a promise with fromPromise(promise) to await it.";
  if (Array.isArray(x) || x instanceof Set) {
    return "a list is not awaitable: wait for all of them with yield* gather(list).";
  }
  if (isCollection(x))
    return `a ${typeof x === "string" ? "string" : "collection"} is not awaitable.`;
  return "pass the generator object a function* returns, e.g. createTask(work()).";
}

/** The TypeError for a value that is not a coroutine, with the likely fix. */
export function notACoroutine(where: string, x: unknown): TypeError {
  return new TypeError(
    `${where}() expects a coroutine, got ${describe(x)}: ${awaitableHint(where, x)}`,
  );
}

/** The TypeError for a value that is not awaitable (`what` says what is), with the likely fix. */
export function notAwaitable(
  where: string,
  x: unknown,
  what = "a coroutine, a Future or a Task",
): TypeError {
  return new TypeError(
    `${where}() expects ${what}, got ${describe(x)}: ${awaitableHint(where, x)}`,
  );
}
