/** Small helpers shared by the test files. */
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import {
  type Awaitable,
  type Coro,
  type Suspend,
  sleep,
  type Task,
  VirtualEventLoop,
} from "../src/index.js";

/** Runs a coroutine (or a function* to call) to completion on a fresh virtual loop. */
export function runV<T>(main: Coro<T> | (() => Coro<T>)): T {
  return new VirtualEventLoop().runSync(typeof main === "function" ? main() : main);
}

/** Waits for `aw` and returns what it threw (undefined if it did not throw). */
export function* catching(aw: Iterable<Suspend, unknown, unknown>): Coro<unknown> {
  try {
    yield* aw;
  } catch (error) {
    return error;
  }
  return undefined;
}

/**
 * Waits for what `body` returns and gives its result, or what it threw. `body`
 * is called inside the try, so an error thrown by the call itself is caught too.
 */
export function* caught(body: () => Awaitable<unknown>): Coro<unknown> {
  try {
    return yield* body();
  } catch (error) {
    return error;
  }
}

/** The error `fn()` throws (fails the test if it returns): the synchronous twin of caught(). */
export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error, but none was thrown");
}

/**
 * What a call refused at once: its throw, or, for a function that returns a
 * promise, the rejection that promise had already when the call returned.
 */
export async function refused(fn: () => unknown): Promise<Error> {
  let returned: unknown;
  try {
    returned = fn();
  } catch (error) {
    return error as Error;
  }
  return rejectedAtCall(returned);
}

/** The rejection of `promise`, which must be rejected already (see refused()). */
export async function rejectedAtCall(promise: unknown): Promise<Error> {
  if (!(promise instanceof Promise)) {
    throw new Error(`expected an error, but none was thrown and ${String(promise)} was returned`);
  }
  const notYet = Symbol("not settled at the call");
  // An already rejected promise's reaction is queued first, so it wins the race.
  const outcome = await Promise.race([promise, notYet]).then(
    (value: unknown) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if ("error" in outcome) return outcome.error as Error;
  throw new Error(
    outcome.value === notYet
      ? "expected a promise rejected at the call, but it was still pending"
      : "expected a rejected promise, but it fulfilled",
  );
}

/** Sleeps `ms`, then throws an Error with `message`. */
export function* failAfter(ms: number, message: string): Coro<never> {
  yield* sleep(ms);
  throw new Error(message);
}

/**
 * Which objects the collector frees: `watch(object, name)`, then
 * `await collected(count)` runs full collections (a host turn after each, for
 * the finalizers) until `count` of them are gone, twenty at most, and gives
 * their names, sorted. A FinalizationRegistry rather than WeakRefs: a deref()
 * keeps its target alive until the host's job ends.
 */
export function collection(): {
  watch(target: object, name: string): void;
  collected(count: number): Promise<string[]>;
} {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  const names: string[] = [];
  const registry = new FinalizationRegistry<string>((name) => names.push(name));
  return {
    watch: (target, name) => registry.register(target, name),
    async collected(count) {
      for (let i = 0; i < 20 && names.length < count; i++) {
        gc();
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return [...names].sort();
    },
  };
}

/**
 * Calls `onBlocked` each time a loop finds a native task named `name` (any, for
 * null) blocked on the host (asynkit:task.suspended with no future), until the function it
 * returns is called. A host promise settled from there settles after the
 * loop's look, whatever the load: a host timer armed at the await may fire
 * before it (the loop looks in its next host macrotask). Call it before the
 * loop starts its run: a loop reads whether anyone listens when it starts.
 */
export function whenBlockedOnHost(name: string | null, onBlocked: () => void): () => void {
  const listener = (message: unknown): void => {
    const { task, future } = message as { task: Task<unknown>; future: unknown };
    if (future === null && (name === null || task.getName() === name)) onBlocked();
  };
  subscribe("asynkit:task.suspended", listener);
  return () => unsubscribe("asynkit:task.suspended", listener);
}
