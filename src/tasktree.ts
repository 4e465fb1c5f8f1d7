/**
 * The live task tree, in text: each task with its state and what it waits on,
 * children under the task that created them, as `python -m asyncio pstree`.
 * Deadlock reports describe each task with the same words.
 */
import { getRunningLoop, Handle, type ReadyEntry } from "./events.js";
import { Future, PENDING, wakeWaiter } from "./futures.js";
import { TaskTimeout } from "./interrupt.js";
import type { BaseEventLoop } from "./loops/base.js";
import { HOST_AWAIT } from "./native.js";
import { userFrames } from "./suspendsite.js";
import { Task, taskStep, throwIntoTask } from "./tasks.js";
import { Timeout } from "./timeouts.js";
import { checkLoopOption } from "./validate.js";

/** @internal The task an entry of the ready queue will resume, if any (step, throw-in or wakeup). */
export function taskOfEntry(entry: Handle | ReadyEntry): Task | null {
  if (entry instanceof Task) return entry;
  if (!(entry instanceof Handle)) return null;
  const callback = entry._callback;
  if (callback === taskStep || callback === throwIntoTask) return entry._arg0 as Task;
  if (callback === wakeWaiter && entry._arg0 instanceof Task) return entry._arg0;
  return null;
}

/** @internal The task a timer entry is for: a sleep's sleeper, the task of a timeout() or taskTimeout(). */
export function timerTask(entry: Handle | ReadyEntry): Task | null {
  if (entry instanceof Future) {
    const sleeper = entry._callbacks; // a sleep's timer has its one task as its callback
    return sleeper instanceof Task ? sleeper : null;
  }
  const deadline = (entry as Handle)._arg0;
  return deadline instanceof Timeout || deadline instanceof TaskTimeout ? deadline._task : null;
}

/** @internal How reports name a task: `Task "name"`. */
export function taskLabel(task: Task<unknown>): string {
  return `Task ${JSON.stringify(task.getName())}`;
}

/** @internal A future a task waits on, in words: its label, or the task's name. */
export function describeAwaited(future: Future<unknown>): string {
  if (future instanceof Task) return taskLabel(future);
  return future._label() ?? String(future);
}

/** @internal What a task waits on, in words: the future's description, the task it waits for, or the host. */
export function describeWait(task: Task<unknown>): string {
  return waitingOn(task) ?? "nothing the loop can see";
}

/** @internal What a task waits on, in words, or null when it waits on nothing (it is ready, running or done). */
export function waitingOn(task: Task<unknown>): string | null {
  const waiter = task._futWaiter;
  if (waiter !== null) return describeAwaited(waiter);
  // An async function's await of something the loop did not make (see native.ts).
  return task._blockedOnHost ? HOST_AWAIT : null;
}

/**
 * @internal Why a cancelled task still runs, for the reports of shutdowns
 * that wait for it: a task blocked on the host gets its cancellation only at
 * its next asynkit await, which the host API it awaits holds back unless it
 * took the task's signal.
 */
export function whyStillRunning(task: Task<unknown>): string {
  return task._blockedOnHost && task._mustCancel
    ? "its cancellation waits for its next asynkit await, and the host API it awaits did not end on its taskSignal(): pass taskSignal() to that API, or await it through fromPromise()"
    : "it caught the CancelledError, or its cleanup takes that long";
}

/**
 * The hops of an await chain shown whole; a longer one shows its first and
 * last few, so that a report of a chain d tasks deep, a line for each task,
 * stays O(d) in size, not O(d²).
 */
const CHAIN_SHOWN = 8;

/**
 * The await chain of a waiting task: what it waits on, then, while that is a
 * pending task, what that task waits on, and so on ("Task "b" → Queue.get()",
 * "Task "b" → a native promise only the host settles").
 */
function awaitChain(task: Task<unknown>): string {
  const hops = [describeWait(task)];
  const seen = new Set<Task<unknown>>([task]);
  let awaited = task._futWaiter;
  while (awaited instanceof Task && awaited._state === PENDING) {
    if (awaited._futWaiter === null) {
      // A native task blocked on the host waits on no future: the chain ends there, said so.
      if (awaited._blockedOnHost) hops.push(HOST_AWAIT);
      break;
    }
    if (seen.has(awaited)) {
      hops.push("(a cycle)");
      break;
    }
    seen.add(awaited);
    awaited = awaited._futWaiter;
    hops.push(describeAwaited(awaited));
  }
  // The hops left out are tasks: the last hop, kept, is the only one that may be no task.
  if (hops.length <= CHAIN_SHOWN + 1) return hops.join(" → ");
  const half = CHAIN_SHOWN / 2;
  const skipped = `… ${hops.length - CHAIN_SHOWN} more tasks …`;
  return [...hops.slice(0, half), skipped, ...hops.slice(-half)].join(" → ");
}

