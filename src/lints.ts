/**
 * Lints in debug mode (`loop.setDebug(true)`), reported through the loop's
 * exception handler, as tokio-console points at tasks that misbehave: a step
 * that ran too long, a task left ready for too many iterations, and futures
 * still awaited when the loop closes. Nothing here runs outside debug mode.
 */
import { hostHasAsyncContext } from "./asynccontext.js";
import type { ExceptionContext, Handle, ReadyEntry } from "./events.js";
import type { Future } from "./futures.js";
import { noteSuspensions, PENDING } from "./futures.js";
import type { GeneratorObject } from "./generatorobject.js";
import { timeHostRuns } from "./hostruns.js";
import type { BaseEventLoop } from "./loops/base.js";
import { captureSite, userFrames } from "./suspendsite.js";
import type { Task } from "./tasks.js";
import { describeAwaited, taskOfEntry } from "./tasktree.js";
import { clockTick, now } from "./util/clock.js";
import type { ReadyQueue } from "./util/deque.js";

/** A callback or task step that runs this long (ms) or longer is reported, by default (loop.slowCallbackDuration). */
export const SLOW_STEP_MS = 100;

/** A task that waits in the ready queue through more iterations than this is reported as starved. */
export const STARVED_ITERATIONS = 100;

/**
 * A task woken this many times in a row with nothing to wait for, its steps
 * shorter than pollStepMs(), is reported: it polls (`while (!ready) yield*
 * sleep(0)`) where it could wait on an Event or a Future. Chunks of real work
 * separated by sleep(0) take longer than that and are not reported. The
 * steps are timed on the host's clock, so a few are slow for no fault of the
 * task's (a garbage collection): up to one in SLOW_STEPS_ALLOWED may be.
 */
export const POLLING_STEPS = 1000;
const POLL_STEP_MS = 0.05;
const SLOW_STEPS_ALLOWED = 100;

/**
 * POLL_STEP_MS, or two ticks of a coarser clock: on a browser's 100 µs one a
 * step of a microsecond now and then spans a tick, and at 50 µs a poll's
 * steps would read as work more often than SLOW_STEPS_ALLOWED lets them.
 */
function pollStepMs(): number {
  return Math.max(POLL_STEP_MS, 2 * clockTick());
}

/**
 * What a task's step resumed after, for a slow step's report: the wait (null:
 * nothing, it is the task's first step), and where it suspended for it.
 */
interface Resumed {
  what: string | null;
  site: Error | undefined;
}

/** A lint as the exception handler receives it: no exception, a message, and what it is about. */
function lint(loop: BaseEventLoop, context: ExceptionContext): void {
  loop.callExceptionHandler({ ...context, lint: true });
}

/** Why a native task's code after a host await is no task's: on a host without an async context, the option cannot help. */
const NO_ASYNC_CONTEXT = hostHasAsyncContext
  ? "this loop has no asyncLocalStorage option"
  : "this host has no async context for the asyncLocalStorage option to follow";
const KEEP_IT_THE_TASKS = `${
  hostHasAsyncContext
    ? "Give the loop the option, run(main, { asyncLocalStorage: true }), or await"
    : "Await"
} host promises through fromPromise() and tasks through gather() or wait().`;

