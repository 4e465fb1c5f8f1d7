/**
 * What a coroutine is in asynkit: a generator that suspends by yielding a
 * pending Future (`yield* future`) or nothing (a bare `yield`).
 */
import type { Future } from "./futures.js";
import type { Task } from "./tasks.js";
import { classNameOf } from "./util/inspect.js";

declare const signalBrand: unique symbol;

/** An opaque message from asynkit's own machinery to the task driving a coroutine. */
export interface Signal {
  readonly [signalBrand]: true;
}

/** What a coroutine may yield to its task. */
export type Suspend = Future<unknown> | undefined | Signal;

/** A coroutine: the generator object a `function*` returns. */
export type Coro<T = unknown> = Generator<Suspend, T, unknown>;

/**
 * Anything `yield*` accepts that produces T: a Coro, a Future, a Task, a
 * CoroStart (an object whose `[Symbol.iterator]()` gives a coroutine; an
 * array's gives no coroutine, so a list is not one). At run time an iterable
 * whose iterator is a plain one (no throw()) is driven too; the type asks for
 * a coroutine so that `gather(tasks.values())` and the like fail to compile.
 */
export type Awaitable<T> = Coro<T> | Future<T> | { [Symbol.iterator](): Coro<T> };

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

/** %AsyncGeneratorPrototype%, which every async generator object of this realm inherits from. */
const AsyncGeneratorPrototype: object = Object.getPrototypeOf(async function* () {}).prototype;

/**
 * True for an async generator object: it has next() and throw(), but they
 * return promises, so no task can drive it (it would spin on them for ever).
 */
export function isAsyncGenerator(x: object): boolean {
  return Object.prototype.isPrototypeOf.call(AsyncGeneratorPrototype, x);
}

/**
 * True for a collection: an array, Set, Map, string or typed array. Its
 * iterator has no `throw`, so it is never awaitable, whatever it holds.
 */
export function isCollection(x: unknown): boolean {
  return (
    typeof x === "string" ||
    Array.isArray(x) ||
    x instanceof Set ||
    x instanceof Map ||
    ArrayBuffer.isView(x)
  );
}

/**
 * True for what `yield*` can wait on: a coroutine, a Future, or another
 * iterable that is not a collection (a CoroStart). The iterator is not
 * called, so an odd iterable passes here and fails in coroutineOf().
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

/**
 * The coroutine `yield* x` drives: x itself, what its `[Symbol.iterator]()`
 * gives, or, for an iterator without throw(), a coroutine that delegates to
 * it as `yield*` does; null when x is not awaitable.
 */
export function coroutineOf(x: unknown): Coro<unknown> | null {
  if (isCoroutine(x)) return x;
  if (!isAwaitable(x)) return null;
  const iterator = (x as Iterable<Suspend>)[Symbol.iterator]();
  if (isCoroutine(iterator)) return iterator;
  return isIterator(iterator) && !isCollectionIterator(iterator) ? delegateTo(iterator) : null;
}

/** True for an object with a next() method. */
export function isIterator(x: unknown): x is Iterator<Suspend, unknown, unknown> {
  return typeof x === "object" && x !== null && typeof (x as Iterator<unknown>).next === "function";
}

/**
 * True for a built-in iterator (an array's, a Map's, an iterator helper's,
 * matchAll()'s, a URLSearchParams'): it gives items, never suspensions, so it
 * is a list, not an awaitable. Each has a tag of its own; an iterator of
 * one's own has Object's.
 */
export function isCollectionIterator(iterator: object): boolean {
  return Object.prototype.toString.call(iterator) !== "[object Object]";
}

function* delegateTo(iterator: Iterator<Suspend, unknown, unknown>): Coro<unknown> {
  return yield* { [Symbol.iterator]: () => iterator };
}

/** %GeneratorFunction%, the constructor of this realm's generator functions. */
const GeneratorFunction: unknown = Object.getPrototypeOf(function* () {}).constructor;

/**
 * True for a function declared with `function*` in this realm, told by its
 * prototype chain alone: what takes a body on every call asks this, since it
 * reads no property of the function (a function written in the call is new
 * each time, with a layout of its own) and calls no accessor (a function's `name`).
 */
export function isLocalGeneratorFunction(x: unknown): x is (...args: unknown[]) => Coro<unknown> {
  return typeof x === "function" && x instanceof (GeneratorFunction as FunctionConstructor);
}

/** %AsyncFunction%, the constructor of this realm's async functions. */
const AsyncFunction: unknown = Object.getPrototypeOf(async () => {}).constructor;

