/**
 * One run of an explored program: a fresh virtual loop whose every choice of
 * the next ready entry is made by a Chooser, each decision recorded, and the
 * ones that depart from FIFO order described in words. A generator function's
 * program runs without the host (runSync); any other main, and a program that
 * starts a native task, runs on the host, its native tasks stepped by the loop.
 */
import { hasLiveGenerators } from "../asyncgens.js";
import { wait } from "../combinators.js";
import { type Coro, describe, isCoroutine, isGeneratorFunction, isPromiseLike } from "../coro.js";
import { taskList } from "../deadlock.js";
import { DeadlockError } from "../errors.js";
import { type ExceptionContext, type Handle, type ReadyEntry, TimerHandle } from "../events.js";
import { FAILED, Future } from "../futures.js";
import { Linter } from "../lints.js";
import { type BaseEventLoop, HANDED_OVER, IDLE, type Spin, STOPPED } from "../loops/base.js";
import { SchedulingVirtualEventLoop } from "../loops/scheduling.js";
import { Task, type TaskBody, type TaskOptions } from "../tasks.js";
import { taskLabel, taskOfEntry, timerTask } from "../tasktree.js";
import type { Timeout } from "../timeouts.js";
import { now } from "../util/clock.js";
import type { ReadyQueue } from "../util/deque.js";
import { yieldToHost } from "../util/host.js";
import { hostDelay } from "../util/hostdelay.js";
import { argTypeError } from "../validate.js";
import { type Decider, enterRun } from "./choose.js";

/** @internal The ready queue of a run, position 0 the FIFO choice. */
export type Ready = ReadyQueue<Handle | ReadyEntry>;

/**
 * The program explore() and replay() run: a function that makes it afresh
 * on each call, a generator function or an async function (one that returns
 * a coroutine, a task or a promise).
 */
export type Program = () => Coro<unknown> | PromiseLike<unknown>;

/** @internal Makes each decision of a run. */
export interface Chooser {
  /** Decision `index` (from 0) of the run, an integer in [0, n): of the ready queue `ready`, or of choose(n) when null. */
  pick(index: number, n: number, ready: Ready | null): number;
}

/** How a run failed. */
export type FailureKind =
  | "main threw"
  | "deadlock"
  | "step limit"
  | "exception report"
  | "time limit";

/** A departure from FIFO order as it happened, put in words only when a report asks. */
interface Departure {
  readonly decision: number;
  readonly step: number;
  /**
   * The entry run and the one FIFO order would have run; null for a choose().
   * An entry that is no task's step is put in words at once: a timer's words
   * change once it ran (its state, its waiter).
   */
  readonly ran: Handle | ReadyEntry | string | null;
  readonly instead: Handle | ReadyEntry | string | null;
  /** The other entries it ran ahead of, after `instead`, the first few of them (see JUMPED_NAMED). */
  readonly alsoAhead: (Handle | ReadyEntry | string)[];
  /** The entry run as the shrinker finds it again (see entryKey), taken as it ran. */
  readonly ranKey: string | null;
  readonly n: number;
  readonly choice: number;
}

/** @internal What a run did. */
export class Outcome {
  /** Every decision, in order; 0 is the choice FIFO order makes. */
  readonly choices: number[] = [];
  /** The decisions that were choose() calls, in order. */
  readonly valueDecisions: number[] = [];
  /** Entries run. */
  steps = 0;
  /**
   * How the run failed; for an exception report, the report's own words too,
   * and for another failure the reports of failures nobody retrieved, often its
   * cause (a task that failed holding a lock, then a deadlock).
   */
  failure: {
    kind: FailureKind;
    cause: unknown;
    report?: string;
    unretrieved?: string[];
  } | null = null;
  /** Awaits of promises the loop did not make, in native tasks: past them the order was the host's. */
  uncontrolled = 0;
  /** The first of them: which task, in which step. */
  firstUncontrolled: string | null = null;
  /** Two FNV-1a hashes of the choices, for telling schedules apart without a string per run. */
  private _hashLow = 0x811c9dc5;
  private _hashHigh = 0x01000193;
  private _departures: Departure[] | null = null;
  private _schedule: string[] | null = null;

