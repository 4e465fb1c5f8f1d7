/**
 * AbortSignal interop, both ways: an AbortSignal can cancel a task (or a whole
 * `run()`), a task can wait for a signal, and a task can hand native APIs
 * (`fetch`, `setTimeout` of `node:timers/promises`, …) a signal that aborts
 * when the task is cancelled.
 */
import type { Coro } from "./coro.js";
import { CancelledError, cancellationOf } from "./errors.js";
import { getRunningLoop, runningTask } from "./events.js";
import { Future, PENDING, WaitFuture } from "./futures.js";
import type { BaseEventLoop } from "./loops/base.js";
import { type Op, thenable } from "./thenable.js";
import { argTypeError } from "./validate.js";

/** The interface asynkit needs of a signal (AbortSignal, from any realm or polyfill). */
type SignalLike = Pick<
  AbortSignal,
  "aborted" | "reason" | "addEventListener" | "removeEventListener"
>;

/** @internal Throws a TypeError unless `signal` is an AbortSignal (or works like one). */
export function checkSignal(
  where: string,
  name: string,
  signal: unknown,
): asserts signal is SignalLike {
  if (
    typeof signal !== "object" ||
    signal === null ||
    typeof (signal as SignalLike).addEventListener !== "function" ||
    !("aborted" in signal)
  ) {
    throw argTypeError(
      where,
      name,
      signal,
      "an AbortSignal",
      "pass controller.signal of an AbortController, or AbortSignal.timeout(ms)",
    );
  }
}

/** The CancelledError message for an abort `reason`: an error's message, or the reason as text. */
function abortMessage(reason: unknown): string {
  // A task's cancel() with no message aborts its signal with a CancelledError without one.
  if (reason instanceof CancelledError) return reason.message;
  if (reason instanceof Error) return reason.message || reason.name;
  return String(reason);
}

/**
 * @internal Cancels `future` (a task: requests its cancellation) when `signal`
 * aborts, with the signal's reason as the CancelledError's message and cause,
 * then calls `cancelled`. Returns a function that stops listening.
 */
export function cancelOnAbort(
  future: Future<unknown>,
  signal: AbortSignal,
  cancelled: () => void = noop,
): () => void {
  const onAbort = (): void => {
    // A task abandoned by its loop's shutdown() can outlive the loop: nothing is left to cancel.
    if (future._loop.isClosed()) return;
    const reason = reasonOfSignal(signal);
    future._requestCancel(abortMessage(reason), reason);
    cancelled();
  };
  if (signal.aborted) {
    onAbort();
    return noop;
  }
  return listen(future._loop, signal, onAbort);
}

function noop(): void {}

/**
 * Calls `onAbort` when `signal` aborts; returns a function that stops
 * listening. While it listens, the wait counts on `loop` as one the host may
 * end, so an idle virtual loop waits for it instead of reporting a deadlock.
 */
function listen(loop: BaseEventLoop, signal: SignalLike, onAbort: () => void): () => void {
  loop._hostPending++;
  let listening = true;
  const stop = (): void => {
    if (!listening) return;
    listening = false;
    loop._hostPending--;
    loop._hostWaits?.delete(wait);
    unlisten(signal, aborted);
  };
  const wait = { stop };
  const aborted = (): void => {
    stop();
    onAbort();
  };
  let listener = listeners.get(signal);
  if (listener === undefined) {
    listener = new SignalListener(signal);
    listeners.set(signal, listener);
    signal.addEventListener("abort", listener.fire, { once: true });
  }
  listener.waits.add(aborted);
  (loop._hostWaits ??= new Set()).add(wait); // close() stops it: see _hostWaits
  return stop;
}

/**
 * The one listener asynkit adds to a signal, for all the waits on it: a
 * listener of each wait's own would cost the host's EventTarget a scan of all
 * of them at each add and remove (285 us a task with 100k tasks given one
 * signal). Its waits run in the order they came, as listeners would.
 */
class SignalListener {
  readonly waits = new Set<() => void>();
  constructor(private readonly signal: SignalLike) {}

  readonly fire = (): void => {
    let failure: { error: unknown } | null = null;
    // A wait stopped meanwhile (a cancel that one of them makes) leaves the set, and does not run.
    for (const aborted of this.waits) {
      try {
        aborted();
      } catch (error) {
        failure ??= { error }; // the others still run, as other listeners would
      }
    }
    if (listeners.get(this.signal) === this) listeners.delete(this.signal);
    if (failure !== null) throw failure.error;
  };
}

