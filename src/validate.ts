/**
 * Checks of the public API's arguments, made at the call: a TypeError for a
 * wrong type, a RangeError for a right type out of range, with a message that
 * names the function and the argument, shows the value and its type, and says
 * what to do.
 */
import {
  coroutineOf,
  describe,
  isAsyncGenerator,
  isAwaitable,
  isCollection,
  isCollectionIterator,
  isGeneratorFunction,
  isIterator,
  isPromiseLike,
} from "./coro.js";

/** `${where} expects ${name} to be ${expected}, got <value>: ${todo}.` */
function message(
  where: string,
  name: string,
  value: unknown,
  expected: string,
  todo: string,
): string {
  return `${where} expects ${name} to be ${expected}, got ${describe(value)}: ${todo}.`;
}

/**
 * Calls `start`, the body of a public function that returns a promise: what
 * it throws (a bad argument, a loop that cannot run) is the promise's
 * rejection, as an async function's would be, so `.catch()` sees it too.
 */
export function rejectingThrows<T>(start: () => Promise<T>): Promise<T> {
  try {
    return start();
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * The TypeError for an argument of the wrong type. A promise refused (where a
 * task's body goes, say) is marked handled: the TypeError reports the mistake,
 * and the promise's own rejection later (its function's asynkit awaits belong
 * to no task, and fail when the loop closes) would only report it again, as
 * an unhandled rejection that ends the process after the TypeError was caught.
 */
export function argTypeError(
  where: string,
  name: string,
  value: unknown,
  expected: string,
  todo: string,
): TypeError {
  if (value instanceof Promise) markRefusedHandled(value);
  return new TypeError(message(where, name, value, expected, todo));
}

/**
 * @internal Marks a promise asynkit refused as handled: the refusal's error
 * reports the mistake, and nothing is left to read the promise's own failure.
 */
export function markRefusedHandled(promise: PromiseLike<unknown>): void {
  Promise.resolve(promise).catch(ignoreRejection);
}

function ignoreRejection(): void {}

/** The RangeError for an argument of the right type but out of range. */
export function argRangeError(
  where: string,
  name: string,
  value: unknown,
  expected: string,
  todo: string,
): RangeError {
  return new RangeError(message(where, name, value, expected, todo));
}

/**
 * A delay in milliseconds: a number, not NaN. A negative one comes back as it
 * is: as in asyncio, a timer set a negative delay ahead is due in the past
 * (before timers due now), and a sleep or wait of one ends at once.
 */
export function checkDelay(where: string, name: string, ms: unknown): number {
  if (typeof ms !== "number") {
    throw argTypeError(where, name, ms, "a number of milliseconds", "pass a number, such as 10");
  }
  if (Number.isNaN(ms)) {
    throw argRangeError(
      where,
      name,
      ms,
      "a number of milliseconds",
      "NaN is no delay; use 0 for now",
    );
  }
  return ms;
}

/** A time on the loop's clock, in milliseconds: a number, not NaN. */
export function checkTime(where: string, name: string, ms: unknown): void {
  if (typeof ms !== "number") {
    throw argTypeError(where, name, ms, "a time in milliseconds", "pass loop.time() + delay");
  }
  if (Number.isNaN(ms)) {
    throw argRangeError(where, name, ms, "a time in milliseconds", "pass loop.time() + delay");
  }
}

/** True for an asynkit event loop (every loop's `_bound` option names itself). */
export function isEventLoop(x: unknown): boolean {
  return (
    typeof x === "object" && x !== null && (x as { _bound?: { loop?: unknown } })._bound?.loop === x
  );
}

/** An event loop (or nothing, for the running or default one). */
export function checkLoopOption(where: string, name: string, loop: unknown): void {
  if (loop !== undefined && !isEventLoop(loop)) throw notALoop(where, name, loop);
}

/** The TypeError for something given as an event loop that is not one. */
export function notALoop(where: string, name: string, loop: unknown): TypeError {
  return argTypeError(
    where,
    name,
    loop,
    "an asynkit event loop",
    "pass a loop such as getRunningLoop(), or leave it out",
  );
}

/** An integer (of at least `min`, when given). */
export function checkInteger(where: string, name: string, value: unknown, min?: number): void {
  const expected = min === undefined ? "an integer" : `an integer >= ${min}`;
  if (typeof value !== "number") {
    throw argTypeError(where, name, value, expected, `pass a number, such as ${min ?? 0}`);
  }
  if (!Number.isInteger(value) || (min !== undefined && value < min)) {
    const todo = min === undefined ? "pass a whole number" : `pass a whole number from ${min} up`;
    throw argRangeError(where, name, value, expected, todo);
  }
}

/** A number of at least 0 (fractions allowed, as asyncio allows them for a queue's maxsize). */
export function checkNonNegative(where: string, name: string, value: unknown, todo: string): void {
  if (typeof value !== "number") {
    throw argTypeError(where, name, value, "a number >= 0", todo);
  }
  if (Number.isNaN(value) || value < 0) {
    throw argRangeError(where, name, value, "a number >= 0", todo);
  }
}

/** A function, to call later. */
/** A value that must be one of a few names: TypeError if not a string, RangeError for another string. */
export function checkOneOf(
  where: string,
  name: string,
  value: unknown,
  names: readonly string[],
  expected: string,
  todo: string,
): void {
  if (names.includes(value as string)) return;
  const error = typeof value === "string" ? argRangeError : argTypeError;
  throw error(where, name, value, expected, todo);
}

export function checkFunction(where: string, name: string, value: unknown, todo: string): void {
  if (typeof value !== "function") throw argTypeError(where, name, value, "a function", todo);
}

/** A setter's argument: a function to install, or null to go back to the default. */
export function checkFunctionOrNull(
  where: string,
  name: string,
  value: unknown,
  todo: string,
): void {
  if (value !== null && typeof value !== "function") {
    throw argTypeError(where, name, value, "a function or null", todo);
  }
}

/** The callback of loop.callSoon() and its kin, whose first argument (if any) is a delay or a position. */
export function checkCallback(what: string, callback: unknown): void {
  const first = what === "callSoon" ? "" : what === "callInsert" ? "0, " : "10, ";
  checkFunction(
    `loop.${what}()`,
    "callback",
    callback,
    `pass the function to call, e.g. loop.${what}(${first}() => { ... })`,
  );
  if (isGeneratorFunction(callback)) throw generatorCallback(`loop.${what}()`, callback);
}

/** A generator function given as a callback: its call makes a coroutine, which nothing would run. */
export function generatorCallback(where: string, callback: unknown): TypeError {
  return argTypeError(
    where,
    "callback",
    callback,
    "a function to call",
    "calling a function* only makes a coroutine, which a callback would drop: run it as a task, () => loop.createTask(work())",
  );
}

/**
 * The names of an options type's fields: a record rather than a list, so that
 * the compiler checks it names every field, and only fields.
 */
export type OptionNames<O> = { readonly [K in keyof Required<O>]: true };

/**
 * An options object (or nothing) whose every key is one of `names`: a
 * misspelt option (`{ nmae: "x" }`, from JavaScript or a spread object) would
 * otherwise be ignored without a word.
 */
export function checkOptions(
  where: string,
  options: unknown,
  example: string,
  names: OptionNames<object>,
): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null) {
    throw argTypeError(where, "options", options, "an object", `pass options as ${example}`);
  }
  for (const key in options) {
    if (!Object.hasOwn(names, key)) {
      throw new TypeError(
        `${where} has no option ${JSON.stringify(key)}: its options are ${Object.keys(names).join(", ")}.`,
      );
    }
  }
}

