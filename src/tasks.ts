/**
 * Task: a coroutine driven step by step on an event loop, as asyncio's Task.
 */
import {
  abortDelivered,
  abortReached,
  abortTaskSignal,
  cancellationFor,
  cancelOnAbort,
  cancelReason,
  checkSignal,
  renewTaskSignal,
} from "./abort.js";
import { type AsyncScope, captureAsyncScope } from "./asynccontext.js";
import { observed, publish } from "./channels.js";
import {
  type Context,
  checkContextOption,
  currentContext,
  lentToEagerStart,
  onCodeOwner,
  onRunningTaskContext,
  snapshotContext,
  swapContext,
} from "./context.js";
import {
  type Awaitable,
  type Coro,
  coroutineOf,
  describe,
  coroMark as importedMark,
  isAsyncGenerator,
  isAwaitable,
  isCoroutine,
  isLocalGeneratorFunction,
  isPromiseLike,
  type Marked,
  type Suspend,
} from "./coro.js";
import { CancelledError, InvalidStateError } from "./errors.js";
import {
  callersLoop,
  codeLoop,
  countTaskOnHost,
  createdInStep,
  creatingTask,
  getEventLoop,
  getRunningLoop,
  Handle,
  hostCodeOwnerNow,
  loopKnows,
  noLoopAdvice,
  outsideEagerStarts,
  peekRunningLoop,
  runningTask,
  setRunningLoop,
} from "./events.js";
import {
  CANCELLED,
  FINISHED,
  Future,
  fromPromise,
  isWaitStep,
  LOOP_OPTION,
  ownFuture,
  PENDING,
  wakeWaiter,
} from "./futures.js";
import type { BaseEventLoop } from "./loops/base.js";
import { Monitor } from "./monitor.js";
import { HOST_STEP, NATIVE_STEP, NativeBody, nativeBody, runAsNoOwner } from "./native.js";
import {
  basePriority,
  effectivePriority,
  initPriority,
  setBasePriority,
  type TaskPriority,
  toPriority,
} from "./priority.js";
import { describeAwaited, readyPositions, waitingOn } from "./tasktree.js";
import { classNameOf, inspectAs } from "./util/inspect.js";
import {
  argTypeError,
  checkBooleanOption,
  checkLoopOption,
  checkOptions,
  notACoroutine,
  notAwaitable,
  type OptionNames,
} from "./validate.js";

/** Options for creating a task. */
export interface TaskOptions {
  /** The task's name (default "Task-<n>", numbered by the task's loop). */
  name?: string | undefined;
  /** The context the task runs in (default: a copy of the current one). */
  context?: Context | undefined;
  /** Run the coroutine at once, in the caller's stack, until it first suspends (Python 3.12's eager_start). */
  eagerStart?: boolean | undefined;
  /** @internal */
  [HOLD_FIRST_STEP]?: boolean;
  /** Cancel the task when this signal aborts; the CancelledError carries the signal's reason. */
  signal?: AbortSignal | undefined;
  /**
   * The task's priority: a number (lower runs first) or "user-blocking" (-10),
   * "user-visible" (0, the default) or "background" (10). A priority loop
   * (PriorityHostEventLoop, PriorityVirtualEventLoop) orders by it; other loops
   * keep it on the task and ignore it.
   */
  priority?: TaskPriority | undefined;
}

/** The task options by name. */
const TASK_OPTIONS: OptionNames<Omit<TaskOptions, typeof HOLD_FIRST_STEP>> = {
  name: true,
  context: true,
  eagerStart: true,
  signal: true,
  priority: true,
};
/** new Task()'s: the task options and its loop (a TaskFactory passes `{ ...options, loop }`). */
const NEW_TASK_OPTIONS: OptionNames<
  Omit<TaskOptions, typeof HOLD_FIRST_STEP> & { loop?: unknown }
> = { ...TASK_OPTIONS, loop: true };

/** @internal TaskOptions key: construct the task but do not schedule its first step (eager() does). */
export const HOLD_FIRST_STEP: unique symbol = Symbol("asynkit.holdFirstStep");

/** The TypeErrors a task throws into a coroutine that yielded something it cannot wait on. */
const badYields = new WeakSet<Error>();

/**
 * %GeneratorPrototype%, whose next and throw step every generator. Called
 * directly, they are one call target for all of a program's generator
 * functions; `coro.next` is a property load that goes megamorphic as soon as
 * tasks run coroutines of many generator functions (each has its own map).
 */
const generatorPrototype = Object.getPrototypeOf(function* () {}).prototype as Generator;
const generatorNext = generatorPrototype.next as (this: Coro<unknown>) => IteratorResult<Suspend>;
const generatorThrow = generatorPrototype.throw as (
  this: Coro<unknown>,
  error: unknown,
) => IteratorResult<Suspend>;

/** True for a generator made by a generator function (not an iterator that imitates one). */
function isGenerator(x: unknown): x is Coro<unknown> {
  return (
    typeof x === "object" &&
    x !== null &&
    (x as Coro<unknown>).next === generatorNext &&
    (x as Coro<unknown>).throw === generatorThrow
  );
}

/** Task._flags: the coroutine is a generator. */
const GENERATOR = 1;
/** Task._flags: throw CancelledError in at the next step. */
const MUST_CANCEL = 2;
/**
 * Task._flags: a native task's step goes on in microtasks (see native.ts): the
 * step that drives its next await continues it, so the step is one to whoever
 * watches (channels, lints), with the function's own code inside it.
 */
const STEP_IN_MICROTASKS = 4;
/**
 * Task._flags: the step throws something else in first (a native task's step
 * begins an await; an interrupt): a pending cancellation waits for the task's
 * next suspension, as a coroutine's waits for its next yield.
 */
const CANCEL_LATER = 8;
/**
 * Task._flags, beside MUST_CANCEL: the cancellation aborted the taskSignal()
 * of a native task blocked on the host. If that reached a host API (see
 * abortReached), whose rejection the function got, the task's next step takes
 * the cancellation as delivered: it raises nothing, as after a CancelledError
 * thrown in (a cleanup's await goes on; a function that returns ends with its value).
 */
const SIGNAL_ABORTED = 16;
/**
 * Task._flags: a native task blocked on the host (its function, or an async
 * body it runs, awaits a promise the loop did not make): no step of it is due.
 */
