/**
 * Future: a result that will be available later, as asyncio's Future.
 * Also a PromiseLike (native `await future` works) and an iterable
 * (`yield* future` suspends the coroutine until it is done).
 */
import { type AsyncScope, captureAsyncScope } from "./asynccontext.js";
import { observed, publish } from "./channels.js";
import { type Context, checkContextOption, copyContext } from "./context.js";
import { type Coro, isGeneratorFunction, isPromiseLike, type Suspend, shortRepr } from "./coro.js";
import { CancelledError, InvalidStateError } from "./errors.js";
import { activeLoopOrNull, callersLoop, getEventLoop } from "./events.js";
import type { BaseEventLoop } from "./loops/base.js";
import { awaitInTask, handOverNow } from "./native.js";
import { createdAt, noteCreation } from "./suspendsite.js";
import type { Task } from "./tasks.js";
import { failedUnretrieved, retrieved, type Unretrieved } from "./unretrieved.js";
import { classNameOf, inspectAsString } from "./util/inspect.js";
import {
  argTypeError,
  checkLoopOption,
  checkOptions,
  generatorCallback,
  isEventLoop,
  notALoop,
  type OptionNames,
} from "./validate.js";

/**
 * @internal The method of an operation that waits on a future of its own
 * (gather()'s): ensureFuture() gives that future, on the loop it names, as
 * asyncio's gather() returns one, rather than a task that waits on it.
 */
export const ownFuture: unique symbol = Symbol("asynkit.ownFuture");

/** @internal */ export const PENDING = 0;
/** @internal */ export const FINISHED = 1;
/** @internal */ export const FAILED = 2;
/** @internal */ export const CANCELLED = 3;
const STATE_NAMES = ["pending", "finished", "failed", "cancelled"];

/** A done-callback: called through the loop with the future once it is done. */
export type DoneCallback<F> = (future: F) => void;

/** @internal The ready-queue callback that wakes a task; the scheduling API's Handles for a woken task call it. */
export function wakeWaiter(task: Task<unknown>, future: Future<unknown>): void {
  task._wakeup(future);
}

/** A user's done-callback, with the context it runs in (asynkit's own callbacks have none). */
class ContextCallback {
  constructor(
    readonly fn: DoneCallback<never>,
    /** Null for then()'s bridge, which runs no user code. */
    readonly context: Context | null,
    /** The adder's AsyncLocalStorage context, with the loop's asyncLocalStorage option. */
    readonly asyncScope: AsyncScope | undefined,
  ) {}
}

/**
 * then()'s bridge to a native promise: a done-callback that only settles the
 * promise. A loop that is not running would never run it, and native code
 * awaits the future without one: then it settles the promise at once.
 */
class PromiseBridge extends ContextCallback {
  constructor(settle: DoneCallback<never>) {
    super(settle, null, undefined);
  }
}

/** @internal What a then() of something its loop abandoned pending rejects with. */
export function abandoned(what: object): InvalidStateError {
  return new InvalidStateError(
    `${what} will never finish: its loop was closed while it was pending.`,
  );
}

/** cancel()'s message is a string (or nothing): it travels in the CancelledError's message. */
function badCancelMessage(future: Future<unknown>, message: unknown): TypeError {
  return argTypeError(
    `${future._kind().toLowerCase()}.cancel()`,
    "message",
    message,
    "a string",
    'pass a message, e.g. cancel("shutting down"), or String(reason)',
  );
}

/** A task among a future's callbacks waits on it: it is queued itself when the future is done. */
type Callback = DoneCallback<never> | Task<unknown> | ContextCallback;

/** A future's callbacks once there are two or more; a removed one leaves a hole (null) in a long array. */
type Callbacks = (Callback | null)[];

/** A callback array longer than this is indexed at its first removal (see CallbackIndex). */
const INDEXED = 32;

/**
 * Where each callback of a long array sits, and how many of its slots are
 * holes: a callback that leaves (one of thousands of requests waiting on one
 * task, timed out) is removed in O(1) as a hole, and the array is compacted
 * once half of it is holes, where a scan and a copy per removal made the
 * waiters' leaving quadratic. Held weakly by the array: no future carries a
 * field for it.
 */
interface CallbackIndex {
  readonly at: Map<Callback, number>;
  holes: number;
}

const indexes = new WeakMap<Callbacks, CallbackIndex>();

/** Options for addDoneCallback(). */
export interface DoneCallbackOptions {
  /** The context the callback runs in (default: a copy of the current one). */
  context?: Context | undefined;
}

