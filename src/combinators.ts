/**
 * Waiting for several things at once, as the combinators of asyncio's `tasks`
 * module: gather, wait, waitFor, shield and asCompleted.
 */
import {
  type Awaitable,
  type AwaitedResult,
  type Coro,
  isAwaitable,
  isCoroutine,
  isPromiseLike,
  type Suspend,
} from "./coro.js";
import { CancelledError, InterruptError, TimeoutError } from "./errors.js";
import { callersLoop, codeLoop, getRunningLoop, peekRunningLoop } from "./events.js";
import { FAILED, Future, ownFuture, PENDING, WaitFuture, waitStep } from "./futures.js";
import type { BaseEventLoop } from "./loops/base.js";
import { Queue } from "./queues.js";
import { foreignFuture, toFuture } from "./tasks.js";
import { describeAwaited } from "./tasktree.js";
import { type Op, thenable } from "./thenable.js";
import { timeoutIn } from "./timeouts.js";
import {
  argTypeError,
  checkAwaitable,
  checkBooleanOption,
  checkDelay,
  checkOneOf,
  checkOptions,
  notAwaitable,
  type OptionNames,
} from "./validate.js";

/** Options for the list form of gather(). */
export interface GatherOptions {
  /** Put errors (and a CancelledError for a cancelled child) in the results instead of raising the first. */
  returnExceptions?: boolean | undefined;
}

const GATHER_OPTIONS: OptionNames<GatherOptions> = { returnExceptions: true };

/** The future behind gather(): cancelling it cancels every child. */
class GatheringFuture<T> extends Future<T> {
  /** True once a cancel() reached a child: the gather then ends cancelled whatever the children do. */
  _cancelRequested = false;

  constructor(
    private readonly _children: Future<unknown>[],
    loop: BaseEventLoop,
  ) {
    super({ loop });
  }

  /** @internal What it stands for, in the task tree and deadlock reports. */
  override _label(): string {
    const pending = this._children.filter((child) => !child.done()).length;
    return `gather() of ${this._children.length}, ${pending} pending`;
  }

  /** @internal */
  override _requestCancel(message: string | undefined, cause: unknown): boolean {
    if (this._state !== PENDING) return false;
    let cancelled = false;
    for (const child of this._children) if (child._requestCancel(message, cause)) cancelled = true;
    if (cancelled && !this._cancelRequested) {
      this._cancelRequested = true;
      // Kept where a cancelled future keeps them, for _cancelledErrorAfter(): the gather's
      // own end (a result or a failure) replaces them.
      this._aside = message;
      this._outcome = cause;
    }
    return cancelled;
  }

  /**
   * @internal The CancelledError a cancelled gather ends with, once `last` is
   * done: that child's, if it ended cancelled; else one with the cancel()'s
   * message (the child failed or returned after all), as asyncio's gather
   * takes the message its cancel() left on the child.
   */
  _cancelledErrorAfter(last: Future<unknown>): CancelledError {
    return (last.cancelled() ? last : this)._makeCancelledError();
  }
}

/**
 * gather()'s list before options: any iterable but an awaitable, and an
 * iterator that is not a coroutine (a Map's values(): it has no throw(),
 * though `yield*` would take it). An iterable whose iterator is a generator
 * looks like a CoroStart, and is taken for an awaitable.
 */
function isList(x: unknown): x is Iterable<unknown> {
  if (typeof (x as Partial<Iterable<unknown>> | null)?.[Symbol.iterator] !== "function") {
    return false;
  }
  if (!isAwaitable(x)) return true;
  const next = (x as Partial<Iterator<unknown>>).next;
  return typeof next === "function" && !isCoroutine(x);
}

function isGatherOptions(x: unknown): x is GatherOptions {
  return typeof x === "object" && x !== null && !isAwaitable(x) && !isPromiseLike(x);
}