  /** @internal Records decision `choice` of `n`, and, if it departs from FIFO order, what it ran. */
  _record(
    choice: number,
    n: number,
    ran: Handle | ReadyEntry | null,
    instead: Handle | ReadyEntry | null,
    alsoAhead: (Handle | ReadyEntry)[] = [],
  ): void {
    const decision = this.choices.length;
    this.choices.push(choice);
    this._hashLow = Math.imul(this._hashLow ^ choice, 0x01000193);
    this._hashHigh = Math.imul(this._hashHigh ^ (choice + decision), 0x85ebca6b);
    if (choice === 0) return;
    // An entry departs at the step it runs as; a choose() within the step that ran last.
    const step = ran === null ? this.steps : this.steps + 1;
    (this._departures ??= []).push({
      decision,
      step,
      ran: describedNow(ran),
      instead: describedNow(instead),
      alsoAhead: alsoAhead.map((entry) => describedNow(entry) as Handle | ReadyEntry | string),
      ranKey: ran === null ? null : entryKey(ran),
      n,
      choice,
    });
  }

  /** The schedule as a number: equal for equal choices, and (53 bits) as good as unique among the runs of a search. */
  key(): number {
    return (this._hashHigh >>> 0) * 0x200000 + ((this._hashLow >>> 0) & 0x1fffff);
  }

  /** The decisions that departed from FIFO order, in words. */
  get schedule(): string[] {
    this._schedule ??= (this._departures ?? []).map((d) =>
      d.ran === null
        ? `step ${d.step}: choose(${d.n}) returned ${d.choice}`
        : `step ${d.step}: ran ${described(d.ran)} instead of ${described(d.instead)}${aheadOf(d)}`,
    );
    return this._schedule;
  }

  /** The entry each departure from FIFO order ran, by decision, as the shrinker finds it again. */
  get ran(): Map<number, string> {
    const ran = new Map<number, string>();
    for (const d of this._departures ?? []) if (d.ranKey !== null) ran.set(d.decision, d.ranKey);
    return ran;
  }
}

/** @internal Limits and rules of every run of a search. */
export interface RunRules {
  readonly maxSteps: number;
  /** Exception-handler reports without an exception (warnings) fail the run too. */
  readonly failOnWarnings: boolean;
  /** Each run's loop has the asyncLocalStorage option. */
  readonly asyncLocalStorage: boolean;
  /** Each run's loop is in debug mode. */
  readonly debug: boolean;
}

/** The cause of a run stopped by `maxSteps`. */
class StepLimitError extends Error {
  override name = "StepLimitError";
}

/** The cause of a run still waiting on the host alone when the search's time limit passed. */
class TimeLimitError extends Error {
  override name = "TimeLimitError";
}

/**
 * What explore() and replay() reject with for a program that waits on the
 * host alone (a native promise through fromPromise, an AbortSignal), which
 * no schedule can order: the program needs a stand-in on the loop instead.
 *
 * @example
 * ```ts
 * import { fromPromise } from "asynkit";
 * import { explore, HostWaitError } from "asynkit/testing";
 * function* main() {
 *   yield* fromPromise(new Promise((resolve) => setTimeout(resolve, 10)));
 * }
 * const error = await explore(main).catch((e: unknown) => e);
 * console.log(error instanceof HostWaitError); // true
 * ```
 */
export class HostWaitError extends Error {
  override name = "HostWaitError";
}

/** A run begun without the host met a native task: it is run again on the host. */
class NeedsHost extends Error {}

/** The cause of a run stopped at a warning, with failOnWarnings: an exception report. */
class WarningError extends Error {}

/** A run stopped because the search's signal aborted: the search rejects with its reason. */
class Aborted extends Error {
  constructor(readonly reason: unknown) {
    super("aborted");
  }
}

