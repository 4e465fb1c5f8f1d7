/**
 * Deadlock detection: a run that waits for what can never come is told so
 * with a DeadlockError that lists every unfinished task and what it waits on,
 * instead of hanging, or letting the process exit in silence.
 */
import { DeadlockError } from "./errors.js";
import type { Future } from "./futures.js";
import type { BaseEventLoop } from "./loops/base.js";
import { describeAwaited, readyPositions, suspendedAt, taskLine } from "./tasktree.js";
import { hostSetTimeout } from "./util/host.js";

/** A deadlock report lists at most this many tasks. */
const MAX_LISTED = 20;

/**
 * @internal The DeadlockError of a run by `caller` (a public function, for the
 * message) that waits for `awaited` on `loop`, which can never happen because of `why`.
 */
export function deadlockError(
  caller: string,
  awaited: Future<unknown>,
  loop: BaseEventLoop,
  why: string,
): DeadlockError {
  const tasks = loop._liveTasks();
  // Each task in the words of the task tree (see formatTaskTree()).
  const positions = readyPositions(loop);
  let list = "";
  for (const task of tasks.slice(0, MAX_LISTED)) {
    list += `\n  ${taskLine(task, positions)}`;
    for (const frame of suspendedAt(task, positions)) list += `\n        ${frame}`;
  }
  if (tasks.length > MAX_LISTED) list += `\n  … and ${tasks.length - MAX_LISTED} more`;
  const what =
    tasks.length > 0 ? ` Unfinished tasks:${list}` : ` It waits on ${describeAwaited(awaited)}.`;
  return new DeadlockError(
    `${caller}: deadlock: the program waits for something that can never happen: ${why}.${what}`,
    tasks,
  );
}

interface ExitEvents {
  on(event: "beforeExit", listener: () => void): unknown;
  removeListener(event: "beforeExit", listener: () => void): unknown;
}

/** Node's `process` (also Bun's and Deno's), if this host has one that emits beforeExit. */
function hostProcess(): ExitEvents | null {
  const process = (globalThis as { process?: Partial<ExitEvents> }).process;
  return typeof process?.on === "function" && typeof process.removeListener === "function"
    ? (process as ExitEvents)
    : null;
}

/** The loops whose runUntilComplete() is pending. */
const waiting = new Set<BaseEventLoop>();

/**
 * The process is about to exit: the host has nothing left that could wake a
 * loop, so a run still waiting (with nothing ready and no timer) never ends.
 * It is stopped in a host macrotask: work that only microtasks would do (the
 * rejection, and a next run that deadlocks as well) would not make the host
 * emit beforeExit again, and the process would exit in silence.
 */
function onBeforeExit(): void {
  const stuck = [...waiting].filter(isStuck);
  if (stuck.length === 0) return;
  hostSetTimeout(() => {
    for (const loop of stuck) {
      if (isStuck(loop)) {
        loop._stopDeadlocked("the host has nothing left to run and the process is about to exit");
      }
    }
  }, 0);
}

function isStuck(loop: BaseEventLoop): boolean {
  return waiting.has(loop) && loop._ready.length === 0 && loop._nextTimer() === undefined;
}

/**
 * @internal Watches `loop`'s pending run for the process's exit. One listener
 * serves every loop, and it is there only while some run is pending.
 */
export function watchForDeadlock(loop: BaseEventLoop): void {
  if (waiting.size === 0) hostProcess()?.on("beforeExit", onBeforeExit);
  waiting.add(loop);
}

/** @internal `loop`'s run is over. */
export function unwatchForDeadlock(loop: BaseEventLoop): void {
  if (waiting.delete(loop) && waiting.size === 0) {
    hostProcess()?.removeListener("beforeExit", onBeforeExit);
  }
}