const ON_HOST = 32;
/** Task._flags: the task passes a cancellation on to what it waits on (see _requestCancel). */
const PASSING_CANCEL = 64;
/**
 * Task._flags: the task is in the ready queue waiting on nothing, which its
 * native body must know not to step it before that entry runs (see
 * native.ts's stepQueued): a cancellation that came round a ring of tasks
 * awaiting each other put it there, or it stopped waiting on a future that
 * was done, whose wakeup had queued it.
 */
const STEP_QUEUED = 128;
/** Task._flags: made with HOLD_FIRST_STEP, its first step held until eager() asks (firstStepHeld). */
const FIRST_STEP_HELD = 256;
/** Task._flags counts pending cancel() requests in the bits above these: one request adds this. */
const CANCEL_REQUEST = 512;

/** Marks "no error to throw in" for a step, since `undefined` is a value JavaScript can throw. */
const NO_ERROR: unique symbol = Symbol("no error");

/** The coroutines' mark, as a constant of this module (see eager.ts). */
const coroMark: typeof importedMark = importedMark;

/** @internal Throws unless `options` are valid task options; `where` names the public function. */
export function checkTaskOptions(
  where: string,
  options: unknown,
  names: OptionNames<object> = TASK_OPTIONS,
): void {
  checkOptions(where, options, '{ name: "worker" }', names);
  if (options === undefined) return;
  // Any name is taken as String(name), as asyncio takes str(name).
  const { context, eagerStart, signal, loop, priority } = options as TaskOptions & {
    loop?: unknown;
  };
  checkContextOption(where, context);
  if (priority !== undefined) toPriority(where, "options.priority", priority);
  checkBooleanOption(where, "options.eagerStart", eagerStart);
  if (signal !== undefined) checkSignal(where, "options.signal", signal);
  checkLoopOption(where, "options.loop", loop);
}

/**
 * What a task runs: a coroutine, or a function called at the task's first
 * step that returns a promise (an async function: a native task), a
 * coroutine, or a task or future (waited on as an await of it would be).
 */
export type TaskBody<T> = Coro<T> | (() => PromiseLike<T> | Coro<T>);

/** @internal What a task body that is a promise is told: it is already running. */
export const PROMISE_RUNNING =
  "a promise is already running, so no task can start it: pass the function that makes it, () => thePromiseMaker()";

/** @internal The arguments of a call that makes a task (createTask() and its kin), checked at the call. */
export function checkNewTask(where: string, coro: unknown, options: unknown): void {
  if (!isCoroutine(coro) && typeof coro !== "function") {
    if (coro instanceof Future) {
      throw argTypeError(
        where,
        "coro",
        coro,
        "a coroutine or an async function",
        "a Future (a Task, shield()'s) is awaited, not run: wait for it with `yield* future` or `await future`, or give a task a function that waits for it, async () => await future",
      );
    }
    if (isPromiseLike(coro) && !isAwaitable(coro)) {
      throw argTypeError(where, "coro", coro, "a coroutine or an async function", PROMISE_RUNNING);
    }
    throw notAwaitable(where, "coro", coro, "a coroutine or an async function");
  }
  if (options !== undefined) checkTaskOptions(where, options);
}

/**
 * @internal The coroutine a task runs for a checked body. A generator
 * function is called now: its call runs none of its body, which starts at the
 * task's first step, so the task is a coroutine's as for `body()`. Another
 * function becomes a native task's body, called at the first step.
 */
export function taskCoroutine<T>(body: TaskBody<T>): Coro<T> {
  if (typeof body !== "function") return body;
  if (isLocalGeneratorFunction(body)) return body() as Coro<T>;
  return nativeBody(body) as Coro<T>;
}

/** @internal The ready-queue callback that runs a task's next step; scheduling tools recognise it. */
export function taskStep(task: Task<unknown>): void {
  task._step(NO_ERROR);
}

/** The tasks with an interrupt (taskThrow()) queued, not yet thrown in, and its error. */
const interrupts = new WeakMap<Task<unknown>, unknown>();

/**
 * @internal An interrupt of `task` with `error` is queued (taskThrow()): a
 * cancel() requested before it is thrown in comes after it.
 */
export function noteInterrupt(task: Task<unknown>, error: unknown): void {
  interrupts.set(task, error);
}

/** @internal The error of the interrupt queued for `task`, if one is. */
export function pendingInterrupt(task: Task<unknown>): { error: unknown } | null {
  return interrupts.has(task) ? { error: interrupts.get(task) } : null;
}

/** @internal The ready-queue callback that throws `error` into a task's coroutine. */
export function throwIntoTask(task: Task<unknown>, error: unknown): void {
  // An interrupt comes before a cancellation requested after it: that waits for the next suspension.
  if (interrupts.delete(task) && task._mustCancel) task._flags |= CANCEL_LATER;
  task._step(error);
}

/**
 * A coroutine scheduled to run on an event loop. A task is a Future of the
 * coroutine's result: wait for it with `yield* task` (or native `await task`).
 *
 * Cancelling a task throws CancelledError into its coroutine at its next step;
 * if it is waiting on a future, that future is cancelled.
 *
 * @example
 * ```ts
 * import { createTask, run, sleep } from "asynkit";
 * function* worker(n: number) { yield* sleep(10); return n * 2; }
 * const result = await run(function* () {
 *   const task = createTask(worker(21), { name: "doubler" });
 *   return yield* task;
 * });
 * console.log(result); // 42
 * ```
 */
export class Task<T = unknown> extends Future<T> {
  /** @internal The name its printed form shows (see classNameOf): its body names it, so a bundler renames it. */
  static readonly _className: string = "Task";
  // Declared and assigned in the constructor, as Future's are: V8 inlines this
  // constructor into a subclass's super() only if it has no field initialisers.
  /** @internal */ declare _coro: Coro<T>;
  /**
   * @internal GENERATOR, MUST_CANCEL, STEP_IN_MICROTASKS and the count of
   * pending cancel() requests, in one field: every field costs each task 8 bytes.
   */
  declare _flags: number;
  /** @internal */ declare _context: Context;
  /** @internal The name it was given, else its number (getName() says "Task-<n>"). */
  declare _name: string | number;
  /** @internal The future this task waits on, if any. */
  declare _futWaiter: Future<unknown> | null;
  /** @internal Neighbours in the loop's list of live tasks. */
  declare _previousLive: Task<unknown> | null;
  /** @internal */ declare _nextLive: Task<unknown> | null;
  /**
   * @internal The link to the task whose step created this one (null: a
   * callback or the outside did), for the task tree: see ParentLink.
   */
  declare _parent: ParentLink | null;
  /** @internal The link this task's children hold, made at its first child. */
  declare _childLink: ParentLink | null;