/** @internal The names of options that are a context alone. */
export const CONTEXT_OPTION: OptionNames<DoneCallbackOptions> = { context: true };
/** @internal The names of options that are a loop alone. */
export const LOOP_OPTION: OptionNames<{ loop?: unknown }> = { loop: true };

/**
 * The eventual result of an operation, as asyncio's Future.
 *
 * A coroutine waits for it with `yield* future`; native code with `await future`.
 * Done-callbacks run through the loop, in the order they were added.
 *
 * @example
 * ```ts
 * import { Future, run, getRunningLoop } from "asynkit";
 * const value = await run(function* () {
 *   const future = new Future<number>();
 *   getRunningLoop().callLater(10, () => future.setResult(42));
 *   return yield* future; // suspends until the result is set
 * });
 * console.log(value); // 42
 * ```
 */
export class Future<T = unknown> implements PromiseLike<T> {
  // Declared, and assigned in the constructor rather than initialised as class fields:
  // V8 inlines a `super()` only into a constructor whose parent has no field initialisers,
  // and once a program makes futures of many kinds, the definitions of class fields go
  // megamorphic and run in V8's runtime (see "Single process" in docs/benchmarks.md).
  /** @internal */ declare _state: number;
  /**
   * @internal One slot for what the state says: the result when finished, the
   * exception when failed, the cause (if any) when cancelled; a pending task
   * keeps the cause of a cancellation it has yet to throw in.
   */
  declare _outcome: unknown;
  /** @internal */ declare _loop: BaseEventLoop;
  /** @internal The callback itself while there is one (most futures have exactly one), then an array. */
  declare _callbacks: Callback | Callbacks | null;
  /**
   * @internal The message of a cancellation (string or undefined), or the
   * report of a failure nobody has retrieved yet: one slot, since a future is
   * never both cancelled and failed, and every field costs each future 8 bytes.
   */
  declare _aside: string | Unretrieved | undefined;

  /** A pending future on `options.loop` (default: the running loop, else the policy's). */
  constructor(options?: { loop?: BaseEventLoop | undefined }) {
    this._state = PENDING;
    this._outcome = undefined;
    const loop = options?.loop; // options may be null or a non-object: _checkedLoop says so
    // loop.createFuture() and asynkit's own futures and plain tasks pass the loop's own
    // option object: nothing to check, and nothing for debug mode to note.
    this._loop = loop !== undefined && loop._bound === options ? loop : this._optionLoop(options);
    this._callbacks = null;
    this._aside = undefined;
  }

  /**
   * @internal The loop `options` name, checked, or the current one, for a
   * future made with options of the caller's own (`new Future()`, a task with
   * options); debug mode notes where it is being made.
   */
  _optionLoop(options: { loop?: BaseEventLoop | undefined } | undefined): BaseEventLoop {
    const loop = options === undefined ? getEventLoop() : this._checkedLoop(options);
    if (loop.getDebug()) noteCreation(this);
    return loop;
  }

  /**
   * @internal The loop of a `new Future(options)` given by the user: checked,
   * or the current one. A Task's options are checked as a task's (new Task()).
   */
  _checkedLoop(options: { loop?: BaseEventLoop | undefined }): BaseEventLoop {
    const where = `new ${this._kind()}()`;
    checkOptions(where, options, "{ loop }", LOOP_OPTION);
    const loop = (options as { loop?: unknown } | undefined)?.loop;
    if (loop !== undefined && !isEventLoop(loop)) throw notALoop(where, "options.loop", loop);
    return options.loop ?? getEventLoop();
  }

  /** True when the future has a result, an exception, or was cancelled. */
  done(): boolean {
    return this._state !== PENDING;
  }

  /** True when the future was cancelled. */
  cancelled(): boolean {
    return this._state === CANCELLED;
  }

  /**
   * The result. Throws InvalidStateError while pending, CancelledError if
   * cancelled, and the exception if one was set.
   */
  result(): T {
    switch (this._state) {
      case FINISHED:
        return this._outcome as T;
      case FAILED:
        this._retrieved();
        throw this._outcome;
      case CANCELLED:
        throw this._makeCancelledError();
      default:
        throw new InvalidStateError(
          "Result is not set yet: wait for the future first (yield* future), or check done().",
        );
    }
  }

  /**
   * The exception, or undefined if it succeeded. Throws InvalidStateError while
   * pending and CancelledError if cancelled.
   */
  exception(): unknown {
    switch (this._state) {
      case FINISHED:
        return undefined;
      case FAILED:
        this._retrieved();
        return this._outcome;
      case CANCELLED:
        throw this._makeCancelledError();
      default:
        throw new InvalidStateError(
          "Exception is not set yet: wait for the future first (yield* future), or check done().",
        );
    }
  }

