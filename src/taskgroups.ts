/**
 * Structured concurrency, as asyncio's TaskGroup (3.11+): tasks started in a
 * group never outlive it, the first failure cancels the rest, and every
 * failure comes out together in one AggregateError.
 */
import { cancellationFor } from "./abort.js";
import type { Coro } from "./coro.js";
import { CancelledError } from "./errors.js";
import { getRunningLoop, runningTask } from "./events.js";
import { FAILED, type Future, PENDING, WaitFuture } from "./futures.js";
import type { BaseEventLoop } from "./loops/base.js";
import { bodyCoroutine, checkBodyRunsHere, enterAwaitScope, leaveAwaitScope } from "./native.js";
import { checkNewTask, type Task, type TaskBody, type TaskOptions } from "./tasks.js";
import { type Op, thenable } from "./thenable.js";
import { classNameOf, inspectAsString } from "./util/inspect.js";
import { checkFunction } from "./validate.js";

/** Marks "the body ended without an error", since `undefined` is a value JavaScript can throw. */
const NO_ERROR: unique symbol = Symbol("no error");
/** What _exit() is given for a block closed with return(): its tasks are cancelled and waited for. */
const CLOSED: unique symbol = Symbol("closed");

/**
 * A group of tasks that all finish before the group does. Get one from
 * {@link taskGroup}, which runs a body with it and waits for its tasks.
 *
 * @example
 * ```ts
 * import { run, sleep, taskGroup } from "asynkit";
 * await run(function* () {
 *   const [a, b] = yield* taskGroup(function* (tg) {
 *     const a = tg.createTask(sleep(20, "a"));
 *     const b = tg.createTask(sleep(10, "b"));
 *     return [a, b];
 *   });
 *   console.log(a.result(), b.result()); // both done here: "a" "b"
 * });
 * ```
 */
export class TaskGroup {
  private _entered = false;
  private _exiting = false;
  private _aborting = false;
  private _loop: BaseEventLoop | null = null;
  private _parentTask: Task | null = null;
  private _parentCancelRequested = false;
  /** The await of a native task's function the group is inside, if any (see AwaitScope). */
  private _within: object | null = null;
  private readonly _tasks = new Set<Task>();
  private readonly _errors: unknown[] = [];
  private _onCompleted: Future<true> | null = null;

  /** @internal Made by taskGroup(), which enters it: a group made elsewhere could never be. */
  // biome-ignore lint/complexity/noUselessConstructor: it marks the constructor internal, for the declarations.
  constructor() {}

  /**
   * Starts `coro` as a task of the group, with createTask()'s options (as
   * asyncio 3.14's, `eagerStart` too: a failure within the eager start fails
   * the group). Throws if the group has not started, has finished, or is
   * shutting down after a failure.
   */
  createTask<T>(coro: TaskBody<T>, options?: TaskOptions): Task<T> {
    checkNewTask("tg.createTask()", coro, options);
    let problem: string | null = null;
    if (!this._entered) problem = "has not been entered: create tasks inside taskGroup(body)";
    else if (this._exiting && this._tasks.size === 0) problem = "is finished";
    else if (this._aborting) problem = "is shutting down after a failure or a cancellation";
    if (problem !== null) {
      if (typeof coro !== "function") coro.return(undefined as T);
      throw new Error(`TaskGroup ${problem}: no new task can be started in it.`);
    }
    const task = (this._loop as BaseEventLoop)._createTask(coro, options);
    // A task that already finished in an eager start is reported through its
    // callback too, so that its failure also cancels the sibling that is
    // creating it, once that one is in the group (CPython gh-128550).
    this._tasks.add(task as Task);
    task._addCallback(this._onTaskDone as (f: never) => void);
    return task;
  }

  toString(): string {
    const state = this._aborting ? " cancelling" : this._entered ? " entered" : "";
    return `<${classNameOf(this)} tasks=${this._tasks.size}${this._errors.length ? ` errors=${this._errors.length}` : ""}${state}>`;
  }

  /** @internal Runs `body` with the group, then waits for the group's tasks. */
  *_run<T>(body: (tg: TaskGroup) => Coro<T> | PromiseLike<T>): Coro<T> {
    if (this._entered) throw new Error("TaskGroup has already been entered: make a new one.");
    const loop = getRunningLoop();
    const parent = runningTask(loop);
    if (parent === null) throw new Error("taskGroup() must be used inside a task.");
    checkBodyRunsHere("taskGroup()", body, loop);
    this._loop = loop;
    this._parentTask = parent;
    this._within = enterAwaitScope(parent, this);
    this._entered = true;
    // Until the block ends by itself: a return() (GeneratorObject.close(), forAwait() leaving
    // early), in the body or while the group waits for its tasks, closes it.
    let closed = true;
    try {
      let result: T;
      try {
        result = yield* bodyCoroutine<T, this>("taskGroup()", body, this);
      } catch (error) {
        yield* this._exit(error);
        throw error;
      }
      yield* this._exit(NO_ERROR);
      closed = false;
      return result;
    } catch (error) {
      closed = false;
      throw error;
    } finally {
      if (closed) yield* this._exit(CLOSED);
      leaveAwaitScope(this._within, this);
    }
  }

