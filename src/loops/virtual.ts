/**
 * VirtualEventLoop: an event loop on a virtual clock, for deterministic
 * programs and tests. Timers fire in order without waiting.
 */
import { checkObservers } from "../channels.js";
import { type Awaitable, type Coro, isGeneratorFunction, isLocalAsyncFunction } from "../coro.js";
import { deadlockError } from "../deadlock.js";
import { HostAwaitError } from "../errors.js";
import { anyTaskOnHost, setRunningLoop, type TimerHandle } from "../events.js";
import { type Future, forgetLastWait } from "../futures.js";
import { type Task, toFuture } from "../tasks.js";
import { beginSyncRun, endSyncRun } from "../unretrieved.js";
import { yieldToHost } from "../util/host.js";
import { hostDelay } from "../util/hostdelay.js";
import { argRangeError, argTypeError, checkOneOf, type OptionNames } from "../validate.js";
import { BaseEventLoop, type EventLoopOptions, STOPPED } from "./base.js";

const DEADLOCKED =
  "nothing is ready, no timer is pending, and it waits on nothing the host could deliver (a virtual loop waits only for the host work it knows of: a host timer or event that settles a future is known through fromPromise())";

/** Options of a VirtualEventLoop. */
export interface VirtualEventLoopOptions extends EventLoopOptions {
  /**
   * What happens when a native task awaits a promise the loop did not make
   * (fetch, a host timer), which makes the run nondeterministic: "report"
   * (the default) tells the exception handler; "error" fails the task, for
   * tests that must stay deterministic. Route such awaits through fromPromise().
   * The task's function runs on once the promise settles: while it does, an
   * asynkit await outside every task is reported too ("error": refused), for
   * it may be that function's, come back to run on whatever loop runs then.
   * Give such loops the asyncLocalStorage option, which keeps each task's
   * function on its own loop.
   *
   * @example
   * ```ts
   * import { VirtualEventLoop } from "asynkit";
   * const loop = new VirtualEventLoop({ hostAwaits: "error" });
   * loop.close();
   * ```
   */
  hostAwaits?: "report" | "error" | undefined;
}

/**
 * An event loop whose clock is virtual: when nothing is ready it jumps to the
 * next timer at once, so a program that sleeps for minutes finishes in
 * microseconds, always in the same order. `runSync` runs a program to
 * completion with no host at all.
 *
 * @example
 * ```ts
 * import { VirtualEventLoop, sleep } from "asynkit";
 * const loop = new VirtualEventLoop();
 * function* slow() { yield* sleep(60_000); return "a minute later"; }
 * console.log(loop.runSync(slow()), loop.time()); // "a minute later" 60000
 * ```
 */
export class VirtualEventLoop extends BaseEventLoop {
  /** @internal */
  static override readonly _optionNames: OptionNames<object> = {
    asyncLocalStorage: true,
    hostAwaits: true,
  } satisfies OptionNames<VirtualEventLoopOptions>;

  private _clock = 0;
  private readonly _failHostAwaits: boolean;
  /** True while a look at the idle loop after the host's microtasks is queued. */
  private _idleCheckQueued = false;
  /** The timer of the report _reportAfter() set, until it ran or was cancelled. */
  private _reportTimer: TimerHandle | null = null;
  /** What stops the report's wait in the host's time, while the clock waits with the host for it. */
  private _stopRealWait: (() => void) | null = null;

  constructor(options?: VirtualEventLoopOptions) {
    super(options);
    const hostAwaits = options?.hostAwaits;
    if (hostAwaits !== undefined) {
      checkOneOf(
        "new VirtualEventLoop()",
        "options.hostAwaits",
        hostAwaits,
        ["report", "error"],
        '"report" or "error"',
        'pass "error" to fail a native task that awaits a host promise, or leave it out',
      );
    }
    this._failHostAwaits = hostAwaits === "error";
  }

  /** The virtual clock, in milliseconds; it starts at 0. */
  time(): number {
    return this._clock;
  }

  /**
   * Moves the clock forward by `ms`; timers that fall due run at the loop's
   * next iteration.
   */
  advance(ms: number): void {
    if (typeof ms !== "number") {
      throw argTypeError(
        "loop.advance()",
        "ms",
        ms,
        "a number of milliseconds",
        "pass a number, such as 10",
      );
    }
    if (!(ms >= 0 && ms < Number.POSITIVE_INFINITY)) {
      throw argRangeError(
        "loop.advance()",
        "ms",
        ms,
        "a finite number of milliseconds >= 0",
        "the clock only moves forward, and never to Infinity",
      );
    }
    this._clock += ms;
  }