  /** Marks the future done with `value`; InvalidStateError if it is already done. */
  setResult(value: T): void {
    if (this._state !== PENDING) throw this._alreadyDone("setResult");
    this._resolve(value);
  }

  /** Marks the future failed with `error`; InvalidStateError if it is already done. */
  setException(error: unknown): void {
    if (this._state !== PENDING) throw this._alreadyDone("setException");
    this._fail(error);
  }

  /** Cancels the future; false if it was already done. */
  cancel(message?: string): boolean {
    if (message !== undefined && typeof message !== "string") {
      throw badCancelMessage(this, message);
    }
    // As asyncio: whoever cancels a future has dealt with it, even one that already failed.
    this._retrieved();
    return this._requestCancel(message, undefined);
  }

  /**
   * @internal cancel(), with a `cause` for the CancelledError (an AbortSignal's
   * reason). Subclasses that cancel something else instead (a task, a gather) override it.
   */
  _requestCancel(message: string | undefined, cause: unknown): boolean {
    if (this._state !== PENDING) return false;
    this._state = CANCELLED;
    this._aside = message;
    this._outcome = cause;
    this._scheduleCallbacks();
    return true;
  }

  /**
   * Calls `callback(future)` through the loop once the future is done (soon, if
   * it is). The callback runs in a copy of the context current now, as asyncio's,
   * or in `options.context`.
   */
  addDoneCallback(callback: DoneCallback<this>, options?: DoneCallbackOptions): void {
    if (typeof callback !== "function") {
      throw argTypeError(
        "future.addDoneCallback()",
        "callback",
        callback,
        "a function",
        "pass (future) => { ... }",
      );
    }
    if (isGeneratorFunction(callback))
      throw generatorCallback("future.addDoneCallback()", callback);
    checkOptions("future.addDoneCallback()", options, "{ context }", CONTEXT_OPTION);
    const context = options?.context;
    checkContextOption("future.addDoneCallback()", context);
    const asyncScope = this._loop._asyncLocalStorage
      ? captureAsyncScope("asynkit.DoneCallback")
      : undefined;
    this._addCallback(
      new ContextCallback(callback as DoneCallback<never>, context ?? copyContext(), asyncScope),
    );
  }

  /** Removes every registration of `callback`; returns how many were removed. */
  removeDoneCallback(callback: DoneCallback<this>): number {
    return this._removeCallbacks(
      (cb) => cb === callback || (cb instanceof ContextCallback && cb.fn === callback),
    );
  }

  /** @internal Stops waking `task` when the future is done (it stopped waiting). */
  _removeWaiter(task: Task<unknown>): void {
    this._removeCallback(task);
  }

  /**
   * @internal Removes `callback`, which was added once (a waiting task,
   * asynkit's own closure): in O(1), however many callbacks there are.
   */
  _removeCallback(callback: Callback): void {
    const callbacks = this._callbacks;
    if (callbacks === callback) this._callbacks = null;
    else if (Array.isArray(callbacks)) {
      if (callbacks.length > INDEXED) this._removeIndexed(callbacks, callback);
      else this._removeCallbacks((cb) => cb === callback);
    }
  }

  /** Leaves a hole where `callback` was in `callbacks`; compacts them once half are holes. */
  private _removeIndexed(callbacks: Callbacks, callback: Callback): void {
    let index = indexes.get(callbacks);
    if (index === undefined) {
      index = { at: new Map(), holes: 0 };
      for (let i = 0; i < callbacks.length; i++) {
        const cb = callbacks[i];
        if (cb === null) index.holes++;
        else index.at.set(cb as Callback, i);
      }
      indexes.set(callbacks, index);
    }
    const at = index.at.get(callback);
    if (at === undefined) return;
    index.at.delete(callback);
    callbacks[at] = null;
    if (++index.holes * 2 > callbacks.length) this._removeCallbacks(() => false);
  }

  /** Removes the callbacks `matches` picks, and the holes; returns how many callbacks it removed. */
  private _removeCallbacks(matches: (callback: Callback) => boolean): number {
    const callbacks = this._callbacks;
    if (callbacks === null) return 0;
    const all = Array.isArray(callbacks) ? callbacks : [callbacks];
    const kept: Callback[] = [];
    let removed = 0;
    for (const cb of all) {
      if (cb === null) continue;
      if (matches(cb)) removed++;
      else kept.push(cb);
    }
    this._callbacks = kept.length === 0 ? null : kept.length === 1 ? (kept[0] as Callback) : kept;
    return removed;
  }