/** @internal Where each task with an entry in the loop's ready queue stands in it (position 0 runs next). */
export function readyPositions(loop: BaseEventLoop): Map<Task<unknown>, number> {
  const positions = new Map<Task<unknown>, number>();
  const ready = loop._ready;
  for (let i = 0; i < ready.length; i++) {
    const task = taskOfEntry(ready.get(i));
    if (task !== null && !positions.has(task)) positions.set(task, i);
  }
  return positions;
}

/** @internal One task's line: its name and state, as the tree and deadlock reports show it. */
export function taskLine(task: Task<unknown>, positions: Map<Task<unknown>, number>): string {
  const name = taskLabel(task);
  if (task === task._loop._currentTask) return `${name} running`;
  const position = positions.get(task);
  if (position !== undefined) return `${name} ready at position ${position}`;
  // In debug mode the loop notes when each wait began.
  const since = task._loop._linter?.waitingSince(task);
  const when = since === undefined ? "" : ` since t=${Math.round(since)} ms`;
  return `${name} waits on ${awaitChain(task)}${when}`;
}

/**
 * @internal Where a waiting task suspended, innermost frame first, if its wait
 * began in debug mode (empty otherwise, and for a task that runs or is ready).
 */
export function suspendedAt(task: Task<unknown>, positions: Map<Task<unknown>, number>): string[] {
  if (task === task._loop._currentTask || positions.has(task)) return [];
  const site = task._loop._linter?.suspendedAt(task);
  return site === undefined ? [] : userFrames(site);
}

/**
 * The loop's live tasks as a text tree, one line per task: its name, its
 * state (`running`, `ready at position N` in the ready queue, or `waits on`
 * its await chain: the future or task it waits on, and what that task waits
 * on in turn), and under it the tasks it created (with createTask() or a
 * TaskGroup) that are still live. A task whose creator is done stands at the
 * top level. Without a loop argument it shows the running loop's tasks.
 * In debug mode a waiting task's line also says since when it waits (loop
 * time), and the lines under it where its coroutine suspended: the user's
 * frames of the stack taken at its `yield*`, innermost first, since a
 * suspended generator shows none. `loop.dumpTasks()` gives the same text.
 *
 * @example
 * ```ts
 * import { createTask, Event, formatTaskTree, getRunningLoop, VirtualEventLoop } from "asynkit";
 * new VirtualEventLoop().runSync(function* () {
 *   const go = new Event();
 *   createTask(go.wait(), { name: "waiter" });
 *   yield;
 *   console.log(formatTaskTree(getRunningLoop()));
 *   // Task "Task-1" running
 *   // └── Task "waiter" waits on Event.wait()
 *   go.set();
 * }());
 * ```
 */
export function formatTaskTree(loop?: BaseEventLoop): string {
  checkLoopOption("formatTaskTree()", "loop", loop);
  return taskTree(loop ?? getRunningLoop());
}

/** @internal formatTaskTree() for a loop known to be one. */
export function taskTree(loop: BaseEventLoop): string {
  const tasks = loop._liveTasks();
  if (tasks.length === 0) return "No live tasks.";
  const positions = readyPositions(loop);
  const children = new Map<Task<unknown> | null, Task<unknown>[]>();
  for (const task of tasks) {
    const parent = task._parent?.task ?? null;
    const siblings = children.get(parent);
    if (siblings === undefined) children.set(parent, [task]);
    else siblings.push(task);
  }
  const lines: string[] = [];
  const add = (task: Task<unknown>, lead: string, indent: string): void => {
    lines.push(lead + taskLine(task, positions));
    const own = children.get(task) ?? [];
    // Under the task's line; the line down to its children goes on beside them.
    const margin = `${indent}${own.length > 0 ? "│" : " "}     `;
    for (const frame of suspendedAt(task, positions)) lines.push(margin + frame);
    own.forEach((child, i) => {
      const last = i === own.length - 1;
      add(child, indent + (last ? "└── " : "├── "), indent + (last ? "    " : "│   "));
    });
  };
  for (const root of children.get(null) ?? []) add(root, "", "");
  return lines.join("\n");
}
