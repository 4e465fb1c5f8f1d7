/**
 * Monitor: a coroutine sends out-of-band messages to the coroutine that
 * awaits it, as asynkit's `Monitor`. A generator coroutine cannot `yield`
 * values to its caller (its yields belong to the task that drives it), so
 * `yield* monitor.oob(data)` yields the monitor itself as a signal, which
 * every `yield*` in between passes up unchanged until the driver made by
 * `monitor.await()` recognises it and returns the message to its caller.
 *
 * A message arrives as `{ done: false, value: data }` and the coroutine's end
 * as `{ done: true, value: result }`: an IteratorResult, rather than asynkit's
 * OOBData exception. A `catch` clause is untyped in TypeScript while this union
 * narrows on `done`; and an Error per message would capture a stack, which
 * costs more than the rest of a message's trip.
 */
import { type Coro, isCoroutine, type Signal, type Suspend } from "./coro.js";
import { InvalidStateError } from "./errors.js";
import { type Op, thenable } from "./thenable.js";
import { classNameOf, inspectAsString } from "./util/inspect.js";
import { notACoroutine } from "./validate.js";

/** A monitor's states, and their names for messages. */
const MonitorState = {
  /** No coroutine is being awaited through the monitor. */
  INACTIVE: 0,
  /** monitor.await() is driving a coroutine. */
  ACTIVE: 1,
  /** The coroutine called oob(): its message is on the way up to monitor.await(). */
  OOB: 2,
} as const;
type MonitorState = (typeof MonitorState)[keyof typeof MonitorState];
const stateNames = ["inactive", "active", "sending"] as const;

/** @internal How a driver resumes its coroutine first: next(), throw() or return(). */
export const Resume = { NEXT: 0, THROW: 1, RETURN: 2 } as const;
/** @internal */
export type Resume = (typeof Resume)[keyof typeof Resume];

/**
 * Awaits a coroutine while it sends out-of-band messages: the coroutine calls
 * `yield* monitor.oob(data)`, which suspends it and makes the caller's
 * `yield* monitor.await(coro)` return `{ done: false, value: data }`. The
 * caller answers with the next `monitor.await(coro, reply)` (the reply is what
 * oob() returns), with `monitor.throw(coro, error)`, or stops with
 * `monitor.close(coro)`. When the coroutine returns, await() gives
 * `{ done: true, value: result }`. Anything else the coroutine waits on (a
 * sleep, a Future) is waited on by the caller's task as usual, and with no
 * loop at all `awaitSync()` drives a monitor that never has to wait.
 *
 * A monitor drives one coroutine at a time; `Out` is the type of the messages
 * and `In` the type of the replies.
 *
 * @example
 * ```ts
 * import { type Coro, Monitor, run } from "asynkit";
 * function* ask(m: Monitor<string, number>): Coro<number> {
 *   const a = yield* m.oob("first number?");
 *   const b = yield* m.oob("second number?");
 *   return a + b;
 * }
 * await run(function* () {
 *   const m = new Monitor<string, number>();
 *   const coro = ask(m);
 *   let reply: number | undefined;
 *   for (;;) {
 *     const r = yield* m.await(coro, reply);
 *     if (r.done) return console.log("sum", r.value); // sum 5
 *     console.log(r.value);
 *     reply = r.value.startsWith("first") ? 2 : 3;
 *   }
 * });
 * ```
 */
export class Monitor<Out = unknown, In = unknown> {
  /** @internal */ _state: MonitorState = MonitorState.INACTIVE;
  /** @internal The message oob() is sending. */
  _message: Out | undefined = undefined;

  /**
   * Sends `data` to the caller of `monitor.await()` and suspends until it
   * answers; returns the reply (the `data` of its next await(), or throws what
   * it passes to throw()). An InvalidStateError when nobody awaits through
   * this monitor. `data` may be left out when `Out` allows undefined.
   */
  oob(...[data]: undefined extends Out ? [data?: Out] : [data: Out]): Coro<In> {
    return new OobRequest<Out, In>(this, data as Out) as unknown as Coro<In>;
  }