  /** The event loop the future belongs to: its callbacks run there. */
  getLoop(): BaseEventLoop {
    return this._loop;
  }

  /**
   * Lets native code `await` the future; a cancelled future rejects with
   * CancelledError. The await settles through the loop, in the order of the
   * future's done-callbacks, or at once if the loop is not running then.
   */
  // biome-ignore lint/suspicious/noThenProperty: a Future is deliberately a PromiseLike.
  then<A = T, B = never>(
    onfulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    // biome-ignore lint/suspicious/noExplicitAny: as PromiseLike's, so a handler may declare (e: Error)
    onrejected?: ((reason: any) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    // In a native task, this is an await the task drives (see native.ts).
    if (awaitInTask(this, onfulfilled as never, onrejected)) return undefined as never;
    return this._promise().then(onfulfilled, onrejected);
  }

  /**
   * @internal A native promise that settles with the future, made directly:
   * resolving a promise with the future itself would call its then() from a
   * job, which a native task could take for its own await.
   */
  _promise(): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const settle = (future: Future<T>): void => {
        if (future._state === FINISHED) resolve(future._outcome as T);
        else if (future._state === FAILED) {
          future._retrieved();
          reject(future._outcome);
        } else if (future._state === CANCELLED) reject(future._makeCancelledError());
        else reject(abandoned(future)); // see _abandon()
      };
      if (this._state !== PENDING || this._abandoned()) settle(this);
      else {
        this._addCallback(new PromiseBridge(settle as DoneCallback<never>));
      }
    });
  }

  /**
   * @internal True if it can never finish: a task whose loop closed (see
   * _abandon). A plain future can still be completed by code outside its loop.
   */
  _abandoned(): boolean {
    return false;
  }

  /**
   * @internal Its loop closed with it pending, so it never finishes: the
   * promises then() made for native code reject rather than wait for ever
   * (a function that awaits it runs its catch and finally blocks, and ends).
   */
  _abandon(): void {
    const callbacks = this._callbacks;
    if (callbacks === null) return;
    for (const callback of Array.isArray(callbacks) ? callbacks : [callbacks]) {
      if (callback instanceof PromiseBridge) callback.fn(this as never);
    }
  }

  /** `yield* future`: suspends until the future is done, then gives its result or throws. */
  [Symbol.iterator](): Coro<T> {
    return new FutureIterator(this) as unknown as Coro<T>;
  }

  toString(): string {
    const state = STATE_NAMES[this._state];
    const label = this._label();
    // A task has a name (Task's own toString()); a future has where debug mode saw it made.
    return `<${classNameOf(this)} ${state}${label === null ? "" : ` ${label}`}${this._outcomeRepr()}${createdAt(this)}>`;
  }

  /** @internal What a repr adds for a done future, as asyncio's: ` result=42`, ` exception=Error("boom")`. */
  _outcomeRepr(): string {
    if (this._state === FINISHED) return ` result=${shortRepr(this._outcome)}`;
    return this._state === FAILED ? ` exception=${shortRepr(this._outcome)}` : "";
  }

  /** @internal */
  _addCallback(callback: Callback): void {
    const callbacks = this._callbacks;
    if (this._state !== PENDING) this._schedule(callback);
    else if (callbacks === null) this._callbacks = callback;
    else if (Array.isArray(callbacks)) {
      callbacks.push(callback);
      if (callbacks.length > INDEXED)
        indexes.get(callbacks)?.at.set(callback, callbacks.length - 1);
    } else this._callbacks = [callbacks, callback];
  }

  /** @internal Finishes with a result. */
  _resolve(value: T): void {
    this._outcome = value;
    this._state = FINISHED;
    this._scheduleCallbacks();
  }

  /** @internal Finishes with an exception; reports it later if nobody retrieves it. */
  _fail(error: unknown): void {
    this._outcome = error;
    this._state = FAILED;
    // Reported unless retrieved, by then()'s bridge too, which an idle loop settles at once.
    this._aside = failedUnretrieved(this as Future<unknown>, error);
    this._scheduleCallbacks();
  }

  /** @internal "Future" or "Task", for messages. */
  _kind(): string {
    return "Future";
  }

  /** @internal What the future stands for, for deadlock reports and toString(): see WaitFuture. */
  _label(): string | null {
    return null;
  }

  /** @internal The exception was looked at: nothing to report. */
  _retrieved(): void {
    const report = this._aside;
    if (typeof report !== "object") return;
    this._aside = undefined;
    retrieved(report);
  }

  /** @internal The message cancel() was given, if any. */
  get _cancelMessage(): string | undefined {
    const aside = this._aside;
    return typeof aside === "string" ? aside : undefined;
  }

  /** @internal */
  _makeCancelledError(): CancelledError {
    const error = new CancelledError(this._cancelMessage ?? "");
    if (this._outcome !== undefined) error.cause = this._outcome;
    return error;
  }

  private _alreadyDone(operation: string): InvalidStateError {
    const state = ["pending", "finished", "failed", "cancelled"][this._state];
    return new InvalidStateError(
      `${operation}() on a ${state} ${this._kind()}: a future can be completed only once.`,
    );
  }

  private _scheduleCallbacks(): void {
    const callbacks = this._callbacks;
    if (callbacks === null) return;
    this._callbacks = null;
    if (!Array.isArray(callbacks)) this._schedule(callbacks);
    else {
      for (let i = 0; i < callbacks.length; i++) {
        const callback = callbacks[i] as Callback | null;
        if (callback !== null) this._schedule(callback);
      }
    }
  }

  private _schedule(callback: Callback): void {
    const loop = this._loop;
    if (typeof callback === "function") loop._call(callback, 1, this, undefined, null);
    else if (callback instanceof ContextCallback) {
      if (callback instanceof PromiseBridge && !loop._running) {
        callback.fn(this as never);
        return;
      }
      const handle = loop._call(callback.fn, 1, this, undefined, callback.context);
      handle._asyncScope = callback.asyncScope;
    } else {
      if (observed) publish("task.woken", { task: callback, future: this, by: loop._currentTask });
      loop._readyTask(callback);
    }
  }
}

