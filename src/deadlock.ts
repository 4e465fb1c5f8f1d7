/**
 * Deadlock detection: a run that waits for what can never come is told so
 * with a DeadlockError that lists every unfinished task and what it waits on,
 * instead of hanging, or letting the process exit in silence.
 */
import { DeadlockError } from "./errors.js";
import type { Future } from "./futures.js";
import type { BaseEventLoop } from "./loops/base.js";
import type { Task } from "./tasks.js";
import { AwaitChains, describeAwaited, readyPositions, suspendedAt, taskLine } from "./tasktree.js";
import { hostDelay } from "./util/hostdelay.js";

/** A deadlock report lists at most this many tasks. */
const MAX_LISTED = 20;

/**
 * @internal The DeadlockError of a run by `caller` (a public function, for the
 * message) that waits for `awaited` on `loop` (null: for stop(), which
 * runForever() waits for), which can never happen because of `why`.
 */
export function deadlockError(
  caller: string,
  awaited: Future<unknown> | null,
  loop: BaseEventLoop,
  why: string,
): DeadlockError {
  const tasks = loop._liveTasks();
  const what =
    tasks.length > 0
      ? ` Unfinished tasks:${taskList(loop, tasks)}`
      : awaited === null
        ? " No task is left, and only stop() ends runForever()."
        : ` It waits on ${describeAwaited(awaited)}.`;
  return new DeadlockError(
    `${caller}: deadlock: the program waits for something that can never happen: ${why}.${what}`,
    tasks,
  );
}

/**
 * @internal `tasks` of `loop`, one indented line each (at most MAX_LISTED), in
 * the words of the task tree (see formatTaskTree()): what each waits on.
 */
export function taskList(loop: BaseEventLoop, tasks: Task<unknown>[]): string {
  const positions = readyPositions(loop);
  const chains = new AwaitChains();
  let list = "";
  for (const task of tasks.slice(0, MAX_LISTED)) {
    list += `\n  ${taskLine(task, positions, chains)}`;
    for (const frame of suspendedAt(task, positions)) list += `\n        ${frame}`;
  }
  if (tasks.length > MAX_LISTED) list += `\n  … and ${tasks.length - MAX_LISTED} more`;
  return list;
}

interface ExitEvents {
  on(event: "beforeExit", listener: () => void): unknown;
  prependListener?(event: "beforeExit", listener: () => void): unknown;
  removeListener(event: "beforeExit", listener: () => void): unknown;
  /** The types of the host's live handles and requests, one entry each (Node). */
  getActiveResourcesInfo?(): string[];
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
 * runForever()'s promise. Awaited (or given a then() of any kind), it is a
 * run someone waits on, as runUntilComplete()'s is: if the loop is idle when
 * the process is about to exit, nothing is left that could call stop(), and
 * it rejects with a DeadlockError (else the process would exit, code 13 under
 * a top-level await, without a word). Not awaited, the loop is an
 * application's, which may well be idle at exit; its pending tasks are reported.
 */
class RunForever extends Promise<void> {
  // Its then() makes plain promises: only the run's own promise is watched.
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  awaited = false;