  /**
   * Runs `coro` (the first time) or resumes it with `data` (the reply to its
   * last message) until it sends a message or returns: `{ done: false, value:
   * message }` or `{ done: true, value: result }`. Errors it throws come out
   * as they are. The first await's `data` goes nowhere, as a generator's first
   * `next(value)`'s; an await of a coroutine whose end a monitor already gave
   * is an InvalidStateError (a coroutine runs once).
   */
  await<T>(coro: Coro<T>, data?: In): Op<IteratorResult<Out, T>> {
    return this._driveUnfinished("Monitor.await()", coro, Resume.NEXT, data);
  }

  /** Throws `error` into `coro` where it sent its last message (or at its start), then as await(). */
  throw<T>(coro: Coro<T>, error: unknown): Op<IteratorResult<Out, T>> {
    return this._driveUnfinished("Monitor.throw()", coro, Resume.THROW, error);
  }

  /**
   * Closes `coro` (generator return(): its `finally` blocks run). One never
   * started is closed without running any of it, as Python's aclose() closes
   * a new coroutine; nothing happens to one that is done. An Error if it
   * sends another message while closing.
   */
  close(coro: Coro<unknown>): Op<void> {
    return closed(this._drive("Monitor.close()", coro, Resume.RETURN, undefined)) as Op<void>;
  }

  /**
   * Starts `coro` and returns its first message; an Error if it returns
   * without sending one.
   */
  start(coro: Coro<unknown>): Op<Out> {
    return firstMessage(
      this._driveUnfinished("Monitor.start()", coro, Resume.NEXT, undefined),
    ) as Op<Out>;
  }

  /** As await(), but gives `coro`'s result, or `sentinel` when it sent a message (which is dropped). */
  tryAwait<T, S = undefined>(coro: Coro<T>, data?: In, sentinel?: S): Op<T | S> {
    const driver = this._driveUnfinished("Monitor.tryAwait()", coro, Resume.NEXT, data);
    return resultOr(driver, sentinel as S) as Op<T | S>;
  }

  /** This monitor bound to `coro`, so the coroutine need not be passed each time. */
  bind<T>(coro: Coro<T>): BoundMonitor<T, Out, In> {
    if (!isCoroutine(coro)) throw notACoroutine("Monitor.bind()", coro);
    return new BoundMonitor(this, coro);
  }

  toString(): string {
    return `<${classNameOf(this)} ${stateNames[this._state]}>`;
  }

  /** _drive() of a coroutine whose end no monitor gave yet (see unfinished), for the calls that resume it. */
  private _driveUnfinished<T>(
    where: string,
    coro: Coro<T>,
    how: Resume,
    arg: unknown,
  ): Op<IteratorResult<Out, T>> {
    return this._drive(where, unfinished(where, coro), how, arg);
  }

  /** @internal The coroutine behind await(), throw(), close() and the GeneratorObject's calls. */
  _drive<T>(where: string, coro: Coro<T>, how: Resume, arg: unknown): Op<IteratorResult<Out, T>> {
    if (!isCoroutine(coro)) throw notACoroutine(where, coro);
    return new MonitorDriver(this, coro, how, arg, where) as unknown as Op<IteratorResult<Out, T>>;
  }
}

inspectAsString(Monitor);

/**
 * A Monitor bound to one coroutine, made by `monitor.bind(coro)`: the same
 * calls without the coroutine argument, and `yield* bound` for `yield*
 * bound.await()`.
 *
 * @example
 * ```ts
 * import { type Coro, Monitor, run } from "asynkit";
 * function* greet(m: Monitor<string>): Coro<string> {
 *   yield* m.oob("hello");
 *   return "done";
 * }
 * await run(function* () {
 *   const m = new Monitor<string>();
 *   const bound = m.bind(greet(m));
 *   console.log(yield* bound.start()); // hello
 *   console.log(yield* bound.tryAwait()); // done
 * });
 * ```
 */