/**
 * Runs awaitables concurrently and returns their results in order, as
 * asyncio.gather. Coroutines are wrapped in tasks at the call, so they start
 * whether or not gather() is waited for (with no loop running, when it first
 * runs). The awaitables come as arguments, or as one array or Set (the list
 * form, as Promise.all). The first failure is raised at once while the others
 * keep running; with `{ returnExceptions: true }` (list form) errors come back
 * in the results instead. Cancelling the task that waits on gather() cancels
 * every child.
 *
 * @example
 * ```ts
 * import { gather, run, sleep } from "asynkit";
 * await run(function* () {
 *   const [a, b] = yield* gather(sleep(20, "a"), sleep(10, 2)); // ["a", 2], typed [string, number]
 *   const [c, d] = yield* gather([sleep(5, "c"), sleep(5, 4)]); // the list form, typed the same
 *   // Each element typed unknown, as anything may be thrown: narrow it with instanceof.
 *   const all = yield* gather([sleep(5, 1), sleep(5, 2)], { returnExceptions: true });
 * });
 * ```
 */
export function gather<const A extends readonly Awaitable<unknown>[] | []>(
  aws: A,
  options?: GatherOptions & { returnExceptions?: false | undefined },
): Op<{ -readonly [K in keyof A]: AwaitedResult<A[K]> }>;
export function gather<A extends Awaitable<unknown>>(
  aws: ReadonlySet<A>,
  options?: GatherOptions & { returnExceptions?: false | undefined },
): Op<AwaitedResult<A>[]>;
/** With options, any iterable is a list (without, only an array or a Set is). */
export function gather<A extends Awaitable<unknown>>(
  aws: Iterable<A>,
  options: GatherOptions & { returnExceptions?: false | undefined },
): Op<AwaitedResult<A>[]>;
/** With `returnExceptions` (or a boolean not known to be false), a result may be an error. */
export function gather<const A extends readonly Awaitable<unknown>[] | []>(
  aws: A,
  options: GatherOptions,
): Op<{ -readonly [K in keyof A]: unknown }>;
export function gather(aws: Iterable<Awaitable<unknown>>, options: GatherOptions): Op<unknown[]>;
export function gather<T extends readonly unknown[]>(
  ...aws: { [K in keyof T]: Awaitable<T[K]> }
): Op<T>;
export function gather(...args: unknown[]): Op<unknown[]> {
  let aws = args;
  let returnExceptions = false;
  const list = args[0];
  if (args.length === 2 && isGatherOptions(args[1])) {
    if (!isList(list)) {
      throw argTypeError(
        "gather()",
        "list",
        list,
        "an iterable of awaitables when options follow",
        "pass gather([a, b], { returnExceptions: true }); spread an iterable whose iterator is a generator into an array, gather([...iterable], options)",
      );
    }
    const options = args[1];
    checkOptions("gather()", options, "{ returnExceptions: true }", GATHER_OPTIONS);
    checkBooleanOption("gather()", "options.returnExceptions", options.returnExceptions);
    aws = [...list];
    returnExceptions = options.returnExceptions === true;
  } else if (args.length === 1 && (Array.isArray(list) || list instanceof Set)) {
    aws = [...list];
  }
  for (const aw of aws) {
    if (!isAwaitable(aw) && !isPromiseLike(aw))
      throw notAwaitable("gather()", "each awaitable", aw);
  }
  // Past a host await, the host's async context may tell the task's loop (the asyncLocalStorage
  // option): the children start now there too, and a cancellation at the await reaches them.
  const loop = peekRunningLoop() ?? codeLoop(null);
  const gathering =
    loop === null
      ? new Gathering(null, aws, returnExceptions)
      : new Gathering(gatherFuture(aws, returnExceptions, loop), null, false);
  return gathering as unknown as Op<unknown[]>;
}

/**
 * The coroutine gather() returns: it waits for the gathering future, made at
 * the call while a loop runs (as asyncio.gather schedules its children at
 * once), else at its first step.
 */
