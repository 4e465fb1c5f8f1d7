/**
 * Scheduling functions built on a scheduling loop's ready queue: wake after N
 * others, move a task, switch to a task, start a task depth-first; and which
 * tasks are runnable or blocked (asynkit's scheduling functions).
 */
import { observed, publish } from "./channels.js";
import type { Coro } from "./coro.js";
import { getRunningLoop, type Handle, runningTask } from "./events.js";
import { PENDING } from "./futures.js";
import type { BaseEventLoop } from "./loops/base.js";
import { isSchedulingLoop, type SchedulingLoopInternals } from "./loops/scheduling.js";
import { HOST_AWAIT } from "./native.js";
import { allTasks, checkNewTask, Task, type TaskBody, type TaskOptions } from "./tasks.js";
import { type Op, thenable } from "./thenable.js";
import {
  argTypeError,
  checkInteger,
  checkLoopOption,
  checkOptions,
  type OptionNames,
} from "./validate.js";

/** @internal A loop made with SchedulingMixin, with its internals. */
export type AnySchedulingLoop = BaseEventLoop & SchedulingLoopInternals;

/**
 * Options for createTaskDescend() and createTaskStart(): createTask()'s
 * (a name, a context, a signal, a priority on a priority loop), but
 * `eagerStart`, which is what these calls are about already.
 */
export type CreateTaskOptions = Omit<TaskOptions, "eagerStart">;

/** Options for taskSwitch(). */
export interface TaskSwitchOptions {
  /**
   * Where the current task waits in the ready queue: at this position (1: right
   * after the target; 0: before it, so that it runs again first and nothing
   * switches). Default: at the end, as `sleep(0)`.
   */
  insertPos?: number | undefined;
}

/** @internal */
export const TASK_SWITCH_OPTIONS: OptionNames<TaskSwitchOptions> = { insertPos: true };

/** @internal `given` (default: the running loop) as a scheduling loop, or a TypeError naming `what`. */
export function schedulingLoop(what: string, given?: BaseEventLoop): AnySchedulingLoop {
  checkLoopOption(`${what}()`, "loop", given);
  const loop = given ?? getRunningLoop();
  if (!isSchedulingLoop(loop)) {
    throw new TypeError(
      `${what}() needs a scheduling event loop, but ${loop} is not one: run the program on a ` +
        "SchedulingHostEventLoop or SchedulingVirtualEventLoop, e.g. `using _ = eventLoopPolicy(); " +
        "await run(main())` or `run(main, { loopFactory: schedulingLoopFactory })`.",
    );
  }
  return loop as AnySchedulingLoop;
}

/** @internal Throws unless `task` is a Task; `what` names the public function. */
export function checkTask(what: string, task: unknown): void {
  if (!(task instanceof Task)) {
    throw argTypeError(
      `${what}()`,
      "task",
      task,
      "a Task",
      "pass a task, e.g. one createTask() returned",
    );
  }
}

/** Takes `task`'s entry out of the ready queue, or throws an Error that says why it has none. */
function takeTask(what: string, loop: AnySchedulingLoop, task: Task): Handle {
  const handle = loop._takeTask(task);
  if (handle !== null) return handle;
  let why: string;
  if (task._loop !== loop) why = "it belongs to a different event loop";
  else if (task.done()) why = "it is done";
  else if (task === loop._currentTask) why = "it is the task running now";
  else if (task._blockedOnHost) why = `it is blocked waiting for ${HOST_AWAIT}`;
  else if (task._stepInMicrotasks)
    why = "its step goes on in the microtasks, in an async function or body, to its next await";
  else if (taskIsBlocked(task)) why = `it is blocked waiting for ${task._futWaiter}`;
  else why = "its entry was taken out of the queue";
  throw new Error(
    `${what}(): ${task} is not in the ready queue (${why}), so it cannot be moved: ` +
      "only a task waiting in the ready queue can (see runnableTasks()).",
  );
}

/** A task's move to a position of the ready queue, withdrawn if its wait ends before it yields. */
interface Move {
  readonly task: Task;
  withdrawn: boolean;
}