inspectAsString(Future);

/**
 * @internal A future a primitive waits on ("Lock.acquire()", "Queue.get()", a
 * sleep), which says so in deadlock reports and toString(). Its own class, so
 * that plain futures and tasks carry no label field.
 */
export class WaitFuture<T = unknown> extends Future<T> {
  /** A string, or an object described only when printed (a sleep builds no string per sleep). */
  declare protected readonly _what: string | { toString(): string };

  // The field is assigned, not initialised, so that a subclass's `super()` inlines this (see Future).
  constructor(loop: BaseEventLoop, what: string | { toString(): string }) {
    super(loop._bound);
    this._what = what;
  }

  override toString(): string {
    return `<Future ${STATE_NAMES[this._state]} ${this._what}${this._outcomeRepr()}>`;
  }

  override _label(): string {
    return String(this._what);
  }
}

/**
 * The pending step of a wait, `{ done: false, value: future }`, is the only
 * step with which a coroutine hands its task a future to wait on. asynkit's
 * wait iterators make it (PendingWait) or are it (FutureIterator, SleepFor,
 * EventWait, QueueWait), and `yield*` passes it to the task as it is; `yield future`,
 * the mistake of leaving out the star, makes a plain result object instead,
 * which the task reports. Their classes carry this mark on their prototypes,
 * so a step costs no field for it. The step says it all: a CoroStart that
 * keeps a suspension for a later task keeps it with the step, and no wait
 * writes to anything but its own objects (a write of a new future into a
 * long-lived object is a call of the collector's write barrier).
 */
const waits: unique symbol = Symbol("asynkit.waits");

/** @internal Marks the instances of `cls` as a wait's pending steps: see `waits`. */
export function waitSteps(cls: { prototype: object }): void {
  Object.defineProperty(cls.prototype, waits, { value: true });
}

/**
 * True where `yield*` hands on a result object of its own instead of the inner
 * iterator's (JavaScriptCore: Bun, Safari), which drops the `waits` mark.
 * There a wait is known instead by its future: the one the last pending wait
 * step held, as a step ends at the first suspension (see lastWait).
 */
const rewrapsHere = (() => {
  const inner = { done: false, value: 0 };
  const iterator = { [Symbol.iterator]: () => iterator, next: () => inner };
  function* outer(): Generator<number, void, unknown> {
    yield* iterator as unknown as Iterable<number>;
  }
  return outer().next() !== inner;
})();
let yieldStarRewraps = rewrapsHere;

/** @internal For tests on V8: behave as where `yield*` rewraps steps (true), or as detected (null). */
export function setYieldStarRewraps(rewraps: boolean | null): void {
  yieldStarRewraps = rewraps ?? rewrapsHere;
  lastWait = null;
}

/** Where yield* rewraps steps: the future of the last pending wait step made (see yieldStarRewraps). */
let lastWait: Future<unknown> | null = null;