/** main made no program: the caller's mistake, not a failure of the program. */
class NoProgram extends Error {
  constructor(readonly error: TypeError) {
    super(error.message);
  }
}

/** Records the decisions of one run and counts its steps. */
class Run implements Decider {
  readonly outcome = new Outcome();

  constructor(
    private readonly _chooser: Chooser,
    readonly caller: string,
    private readonly _maxSteps: number,
  ) {}

  /** Which of the `n` ready entries runs next. */
  chooseEntry(n: number, ready: Ready): number {
    const outcome = this.outcome;
    const choice = this._chooser.pick(outcome.choices.length, n, ready);
    if (choice === 0) outcome._record(0, n, null, null);
    else {
      // FIFO's entry, then the others the chosen one overtakes: a reader needs them all.
      const alsoAhead: (Handle | ReadyEntry)[] = [];
      for (let i = 1; i < Math.min(choice, JUMPED_NAMED + 1); i++) alsoAhead.push(ready.get(i));
      outcome._record(choice, n, ready.get(choice), ready.get(0), alsoAhead);
    }
    return choice;
  }

  chooseValue(n: number): number {
    const outcome = this.outcome;
    outcome.valueDecisions.push(outcome.choices.length);
    const choice = this._chooser.pick(outcome.choices.length, n, null);
    outcome._record(choice, n, null, null);
    return choice;
  }

  /** True once `maxSteps` entries ran: the run ends (see stepLimitError). */
  atStepLimit(): boolean {
    return this.outcome.steps === this._maxSteps;
  }

  /** The error of a run past the step limit, whose unfinished tasks are `tasks`, in words. */
  stepLimitError(tasks: string): StepLimitError {
    const within = `within ${this._maxSteps} steps (options.maxSteps)`;
    if (tasks === "") {
      return new StepLimitError(
        `${this.caller}: the run did not end ${within}, though no task was left unfinished: ` +
          "the steps at the limit were callbacks (callSoon(), a timer's: a livelock if they schedule each other for ever) " +
          "or the run's own end, a step after main's: raise maxSteps if the program needs it",
      );
    }
    return new StepLimitError(
      `${this.caller}: main did not finish ${within}: ` +
        "a livelock (time is virtual here: sleeps take no real time, so code that sleeps until " +
        "Date.now() or performance.now() reaches a moment spins; read getRunningLoop().time()), or a program that needs a higher maxSteps. " +
        `Unfinished tasks:${tasks}`,
    );
  }
}

/** How an entry's words name a task. */
type TaskNamer = (task: Task<unknown>) => string;

/**
 * @internal An entry in words: the task it runs; a sleep's timer by the task
 * that sleeps on it; else the Handle itself. Tasks are named by `name`: as a
 * schedule line names them, by default.
 */
export function describeEntry(entry: Handle | ReadyEntry, name: TaskNamer = scheduleLabel): string {
  const task = taskOfEntry(entry);
  if (task !== null) return name(task);
  if (entry instanceof Future) {
    const sleeper = timerTask(entry);
    const what = entry._label() ?? "a timer";
    return sleeper !== null ? `the timer of ${name(sleeper)} (${what})` : what;
  }
  return describeCallback(entry as Handle, name);
}

/**
 * @internal What the shrinker knows an entry by from run to run: its words,
 * with each task named by the order the run made it, which its name (one
 * shared with other tasks, or changed by setName()) may not tell.
 */
export function entryKey(entry: Handle | ReadyEntry): string {
  return describeEntry(entry, taskOrdinal);
}

function taskOrdinal(task: Task<unknown>): string {
  const loop = task._loop;
  return loop instanceof ExploringLoop ? `task #${loop.madeAs(task)}` : taskLabel(task);
}

/**
 * A callback entry: a deadline by its task, a future's done callback by the
 * future it was called for, a user's callback by its name and, for a timer,
 * its time.
 */