export class BoundMonitor<T, Out = unknown, In = unknown> {
  /** @internal */
  constructor(
    readonly monitor: Monitor<Out, In>,
    readonly coro: Coro<T>,
  ) {}

  /** monitor.await(coro, data). */
  await(data?: In): Op<IteratorResult<Out, T>> {
    return this.monitor.await(this.coro, data);
  }

  /** monitor.throw(coro, error). */
  throw(error: unknown): Op<IteratorResult<Out, T>> {
    return this.monitor.throw(this.coro, error);
  }

  /** monitor.close(coro). */
  close(): Op<void> {
    return this.monitor.close(this.coro);
  }

  /** monitor.start(coro). */
  start(): Op<Out> {
    return this.monitor.start(this.coro);
  }

  /** monitor.tryAwait(coro, data, sentinel). */
  tryAwait<S = undefined>(data?: In, sentinel?: S): Op<T | S> {
    return this.monitor.tryAwait(this.coro, data, sentinel);
  }

  /** `yield* bound`: monitor.await(coro). */
  [Symbol.iterator](): Coro<IteratorResult<Out, T>> {
    return this.monitor.await(this.coro);
  }
}

/**
 * The coroutine behind `yield* monitor.oob(data)`: its first step hands the
 * message to the monitor and yields the monitor as the signal that carries
 * it; the next returns the reply.
 */
class OobRequest<Out, In> {
  private sent = false;

  constructor(
    private readonly monitor: Monitor<Out, In>,
    private readonly message: Out,
  ) {}

  next(reply?: In): IteratorResult<Suspend, In | undefined> {
    if (this.sent) return { done: true, value: reply };
    const monitor = this.monitor;
    if (monitor._state !== MonitorState.ACTIVE) {
      throw new InvalidStateError(
        `Monitor.oob(): ${monitor} is not awaiting a coroutine, so nobody would get the message: drive the coroutine that calls oob() with yield* monitor.await(coro).`,
      );
    }
    this.sent = true;
    monitor._state = MonitorState.OOB;
    monitor._message = this.message;
    return { done: false, value: monitor as unknown as Signal };
  }

  throw(error: unknown): never {
    // Thrown in while the message is still on its way: it never reached monitor.await()
    // (oob() was called in another task, whose task refused the yield).
    if (this.sent && this.monitor._state === MonitorState.OOB) {
      this.monitor._state = MonitorState.ACTIVE;
    }
    throw error;
  }

  return(value: In): IteratorResult<Suspend, In> {
    return { done: true, value };
  }

  [Symbol.iterator](): this {
    return this;
  }
}

/** Coroutines whose end a monitor gave: a generator resumed after it would just say it is done again. */
const finished = new WeakSet<object>();

/** `coro`, unless a monitor already gave its end: then an InvalidStateError, as Python's "cannot reuse already awaited coroutine". */
function unfinished<T>(where: string, coro: Coro<T>): Coro<T> {
  if (typeof coro === "object" && coro !== null && finished.has(coro)) {
    throw new InvalidStateError(
      `${where}: the coroutine has already finished, and a monitor gave its end: a coroutine runs once, so make a new one to run it again.`,
    );
  }
  return coro;
}

/**
 * The coroutine behind `yield* monitor.await(coro)`: it resumes `coro` once as
 * asked, then forwards every step between `coro` and the task, as `yield*`
 * would, until `coro` returns or sends a message; either ends the driver.
 */
class MonitorDriver<Out, In, T> {
  /** Whether it has resumed `coro` yet, and whether it has ended (then it only says so). */
  private started = false;
  private ended = false;

  constructor(
    private readonly monitor: Monitor<Out, In>,
    private readonly coro: Coro<T>,
    private readonly how: Resume,
    private readonly arg: unknown,
    private readonly where: string,
  ) {}

