/**
 * GeneratorObject: an asynchronous generator written as a coroutine, as
 * asynkit's. A generator coroutine's own `yield` belongs to the task that
 * drives it, so its items go out through a Monitor instead:
 * `yield* g.yield(item)` is `yield* monitor.oob(item)`, and the consumer's
 * `yield* g.next()` drives the body with `monitor.await()` until the next
 * item or the end. Native code iterates it with `for await`.
 */
import { cancelOnAbort, taskSignal } from "./abort.js";
import { type LiveGenerators, trackGenerator } from "./asyncgens.js";
import { type Coro, describe, isCoroutine, isLocalAsyncFunction } from "./coro.js";
import { InvalidStateError } from "./errors.js";
import { getEventLoop, getRunningLoop, loopOfThisCode, runningTask } from "./events.js";
import type { Future } from "./futures.js";
import type { BaseEventLoop } from "./loops/base.js";
import { Monitor, Resume } from "./monitor.js";
import type { Task } from "./tasks.js";
import { type Op, thenable } from "./thenable.js";
import { inspectAsString } from "./util/inspect.js";
import { argTypeError, rejectingThrows } from "./validate.js";

/** A generator's states, and their names for messages. */
const GeneratorState = {
  /** The body has not run yet. */
  NEW: 0,
  /** The body waits in g.yield() for the next call. */
  SUSPENDED: 1,
  /** A consumer's next(), throw() or return() is running the body. */
  RUNNING: 2,
  /** The body returned or threw: every call now says so at once. */
  DONE: 3,
} as const;
type GeneratorState = (typeof GeneratorState)[keyof typeof GeneratorState];
const stateNames = ["new", "suspended", "running", "done"] as const;

/**
 * An asynchronous generator whose body is a coroutine: it can `yield*` sleeps,
 * futures and tasks like any coroutine, and hands out items with
 * `yield* g.yield(item)`. A coroutine consumes it with `yield* g.next()` (or
 * {@link forAwait}), native code with `for await`. `throw()`, `return()` and
 * `close()` work as on a native async generator: its `finally` blocks run
 * once, and a consumer cancelled while the body waits cancels the body.
 *
 * `T` is the type of the items, `TReturn` what the body returns, `TNext` what
 * `next(value)` sends in (what `g.yield()` returns).
 *
 * @example
 * ```ts
 * import { type Coro, GeneratorObject, run, sleep } from "asynkit";
 * function* numbers(g: GeneratorObject<number>): Coro<void> {
 *   for (let i = 0; i < 3; i++) {
 *     yield* sleep(1);
 *     yield* g.yield(i);
 *   }
 * }
 * await run(function* () {
 *   const gen = new GeneratorObject(numbers);
 *   for (let r = yield* gen.next(); !r.done; r = yield* gen.next()) console.log(r.value); // 0 1 2
 * });
 * for await (const n of new GeneratorObject(numbers)) console.log(n); // 0 1 2
 * ```
 */