/** Runs right after the task yielded, so its entry is the last one: moves it to `pos`. */
function moveTaskTo(move: Move, pos: number): void {
  if (move.withdrawn) return;
  const loop = move.task._loop as AnySchedulingLoop;
  const handle = loop._takeTask(move.task);
  if (handle !== null) loop._putBack(handle, pos);
}

/** @internal The current task waits at position `pos` of the ready queue (sleepInsert). */
export function* sleepAt(what: string, loop: AnySchedulingLoop, pos: number): Coro<void> {
  const task = runningTask(loop);
  if (task === null) {
    throw new Error(
      `${what}() must be awaited by a task: yield* it from a coroutine the loop runs.`,
    );
  }
  if (observed) publish("ready.move", { loop, op: what, task, position: pos });
  const move: Move = { task, withdrawn: false };
  loop._callFirst(moveTaskTo, move, pos);
  try {
    yield;
  } finally {
    // Closed before it yielded to its task (coroStart(sleepInsert(0)).close()): the move
    // would take the task's next wait instead.
    move.withdrawn = true;
  }
}

function* sleepInsertOn(pos: number): Coro<void> {
  yield* sleepAt("sleepInsert", schedulingLoop("sleepInsert"), pos);
}

/**
 * Like `sleep(0)`, but wakes after only `pos` other ready entries have run:
 * the current task goes to position `pos` of the ready queue (0: next; a
 * negative one counts from the end, as in Python's `list.insert`) rather than
 * to its end. Later scheduling may move it again.
 *
 * @example
 * ```ts
 * import { createTask, run, schedulingLoopFactory, sleepInsert } from "asynkit";
 * const log: string[] = [];
 * await run(function* () {
 *   for (const name of ["a", "b", "c"]) createTask((function* () { log.push(name); })());
 *   yield* sleepInsert(1);
 *   log.push("main");
 * }, { loopFactory: schedulingLoopFactory });
 * console.log(log); // ["a", "main", "b", "c"]
 * ```
 */
export function sleepInsert(pos: number): Op<void> {
  checkInteger("sleepInsert()", "pos", pos);
  return sleepInsertOn(pos) as Op<void>;
}

/**
 * Moves a runnable task's entry to position `pos` of the ready queue (Python
 * `list.insert` positions). Throws an Error, leaving the queue as it was, if
 * the task has no entry in the queue (it is blocked, done, or running).
 *
 * The one-argument form is asynkit's original: it moves the entry at the end
 * of the queue, which is where a task just created waits.
 *
 * @example
 * ```ts
 * import { createTask, run, schedulingLoopFactory, taskReinsert } from "asynkit";
 * const log: string[] = [];
 * await run(function* () {
 *   const tasks = ["a", "b", "c"].map((name) => createTask((function* () { log.push(name); })()));
 *   taskReinsert(tasks[2]!, 0); // or, for the task created last: taskReinsert(0)
 *   yield* tasks[1]!;
 * }, { loopFactory: schedulingLoopFactory });
 * console.log(log); // ["c", "a", "b"]
 * ```
 */
export function taskReinsert(task: Task, pos: number): void;
export function taskReinsert(pos: number): void;
export function taskReinsert(taskOrPos: Task | number, pos?: number): void {
  if (typeof taskOrPos === "number") {
    checkInteger("taskReinsert()", "pos", taskOrPos);
    reinsertLast(schedulingLoop("taskReinsert"), taskOrPos);
    return;
  }
  checkTask("taskReinsert", taskOrPos);
  checkInteger("taskReinsert()", "pos", pos);
  const loop = schedulingLoop("taskReinsert");
  const handle = takeTask("taskReinsert", loop, taskOrPos);
  if (observed)
    publish("ready.move", { loop, op: "taskReinsert", task: taskOrPos, position: pos as number });
  loop._putBack(handle, pos as number);
}

