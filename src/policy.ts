/**
 * Event loop policies and run(): which loop getEventLoop() returns, and how a
 * program is run from native code, as asyncio's policies and asyncio.run.
 */
import { cancelOnAbort, checkSignal } from "./abort.js";
import {
  type Awaitable,
  type Coro,
  isAwaitable,
  isCoroutine,
  isGeneratorFunction,
  isPromiseLike,
} from "./coro.js";
import { pendingReported } from "./deadlock.js";
import { DeadlockError } from "./errors.js";
import { loopInThisStack, setDefaultLoopProvider } from "./events.js";
import { FAILED, type Future } from "./futures.js";
import type { BaseEventLoop } from "./loops/base.js";
import { HostEventLoop } from "./loops/host.js";
import { readMainResult } from "./mainresult.js";
import { ensureFuture, type Task, type TaskBody } from "./tasks.js";
import {
  describeWait,
  reportUnreachedLater,
  taskLabel,
  UNREACHED_AFTER_MS,
  whyStillRunning,
} from "./tasktree.js";
import {
  argTypeError,
  checkBooleanOption,
  checkFunction,
  checkOptions,
  isEventLoop,
  notAwaitable,
  type OptionNames,
  rejectingThrows,
} from "./validate.js";

/** Decides which event loop code gets when none is running. */
export interface EventLoopPolicy {
  /** The loop for code that runs outside any loop (created on first use). */
  getEventLoop(): BaseEventLoop;
  /** Makes `loop` the one getEventLoop() returns when none runs (null: make a new one on next use). */
  setEventLoop(loop: BaseEventLoop | null): void;
  /** A new loop of the policy's kind. */
  newEventLoop(): BaseEventLoop;
}

/**
 * The default policy: its loops are HostEventLoops.
 *
 * @example
 * ```ts
 * import { DefaultEventLoopPolicy, setEventLoopPolicy } from "asynkit";
 * setEventLoopPolicy(new DefaultEventLoopPolicy());
 * ```
 */
export class DefaultEventLoopPolicy implements EventLoopPolicy {
  private _loop: BaseEventLoop | null = null;

  getEventLoop(): BaseEventLoop {
    if (this._loop === null) this._loop = this.newEventLoop();
    return this._loop;
  }

  /** Makes `loop` the one getEventLoop() returns when none runs (null: make a new one on next use). */
  setEventLoop(loop: BaseEventLoop | null): void {
    if (loop !== null && !isEventLoop(loop)) {
      throw argTypeError(
        "policy.setEventLoop()",
        "loop",
        loop,
        "an asynkit event loop or null",
        "pass a loop such as new HostEventLoop(), or null for a new one on the next getEventLoop()",
      );
    }
    this._loop = loop;
  }

  newEventLoop(): BaseEventLoop {
    return new HostEventLoop();
  }
}

let policy: EventLoopPolicy | null = null;

/**
 * The policy in force (a DefaultEventLoopPolicy unless one was set).
 *
 * @example
 * ```ts
 * import { getEventLoopPolicy } from "asynkit";
 * const loop = getEventLoopPolicy().newEventLoop();
 * ```
 */
export function getEventLoopPolicy(): EventLoopPolicy {
  if (policy === null) policy = new DefaultEventLoopPolicy();
  return policy;
}

/**
 * Installs `newPolicy`; null goes back to the default.
 *
 * @example
 * ```ts
 * import { setEventLoopPolicy, DefaultEventLoopPolicy } from "asynkit";
 * setEventLoopPolicy(new DefaultEventLoopPolicy());
 * setEventLoopPolicy(null);
 * ```
 */
export function setEventLoopPolicy(newPolicy: EventLoopPolicy | null): void {
  checkPolicy("setEventLoopPolicy()", newPolicy);
  policy = newPolicy;
}

