/**
 * One run of an explored program: a fresh virtual loop whose every choice of
 * the next ready entry is made by a Chooser, each decision recorded, and the
 * ones that depart from FIFO order described in words.
 */
import { describe, isCoroutine } from "../coro.js";
import { DeadlockError } from "../errors.js";
import type { ExceptionContext, Handle, ReadyEntry } from "../events.js";
import { IDLE, type Spin, STOPPED } from "../loops/base.js";
import { SchedulingVirtualEventLoop } from "../loops/scheduling.js";
import { Task } from "../tasks.js";
import { taskOfEntry } from "../tasktree.js";
import type { ReadyQueue } from "../util/deque.js";
import { argTypeError } from "../validate.js";
import { type Decider, enterRun } from "./choose.js";

/** @internal The ready queue of a run, position 0 the FIFO choice. */
export type Ready = ReadyQueue<Handle | ReadyEntry>;

/** @internal Makes each decision of a run. */
export interface Chooser {
  /** Decision `index` (from 0) of the run, an integer in [0, n): of the ready queue `ready`, or of choose(n) when null. */
  pick(index: number, n: number, ready: Ready | null): number;
}

/** How a run failed. */
export type FailureKind = "main threw" | "deadlock" | "step limit" | "exception report";

/** @internal What a run did. */
export interface Outcome {
  /** Every decision, in order; 0 is the choice FIFO order makes. */
  readonly choices: number[];
  /** The decisions that departed from FIFO order, in words. */
  readonly schedule: string[];
  /** The entry each departure from FIFO order ran, by decision, described (for shrinking). */
  readonly ran: Map<number, string>;
  /** Entries run. */
  steps: number;
  failure: { kind: FailureKind; cause: unknown } | null;
}

/** @internal Limits and rules of every run of a search. */
export interface RunRules {
  readonly maxSteps: number;
  /** Exception-handler reports without an exception (warnings) fail the run too. */
  readonly failOnWarnings: boolean;
}

/** The cause of a run stopped by `maxSteps`. */
class StepLimitError extends Error {
  override name = "StepLimitError";
}

/** A program that waits on the host, which no strategy can order: explore() cannot run it. */
class HostWaitError extends Error {}

/** Records the decisions of one run and counts its steps. */
class Run implements Decider {
  readonly outcome: Outcome = {
    choices: [],
    schedule: [],
    ran: new Map(),
    steps: 0,
    failure: null,
  };

  constructor(
    private readonly _chooser: Chooser,
    readonly caller: string,
    private readonly _maxSteps: number,
  ) {}

  /** Which of the `n` ready entries runs next. */
  chooseEntry(n: number, ready: Ready): number {
    const choice = this._decide(n, ready);
    if (choice !== 0) {
      const step = this.outcome.steps + 1;
      const ran = describeEntry(ready.get(choice));
      this.outcome.ran.set(this.outcome.choices.length - 1, ran);
      this.outcome.schedule.push(
        `step ${step}: ran ${ran} instead of ${describeEntry(ready.get(0))}`,
      );
    }
    return choice;
  }

  chooseValue(n: number): number {
    const choice = this._decide(n, null);
    if (choice !== 0) {
      this.outcome.schedule.push(`step ${this.outcome.steps}: choose(${n}) returned ${choice}`);
    }
    return choice;
  }

  /** One more entry runs; past the limit the run ends. */
  step(): void {
    if (this.outcome.steps === this._maxSteps) {
      throw new StepLimitError(
        `${this.caller}: main did not finish within ${this._maxSteps} steps (options.maxSteps): ` +
          "a livelock, or a program that needs a higher maxSteps",
      );
    }
    this.outcome.steps++;
  }

  private _decide(n: number, ready: Ready | null): number {
    const choices = this.outcome.choices;
    const choice = this._chooser.pick(choices.length, n, ready);
    choices.push(choice);
    return choice;
  }
}

/** @internal An entry in words: the task it runs, else the Handle or timer itself. */
export function describeEntry(entry: Handle | ReadyEntry): string {
  const task = taskOfEntry(entry);
  return task === null ? String(entry) : `Task "${task.getName()}"`;
}