/**
 * @internal A loop's slice or runSync() ended (it stopped, parked or gave the host a turn),
 * between two steps: no wait's step is on its way to a task, so lastWait can
 * go. A step that reached its task marked (no yield* between) left it set,
 * and it would keep that future, and its loop, until the next wait anywhere;
 * clearing it once a slice costs the waits nothing.
 */
export function forgetLastWait(): void {
  lastWait = null;
}

/** The step carries the mark of a wait's pending step (see `waits`). */
function marked(step: IteratorResult<unknown, unknown>): boolean {
  return (step as { [waits]?: true })[waits] === true;
}

/** @internal True if `step` hands the task a future to wait on: see `waits`. */
export function isWaitStep(step: IteratorResult<unknown, unknown>): boolean {
  if (marked(step)) return true;
  if (!yieldStarRewraps || lastWait === null || step.value !== lastWait) return false;
  lastWait = null;
  return true;
}

/**
 * @internal `step` as a CoroStart keeps it, to yield again later, perhaps in
 * another task: where yield* rewraps steps, a wait's step is known only now
 * (by lastWait, which the next wait overwrites), so it is kept as a marked one.
 */
export function keptStep<T>(step: IteratorResult<Suspend, T>): IteratorResult<Suspend, T> {
  if (!yieldStarRewraps || marked(step) || !isWaitStep(step)) return step;
  return new PendingWait(step.value as Future<unknown>) as unknown as IteratorResult<Suspend, T>;
}

/** @internal A step keptStep() kept, yielded now: where yield* rewraps it, lastWait tells it again. */
export function yieldKept<T>(step: IteratorResult<Suspend, T>): IteratorResult<Suspend, T> {
  if (yieldStarRewraps && marked(step)) {
    lastWait = step.value as Future<unknown>;
  }
  return step;
}

/** The pending step of a wait whose iterator is not its own step. */
class PendingWait {
  readonly done = false;
  constructor(readonly value: Future<unknown>) {}
}

waitSteps(PendingWait);

/**
 * Set once a loop is put in debug mode: from then on each wait tells the
 * future's loop, whose linter notes where the task suspended (see lints.ts).
 * Until then a suspension pays one test of this boolean.
 */
let suspensionsNoted = false;
/** What runs once suspensions are noted (see whenSuspensionsNoted). */
const onSuspensionsNoted: (() => void)[] = [];

/** @internal A loop entered debug mode: waits note where their task suspended from now on. */
export function noteSuspensions(): void {
  if (suspensionsNoted) return;
  suspensionsNoted = true;
  for (const begin of onSuspensionsNoted.splice(0)) begin();
}

/** @internal Runs `begin` once suspensions are noted, or now if they are. */
export function whenSuspensionsNoted(begin: () => void): void {
  if (suspensionsNoted) begin();
  else onSuspensionsNoted.push(begin);
}

/** @internal A `sleep(0)` suspends, once suspensions are noted: its running loop's linter notes where. */
export function noteBareYield(): void {
  activeLoopOrNull()?._linter?.suspending();
}

/**
 * @internal Who a call of asynkit's (a queue's get() or put(), an Event's
 * wait(), a hold()) now waits for, as its wait resumes in `current`'s step:
 * `by`, the task whose wait it began, unless that task let the wait go on in
 * a task of its own (an await a native task let go of), which takes it. Another
 * task's yield* of the call while `by` still waits on `waited` (or is woken and
 * about to resume) is refused there, and `by` keeps its place.
 */
export function waitOwner(
  by: Task<unknown> | null,
  current: Task<unknown> | null,
  waited: unknown,
  call: string,
): Task<unknown> | null {
  if (by === null || by === current) return by;
  if (by._futWaiter === waited) {
    throw new InvalidStateError(
      `${call} is awaited already, by another task: a call is awaited once (to wait for it from several tasks, make it a task, createTask(call), and await that).`,
    );
  }
  return current;
}

/**
 * The end of a wait for undefined (a future set with `setResult()`, a sleep(0)),
 * one object for all of them: `yield*` hands the inner iterator's result to the
 * task as it is, and the task only reads it.
 */
const DONE_UNDEFINED: IteratorResult<never, undefined> = Object.freeze({
  done: true,
  value: undefined,
});

/** The end of a wait for true: what acquire() and the waits of Event and Condition return. */
const DONE_TRUE: IteratorResult<never, true> = Object.freeze({ done: true, value: true });