  /** @internal The group goes on in `task`: its function let go of the await the group is in. */
  _moveTo(task: Task): void {
    this._parentTask = task;
  }

  /**
   * Waits for every task; raises what the group as a whole must raise. Returns
   * normally when the body's own error (if any) should propagate unchanged.
   */
  private *_exit(thrown: unknown): Coro<void> {
    this._exiting = true;
    let parent = this._parentTask as Task;
    // A host API's abort of the parent's taskSignal() is the parent's cancellation.
    const error =
      thrown === NO_ERROR || thrown === CLOSED
        ? thrown
        : (cancellationFor(parent, thrown) ?? thrown);
    let propagateCancel: CancelledError | null = error instanceof CancelledError ? error : null;
    if (error !== NO_ERROR && !this._aborting) this._abort();

    // A loop, since the parent may be cancelled again while it waits here.
    while (this._tasks.size > 0) {
      if (this._onCompleted === null)
        this._onCompleted = new WaitFuture(this._loop as BaseEventLoop, "its TaskGroup's tasks");
      try {
        yield* this._onCompleted;
      } catch (cancelled) {
        if (!(cancelled instanceof CancelledError)) throw cancelled;
        if (!this._aborting) {
          // The parent is cancelled from outside while the tasks still run.
          propagateCancel = cancelled;
          this._abort();
        } else if (error === CLOSED) propagateCancel = cancelled; // nothing else would raise it
      }
      this._onCompleted = null;
    }

    // Read again: the group may have moved to another task while it waited (see _moveTo).
    parent = this._parentTask as Task;
    if (this._parentCancelRequested && parent.uncancel() === 0) {
      // Only our own cancellation of the parent: it ends here.
      propagateCancel = null;
    }
    if (propagateCancel !== null && this._errors.length === 0) throw propagateCancel;
    if (error !== NO_ERROR && error !== CLOSED && !(error instanceof CancelledError))
      this._errors.push(error);
    if (this._errors.length > 0) {
      // Keep an outside cancellation of the parent pending, and its count stable.
      if (parent.cancelling() > 0) {
        parent.uncancel();
        parent.cancel();
      }
      const n = this._errors.length;
      throw new AggregateError(
        this._errors,
        `unhandled errors in a TaskGroup (${n} sub-exception${n === 1 ? "" : "s"})`,
      );
    }
  }

  private _abort(): void {
    this._aborting = true;
    for (const task of this._tasks) if (!task.done()) task.cancel();
  }

  private _onTaskDone = (task: Task): void => {
    this._tasks.delete(task);
    const onCompleted = this._onCompleted;
    if (onCompleted !== null && this._tasks.size === 0 && onCompleted._state === PENDING) {
      onCompleted._resolve(true);
    }
    // A failure may be undefined, which exception() also returns for a success.
    if (task._state !== FAILED) return;
    const error = task.exception();
    this._errors.push(error);
    const parent = this._parentTask as Task;
    if (parent.done()) {
      (this._loop as BaseEventLoop).callExceptionHandler({
        message: `Task ${task} has errored out but its parent task ${parent} is already completed`,
        exception: error,
        task,
      });
      return;
    }
    if (!this._aborting && !this._parentCancelRequested) {
      // Stop the body too: cancel the parent, and take that back in _exit().
      this._abort();
      this._parentCancelRequested = true;
      parent.cancel();
    }
  };
}

inspectAsString(TaskGroup);

/**
 * Runs `body` with a new {@link TaskGroup} and waits until every task it
 * started is done; returns the body's result. The first task to fail cancels
 * the other tasks and the body; all the errors are then raised together in an
 * AggregateError. Cancelling the task that runs the group cancels its tasks.
 *
 * @example
 * ```ts
 * import { run, sleep, taskGroup } from "asynkit";
 * function* failSoon() { yield* sleep(10); throw new Error("boom"); }
 * await run(function* () {
 *   try {
 *     yield* taskGroup(function* (tg) {
 *       tg.createTask(failSoon());
 *       tg.createTask(sleep(60_000)); // cancelled when failSoon fails
 *     });
 *   } catch (e) {
 *     console.log((e as AggregateError).errors); // [Error: boom]
 *   }
 * });
 * ```
 */
export function taskGroup<T>(body: (tg: TaskGroup) => Coro<T> | PromiseLike<T>): Op<T> {
  checkFunction(
    "taskGroup()",
    "body",
    body,
    "pass the block to run, as a function* or an async function: taskGroup(async (tg) => { ... })",
  );
  return new TaskGroup()._run(body) as Op<T>;
}

thenable(TaskGroup.prototype._run);
