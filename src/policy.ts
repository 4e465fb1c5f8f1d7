/**
 * Event loop policies and run(): which loop getEventLoop() returns, and how a
 * program is run from native code, as asyncio's policies and asyncio.run.
 */
import { cancelOnAbort } from "./abort.js";
import { type Awaitable, type Coro, describe, isCoroutine, isPromiseLike } from "./coro.js";
import { peekRunningLoop, setDefaultLoopProvider } from "./events.js";
import { type Future, isFuture } from "./futures.js";
import type { BaseEventLoop } from "./loops/base.js";
import { HostEventLoop } from "./loops/host.js";
import { ensureFuture } from "./tasks.js";

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
  policy = newPolicy;
}

setDefaultLoopProvider(() => getEventLoopPolicy().getEventLoop());

/** Options for run(). */
export interface RunOptions {
  /** Makes the loop to run on (default: the policy's newEventLoop()). */
  loopFactory?: () => BaseEventLoop;
  /** Turns on the loop's debug mode. */
  debug?: boolean;
  /** Cancels main when this signal aborts; the CancelledError carries the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Runs `main` on a new event loop and settles with its result, as asyncio.run.
 * When main is done, run() cancels the tasks still running, waits for them,
 * and closes the loop. `main` is a coroutine, or a function* to call.
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
export function run<T>(main: Awaitable<T> | (() => Coro<T>), options?: RunOptions): Promise<T> {
  const awaitable = typeof main === "function" ? main() : main;
  if (peekRunningLoop() !== null) {
    if (isCoroutine(awaitable)) awaitable.return(undefined as T);
    throw new Error(
      "run() cannot be called from a running event loop: inside a coroutine, use yield* (or createTask) instead.",
    );
  }
  if (
    !isCoroutine(awaitable) &&
    !isFuture(awaitable) &&
    !isPromiseLike(awaitable) &&
    !(typeof awaitable === "object" && awaitable !== null && Symbol.iterator in awaitable)
  ) {
    throw new TypeError(
      `run() expects a coroutine (or a function* to call), got ${describe(awaitable)}.`,
    );
  }
  const loop = options?.loopFactory ? options.loopFactory() : getEventLoopPolicy().newEventLoop();
  if (options?.debug !== undefined) loop.setDebug(options.debug);
  return runOn(loop, awaitable, options?.signal);
}

async function runOn<T>(
  loop: BaseEventLoop,
  main: Awaitable<T>,
  signal: AbortSignal | undefined,
): Promise<T> {
  const owner = getEventLoopPolicy();
  owner.setEventLoop(loop);
  let stopListening: (() => void) | null = null;
  let outcome: { value: T } | { error: unknown };
  try {
    const future = ensureFuture(main, { loop });
    if (signal !== undefined) stopListening = cancelOnAbort(future, signal);
    // Wait for main without taking its result through a promise: a result that is itself a
    // Future (a thenable) would be adopted there, and wait for the cleanup below forever.
    await loop._runUntilComplete(allDone(loop, [future]), "run()");
    // Take the outcome before the loop closes, so closing does not report it as unretrieved.
    try {
      outcome = { value: future.result() };
    } catch (error) {
      outcome = { error };
    }
  } finally {
    stopListening?.();
    try {
      await cancelAllTasks(loop);
    } finally {
      owner.setEventLoop(null);
      loop.close();
    }
  }
  if ("error" in outcome) throw outcome.error;
  return outcome.value;
}

/** Cancels the loop's remaining tasks and waits for them; failures other than cancellation are reported. */
async function cancelAllTasks(loop: BaseEventLoop): Promise<void> {
  const tasks = loop._liveTasks();
  if (tasks.length === 0) return;
  for (const task of tasks) task.cancel();
  await loop._runUntilComplete(allDone(loop, tasks), "run()");
  for (const task of tasks) {
    if (task.cancelled()) continue;
    const exception = task.exception();
    if (exception !== undefined) {
      loop.callExceptionHandler({
        message: "unhandled exception during run() shutdown",
        exception,
        future: task,
      });
    }
  }
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