class Gathering {
  private resumed = false;

  constructor(
    private outer: GatheringFuture<unknown[]> | null,
    /** The awaitables, until the future is made from them. */
    private aws: readonly unknown[] | null,
    private readonly returnExceptions: boolean,
  ) {}

  next(): IteratorResult<Suspend, unknown[]> {
    const step = waitStep(this[ownFuture](getRunningLoop()), this.resumed);
    this.resumed = true;
    return step;
  }

  /** The gathering future, made on `loop` if the call did not make it. */
  [ownFuture](loop: BaseEventLoop): GatheringFuture<unknown[]> {
    if (this.outer === null) {
      this.outer = gatherFuture(this.aws ?? [], this.returnExceptions, loop);
      this.aws = null;
    }
    return this.outer;
  }

  /**
   * A cancellation thrown in (into a task cancelled before its first step)
   * cancels the children and waits for them, as it would have had the task
   * been waiting: the gathering's outcome is then read, not left unretrieved.
   * An interrupt (taskInterrupt(), taskTimeout()) is thrown straight in and
   * cancels nothing: the children go on.
   */
  throw(error: unknown): IteratorResult<Suspend, unknown[]> {
    const outer = this.outer;
    if (
      error instanceof CancelledError &&
      !(error instanceof InterruptError) &&
      outer?._requestCancel(error.message, error.cause) === true
    ) {
      const step = waitStep(outer, false);
      this.resumed = true;
      return step;
    }
    throw error;
  }

  return(value: unknown[]): IteratorResult<Suspend, unknown[]> {
    return { done: true, value };
  }

  [Symbol.iterator](): this {
    return this;
  }
}

function gatherFuture(
  aws: readonly unknown[],
  returnExceptions: boolean,
  loop: BaseEventLoop,
): GatheringFuture<unknown[]> {
  const children: Future<unknown>[] = [];
  const byArg = new Map<unknown, Future<unknown>>();
  for (const aw of aws) {
    let child = byArg.get(aw);
    if (child === undefined) {
      child = toFuture("gather()", "each awaitable", aw as Awaitable<unknown>, loop);
      byArg.set(aw, child);
    }
    children.push(child);
  }
  const outer = new GatheringFuture<unknown[]>(children, loop);
  if (children.length === 0) {
    outer._resolve([]);
    return outer;
  }
  const total = byArg.size;
  let finished = 0;
  const onChildDone = (child: Future<unknown>): void => {
    finished++;
    if (outer._state !== PENDING) {
      if (!child.cancelled()) child.exception(); // seen: not reported as unretrieved
      return;
    }
    if (!returnExceptions) {
      if (child.cancelled()) {
        outer.setException(child._makeCancelledError());
        return;
      }
      // A failure may be undefined, which exception() also returns for a success.
      if (child._state === FAILED) {
        outer.setException(child.exception());
        return;
      }
    }
    if (finished < total) return;
    const results = children.map((f) => {
      if (f.cancelled()) return f._makeCancelledError();
      return f._state === FAILED ? f.exception() : f.result();
    });
    // A cancelled gather ends cancelled, even when it returns exceptions.
    if (outer._cancelRequested) outer.setException(outer._cancelledErrorAfter(child));
    else outer.setResult(results);
  };
  // As in Python 3.12: a child done already counts now, not a loop turn later, so a
  // gather of done children (eager tasks that finished at once) is done when made.
  const done: Future<unknown>[] = [];
  for (const child of byArg.values()) {
    if (child._state !== PENDING) done.push(child);
    else child._addCallback(onChildDone as (f: never) => void);
  }
  for (const child of done) onChildDone(child);
  return outer;
}

/** When wait() returns: after the first completion, the first failure, or all. */
export type ReturnWhen = "FIRST_COMPLETED" | "FIRST_EXCEPTION" | "ALL_COMPLETED";