  constructor(coro: Coro<T>, options?: TaskOptions & { loop?: BaseEventLoop | undefined }) {
    // A generator is a coroutine: most tasks' check reads next and throw once.
    const generator = isGenerator(coro);
    if (!generator && (!isCoroutine(coro) || isAsyncGenerator(coro))) {
      throw notACoroutine("new Task()", coro);
    }
    // loop.createTask() without options passes the loop's own option object, which says
    // nothing else. Such a task reads no option, and what reads them lives in functions
    // of their own: V8 inlines a constructor of at most 460 bytes of bytecode only.
    const plain = options === undefined || options?.loop?._bound === options;
    if (!plain) checkTaskOptions("new Task()", options, NEW_TASK_OPTIONS);
    checkNotTaken(coro);
    super(options);
    this._coro = coro;
    this._flags = generator ? GENERATOR : 0;
    this._context = (plain ? undefined : options.context) ?? snapshotContext();
    const loop = this._loop;
    loop._checkClosed();
    // Before its number: an eager start's task made for it here is numbered first, and a
    // task refused (a closed loop, a factory that throws) takes none.
    this._parent = creatorLink(loop);
    // Numbered by its loop: a program on a fresh loop names its tasks alike in every run.
    this._name = plain || options.name === undefined ? ++loop._taskCount : String(options.name);
    this._futWaiter = null;
    this._previousLive = null;
    this._nextLive = null;
    this._childLink = null;
    (coro as Marked)[coroMark] = this as Task<unknown>;
    if (loop._asyncLocalStorage) keepAsyncScope(this as Task<unknown>, loop);
    loop._addLiveTask(this as Task<unknown>);
    if (!plain) this._start(options);
    else {
      if (observed) publishCreated(this as Task<unknown>);
      loop._readyTask(this as Task<unknown>);
    }
  }

  /**
   * What the options ask: the priority; then the first step now (eagerStart),
   * held for the caller to queue, or queued; and cancellation when their signal aborts.
   */
  private _start(options: TaskOptions): void {
    const loop = this._loop;
    // Before the task is published and its first step queued, which a priority loop orders by it.
    if (options.priority !== undefined) initOptionPriority(this as Task<unknown>, options);
    if (observed) publishCreated(this as Task<unknown>);
    // An eager() start's task holds its first step, whatever eagerStart a task factory adds.
    if (options[HOLD_FIRST_STEP] === true) this._flags |= FIRST_STEP_HELD;
    else if (options.eagerStart === true && loop.isRunning()) {
      this._startEagerly();
      // As asyncio's (3.13): a task done within its eager start shows no coroutine.
      if (this._state !== PENDING) this._coro = null as unknown as Coro<T>;
      else if (this._futWaiter !== null) loop._linter?.startSuspended(this, this._futWaiter);
      else if (this._stepInMicrotasks) loop._linter?.startInMicrotasks(this);
    } else loop._readyTask(this as Task<unknown>);
    if (options.signal !== undefined && this._state === PENDING) {
      this._addCallback(cancelOnAbort(this as Task<unknown>, options.signal));
    }
  }

  /** @internal The coroutine is a generator: stepped through %GeneratorPrototype% (see generatorNext). */
  get _generator(): boolean {
    return (this._flags & GENERATOR) !== 0;
  }

  /** @internal A native task's step goes on in microtasks, until the step that drives its next await ends. */
  get _stepInMicrotasks(): boolean {
    return (this._flags & STEP_IN_MICROTASKS) !== 0;
  }

  /**
   * @internal The loop found this native task blocked on the host: the step
   * that went on in microtasks ended at its await of the host's promise.
   */
  _endStepOnHost(): void {
    if ((this._flags & ON_HOST) === 0) countTaskOnHost(this._loop, 1);
    this._flags |= ON_HOST;
    if (!this._stepInMicrotasks) return;
    this._flags &= ~STEP_IN_MICROTASKS;
    this._stepEnded(observed, true);
  }

  /** @internal The host resumed it: its next step is due (an await's start, or its end). */
  _backFromHost(): void {
    if ((this._flags & ON_HOST) !== 0) countTaskOnHost(this._loop, -1);
    this._flags &= ~ON_HOST;
  }

  /** @internal No loop will run it again: its loop closed while it was pending. */
  override _abandoned(): boolean {
    return this._state === PENDING && this._loop.isClosed();
  }

  /** @internal In the ready queue, waiting on nothing: see STEP_QUEUED. */
  get _queuedStep(): boolean {
    return (this._flags & STEP_QUEUED) !== 0;
  }

  /**
   * @internal A step taken before the task could run one (an eager() start)
   * ends here, as its first: the task waits as `step` says.
   */
  _suspendAsFirstStep(step: IteratorYieldResult<Suspend>): void {
    const watched = observed;
    if (watched) publish("task.step.start", { task: this as Task<unknown> });
    this._suspend(step);
    // A step that goes on in microtasks ends with them (see _stepEnded).
    if (watched && !this._stepInMicrotasks) publishStepEnd(this as Task<unknown>);
  }

  /** @internal Blocked on the host: see ON_HOST. */
  get _blockedOnHost(): boolean {
    return (this._flags & ON_HOST) !== 0;
  }

  /** A step ended (a native one that went on in microtasks: `continued`): watchers and lints hear it. */
  private _stepEnded(watched: boolean, continued: boolean): void {
    if (watched) publishStepEnd(this as Task<unknown>);
    if (continued) this._loop._linter?.nativeStepEnded(this as Task<unknown>);
  }

  /** @internal Throw CancelledError in at the next step. */
  get _mustCancel(): boolean {
    return (this._flags & MUST_CANCEL) !== 0;
  }