export class GeneratorObject<T, TReturn = void, TNext = unknown>
  implements AsyncIterable<T, TReturn, TNext>
{
  /** @internal */ readonly _monitor = new Monitor<T, TNext>();
  /** @internal */ readonly _coro: Coro<TReturn>;
  /** @internal */ _state: GeneratorState = GeneratorState.NEW;
  /** @internal Its loop's live generators, which it leaves once done (see asyncgens.ts). */
  _liveIn: LiveGenerators | null = null;
  /**
   * @internal While a return() or close() runs the body's cleanup: the other
   * closes that came meanwhile, each waiting for it (a forAwait() closing its
   * source as the loop's shutdown closes that source too).
   */
  _closing: Future<void>[] | null = null;

  /** `body` is called at once with this object and returns the coroutine to run (a function* does not start until the first next()). */
  constructor(body: (g: GeneratorObject<T, TReturn, TNext>) => Coro<TReturn>) {
    if (typeof body !== "function") {
      throw argTypeError(
        "new GeneratorObject()",
        "body",
        body,
        "a generator function that takes the GeneratorObject",
        "pass function* (g) { yield* g.yield(item); }",
      );
    }
    // Refused before its call: an async body's code would run, and its promise be dropped.
    if (isLocalAsyncFunction(body)) {
      throw argTypeError(
        "new GeneratorObject()",
        "body",
        body,
        "a function that returns a coroutine",
        "declare it with function*",
      );
    }
    const coro = body(this);
    if (!isCoroutine(coro)) {
      throw argTypeError(
        "new GeneratorObject()",
        "body",
        body,
        "a function that returns a coroutine",
        `it returned ${describe(coro)}; declare it with function*`,
      );
    }
    this._coro = coro;
  }

  /**
   * Hands `item` to the consumer and suspends the body until the next call:
   * returns the value passed to `next(value)`, or throws the error passed to
   * `throw()`. Only the body (and what it calls) may yield, while a consumer
   * waits.
   */
  yield(item: T): Coro<TNext> {
    if (this._state !== GeneratorState.RUNNING) {
      throw new InvalidStateError(
        `GeneratorObject.yield(): ${this} has no consumer waiting for an item: call yield() only from the generator's body, which runs inside next().`,
      );
    }
    return (this._monitor.oob as (data: T) => Coro<TNext>)(item);
  }

  /** Runs the body to its next item: `{ done: false, value: item }`, or `{ done: true, value: result }` at its end. */
  next(...[value]: [] | [TNext]): Op<IteratorResult<T, TReturn>> {
    return this._resume("GeneratorObject.next()", Resume.NEXT, value) as Op<
      IteratorResult<T, TReturn>
    >;
  }

  /** Throws `error` into the body where it yielded; it may catch it and yield again. On a finished generator, throws `error`. */
  throw(error: unknown): Op<IteratorResult<T, TReturn>> {
    return this._resume("GeneratorObject.throw()", Resume.THROW, error) as Op<
      IteratorResult<T, TReturn>
    >;
  }

  /** Ends the body where it yielded, running its `finally` blocks, and gives `{ done: true, value }`. */
  return(value?: TReturn): Op<IteratorResult<T, TReturn>> {
    return this._resume("GeneratorObject.return()", Resume.RETURN, value) as Op<
      IteratorResult<T, TReturn>
    >;
  }

  /** As return(), but an Error if the body yields again while closing (asynkit's aclose()). */
  close(): Op<void> {
    const returned = this._resume("GeneratorObject.close()", Resume.RETURN, undefined);
    return closed(this, returned as Op<IteratorResult<T, TReturn>>) as Op<void>;
  }

  /** Native iteration: each call runs the body in a task of the running loop (or runs the loop until it is done). */
  [Symbol.asyncIterator](): AsyncIterableIterator<T, TReturn, TNext> {
    return new NativeIterator(this);
  }

  toString(): string {
    return `<GeneratorObject ${stateNames[this._state]}>`;
  }

  /** @internal next(), throw() and return(): runs the body once as asked. */
  *_resume(where: string, how: Resume, arg: unknown): Coro<IteratorResult<T, TReturn>> {
    if (this._state === GeneratorState.RUNNING) {
      const closing = this._closing;
      if (how !== Resume.RETURN || closing === null) {
        throw new InvalidStateError(
          `${where}: ${this} is already running for another call: wait for that call to finish first.`,
        );
      }
      // Being closed already: this close waits for that one, then ends as a close of what is left.
      const closed = getRunningLoop().createFuture<void>();
      closing.push(closed);
      yield* closed;
      return yield* this._resume(where, how, arg);
    }
    if (this._state === GeneratorState.DONE) {
      if (how === Resume.THROW) throw arg;
      return { done: true, value: (how === Resume.RETURN ? arg : undefined) as TReturn };
    }
    if (this._state === GeneratorState.NEW) this._liveIn = trackGenerator(this);
    this._state = GeneratorState.RUNNING;
    if (how === Resume.RETURN) this._closing = [];
    try {
      const result = yield* this._monitor._drive(where, this._coro, how, arg);
      this._state = result.done === true ? GeneratorState.DONE : GeneratorState.SUSPENDED;
      return result;
    } finally {
      // The body threw, or was closed with the caller: it is over.
      if (this._state === GeneratorState.RUNNING) this._state = GeneratorState.DONE;
      if (this._state === GeneratorState.DONE) this._liveIn?.delete(this);
      const closing = this._closing;
      this._closing = null;
      // A waiting close that was cancelled meanwhile has its outcome already.
      if (closing !== null) for (const closed of closing) if (!closed.done()) closed.setResult();
    }
  }
}

