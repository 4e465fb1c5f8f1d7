/**
 * BaseEventLoop: the ready queue, the timer queue and one iteration of the
 * loop, as asyncio's BaseEventLoop. Subclasses decide what time is and what
 * to do when nothing is ready (sleep on the host, or jump a virtual clock).
 */

import { type ShutdownOptions, type SubmitOptions, shutDown, submitTo } from "../apploop.js";
import { type AsyncScope, captureAsyncScope, hostHasAsyncContext } from "../asynccontext.js";
import { hasLiveGenerators, type LiveGenerators, shutdownAsyncgens } from "../asyncgens.js";
import { checkObservers, observed, publish } from "../channels.js";
import { type Context, copyContext, swapContext } from "../context.js";
import { type Awaitable, type Coro, describe, shortRepr } from "../coro.js";
import {
  deadlockError,
  reportPending,
  runForeverPromise,
  unwatchForDeadlock,
  watchForDeadlock,
} from "../deadlock.js";
import type { DeadlockError } from "../errors.js";
import {
  type ExceptionContext,
  type ExceptionHandler,
  Handle,
  type HandleCallback,
  loopInThisStack,
  loopStarted,
  loopStopped,
  type ReadyEntry,
  setRunningLoop,
  type Timer,
  TimerHandle,
} from "../events.js";
import { Future, forgetLastWait } from "../futures.js";
import { stopTimingHostRuns } from "../hostruns.js";
import { Linter, lintPendingAtClose, SLOW_STEP_MS } from "../lints.js";
import { readMainResult } from "../mainresult.js";
import { abandonThens, handOver, mayRunSlice, type NativeSteps } from "../native.js";
import { creationFrames, noteCreation } from "../suspendsite.js";
import {
  checkNewTask,
  Task,
  type TaskBody,
  type TaskOptions,
  taskCoroutine,
  toFuture,
} from "../tasks.js";
import { taskOfEntry, taskTree } from "../tasktree.js";
import type { Op } from "../thenable.js";
import { forget, type Unretrieved, unretrievedFuture } from "../unretrieved.js";
import { ChunkDeque } from "../util/chunkdeque.js";
import { now } from "../util/clock.js";
import type { ReadyQueue } from "../util/deque.js";
import { builtinModule, inMicrotask, yieldToHost } from "../util/host.js";
import { classNameOf, inspectAsString } from "../util/inspect.js";
import { TimerQueue } from "../util/timerqueue.js";
import {
  argTypeError,
  checkBooleanOption,
  checkCallback,
  checkDelay,
  checkFunctionOrNull,
  checkNonNegative,
  checkOptions,
  checkTime,
  type OptionNames,
  rejectingThrows,
} from "../validate.js";

/**
 * Makes the tasks of a loop: installed with `loop.setTaskFactory()`. It is
 * given createTask()'s options and passes them on (`new Task(coro, { ...options,
 * loop })`); a task it leaves unnamed gets the name asked for afterwards, as
 * asyncio 3.11 to 3.13 name a factory's task, so a factory written as `(loop,
 * coro)` keeps names (its tasks lose the other options: context, eagerStart,
 * priority, signal). One that adds `eagerStart: true`, as asyncio's eager
 * task factory does, must still pass the options on: they hold back the first
 * step of the task that carries an `eager()` start, which fails otherwise.
 */
export type TaskFactory = <T>(loop: BaseEventLoop, coro: Coro<T>, options?: TaskOptions) => Task<T>;

/** How long the loop runs before it lets the host run its own work (I/O, timers, promises). */
const SLICE_MS = 5;
/**
 * The most handles run between two reads of the clock. Within a slice the
 * reads come after 1, 2, 4 … handles, and only as far apart as the pace seen
 * so far fits in what is left of the slice: cheap steps cost one read per 64,
 * slow ones a read each, so a slice overruns by at most about one step.
 */
const MAX_CHECK_INTERVAL = 64;
/**
 * Handles that ran between two reads of the clock and took longer than this
 * hid steps heavy enough to hold the host past their slice: cheap steps had
 * grown the count between reads, and heavy ones came after them. From then
 * on the clock is read after every handle, for the next FIRST_HEAVY_SLICES
 * slices, and again after each handle that took HEAVY_STEP_MS or more; for
 * HEAVY_HOLD_MS after one that did so before (a task steps as the same entry
 * each time). A handle heavy once may only have met the collector's pause or
 * the kernel's page faults, which land on any handle: with 100k live tasks
 * they come every few milliseconds, and a read after every handle would cost
 * the whole run (83 ns a read against a step of about a microsecond, on a
 * VM). Slices, not milliseconds, so that a slow host turn between two heavy
 * steps does not end the hold.
 */
const HEAVY_STRETCH_MS = 2 * SLICE_MS;
const HEAVY_STEP_MS = 1;
const FIRST_HEAVY_SLICES = 2;
const HEAVY_HOLD_MS = 100;

/** Options of an event loop's constructor. */
export interface EventLoopOptions {
  /**
   * Run every task step in the AsyncLocalStorage context the task was created
   * in, and every callback in the one it was scheduled in, as native awaits
   * do. Off by default: it costs an AsyncResource per task and per callback,
   * and entering a context each time consecutive steps change context (see
   * docs/async-local-storage.md). Hosts without `node:async_hooks` ignore it.
   *
   * @example
   * ```ts
   * import { AsyncLocalStorage } from "node:async_hooks";
   * import { HostEventLoop, sleep } from "asynkit";
   * const requestId = new AsyncLocalStorage<string>();
   * const loop = new HostEventLoop({ asyncLocalStorage: true });
   * function* handler() {
   *   yield* sleep(1);
   *   return requestId.getStore();
   * }
   * const task = requestId.run("req-1", () => loop.createTask(handler()));
   * console.log(await loop.runUntilComplete(task)); // "req-1"
   * loop.close();
   * ```
   */
  asyncLocalStorage?: boolean | undefined;
}

/** How a run of iterations ended. */
export type Spin = 0 | 1 | 2 | 3;
export const STOPPED = 0;
export const IDLE = 1;
const OUT_OF_TIME = 2;
/** A native task's step goes on in microtasks: the drive returns to the host until it ends. */
export const HANDED_OVER = 3;

/**
 * The event loop's machinery, shared by the host and virtual loops: a ready
 * queue of Handles run in order, a queue of timers, task creation, and error
 * reporting. Use {@link HostEventLoop} or {@link VirtualEventLoop}.
 *
 * @example
 * ```ts
 * import { VirtualEventLoop } from "asynkit";
 * const loop = new VirtualEventLoop();
 * loop.callSoon(() => console.log("first"));
 * loop.callLater(1000, () => { console.log("a virtual second later"); loop.stop(); });
 * await loop.runForever();
 * ```
 */
export abstract class BaseEventLoop {
  /** @internal The options this class's constructor takes, by name. */
  static readonly _optionNames: OptionNames<object> = {
    asyncLocalStorage: true,
  } satisfies OptionNames<EventLoopOptions>;