function reinsertLast(loop: AnySchedulingLoop, pos: number): void {
  const length = loop.readyLen();
  if (length === 0) {
    throw new Error(`taskReinsert(${pos}): the ready queue is empty: there is no task to move.`);
  }
  const last = loop._takeAt(length - 1);
  const task = loop.taskFromHandle(last);
  if (task === null) {
    loop._putBack(last, length - 1);
    throw new Error(
      `taskReinsert(${pos}): the last entry of the ready queue resumes no task: pass the task to move, taskReinsert(task, ${pos}).`,
    );
  }
  if (observed) publish("ready.move", { loop, op: "taskReinsert", task, position: pos });
  loop._putBack(last, pos);
}

function* switchTo(task: Task, insertPos: number | undefined): Coro<void> {
  const loop = schedulingLoop("taskSwitch");
  const handle = takeTask("taskSwitch", loop, task);
  if (observed) publish("ready.move", { loop, op: "taskSwitch", task, position: 0 });
  loop._putBack(handle, 0);
  if (insertPos === undefined) yield;
  else yield* sleepAt("taskSwitch", loop, insertPos);
}

/**
 * Switches to `task` at once: it moves to the front of the ready queue and the
 * current task waits, at the end of the queue or at `insertPos` (1: right
 * after the target, so control comes back as soon as the target suspends).
 * Throws an Error, leaving the queue as it was, if the task has no entry in the
 * ready queue (it is blocked, done, or the current task).
 *
 * @example
 * ```ts
 * import { createTask, run, schedulingLoopFactory, taskSwitch } from "asynkit";
 * const log: string[] = [];
 * await run(function* () {
 *   const a = createTask((function* () { log.push("a"); })());
 *   const b = createTask((function* () { log.push("b"); })());
 *   yield* taskSwitch(b, { insertPos: 1 });
 *   log.push("main");
 *   yield* a;
 * }, { loopFactory: schedulingLoopFactory });
 * console.log(log); // ["b", "main", "a"]
 * ```
 */
export function taskSwitch(task: Task, options?: TaskSwitchOptions): Op<void> {
  checkTask("taskSwitch", task);
  checkOptions("taskSwitch()", options, "{ insertPos: 1 }", TASK_SWITCH_OPTIONS);
  const insertPos = options?.insertPos;
  if (insertPos !== undefined) checkInteger("taskSwitch()", "insertPos", insertPos);
  return switchTo(task, insertPos) as Op<void>;
}

/**
 * Creates a task and runs it at once, until it first suspends; then the caller
 * continues: depth-first task creation, done by reordering the ready queue.
 * Unlike `eager()`, a Task is always created. If the loop's task factory
 * already started the task eagerly and it is not waiting in the ready queue,
 * the caller continues at once.
 *
 * @example
 * ```ts
 * import { createTaskDescend, run, schedulingLoopFactory, sleep } from "asynkit";
 * const log: string[] = [];
 * await run(function* () {
 *   const child = yield* createTaskDescend((function* () {
 *     log.push("child starts");
 *     yield* sleep(10);
 *     log.push("child ends");
 *   })());
 *   log.push("parent goes on");
 *   yield* child;
 * }, { loopFactory: schedulingLoopFactory });
 * console.log(log); // ["child starts", "parent goes on", "child ends"]
 * ```
 */
export function createTaskDescend<T>(coro: TaskBody<T>, options?: CreateTaskOptions): Op<Task<T>> {
  checkNewTask("createTaskDescend()", coro, options);
  return descend(coro, options) as Op<Task<T>>;
}

function* descend<T>(coro: TaskBody<T>, options: CreateTaskOptions | undefined): Coro<Task<T>> {
  const loop = schedulingLoop("createTaskDescend");
  const task = loop.createTask(coro, options);
  if (taskIsRunnable(task as Task)) yield* switchTo(task as Task, 1);
  return task;
}

/**
 * Creates a task and lets it start: the caller yields once (as `sleep(0)`), so
 * the new task runs its first step before the caller goes on. Works on any loop.
 *
 * @example
 * ```ts
 * import { createTaskStart, run } from "asynkit";
 * await run(function* () {
 *   const task = yield* createTaskStart((function* () { console.log("started"); })());
 *   console.log(task.done()); // true
 * });
 * ```
 */