/** @internal What a loop in debug mode keeps to find starved tasks: when each ready task was first seen ready. */
export class Linter {
  private iteration = 0;
  private readonly readySince = new WeakMap<Task, number>();
  private readonly reported = new WeakSet<Task>();
  /** When (loop time) each task began the wait it is in, for the task tree. */
  private readonly waits = new WeakMap<Task, number>();
  /** Where each task suspended for the wait it is in, for the task tree. */
  private readonly sites = new WeakMap<Task, Error>();
  /** The future of each task's wait in `waits`: a step that goes on waiting on it keeps both. */
  private readonly waitedOn = new WeakMap<Task, Future<unknown>>();
  /** Where the entry running now last suspended a coroutine: its task's site, if the task then waits. */
  private site: Error | null = null;
  /** The tasks seen to step, so that a first step is not said to resume after anything. */
  private readonly stepped = new WeakSet<Task>();
  /** The steps in a row each task has ended with nothing to wait for: short ones, and slow ones. */
  private readonly polls = new WeakMap<Task, { short: number; slow: number }>();
  /** The tasks reported as polling: once each, as a task that polls goes on doing so. */
  private readonly pollers = new WeakSet<Task>();
  /**
   * Native tasks whose step goes on in microtasks: when it began, what it
   * resumed after, and, where the promise hooks time its jobs (see
   * hostruns.ts), how long its code has run: its end is found only in the
   * host's next macrotask, after whatever host callbacks come first.
   */
  private readonly openSteps = new WeakMap<
    Task,
    { began: number; resumed: Resumed | null; ran: number | null }
  >();

  constructor(private readonly loop: BaseEventLoop) {
    noteSuspensions();
  }

  /** An iteration begins: a task ready through more than STARVED_ITERATIONS of them is reported, once. */
  iterationStarted(ready: ReadyQueue<Handle | ReadyEntry>): void {
    const iteration = ++this.iteration;
    for (let i = 0; i < ready.length; i++) {
      const task = taskOfEntry(ready.get(i));
      if (task === null) continue;
      const since = this.readySince.get(task);
      if (since === undefined) this.readySince.set(task, iteration);
      else if (iteration - since > STARVED_ITERATIONS && !this.reported.has(task)) {
        this.reported.add(task);
        lint(this.loop, {
          message: `${task} has been ready for ${iteration - since} iterations without running: it is starved (the ready queue was reordered ahead of it ever since)`,
          task,
        });
      }
    }
  }

  /**
   * The entry about to run: what its task waited for until now, and where it
   * suspended for it, for a slow step's report (generators keep no frames to
   * say where they resumed).
   */
  before(entry: Handle | ReadyEntry): Resumed | null {
    this.site = null;
    const task = taskOfEntry(entry);
    if (task === null) return null;
    this.readySince.delete(task);
    if (!this.stepped.has(task)) {
      this.stepped.add(task);
      return { what: null, site: undefined };
    }
    const waited = task._futWaiter;
    if (waited === null) {
      // Only sleep(0) takes a stack (see noteBareYield): a bare `yield` of the user's cannot.
      const site = this.sites.get(task);
      return { what: site === undefined ? "a bare yield" : "sleep(0)", site };
    }
    return { what: describeAwaited(waited), site: this.sites.get(task) };
  }

  /** The loop time the task began the wait it is in, if it began in debug mode. */
  waitingSince(task: Task): number | undefined {
    return this.waits.get(task);
  }

  /**
   * A coroutine suspends on a future (waitStep() tells): the stack is taken
   * now, the task's frames still on it. The last one of a step is its task's:
   * an eager start inside the step suspends before the task itself does.
   */
  suspending(): void {
    if (this.loop.getDebug()) this.site = captureSite();
  }

  /** Where the task suspended for the wait it is in, if it suspended in debug mode. */
  suspendedAt(task: Task): Error | undefined {
    return this.sites.get(task);
  }

  /**
   * The entry ran for `took` ms: a slow one is reported with its task and
   * where it resumed; a task that now waits on a future is timed from here,
   * and keeps where it suspended.
   */
  after(entry: Handle | ReadyEntry, took: number, resumed: Resumed | null): void {
    const task = taskOfEntry(entry);
    if (task?._stepInMicrotasks) {
      // A native task's step goes on in microtasks: it is judged when it ends (nativeStepEnded).
      this.openStep(task, took, resumed);
      this.site = null;
      return;
    }
    this.stepEnded(entry, task, took, resumed);
  }