  /**
   * @internal Entries ready to run; position 0 runs next. A task stands for
   * its own next step (or its wakeup by the future it waited on): no Handle is
   * made for it unless the scheduling API asks for one (see scheduling.ts).
   */
  _ready: ReadyQueue<Handle | ReadyEntry> = new ChunkDeque<Handle | ReadyEntry>();
  /** @internal Timers not yet due, the soonest first. */
  _scheduled = new TimerQueue<(TimerHandle | ReadyEntry) & Timer>();
  /** @internal */ _timerSeq = 0;
  /** @internal */ _cancelledTimers = 0;
  /** @internal TimerHandles in the timer queue and not cancelled: while none are, every due timer is a sleep's. */
  _timerHandles = 0;
  /** @internal The ready queue runs its entries in the order they come (not a priority loop's). */
  _readyInArrivalOrder = true;
  /** @internal The task whose step is running, if any. */
  _currentTask: Task<unknown> | null = null;
  /**
   * @internal The most recently created task not yet done. Live tasks form a
   * doubly linked list through their own fields: O(1) to add and remove, with
   * no allocation per task.
   */
  _lastTask: Task<unknown> | null = null;
  /** @internal Failed futures whose exception nobody has retrieved yet. */
  _unretrieved = new Set<Unretrieved>();
  /** @internal Options binding a new Future or Task to this loop, made once rather than per future. */
  readonly _bound: { readonly loop: BaseEventLoop } = { loop: this };
  /**
   * @internal Waits only the host can end: native promises awaited through
   * fromPromise that have not settled, AbortSignals listened to. Any other
   * wait on the host (a native task blocked on host I/O) must count itself here
   * too: while this is above 0, an idle virtual loop waits for the host instead
   * of reporting a deadlock.
   */
  _hostPending = 0;
  /** @internal Native tasks whose function goes on outside the loop's order, past a host await. */
  _tasksOnHost = 0;
  /**
   * @internal How to stop each wait on a host object that outlives the loop
   * (an AbortSignal listened to, a promise awaited through fromPromise):
   * close() stops them, so that the signal or the promise keeps nothing of a
   * closed loop. Made at the first one.
   */
  _hostWaits: Set<{ stop(): void }> | null = null;
  /** @internal The future a pending runUntilComplete() waits for, and the public call that waits (for messages). */
  _awaited: Future<unknown> | null = null;
  /** @internal */ _awaitedBy = "";
  /** @internal Set when the pending run was found deadlocked: the run rejects with it. */
  _deadlock: DeadlockError | null = null;
  /** @internal Settles when the current run stops. */
  _whenStopped: Promise<void> | null = null;
  /** @internal shutdown()'s promise, once it was called. */
  _shutdown: Promise<void> | null = null;
  /** @internal The GeneratorObjects begun on this loop and not yet done, once one began. */
  _generators: LiveGenerators | null = null;
  /** @internal Capture and enter AsyncLocalStorage contexts (the asyncLocalStorage option, on a host that has them). */
  _asyncLocalStorage = false;
  /** @internal The AsyncLocalStorage context the loop's code runs in now (see asynccontext.ts). */
  _asyncScope: AsyncScope | undefined = undefined;
  /** @internal The context the last step that had to enter one ran in: a drive starts in it. */
  _homeScope: AsyncScope | undefined = undefined;
  /**
   * @internal With the asyncLocalStorage option, the context each live task
   * was created in; each step runs in it. Beside the tasks, not in them, so
   * that a task without the option carries no slot for it; a Map, not a
   * WeakMap, whose entries the collector weighs at each scavenge (the
   * option's cost for 20k tasks made at once was mostly that), dropped as each
   * task ends, and with the loop.
   */
  _asyncScopes: Map<Task<unknown>, AsyncScope> | null = null;
  /** @internal True while the loop waits on the host for a wakeup or a timer. */
  _parked = false;
  /** @internal */ _running = false;
  /** @internal The unnamed tasks made on this loop so far: the next one is "Task-<n + 1>". */
  _taskCount = 0;
  /** @internal */ _stopping = false;
  /** @internal */ _closed = false;
  private _debug = false;
  /** @internal See slowCallbackDuration. */
  _slowCallbackDuration = SLOW_STEP_MS;
  /** @internal Debug mode's lint state, made when debug mode first runs an iteration. */
  _linter: Linter | null = null;
  private _exceptionHandler: ExceptionHandler | null = null;
  private _taskFactory: TaskFactory | null = null;
  private _onStopped: (() => void) | null = null;
  private _driveQueued = false;
  /** @internal Handles of an iteration the slice's deadline cut short, still to run first. */
  _iterationLeft = 0;
  /**
   * A native step's hand-over left an iteration unfinished: when the drive
   * resumes, it ends (a stop() asked for meanwhile takes effect) before the
   * next begins, though no handle of it may be left.
   */
  private _iterationOpen = false;
  /** @internal The native steps this loop waits for, made at the first one (see native.ts). */
  _nativeSteps: NativeSteps | null = null;
  /** @internal Set while a native step goes on in microtasks: the loop runs nothing else. */
  _handover: NativeSteps | null = null;
  /** @internal True during runSync(), which cannot run native tasks (their awaits need the host). */
  _syncRun = false;
  /**
   * @internal When the current time slice began, and when it ends: a drive
   * resumed after a native step keeps both. Fields rather than arguments: a
   * fractional time passed to a call is a heap number made at every call, and
   * the drive resumes after every native step.
   */
  _sliceStart = 0;
  /** @internal */
  _sliceDeadline = 0;
  /** @internal When a drive last began in a macrotask of the host's (see _queueDrive). */
  _hostTurnAt = 0;
  /** @internal The drive queued begins in a macrotask: it stamps _hostTurnAt. */
  _driveAfterHostTurn = false;
  /**
   * Where the slice's reads of the clock stood when a native step took the
   * host (see _handOverMidSlice), for the drive that resumes the slice; a
   * countdown of 0 keeps nothing. Spent: the slice's deadline has passed.
   */
  private _keptCountdown = 0;
  private _keptInterval = 1;
  /** @internal */ _keptLastCheck = 0;
  /** Until then the clock is read after every handle (see HEAVY_STRETCH_MS); a double from the start. */
  private _heavyUntil = Number.NEGATIVE_INFINITY;
  /** Slices, this one included, in which it is read after every handle (see FIRST_HEAVY_SLICES). */
  private _heavySlices = 0;
  /** The entries a read found heavy on their own: weakly, so that a done task is not kept. */
  private _heavyEntries: WeakSet<object> | null = null;
  private _sliceSpent = false;
  /** The handle whose native step has the host now, counted when the step ends (see _resumeDrive). */
  private _handedOver: object | null = null;

  constructor(options?: EventLoopOptions) {
    // The message's name only when there is something to check: most loops take no options.
    if (options !== undefined) {
      const where = `new ${new.target.name}()`;
      checkOptions(where, options, "{ asyncLocalStorage: true }", new.target._optionNames);
      checkBooleanOption(where, "options.asyncLocalStorage", options.asyncLocalStorage);
    }
    this._followAsyncContext(options?.asyncLocalStorage === true);
  }

  /** @internal The asyncLocalStorage option: it counts only on a host with an async context to follow. */
  _followAsyncContext(on: boolean): void {
    this._asyncLocalStorage = on && hostHasAsyncContext;
  }

  /** The loop's clock, in milliseconds. */
  abstract time(): number;