  // biome-ignore lint/suspicious/noThenProperty: a Promise's own then(), overridden to note the await
  override then<A = void, B = never>(
    // biome-ignore lint/suspicious/noConfusingVoidType: Promise<void>'s own then() signature
    onFulfilled?: ((value: void) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    this.awaited = true;
    return super.then(onFulfilled, onRejected);
  }
}

/** The runForever() promise of each loop whose run is pending. */
const runs = new WeakMap<BaseEventLoop, RunForever>();

/**
 * @internal The promise runForever() returns for `loop`'s run, which settles
 * with `stopped`: it rejects with the DeadlockError the run was stopped with,
 * if any (see RunForever).
 */
export function runForeverPromise(loop: BaseEventLoop, stopped: Promise<void>): Promise<void> {
  const run = new RunForever((resolve, reject) => {
    stopped.then(() => {
      const deadlock = loop._deadlock;
      loop._deadlock = null;
      if (deadlock === null) resolve();
      else reject(deadlock);
    });
  });
  runs.set(loop, run);
  return run;
}

/**
 * The loops running for ever (an application loop, submit()'s), whose waiting
 * tasks the exit ends; held weakly, as an idle loop dropped without shutdown()
 * is collected (its waiting tasks with it: nothing could have woken them).
 */
const serving = new Set<WeakRef<BaseEventLoop>>();
const servingRefs = new WeakMap<BaseEventLoop, WeakRef<BaseEventLoop>>();

/**
 * A dropped loop's WeakRef leaves `serving` when the loop is collected: a
 * server that makes and drops loops never reaches beforeExit, where dead refs
 * were swept before, and kept one ref (and its slot) per loop for good.
 */
const dropped =
  typeof FinalizationRegistry === "function"
    ? new FinalizationRegistry<WeakRef<BaseEventLoop>>((ref) => {
        if (serving.delete(ref)) unlistenIfUnwatched();
      })
    : null;

/** The beforeExit listener goes once no loop is watched. */
function unlistenIfUnwatched(): void {
  if (waiting.size + serving.size === 0) {
    hostProcess()?.removeListener("beforeExit", onBeforeExit);
  }
}

/** The tasks already reported as ended by the exit: beforeExit may come again. */
const reportedAtExit = new WeakSet<Task<unknown>>();

/**
 * The process is about to exit: the host has nothing left that could wake a
 * loop, so a run still waiting (with nothing ready and no timer) never ends.
 * It is stopped in a host macrotask: work that only microtasks would do (the
 * rejection, and a next run that deadlocks as well) would not make the host
 * emit beforeExit again, and the process would exit in silence.
 */
function onBeforeExit(): void {
  const watched = [...waiting];
  for (const ref of serving) {
    const loop = ref.deref();
    if (loop === undefined) serving.delete(ref);
    else if (runAwaited(loop)) watched.push(loop);
    else if (isIdle(loop)) reportPendingAtExit(loop);
  }
  const stuck = watched.filter(isStuck);
  if (stuck.length === 0) {
    hostWorkSeen = 0;
    return;
  }
  const host = hostProcess();
  let atExit: readonly string[] | null = null;
  hostDelay(() => {
    // Another beforeExit listener started host work (a flush, a timer) that may yet wake the
    // loops: beforeExit comes again once it is done. Not for ever: one that starts host
    // work that keeps nothing alive (an unref'd timer) at each beforeExit would loop.
    if (atExit !== null && hostWorkSeen < HOST_WORK_TURNS) {
      const now = host?.getActiveResourcesInfo?.() ?? [];
      if (startedSince(atExit, now)) {
        hostWorkSeen++;
        return;
      }
    }
    hostWorkSeen = 0;
    for (const loop of stuck) {
      if (isStuck(loop)) {
        loop._stopDeadlocked(
          "the host has nothing left to run and the process is about to exit",
          true,
        );
      }
    }
  }, 0);
  // After the check is set (it is among them), before other listeners start anything.
  atExit = host?.getActiveResourcesInfo?.() ?? null;
}

/** How many beforeExits in a row host work started by other listeners may defer the verdict. */
const HOST_WORK_TURNS = 3;
let hostWorkSeen = 0;

/**
 * True if `now` lists a live handle or request beyond those of `atExit`: the
 * host's at beforeExit, none of which kept the process alive, and the check's own.
 */
function startedSince(atExit: readonly string[], now: readonly string[]): boolean {
  const counts = new Map<string, number>();
  for (const type of atExit) counts.set(type, (counts.get(type) ?? 0) + 1);
  for (const type of now) {
    const left = (counts.get(type) ?? 0) - 1;
    if (left < 0) return true;
    counts.set(type, left);
  }
  return false;
}

/** Someone awaits the pending runForever() of `loop` (its entry goes when the run ends). */
function runAwaited(loop: BaseEventLoop): boolean {
  return runs.get(loop)?.awaited === true;
}

function isStuck(loop: BaseEventLoop): boolean {
  return (waiting.has(loop) || runAwaited(loop)) && isIdle(loop);
}

/** Nothing is ready, and no timer will fire. */
function isIdle(loop: BaseEventLoop): boolean {
  return loop._ready.length === 0 && loop._noTimerLeft();
}

/**
 * A loop running for ever is idle as the process exits: its tasks never
 * finish, and their finally blocks never run. Each is reported, as asyncio
 * reports a pending task that is destroyed.
 */
function reportPendingAtExit(loop: BaseEventLoop): void {
  reportPending(loop, "the process is exiting, and nothing is left that could wake it");
}

/**
 * @internal The tasks of `loop` still pending were reported as abandoned
 * (shutdown()), or `tasks` were (named by a DeadlockError): not again.
 */
export function pendingReported(
  loop: BaseEventLoop,
  tasks: readonly Task<unknown>[] = loop._liveTasks(),
): void {
  for (const task of tasks) reportedAtExit.add(task);
}

/**
 * @internal Reports each task of `loop` still pending, once: it will never
 * finish, and its finally blocks never run (`why`).
 */
export function reportPending(loop: BaseEventLoop, why: string): void {
  const positions = readyPositions(loop);
  const chains = new AwaitChains();
  // Every line is worked out before the first handler runs, which might change what they say.
  const reports = loop
    ._liveTasks()
    .filter((task) => !reportedAtExit.has(task))
    .map((task) => ({
      message: `Task was destroyed but it is pending: ${why}: ${taskLine(task, positions, chains)}`,
      task,
    }));
  for (const report of reports) reportedAtExit.add(report.task);
  for (const report of reports) loop.callExceptionHandler(report);
}

/**
 * @internal Watches `loop`'s pending run for the process's exit (`forever`:
 * runForever() with nothing awaited, whose waiting tasks are reported). One
 * listener serves every loop, and it is there only while some loop is watched.
 */
export function watchForDeadlock(loop: BaseEventLoop, forever = false): void {
  if (forever && typeof WeakRef !== "function") return;
  if (waiting.size + serving.size === 0) {
    // First, so that what it sees of the host precedes what other listeners start.
    const host = hostProcess();
    if (host?.prependListener) host.prependListener("beforeExit", onBeforeExit);
    else host?.on("beforeExit", onBeforeExit);
  }
  if (!forever) waiting.add(loop);
  else {
    const ref = new WeakRef(loop);
    servingRefs.set(loop, ref);
    serving.add(ref);
    dropped?.register(loop, ref, ref);
  }
}

/** @internal `loop`'s run is over. */
export function unwatchForDeadlock(loop: BaseEventLoop): void {
  runs.delete(loop);
  const ref = servingRefs.get(loop);
  if (ref !== undefined) dropped?.unregister(ref);
  const watched = waiting.delete(loop) || (ref !== undefined && serving.delete(ref));
  if (watched) unlistenIfUnwatched();
}