  /**
   * The eager start of `task` suspended on `future` inside the step running
   * now: the wait and where it began are the task's, not the step's (which
   * may suspend after it).
   */
  startSuspended(task: Task, future: Future<unknown>): void {
    if (!this.loop.getDebug()) return;
    this.waitBegins(task, future);
    this.site = null;
  }

  private waitBegins(task: Task, future: Future<unknown> | null): void {
    this.waits.set(task, this.loop.time());
    if (this.site === null) this.sites.delete(task);
    else this.sites.set(task, this.site);
    if (future === null) this.waitedOn.delete(task);
    else this.waitedOn.set(task, future);
  }

  /** Whether hostAwait() has spoken: once a loop. */
  private toldOfHostAwaits = false;

  /**
   * A native task awaited a promise the loop did not make: without the
   * asyncLocalStorage option its code after that await is no task's, which a
   * program finds out only when a timeout or a cancel() does not reach it.
   */
  hostAwait(task: Task, step: number): void {
    const loop = this.loop;
    if (!loop.getDebug()) return;
    if (loop._asyncLocalStorage) {
      // The code after the await is still the task's: time it (see hostruns.ts).
      timeHostRuns(this);
      return;
    }
    if (this.toldOfHostAwaits) return;
    this.toldOfHostAwaits = true;
    lint(loop, {
      message: `${task} awaited a promise the loop did not make (a host API, Promise.all() or Promise.race()) in its step ${step}: ${NO_ASYNC_CONTEXT}, so the function's code after that await runs outside the task and the loop's order, where currentTask() and createTask() find no loop, or another task's step running, and a cancel() or a timeout reaches it only through taskSignal() until the function ends. ${KEEP_IT_THE_TASKS} Said once a loop.`,
      task,
    });
  }

  /**
   * A promise job of `task`'s code ran `took` ms (see hostruns.ts): part of
   * its step, while one is open, else code the host resumed outside the
   * loop's steps, which holds up every other task as a slow step does.
   */
  jobRan(task: Task, took: number): void {
    const open = this.openSteps.get(task);
    if (open !== undefined) {
      if (open.ran !== null) open.ran += took;
      return;
    }
    if (took < this.loop._slowCallbackDuration || !this.loop.getDebug()) return;
    // Out of the promise hook: the lint calls the loop's exception handler, the user's code.
    queueMicrotask(() =>
      lint(this.loop, {
        message: `Executing ${task} took ${took.toFixed(1)} ms in code the host resumed after an await of a host promise, outside the loop's steps (await the promise through fromPromise() to make that code a step): a run this long holds up every other task`,
        task,
      }),
    );
  }

  /**
   * The eager start of `task` suspended in an async body's step, which the
   * task goes on with in microtasks without a ready-queue entry of its own.
   */
  startInMicrotasks(task: Task): void {
    if (this.loop.getDebug()) this.openStep(task, 0, null);
  }

  /**
   * A step of `task` that ran `took` ms so far goes on in microtasks: timed
   * by its code's jobs where the hooks time them, else by the clock.
   */
  private openStep(task: Task, took: number, resumed: Resumed | null): void {
    const timed = this.loop._asyncLocalStorage && timeHostRuns(this);
    this.openSteps.set(task, { began: now() - took, resumed, ran: timed ? took : null });
  }

  /** A native task's step that went on in microtasks ended: judged as a whole, as after() judges a step. */
  nativeStepEnded(task: Task): void {
    const open = this.openSteps.get(task);
    if (open === undefined || !this.loop.getDebug()) return;
    this.openSteps.delete(task);
    this.stepEnded(task, task, open.ran ?? now() - open.began, open.resumed);
  }