  /**
   * What to do when nothing is ready: return true to go on at once (a virtual
   * clock jumped to `nextTimer`), false to wait for the host (arming a host
   * timer for `nextTimer` if there is one).
   * @internal
   */
  abstract _idle(nextTimer: number | undefined): boolean;

  /** @internal Wakes a loop that waits on the host. */
  abstract _unpark(): void;

  /**
   * Schedules `callback(...args)` to run after everything already ready. A
   * callback that throws, or an async one whose promise rejects, reports the
   * error to the exception handler; the loop goes on. (An async callback's
   * code after its first await is not ordered by the loop: give it a task.)
   *
   * @example
   * ```ts
   * import { VirtualEventLoop } from "asynkit";
   * const loop = new VirtualEventLoop();
   * loop.callSoon((a: number, b: number) => console.log(a + b), 1, 2); // 3, once the loop runs
   * ```
   */
  callSoon<A extends unknown[]>(callback: (...args: A) => void, ...args: A): Handle {
    checkCallback("callSoon", callback);
    const n = args.length;
    // A copy, as asyncio: what the caller sets after scheduling does not show in the callback.
    const handle = this._call(callback, n, args[0], args[1], copyContext(), n > 2 ? args : null);
    if (this._asyncLocalStorage) handle._asyncScope = captureAsyncScope("asynkit.Handle");
    if (this._debug) noteCreation(handle);
    return handle;
  }

  /**
   * Schedules `callback(...args)` to run `delayMs` milliseconds from now. A
   * negative delay is due that long ago, as in asyncio: before timers due now.
   *
   * @example
   * ```ts
   * import { VirtualEventLoop } from "asynkit";
   * const loop = new VirtualEventLoop();
   * const timer = loop.callLater(50, () => console.log("late"));
   * timer.cancel();
   * ```
   */
  callLater<A extends unknown[]>(
    delayMs: number,
    callback: (...args: A) => void,
    ...args: A
  ): TimerHandle {
    const delay = checkDelay("loop.callLater()", "delayMs", delayMs);
    checkCallback("callLater", callback);
    return this._callAtWithArgs(this.time() + delay, callback, args, delay);
  }

  /**
   * Schedules `callback(...args)` to run when `time()` reaches `whenMs`.
   *
   * @example
   * ```ts
   * import { VirtualEventLoop } from "asynkit";
   * const loop = new VirtualEventLoop();
   * loop.callAt(loop.time() + 10, () => console.log("at a moment on the loop's clock"));
   * ```
   */
  callAt<A extends unknown[]>(
    whenMs: number,
    callback: (...args: A) => void,
    ...args: A
  ): TimerHandle {
    checkTime("loop.callAt()", "whenMs", whenMs);
    checkCallback("callAt", callback);
    return this._callAtWithArgs(whenMs, callback, args);
  }

  /** A user's timer: runs in a copy of the current context, as asyncio's. */
  private _callAtWithArgs(
    whenMs: number,
    callback: HandleCallback,
    args: unknown[],
    delayMs = Number.POSITIVE_INFINITY,
  ): TimerHandle {
    const n = args.length;
    const rest = n > 2 ? args : null;
    const timer = this._callAt(whenMs, callback, n, args[0], args[1], copyContext(), rest, delayMs);
    if (this._asyncLocalStorage) timer._asyncScope = captureAsyncScope("asynkit.TimerHandle");
    if (this._debug) noteCreation(timer);
    return timer;
  }

  /**
   * @internal callAt() without an argument array or a context copy, for
   * asynkit's own timers; `delayMs` is how far ahead it is set, when known.
   */
  _callAt(
    whenMs: number,
    callback: HandleCallback,
    argc: number,
    arg0: unknown,
    arg1: unknown,
    context: Context | null,
    args: unknown[] | null = null,
    delayMs = Number.POSITIVE_INFINITY,
  ): TimerHandle {
    this._checkClosed();
    const timer = new TimerHandle(whenMs, callback, argc, args ?? arg0, arg1, this, context);
    this._addTimer(timer, delayMs);
    this._timerHandles++;
    return timer;
  }

  /**
   * @internal Calls `report` once `ms` of the loop's time has passed, and
   * returns what cancels it. A report matters only while something else
   * runs, so it keeps nothing alive: on a virtual clock a timer does not; a
   * loop on the host's clock waits on the host instead (see HostEventLoop).
   * The caller cancels it before the loop stops.
   */
  _reportAfter(ms: number, report: () => void): () => void {
    const timer = this._callAt(this.time() + ms, report, 0, undefined, undefined, null);
    return () => timer.cancel();
  }

  /**
   * @internal Puts a timer into the timer queue: a TimerHandle, or a sleep's
   * own timer, set `delayMs` ahead (+Infinity when not known: see TimerQueue).
   */
  _addTimer(timer: (TimerHandle | ReadyEntry) & Timer, delayMs: number): void {
    this._scheduled.push(timer, timer._when, this._timerSeq++, delayMs);
    if (observed) publish("timer.scheduled", { loop: this, when: timer._when });
    if (this._parked) this._unpark();
  }

  /**
   * @internal Schedules a call at the end of the ready queue without an argument
   * array: futures and tasks use this on every wakeup.
   */
  _call(
    callback: HandleCallback,
    argc: number,
    arg0: unknown,
    arg1: unknown,
    context: Context | null,
    args: unknown[] | null = null,
  ): Handle {
    if (this._closed) this._checkClosed();
    const handle = new Handle(callback, argc, args ?? arg0, arg1, this, context);
    this._ready.push(handle);
    if (this._parked) this._unpark();
    return handle;
  }

  /** @internal Queues a task's next step, or its wakeup once the future it waits on is done. */
  _readyTask(task: Task<unknown>): void {
    if (this._closed) this._checkClosed();
    this._ready.push(task);
    if (this._parked) this._unpark();
  }

  /** A new Future attached to this loop. */
  createFuture<T>(): Future<T> {
    const future = new Future<T>(this._bound);
    if (this._debug) noteCreation(future);
    return future;
  }

  /**
   * Wraps a coroutine in a Task that runs on this loop, through the task factory if one is set;
   * an async function makes a native task, which calls it at its first step.
   *
   * @example
   * ```ts
   * import { VirtualEventLoop } from "asynkit";
   * const loop = new VirtualEventLoop();
   * function* work() { yield; return 1; }
   * const task = loop.createTask(work(), { name: "worker" });
   * ```
   */
  createTask<T>(coro: TaskBody<T>, options?: TaskOptions): Task<T> {
    checkNewTask("loop.createTask()", coro, options);
    return this._createTask(coro, options);
  }

  /** @internal createTask() for arguments the caller has checked. */
  _createTask<T>(body: TaskBody<T>, options: TaskOptions | undefined): Task<T> {
    this._checkClosed();
    // A task made before the run (run()'s main) is seen by whoever subscribed before it.
    if (!this._running) checkObservers();
    const coro = taskCoroutine(body);
    if (this._taskFactory !== null) return this._factoryTask(coro, options);
    if (options === undefined) return new Task(coro, this._bound);
    // The loop key first, then set: V8 takes about 25 times as long to make `{ ...options, loop }`.
    const bound = { loop: this as BaseEventLoop, ...options };
    bound.loop = this;
    return new Task(coro, bound);
  }