/**
 * A virtual loop that runs one entry at a time, the one the run chooses. It
 * has its own iteration instead of BaseEventLoop's, so that production loops
 * pay nothing for exploring. Timers due now join the ready queue when the
 * entries ready before them have run, as on any loop: FIFO order (every
 * choice 0) is the ordinary schedule, and timers due at the same moment are
 * ordered by the same choices as every other entry.
 */
class ExploringLoop extends SchedulingVirtualEventLoop {
  /** Entries left of the current iteration: when none are, due timers join the queue. */
  private _left = 0;

  constructor(private readonly _run: Run) {
    super();
  }

  /** Nothing ready and no timer, while the host holds what the program waits on. */
  override _idle(nextTimer: number | undefined): boolean {
    if (nextTimer === undefined && this._hostPending > 0) {
      throw new HostWaitError(
        `${this._run.caller}: the program waits on a native promise (through fromPromise) or an AbortSignal, ` +
          "which only the host settles, so no schedule can order it: give the program a stand-in on the loop " +
          "(a Future the test resolves, a sleep()) instead",
      );
    }
    return super._idle(nextTimer);
  }

  override _spin(): Spin {
    const ready = this._ready;
    const run = this._run;
    for (;;) {
      if (this._left === 0) {
        if (this._scheduled.length > 0) this._collectDueTimers();
        this._left = ready.length;
        if (this._left === 0) return IDLE;
      }
      const n = ready.length;
      const entry = ready.removeAt(n === 1 ? 0 : run.chooseEntry(n, ready));
      this._left--;
      run.step();
      entry._run();
      if (this._stopping) return STOPPED;
    }
  }
}

/**
 * @internal Runs the program `main` makes once, every decision made by `chooser`. A
 * failure is recorded, not thrown: main threw, deadlocked, ran past the step
 * limit, or the loop's exception handler got a report.
 */
export function runOnce(
  main: () => unknown,
  chooser: Chooser,
  rules: RunRules,
  caller: string,
): Outcome {
  const run = new Run(chooser, caller, rules.maxSteps);
  const loop = new ExploringLoop(run);
  const reports: ExceptionContext[] = [];
  loop.setExceptionHandler((_loop, context) => void reports.push(context));
  // Names numbered per run, so that reports and schedules read the same in every run.
  let tasks = 0;
  loop.setTaskFactory((loop, coro, options) => {
    if (options === undefined) return new Task(coro, { loop, name: `Task-${++tasks}` });
    // The loop key first, then set, as BaseEventLoop does: far quicker than `{ ...options, loop }`.
    const bound = { loop, ...options };
    bound.loop = loop;
    bound.name ??= `Task-${++tasks}`;
    return new Task(coro, bound);
  });
  const outcome = run.outcome;
  const leave = enterRun(run);
  try {
    const program = main();
    // A promise-returning main (a native async function) waits for native async tasks,
    // which the loop will step like any other task: it is to be accepted here.
    if (!isCoroutine(program)) {
      throw argTypeError(
        caller,
        "main",
        main,
        `a function that returns a coroutine (it returned ${describe(program)})`,
        "pass a generator function, function* main() { ... }, that makes the program afresh on each call",
      );
    }
    try {
      loop._runSync(loop.createTask(program, { name: "main" }), caller);
    } catch (error) {
      if (error instanceof HostWaitError) throw error;
      outcome.failure = {
        kind:
          error instanceof StepLimitError
            ? "step limit"
            : error instanceof DeadlockError
              ? "deadlock"
              : "main threw",
        cause: error,
      };
    }
  } finally {
    leave();
  }
  loop.close(); // reports the failures nobody retrieved
  if (outcome.failure === null) {
    const report = reports.find((r) => r.exception !== undefined || rules.failOnWarnings);
    if (report !== undefined) {
      outcome.failure = {
        kind: "exception report",
        cause: report.exception ?? new Error(report.message),
      };
    }
  }
  return outcome;
}