  /** @internal */
  set _mustCancel(on: boolean) {
    // A request made while one is pending joins it, as in asyncio; one spent takes its signal's abort along.
    this._flags = on ? this._flags | MUST_CANCEL : this._flags & ~(MUST_CANCEL | SIGNAL_ABORTED);
  }

  /**
   * The coroutine this task drives; null for an async function's task, and
   * for a task that ended within its eager start (as asyncio's get_coro()).
   */
  getCoro(): Coro<T> | null {
    return this._coro instanceof NativeBody ? null : this._coro;
  }

  /** The task's name: the one given, else "Task-<n>", n counting the unnamed tasks made on its loop. */
  getName(): string {
    return typeof this._name === "number" ? `Task-${this._name}` : this._name;
  }

  /** @internal It was given a name (createTask's option, or setName()), not numbered. */
  get _named(): boolean {
    return typeof this._name !== "number";
  }

  /** Renames the task (for messages and debugging). */
  setName(name: string): void {
    this._name = String(name);
    this._loop._taskRenamed();
  }

  /** The priority the task asked for (0 unless set): see TaskOptions.priority. */
  getPriority(): number {
    return basePriority(this as Task<unknown>);
  }

  /**
   * The priority a priority loop orders the task by: the best of its own and
   * those it is lent by the tasks waiting on a PriorityLock or
   * PriorityCondition it holds, transitively (asynkit's effective_priority()).
   */
  getEffectivePriority(): number {
    return effectivePriority(this as Task<unknown>);
  }

  /**
   * Changes the task's priority, while it runs or waits: a priority loop moves
   * its ready entry to match (other loops keep it and ignore it).
   */
  setPriority(priority: TaskPriority): void {
    setBasePriority(this as Task<unknown>, toPriority("task.setPriority()", "priority", priority));
  }

  /** The context the task's coroutine runs in. */
  getContext(): Context {
    const shared = this._context;
    if (!shared._frozen) return shared;
    // The task still shares the snapshot it was made with: the Context handed out is its own.
    const own = shared.copy();
    this._context = own;
    // Running in it (and not lending it to an eager start, whose writes go to a copy): go on in the own one.
    if (
      this._loop._currentTask === this &&
      currentContext() === shared &&
      !lentToEagerStart(shared)
    ) {
      swapContext(own);
    }
    return own;
  }

  /**
   * Requests cancellation: CancelledError is thrown into the coroutine at its
   * next step (cancelling the future it waits on, if any). False if already done.
   */
  override cancel(message?: string): boolean {
    return super.cancel(message);
  }

  /** @internal The options were checked as a task's (checkTaskOptions): only the loop is left. */
  override _checkedLoop(options: { loop?: BaseEventLoop | undefined }): BaseEventLoop {
    return options.loop ?? getEventLoop();
  }

  /** @internal cancel() with a cause for the CancelledError (kept in `_exception` until thrown in). */
  override _requestCancel(message: string | undefined, cause: unknown): boolean {
    // Tasks that await each other in a ring pass a request round it once (see below).
    if (this._state !== PENDING || (this._flags & PASSING_CANCEL) !== 0) return false;
    // Down a chain of tasks that each await the next, in a loop: as calls, a chain of a
    // few thousand overflowed the stack. Only the last task's outcome matters to the others.
    let task = this as Task<unknown>;
    let chain: Task<unknown>[] | null = null;
    try {
      for (;;) {
        const aborted = task._takeCancelRequest(message, cause);
        const waiter = task._futWaiter;
        if (waiter === null) return task._cancelAtNextStep(message, cause, aborted);
        task._flags |= PASSING_CANCEL;
        let passed: boolean;
        if (cancelsAsTask(waiter)) {
          if (cause === undefined) waiter._retrieved(); // as its cancel() would
          if (waiter._state === PENDING && (waiter._flags & PASSING_CANCEL) === 0) {
            (chain ??= []).push(task);
            task = waiter;
            continue;
          }
          passed = false;
        } else passed = cancelFuture(waiter, message, cause);
        if (passed) return true;
        if (waiter instanceof Task && (waiter._flags & PASSING_CANCEL) !== 0) {
          // The request came round a ring of tasks awaiting each other (a deadlock): this one
          // stops waiting and takes it at once, so that each task in the ring ends cancelled.
          task._stopWaiting();
          task._flags |= STEP_QUEUED;
          task._loop._readyTask(task);
        }
        return task._cancelAtNextStep(message, cause, aborted);
      }
    } finally {
      // Cleared here alone, however the request ends: a future's own cancel() may throw.
      task._flags &= ~PASSING_CANCEL;
      if (chain !== null) for (const passing of chain) passing._flags &= ~PASSING_CANCEL;
    }
  }

  /** A cancel() request reaches the task: counted, published, its signal aborted (true if now). */
  private _takeCancelRequest(message: string | undefined, cause: unknown): boolean {
    if (observed) publish("task.cancelled", { task: this as Task<unknown>, message });
    this._flags += CANCEL_REQUEST;
    return abortTaskSignal(this as Task<unknown>, message, cause);
  }

  /** The request stops at this task: CancelledError is thrown in at its next step. */
  private _cancelAtNextStep(message: string | undefined, cause: unknown, aborted: boolean): true {
    this._mustCancel = true;
    this._aside = message;
    this._outcome = cause;
    // A native task blocked on a host API that heard its signal gets the cancellation there,
    // as the API's rejection: its next asynkit await (a cleanup's) is not cancelled again.
    if (aborted && this._blockedOnHost) this._flags |= SIGNAL_ABORTED;
    // A request after the function had the rejection of a host API that heard the first
    // (the signal aborts once) is raised at its next asynkit await; one in the code that
    // made the first joins it, as asyncio's second cancel() before the task's next step.
    else if (!aborted && (this._flags & SIGNAL_ABORTED) !== 0 && abortDelivered(this)) {
      this._flags &= ~SIGNAL_ABORTED;
    }
    return true;
  }