/** @internal The last step of a wait, with its value: for undefined and true, one shared object. */
export function doneStep<T>(value: T): IteratorResult<never, T> {
  if (value === undefined) return DONE_UNDEFINED as IteratorResult<never, T>;
  if (value === true) return DONE_TRUE as IteratorResult<never, T>;
  return { done: true, value };
}

/**
 * @internal One step of waiting for `future` inside `yield*`: the first step
 * (`resumed` false) yields a pending future to the task; a resumed step gives
 * the result or throws. `pending` is the step to yield, when the wait's
 * iterator is its own; else one is made.
 */
export function waitStep<T>(
  future: Future<T>,
  resumed: boolean,
  pending: IteratorYieldResult<Suspend> | null = null,
): IteratorResult<Suspend, T> {
  if (future._state !== PENDING) return doneStep(future.result());
  // As asyncio's "await wasn't used with future": a task resumes the waiter only once the
  // future is done, so a resumed step while pending comes from iterating the future by hand
  // (deep equality in a test, a spread): fail rather than yield the future forever.
  if (resumed) {
    throw new InvalidStateError(
      `${future} was iterated while pending: wait for a future only with \`yield* future\` inside a coroutine.`,
    );
  }
  // Here, while the coroutine that suspends is still on the stack.
  if (suspensionsNoted) future._loop._linter?.suspending();
  if (yieldStarRewraps) lastWait = future as Future<unknown>;
  return pending ?? (new PendingWait(future as Future<unknown>) as IteratorYieldResult<Suspend>);
}

/**
 * The iterator behind `yield* future`: yields the future while it is pending,
 * then returns its result. It is its own steps, so a wait allocates one
 * object: `{ done: false, value: future }` while pending, then, once the
 * future is done, `{ done: true, value: result }`.
 */
class FutureIterator<T> {
  done = false;
  /** A private field: the iterator is also the wait's steps, which show only `done` and `value`. */
  #resumed = false;
  /** The future, until the wait is over; then its result. */
  value: Future<T> | T;
  constructor(future: Future<T>) {
    this.value = future;
  }

  next(): IteratorResult<Suspend, T> {
    if (this.done) return this as IteratorReturnResult<T>;
    const future = this.value as Future<T>;
    if (future._state !== PENDING) {
      this.value = future.result();
      this.done = true;
      return this as IteratorReturnResult<T>;
    }
    const step = waitStep(future, this.#resumed, this as IteratorYieldResult<Suspend>);
    this.#resumed = true;
    return step;
  }

  throw(error: unknown): never {
    throw error;
  }

  return(value: T): IteratorResult<Suspend, T> {
    return { done: true, value };
  }

  [Symbol.iterator](): this {
    return this;
  }
}

waitSteps(FutureIterator);

/**
 * True for a Future (or Task).
 *
 * @example
 * ```ts
 * import { isFuture, Future } from "asynkit";
 * console.log(isFuture(new Future()), isFuture(Promise.resolve())); // true false
 * ```
 */
export function isFuture(x: unknown): x is Future<unknown> {
  return x instanceof Future;
}

/**
 * A Future that settles with a native promise, so a coroutine can wait for it:
 * `const body = yield* fromPromise(fetch(url))`. It belongs to `options.loop`,
 * else to the loop the calling code runs on: the running loop, or, in an
 * async function task after a host await, its task's loop (with the loop's
 * asyncLocalStorage option) or the loop running now; else the policy's loop.
 * A future of that loop is returned as it is; another loop's future (a task
 * a library's own loop runs) is waited for as a promise.
 *
 * A native task that awaits it in the step whose microtasks settled it (a
 * promise settled already) takes a turn of the ready queue first, as a
 * generator task's `yield*` finds such a future pending and waits.
 *
 * Until the future is done (settled by the promise, or cancelled), an idle
 * virtual loop waits for the host instead of reporting a deadlock. Each call
 * adds a reaction to the promise, which lasts until the promise settles (a
 * promise's reactions cannot be removed): to race many waits against one
 * long-lived promise (a shutdown signal), make one future of it and let each
 * wait watch that, with `wait([work, stopping], { returnWhen: "FIRST_COMPLETED" })`.
 *
 * @example
 * ```ts
 * import { fromPromise, run } from "asynkit";
 * const text = await run(function* () {
 *   return yield* fromPromise(Promise.resolve("from the host"));
 * });
 * ```
 */
export function fromPromise<T>(
  promise: PromiseLike<T>,
  options?: { loop?: BaseEventLoop | undefined },
): Future<T> {
  if (promise instanceof Future) {
    const here = options?.loop ?? activeLoopOrNull();
    if (here === null || here === promise._loop) return promise;
  }
  if (!isPromiseLike(promise)) {
    throw argTypeError(
      "fromPromise()",
      "promise",
      promise,
      "a promise or thenable",
      "pass a promise, e.g. fromPromise(fetch(url))",
    );
  }
  checkOptions("fromPromise()", options, "{ loop }", LOOP_OPTION);
  checkLoopOption("fromPromise()", "options.loop", options?.loop);
  // The loop the calling code runs on: in an async function task after a host await,
  // outside every loop's step, its task's loop (or, without the asyncLocalStorage
  // option, the loop running now), not the policy's, which would never settle it.
  const loop = options?.loop ?? callersLoop();
  const future = new HostFuture<T>(loop);
  const wait = future._wait as HostWait<T>;
  promise.then(
    (value) => wait.end()?._settleFromHost(true, value),
    (error: unknown) => wait.end()?._settleFromHost(false, error),
  );
  return future;
}

/**
 * fromPromise()'s future: done in any other way than by its promise
 * (cancelled, say), it ends its wait itself, rather than through a
 * done-callback, which would make every wakeup of its task a second entry in
 * the ready queue.
 */
class HostFuture<T> extends WaitFuture<T> {
  /** @internal The wait on the promise, until it ends. */
  _wait: HostWait<T> | null;
  /** @internal The native step (its loop's count of hand-overs) whose microtasks settled it, or -1. */
  _settledIn = -1;

