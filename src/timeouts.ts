/**
 * Deadlines for a block of code, as asyncio's `timeouts` module: when the
 * deadline passes, the task is cancelled, and the cancellation comes out of
 * the block as a TimeoutError.
 */
import { cancellationFor } from "./abort.js";
import type { Coro } from "./coro.js";
import { TimeoutError } from "./errors.js";
import type { Handle, TimerHandle } from "./events.js";
import { getRunningLoop, runningTask } from "./events.js";
import { bodyCoroutine, enterAwaitScope, leaveAwaitScope } from "./native.js";
import type { Task } from "./tasks.js";
import { taskLabel, waitingOn } from "./tasktree.js";
import { type Op, thenable } from "./thenable.js";
import { classNameOf, inspectAsString } from "./util/inspect.js";
import { checkDelay, checkFunction, checkTime } from "./validate.js";

const CREATED = 0;
const ENTERED = 1;
const EXPIRING = 2;
const EXPIRED = 3;
const EXITED = 4;
const STATE_NAMES = ["created", "active", "expiring", "expired", "finished"];

/**
 * The deadline of a `timeout()` block, handed to its body: read it with
 * `when()`, move it with `reschedule()`, and ask `expired()` afterwards.
 *
 * @example
 * ```ts
 * import { run, sleep, timeout } from "asynkit";
 * await run(function* () {
 *   yield* timeout(1000, function* (t) {
 *     yield* sleep(500);
 *     t.reschedule(t.when()! + 1000); // more time for the rest
 *     yield* sleep(1000);
 *   });
 * });
 * ```
 */
export class Timeout {
  private _state = CREATED;
  private _when: number | null;
  private _handle: Handle | TimerHandle | null = null;
  /** @internal The task the block runs in, once entered. */
  _task: Task | null = null;
  private _cancelling = 0;
  /** @internal When the block began, for the error: how long after it the deadline came. */
  _began: number | null = null;
  /** Where the deadline found the block (its task, and what it waited on), for the error. */
  private _expiredIn = "";
  /** The await of a native task's function the block is inside, if any (see AwaitScope). */
  private _within: object | null = null;

  /** A deadline at loop time `when` (ms), or none (null). Use it through `timeout()` / `timeoutAt()`. */
  constructor(when: number | null) {
    checkWhen("new Timeout()", when);
    this._when = when;
  }

  /** The deadline, in the loop's time (ms), or null for none. */
  when(): number | null {
    return this._when;
  }

  /** Moves the deadline to loop time `when` (null: no deadline). Only while the block runs. */
  reschedule(when: number | null): void {
    checkWhen("timeout.reschedule()", when);
    if (this._state !== ENTERED) {
      if (this._state === CREATED)
        throw new Error("Timeout has not been entered: run a body with it first.");
      throw new Error(`Cannot reschedule a Timeout that is ${STATE_NAMES[this._state]}.`);
    }
    this._when = when;
    this._handle?.cancel();
    if (when === null) {
      this._handle = null;
      return;
    }
    const loop = getRunningLoop();
    this._handle =
      when <= loop.time() ? loop.callSoon(expire, this) : loop.callAt(when, expire, this);
  }

  /** True once the deadline has passed and cancelled the block. */
  expired(): boolean {
    return this._state === EXPIRING || this._state === EXPIRED;
  }

  toString(): string {
    return `<${classNameOf(this)} [${STATE_NAMES[this._state]}] when=${this._when}>`;
  }

  /** Runs `body` under this deadline, in the current task. */
  run<T>(body: (timeout: Timeout) => Coro<T> | PromiseLike<T>): Op<T> {
    checkBody("timeout.run()", body);
    return this._run(body, this) as Op<T>;
  }

  /**
   * @internal run() once its argument is checked: calls `body(arg)`, `arg`
   * being the Timeout for a user's block. waitFor() gives its one generator
   * function and what it waits for: a body made per call would be an arrow,
   * whose call goes through the loop's native steps.
   */
  *_run<T, A>(body: (arg: A) => Coro<T> | PromiseLike<T>, arg: A): Coro<T> {
    if (this._state !== CREATED)
      throw new Error("Timeout has already been entered: make a new one.");
    const loop = getRunningLoop();
    const task = runningTask(loop);
    if (task === null) throw new Error("timeout() must be used inside a task.");
    this._state = ENTERED;
    this._task = task;
    this._cancelling = task.cancelling();
    this._within = enterAwaitScope(task, this);
    this._began ??= loop.time();
    this.reschedule(this._when);
    let result: T;
    try {
      result = yield* bodyCoroutine<T, A>("timeout()", body, arg);
    } catch (error) {
      const cancelled = cancellationFor(task, error);
      if (this._exit() && cancelled !== null) {
        // A host loop's clock has sub-microsecond digits no reader wants.
        const round = (ms: number): number => Math.round(ms * 1000) / 1000;
        const when = this._when as number;
        const after = when - (this._began as number);
        const passed =
          after >= 0
            ? `passed, ${round(after)} ms after the block began`
            : `lay ${round(-after)} ms before the block began`;
        throw new TimeoutError(
          `Timed out: the deadline at loop time ${round(when)} ms ${passed}, ${this._expiredIn} (every duration is in milliseconds).`,
          { cause: cancelled },
        );
      }
      throw error;
    } finally {
      // Not left yet: the body ended (exit here), or it was closed with return(), by
      // GeneratorObject.close() or forAwait() leaving early: the deadline goes all the same.
      if (this._state === ENTERED || this._state === EXPIRING) this._exit();
    }
    return result;
  }

