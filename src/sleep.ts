/**
 * sleep(): suspend the current task for a while, as asyncio.sleep.
 */
import type { Suspend } from "./coro.js";
import { getRunningLoop, Handle, type ReadyEntry, type Timer } from "./events.js";
import {
  doneStep,
  noteBareYield,
  PENDING,
  WaitFuture,
  waitStep,
  waitSteps,
  whenSuspensionsNoted,
} from "./futures.js";
import type { BaseEventLoop } from "./loops/base.js";
import { type Op, thenable } from "./thenable.js";
import { checkDelay } from "./validate.js";

/**
 * The step of a bare yield, one object for every sleep(0): `yield*` hands the
 * inner iterator's result to the task as it is, and the task only reads it.
 */
const BARE_YIELD: IteratorResult<Suspend, never> = Object.freeze({ done: false, value: undefined });

/**
 * `sleep(0)`: one bare yield, then the value. A plain iterator rather than a
 * generator, because `yield* sleep(0)` is the loop's most common switch.
 */
class YieldOnce<T> {
  private yielded = false;
  constructor(private readonly value: T) {}

  next(): IteratorResult<Suspend, T> {
    if (this.yielded) return doneStep(this.value);
    this.yielded = true;
    return BARE_YIELD;
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

// Once debug mode is on anywhere, sleep(0) also notes where it yields, for a slow step's
// report (see noteBareYield): its method is replaced then, as a test at each call cost the
// switch workload 0.5–1% of its instructions.
whenSuspensionsNoted(() => {
  const next = YieldOnce.prototype.next;
  YieldOnce.prototype.next = function <T>(this: YieldOnce<T>): IteratorResult<Suspend, T> {
    const step = next.call(this) as IteratorResult<Suspend, T>;
    if (step.done !== true) noteBareYield();
    return step;
  };
});

/**
 * What a sleeping task waits on: a future that is its own timer. It goes into
 * the loop's timer queue and, once due, its ready queue, where running it
 * resolves it, so that the task is queued where a timer's callback resolving
 * a future would have queued it, with no TimerHandle and no callback between.
 */
class SleepTimer<T> extends WaitFuture<T> implements ReadyEntry, Timer {
  _callback: typeof fire | null = fire;
  _scheduled = true;

  readonly _when: number;

  constructor(loop: BaseEventLoop, ms: number, sleep: SleepFor<T>) {
    super(loop, sleep); // the sleep describes it, on demand: no string per sleep
    this._when = loop.time() + ms;
    loop._addTimer(this, ms);
  }

  /** @internal Due: the sleep is over, unless it was cancelled. */
  _run(): void {
    if (this._callback !== null && this._state === PENDING) {
      const sleep = this._what as SleepFor<T>;
      this._resolve(sleep._result);
      sleep._fired = true;
    }
  }

  /** @internal */
  _readyHandle(): Handle {
    return new Handle(fire, 1, this, undefined, this._loop, null);
  }

  /** A cancelled sleep leaves the timer queue (once cancelled timers are most of it). */
  override _requestCancel(message: string | undefined, cause: unknown): boolean {
    if (!super._requestCancel(message, cause)) return false;
    this.stop();
    return true;
  }

  /** Disarms the timer, if it has not fired. */
  stop(): void {
    if (this._callback === null) return;
    this._callback = null;
    if (this._scheduled) this._loop._timerHandleCancelled(this);
  }
}

/** The callback of a sleep timer's Handle, when the scheduling API shows one. */
function fire(timer: SleepTimer<unknown>): void {
  timer._run();
}

/**
 * `sleep(ms)` for ms > 0: the task waits on a SleepTimer. A plain iterator
 * rather than a generator around `yield* future`, so a sleeping task holds
 * one small object beside its timer instead of a generator and an iterator;
 * and that object is also the wait's pending step, `{ done: false, value:
 * timer }` (see `waits` in futures.ts), so a sleep makes no step of its own.
 */
class SleepFor<T> {
  readonly done = false;
  /** The timer, once the sleep has started. */
  value: SleepTimer<T> | null = null;
  /** @internal The timer fired: the sleep is over, and its task need not read the timer again. */
  _fired = false;
  constructor(
    private readonly ms: number,
    /** @internal What the sleep returns. */
    readonly _result: T,
  ) {}

  next(): IteratorResult<Suspend, T> {
    if (this._fired) {
      // Over: the timer is let go, so that a task kept after it is done keeps no timer.
      this.value = null;
      return doneStep(this._result);
    }
    const timer = this.value;
    if (timer !== null) {
      // Woken, and not by its timer: cancelled, cut short as by throw().
      if (timer._state !== PENDING) this.stop();
      return waitStep(timer, true);
    }
    const started = new SleepTimer<T>(getRunningLoop(), this.ms, this);
    this.value = started;
    return waitStep(started, false, this as IteratorYieldResult<Suspend>);
  }

  throw(error: unknown): never {
    this.stop();
    throw error;
  }

  return(value: T): IteratorResult<Suspend, T> {
    this.stop();
    return { done: true, value };
  }

  [Symbol.iterator](): this {
    return this;
  }

  /** Ends a sleep cut short (cancelled, closed): awaited again, it sleeps afresh, as Queue's calls start over. */
  private stop(): void {
    this._fired = false; // cancelled after its timer fired, it has not slept either
    const timer = this.value;
    if (timer === null) return;
    this.value = null;
    timer.stop();
  }

  /** What the sleeping task waits on, in deadlock and shutdown reports. */
  toString(): string {
    const timer = this.value;
    return timer === null ? `sleep(${this.ms})` : `sleep until t=${Math.round(timer._when)} ms`;
  }
}

waitSteps(SleepFor);
thenable(SleepFor);

/**
 * Suspends the current task for `ms` milliseconds, then returns `value`.
 * `sleep(0)` lets every other ready task run once first, and so does a
 * negative delay, so `sleep(deadline - loop.time())` is safe after the deadline.
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
export function sleep(ms: number): Op<void>;
export function sleep<T>(ms: number, value: T): Op<T>;
export function sleep<T>(ms: number, value?: T): Op<T | undefined> {
  if (typeof ms !== "number" || !(ms > 0)) ms = checkDelay("sleep()", "ms", ms);
  if (ms <= 0) return new YieldOnce(value as T) as unknown as Op<T>;
  return new SleepFor(ms, value as T) as unknown as Op<T>;
}