  private stepEnded(
    entry: Handle | ReadyEntry,
    task: Task | null,
    took: number,
    resumed: Resumed | null,
  ): void {
    const waiter = task?._futWaiter ?? null;
    // A wait begins: on a pending future, or on the host (a native task's step ended there).
    if (task !== null && ((waiter !== null && waiter._state === PENDING) || task._blockedOnHost)) {
      // The first step of a task whose eager start suspended waits where the start did.
      if (this.site !== null || waiter === null || this.waitedOn.get(task) !== waiter) {
        this.waitBegins(task, waiter);
      }
    } else if (task !== null && task._state === PENDING) {
      // Ready again (a bare yield, a sleep(0)): where it yielded, if a sleep(0) said.
      if (this.site === null) this.sites.delete(task);
      else this.sites.set(task, this.site);
    }
    this.site = null;
    if (task !== null) this.countPolls(task, took);
    if (took < this.loop._slowCallbackDuration) return;
    const what = task === null ? String(entry) : String(task);
    const frame = resumed?.site === undefined ? undefined : userFrames(resumed.site)[0];
    const at = frame === undefined ? "" : ` ${frame}`;
    const where =
      resumed === null
        ? ""
        : resumed.what === null
          ? " (its first step)"
          : ` (resumed after ${resumed.what}${at})`;
    lint(this.loop, {
      message: `Executing ${what} took ${took.toFixed(1)} ms${where}: a step this long holds up every other task`,
      ...(task === null ? { handle: entry as Handle } : { task }),
    });
  }

  /** A step of `task` ended: a run of short ones with nothing to wait for is polling. */
  private countPolls(task: Task, took: number): void {
    if (this.pollers.has(task)) return;
    if (task._state !== PENDING || task._futWaiter !== null) {
      this.polls.delete(task);
      return;
    }
    let polls = this.polls.get(task);
    if (polls === undefined) this.polls.set(task, (polls = { short: 0, slow: 0 }));
    if (took < pollStepMs()) polls.short++;
    else if (++polls.slow * SLOW_STEPS_ALLOWED > polls.short) {
      this.polls.delete(task); // work between its yields, not a poll
      return;
    }
    if (polls.short === POLLING_STEPS) {
      this.polls.delete(task);
      this.pollers.add(task);
      lint(this.loop, {
        message: `${task} was woken ${POLLING_STEPS} times in a row with nothing to wait for: it polls, where it could wait on an Event or a Future`,
        task,
      });
    }
  }
}

/** The loop closes: every future live tasks still wait on is reported, once each, with its waiters. */
export function lintPendingAtClose(loop: BaseEventLoop, tasks: readonly Task[]): void {
  const waiters = new Map<Future<unknown>, Task[]>();
  for (const task of tasks) {
    const future = task._futWaiter;
    if (future === null || future._state !== PENDING) continue;
    const waiting = waiters.get(future);
    if (waiting === undefined) waiters.set(future, [task]);
    else waiting.push(task);
  }
  for (const [future, tasks] of waiters) {
    lint(loop, {
      message: `${describeAwaited(future)} was never completed, and ${tasks.join(", ")} still wait${tasks.length === 1 ? "s" : ""} on it as the loop closes`,
      future,
    });
  }
}

/** Held generators that make the loop say so in debug mode: 1,000, then each ten times as many. */
const HELD_GENERATORS_FIRST = 1_000;

/**
 * A GeneratorObject began on a loop in debug mode, which now holds `held`
 * that are not done: at 1,000, 10,000 … a lint says the loop keeps each
 * until it is done (for its `finally` blocks), so that a program that
 * drops generators half read learns it before its heap does.
 */
export function lintHeldGenerators(
  loop: BaseEventLoop,
  held: number,
  latest: GeneratorObject<unknown, unknown, unknown>,
): void {
  if (held < HELD_GENERATORS_FIRST || !isPowerOfTen(held)) return;
  lint(loop, {
    message: `${held.toLocaleString("en")} GeneratorObjects begun on this loop are not done: the loop holds each until it is, so that its finally blocks run. Close the ones you stop reading (return(), close(), a for await or forAwait() left early), or they stay in memory until the loop shuts down`,
    asyncgen: latest,
  });
}

function isPowerOfTen(n: number): boolean {
  while (n % 10 === 0) n /= 10;
  return n === 1;
}
