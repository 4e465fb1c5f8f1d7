/**
 * sleep(): suspend the current task for a while, as asyncio.sleep.
 */
import type { Suspend } from "./coro.js";
import type { TimerHandle } from "./events.js";
import { getRunningLoop } from "./events.js";
import { type Future, WaitFuture, waitStep } from "./futures.js";
import { type Op, thenable } from "./thenable.js";
import { checkDelay } from "./validate.js";

/**
 * `sleep(0)`: one bare yield, then the value. A plain iterator rather than a
 * generator, because `yield* sleep(0)` is the loop's most common switch.
 */
class YieldOnce<T> {
  private yielded = false;
  constructor(private readonly value: T) {}

  next(): IteratorResult<Suspend, T> {
    if (this.yielded) return { done: true, value: this.value };
    this.yielded = true;
    return { done: false, value: undefined };
  }

  throw(error: unknown): never {
    throw error;
  }

  return(value: T): IteratorResult<Suspend, T> {
    this.yielded = true;
    return { done: true, value };
  }

  [Symbol.iterator](): this {
    return this;
  }
}

thenable(YieldOnce);

function resolveUnlessDone<T>(future: Future<T>, value: T): void {
  if (!future.done()) future.setResult(value);
}

/**
 * `sleep(ms)` for ms > 0: a timer resolves a future the task waits on. A plain
 * iterator rather than a generator around `yield* future`, so a sleeping task
 * holds one small object instead of a generator and the future's iterator.
 */
class SleepFor<T> {
  private future: Future<T> | null = null;
  private timer: TimerHandle | null = null;
  constructor(
    private readonly ms: number,
    private readonly value: T,
  ) {}

  next(): IteratorResult<Suspend, T> {
    const future = this.future;
    if (future !== null) {
      this.stopTimer();
      return waitStep(future, true);
    }
    const loop = getRunningLoop();
    const started = new WaitFuture<T>(loop, this); // described on demand: no string per sleep
    this.future = started;
    this.timer = loop._callAt(
      loop.time() + this.ms,
      resolveUnlessDone,
      2,
      started,
      this.value,
      null,
    );
    return waitStep(started, false);
  }

  throw(error: unknown): never {
    this.stopTimer();
    throw error;
  }

  return(value: T): IteratorResult<Suspend, T> {
    this.stopTimer();
    return { done: true, value };
  }

  [Symbol.iterator](): this {
    return this;
  }

  /** What the sleeping task waits on, in deadlock and shutdown reports. */
  toString(): string {
    const timer = this.timer;
    return timer === null ? `sleep(${this.ms})` : `sleep until t=${Math.round(timer.when())} ms`;
  }

  private stopTimer(): void {
    this.timer?.cancel();
    this.timer = null;
  }
}

thenable(SleepFor);

/**
 * Suspends the current task for `ms` milliseconds, then returns `value`.
 * `sleep(0)` lets every other ready task run once first; a negative delay is
 * taken as 0, so `sleep(deadline - loop.time())` is safe after the deadline.
 *
 * @example
 * ```ts
 * import { run, sleep } from "asynkit";
 * await run(function* () {
 *   yield* sleep(100);                    // 100 ms
 *   const v = yield* sleep(10, "value"); // "value"
 * });
 * ```
 */
export function sleep<T = void>(ms: number, value?: T): Op<T> {
  if (typeof ms !== "number" || !(ms > 0)) ms = checkDelay("sleep()", "ms", ms);
  if (ms === 0) return new YieldOnce(value as T) as unknown as Op<T>;
  return new SleepFor(ms, value as T) as unknown as Op<T>;
}