/** @internal Throws a TypeError unless `policy` is an EventLoopPolicy (or null). */
export function checkPolicy(where: string, policy: unknown): void {
  if (
    policy !== null &&
    (typeof policy !== "object" ||
      typeof (policy as Partial<EventLoopPolicy>).newEventLoop !== "function")
  ) {
    throw argTypeError(
      where,
      "policy",
      policy,
      "an EventLoopPolicy or null",
      "pass new DefaultEventLoopPolicy(), new SchedulingEventLoopPolicy(), or null for the default",
    );
  }
}

setDefaultLoopProvider(() => getEventLoopPolicy().getEventLoop());

/** Options for run(). */
export interface RunOptions {
  /**
   * Makes the loop to run on (default: the policy's newEventLoop()): a new one, since
   * run() closes it at the end. A loop that is running or closed is refused at the call.
   */
  loopFactory?: (() => BaseEventLoop) | undefined;
  /** Turns on the loop's debug mode. */
  debug?: boolean | undefined;
  /**
   * Cancels main when this signal aborts; the CancelledError carries the signal's reason.
   * A task the cancellation cannot reach yet (a native task blocked on a host promise)
   * is reported a second (real time) after the abort, through the exception handler.
   */
  signal?: AbortSignal | undefined;
  /**
   * Makes AsyncLocalStorage follow the loop's tasks and callbacks (see the
   * loops' option of the same name; default: the loop's own setting, off).
   */
  asyncLocalStorage?: boolean | undefined;
}

const RUN_OPTIONS: OptionNames<RunOptions> = {
  loopFactory: true,
  debug: true,
  signal: true,
  asyncLocalStorage: true,
};

/**
 * Runs `main` on a new event loop and settles with its result, as asyncio.run.
 * When main is done, run() cancels the tasks still running ("run() is ending"), waits for them
 * (and so for the tasks made meanwhile, up to ten rounds), closes the GeneratorObjects left suspended (see loop.shutdownAsyncgens()),
 * and closes the loop. A task that catches its CancelledError and still runs
 * a second (loop time) later, or that waits that long on a host promise
 * which ignores its taskSignal(), is named through the loop's exception
 * handler, and waited for (a virtual clock that has no timer of the program's
 * left waits with the host, and the report comes after a second of real
 * time instead). The report holds nothing open: a task left on a
 * host promise the host can no longer settle makes run() fail with a
 * DeadlockError as the process is about to exit. `main` is a coroutine, a
 * function* to call, or an async function, which runs as the main task (a
 * native task). What run() refuses (a bad option, a loop running in this
 * stack) is the promise's rejection, there when the call returns. A main that returns a pending future, task or
 * operation of the loop (rather than `yield*` it) fails with InvalidStateError:
 * the promise would adopt it, and it could finish only on the closed loop.
 *
 * @example
 * ```ts
 * import { run, sleep } from "asynkit";
 * function* main() {
 *   yield* sleep(10);
 *   return "hello";
 * }
 * console.log(await run(main())); // "hello"
 * ```
 */
export function run<T>(main: Awaitable<T> | TaskBody<T>, options?: RunOptions): Promise<T> {
  return rejectingThrows(() => startRun(main, options));
}

/** run() itself: what it throws is run()'s rejection. */
function startRun<T>(
  main: Awaitable<T> | TaskBody<T>,
  options: RunOptions | undefined,
): Promise<T> {
  checkRunOptions(options);
  // A function* is called here; any other function is called by the main task, at its first step.
  const awaitable = isGeneratorFunction(main) ? (main() as Coro<T>) : main;
  if (loopInThisStack() !== null) {
    if (isCoroutine(awaitable)) awaitable.return(undefined as T);
    throw new Error(
      "run() cannot be called from a running event loop: inside a task, yield* the work (await it in an async function) or start it with createTask() instead.",
    );
  }
  if (!isAwaitable(awaitable) && !isPromiseLike(awaitable) && typeof awaitable !== "function") {
    throw notAwaitable(
      "run()",
      "main",
      awaitable,
      "a coroutine, or a function* or async function to call",
    );
  }
  const propagate = options?.asyncLocalStorage;
  checkBooleanOption("run()", "options.asyncLocalStorage", propagate);
  let loop: BaseEventLoop;
  try {
    loop = options?.loopFactory
      ? newRunLoop(options.loopFactory(), "options.loopFactory")
      : newRunLoop(getEventLoopPolicy().newEventLoop(), "the event loop policy's newEventLoop()");
  } catch (error) {
    if (isCoroutine(awaitable)) awaitable.return(undefined as T);
    throw error;
  }
  if (options?.debug !== undefined) loop.setDebug(options.debug);
  if (propagate !== undefined) loop._followAsyncContext(propagate);
  return runOn(loop, awaitable, options?.signal);
}