function describeCallback(handle: Handle, name: TaskNamer): string {
  const callback = handle.callback;
  if (callback === null) return String(handle);
  const arg = handle.args[0];
  const deadlineOf = timerTask(handle);
  if (deadlineOf !== null) {
    // timeout()'s deadline, passed already when it was set, is a callSoon().
    const when = handle instanceof TimerHandle ? handle.when() : (arg as Timeout).when();
    return `the deadline of ${name(deadlineOf)} (t=${when} ms)`;
  }
  // A private callback's underscore says nothing to the reader of a schedule.
  const called = callback.name.replace(/^_+/, "");
  if (arg instanceof Future) {
    const of = arg instanceof Task ? name(arg) : (arg._label() ?? String(arg));
    return `the done callback${called === "" ? "" : ` ${called}`} of ${of}`;
  }
  const what = called === "" ? "an anonymous callback" : `the callback ${called}`;
  return handle instanceof TimerHandle ? `${what} due at t=${handle.when()} ms` : what;
}

/**
 * A task as a schedule line names it: its label, and, for a task named as one
 * made before it in the run, which of that name it is, so that the lines of
 * tasks that share a name (`createTask(worker(), { name: "worker" })` in a
 * loop) tell them apart.
 */
function scheduleLabel(task: Task<unknown>): string {
  const loop = task._loop;
  const nth = loop instanceof ExploringLoop ? loop.nthOfItsName(task) : 1;
  return nth === 1 ? taskLabel(task) : `${taskLabel(task)} (the ${ordinal(nth)} of that name)`;
}

function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? "th" : (["th", "st", "nd", "rd"][n % 10] ?? "th");
  return `${n}${suffix}`;
}

/** A departure's entry as it is kept: a task's step as the entry, anything else in words. */
function describedNow(entry: Handle | ReadyEntry | null): Handle | ReadyEntry | string | null {
  return entry === null || taskOfEntry(entry) !== null ? entry : describeEntry(entry);
}

/** How many of the entries a departure overtakes its line names; the rest it counts. */
const JUMPED_NAMED = 3;

/** The other entries a departure ran ahead of, in words: ", and ahead of A, B and 4 more". */
function aheadOf(d: Departure): string {
  const jumped = d.choice - 1;
  if (jumped === 0) return "";
  const names = d.alsoAhead.map(described);
  const more = jumped - names.length;
  if (more > 0) names.push(`${more} more`);
  const last = names.pop() as string;
  return `, and ahead of ${names.length > 0 ? `${names.join(", ")} and ${last}` : last}`;
}

function described(entry: Handle | ReadyEntry | string | null): string {
  return typeof entry === "string" ? entry : describeEntry(entry as Handle | ReadyEntry);
}

function keepReport(loop: BaseEventLoop, context: ExceptionContext): void {
  (loop as ExploringLoop).reports.push(context);
}

/**
 * A virtual loop that runs one entry at a time, the one the run chooses. It
 * has its own iteration instead of BaseEventLoop's, so that production loops
 * pay nothing for exploring. Timers due now join the ready queue when the
 * entries ready before them have run, as on any loop: FIFO order (every
 * choice 0) is the ordinary schedule, and timers due at the same moment are
 * ordered by the same choices as every other entry. What cuts a run short
 * stops the loop rather than throwing, since on the host it runs in microtasks.
 */
class ExploringLoop extends SchedulingVirtualEventLoop {
  /** Entries left of the current iteration: when none are, due timers join the queue. */
  private _left = 0;
  /** Tasks made without a name, for names numbered per run. */
  private _unnamed = 0;
  /**
   * The run's tasks, in the order they were made (the map's order too), each
   * with its place in that order and, among the tasks of its name then, its
   * own included: see madeAs() and nthOfItsName().
   */
  private readonly _made = new Map<Task<unknown>, { order: number; ofItsName: number }>();
  /** How many of the run's tasks were made with each name. */
  private readonly _madeOfName = new Map<string, number>();
  /** A task was renamed: the counts made as tasks were made no longer hold. */
  private _renamed = false;
  /** What cut the run short, if anything. */
  stoppedBy: Error | null = null;
  /** The exception handler's reports. */
  readonly reports: ExceptionContext[] = [];