  /**
   * @internal taskSignal() hands out a signal aborted for the cancellation
   * pending: a host API given it rejects at once, and a native task's
   * function gets the cancellation there, as when the abort came while it
   * waited (SIGNAL_ABORTED). Returns the reason, as the cancel() would have
   * aborted it with.
   */
  _signalAbortedForPendingCancel(): unknown {
    if (!this._generator) this._flags |= SIGNAL_ABORTED;
    // Not pending any more: the function had it already, message and all.
    return this._mustCancel
      ? cancelReason(this._cancelMessage, this._outcome)
      : cancelReason(undefined, undefined);
  }

  /** @internal The task stops waiting on its future, which goes on without it: that future, if any. */
  _stopWaiting(): Future<unknown> | null {
    const waitedOn = this._futWaiter;
    if (waitedOn !== null) {
      waitedOn._removeWaiter(this as Task<unknown>);
      this._futWaiter = null;
      if (waitedOn._state !== PENDING) this._flags |= STEP_QUEUED; // its wakeup is queued
    }
    return waitedOn;
  }

  /** How many cancellation requests are pending (cancel() calls not undone by uncancel()). */
  cancelling(): number {
    return Math.floor(this._flags / CANCEL_REQUEST);
  }

  /** Undoes one cancel() request; returns how many remain. */
  uncancel(): number {
    if (this._flags >= CANCEL_REQUEST) {
      this._flags -= CANCEL_REQUEST;
      if (this._flags < CANCEL_REQUEST) {
        this._mustCancel = false;
        renewTaskSignal(this);
      }
    }
    return this.cancelling();
  }

  /** A task's result comes from its coroutine: setting it from outside is an error. */
  override setResult(_value: T): never {
    throw new Error("Task does not support setResult(): the result is what its coroutine returns.");
  }

  /** A task's exception comes from its coroutine: setting it from outside is an error. */
  override setException(_error: unknown): never {
    throw new Error(
      "Task does not support setException(): cancel() it, or throw from its coroutine.",
    );
  }

  override toString(): string {
    // As asyncio's repr: a pending task with a cancel() request on it is "cancelling".
    const state =
      this._state === PENDING && this.cancelling() > 0
        ? "cancelling"
        : ["pending", "finished", "failed", "cancelled"][this._state];
    return `<${classNameOf(this)} ${state} name=${JSON.stringify(this.getName())}${this._outcomeRepr()}>`;
  }

  /** @internal */
  override _kind(): string {
    return "Task";
  }

  /**
   * @internal As asyncio's: a task that its coroutine's CancelledError ended
   * raises that very error, so an awaiter catches what the task threw.
   */
  override _makeCancelledError(): CancelledError {
    const ended = this._outcome;
    return this._state === CANCELLED && ended instanceof CancelledError
      ? ended
      : super._makeCancelledError();
  }

  /** @internal The future this task waited on is done: resume the coroutine. */
  _wakeup(future: Future<unknown>): void {
    // A pending cancel() still honours the future's outcome, as asyncio's __wakeup, which
    // takes it first: a failure counts as retrieved, a cancellation keeps its own message,
    // and so does a failure that is a CancelledError (gather()'s when a child was cancelled).
    if (this._mustCancel && future._state !== FINISHED) {
      if (future._state === CANCELLED) {
        this._step(future._makeCancelledError());
        return;
      }
      future._retrieved();
      if (future._outcome instanceof CancelledError) {
        this._step(future._outcome);
        return;
      }
    }
    this._step(NO_ERROR);
  }

  /**
   * @internal Runs the task's entry in the ready queue: its wakeup if it waited
   * on a future (done by now), else its next step. A failure of the step itself
   * goes to the exception handler, as a Handle's would.
   */
  _run(): void {
    try {
      const waitedOn = this._futWaiter;
      if (waitedOn === null) this._step(NO_ERROR);
      else this._wakeup(waitedOn);
    } catch (exception) {
      this._loop.callExceptionHandler({
        message: "Exception in callback taskStep",
        exception,
        handle: this._readyHandle(),
      });
    }
  }

  /** @internal A Handle for the task's entry in the ready queue, for the scheduling API that shows one. */
  _readyHandle(): Handle {
    const waitedOn = this._futWaiter;
    return waitedOn === null
      ? new Handle(taskStep, 1, this, undefined, this._loop, null)
      : new Handle(wakeWaiter, 2, this, waitedOn, this._loop, null);
  }

  /**
   * The first step, now, in the caller's stack: an eager() start around it is
   * not this task, and the step is its loop's, though the caller may be code
   * the host runs outside the loop's steps (asyncLocalStorage option).
   */
  private _startEagerly(): void {
    const previous = setRunningLoop(this._loop);
    try {
      outsideEagerStarts(() => this._step(NO_ERROR));
    } finally {
      setRunningLoop(previous);
    }
  }

  /**
   * @internal Runs the step of a native task whose function begins an await
   * now, or at its turn (queued now, or in the ready queue already): a
   * cancellation pending since the function ran is thrown in where the await
   * suspends, and not at all if it does not.
   */
  _runAwaitStart(when: "now" | "queue" | "queued"): void {
    this._flags |= CANCEL_LATER;
    if (when === "now") this._run();
    else if (when === "queue") this._loop._readyTask(this as Task<unknown>);
  }