/**
 * The loop run() runs on, as `source` made it. run() closes the loop it ran
 * on, so a loop already running (another run's) or closed is refused before
 * anything touches it.
 */
function newRunLoop(loop: unknown, source: string): BaseEventLoop {
  if (!isEventLoop(loop)) {
    throw argTypeError(
      "run()",
      `the loop ${source} returned`,
      loop,
      "an asynkit event loop",
      "return a new loop, e.g. () => new VirtualEventLoop()",
    );
  }
  const made = loop as BaseEventLoop;
  if (made.isRunning() || made.isClosed()) {
    throw new Error(
      `run(): ${source} returned a loop that is ${made.isRunning() ? "running (another run's)" : "closed"}; run() runs on a loop of its own and closes it at the end: return a new loop, e.g. () => new VirtualEventLoop().`,
    );
  }
  return made;
}

function checkRunOptions(options: RunOptions | undefined): void {
  checkOptions("run()", options, "{ loopFactory, debug, signal }", RUN_OPTIONS);
  if (options === undefined) return;
  const { loopFactory, debug, signal } = options;
  if (loopFactory !== undefined) {
    checkFunction(
      "run()",
      "options.loopFactory",
      loopFactory,
      "pass a function that returns a new loop, e.g. () => new VirtualEventLoop()",
    );
  }
  checkBooleanOption("run()", "options.debug", debug);
  if (signal !== undefined) checkSignal("run()", "options.signal", signal);
}

async function runOn<T>(
  loop: BaseEventLoop,
  main: Awaitable<T> | TaskBody<T>,
  signal: AbortSignal | undefined,
): Promise<T> {
  const owner = getEventLoopPolicy();
  owner.setEventLoop(loop);
  let stopListening: (() => void) | null = null;
  let stopWatching = (): void => {};
  let outcome: { value: T } | { error: unknown };
  let mainDone = false;
  let namedByDeadlock: readonly Task<unknown>[] = [];
  try {
    const future = ensureFuture(main, { loop });
    if (signal !== undefined) {
      stopListening = cancelOnAbort(future, signal, () => {
        stopWatching = reportUnreachedLater(
          loop,
          `run(): its signal aborted ${UNREACHED_AFTER_MS} ms ago, and main still runs:`,
          "run() waits until main ends.",
        );
      });
    }
    // Wait for main without taking its result through a promise: a result that is itself a
    // Future (a thenable) would be adopted there, and wait for the cleanup below forever.
    await loop._runUntilComplete(allDone(loop, [future]), "run()");
    mainDone = true;
    // Take the outcome before the loop closes, so closing does not report it as unretrieved.
    try {
      outcome = readMainResult(loop, future.result(), "run()", "closed");
    } catch (error) {
      outcome = { error };
    }
  } catch (error) {
    outcome = { error }; // main never finished (a deadlock): that is what run() reports
    // It names the tasks: those it leaves pending (blocked on the host) go unreported at close.
    if (error instanceof DeadlockError) namedByDeadlock = error.tasks;
  }
  stopListening?.();
  stopWatching();
  try {
    await cancelAllTasks(loop, mainDone);
    if (loop._mustShutdownAsyncgens()) {
      const closing = loop.createTask(loop.shutdownAsyncgens(), { name: "shutdownAsyncgens" });
      await loop._runUntilComplete(closing, "run(), closing the generators left suspended");
      await cancelAllTasks(loop, mainDone); // the tasks their cleanup started
    }
  } catch (error) {
    // The leftovers' own deadlock is news only when main finished; else main's error says it.
    if (mainDone) {
      outcome = { error };
      if (error instanceof DeadlockError) namedByDeadlock = error.tasks;
    }
  } finally {
    owner.setEventLoop(null);
    pendingReported(loop, namedByDeadlock);
    loop.close();
  }
  if ("error" in outcome) throw outcome.error;
  return outcome.value;
}