  constructor(
    private readonly _run: Run,
    private readonly _failOnWarnings: boolean,
    asyncLocalStorage: boolean,
  ) {
    super(asyncLocalStorage ? { asyncLocalStorage } : undefined);
    this.setExceptionHandler(keepReport);
  }

  private _stopWith(error: Error): void {
    this.stoppedBy ??= error;
    this.stop();
  }

  /** Nothing ready and no timer, while the host holds what the program waits on. */
  override _idle(nextTimer: number | undefined): boolean {
    // After an uncontrolled await, the program's order is the host's already: wait for it.
    if (nextTimer === undefined && this._hostPending > 0 && this._run.outcome.uncontrolled === 0) {
      this._stopWith(
        new HostWaitError(
          `${this._run.caller}: the program waits on a native promise (through fromPromise) or an AbortSignal, ` +
            "which only the host settles, so no schedule can order it: give the program a stand-in on the loop " +
            "(a Future the test resolves, a sleep()) instead",
        ),
      );
      return true;
    }
    return super._idle(nextTimer);
  }

  /**
   * The search's time limit passed: if the run waits on the host alone (past
   * an await of a promise the loop did not make, where the loop cannot tell a
   * deadlock from a wait for the host), it stops, failed.
   */
  stopIfWaitingOnHost(timeLimitMs: number): void {
    const timerDue = this._nextTimer() !== undefined;
    if (!this._parked || this._ready.length > 0 || timerDue || this._hostPending === 0) return;
    this._stopWith(
      new TimeLimitError(
        `${this._run.caller}: the run still waited on the host when timeLimitMs (${timeLimitMs} ms) passed: ` +
          "past an await of a promise the loop did not make, the loop cannot tell a deadlock from a wait for the host. " +
          `Unfinished tasks:${this.unfinishedTasks()}`,
      ),
    );
  }

  /** The tasks not yet done, one indented line each, as a deadlock report lists them. */
  private unfinishedTasks(): string {
    return taskList(this, this._liveTasks());
  }

  /** The search's signal aborted: stop the run. */
  stopAborted(aborted: Aborted): void {
    this._stopWith(aborted);
  }

  /** Under explore() host I/O is not ordered even through fromPromise(): it needs a stand-in. */
  override _toOrderIt(): string {
    return `${AWAIT_WHAT_THE_LOOP_MAKES}.`;
  }

  /** A native task awaited a promise the loop did not make: a warning, reported. */
  override _hostAwait(task: Task<unknown>, step: number): void {
    super._hostAwait(task, step);
    this._uncontrolledAwait(task, step);
  }

  /** A native task ran on past a Promise.race() of asynkit awaitables: as a host await. */
  override _ranPastAwait(task: Task<unknown>, step: number): Error | null {
    const failure = super._ranPastAwait(task, step);
    this._uncontrolledAwait(task, step);
    return failure;
  }

  /** Past this await the run's order is the host's: counted, and with failOnWarnings the end. */
  private _uncontrolledAwait(task: Task<unknown>, step: number): void {
    const outcome = this._run.outcome;
    const report = this.reports.at(-1);
    if (outcome.uncontrolled++ === 0) outcome.firstUncontrolled = `${task} in its step ${step}`;
    if (this._failOnWarnings && report !== undefined) {
      this._stopWith(new WarningError(report.message));
    }
  }

  override _addLiveTask(task: Task<unknown>): void {
    super._addLiveTask(task);
    const name = task.getName();
    const ofItsName = (this._madeOfName.get(name) ?? 0) + 1;
    this._madeOfName.set(name, ofItsName);
    this._made.set(task, { order: this._made.size + 1, ofItsName });
  }

  override _taskRenamed(): void {
    this._renamed = true;
  }

  /** 1 for the first task the run made, 2 for the next, and so on. */
  madeAs(task: Task<unknown>): number {
    return this._made.get(task)?.order ?? 0;
  }