  /**
   * @internal createTask(coro), as a child of `creator` (null: a root)
   * whichever task the loop steps now: a task made for a then() that is no
   * task's await, or for an await its function let go of.
   */
  _createTaskOf<T>(coro: Coro<T>, creator: Task<unknown> | null): Task<T> {
    const stepped = this._currentTask;
    this._currentTask = creator;
    try {
      return this.createTask(coro);
    } finally {
      this._currentTask = stepped;
    }
  }

  /** A task of the installed factory, named as asked if the factory left it unnamed. */
  private _factoryTask<T>(coro: Coro<T>, options: TaskOptions | undefined): Task<T> {
    const factory = this._taskFactory as TaskFactory;
    const task = factory(this, coro, options);
    if (!(task instanceof Task)) {
      throw new TypeError(
        `The loop's task factory, ${describe(factory)}, returned ${describe(task)}, not a Task: a factory returns new Task(coro, { ...options, loop }), or an instance of a Task subclass (see loop.setTaskFactory()).`,
      );
    }
    if (options?.name !== undefined && !task._named) {
      task.setName(options.name);
    }
    return task;
  }

  /** Installs a function that makes this loop's tasks (null: plain Task). */
  setTaskFactory(factory: TaskFactory | null): void {
    checkFunctionOrNull(
      "loop.setTaskFactory()",
      "factory",
      factory,
      "pass (loop, coro, options) => new Task(coro, { ...options, loop }), or null for plain tasks",
    );
    this._taskFactory = factory;
  }

  /** The task factory in use, or null for plain Tasks. */
  getTaskFactory(): TaskFactory | null {
    return this._taskFactory;
  }

  /**
   * Runs the loop until `main` is done; resolves with its result or rejects with its error.
   * `main` is a coroutine, a Future, a promise, or a function to run as the main task
   * (an async function: a native task). A call that cannot start (a closed loop, one
   * already running, another loop running in this stack, a `main` of the wrong kind)
   * returns a promise rejected already, as an async function's throw would.
   * A main that returns a pending future, task or operation of this loop
   * (rather than `yield*` it) fails with InvalidStateError: the promise would
   * adopt it, and it could finish only when the loop, stopped as main ends,
   * runs again.
   *
   * @example
   * ```ts
   * import { HostEventLoop, sleep } from "asynkit";
   * const loop = new HostEventLoop();
   * function* main() { yield* sleep(10); return "done"; }
   * console.log(await loop.runUntilComplete(main()));
   * loop.close();
   * ```
   */
  runUntilComplete<T>(main: Awaitable<T> | PromiseLike<T> | TaskBody<T>): Promise<T> {
    return rejectingThrows(() => this._runUntilComplete(main, "runUntilComplete()"));
  }

  /**
   * @internal runUntilComplete() for `caller`, the public call a DeadlockError
   * names. A run that can never finish rejects with that error instead of
   * waiting forever (or letting the process exit without a word).
   */
  _runUntilComplete<T>(
    main: Awaitable<T> | PromiseLike<T> | TaskBody<T>,
    caller: string,
  ): Promise<T> {
    this._checkRunnable("runUntilComplete");
    const future = toFuture("loop.runUntilComplete()", "main", main, this);
    const stop = (): void => this.stop();
    future._addCallback(stop);
    this._awaited = future;
    this._awaitedBy = caller;
    watchForDeadlock(this);
    return this._runForever().then(() => {
      unwatchForDeadlock(this);
      this._awaited = null;
      const deadlock = this._deadlock;
      this._deadlock = null;
      future.removeDoneCallback(stop);
      if (!future.done())
        throw (
          deadlock ?? new Error("The event loop was stopped before the awaited future completed.")
        );
      // The promise would adopt a thenable result, and one of this loop would wait for its next run.
      const read = readMainResult(this, future.result(), caller, "stopped");
      if ("error" in read) throw read.error;
      return read.value;
    });
  }

  /**
   * @internal The pending run waits for what nothing can deliver (`why`): stop
   * it with a DeadlockError. A runUntilComplete()'s; a runForever()'s only
   * when `awaitedForever` says someone awaits it (see deadlock.ts).
   */
  _stopDeadlocked(why: string, awaitedForever = false): void {
    if (this._deadlock !== null) return;
    if (this._awaited !== null) {
      this._deadlock = deadlockError(this._awaitedBy, this._awaited, this, why);
    } else if (awaitedForever) this._deadlock = deadlockError("runForever()", null, this, why);
    else return;
    this.stop();
  }

  /**
   * Submits a coroutine (or an async function, run as a native task) from
   * anywhere, native code included, and returns its
   * Task, which native code can `await`. Starts the loop in the background
   * (runForever()) if it is not running: one long-lived loop for the life of
   * a server, as asyncio's run_coroutine_threadsafe with the loop's thread.
   * The signal option cancels the task when it aborts. A loop that runs
   * forever with nothing to do does not keep the process alive. See
   * {@link shutdown} to stop it.
   *
   * @example
   * ```ts
   * import { HostEventLoop, sleep } from "asynkit";
   * const app = new HostEventLoop(); // one for the whole process
   * function* handle(n: number) { yield* sleep(5); return n * 2; }
   * console.log(await app.submit(handle(21), { name: "request 1" })); // 42
   * await app.shutdown();
   * ```
   */
  submit<T>(main: TaskBody<T>, options?: SubmitOptions): Task<T> {
    return submitTo(this, main, options);
  }

  /**
   * Stops a loop started with submit() or runForever(), gracefully: cancels
   * every task still running, waits for them up to `timeout` ms (default: as
   * long as they take), closes the GeneratorObjects they left suspended
   * (shutdownAsyncgens(), within the same time), reports by name, through the
   * exception handler, each task still running when the time is up, stops the loop
   * and closes it. The loop stops at the deadline, so a virtual clock does not
   * run on past it. A task its cancellation cannot reach yet (a native task
   * blocked on a host promise) is reported a second (real time) after the
   * cancellation, when the timeout is longer. Further calls return the same promise.
   *
   * @example
   * ```ts
   * import { HostEventLoop, sleep } from "asynkit";
   * const app = new HostEventLoop();
   * const worker = app.submit(sleep(60_000), { name: "worker" });
   * await app.shutdown({ timeout: 1000 }); // the sleeping worker is cancelled at once
   * console.log(worker.cancelled(), app.isClosed()); // true true
   * ```
   */
  shutdown(options?: ShutdownOptions): Promise<void> {
    return rejectingThrows(() => {
      this._shutdown ??= shutDown(this, options);
      return this._shutdown;
    });
  }

  /**
   * Closes every GeneratorObject begun on this loop and not yet done, all at
   * once, as asyncio's `loop.shutdown_asyncgens()`: each body left suspended
   * runs its `finally` blocks, each close started eagerly (within this call's
   * first step, up to the close's first wait). One that fails to close is reported through the
   * exception handler; one begun later is reported as it begins. run() calls
   * it once the tasks it left are done, and so does shutdown(), when a
   * generator is left suspended or a subclass replaces this method (asyncio.run()
   * calls it always; with nothing to close the call would only add a task to
   * every run's trace). The loop holds each generator until it is done: close
   * one you stop reading.
   *
   * @example
   * ```ts
   * import { GeneratorObject, run } from "asynkit";
   * await run(function* () {
   *   const lines = new GeneratorObject<string>(function* (g) {
   *     try {
   *       for (;;) yield* g.yield("line");
   *     } finally {
   *       console.log("closed");
   *     }
   *   });
   *   yield* lines.next(); // left suspended: run() closes it at the end
   * });
   * ```
   */
  shutdownAsyncgens(): Op<void> {
    return shutdownAsyncgens(this);
  }