/** The message of the cancellations run() sends the tasks left: a task's log says why it ended. */
const RUN_ENDING = "run() is ending";

/** How long (loop time) run() waits for the cancelled leftovers before it names the ones still running. */
const SHUTDOWN_GRACE_MS = 1000;

/**
 * How many times run() cancels the tasks left, for those made meanwhile (a
 * native function that ran on past its task's end awaits asynkit in a task
 * of its own): one that makes a task at every cancellation would keep run()
 * from ever ending, so after these the loop closes and reports what is left.
 */
const CANCEL_ROUNDS = 10;

/**
 * Cancels the loop's remaining tasks and waits for them, as asyncio's
 * _cancel_all_tasks, and again for the tasks made meanwhile; failures other
 * than cancellation are reported, and so are tasks that still run after a
 * grace period.
 */
async function cancelAllTasks(loop: BaseEventLoop, mainDone: boolean): Promise<void> {
  for (let round = 0; round < CANCEL_ROUNDS; round++) {
    const tasks = loop._liveTasks();
    if (tasks.length === 0) return;
    await cancelAndWait(loop, tasks, mainDone);
  }
}

async function cancelAndWait(loop: BaseEventLoop, tasks: Task[], mainDone: boolean): Promise<void> {
  const waitedOn = tasks.map((task) => task._futWaiter);
  for (const task of tasks) task.cancel(RUN_ENDING);
  const stopGrace = loop._reportAfter(SHUTDOWN_GRACE_MS, () => reportStillRunning(tasks, waitedOn));
  try {
    await loop._runUntilComplete(
      allDone(loop, tasks),
      mainDone
        ? "run(), main being done, waiting for the tasks it left (cancelled)"
        : "run(), waiting for the tasks it cancelled",
    );
  } finally {
    stopGrace();
  }
  for (const task of tasks) {
    if (task._state === FAILED) {
      loop.callExceptionHandler({
        message: "unhandled exception during run() shutdown",
        exception: task.exception(),
        task,
      });
    }
  }
}

/**
 * Names each cancelled task that still runs after it got its CancelledError,
 * or that cannot get it (blocked on a host promise that ignores its signal):
 * run() would otherwise wait for it in silence. One that still waits on what
 * it waited on when cancelled has not got its cancellation yet (it waits on a
 * task that is named instead).
 */
function reportStillRunning(tasks: Task[], waitedOn: (Future<unknown> | null)[]): void {
  tasks.forEach((task, i) => {
    if (
      task.done() ||
      (task._mustCancel && !task._blockedOnHost) ||
      (waitedOn[i] !== null && task._futWaiter === waitedOn[i])
    ) {
      return;
    }
    const waiting =
      task._futWaiter === null && !task._blockedOnHost
        ? "nothing (it is ready to run)"
        : describeWait(task);
    task.getLoop().callExceptionHandler({
      message:
        `${taskLabel(task)} was cancelled at run() shutdown but still runs ${SHUTDOWN_GRACE_MS} ms later, ` +
        `waiting on ${waiting}: ${whyStillRunning(task)}. run() waits until it ends${
          // A host promise the host has nothing left to settle: the process's exit is a deadlock.
          task._blockedOnHost
            ? ", or until the host has nothing left to run, when it fails with a DeadlockError"
            : ""
        }.`,
      task,
    });
  });
}

/** A future that is done once every one of `futures` is. */
function allDone(loop: BaseEventLoop, futures: Future<unknown>[]): Future<void> {
  const all = loop.createFuture<void>();
  let left = futures.length;
  const countDown = (): void => {
    if (--left === 0) all.setResult();
  };
  for (const future of futures) future._addCallback(countDown);
  return all;
}