/** Options for wait(). */
export interface WaitOptions {
  /** Return after this many milliseconds even if the condition is not met (nothing is cancelled); negative: due in the past, before timers due now; null or left out: no limit. */
  timeout?: number | null | undefined;
  /** Default "ALL_COMPLETED". */
  returnWhen?: ReturnWhen | undefined;
}

const WAIT_OPTIONS: OptionNames<WaitOptions> = { timeout: true, returnWhen: true };

/** Whether `f` failed, with any value (undefined too); as asyncio's wait(), the look retrieves its exception. */
function failedSeen(f: Future<unknown>): boolean {
  if (f._state !== FAILED) return false;
  f.exception();
  return true;
}

/**
 * Waits for futures (coroutines are wrapped in tasks) until `returnWhen` is
 * met or `timeout` ms pass, as asyncio.wait. Returns the `done` and `pending`
 * sets; cancels nothing, raises nothing from the futures.
 *
 * @example
 * ```ts
 * import { createTask, run, sleep, wait } from "asynkit";
 * await run(function* () {
 *   const fast = createTask(sleep(10, "fast"));
 *   const slow = createTask(sleep(1000, "slow"));
 *   const { done, pending } = yield* wait([fast, slow], { returnWhen: "FIRST_COMPLETED" });
 *   console.log(done.has(fast), pending.has(slow)); // true true
 *   slow.cancel();
 * });
 * ```
 */
export function wait<F extends Future<unknown>>(
  aws: Iterable<F>,
  options?: WaitOptions,
): Op<{ done: Set<F>; pending: Set<F> }>;
export function wait<A extends Future<unknown> | Coro<unknown>>(
  aws: Iterable<A>,
  options?: WaitOptions,
): Op<{ done: Set<Future<AwaitedResult<A>>>; pending: Set<Future<AwaitedResult<A>>> }>;
export function wait<T>(
  aws: Iterable<Future<T> | Coro<T>>,
  options?: WaitOptions,
): Op<{ done: Set<Future<T>>; pending: Set<Future<T>> }>;
export function wait(
  aws: Iterable<Future<unknown> | Coro<unknown>>,
  options?: WaitOptions,
): Op<{ done: Set<Future<unknown>>; pending: Set<Future<unknown>> }>;
export function wait<T>(
  aws: Iterable<Future<T> | Coro<T>>,
  options?: WaitOptions,
): Op<{ done: Set<Future<T>>; pending: Set<Future<T>> }> {
  const timeoutMs = checkListAndTimeout(
    "wait()",
    aws,
    options,
    '{ returnWhen: "FIRST_COMPLETED" }',
    WAIT_OPTIONS,
  );
  // An iterable that is not a list is read once, when the wait starts: only then can it be found empty.
  if ((Array.isArray(aws) && aws.length === 0) || (aws instanceof Set && aws.size === 0)) {
    throw new RangeError(EMPTY_WAIT);
  }
  const returnWhen = options?.returnWhen ?? "ALL_COMPLETED";
  checkOneOf(
    "wait()",
    "options.returnWhen",
    returnWhen,
    ["ALL_COMPLETED", "FIRST_COMPLETED", "FIRST_EXCEPTION"],
    "one of the ReturnWhen names",
    'use "FIRST_COMPLETED", "FIRST_EXCEPTION" or "ALL_COMPLETED"',
  );
  return waitUntil(aws, timeoutMs, returnWhen) as Op<{
    done: Set<Future<T>>;
    pending: Set<Future<T>>;
  }>;
}

const EMPTY_WAIT = "wait() needs at least one future: the set is empty.";

