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

/** True for a generator-like object that a task can drive (it has `next` and `throw`). */
export function isCoroutine(x: unknown): x is Coro<unknown> {
  return (
    typeof x === "object" &&
    x !== null &&
    typeof (x as Coro).next === "function" &&
    typeof (x as Coro).throw === "function"
  );
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

/** The TypeError for a value that is not a coroutine, with the likely fix. */
export function notACoroutine(where: string, x: unknown): TypeError {
  let hint = "pass the generator object a function* returns, e.g. createTask(work()).";
  if (isGeneratorFunction(x)) hint = `call it first: ${where}(${x.name || "fn"}()).`;
  else if (isPromiseLike(x)) hint = "wrap a promise with fromPromise(promise) to await it.";
  return new TypeError(`${where}() expects a coroutine, got ${describe(x)}: ${hint}`);
}