  /** 1 for the first task of the run with `task`'s name, 2 for the next, and so on. */
  nthOfItsName(task: Task<unknown>): number {
    const name = task.getName();
    // Counted as each was made, unless a task was renamed since: a schedule line names a
    // task at each departure, and a count over every task made would make a run O(n²).
    if (!this._renamed) return this._made.get(task)?.ofItsName ?? 1;
    let nth = 1;
    for (const made of this._made.keys()) {
      if (made === task) break;
      if (made.getName() === name) nth++;
    }
    return nth;
  }

  override _createTask<T>(body: TaskBody<T>, options: TaskOptions | undefined): Task<T> {
    if (typeof body === "function" && this._syncRun) this._stopWith(new NeedsHost());
    if (options?.name !== undefined || this.getTaskFactory() !== null) {
      return super._createTask(body, options);
    }
    // Names numbered per run, so that reports and schedules read the same in every run.
    return super._createTask(body, { ...options, name: `Task-${++this._unnamed}` });
  }

  override _spin(): Spin {
    if (this._stopping) return STOPPED;
    const ready = this._ready;
    const run = this._run;
    for (;;) {
      if (this._left === 0) {
        if (this._scheduled.length > 0) this._collectDueTimers();
        this._left = ready.length;
        if (this._left === 0) return IDLE;
      }
      // Checked before an entry is taken: the report shows its task ready, not waiting.
      if (run.atStepLimit()) {
        this._stopWith(run.stepLimitError(this.unfinishedTasks()));
        return STOPPED;
      }
      const n = ready.length;
      const entry = ready.removeAt(n === 1 ? 0 : run.chooseEntry(n, ready));
      this._left--;
      run.outcome.steps++;
      // Debug mode (main may turn it on) notes where each task suspends, for the tree and
      // deadlock reports. Not its starvation lint: the search's schedules leave tasks waiting.
      const linter = this.getDebug() ? (this._linter ??= new Linter(this)) : null;
      if (linter === null) entry._run();
      else {
        const resumed = linter.before(entry);
        const start = now();
        entry._run();
        linter.after(entry, now() - start, resumed);
      }
      if (this._handover !== null) return HANDED_OVER;
      if (this._stopping) return STOPPED;
    }
  }
}

const MAIN = { name: "main" };

/** How long the functions a stopped run left running on the host are waited for, at most. */
const HOST_LEFTOVERS_MS = 100;

/**
 * Waits for the functions of a closed run that still run on the host to end:
 * their next asynkit await finds no loop and fails them, once their host
 * promise settles.
 */
async function hostLeftoversEnd(loop: ExploringLoop): Promise<void> {
  const deadline = now() + HOST_LEFTOVERS_MS;
  while (loop._hostPending > 0 && now() < deadline) {
    await new Promise<void>((resolve) => hostDelay(resolve, 1));
  }
}

/**
 * Once main is done, the tasks still running are cancelled and waited for,
 * then the GeneratorObjects left suspended are closed, as run() does: their
 * cleanup runs under the schedule too, and a failure of theirs (nobody
 * retrieves it, or a generator that fails to close) fails the run. Null when
 * nothing is left.
 */
function cancelLeftovers(loop: ExploringLoop): Task<unknown> | null {
  if (loop.stoppedBy !== null) return null;
  if (loop._liveTasks().length === 0 && !hasLiveGenerators(loop)) return null;
  return loop.createTask(cleanUp(loop), { name: "cleanup" });
}

function* cleanUp(loop: ExploringLoop): Coro<void> {
  yield* cancelOthers(loop);
  if (!hasLiveGenerators(loop)) return;
  yield* loop.shutdownAsyncgens();
  yield* cancelOthers(loop); // the tasks their cleanup started
}

/** Cancels the live tasks but the one running this, and waits for them. */
function* cancelOthers(loop: ExploringLoop): Coro<void> {
  const me = loop._currentTask;
  const others = loop._liveTasks().filter((task) => task !== me);
  if (others.length === 0) return;
  for (const task of others) task.cancel();
  yield* wait(others);
}