function* waitUntil<T>(
  aws: Iterable<Future<T> | Coro<T>>,
  timeoutMs: number | undefined,
  returnWhen: ReturnWhen,
): Coro<{ done: Set<Future<T>>; pending: Set<Future<T>> }> {
  const loop = getRunningLoop();
  const fs = new Set<Future<T>>();
  // As asyncio's set(fs): an awaitable given twice is waited for once.
  for (const aw of new Set(aws)) fs.add(toFuture("wait()", "each awaitable", aw, loop));
  if (fs.size === 0) throw new RangeError(EMPTY_WAIT);

  const waiter = new WaitFuture<void>(loop, `wait() of ${fs.size}`);
  const timer = timeoutMs === undefined ? null : loop.callLater(timeoutMs, releaseWaiter, waiter);
  let counter = fs.size;
  const onCompletion = (f: Future<T>): void => {
    counter--;
    if (
      counter <= 0 ||
      returnWhen === "FIRST_COMPLETED" ||
      (returnWhen === "FIRST_EXCEPTION" && failedSeen(f))
    ) {
      timer?.cancel();
      releaseWaiter(waiter);
    }
  };
  for (const f of fs) f._addCallback(onCompletion as (f: never) => void);
  try {
    yield* waiter;
  } finally {
    timer?.cancel();
    for (const f of fs) f._removeCallback(onCompletion as (f: never) => void);
  }
  const done = new Set<Future<T>>();
  const pending = new Set<Future<T>>();
  for (const f of fs) (f.done() ? done : pending).add(f);
  return { done, pending };
}

/**
 * The arguments of wait() and asCompleted(): an iterable of awaitables (not an
 * awaitable), and options with a timeout, which comes back clamped to >= 0.
 */
function checkListAndTimeout(
  where: string,
  aws: unknown,
  options: { timeout?: number | null | undefined } | undefined,
  example: string,
  names: OptionNames<object>,
): number | undefined {
  if (
    typeof aws !== "object" ||
    aws === null ||
    aws instanceof Future ||
    isCoroutine(aws) ||
    !(Symbol.iterator in aws)
  ) {
    throw argTypeError(
      where,
      "aws",
      aws,
      "an array or iterable of awaitables",
      `pass a list, e.g. ${where.replace("()", "")}([task1, task2])`,
    );
  }
  checkOptions(where, options, example, names);
  const timeoutMs = options?.timeout;
  return timeoutMs === undefined || timeoutMs === null
    ? undefined
    : checkDelay(where, "options.timeout", timeoutMs);
}

function releaseWaiter(waiter: Future<void>): void {
  if (waiter._state === PENDING) waiter._resolve(undefined);
}

/** Cancels `fut` and waits until it is done, whatever it does with the cancellation. */
function* cancelAndWait(fut: Future<unknown>): Coro<void> {
  const waiter = getRunningLoop().createFuture<void>();
  const release = (): void => releaseWaiter(waiter);
  fut._addCallback(release);
  try {
    fut.cancel();
    yield* waiter;
  } finally {
    fut._removeCallback(release);
  }
}

/**
 * Waits for `aw` with a deadline of `timeoutMs` (null: none), as
 * asyncio.wait_for: on expiry `aw` is cancelled and TimeoutError raised.
 * A coroutine runs in the current task; a future is cancelled on timeout. A
 * timeout of 0 or less does not wait: a done `aw` gives its result, any other
 * is cancelled and TimeoutError raised.
 *
 * @example
 * ```ts
 * import { TimeoutError, run, sleep, waitFor } from "asynkit";
 * await run(function* () {
 *   console.log(yield* waitFor(sleep(10, "quick"), 100)); // "quick"
 *   try { yield* waitFor(sleep(60_000), 100); } catch (e) { console.log(e instanceof TimeoutError); }
 * });
 * ```
 */
export function waitFor<T>(aw: Awaitable<T>, timeoutMs: number | null): Op<T> {
  checkAwaitable("waitFor()", "aw", aw);
  const delay = timeoutMs === null ? null : checkDelay("waitFor()", "timeoutMs", timeoutMs);
  return waitForWithin(aw, delay) as Op<T>;
}