  /**
   * Runs `main` (a coroutine, a Future, or a function that returns a
   * coroutine, which its task calls, as run() does; not an async function)
   * to completion synchronously and returns its result (or throws its
   * error). Throws when the program would wait on something only the host
   * can deliver, or on something that never comes.
   */
  runSync<T>(main: Awaitable<T> | (() => Coro<T>)): T {
    return this._runSync(main, "runSync()");
  }

  /** @internal runSync() for `caller`, the public call its errors name. */
  _runSync<T>(main: Awaitable<T> | (() => Coro<T>), caller: string): T {
    this._checkRunnable("runSync");
    if (isGeneratorFunction(main)) main = main() as Coro<T>;
    else if (isLocalAsyncFunction(main)) {
      throw argTypeError(
        "loop.runSync()",
        "main",
        main,
        "a coroutine, a Future, or a function that returns a coroutine",
        "an async function's awaits resume in microtasks, which need the host: use `await loop.runUntilComplete(main)` or `await run(main)`",
      );
    }
    const future = toFuture("loop.runSync()", "main", main, this);
    const stop = (): void => this.stop();
    future._addCallback(stop);
    this._running = true;
    this._stopping = false;
    this._syncRun = true;
    const previous = setRunningLoop(this);
    checkObservers();
    beginSyncRun();
    this._sliceStart = 0;
    this._sliceDeadline = Number.POSITIVE_INFINITY;
    try {
      for (;;) {
        if (this._spin() === STOPPED) break;
        if (!this._idle(this._nextTimer())) throw this._stuck(future, caller);
      }
    } finally {
      endSyncRun();
      forgetLastWait();
      setRunningLoop(previous);
      this._syncRun = false;
      this._running = false;
      this._stopping = false;
      future.removeDoneCallback(stop);
    }
    if (!future.done()) {
      throw new Error(
        "runSync(): the loop was stopped before the program completed: let main finish instead of calling loop.stop().",
      );
    }
    return future.result();
  }

  /**
   * @internal Nothing is ready: jump the clock to the next timer, if there is
   * one. Without one, only the host can still wake the loop; if nothing is
   * pending there either, a run waiting now would wait forever: it stops with a
   * DeadlockError. With native tasks about, both wait for the host's next
   * macrotask: the loop may be idle inside a microtask, with native functions
   * still to run on in the microtasks after it (the other then() calls of a
   * Promise.all, whose sleeps must start before the clock moves).
   */
  _idle(nextTimer: number | undefined): boolean {
    if (this._nativeSteps === null || this._syncRun) return this._idleNow(nextTimer);
    if (!this._idleCheckQueued) {
      this._idleCheckQueued = true;
      yieldToHost(this._idleAfterMicrotasks);
    }
    return false;
  }

  /** Still parked once the microtasks have run: now the loop is idle. */
  private _idleAfterMicrotasks = (): void => {
    this._idleCheckQueued = false;
    if (this._parked && this._idleNow(this._nextTimer())) this._unpark();
  };

  /**
   * The clock jumps to `nextTimer`. With no timer that will fire (see
   * _nextTimer: a timer at Infinity never does) and nothing pending on the
   * host, a deadlock.
   */
  private _idleNow(nextTimer: number | undefined): boolean {
    if (nextTimer === undefined) {
      if (this._hostPending === 0) this._stopDeadlocked(DEADLOCKED);
      return this._stopping;
    }
    if (nextTimer > this._clock) {
      if (this._hostPending > 0 && this._onlyTheReportLeft()) {
        this._reportInRealTime();
        return this._stopping;
      }
      this._clock = nextTimer;
    }
    return true;
  }

  /**
   * @internal Calls `report` once `ms` of the clock's time has passed, as a
   * timer that moves the clock only as the program's own timers do: when it
   * is the last timer left and the host still has something to settle, the
   * clock waits with the host, and the report comes once `ms` of the host's
   * time has passed instead. Else run()'s shutdown, waiting for a task in
   * brief host I/O, would move the clock on by `ms` and name the task as one
   * that ran that long.
   */
  override _reportAfter(ms: number, report: () => void): () => void {
    const stop = (): void => {
      timer.cancel();
      this._stopRealWait?.();
      this._stopRealWait = null;
      if (this._reportTimer === timer) this._reportTimer = null;
    };
    const timer = this._callAt(
      this._clock + ms,
      () => {
        stop();
        report();
      },
      0,
      undefined,
      undefined,
      null,
    );
    this._reportTimer = timer;
    return stop;
  }

  /** @internal The report's timer, waiting in real time, wakes nothing the program waits for. */
  override _noTimerLeft(): boolean {
    return super._noTimerLeft() || this._onlyTheReportLeft();
  }

  /** True when the report's timer is the only live timer: the first, with none after it. */
  private _onlyTheReportLeft(): boolean {
    const timer = this._reportTimer;
    const timers = this._scheduled;
    if (timer === null || timers.peek() !== timer) return false;
    timers.pop();
    const alone = this._nextTimer() === undefined;
    timers.push(timer, timer._when, this._timerSeq++, Number.POSITIVE_INFINITY);
    return alone;
  }