  /** @internal Runs the coroutine to its next suspension, or to its end. */
  _step(error: unknown): void {
    if (this._loop._asyncLocalStorage) {
      const scope = this._loop._asyncScopes?.get(this as Task<unknown>);
      if (scope !== this._loop._asyncScope) {
        // Entered only when it changes: consecutive steps in one context pay nothing.
        this._loop._runInScope(scope as AsyncScope, this._step, this, error);
        return;
      }
    }
    if (this._state !== PENDING) {
      throw new InvalidStateError(
        `${this.toString()} was stepped after it finished: a ready-queue entry was run twice.`,
      );
    }
    // One test on the common path: SIGNAL_ABORTED comes with MUST_CANCEL.
    if ((this._flags & (CANCEL_LATER | MUST_CANCEL | STEP_QUEUED)) !== 0) {
      error = this._stepError(error);
    }
    this._futWaiter = null;
    const loop = this._loop;
    const previousTask = loop._currentTask;
    loop._currentTask = this as Task<unknown>;
    const startedIn = this._context;
    const previousContext = swapContext(startedIn);
    // A step within a native step's hand-over is the loop's own code, whatever the host's
    // async context says (which only a loop with the asyncLocalStorage option asks).
    const handover = loop._asyncLocalStorage ? loop._handover : null;
    if (handover !== null) handover.stepping++;
    const watched = observed; // read once: the step's start and end are published together or not at all
    const continued = (this._flags & STEP_IN_MICROTASKS) !== 0;
    if (continued) this._flags &= ~STEP_IN_MICROTASKS;
    else if (watched) publish("task.step.start", { task: this as Task<unknown> });
    try {
      let next: IteratorResult<Suspend, T>;
      try {
        const coro = this._coro;
        if (this._generator) {
          next = error === NO_ERROR ? generatorNext.call(coro) : generatorThrow.call(coro, error);
        } else next = error === NO_ERROR ? coro.next() : coro.throw(error);
      } catch (thrown) {
        // A yield* over a list cannot take a bad-yield error thrown in: the engine raises
        // its own TypeError instead. Keep ours, which names the mistake.
        this._endThrown(
          badYields.has(error as Error) && thrown instanceof TypeError ? error : thrown,
        );
        return;
      }
      if (next.done === true) this._endReturned(next.value);
      else this._suspend(next);
    } finally {
      if ((watched || continued) && (this._flags & STEP_IN_MICROTASKS) === 0) {
        this._stepEnded(watched, continued);
      }
      // A step that wrote to the snapshot it shared ends in a copy of its own: the task keeps
      // it (one that ends where it began keeps what getContext() may have given it meanwhile).
      const ended = swapContext(previousContext);
      if (ended !== startedIn) this._context = ended;
      loop._currentTask = previousTask;
      if (handover !== null) handover.stepping--;
    }
  }

  /**
   * What a step that begins an await, or has a cancellation pending, throws
   * in: the CancelledError of the pending cancellation, unless the step begins
   * an await (which it cancels where it suspends) or the function got the
   * cancellation already, from a host API that read its signal's abort.
   */
  private _stepError(error: unknown): unknown {
    this._flags &= ~STEP_QUEUED;
    if ((this._flags & SIGNAL_ABORTED) !== 0 && abortReached(this)) this._cancelSpent();
    const flags = this._flags;
    if ((flags & CANCEL_LATER) !== 0) this._flags &= ~CANCEL_LATER;
    else if ((flags & MUST_CANCEL) !== 0) {
      if (!(error instanceof CancelledError)) error = this._makeCancelledError();
      this._cancelSpent();
    }
    return error;
  }

  /** The pending cancellation reached the coroutine: nothing is left to throw in. */
  private _cancelSpent(): void {
    this._mustCancel = false;
    this._outcome = undefined;
  }

  /** @internal Decides what wakes the task, from the step its coroutine yielded. */
  _suspend(step: IteratorYieldResult<Suspend>): void {
    const loop = this._loop;
    const yielded = step.value;
    if (yielded === undefined) {
      loop._readyTask(this as Task<unknown>);
      return;
    }
    if (isWaitStep(step)) {
      const future = yielded as Future<unknown>;
      if (future._loop !== loop) {
        this._throwNext(otherLoopsFuture(this as Task<unknown>, future));
      } else if (future === (this as Future<unknown>)) {
        this._throwNext(new Error(`${this} cannot wait on itself.`));
      } else {
        future._addCallback(this as Task<unknown>);
        this._futWaiter = future;
        // Passed on, the cancellation is spent here; one that came back round a ring of tasks
        // awaiting each other stopped this task's wait and is its own again (_requestCancel).
        if (
          this._mustCancel &&
          cancelFuture(future, this._cancelMessage, this._outcome) &&
          this._futWaiter === future
        ) {
          this._cancelSpent();
        }
      }
      return;
    }
    if (yielded === NATIVE_STEP) {
      this._flags |= STEP_IN_MICROTASKS; // the step goes on in microtasks (see native.ts)
      return;
    }
    if (yielded === HOST_STEP) {
      this._endStepOnHost(); // an async body it took over awaits the host (see native.ts)
      return;
    }
    const hint =
      yielded instanceof Future
        ? "`yield future` was used instead of `yield* future`, or yield* was given a list (wait for several with yield* gather(list))"
        : isCoroutine(yielded)
          ? "`yield coro` was used instead of `yield* coro`, or yield* was given a list (wait for several with yield* gather(list))"
          : yielded instanceof Monitor
            ? "monitor.oob(), or a GeneratorObject's g.yield(), ran in a coroutine the monitor does not drive: call it only in the coroutine given to the monitor (a generator's own body), not in a task that coroutine created"
            : isAwaitable(yielded)
              ? "`yield x` was used instead of `yield* x`"
              : isPromiseLike(yielded)
                ? "a coroutine waits for a promise with `yield* fromPromise(promise)`"
                : "a coroutine may only yield* futures, tasks and coroutines, or use a bare `yield`";
    const error = new TypeError(`${this} got bad yield ${describe(yielded)}: ${hint}.`);
    badYields.add(error);
    this._throwNext(error);
  }

  /** @internal The coroutine threw: the task fails, or is cancelled if it threw CancelledError. */
  _endThrown(thrown: unknown): void {
    this._end();
    // A host API's abort of the task's signal, after a cancel(), is that cancellation.
    const cancelled =
      thrown instanceof CancelledError || this.cancelling() > 0
        ? cancellationFor(this, thrown)
        : null;
    if (cancelled !== null) {
      // The CancelledError that ended the coroutine is the one result() and its awaiters get.
      super._requestCancel(cancelled.message, cancelled);
    } else {
      this._fail(thrown);
    }
  }

  /** @internal The coroutine returned: the task has its result, unless a cancel() came too late to be thrown in. */
  _endReturned(value: T): void {
    this._end();
    if (this._mustCancel) {
      this._mustCancel = false;
      super._requestCancel(this._cancelMessage, this._outcome);
    } else {
      this._resolve(value);
    }
  }

  private _throwNext(error: Error): void {
    this._loop._call(throwIntoTask, 2, this, error, null);
  }

  /** The coroutine finished: the task no longer counts as live. */
  private _end(): void {
    this._parent = null;
    if (this._childLink !== null) this._childLink.task = null;
    this._loop._removeLiveTask(this as Task<unknown>);
    if (this._loop._asyncLocalStorage) dropAsyncScope(this as Task<unknown>);
  }
}