function* waitForWithin<T>(aw: Awaitable<T>, timeoutMs: number | null): Coro<T> {
  if (timeoutMs !== null && timeoutMs <= 0) {
    const fut = toFuture("waitFor()", "aw", aw, undefined);
    if (fut.done()) return fut.result();
    // Cancelled on another loop, it would end there, and this wait never.
    if (fut._loop !== getRunningLoop()) throw foreignFuture("waitFor()", fut);
    yield* cancelAndWait(fut);
    try {
      return fut.result();
    } catch (error) {
      if (error instanceof CancelledError) {
        throw new TimeoutError(`waitFor(): timed out after ${timeoutMs} ms.`, { cause: error });
      }
      throw error;
    }
  }
  return yield* timeoutIn(timeoutMs)._run(awaiting, aw);
}

/**
 * The coroutine that waits for `aw`, as waitFor()'s timeout body: one
 * generator function, where a `function*` made per call would give V8 a
 * generator function, and a prototype to track, per waitFor().
 */
function* awaiting<T>(aw: Awaitable<T>): Coro<T> {
  return yield* aw;
}

/**
 * Protects `aw` from cancellation, as asyncio.shield: cancelling the task that
 * waits on the returned future does not cancel `aw`, which runs on.
 *
 * @example
 * ```ts
 * import { createTask, run, shield, sleep } from "asynkit";
 * await run(function* () {
 *   const save = createTask(sleep(100, "saved"));
 *   const waiter = createTask((function* () { return yield* shield(save); })());
 *   yield* sleep(10);
 *   waiter.cancel();             // the waiter stops waiting…
 *   console.log(yield* save);    // …but save completes: "saved"
 * });
 * ```
 */
export function shield<T>(aw: Awaitable<T>): Future<T> {
  const inner = toFuture("shield()", "aw", aw, undefined);
  if (inner.done()) return inner;
  const outer = new ShieldFuture(inner);
  const onInnerDone = (f: Future<T>): void => {
    if (outer.cancelled()) {
      if (!f.cancelled()) f.exception(); // seen: not reported as unretrieved
      return;
    }
    if (f.cancelled()) outer.cancel();
    else if (f._state === FAILED) outer.setException(f.exception());
    else outer.setResult(f.result());
  };
  const onOuterDone = (): void => {
    if (!inner.done()) inner._removeCallback(onInnerDone as (f: never) => void);
  };
  inner._addCallback(onInnerDone as (f: never) => void);
  outer._addCallback(onOuterDone);
  return outer;
}

/** What shield() returns: a future that says, in the task tree, what it shields. */
class ShieldFuture<T> extends Future<T> {
  constructor(private readonly _inner: Future<T>) {
    super(_inner.getLoop()._bound);
  }

  /** @internal */
  override _label(): string {
    return `shield() of ${describeAwaited(this._inner)}`;
  }
}

/** Options for asCompleted(). */
export interface AsCompletedOptions {
  /** After this many milliseconds (negative: due in the past, before timers due now), the coroutines still to come raise TimeoutError; null or left out: no limit. */
  timeout?: number | null | undefined;
}

const AS_COMPLETED_OPTIONS: OptionNames<AsCompletedOptions> = { timeout: true };

/**
 * Yields one coroutine per awaitable; each waits for the next one to finish
 * and gives its result (or raises its error), in order of completion, as
 * asyncio.as_completed. With `timeout`, the ones left raise TimeoutError.
 * A loop over it may stop and go on later with the same iterator; one that
 * is left for good is collected once nothing else holds it, though the
 * awaitables run on (they hold it only weakly).
 *
 * @example
 * ```ts
 * import { asCompleted, run, sleep } from "asynkit";
 * await run(function* () {
 *   for (const next of asCompleted([sleep(30, "slow"), sleep(10, "fast")])) {
 *     console.log(yield* next); // "fast", then "slow"
 *   }
 * });
 * ```
 */