const listeners = new WeakMap<SignalLike, SignalListener>();

/**
 * A wait stops listening to `signal`; the last one takes asynkit's listener
 * off it, unless it is a task's own signal (taskSignal()), which keeps it for
 * the task's life: waits that come and go on it at every step (a
 * GeneratorObject's reads in a task) would add and remove it each time, at
 * about 1 µs a read.
 */
function unlisten(signal: SignalLike, aborted: () => void): void {
  const listener = listeners.get(signal);
  if (listener === undefined || !listener.waits.delete(aborted) || listener.waits.size > 0) return;
  if (taskSignals.has(signal)) return;
  listeners.delete(signal);
  signal.removeEventListener("abort", listener.fire);
}

/**
 * Suspends until `signal` aborts and returns its `reason` (at once if it has
 * already aborted). Cancelling the waiting task stops listening.
 *
 * @example
 * ```ts
 * import { run, waitAbort } from "asynkit";
 * const controller = new AbortController();
 * setTimeout(() => controller.abort("enough"), 100);
 * await run(function* () {
 *   console.log(yield* waitAbort(controller.signal)); // "enough"
 * });
 * ```
 */
export function waitAbort(signal: AbortSignal): Op<unknown> {
  checkSignal("waitAbort()", "signal", signal);
  return waitForAbort(signal) as Op<unknown>;
}

function* waitForAbort(signal: AbortSignal): Coro<unknown> {
  if (signal.aborted) return reasonOfSignal(signal);
  const fut = new WaitFuture<unknown>(getRunningLoop(), "waitAbort()");
  const stop = listen(fut._loop, signal, () => {
    if (fut._state === PENDING) fut._resolve(reasonOfSignal(signal));
  });
  try {
    return yield* fut;
  } finally {
    stop();
  }
}

thenable(waitForAbort);

/** The tasks that handed out a signal, and its controller. */
const controllers = new WeakMap<object, AbortController>();
/** The signals taskSignal() handed out. */
const taskSignals = new WeakSet<SignalLike>();

/**
 * An AbortSignal that aborts as soon as `task` (default: the current task) is
 * asked to cancel, for native APIs that take one. Its reason is the
 * cancellation's cause if it has one (an AbortSignal's reason), else a
 * CancelledError with the cancel() message. A task has one such signal at a
 * time: once a cancellation is handled (uncancel() brings `cancelling()` back
 * to 0, as timeout() and TaskGroup do when they catch their own), the next
 * call gives a fresh one; the aborted one stays aborted for what it was given to.
 *
 * @example
 * ```ts
 * import { setTimeout as delay } from "node:timers/promises";
 * import { fromPromise, run, taskSignal } from "asynkit";
 * await run(function* () {
 *   // the host timer is cleared if this task is cancelled
 *   yield* fromPromise(delay(50, undefined, { signal: taskSignal() }));
 * });
 * ```
 */
export function taskSignal(task?: Future<unknown>): AbortSignal {
  if (task !== undefined && !(task instanceof Future)) {
    throw argTypeError(
      "taskSignal()",
      "task",
      task,
      "a Task",
      "pass a task, or nothing for the current task",
    );
  }
  const target = task ?? runningTask(getRunningLoop());
  if (target === null || target === undefined) {
    throw new Error(
      "taskSignal() needs a task: call it from a coroutine run by a task, or pass the task.",
    );
  }
  let controller = controllers.get(target);
  if (controller === undefined) {
    controller = new AbortController();
    controllers.set(target, controller);
    taskSignals.add(controller.signal);
    watchReason(controller.signal, target);
    if (target.cancelled()) controller.abort(target._makeCancelledError());
    else if (isCancelRequested(target)) {
      const pending = (target as Partial<PendingCancel>)._signalAbortedForPendingCancel?.();
      controller.abort(pending ?? new CancelledError());
    }
  }
  return controller.signal;
}

/** What a Task does when its signal is made aborted, for a cancellation still to come: its reason. */
interface PendingCancel {
  _signalAbortedForPendingCancel(): unknown;
}

function isCancelRequested(future: Future<unknown>): boolean {
  const cancelling = (future as Partial<{ cancelling(): number }>).cancelling;
  return typeof cancelling === "function" && cancelling.call(future) > 0;
}

/** The tasks whose signal's abort reached something: its reason was read since. */
const reached = new WeakSet<object>();

/**
 * The tasks whose signal aborted in the code running now, before the
 * microtasks: a host API that read the reason at once (Node's timers) has
 * rejected, but the function has not had the rejection yet.
 */