  /**
   * @internal Whether run() and shutdown() must call shutdownAsyncgens(): a
   * GeneratorObject is left suspended, or the loop's class replaces the method
   * (as asyncio.run(), which always calls it, would let it run). Else they spare
   * every run a task of its own that closes nothing.
   */
  _mustShutdownAsyncgens(): boolean {
    return (
      hasLiveGenerators(this) ||
      this.shutdownAsyncgens !== BaseEventLoop.prototype.shutdownAsyncgens
    );
  }

  /**
   * Runs the loop until `stop()` is called; the promise settles then. Awaited
   * (or given a then()), it rejects with a DeadlockError if the process is
   * about to exit with the loop idle, as nothing is left that could call
   * stop(); not awaited, the loop is an application's, and its tasks still
   * pending then are reported ("Task was destroyed but it is pending").
   *
   * @example
   * ```ts
   * import { VirtualEventLoop } from "asynkit";
   * const loop = new VirtualEventLoop();
   * loop.callLater(100, () => loop.stop());
   * await loop.runForever();
   * ```
   */
  runForever(): Promise<void> {
    return rejectingThrows(() => {
      this._checkRunnable("runForever");
      return runForeverPromise(this, this._runForever());
    });
  }

  /**
   * @internal runForever() once checked. Its drives run on the host, never in
   * the caller's stack: submit() starts a loop this way from anywhere, a step
   * of another loop's task included.
   */
  _runForever(): Promise<void> {
    this._running = true;
    loopStarted(this, this._awaited !== null);
    // Running for ever, awaited by nothing: the tasks it still has when the process exits are reported.
    if (this._awaited === null) watchForDeadlock(this, true);
    // A stop() made before the run is kept: the loop runs one iteration, then stops (as asyncio).
    const stopped = new Promise<void>((resolve) => {
      this._onStopped = resolve;
    });
    this._whenStopped = stopped;
    this._hostTurnAt = now(); // the host's turn its caller runs in
    this._queueDrive();
    return stopped;
  }

  /** Asks the loop to stop after the current iteration. */
  stop(): void {
    this._stopping = true;
    if (this._parked) this._unpark();
  }

  /** True from runForever()/runUntilComplete() until it stops. */
  isRunning(): boolean {
    return this._running;
  }

  /** True after close(): the loop accepts no more work. */
  isClosed(): boolean {
    return this._closed;
  }

  /**
   * Closes the loop: drops what is still scheduled and reports failures nobody
   * retrieved, and each task still pending ("Task was destroyed but it is
   * pending", with what it waits on: it never finishes, and its finally
   * blocks never run; asyncio reports it when the task is collected). A
   * closed loop accepts no more callbacks.
   */
  close(): void {
    if (this._running)
      throw new Error("Cannot close a running event loop: stop it first (loop.stop()).");
    if (this._closed) return;
    if (this._debug) lintPendingAtClose(this, this._liveTasks());
    if (this._linter !== null) stopTimingHostRuns(this._linter);
    // Before the queues are emptied: the report says where each task stood.
    reportPending(this, "its loop was closed");
    for (const task of this._liveTasks()) {
      task._abandon();
      abandonThens(task);
    }
    this._closed = true;
    this._ready.clear();
    this._scheduled.clear();
    this._timerHandles = 0;
    this._parkCleanup();
    if (this._hostWaits !== null) for (const wait of [...this._hostWaits]) wait.stop();
    this._reportAllUnretrieved();
    // A subscriber may have come since the loop last ran: look again (a close is rare).
    checkObservers();
    if (observed) publish("loop.closed", { loop: this });
  }

  /**
   * Sets the function that receives errors nobody caught (null: the default
   * handler): a callback's (a throw, or an async callback's rejection), a
   * failed task's or future's nobody retrieved. An error in the handler
   * itself goes to the default handler, with the context it was given.
   */
  setExceptionHandler(handler: ExceptionHandler | null): void {
    checkFunctionOrNull(
      "loop.setExceptionHandler()",
      "handler",
      handler,
      "pass (loop, context) => void, or null for the default handler",
    );
    this._exceptionHandler = handler;
  }

  /** The handler set with setExceptionHandler(), or null for the default. */
  getExceptionHandler(): ExceptionHandler | null {
    return this._exceptionHandler;
  }

  /** Logs the error with console.error, as asyncio logs it. */
  defaultExceptionHandler(context: ExceptionContext): void {
    console.error(formatContext(context).join("\n"));
  }

  /** Passes `context` to the exception handler; an error in the handler itself is logged, never thrown. */
  callExceptionHandler(context: ExceptionContext): void {
    if (typeof context !== "object" || context === null) {
      throw argTypeError(
        "loop.callExceptionHandler()",
        "context",
        context,
        "an object",
        'pass what happened, e.g. { message: "cache refresh failed", exception: error }',
      );
    }
    if (this._debug && context.sourceTraceback === undefined) context = withSource(context);
    const handler = this._exceptionHandler;
    if (handler === null) {
      callDefaultHandler(this, context, "Exception in default exception handler");
      return;
    }
    const failed = (error: unknown): void =>
      callDefaultHandler(
        this,
        { message: "Unhandled error in exception handler", exception: error, context },
        "Exception in default exception handler while handling an unexpected error in custom exception handler",
      );
    try {
      const result: unknown = handler(this, context);
      // An async handler fails in its promise: that is the handler failing too.
      if (result instanceof Promise) result.then(undefined, failed);
    } catch (error) {
      failed(error);
    }
  }

  /** True in debug mode. */
  getDebug(): boolean {
    return this._debug;
  }

  /**
   * Debug mode reports lints through the exception handler (see
   * docs/observability.md): every callback or task step that runs
   * `slowCallbackDuration` ms or longer, a task ready for more than 100 iterations without running, a task
   * that polls (woken 1,000 times in a row with nothing to wait for), the
   * futures tasks still wait on when the loop closes, and 1,000 (then 10,000
   * …) GeneratorObjects begun on the loop and not done.
   */
  setDebug(enabled: boolean): void {
    if (typeof enabled !== "boolean") {
      throw argTypeError("loop.setDebug()", "enabled", enabled, "a boolean", "pass true or false");
    }
    this._debug = enabled;
  }

  /**
   * How long (ms of real time) a callback or task step may run before debug
   * mode reports it as slow: default `SLOW_STEP_MS` (100), as asyncio's
   * `slow_callback_duration`.
   */
  get slowCallbackDuration(): number {
    return this._slowCallbackDuration;
  }

  set slowCallbackDuration(ms: number) {
    checkNonNegative(
      "loop.slowCallbackDuration",
      "ms",
      ms,
      "set it to a duration in milliseconds, such as 100",
    );
    this._slowCallbackDuration = ms;
  }

  toString(): string {
    const state = this._closed ? "closed" : this._running ? "running" : "idle";
    return `<${classNameOf(this)} ${state} ready=${this._ready.length} timers=${this._scheduled.length}>`;
  }