export function createTaskStart<T>(coro: TaskBody<T>, options?: CreateTaskOptions): Op<Task<T>> {
  checkNewTask("createTaskStart()", coro, options);
  return startTask(coro, options) as Op<Task<T>>;
}

function* startTask<T>(coro: TaskBody<T>, options: CreateTaskOptions | undefined): Coro<Task<T>> {
  const task = getRunningLoop().createTask(coro, options);
  yield;
  return task;
}

/**
 * True when the task waits for a future that is not done yet, or (an async
 * function task) for a native promise only the host settles, or for its
 * function to reach its next await in the microtasks. A task is blocked,
 * runnable, running, or done. Works on any loop.
 *
 * @example
 * ```ts
 * import { createTask, run, sleep, taskIsBlocked } from "asynkit";
 * await run(function* () {
 *   const task = createTask(sleep(10));
 *   console.log(taskIsBlocked(task)); // false: it has not started
 *   yield;
 *   console.log(taskIsBlocked(task)); // true: it sleeps
 * });
 * ```
 */
export function taskIsBlocked(task: Task): boolean {
  checkTask("taskIsBlocked", task);
  return isBlocked(task);
}

function isBlocked(task: Task): boolean {
  const waitingFor = task._futWaiter;
  if (waitingFor !== null && waitingFor._state === PENDING) return true;
  // An async function task on the host, or, started eagerly by the task running now, on
  // its way to its first await in the microtasks: no entry in the ready queue either way.
  return task._blockedOnHost || (task._stepInMicrotasks && task !== task._loop._currentTask);
}

/**
 * True when the task is neither blocked nor done: it waits in the ready queue,
 * it is the task running now, an eager start it made runs above its step on
 * the stack, or readyPop() took its entry out. Works on any loop.
 *
 * @example
 * ```ts
 * import { createTask, run, sleep, taskIsRunnable } from "asynkit";
 * await run(function* () {
 *   const task = createTask(sleep(10));
 *   console.log(taskIsRunnable(task)); // true
 * });
 * ```
 */
export function taskIsRunnable(task: Task): boolean {
  checkTask("taskIsRunnable", task);
  return task._state === PENDING && !taskIsBlocked(task);
}

/**
 * The tasks that wait in the ready queue of `loop` (default: the running loop).
 * With {@link blockedTasks} and the current task they make up `allTasks()`,
 * but for the tasks whose step an eager start interrupted.
 *
 * @example
 * ```ts
 * import { createTask, run, runnableTasks, schedulingLoopFactory } from "asynkit";
 * await run(function* () {
 *   const task = createTask((function* () {})());
 *   console.log(runnableTasks().has(task)); // true
 * }, { loopFactory: schedulingLoopFactory });
 * ```
 */
export function runnableTasks(loop?: BaseEventLoop): Set<Task> {
  return new Set(schedulingLoop("runnableTasks", loop).queueTasks());
}

/**
 * The tasks of `loop` (default: the running loop) that wait: for a future,
 * or, an async function task, on the host. Not the tasks in the ready queue,
 * the one running, nor those whose step an eager start interrupted (its
 * creator's, below it on the stack): each is a task {@link taskIsBlocked}
 * says is blocked.
 *
 * @example
 * ```ts
 * import { blockedTasks, createTask, run, schedulingLoopFactory, sleep } from "asynkit";
 * await run(function* () {
 *   const task = createTask(sleep(10));
 *   yield;
 *   console.log(blockedTasks().has(task)); // true
 * }, { loopFactory: schedulingLoopFactory });
 * ```
 */
export function blockedTasks(loop?: BaseEventLoop): Set<Task> {
  const blocked = new Set<Task>();
  for (const task of allTasks(schedulingLoop("blockedTasks", loop))) {
    if (isBlocked(task)) blocked.add(task);
  }
  return blocked;
}

thenable(sleepInsertOn);
thenable(switchTo);
thenable(descend);
thenable(startTask);