const abortedJustNow = new WeakSet<object>();

/** The signal's own getter (on hosts with AbortSignal: taskSignal() needs one). */
const reasonOf = (
  globalThis.AbortSignal &&
  Object.getOwnPropertyDescriptor(globalThis.AbortSignal.prototype, "reason")
)?.get as ((this: AbortSignal) => unknown) | undefined;

/**
 * A signal's reason, read as asynkit's own: a task's signal does not count it
 * as a host API's read (a child cancelled through its parent's signal is not
 * the parent's function learning of its cancellation).
 */
function reasonOfSignal(signal: AbortSignal): unknown {
  return reasonOf !== undefined && signal instanceof AbortSignal
    ? reasonOf.call(signal)
    : signal.reason;
}

/**
 * Notes a read of the signal's `reason` once it has aborted: what a host API
 * does to make the error it rejects with (Node's timers, events, fs, streams
 * and child_process give it as the cause of their AbortError; fetch rejects
 * with it), whether it listened for the abort or polled `aborted`; and a
 * `throwIfAborted()` that throws it.
 */
function watchReason(signal: AbortSignal, task: object): void {
  Object.defineProperty(signal, "reason", {
    configurable: true,
    get(this: AbortSignal): unknown {
      if (this.aborted) reached.add(task);
      return (reasonOf as (this: AbortSignal) => unknown).call(this);
    },
  });
  // throwIfAborted() throws the reason without the getter.
  const throwIfAborted = signal.throwIfAborted;
  Object.defineProperty(signal, "throwIfAborted", {
    configurable: true,
    writable: true,
    value(this: AbortSignal): void {
      if (this.aborted) reached.add(task);
      throwIfAborted.call(this);
    },
  });
}

/**
 * @internal Called by a task when its cancellation is requested: aborts its
 * taskSignal(), if it handed one out. True if it aborted it now.
 */
export function abortTaskSignal(
  task: object,
  message: string | undefined,
  cause: unknown,
): boolean {
  const controller = controllers.get(task);
  if (controller === undefined || controller.signal.aborted) return false;
  controller.abort(cancelReason(message, cause));
  abortedJustNow.add(task);
  queueMicrotask(() => abortedJustNow.delete(task));
  return true;
}

/** @internal The reason a cancel() aborts a task's signal with: its cause, else a CancelledError with its message. */
export function cancelReason(message: string | undefined, cause: unknown): unknown {
  return cause !== undefined ? cause : new CancelledError(message ?? "");
}

/**
 * @internal The task's cancellation was handled (uncancel() left none
 * pending): its next taskSignal() is a fresh one.
 */
export function renewTaskSignal(task: object): void {
  if (controllers.get(task)?.signal.aborted !== true) return;
  controllers.delete(task);
  reached.delete(task);
}

/**
 * @internal The cancellation `thrown` carries for `task`: a CancelledError, or
 * a host API's rejection for the abort of the task's signal. Its reason is a
 * CancelledError, unless an AbortSignal cancelled the task (the `signal`
 * option), whose reason it carries through: a host API then rejects with
 * that reason (fetch) or an AbortError caused by it (Node's APIs), which is
 * the task's cancellation, with the reason as message and cause, as
 * cancelOnAbort() makes it.
 */
export function cancellationFor(task: object, thrown: unknown): CancelledError | null {
  const cancelled = cancellationOf(thrown);
  if (cancelled !== null || reasonOf === undefined) return cancelled;
  const signal = controllers.get(task)?.signal;
  if (signal === undefined || !signal.aborted) return null;
  const reason = reasonOf.call(signal);
  const carried =
    thrown === reason ||
    (thrown instanceof Error && thrown.name === "AbortError" && thrown.cause === reason);
  return carried ? new CancelledError(abortMessage(reason), { cause: reason }) : null;
}

/**
 * @internal True once the abort of the task's signal reached something that
 * read its reason, as a host API does to reject: not a listener of the task's
 * own that only notes the abort, nor a signal derived with AbortSignal.any(),
 * which the host aborts without reading it.
 */
export function abortReached(task: object): boolean {
  return reached.has(task);
}

/**
 * @internal True once the function may have had the rejection of a host API
 * its signal's abort reached: not in the code that aborted it, where a second
 * cancel() joins the first, as asyncio's does before the task's next step.
 */
export function abortDelivered(task: object): boolean {
  return reached.has(task) && !abortedJustNow.has(task);
}
