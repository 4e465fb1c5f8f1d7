/**
 * The application loop: one event loop for the life of a server process.
 * Native code (an HTTP handler) submits coroutines to it and awaits their
 * tasks; shutdown() cancels what is left, waits a while, and closes it.
 */
import type { Context } from "./context.js";
import { type Coro, isAwaitable, isCoroutine, isGeneratorFunction, isPromiseLike } from "./coro.js";
import { pendingReported } from "./deadlock.js";
import type { TimerHandle } from "./events.js";
import type { BaseEventLoop } from "./loops/base.js";
import type { TaskPriority } from "./priority.js";
import { checkTaskOptions, PROMISE_RUNNING, type Task, type TaskBody } from "./tasks.js";
import {
  describeWait,
  reportUnreachedLater,
  taskLabel,
  UNREACHED_AFTER_MS,
  whyStillRunning,
} from "./tasktree.js";
import { yieldToHost } from "./util/host.js";
import { argTypeError, checkDelay, checkOptions, type OptionNames } from "./validate.js";

/** Options for `loop.submit()`. */
export interface SubmitOptions {
  /** The task's name, for messages and reports (default "Task-<n>"). */
  name?: string | undefined;
  /** Cancels the task when this signal aborts (a client that went away). */
  signal?: AbortSignal | undefined;
  /** The context the task runs in (default: a copy of the current one). */
  context?: Context | undefined;
  /** The task's priority, which a priority loop orders by (see TaskOptions.priority). */
  priority?: TaskPriority | undefined;
}

const SUBMIT_OPTIONS: OptionNames<SubmitOptions> = {
  name: true,
  signal: true,
  context: true,
  priority: true,
};

/** Options for `loop.shutdown()`. */
export interface ShutdownOptions {
  /** How long (ms, on the loop's clock) cancelled tasks get to finish; default: no limit. */
  timeout?: number | undefined;
}

const SHUTDOWN_OPTIONS: OptionNames<ShutdownOptions> = { timeout: true };

/** @internal loop.submit(). */
export function submitTo<T>(
  loop: BaseEventLoop,
  main: TaskBody<T>,
  options: SubmitOptions | undefined,
): Task<T> {
  loop._checkClosed();
  if (loop._shutdown !== null) {
    throw new Error(
      "loop.submit(): the loop is shutting down and takes no new work: submit before calling shutdown().",
    );
  }
  checkTaskOptions("loop.submit()", options, SUBMIT_OPTIONS);
  // A function* is called here; any other function runs as a native task, called at its first step.
  const coro = isGeneratorFunction(main) ? (main() as Coro<T>) : main;
  if (!isCoroutine(coro) && typeof coro !== "function") {
    throw argTypeError(
      "loop.submit()",
      "main",
      coro,
      "a coroutine (or a function* or async function to call)",
      isAwaitable(coro)
        ? "to wait for it, submit a coroutine that does: submit(function* () { return yield* it; })"
        : isPromiseLike(coro)
          ? PROMISE_RUNNING
          : "pass handler() or the function itself",
    );
  }
  // From anywhere: even inside another loop's step, the loop's drives run on the host later.
  if (!loop.isRunning()) void loop._runForever();
  // Never an eager start: the caller's stack is not the loop's.
  return loop.createTask(
    coro,
    options === undefined
      ? undefined
      : {
          name: options.name,
          signal: options.signal,
          context: options.context,
          priority: options.priority,
        },
  );
}

/** @internal loop.shutdown(): checks its options at the call, then shuts down. */
export function shutDown(loop: BaseEventLoop, options: ShutdownOptions | undefined): Promise<void> {
  checkOptions("loop.shutdown()", options, "{ timeout: 5000 }", SHUTDOWN_OPTIONS);
  const timeoutMs = Math.max(
    0,
    checkDelay("loop.shutdown()", "options.timeout", options?.timeout ?? Number.POSITIVE_INFINITY),
  );
  if (loop._awaited !== null) {
    throw new Error(
      "loop.shutdown(): this loop is running runUntilComplete() (or run()), which stops it when main is done; shutdown() is for a loop started by submit() or runForever().",
    );
  }
  return shutDownAfter(loop, timeoutMs);
}

