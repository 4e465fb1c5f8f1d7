/**
 * What run() and runUntilComplete() settle with when main returned a value
 * their promise would adopt: a thenable of the loop, which can finish only
 * while the loop runs, and the loop stops (or closes) as main ends.
 */
import { describe, isAwaitable, isCoroutine, isPromiseLike } from "./coro.js";
import { CoroStart } from "./eager.js";
import { InvalidStateError } from "./errors.js";
import { Future } from "./futures.js";
import type { BaseEventLoop } from "./loops/base.js";

/**
 * Reads `value`, main's result, as main ends. A done future of the loop, or
 * CoroStart, gives its outcome (a failure retrieved, not reported later); a
 * pending one, or an operation (sleep(5)), which could finish only on the
 * loop, is refused, and a coroutine left suspended is closed. Another loop's
 * future is waited for, as any thenable. `ending` says what the loop does as
 * main ends, for the message.
 */
export function readMainResult<T>(
  loop: BaseEventLoop,
  value: T,
  caller: string,
  ending: string,
): { value: T } | { error: unknown } {
  const done =
    (value instanceof Future && value._loop === loop && value.done()) ||
    (value instanceof CoroStart && value.done());
  if (done) {
    try {
      return { value: (value as unknown as Future<T> | CoroStart<T>).result() };
    } catch (error) {
      return { error };
    }
  }
  const pending =
    (value instanceof Future && value._loop === loop) ||
    (!(value instanceof Future) && isPromiseLike(value) && isAwaitable(value));
  if (!pending) return { value };
  const what = value instanceof Future ? String(value) : describe(value);
  if (value instanceof CoroStart) closeQuietly(() => value.close());
  else if (isCoroutine(value)) closeQuietly(() => value.return(undefined));
  return {
    error: new InvalidStateError(
      `${caller}: main returned ${what}, which could finish only on the loop ${caller} ran, ${ending} as main ends: return (yield* it) to return its result instead.`,
    ),
  };
}

/** Ends a coroutine nobody will wait for; one that will not end at once is left as it is. */
function closeQuietly(close: () => unknown): void {
  try {
    close();
  } catch {
    // it waited in a finally block: nothing more can be done for it here
  }
}