  /**
   * The live tasks as a text tree: each with its state and what it waits on,
   * under the task that created it (see {@link formatTaskTree}).
   *
   * @example
   * ```ts
   * import { createTask, getRunningLoop, sleep, VirtualEventLoop } from "asynkit";
   * new VirtualEventLoop().runSync(function* () {
   *   createTask(sleep(5), { name: "sleeper" });
   *   console.log(getRunningLoop().dumpTasks());
   *   // Task "Task-1" running
   *   // └── Task "sleeper" ready at position 0
   * }());
   * ```
   */
  dumpTasks(): string {
    return taskTree(this);
  }

  /** @internal Tasks not yet done, oldest first. */
  _liveTasks(): Task<unknown>[] {
    const tasks: Task<unknown>[] = [];
    for (let task = this._lastTask; task !== null; task = task._previousLive) tasks.push(task);
    return tasks.reverse();
  }

  /** @internal A task of this loop was given a new name (an exploring loop counts names). */
  _taskRenamed(): void {}

  /** @internal */
  _addLiveTask(task: Task<unknown>): void {
    const last = this._lastTask;
    task._previousLive = last;
    if (last !== null) last._nextLive = task;
    this._lastTask = task;
    if (this._debug) noteCreation(task); // here, not in Task's constructor, which V8 inlines only while small
  }

  /** @internal */
  _removeLiveTask(task: Task<unknown>): void {
    const previous = task._previousLive;
    const next = task._nextLive;
    if (previous !== null) previous._nextLive = next;
    if (next !== null) next._previousLive = previous;
    else if (this._lastTask === task) this._lastTask = previous;
    task._previousLive = task._nextLive = null;
  }

  /** @internal A timer was cancelled: drop cancelled timers once they are most of the queue. */
  _timerHandleCancelled(timer: Timer): void {
    if (!timer._scheduled) return;
    this._cancelledTimers++;
    const timers = this._scheduled;
    if (this._cancelledTimers > 100 && this._cancelledTimers * 2 > timers.length) {
      timers.filter((t) => {
        if (t._callback === null) t._scheduled = false;
        return t._callback !== null;
      });
      this._cancelledTimers = 0;
    }
  }

  /** @internal Reports every failure nobody retrieved yet (the loop closes, or the process exits). */
  _reportAllUnretrieved(): void {
    for (const report of [...this._unretrieved]) this._reportUnretrieved(report);
  }

  /** @internal Reports a failure nobody retrieved, once. */
  _reportUnretrieved(report: Unretrieved): void {
    if (!forget(report)) return;
    const context: ExceptionContext = { message: report.message, exception: report.exception };
    const future = unretrievedFuture(report);
    if (future !== undefined) context.future = future;
    else if (report.described !== undefined) {
      context.collected = report.described;
      if (report.madeAt !== undefined) context.sourceTraceback = report.madeAt;
    }
    // A failed task's is reported in its context, as asyncio's since 3.12 (gh-96704): the live
    // task's, which has its last step's writes (taken as that step ends), else the one it failed in.
    const taskContext = (future as { _context?: Context } | undefined)?._context ?? report.context;
    if (taskContext === undefined) {
      this.callExceptionHandler(context);
      return;
    }
    const outer = swapContext(taskContext);
    try {
      this.callExceptionHandler(context);
    } finally {
      swapContext(outer);
    }
  }

  /**
   * @internal True when no timer is left that could wake the loop for the
   * program: as the process exits, a loop idle so is stuck (see deadlock.ts).
   */
  _noTimerLeft(): boolean {
    return this._nextTimer() === undefined;
  }

  /**
   * @internal When the soonest live timer is due, or undefined when none will
   * fire: there is none, or only timers at Infinity (`sleep(Infinity)`), which
   * never do, so that no loop waits for them (a host timer, a virtual clock's
   * jump) and a run waiting on them is told of the deadlock.
   */
  _nextTimer(): number | undefined {
    const timers = this._scheduled;
    for (;;) {
      const top = timers.peek();
      if (top === undefined) return undefined;
      if (top._callback !== null)
        return top._when === Number.POSITIVE_INFINITY ? undefined : top._when;
      timers.pop();
      top._scheduled = false;
      this._cancelledTimers--;
    }
  }

  /**
   * @internal Calls `fn` on `thisArg` inside the AsyncLocalStorage context
   * `scope`, which stays the loop's current one until it returns.
   */
  _runInScope<This>(
    scope: AsyncScope,
    fn: (this: This, arg: unknown) => void,
    thisArg: This,
    arg: unknown,
  ): void {
    const outer = this._asyncScope;
    this._asyncScope = this._homeScope = scope;
    try {
      scope.runInAsyncScope(fn, thisArg, arg);
    } finally {
      this._asyncScope = outer;
    }
  }

  /**
   * @internal Runs iterations until the loop is asked to stop, nothing is
   * ready, or the clock passes `deadline`. Each iteration moves due timers to
   * the ready queue, then runs what was ready when it began; the deadline can
   * cut an iteration short, and the next call finishes it before anything else.
   * They run in the context the last step entered, so a task that runs alone
   * enters its AsyncLocalStorage context once per slice.
   */
  _spin(): Spin {
    const home = this._homeScope;
    if (home === undefined || home === this._asyncScope) return this._iterate();
    const outer = this._asyncScope;
    this._asyncScope = home;
    try {
      return home.runInAsyncScope(this._iterate, this);
    } finally {
      this._asyncScope = outer;
    }
  }

  private _iterate(): Spin {
    const ready = this._ready;
    const deadline = this._sliceDeadline;
    let lastCheck = this._sliceStart;
    let interval = 1;
    let countdown = 1;
    if (this._keptCountdown !== 0) {
      countdown = this._keptCountdown;
      interval = this._keptInterval;
      lastCheck = this._keptLastCheck;
      this._keptCountdown = 0;
    }
    let left = this._iterationLeft;
    let open = this._iterationOpen;
    this._iterationLeft = 0;
    this._iterationOpen = false;
    for (;;) {
      let iterationStart = false;
      if (left === 0 && !open) {
        if (
          this._scheduled.length > 0 &&
          this._collectDueTimers(ready.length === 0) >= MAX_CHECK_INTERVAL
        ) {
          lastCheck = now(); // many timers took their time: not the handles' (see _nextCheckInterval)
        }
        left = ready.length;
        iterationStart = true;
      }
      open = false;
      if (this._debug || observed) {
        left = this._runWatched(left, deadline, iterationStart);
        if (this._handover !== null) {
          this._iterationLeft = left;
          this._iterationOpen = true;
          return HANDED_OVER;
        }
        // Out of time after the iteration's last entry too: a task that requeues itself
        // alone would otherwise start iteration after iteration, and never let the host in.
        if (left > 0 || this._sliceSpent) {
          if (left === 0 && this._stopping) return STOPPED;
          this._iterationLeft = left;
          return OUT_OF_TIME;
        }
      }
      while (left > 0) {
        left--;
        const handle = ready.shift();
        if (handle === undefined) {
          left = 0;
          break;
        }
        handle._run();
        if (this._handover !== null) {
          this._iterationLeft = left;
          this._iterationOpen = true;
          this._keptLastCheck = lastCheck;
          this._handOverMidSlice(countdown, interval, handle);
          return HANDED_OVER;
        }
        if (--countdown === 0) {
          const time = now();
          const remaining = deadline - time;
          const next = this._nextCheckInterval(interval, time - lastCheck, remaining, time, handle);
          if (remaining < 0) {
            // A stop() asked for in this iteration takes effect once the iteration is done.
            if (left === 0 && this._stopping) return STOPPED;
            this._iterationLeft = left;
            return OUT_OF_TIME;
          }
          interval = countdown = next;
          lastCheck = time;
        }
      }
      if (this._stopping) return STOPPED;
      if (ready.length === 0) {
        const next = this._nextTimer();
        if (next === undefined || next > this.time()) return IDLE;
      }
    }
  }