  next(value?: unknown): IteratorResult<Suspend, IteratorResult<Out, T> | undefined> {
    if (!this.started) return this.start();
    if (this.ended) return { done: true, value: undefined };
    return this.resume(Resume.NEXT, value);
  }

  throw(error: unknown): IteratorResult<Suspend, IteratorResult<Out, T>> {
    if (!this.started || this.ended) throw error;
    return this.resume(Resume.THROW, error);
  }

  /** The coroutine around this one is closed: close `coro` too, as yield* does. */
  return(value: T): IteratorResult<Suspend, unknown> {
    if (!this.started || this.ended) return { done: true, value };
    const step = this.resume(Resume.RETURN, value);
    // yield* ends the closing coroutine with the value return() gives: coro's own.
    return step.done === true && step.value.done === true ? step.value : step;
  }

  [Symbol.iterator](): this {
    return this;
  }

  private start(): IteratorResult<Suspend, IteratorResult<Out, T>> {
    const monitor = this.monitor;
    if (monitor._state !== MonitorState.INACTIVE) {
      throw new InvalidStateError(
        `${this.where}: ${monitor} is already awaiting a coroutine and cannot be re-entered: use a Monitor per coroutine.`,
      );
    }
    this.started = true;
    monitor._state = MonitorState.ACTIVE;
    return this.resume(this.how, this.arg);
  }

  /** Takes one step of `coro`: its end or its message ends the driver, anything else goes up to the task. */
  private resume(how: Resume, arg: unknown): IteratorResult<Suspend, IteratorResult<Out, T>> {
    const monitor = this.monitor;
    const coro = this.coro;
    let step: IteratorResult<Suspend, T>;
    try {
      step =
        how === Resume.NEXT
          ? coro.next(arg)
          : how === Resume.THROW
            ? coro.throw(arg)
            : returnOf(coro, arg as T);
    } catch (error) {
      this.ended = true;
      monitor._state = MonitorState.INACTIVE;
      finished.add(coro);
      throw error;
    }
    if (step.done === true) {
      this.ended = true;
      monitor._state = MonitorState.INACTIVE;
      finished.add(coro);
      // The step is { done: true, value: result }: the very result await() gives.
      return { done: true, value: step };
    }
    if (step.value === (monitor as unknown) && monitor._state === MonitorState.OOB) {
      this.ended = true;
      monitor._state = MonitorState.INACTIVE;
      const message = monitor._message as Out;
      monitor._message = undefined;
      return { done: true, value: { done: false, value: message } };
    }
    return step as IteratorResult<Suspend, never>;
  }
}

function* closed(driver: Coro<IteratorResult<unknown, unknown>>): Coro<void> {
  if (!(yield* driver).done) {
    throw new Error(
      "Monitor.close(): the coroutine sent a message with oob() while it was being closed: it should only clean up (a finally block that calls oob() is the usual cause).",
    );
  }
}

function* firstMessage<Out>(driver: Coro<IteratorResult<Out, unknown>>): Coro<Out> {
  const result = yield* driver;
  if (result.done) {
    throw new Error(
      "Monitor.start(): the coroutine returned without sending a message with oob(): use monitor.await(), which gives either.",
    );
  }
  return result.value;
}

function* resultOr<T, S>(driver: Coro<IteratorResult<unknown, T>>, sentinel: S): Coro<T | S> {
  const result = yield* driver;
  return result.done ? result.value : sentinel;
}

/** `coro.return(value)`, for a coroutine that may lack return() (then it just ends). */
function returnOf<T>(coro: Coro<T>, value: T): IteratorResult<Suspend, T> {
  return typeof coro.return === "function" ? coro.return(value) : { done: true, value };
}

// Awaitable from async functions too, as the rest of asynkit (see thenable.ts).
thenable(MonitorDriver);
thenable(closed);
thenable(firstMessage);
thenable(resultOr);