async function shutDownAfter(loop: BaseEventLoop, timeoutMs: number): Promise<void> {
  if (loop.isClosed()) return;
  if (!loop.isRunning()) void loop.runForever();
  const deadline = loop.time() + timeoutMs;
  const left = (): number => Math.max(0, deadline - loop.time());
  const cancelled = new Set<Task<unknown>>(); // each once: one that cleans up is not interrupted again
  // A long wait says which tasks the cancellation cannot reach, rather than wait in silence.
  const stopWatching =
    timeoutMs > UNREACHED_AFTER_MS
      ? reportUnreachedLater(
          loop,
          `loop.shutdown(): ${UNREACHED_AFTER_MS} ms after the cancellation,`,
          timeoutMs === Number.POSITIVE_INFINITY
            ? "shutdown() waits until it ends: give it a timeout to abandon such a task instead."
            : `shutdown() waits for it until its timeout, ${timeoutMs} ms.`,
        )
      : null;
  await cancelAll(loop, cancelled, timeoutMs);
  // An await of native code can reach the loop in the microtasks after a round found no
  // task left (a shutdown() that started the loop): its task is cancelled as the others.
  while (left() > 0 && loop._liveTasks().some((task) => !cancelled.has(task))) {
    await stopped(loop);
    await resumeFor(loop, cancelAll(loop, cancelled, left()));
  }
  let stillRunning = loop._liveTasks();
  // Then the GeneratorObjects their consumers left suspended, within the same time, and
  // the tasks their cleanup started.
  if (loop._mustShutdownAsyncgens()) {
    // If the time ran out, the closes still get their first step (they start eagerly).
    await stopped(loop);
    const closing = loop.createTask(loop.shutdownAsyncgens(), { name: "shutdownAsyncgens" });
    await resumeFor(loop, doneWithin(loop, closing, left()));
    if (closing.done()) {
      await stopped(loop);
      await resumeFor(loop, cancelAll(loop, cancelled, left()));
      stillRunning = loop._liveTasks();
    } else {
      loop.callExceptionHandler({
        message: `loop.shutdown(): the GeneratorObjects left suspended were still closing when the ${timeoutMs} ms ran out (${taskLabel(closing)} waits on ${describeWait(closing)}); they are abandoned as the loop closes.`,
        task: closing,
      });
    }
  }
  for (const task of stillRunning) {
    if (task.done()) continue;
    loop.callExceptionHandler({
      message: `loop.shutdown(): ${taskLabel(task)} was still running ${timeoutMs} ms after its cancellation (it waits on ${describeWait(task)}): ${whyStillRunning(task)}; it is abandoned as the loop closes.`,
      task,
    });
  }
  stopWatching?.();
  pendingReported(loop); // what is left, abandoned, was said above
  loop.stop();
  await loop._whenStopped;
  loop.close();
  // Code that awaits an abandoned task gets its InvalidStateError in the microtasks after
  // the close: it has answered (a request) by the time shutdown() resolves.
  if (stillRunning.some((task) => !task.done())) {
    await new Promise<void>((resolve) => yieldToHost(resolve));
  }
}

/**
 * Settles once the loop has stopped, if a deadline is stopping it: the next
 * phase makes its work before the loop runs again (see resumeFor), or a
 * virtual clock would run on before the phase begins.
 */
async function stopped(loop: BaseEventLoop): Promise<void> {
  if (loop.isRunning() && loop._stopping) await loop._whenStopped;
}

/** Runs the loop again, if a deadline stopped it, for `phase`, whose work is made already. */
function resumeFor(loop: BaseEventLoop, phase: Promise<void>): Promise<void> {
  if (!loop.isRunning()) void loop.runForever();
  return phase;
}

/**
 * Calls `ranOut` after `timeoutMs` on the loop's clock, and stops the loop in
 * that iteration: a virtual clock would otherwise run on into the tasks'
 * cleanup before the awaiting code learns that the time is up.
 */
function stopAtDeadline(
  loop: BaseEventLoop,
  timeoutMs: number,
  ranOut: () => void,
): TimerHandle | null {
  if (timeoutMs === Number.POSITIVE_INFINITY) return null;
  return loop.callLater(timeoutMs, () => {
    loop.stop();
    ranOut();
  });
}

/** The message of the cancellations shutdown() sends: a handler's log says why its request ended. */
const SHUTTING_DOWN = "the loop is shutting down";

/**
 * Cancels every live task not in `cancelled` (and adds it there), tasks they
 * start while cancelled included, and settles when none is left or
 * `timeoutMs` has passed on the loop's clock.
 */
function cancelAll(
  loop: BaseEventLoop,
  cancelled: Set<Task<unknown>>,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      timer?.cancel();
      resolve();
    };
    const round = (): void => {
      if (finished) return;
      const live = loop._liveTasks();
      if (live.length === 0) {
        finish();
        return;
      }
      let left = live.length;
      const countDown = (): void => {
        if (--left === 0) round();
      };
      for (const task of live) {
        // Once only: a task that caught the cancellation to clean up is not interrupted again.
        if (!cancelled.has(task)) {
          cancelled.add(task);
          task.cancel(SHUTTING_DOWN);
        }
        task._addCallback(countDown);
      }
    };
    const timer = stopAtDeadline(loop, timeoutMs, finish);
    round();
  });
}

/** Settles when `task` is done or `timeoutMs` has passed on the loop's clock. */
function doneWithin(loop: BaseEventLoop, task: Task<unknown>, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = stopAtDeadline(loop, timeoutMs, resolve);
    task._addCallback(() => {
      timer?.cancel();
      resolve();
    });
  });
}