  /**
   * A native step took the host in the middle of a slice (see native.ts):
   * the drive that resumes the slice goes on reading the clock where this one
   * left off. The handle counts once the step ends (see _resumeDrive).
   */
  private _handOverMidSlice(countdown: number, interval: number, handle: object): void {
    this._keptCountdown = countdown;
    this._keptInterval = interval;
    this._handedOver = handle;
  }

  /**
   * The native step that took the host ended, and its handle's read of the
   * clock is due (see _resumeDrive): a slice of native steps alone ends by
   * its deadline too, and a heavy step is found as a generator task's is. A
   * watched slice (which keeps no countdown) reads the clock after every handle.
   */
  private _readAfterHandOver(handle: object, watched: boolean): void {
    const time = now();
    const deadline = this._sliceDeadline;
    this._sliceSpent = time > deadline;
    if (watched) return;
    this._keptCountdown = this._keptInterval = this._nextCheckInterval(
      this._keptInterval,
      time - this._keptLastCheck,
      deadline - time,
      time,
      handle,
    );
    this._keptLastCheck = time;
  }

  /** @internal Runs the loop on the host for one time slice, then arranges what comes next. */
  _drive = (): void => {
    this._driveQueued = false;
    this._keptCountdown = 0;
    this._sliceSpent = false;
    if (this._heavySlices > 0) this._heavySlices--;
    checkObservers(); // once a slice: a native step's hand-over resumes the slice it took
    const start = now();
    if (this._driveAfterHostTurn) {
      this._driveAfterHostTurn = false;
      this._hostTurnAt = start;
    }
    this._sliceStart = start;
    this._sliceDeadline = start + SLICE_MS;
    this._runSlice();
  };

  /** @internal A native step ended: go on with the time slice it interrupted, or give the host its turn. */
  _resumeDrive(): void {
    // The handle that handed over counts now: its function's code ran in the microtasks.
    const handedOver = this._handedOver;
    if (handedOver !== null) {
      this._handedOver = null;
      const watched = this._keptCountdown === 0;
      if (watched || --this._keptCountdown === 0) this._readAfterHandOver(handedOver, watched);
    }
    if (this._parked) this._unpark();
    else if (this._driveQueued) return;
    else if (this._sliceSpent) this._queueDrive(true);
    else this._runSlice();
  }

  /** Runs the loop until the slice's deadline (see _drive), or until it is idle or hands over. */
  private _runSlice(): void {
    if (!this._running || !mayRunSlice(this)) return;
    const previous = setRunningLoop(this);
    let end: Spin;
    try {
      for (;;) {
        end = this._spin();
        if (end !== IDLE || !this._idle(this._nextTimer())) break;
      }
    } finally {
      setRunningLoop(previous);
    }
    if (end === HANDED_OVER) handOver(this);
    else {
      // Between two steps: the last wait's future is no one's to find (see forgetLastWait).
      forgetLastWait();
      if (end === STOPPED) this._finishRun();
      else if (end === OUT_OF_TIME) this._queueDrive(true);
      else this._parked = true;
    }
  }

  /**
   * @internal A native task's step awaited something the loop did not make (a
   * host promise): from here on its continuation is not ordered by the loop.
   * The virtual loop reports it; debug mode says what it means once.
   */
  _hostAwait(task: Task<unknown>, step: number): void {
    this._linter?.hostAwait(task, step);
  }

  /**
   * @internal A native task's function went on past the await the loop took
   * for its own (it awaited a Promise.race() of asynkit awaitables, whose
   * winner was another): its continuation was not ordered by the loop. The
   * virtual loop reports it, or gives the error to fail the task with.
   */
  _ranPastAwait(_task: Task<unknown>, _step: number): Error | null {
    return null;
  }

  /**
   * @internal `op` was awaited by code outside the loop's tasks (see
   * outsideTasks): it runs as a task of its own, started when the host says.
   * The virtual loop reports it.
   */
  _awaitedOutsideTasks(_op: object): void {}

  /** @internal Called when the loop stops: releases host resources and settles runForever(). */
  _finishRun(): void {
    this._running = false;
    loopStopped(this);
    unwatchForDeadlock(this);
    this._stopping = false;
    this._parked = false;
    this._parkCleanup();
    const resolve = this._onStopped;
    this._onStopped = null;
    resolve?.();
  }

  /** @internal Releases whatever the loop holds on the host while parked (a host timer). */
  _parkCleanup(): void {}

  /** @internal Queues a drive on the host: a macrotask after a time slice (so I/O runs), else a microtask. */
  _queueDrive(macrotask = false): void {
    if (this._driveQueued) return;
    this._driveQueued = true;
    this._parked = false;
    // Woken from microtasks again and again (tasks awaiting promises already settled),
    // the loop would begin slice after slice and the host never get its turn: once a
    // slice's time has passed since a drive last began in a macrotask, the next waits for one.
    if (macrotask || now() - this._hostTurnAt >= SLICE_MS) {
      this._driveAfterHostTurn = true;
      yieldToHost(this._drive);
    } else inMicrotask(this._drive); // not queueMicrotask(), which fake timers may replace (see util/host.ts)
  }

  /** @internal Throws the error for a loop that cannot start now. */
  _checkRunnable(what: string): void {
    this._checkClosed();
    if (this._running) {
      throw new Error(
        `${what}(): this event loop is already running. Inside one of its tasks, wait for the work instead: yield* it in a coroutine, await it in an async function.`,
      );
    }
    if (loopInThisStack() !== null) {
      throw new Error(
        `${what}(): cannot run an event loop while another loop is running in this stack; inside the running loop's tasks, yield* or await the work instead.`,
      );
    }
  }

  /** @internal */
  _checkClosed(): void {
    if (this._closed)
      throw new Error(
        "This event loop is closed: create a new one (or use run()) to schedule work.",
      );
  }

  /**
   * @internal Moves the timers that are due to the end of the ready queue.
   * When nothing else is ready (`idle`) and no TimerHandle is scheduled, so
   * that every due timer is a sleep's, the iteration would run their timers
   * alone, and no code of the program with them: each fires here instead,
   * queuing its task where running it would have, so that a timer is read
   * once rather than twice, far apart. Debug mode and observers, which see
   * each timer as a callback, keep that iteration, and so does a queue that
   * orders its entries (a priority loop's), where a task a timer wakes may
   * come before the next timer. Returns how many it took.
   */
  _collectDueTimers(idle = false): number {
    const timers = this._scheduled;
    const ready = this._ready;
    const time = this.time();
    const fireHere =
      idle && this._timerHandles === 0 && this._readyInArrivalOrder && !this._debug && !observed;
    let collected = 0;
    for (; ; collected++) {
      const top = timers.popDue(time);
      if (top === undefined) return collected;
      top._scheduled = false;
      if (top._callback === null) this._cancelledTimers--;
      else if (fireHere) top._run();
      else {
        if (top instanceof TimerHandle) this._timerHandles--;
        ready.push(top);
        if (observed) publish("timer.fired", { loop: this, when: top._when });
      }
    }
  }