// As asyncio's repr shows wait_for: what a blocked task waits on, in the task tree's words;
// one woken (or cancelled) but not yet run is ready, not waiting, though its waiter is kept.
inspectAs(Task, (task) => {
  const waited = task._state === PENDING ? waitingOn(task) : null;
  if (waited === null) return String(task);
  const position = readyPositions(task._loop).get(task);
  const state = position === undefined ? `waits on ${waited}` : `ready at position ${position}`;
  return `${String(task).slice(0, -1)} ${state}>`;
});

/**
 * The error of a task that waited on another loop's future. One made where
 * no loop ran (`new Future()` at a module's top level) is the policy's loop's.
 */
function otherLoopsFuture(task: Task<unknown>, future: Future<unknown>): Error {
  const other = future._loop;
  // Each loop numbers its own tasks, so both may be "Task-1": the message names the loops.
  const where = `${task} waited on ${future}, which belongs to a different event loop`;
  if (other.isRunning()) {
    return new Error(
      `${where} (${other}, running beside this task's ${task._loop}): wait for another loop's work through a promise, \`yield* fromPromise(${future._kind().toLowerCase()})\` in a coroutine (an async function's await does so itself), or create it on this task's loop.`,
    );
  }
  const why = other.isClosed()
    ? `${other}: the run that made it is over, and a future kept past its run is not another run's`
    : `${other}, which is not running: a future belongs to the loop it was made on, and \`new Future()\` where no loop runs, as at a module's top level, takes the policy's loop`;
  return new Error(
    `${where} (${why}): create it on this task's loop, inside the task or with loop.createFuture().`,
  );
}

/** What a new task on `loop` holds of the task whose step creates it (null: none does). */
function creatorLink(loop: BaseEventLoop): ParentLink | null {
  // In an eager start, or code the host runs, ask more (rare, and kept out of what the
  // constructor inlines).
  const creator = createdInStep(loop) ? loop._currentTask : creatingTask(loop);
  return creator === null ? null : (creator._childLink ??= { task: creator });
}

/**
 * What a task's children hold of it, one for all of them: the task while it
 * lives, then null. The tree shows a child under its creator only while the
 * creator lives, and a finished task must not stay in memory, with its result,
 * for as long as a child it started runs (a request's handler and the
 * background task it left behind).
 */
interface ParentLink {
  task: Task<unknown> | null;
}

/**
 * With the loop's asyncLocalStorage option: the task's steps run in the
 * context it was made in, but as no task's code (a native task's function
 * runs as its own): what a generator task's step queues for the host is not
 * the code of the native task that made it.
 */
function keepAsyncScope(task: Task<unknown>, loop: BaseEventLoop): void {
  const scope = runAsNoOwner(() => captureAsyncScope("asynkit.Task"));
  if (scope === undefined) return;
  (loop._asyncScopes ??= new Map()).set(task, scope);
  // A loop's first task gives its drive a context to start in (see _spin).
  loop._homeScope ??= scope;
}

/** The task ended: its context is no longer entered. */
function dropAsyncScope(task: Task<unknown>): void {
  task._loop._asyncScopes?.delete(task);
}

/** The priority the options give a new task. */
function initOptionPriority(task: Task<unknown>, options: TaskOptions): void {
  initPriority(task, toPriority("new Task()", "options.priority", options.priority));
}

/** Publishes a new task on `asynkit:task.created` (see channels.ts). */
function publishCreated(task: Task<unknown>): void {
  const parent = task._parent?.task ?? null;
  publish("task.created", { task, parent, name: task.getName(), priority: task.getPriority() });
}

/** A done task's state in words, by its state number (FINISHED, FAILED, CANCELLED). */
const DONE_STATES = [undefined, "finished", "failed", "cancelled"] as const;

/**
 * Publishes the end of `task`'s step, after what it waits on now if it waits
 * on a future, or how it ended if its coroutine finished.
 */
function publishStepEnd(task: Task<unknown>): void {
  const future = task._futWaiter;
  if (task._state !== PENDING) {
    const state = DONE_STATES[task._state as 1 | 2 | 3];
    publish("task.done", { task, state });
  } else if (future !== null) {
    publish("task.suspended", { task, future, what: describeAwaited(future) });
  }
  publish("task.step.end", { task });
}

/**
 * @internal True if `task`, just made with HOLD_FIRST_STEP, holds its first
 * step: a task factory that drops options (`(loop, coro) => new Task(coro,
 * { loop })`) queues it, or runs it (eagerStart), as any task's. A flag of
 * the task's own, as the factory may make other such tasks meanwhile (an
 * eager start of its own).
 */
export function firstStepHeld(task: Task<unknown>): boolean {
  const held = (task._flags & FIRST_STEP_HELD) !== 0;
  task._flags &= ~FIRST_STEP_HELD;
  return held;
}

/** Throws if a task took `coro`, or eager() or a CoroStart started it: a coroutine runs in one task, once. */
function checkNotTaken(coro: Coro<unknown>): void {
  const mark = (coro as Marked)[coroMark];
  if (mark !== undefined) throw takenAlready(null, mark);
}

/** @internal The error for a coroutine `mark` says a task took or a start began, given to `where` (null: a task). */
export function takenAlready(
  where: string | null,
  mark: number | Task<unknown>,
): InvalidStateError {
  if (typeof mark === "object") return reusedCoroutine(mark);
  return new InvalidStateError(
    `${where === null ? "This" : `${where}: this`} coroutine was started already, by eager() or a CoroStart, which continues it: wait for what that returned instead.`,
  );
}

/** @internal The error for a coroutine `driver` took, given to something else. */
export function reusedCoroutine(driver: Task<unknown>): InvalidStateError {
  return new InvalidStateError(
    `This coroutine already belongs to ${driver}: a coroutine can be awaited once; wrap it in a task to share its result (create the task once, then yield* the task as often as needed).`,
  );
}

/** A task whose cancel() is Task's own, which _requestCancel() follows without a call. */
function cancelsAsTask(future: Future<unknown>): future is Task<unknown> {
  return (
    future instanceof Task &&
    future.cancel === Task.prototype.cancel &&
    future._requestCancel === Task.prototype._requestCancel
  );
}