  /** The clock waits with the host: the report's timer runs after its delay in the host's time. */
  private _reportInRealTime(): void {
    const timer = this._reportTimer as TimerHandle;
    this._stopRealWait ??= hostDelay(
      () => {
        this._stopRealWait = null;
        const fire = timer.callback; // null once the report ran or was stopped
        if (fire !== null) this._call(fire, 0, undefined, undefined, null);
      },
      timer._when - this._clock,
      false, // a report matters only while something else runs
    );
  }

  /**
   * @internal A native task awaited a host promise: the run is no longer
   * deterministic. Reported through the exception handler, or, with the
   * hostAwaits: "error" option, the task fails with the report.
   */
  override _hostAwait(task: Task<unknown>, step: number): void {
    const message = `${task} awaited a promise the loop did not make, in its step ${step}: its continuation is not ordered by the loop, so the run is no longer deterministic. That promise is the host's, or that of an async function the task called without await, whose first asynkit await the loop took for the task's. ${this._toOrderIt()}`;
    if (this._failHostAwaits) task._endThrown(new HostAwaitError(message));
    else {
      this.callExceptionHandler({ message, task });
      // Debug mode's timing of the code after it, on a loop whose tasks it runs as theirs.
      if (this._asyncLocalStorage) super._hostAwait(task, step);
    }
  }

  /** The tasks _ranPastAwait() reported: once each. */
  private _racedTasks: WeakSet<Task<unknown>> | null = null;

  /** @internal */
  override _ranPastAwait(task: Task<unknown>, step: number): Error | null {
    const message = `${task} went on past an await the loop did not resume, in its step ${step}: it awaited a Promise.race() or Promise.all() of asynkit awaitables, or called without await (void fn()) an async function that awaits asynkit, and the loop took that then() for the function's own await; the host settles what the function awaits, so its continuation is not ordered by the loop, and the run is no longer deterministic. ${this._toOrderIt()}`;
    if (this._failHostAwaits) return new HostAwaitError(message);
    const reported = (this._racedTasks ??= new WeakSet());
    if (!reported.has(task)) {
      reported.add(task);
      this.callExceptionHandler({ message, task });
    }
    return null;
  }

  /**
   * @internal Code outside the loop's tasks awaited `op`, which runs as a task
   * of its own, started at a moment the host chose: reported as a host await
   * is, or refused (the hostAwaits: "error" option).
   */
  override _awaitedOutsideTasks(op: object): void {
    // Code outside the tasks while no task's function is on the host: code the loop did not
    // start (a main given as a promise), whose awaits run as tasks of their own, as documented.
    if (!anyTaskOnHost()) return;
    // The function of a task of this loop past a host await may be what awaits: that was reported.
    if (this._tasksOnHost > 0) return;
    const what = op.toString === Object.prototype.toString ? "an asynkit operation" : String(op);
    const message = `${what} was awaited outside the loop's tasks while the function of a native task goes on past a host await, outside its loop's order (a task of another loop, perhaps closed, or one that ended): if the await is that function's, it runs as a task of this loop, started when the host says, and the run is no longer deterministic. Give the loops the asyncLocalStorage option, which keeps each task's function on its own loop; and start code of your own as a task, createTask(() => fn()).`;
    if (this._failHostAwaits) throw new HostAwaitError(message);
    this.callExceptionHandler({ message });
  }

  /** @internal What brings code that awaited a host promise back into the loop's order. */
  _toOrderIt(): string {
    return "Await what the loop makes instead: a task, not the promise of an async function (keep what createTask(fn) returns, and await it); asynkit's sleep(), not a host timer; gather(), wait() or asCompleted(), not Promise.all() or race(), whose then() calls are not the task's awaits; a Future (loop.createFuture()), an Event or a Semaphore, not a promise of your own that another task resolves. Host I/O is ordered when awaited through fromPromise(promise); an async function of yours that awaits asynkit is not host I/O: make it a task, createTask(() => fn()), rather than wrap its promise or call it without await (void fn()).";
  }

  /** @internal */
  _unpark(): void {
    this._queueDrive();
  }

  private _stuck(main: Future<unknown>, caller: string): Error {
    if (this._hostPending > 0) {
      return new Error(
        `${caller}: the program waits on ${this._hostPending} thing(s) only the host can deliver (native promises through fromPromise, AbortSignals). ` +
          "Use `await loop.runUntilComplete(main)` or `await run(main, { loopFactory: () => new VirtualEventLoop() })` instead.",
      );
    }
    return deadlockError(caller, main, this, "nothing is ready and no timer is pending");
  }
}
