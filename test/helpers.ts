/** Small helpers shared by the test files. */
import { type Awaitable, type Coro, type Suspend, sleep, VirtualEventLoop } from "../src/index.js";

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

/** Sleeps `ms`, then throws an Error with `message`. */
export function* failAfter(ms: number, message: string): Coro<never> {
  yield* sleep(ms);
  throw new Error(message);
}