/**
 * Cancels the future a task waits on. Without a cause it goes through the
 * public cancel(), so a subclass that overrides cancel() is honoured (asyncio
 * calls fut_waiter.cancel()).
 */
function cancelFuture(
  future: Future<unknown>,
  message: string | undefined,
  cause: unknown,
): boolean {
  return cause === undefined ? future.cancel(message) : future._requestCancel(message, cause);
}

// An async function's code after a host await reads and writes its task's context.
onCodeOwner(hostCodeOwnerNow);
onRunningTaskContext(() => peekRunningLoop()?._currentTask?._context ?? null);

/**
 * Wraps a coroutine in a Task on the running loop, as asyncio.create_task;
 * or makes a native task of an async function (or `() => work(x)`), which the
 * task calls at its first step (see docs/async-functions.md). A generator
 * function is taken as its call, `work` as `work()`: the call runs none of
 * its body, which starts at the task's first step. A promise is
 * refused: it is already running. Throws when no loop is running: use
 * run(main()) or loop.createTask().
 * A coroutine runs in one task only: giving it to a second one is an
 * InvalidStateError (share the result by waiting for the task instead).
 *
 * @example
 * ```ts
 * import { createTask, run, sleep } from "asynkit";
 * await run(function* () {
 *   const a = createTask(sleep(20, "a"));
 *   const b = createTask(sleep(10, "b"));
 *   console.log(yield* a, yield* b); // "a" "b", after 20 ms in all
 * });
 * await run(async () => {
 *   const c = createTask(async () => await sleep(10, "c")); // a native task
 *   console.log(await c); // "c"
 * });
 * ```
 */
export function createTask<T>(coro: TaskBody<T>, options?: TaskOptions): Task<T> {
  checkNewTask("createTask()", coro, options);
  const loop = peekRunningLoop();
  const here = loop !== null && loopKnows(loop) ? loop : loopOfCode(loop);
  return here._createTask(coro, options);
}

/** createTask()'s loop outside a loop's steps (see codeLoop). */
function loopOfCode(running: BaseEventLoop | null): BaseEventLoop {
  const loop = codeLoop(running);
  if (loop === null) {
    throw new Error(
      `createTask() needs a running event loop: call it from a task run by run(main), or use loop.createTask(coro).\n${noLoopAdvice()}`,
    );
  }
  return loop;
}

/**
 * The task whose coroutine is running now, or null (in a plain callback).
 * Without a loop argument it asks the running loop, and throws if none runs.
 *
 * Inside an eager start ({@link eager}, {@link coroEager}) it is the task that
 * will carry the coroutine if it suspends, made on this first request (and
 * done at once if the start then finishes without suspending): so a timeout,
 * a TaskGroup or a taskSignal() begun in an eager start belongs to the
 * eagerly started coroutine, never to its caller.
 *
 * @example
 * ```ts
 * import { currentTask, run } from "asynkit";
 * await run(function* () { console.log(currentTask()?.getName()); }); // "Task-1"
 * ```
 */
export function currentTask(loop?: BaseEventLoop): Task | null {
  checkLoopOption("currentTask()", "loop", loop);
  return runningTask(loop ?? getRunningLoop());
}

/**
 * The loop's tasks that are not done yet (a new Set).
 *
 * @example
 * ```ts
 * import { allTasks, createTask, run, sleep } from "asynkit";
 * await run(function* () {
 *   createTask(sleep(10));
 *   console.log(allTasks().size); // 2: main and the sleeper
 * });
 * ```
 */
export function allTasks(loop?: BaseEventLoop): Set<Task> {
  checkLoopOption("allTasks()", "loop", loop);
  return new Set((loop ?? getRunningLoop())._liveTasks());
}

/**
 * A Future for anything awaitable: a Future as it is, a coroutine or other
 * `yield*`-able wrapped in a Task, a native promise through fromPromise.
 * gather()'s operation gives its own future, as asyncio.gather returns one:
 * its cancel() cancels the children, and a child's cancellation is its
 * exception.
 *
 * @example
 * ```ts
 * import { ensureFuture, run } from "asynkit";
 * await run(function* () {
 *   const fromNative = ensureFuture(Promise.resolve(1));
 *   console.log(yield* fromNative); // 1
 * });
 * ```
 */
export function ensureFuture<T>(
  awaitable: Awaitable<T> | PromiseLike<T> | TaskBody<T>,
  options?: { loop?: BaseEventLoop | undefined },
): Future<T> {
  checkOptions("ensureFuture()", options, "{ loop }", LOOP_OPTION);
  checkLoopOption("ensureFuture()", "options.loop", options?.loop);
  return toFuture("ensureFuture()", "awaitable", awaitable, options?.loop);
}

/** @internal The error for a future given to `where` on a loop it does not belong to. */
export function foreignFuture(where: string, future: Future<unknown>): Error {
  return new Error(
    `${where}: ${future} belongs to a different event loop: create it on the loop that waits for it.`,
  );
}

/** @internal ensureFuture() for argument `name` of the public function `where`, which its errors name. */
export function toFuture<T>(
  where: string,
  name: string,
  awaitable: Awaitable<T> | PromiseLike<T> | TaskBody<T>,
  loop: BaseEventLoop | undefined,
): Future<T> {
  if (awaitable instanceof Future) {
    if (loop !== undefined && awaitable._loop !== loop) throw foreignFuture(where, awaitable);
    return awaitable;
  }
  // A promise, not one of asynkit's awaitables (a CoroStart is a thenable too).
  if (isPromiseLike(awaitable) && !isAwaitable(awaitable)) {
    return fromPromise(awaitable, loop === undefined ? undefined : { loop });
  }
  const own =
    typeof awaitable === "object" && awaitable !== null
      ? (awaitable as { [ownFuture]?: (loop: BaseEventLoop) => Future<T> })[ownFuture]
      : undefined;
  if (own !== undefined)
    return toFuture(where, name, own.call(awaitable, loop ?? callersLoop()), loop);
  const coro = typeof awaitable === "function" ? awaitable : coroutineOf(awaitable);
  if (coro === null) {
    throw notAwaitable(where, name, awaitable, "a coroutine, a Future or a promise");
  }
  return (loop ?? callersLoop()).createTask(coro as Coro<T>);
}