  /**
   * Handles to run before the next read of the clock, read at `time` after
   * `interval` handles took `elapsed` ms. The pace alone cannot see a heavy
   * step coming after cheap ones: a stretch that took far longer than a slice
   * shows the program has such steps, and for a while each handle gets a read.
   */
  private _nextCheckInterval(
    interval: number,
    elapsed: number,
    remaining: number,
    time: number,
    last: object,
  ): number {
    if (this._heavySlices > 0 || time < this._heavyUntil) {
      if (elapsed >= HEAVY_STEP_MS) this._holdHeavy(time, last);
      return 1;
    }
    // A single handle read on its own (the first of a slice) held the host by itself, not hidden.
    if (elapsed > HEAVY_STRETCH_MS && interval > 1) {
      this._heavySlices = FIRST_HEAVY_SLICES;
      return 1;
    }
    return pacedCheckInterval(interval, elapsed, remaining);
  }

  /** `entry` took HEAVY_STEP_MS or more on its own: reads after every handle go on (see HEAVY_HOLD_MS). */
  private _holdHeavy(time: number, entry: object): void {
    const seen = (this._heavyEntries ??= new WeakSet());
    if (seen.has(entry)) this._heavyUntil = time + HEAVY_HOLD_MS;
    else seen.add(entry);
    this._heavySlices = FIRST_HEAVY_SLICES;
  }

  /**
   * Runs up to `n` handles one by one, watched: in debug mode with its lints
   * (see lints.ts: slow steps, and at an iteration's start, starved tasks),
   * and while someone listens with the asynkit:callback.* events. Returns how
   * many are left when the deadline passed.
   */
  private _runWatched(n: number, deadline: number, iterationStart: boolean): number {
    const ready = this._ready;
    const linter = this._debug ? (this._linter ??= new Linter(this)) : null;
    if (iterationStart) linter?.iterationStarted(ready);
    while (n > 0) {
      n--;
      const handle = ready.shift();
      if (handle === undefined) return 0;
      const resumedAfter = linter === null ? null : linter.before(handle);
      const start = now();
      if (observed) runPublished(this, handle);
      else handle._run();
      const end = now();
      linter?.after(handle, end - start, resumedAfter);
      if (this._handover !== null) {
        this._handedOver = handle; // its time counts when the native step ends
        return n;
      }
      if (end > deadline) {
        this._sliceSpent = true;
        return n;
      }
    }
    return 0;
  }
}

inspectAsString(BaseEventLoop);

/**
 * Handles to run before the next read of the clock, after `interval` took
 * `elapsed` ms with `remaining` ms left of the slice: double them, unless the
 * pace just seen would overrun the slice.
 */
function pacedCheckInterval(interval: number, elapsed: number, remaining: number): number {
  const next = interval < MAX_CHECK_INTERVAL ? interval * 2 : MAX_CHECK_INTERVAL;
  if (elapsed * next <= remaining * interval) return next;
  return Math.max(1, Math.floor((remaining * interval) / elapsed));
}

/**
 * Runs a ready entry while someone listens: one that is not a task's step (a
 * timer's or a callSoon() callback, a sleep's deadline) is published as a
 * callback, so that a trace can draw the wakeups it makes from it.
 */
function runPublished(loop: BaseEventLoop, entry: Handle | ReadyEntry): void {
  const timer = entry as Partial<Timer>;
  if (taskOfEntry(entry) !== null || timer._callback === null) {
    entry._run(); // a task's step publishes its own events; a cancelled entry does nothing
    return;
  }
  // A ready entry that is a future is a sleep's own timer (see sleep.ts).
  const name =
    entry instanceof Future
      ? String(entry._label())
      : (entry as Handle)._callback?.name || "(anonymous)";
  const when =
    entry instanceof TimerHandle || entry instanceof Future ? (timer._when as number) : null;
  publish("callback.start", { loop, name, when });
  try {
    entry._run();
  } finally {
    publish("callback.end", { loop });
  }
}

/**
 * The default handler, which a subclass may override: an error in it is
 * logged, as asyncio logs it, and the loop goes on.
 */
function callDefaultHandler(loop: BaseEventLoop, context: ExceptionContext, failure: string): void {
  try {
    loop.defaultExceptionHandler(context);
  } catch (error) {
    console.error(failure, error);
  }
}

/**
 * Debug mode: `context` with where its callback, future or task was made, if
 * debug mode saw it made (asyncio's source_traceback).
 */
function withSource(context: ExceptionContext): ExceptionContext {
  const frames = creationFrames(context.handle ?? context.future ?? context.task);
  return frames.length === 0 ? context : { ...context, sourceTraceback: frames };
}

/**
 * The default handler's lines for `context`: its message, its other keys, then
 * the exception's stack. A context given as the `context` of another (the one
 * an exception handler failed on) is shown whole, indented, so that the error
 * the handler was given is not lost behind the handler's own.
 */
function formatContext(context: ExceptionContext): string[] {
  const lines = [context.message || "Unhandled exception in event loop"];
  for (const [key, value] of Object.entries(context)) {
    // A field given as undefined is a field left out (see getting-started.md).
    if (key === "message" || key === "exception" || value === undefined) continue;
    if (key === "sourceTraceback" && Array.isArray(value)) {
      lines.push("created at:", ...value.map((frame) => `    ${String(frame)}`));
    } else if (key === "context" && isExceptionContext(value)) {
      lines.push("context:", ...formatContext(value).map((line) => `  ${line}`));
    } else lines.push(`${key}: ${String(value)}`);
  }
  const error = context.exception;
  if (error !== undefined) lines.push(describeException(error));
  return lines;
}

/** Node's util.inspect(), where the host has it. */
const inspect = builtinModule<{ inspect(value: unknown): string }>("node:util")?.inspect;

/**
 * An exception as the default handler prints it: as Node prints one, with its
 * cause and, for an AggregateError (a task group's), the errors it carries;
 * where the host has no util.inspect(), its stack and theirs.
 */
function describeException(error: unknown, depth = 0): string {
  if (typeof error !== "object" || error === null) return String(error); // a thrown string as it is
  if (inspect !== undefined) return inspect(error);
  if (!(error instanceof Error)) return shortRepr(error);
  const lines = [error.stack ?? String(error)];
  if (depth < 4) {
    // A few levels down, as Node's inspect() goes: an error may be its own cause.
    if (error.cause !== undefined)
      lines.push(`[cause]: ${describeException(error.cause, depth + 1)}`);
    if (error instanceof AggregateError) {
      for (const inner of error.errors)
        lines.push(`[errors]: ${describeException(inner, depth + 1)}`);
    }
  }
  return lines.join("\n");
}

function isExceptionContext(x: unknown): x is ExceptionContext {
  return (
    typeof x === "object" && x !== null && typeof (x as { message?: unknown }).message === "string"
  );
}