/** What brings code that awaited a promise the loop did not make back under the search. */
export const AWAIT_WHAT_THE_LOOP_MAKES =
  "Await what the loop makes instead (a task, not the promise of an async function; sleep(), not a host timer; gather(), not Promise.all(); a Future or an Event, not a promise of your own that another task resolves), and give host I/O a stand-in on the loop";

/** No error was thrown. */
const NONE = Symbol("none");

/**
 * How long runs go on before the host has a turn, and how many on the host.
 * A generator program's runs need no host at all, and a run of native tasks
 * ends in microtasks but leaves its loop's check for steps blocked on the host
 * armed (a host macrotask, see native.ts), which holds the loop until the
 * host's next turn: a search that never let the host in would hold every
 * run's loop, and keep the host's own timers and I/O (a test runner's
 * timeout, an abort) waiting.
 */
const HOST_TURN_MS = 10;
const RUNS_PER_HOST_TURN = 64;

/** A report of a failure: one with its exception, or of a future that failed with undefined (a field given as undefined reads as none). */
function reportsFailure(report: ExceptionContext): boolean {
  return (
    report.exception !== undefined ||
    (report.future instanceof Future && report.future._state === FAILED)
  );
}

/**
 * @internal Runs the program `main` makes, once per call, each decision made
 * by the chooser given. A failure is recorded, not thrown: main threw,
 * deadlocked, ran past the step limit, or the loop's exception handler got a
 * report. A generator function's program runs at once, without the host,
 * until it starts a native task: from then on every run is on the host.
 */
export class Runner {
  private _onHost: boolean;
  /** The loop of the run on the host under way, if any. */
  private _loop: ExploringLoop | null = null;
  /** When the host has its next turn, and runs on the host since its last: see HOST_TURN_MS. */
  private _hostTurnAt = now() + HOST_TURN_MS;
  private _runsOnHost = 0;
  /** Set by abort(): no run begins after it. */
  private _aborted: Aborted | null = null;

  constructor(
    private readonly _main: Program,
    private readonly _rules: RunRules,
    private readonly _caller: string,
  ) {
    this._onHost = !isGeneratorFunction(_main);
  }

  /** One run; `restart` makes the chooser begin its run again, for one that moves to the host. */
  run(chooser: Chooser, restart?: () => void): Outcome | Promise<Outcome> {
    this._throwIfAborted();
    if (this._runsOnHost === RUNS_PER_HOST_TURN || now() >= this._hostTurnAt) {
      return this._afterHostTurn(chooser, restart);
    }
    if (!this._onHost) {
      const outcome = this._runHere(chooser);
      if (outcome !== null) return outcome;
      this._onHost = true;
      restart?.();
    }
    return this._runOnHost(chooser);
  }

  /** The run without the host, or null when the program started a native task. */
  private _runHere(chooser: Chooser): Outcome | null {
    const { run, loop } = this._prepare(chooser);
    const leave = enterRun(run);
    let thrown: unknown = NONE;
    try {
      loop._runSync(loop.createTask(this._program() as TaskBody<unknown>, MAIN), this._caller);
      const leftovers = cancelLeftovers(loop);
      if (leftovers !== null) loop._runSync(leftovers, this._caller);
    } catch (error) {
      thrown = error;
    } finally {
      leave();
    }
    return this._finish(run, loop, thrown);
  }

  /**
   * Stops the run on the host under way, if any, and refuses every run after
   * it: the search rejects with `reason`.
   */
  abort(reason: unknown): void {
    const aborted = new Aborted(reason);
    this._aborted = aborted;
    this._loop?.stopAborted(aborted);
  }

  /** Throws the reason abort() was given, if it was called (in the host's turn before a run, say). */
  private _throwIfAborted(): void {
    if (this._aborted !== null) throw this._aborted.reason;
  }