  /** Leaves the block; true if our own cancellation is what ends it. */
  private _exit(): boolean {
    this._handle?.cancel();
    this._handle = null;
    leaveAwaitScope(this._within, this);
    if (this._state === EXPIRING) {
      this._state = EXPIRED;
      // Ours unless someone else also asked to cancel the task meanwhile.
      return (this._task as Task).uncancel() <= this._cancelling;
    }
    this._state = EXITED;
    return false;
  }

  /** @internal The block goes on in `task`: its function let go of the await the block is in. */
  _moveTo(task: Task): void {
    this._task = task;
    this._cancelling = task.cancelling();
  }

  /** @internal The deadline passed: cancel the block's task. */
  _expire(): void {
    const task = this._task as Task;
    // Where the block was, for the error: a native body's stack shows none of its frames.
    const waited = waitingOn(task);
    this._expiredIn =
      waited === null ? `in ${taskLabel(task)}` : `while ${taskLabel(task)} waited on ${waited}`;
    task.cancel();
    this._state = EXPIRING;
    this._handle = null;
  }
}

inspectAsString(Timeout);

/**
 * A deadline's callback, with the Timeout as its argument rather than a
 * closure: explore() names the entry by the task whose deadline it is.
 */
function expire(timeout: Timeout): void {
  timeout._expire();
}

/**
 * Runs `body` in the current task; if it has not finished after `ms`
 * milliseconds, cancels it and raises TimeoutError. `null`: no deadline; a
 * negative delay is a deadline that has passed (`when()` is that long ago, as
 * in asyncio): the body is cancelled at its first suspension.
 * The body receives the {@link Timeout}, to read or move the deadline.
 *
 * @example
 * ```ts
 * import { TimeoutError, run, sleep, timeout } from "asynkit";
 * await run(function* () {
 *   try {
 *     yield* timeout(100, function* () { yield* sleep(60_000); });
 *   } catch (e) {
 *     console.log(e instanceof TimeoutError); // true, after 100 ms
 *   }
 * });
 * ```
 */
export function timeout<T>(
  ms: number | null,
  body: (timeout: Timeout) => Coro<T> | PromiseLike<T>,
): Op<T> {
  const delay = ms === null ? null : checkDelay("timeout()", "ms", ms);
  checkBody("timeout()", body);
  return withTimeout(delay, body) as Op<T>;
}

/** timeout() with checked arguments; the deadline counts from the first step. */
function* withTimeout<T>(
  ms: number | null,
  body: (timeout: Timeout) => Coro<T> | PromiseLike<T>,
): Coro<T> {
  const timeout = timeoutIn(ms);
  return yield* timeout._run(body, timeout);
}

/**
 * @internal A Timeout `ms` from now (null: none). Its block begins now, at
 * the same reading of the clock: on a host loop, a later one would make the
 * error say that the deadline came sooner than `ms` after the block began.
 */
export function timeoutIn(ms: number | null): Timeout {
  const now = getRunningLoop().time();
  const timeout = new Timeout(ms === null ? null : now + ms);
  timeout._began = now;
  return timeout;
}

/**
 * Like `timeout()`, with the deadline as a time on the loop's clock
 * (`loop.time()`, ms) instead of a delay. `null`: no deadline.
 *
 * @example
 * ```ts
 * import { getRunningLoop, run, sleep, timeoutAt } from "asynkit";
 * await run(function* () {
 *   const deadline = getRunningLoop().time() + 1000;
 *   yield* timeoutAt(deadline, function* () { yield* sleep(10); });
 * });
 * ```
 */
export function timeoutAt<T>(
  when: number | null,
  body: (timeout: Timeout) => Coro<T> | PromiseLike<T>,
): Op<T> {
  checkWhen("timeoutAt()", when);
  checkBody("timeoutAt()", body);
  const timeout = new Timeout(when);
  return timeout._run(body, timeout) as Op<T>;
}

/** A deadline: a time on the loop's clock (ms), or null for none. */
function checkWhen(where: string, when: unknown): void {
  if (when !== null) checkTime(where, "when", when);
}

function checkBody(where: string, body: unknown): void {
  checkFunction(
    where,
    "body",
    body,
    "pass the block to run, as a function* or an async function: function* () { ... }",
  );
}

thenable(Timeout.prototype._run);
thenable(withTimeout);
