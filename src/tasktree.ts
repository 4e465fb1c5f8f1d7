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
import { hostDelay } from "./util/hostdelay.js";
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

/** @internal How long (real time) a shutdown waits, once it cancelled the tasks, before it names those the cancellation cannot reach. */
export const UNREACHED_AFTER_MS = 1000;

/**
 * @internal Once UNREACHED_AFTER_MS of real time has passed, reports each
 * live task of `loop` blocked on a host promise with its cancellation
 * pending, which it gets only at its next asynkit await: a shutdown that
 * waits for it would otherwise wait in silence (a test's runner times out
 * saying nothing of why). Returns what stops the watch.
 */
export function reportUnreachedLater(
  loop: BaseEventLoop,
  opening: string,
  closing: string,
): () => void {
  return hostDelay(
    () => {
      if (loop.isClosed()) return;
      for (const task of loop._liveTasks()) {
        if (!task._blockedOnHost || !task._mustCancel) continue;
        loop.callExceptionHandler({
          message: `${opening} ${taskLabel(task)} waits on ${describeWait(task)}: ${whyStillRunning(task)}. ${closing}`,
          task,
        });
      }
    },
    UNREACHED_AFTER_MS,
    false, // no reason to stay: a process with nothing else left exits, with its own report
  );
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
const HALF_SHOWN = CHAIN_SHOWN / 2;

/** What a chain's line needs of it: how many hops, the first ones shown and the last ones. */
interface ChainSummary {
  readonly hops: number;
  /** Its first hops, CHAIN_SHOWN + 1 at most: all of them when that is all there are. */
  readonly first: readonly string[];
  /** Its last hops, HALF_SHOWN at most. */
  readonly last: readonly string[];
}

/** The summary of a chain of `count` hops, the j-th of them `hop(j)`: only the ones it keeps are asked for. */
function summaryOf(count: number, hop: (j: number) => string): ChainSummary {
  const first: string[] = [];
  for (let j = 0; j < Math.min(count, CHAIN_SHOWN + 1); j++) first.push(hop(j));
  const last: string[] = [];
  for (let j = Math.max(0, count - HALF_SHOWN); j < count; j++) last.push(hop(j));
  return { hops: count, first, last };
}

/** The chain of `hop` and then `rest`. */
function prepend(hop: string, rest: ChainSummary): ChainSummary {
  const first = [hop, ...rest.first].slice(0, CHAIN_SHOWN + 1);
  // A rest shorter than the last hops kept has all of its hops in `first`.
  const last = rest.hops >= HALF_SHOWN ? rest.last : first.slice(-HALF_SHOWN);
  return { hops: rest.hops + 1, first, last };
}

/**
 * @internal The await chains of a loop's tasks, as one report describes
 * them: what each task waits on, then, while that is a pending task, what
 * that task waits on, and so on ("Task "b" → Queue.get()", "Task "b" → a
 * native promise only the host settles"). Each task's chain is its first hop
 * and the chain of the task it waits on, kept once worked out, so that a
 * report of n tasks in one chain costs O(n), not O(n²).
 */
export class AwaitChains {
  private readonly summaries = new Map<Task<unknown>, ChainSummary>();

  /** `task`'s chain, in words. */
  describe(task: Task<unknown>): string {
    const { hops, first, last } = this.summaryOf(task);
    if (hops <= CHAIN_SHOWN + 1) return first.join(" → ");
    // The hops left out are tasks: the last hop, kept, is the only one that may be no task.
    const skipped = `… ${hops - CHAIN_SHOWN} more tasks …`;
    return [...first.slice(0, HALF_SHOWN), skipped, ...last].join(" → ");
  }

  private summaryOf(task: Task<unknown>): ChainSummary {
    const summaries = this.summaries;
    // Down the chain to a task worked out already, its end, or a task met before (a cycle).
    const path: Task<unknown>[] = [];
    const onPath = new Map<Task<unknown>, number>();
    let at: Task<unknown> | null = task;
    while (at !== null && !summaries.has(at) && !onPath.has(at)) {
      onPath.set(at, path.length);
      path.push(at);
      at = nextInChain(at);
    }
    if (at !== null && onPath.has(at)) {
      // The tasks from `at` on await each other in a ring: each one's chain goes once round it.
      const ring = path.splice(onPath.get(at) as number);
      const waits = ring.map(describeWait);
      const size = ring.length;
      ring.forEach((member, i) => {
        const hop = (j: number) => (j === size ? "(a cycle)" : (waits[(i + j) % size] as string));
        summaries.set(member, summaryOf(size + 1, hop));
      });
    }
    // Back up the chain, each task's from the next one's.
    for (let i = path.length - 1; i >= 0; i--) {
      const member = path[i] as Task<unknown>;
      const next = nextInChain(member);
      const end = next === null ? chainEnd(member) : null;
      const rest =
        end === null
          ? (summaries.get(next as Task<unknown>) as ChainSummary)
          : summaryOf(end.length, (j) => end[j] as string);
      summaries.set(member, prepend(describeWait(member), rest));
    }
    return summaries.get(task) as ChainSummary;
  }
}

/** The task `task` waits on, when that task waits on a future in turn: the chain goes on there. */
function nextInChain(task: Task<unknown>): Task<unknown> | null {
  const awaited = task._futWaiter;
  return awaited instanceof Task && awaited._state === PENDING && awaited._futWaiter !== null
    ? awaited
    : null;
}

/** The hops after `task`'s own where its chain ends: a task it waits on that waits on the host says so. */
function chainEnd(task: Task<unknown>): string[] {
  const awaited = task._futWaiter;
  const host = awaited instanceof Task && awaited._state === PENDING && awaited._blockedOnHost;
  return host ? [HOST_AWAIT] : [];
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
export function taskLine(
  task: Task<unknown>,
  positions: Map<Task<unknown>, number>,
  chains: AwaitChains = new AwaitChains(),
): string {
  const name = taskLabel(task);
  if (task === task._loop._currentTask) return `${name} running`;
  const position = positions.get(task);
  if (position !== undefined) return `${name} ready at position ${position}`;
  // In debug mode the loop notes when each wait began.
  const since = task._loop._linter?.waitingSince(task);
  const when = since === undefined ? "" : ` since t=${Math.round(since)} ms`;
  return `${name} waits on ${chains.describe(task)}${when}`;
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

/** How many levels of the task tree move their lines right; deeper ones say their level. */
const MAX_INDENTED = 32;

/** @internal formatTaskTree() for a loop known to be one. */
export function taskTree(loop: BaseEventLoop): string {
  const tasks = loop._liveTasks();
  if (tasks.length === 0) return "No live tasks.";
  const positions = readyPositions(loop);
  const chains = new AwaitChains();
  const children = new Map<Task<unknown> | null, Task<unknown>[]>();
  for (const task of tasks) {
    const parent = task._parent?.task ?? null;
    const siblings = children.get(parent);
    if (siblings === undefined) children.set(parent, [task]);
    else siblings.push(task);
  }
  const lines: string[] = [];
  // Depth first, with a stack of its own: a chain of tasks each made by the one before
  // may be thousands deep, past what recursion can take.
  const todo: { task: Task<unknown>; lead: string; indent: string; level: number }[] = [];
  const pushAll = (own: readonly Task<unknown>[], indent: string, level: number): void => {
    // Past MAX_INDENTED levels the lines stop moving right, and say their level instead:
    // a line of tasks thousands deep would otherwise make a text of its depth squared.
    const deep = level > MAX_INDENTED;
    for (let i = own.length - 1; i >= 0; i--) {
      const last = i === own.length - 1;
      const lead = `${indent}${last ? "└── " : "├── "}${deep ? `(level ${level}) ` : ""}`;
      const below = deep ? indent : indent + (last ? "    " : "│   ");
      todo.push({ task: own[i] as Task<unknown>, lead, indent: below, level });
    }
  };
  const roots = children.get(null) ?? [];
  for (let i = roots.length - 1; i >= 0; i--) {
    todo.push({ task: roots[i] as Task<unknown>, lead: "", indent: "", level: 0 });
  }
  for (let next = todo.pop(); next !== undefined; next = todo.pop()) {
    const { task, lead, indent, level } = next;
    lines.push(lead + taskLine(task, positions, chains));
    const own = children.get(task) ?? [];
    // Under the task's line; the line down to its children goes on beside them.
    const margin = `${indent}${own.length > 0 ? "│" : " "}     `;
    for (const frame of suspendedAt(task, positions)) lines.push(margin + frame);
    pushAll(own, indent, level + 1);
  }
  return lines.join("\n");
}