  constructor(loop: BaseEventLoop) {
    super(loop, "fromPromise()");
    this._wait = new HostWait(this);
  }

  /** @internal Its promise settled, while the wait went on. */
  _settleFromHost(ok: boolean, outcome: unknown): void {
    this._settledIn = handOverNow(this._loop);
    if (ok) this.setResult(outcome as T);
    else this.setException(outcome);
  }

  /**
   * `await` in a native task's function. Its promise may have settled it in
   * the microtasks of the step that awaits it now, before the await's then()
   * (a promise settled already), where a generator task's `yield*` would
   * have found it pending (its step ends before the reaction): the task then
   * takes a turn of the ready queue first, as a wait would, else a loop of
   * such awaits would be one step, which no time slice ends, and the host and
   * the tasks ready beside it would never get a turn.
   */
  // biome-ignore lint/suspicious/noThenProperty: a Future is awaitable, and this is its then().
  override then<A = T, B = never>(
    onfulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    // biome-ignore lint/suspicious/noExplicitAny: as PromiseLike's, so a handler may declare (e: Error)
    onrejected?: ((reason: any) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    if (
      this._settledIn !== -1 &&
      this._settledIn === handOverNow(this._loop) &&
      awaitInTask(afterTurn(this), onfulfilled, onrejected)
    ) {
      return undefined as never;
    }
    return super.then(onfulfilled, onrejected);
  }

  /** @internal */
  override _resolve(value: T): void {
    this._wait?.end();
    super._resolve(value);
  }

  /** @internal */
  override _fail(error: unknown): void {
    this._wait?.end();
    super._fail(error);
  }

  /** @internal */
  override _requestCancel(message: string | undefined, cause: unknown): boolean {
    if (!super._requestCancel(message, cause)) return false;
    this._wait?.end();
    return true;
  }
}

/** A done future's outcome after a turn of the ready queue (a bare yield). */
function* afterTurn<T>(future: Future<T>): Coro<T> {
  yield;
  return yield* future;
}

/**
 * A fromPromise() future while its promise may still settle it. It counts on
 * its loop as a wait only the host can end (an idle virtual loop waits for it
 * rather than report a deadlock) until the future is done, by the promise or
 * by a cancellation, or the loop closes; then it lets the future go, since
 * the promise's reactions cannot be taken back and a promise may outlive many
 * waits (a shutdown signal that each request races against).
 */
class HostWait<T> {
  private future: HostFuture<T> | null;

  constructor(future: HostFuture<T>) {
    this.future = future;
    const loop = future._loop;
    loop._hostPending++;
    (loop._hostWaits ??= new Set()).add(this);
  }

  /** Ends the wait, for the loop's close() (see BaseEventLoop._hostWaits). */
  stop(): void {
    this.end();
  }

  /** The wait is over: the future, if it was still waiting and still pending, else null. */
  end(): HostFuture<T> | null {
    const future = this.future;
    if (future === null) return null;
    this.future = null;
    future._wait = null;
    const loop = future._loop;
    loop._hostPending--;
    loop._hostWaits?.delete(this);
    return future._state === PENDING ? future : null;
  }
}