/** A boolean option (or nothing). */
export function checkBooleanOption(where: string, name: string, value: unknown): void {
  if (value !== undefined && typeof value !== "boolean") {
    throw argTypeError(where, name, value, "a boolean", "pass true or false");
  }
}

/** What to do instead of passing `value` to `where` where an awaitable is expected. */
function awaitableHint(where: string, value: unknown): string {
  if (isGeneratorFunction(value)) {
    return `call it first: ${where.replace(/\(\)$/, "")}(${value.name || "work"}())`;
  }
  if (typeof value === "object" && value !== null && isAsyncGenerator(value)) {
    return "an async generator is not a coroutine: write it as a function* (waiting with yield*) or as an async function";
  }
  // An iterable that is not a coroutine itself: a list's iterator, a CoroStart, or one whose
  // iterator is no iterator.
  if (isAwaitable(value)) {
    if (isIterator(value) && isCollectionIterator(value)) {
      return "the iterator of a list gives its items: wait for all of them with yield* gather([...items])";
    }
    return iterableHint(value);
  }
  if (isPromiseLike(value)) {
    return "the promise of an async function is already running, outside the loop's order: give it a task, createTask(() => fn()); a host promise (fetch, fs) goes through fromPromise(promise)";
  }
  if (Array.isArray(value) || value instanceof Set) {
    return "a list is not awaitable: wait for all of them with yield* gather(list)";
  }
  if (isCollection(value)) {
    return `a ${typeof value === "string" ? "string" : "collection"} is not awaitable`;
  }
  if (typeof value === "function") {
    return "a function is not awaitable: pass the coroutine it returns, or run it as a task and pass the task, createTask(fn) (an async function too)";
  }
  return "pass the generator object a function* returns, or a Future";
}

/** What to do with an iterable refused where a coroutine is taken (a hint must not throw). */
function iterableHint(value: unknown): string {
  let drivable = false;
  try {
    drivable = coroutineOf(value) !== null;
  } catch {
    return "its [Symbol.iterator]() threw";
  }
  return drivable
    ? "wait for it with yield* (in a task), or make it a task with ensureFuture()"
    : "its [Symbol.iterator]() gives no iterator (an object with next())";
}

/** The TypeError for argument `name` of `where`, which should have been `expected` (an awaitable). */
export function notAwaitable(
  where: string,
  name: string,
  value: unknown,
  expected = "an awaitable (a coroutine or a Future)",
): TypeError {
  return argTypeError(where, name, value, expected, awaitableHint(where, value));
}

/** The TypeError for a `coro` argument that is not a coroutine. */
export function notACoroutine(where: string, value: unknown): TypeError {
  return notAwaitable(where, "coro", value, "a coroutine");
}

/** Something `yield*` can wait for: a coroutine, a Future, a Task, a CoroStart; never a list. */
export function checkAwaitable(where: string, name: string, value: unknown): void {
  if (!isAwaitable(value)) throw notAwaitable(where, name, value);
}
