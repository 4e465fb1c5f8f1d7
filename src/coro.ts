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

/** True for the object a `function*` returns (native, so its state is private). */
function isGeneratorObject(x: object): boolean {
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

function describeObject(x: object): string {
  if (isGeneratorObject(x)) return "a generator object";
  if (Array.isArray(x)) return `array of length ${x.length}`;
  if (x instanceof Map || x instanceof Set) return `${x.constructor.name} of size ${x.size}`;
  const kind = Object.getPrototypeOf(x)?.constructor?.name ?? "";
  if (kind === "" || kind === "Object") {
    const keys = Object.keys(x);
    return keys.length === 0 ? "object {}" : `object { ${keys.slice(0, 4).join(", ")} }`;
  }
  const text = x.toString === Object.prototype.toString ? "" : String(x);
  if (text === "") return `${kind} object`;
  return text.includes(kind) ? text.slice(0, 60) : `${kind} ${text.slice(0, 60)}`;
}

/** The TypeError for a value that is not a coroutine, with the likely fix. */
export function notACoroutine(where: string, x: unknown): TypeError {
  let hint = "pass the generator object a function* returns, e.g. createTask(work()).";
  if (isGeneratorFunction(x)) hint = `call it first: ${where}(${x.name || "fn"}()).`;
  else if (isPromiseLike(x)) hint = "wrap a promise with fromPromise(promise) to await it.";
  return new TypeError(`${where}() expects coro to be a coroutine, got ${describe(x)}: ${hint}`);
}