  private async _afterHostTurn(chooser: Chooser, restart?: () => void): Promise<Outcome> {
    await new Promise<void>((resolve) => yieldToHost(resolve));
    this._hostTurnAt = now() + HOST_TURN_MS;
    this._runsOnHost = 0;
    return this.run(chooser, restart);
  }

  private async _runOnHost(chooser: Chooser): Promise<Outcome> {
    this._runsOnHost++;
    const { run, loop } = this._prepare(chooser);
    const leave = enterRun(run);
    this._loop = loop;
    let thrown: unknown = NONE;
    try {
      await loop._runUntilComplete(
        loop.createTask((() => this._program()) as () => PromiseLike<unknown>, MAIN),
        this._caller,
      );
      const leftovers = cancelLeftovers(loop);
      if (leftovers !== null) await loop._runUntilComplete(leftovers, this._caller);
    } catch (error) {
      thrown = error;
    } finally {
      this._loop = null;
      leave();
    }
    const outcome = this._finish(run, loop, thrown) as Outcome;
    // Stopped while functions of the program ran on past host awaits, the run leaves them
    // running: their code must not run inside the next run's steps.
    if (loop.stoppedBy !== null && loop._hostPending > 0) await hostLeftoversEnd(loop);
    return outcome;
  }

  /** The search's time limit passed: stops the run under way if it waits on the host alone. */
  stopIfWaitingOnHost(timeLimitMs: number): void {
    this._loop?.stopIfWaitingOnHost(timeLimitMs);
  }

  private _prepare(chooser: Chooser): { run: Run; loop: ExploringLoop } {
    const run = new Run(chooser, this._caller, this._rules.maxSteps);
    const { failOnWarnings, asyncLocalStorage, debug } = this._rules;
    const loop = new ExploringLoop(run, failOnWarnings, asyncLocalStorage);
    if (debug) loop.setDebug(true);
    return { run, loop };
  }

  /** What main returns, a coroutine or a promise (run in main's task). */
  private _program(): unknown {
    const main = this._main; // called as a function: its frames say "main", not "Runner.main"
    const program = main();
    if (isCoroutine(program) || isPromiseLike(program)) return program;
    throw new NoProgram(
      argTypeError(
        this._caller,
        "main",
        this._main,
        `a function that returns a coroutine or a promise (it returned ${describe(program)})`,
        "pass a generator function or an async function that makes the program afresh on each call",
      ),
    );
  }

  private _finish(run: Run, loop: ExploringLoop, thrown: unknown): Outcome | null {
    const stoppedBy = loop.stoppedBy;
    loop.close(); // reports the failures nobody retrieved
    if (stoppedBy instanceof NeedsHost) return null;
    if (stoppedBy instanceof HostWaitError) throw stoppedBy;
    if (stoppedBy instanceof Aborted) throw stoppedBy.reason;
    if (thrown instanceof NoProgram) throw thrown.error;
    const outcome = run.outcome;
    const cause = stoppedBy ?? thrown;
    if (cause !== NONE) {
      const unretrieved = loop.reports.filter(reportsFailure).map(reportWords);
      outcome.failure = { kind: kindOf(cause), cause };
      if (unretrieved.length > 0) outcome.failure.unretrieved = unretrieved;
    } else {
      const report = loop.reports.find((r) => reportsFailure(r) || this._rules.failOnWarnings);
      if (report !== undefined) {
        outcome.failure = {
          kind: "exception report",
          cause: report.exception ?? new Error(report.message),
          report: reportWords(report),
        };
      }
    }
    return outcome;
  }
}

/** An exception-handler report in words: its message, and the future it is about. */
function reportWords(report: ExceptionContext): string {
  return report.future === undefined ? report.message : `${report.message}: ${report.future}`;
}

function kindOf(cause: unknown): FailureKind {
  if (cause instanceof StepLimitError) return "step limit";
  if (cause instanceof DeadlockError) return "deadlock";
  if (cause instanceof WarningError) return "exception report";
  if (cause instanceof TimeLimitError) return "time limit";
  return "main threw";
}