/** True for a function declared with `async` (not `async function*`) in this realm. */
export function isLocalAsyncFunction(x: unknown): x is (...args: unknown[]) => Promise<unknown> {
  return typeof x === "function" && x instanceof (AsyncFunction as FunctionConstructor);
}

/** True for a function declared with `function*`, in this realm or another. */
export function isGeneratorFunction(x: unknown): x is (...args: unknown[]) => Coro<unknown> {
  return (
    isLocalGeneratorFunction(x) ||
    (typeof x === "function" && x.constructor?.name === "GeneratorFunction")
  );
}

/** True for a native promise or any other object with a `then` method. */
export function isPromiseLike(x: unknown): x is PromiseLike<unknown> {
  return (
    (typeof x === "object" || typeof x === "function") &&
    x !== null &&
    typeof (x as PromiseLike<unknown>).then === "function"
  );
}

/** True for the object a `function*` returns (native, so its state is private). */
export function isGeneratorObject(x: unknown): boolean {
  return Object.prototype.toString.call(x) === "[object Generator]";
}

/** A short description of a value for error messages: its kind, then the value. */
export function describe(x: unknown): string {
  if (x === null) return "null";
  switch (typeof x) {
    case "string":
      return `string ${JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}…` : x)}`;
    case "function":
      return `${isGeneratorFunction(x) ? "generator function" : "function"} ${x.name || "(anonymous)"}`;
    case "object":
      return describeObject(x);
    case "bigint":
      return `bigint ${x}n`;
    case "symbol":
      return `symbol ${x.description ?? ""}`;
    case "undefined":
      return "undefined";
    default:
      return `${typeof x} ${String(x)}`;
  }
}

/**
 * A value as a repr shows it (a handle's arguments, a future's result), short,
 * as asyncio's reprlib does: a string quoted and cut at 20 characters, a
 * function by name, an error as `TypeError("message")`, an object by kind.
 */
export function shortRepr(x: unknown): string {
  if (reprDepth >= MAX_REPR_DEPTH && typeof x === "object" && x !== null) return "…";
  reprDepth++;
  try {
    if (typeof x === "string") return JSON.stringify(x.length > 20 ? `${x.slice(0, 20)}…` : x);
    if (typeof x === "function") return x.name || "(anonymous)";
    if (x instanceof Error) {
      const { name, message } = x;
      return `${typeof name === "string" ? name : "Error"}(${typeof message === "string" ? shortRepr(message) : ""})`;
    }
    if (typeof x === "bigint") return `${x}n`;
    return typeof x === "object" && x !== null ? describe(x) : String(x);
  } catch {
    // A repr must not throw where it is shown (an error message, a report): a revoked
    // proxy, a toString() or getter that throws.
    return `${typeof x} (unprintable)`;
  } finally {
    reprDepth--;
  }
}

/** A result that is a future whose result is a future…: shown two deep, so a cycle ends. */
const MAX_REPR_DEPTH = 3;
let reprDepth = 0;

function describeObject(x: object): string {
  if (isGeneratorObject(x)) return "a generator object";
  if (Object.prototype.toString.call(x) === "[object AsyncGenerator]") {
    return "an async generator object";
  }
  if (Array.isArray(x)) return `array of length ${x.length}`;
  const kind = classNameOf(x);
  if (x instanceof Map || x instanceof Set) return `${kind} of size ${x.size}`;
  // Not its String(), which a Buffer makes of all its bytes.
  if (ArrayBuffer.isView(x)) return `${kind} of ${x.byteLength} bytes`;
  if (kind === "Object") {
    const keys = Object.keys(x);
    return keys.length === 0 ? "object {}" : `object { ${keys.slice(0, 4).join(", ")} }`;
  }
  const text = x.toString === Object.prototype.toString ? "" : String(x);
  if (text === "") return `${kind} object`;
  return text.includes(kind) ? text.slice(0, 60) : `${kind} ${text.slice(0, 60)}`;
}

/**
 * @internal What asynkit knows of a coroutine, kept on it: the task it was
 * given to (a coroutine runs in one task, once), or the state eager() and a
 * CoroStart saw it in (see eager.ts). One slot, so that a check of both reads
 * the coroutine once.
 */
export const coroMark: unique symbol = Symbol("asynkit.coroMark");
/** @internal A coroutine as asynkit marks it. */
export type Marked = { [coroMark]?: number | Task<unknown> };