export function asCompleted<A extends Awaitable<unknown>>(
  aws: Iterable<A>,
  options?: AsCompletedOptions,
): IterableIterator<Op<AwaitedResult<A>>, undefined>;
export function asCompleted<T>(
  aws: Iterable<Awaitable<T>>,
  options?: AsCompletedOptions,
): IterableIterator<Op<T>, undefined>;
export function asCompleted<T>(
  aws: Iterable<Awaitable<T>>,
  options?: AsCompletedOptions,
): IterableIterator<Op<T>, undefined> {
  return new AsCompleted(
    aws,
    checkListAndTimeout("asCompleted()", aws, options, "{ timeout: 100 }", AS_COMPLETED_OPTIONS),
  );
}

/** What the awaitables of an iteration hold: its callback, which reaches the iteration only weakly. */
interface Listening {
  readonly todo: Set<Future<unknown>>;
  readonly onCompletion: (f: Future<unknown>) => void;
}

/**
 * An iteration nobody holds any more (a loop over it that stopped early and
 * never went on) is collected, and its callback comes off the awaitables
 * still running.
 */
const abandoned = new FinalizationRegistry<Listening>(({ todo, onCompletion }) => {
  for (const f of todo) f._removeCallback(onCompletion as (f: never) => void);
  todo.clear();
});

class AsCompleted<T> implements IterableIterator<Op<T>, undefined> {
  /** Futures in the order they finished; null for each one the timeout gave up on. */
  private readonly _done = new Queue<Future<T> | null>();
  private readonly _todo = new Set<Future<T>>();
  private readonly _onCompletion: (f: Future<T>) => void;
  private _left: number;
  private _timer: { cancel(): void } | null = null;

  constructor(aws: Iterable<Awaitable<T>>, timeoutMs: number | undefined) {
    this._done._getName = "asCompleted()"; // the task tree names its waits as asCompleted()'s
    const loop = callersLoop();
    const todo = this._todo;
    for (const aw of new Set(aws)) todo.add(toFuture("asCompleted()", "each awaitable", aw, loop));
    // A loop over it may stop and go on later (as in Python 3.13), so it stays open; but the
    // awaitables hold it only weakly, so that one left for good is not kept as long as they run.
    const iteration = new WeakRef(this);
    const onCompletion = (f: Future<T>): void => {
      const open = iteration.deref();
      if (open !== undefined) open._completed(f);
      else todo.delete(f);
    };
    this._onCompletion = onCompletion;
    for (const f of todo) f._addCallback(onCompletion as (f: never) => void);
    if (todo.size > 0) {
      abandoned.register(this, { todo, onCompletion } as unknown as Listening);
      if (timeoutMs !== undefined) this._timer = loop.callLater(timeoutMs, this._onTimeout);
    }
    this._left = todo.size;
  }

  next(): IteratorResult<Op<T>, undefined> {
    if (this._left === 0) return { done: true, value: undefined };
    this._left--;
    return { done: false, value: this._waitForOne() as Op<T> };
  }

  [Symbol.iterator](): this {
    return this;
  }

  /** @internal */
  *_waitForOne(): Coro<T> {
    const f = yield* this._done.get();
    if (f === null) throw new TimeoutError("asCompleted(): timed out before this one finished.");
    return f.result();
  }

  /** @internal One of the awaitables finished. */
  _completed(f: Future<T>): void {
    if (!this._todo.delete(f)) return; // the timeout came first
    this._done.putNowait(f);
    if (this._todo.size === 0) this._timer?.cancel();
  }

  private _onTimeout = (): void => {
    for (const f of this._todo) {
      f._removeCallback(this._onCompletion as (f: never) => void);
      this._done.putNowait(null);
    }
    this._todo.clear();
  };
}

thenable(Gathering);
thenable(waitUntil);
thenable(waitForWithin);
thenable(AsCompleted.prototype._waitForOne);