inspectAsString(GeneratorObject);

function* closed(
  gen: GeneratorObject<unknown, unknown, unknown>,
  returning: Coro<IteratorResult<unknown, unknown>>,
): Coro<void> {
  const result = yield* returning;
  if (result.done !== true) {
    throw new Error(
      `GeneratorObject.close(): the generator yielded ${describe(result.value)} while closing: its finally blocks should only clean up. ${gen} goes on from there at the next call.`,
    );
  }
}

/**
 * A GeneratorObject's face for native code: each call returns a promise. The
 * calls run on the loop of the first one (getEventLoop() then: the running
 * loop, or the policy's), so the body never moves between loops: as a task
 * when that loop is running (in run(), or started by submit()), else by
 * running it until the call is done.
 */
class NativeIterator<T, TReturn, TNext> {
  private loop: BaseEventLoop | null = null;
  /**
   * The task that began the iteration (a `for await` in an async function),
   * if a task did: its cancellation cancels the call under way, or reaches
   * the body at the next call, whose promise then rejects with it. A promise
   * is no asynkit await, where a cancelled native task gets its
   * CancelledError: a loop that read on would never end.
   */
  private readonly owner: Task<unknown> | null;

  constructor(private readonly gen: GeneratorObject<T, TReturn, TNext>) {
    // The loop of this code: with the asyncLocalStorage option, a function's code past a
    // host await is its task's too, between the loop's drives.
    const loop = loopOfThisCode();
    this.owner = loop === null ? null : runningTask(loop);
  }

  next(...value: [] | [TNext]): Promise<IteratorResult<T, TReturn>> {
    return this.onLoop(() => this.gen.next(...value), true);
  }

  return(value?: TReturn): Promise<IteratorResult<T, TReturn>> {
    return this.onLoop(() => this.gen.return(value), false);
  }

  throw(error: unknown): Promise<IteratorResult<T, TReturn>> {
    return this.onLoop(() => this.gen.throw(error), false);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private onLoop(
    call: () => Coro<IteratorResult<T, TReturn>>,
    next: boolean,
  ): Promise<IteratorResult<T, TReturn>> {
    return rejectingThrows(() => {
      this.loop ??= getEventLoop();
      const loop = this.loop;
      if (!loop.isRunning()) return loop.runUntilComplete(call());
      const owner = this.owner;
      const body =
        owner !== null && owner._loop === loop && !owner.done()
          ? this.cancelledWith(owner, call, next)
          : call();
      return loop.createTask(body).then();
    });
  }

  /** The call, in a task that the owner's cancellation cancels. */
  private *cancelledWith(
    owner: Task<unknown>,
    call: () => Coro<IteratorResult<T, TReturn>>,
    next: boolean,
  ): Coro<IteratorResult<T, TReturn>> {
    const signal = taskSignal(owner);
    if (owner._mustCancel) {
      // Cancelled before the call began: the body gets the cancellation where it yielded,
      // as an async generator in asyncio does when a cancelled `async for` awaits __anext__().
      if (next) return yield* this.gen.throw(signal.reason);
    } else if (signal.aborted) {
      // The function had that cancellation already (and went on): it is not raised again,
      // and the signal, aborted once, has no other to tell.
      return yield* call();
    }
    const stop = cancelOnAbort(getRunningLoop()._currentTask as Task<unknown>, signal);
    try {
      return yield* call();
    } finally {
      stop();
    }
  }
}

// Awaitable from async functions too, as the rest of asynkit (see thenable.ts).
thenable(GeneratorObject.prototype._resume);
thenable(closed);
