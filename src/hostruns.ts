/**
 * Times the jobs of native tasks' code, for the slow-step lint of debug mode
 * on a loop with the asyncLocalStorage option (see Linter.jobRan). A native
 * step goes on in microtasks, and the loop finds where it ended only in the
 * host's next macrotask: the clock would count the host callbacks that run
 * before it too, where the jobs count the task's own code. And a task's code
 * may run outside the loop's steps: after an await of a host promise (the
 * loop finds the task blocked on the host, and takes it back only at its next
 * asynkit await), or after a Promise.race() the host settled while the task
 * still waits on a loser; a long run of it holds up every other task as a
 * step does. Node's promise hooks time each job the host runs; the host's
 * async context says whose code it was. Nothing here runs outside debug
 * mode, nor on a host without the hooks.
 */
import { ownerOfHostCodeNow } from "./events.js";
import type { Linter } from "./lints.js";
import type { Task } from "./tasks.js";
import { now } from "./util/clock.js";
import { builtinModule } from "./util/host.js";

/** Node's `v8.promiseHooks`: each adds a hook, and returns what removes it. */
interface PromiseHooks {
  onBefore(hook: () => void): () => void;
  onAfter(hook: () => void): () => void;
}

/**
 * The linters of debug loops whose tasks' code the host may resume, held
 * weakly (a loop dropped unclosed is collected), and how many there are: the
 * hooks run while there are any.
 */
const linters = new WeakSet<Linter>();
let lintersTimed = 0;
/** A linter collected before its loop closed counts no more. */
const dropped = new FinalizationRegistry<null>(() => stopTiming());
let removeHooks: (() => void) | null = null;
/** The host has no promise hooks: asked once. */
let hooksMissing = false;
/** When the job running now began; NaN between jobs, and for one begun before the hooks were added. */
let jobBegan = Number.NaN;
/**
 * Whose code the job running now is, as its before hook saw: the host's own
 * hook switches the async context in before ours and back before our after,
 * when ours came later, as it does (the after hook asks too, for the other order).
 */
let jobOwner: Task<unknown> | null | undefined;

/**
 * @internal `linter`'s loop runs native tasks: time the jobs their code runs
 * in. False on a host without the hooks.
 */
export function timeHostRuns(linter: Linter): boolean {
  if (linters.has(linter)) return true;
  if (hooksMissing) return false;
  if (removeHooks === null) removeHooks = addHooks();
  if (removeHooks === null) {
    hooksMissing = true;
    return false;
  }
  linters.add(linter);
  lintersTimed++;
  dropped.register(linter, null, linter);
  return true;
}

/** What removes the hooks; null on a host without them (one that has Node's module names only). */
function addHooks(): (() => void) | null {
  const hooks = builtinModule<{ promiseHooks?: PromiseHooks }>("node:v8")?.promiseHooks;
  if (typeof hooks?.onBefore !== "function" || typeof hooks.onAfter !== "function") return null;
  let removeBefore: () => void;
  try {
    removeBefore = hooks.onBefore(() => {
      jobBegan = now();
      jobOwner = ownerOfHostCodeNow();
    });
  } catch {
    return null; // a host whose module only names them
  }
  const removeAfter = hooks.onAfter(jobEnded);
  return () => {
    removeBefore();
    removeAfter();
  };
}

/** @internal `linter`'s loop closes. */
export function stopTimingHostRuns(linter: Linter): void {
  if (!linters.delete(linter)) return;
  dropped.unregister(linter);
  stopTiming();
}

/** One linter less: the last one removes the hooks. */
function stopTiming(): void {
  if (--lintersTimed > 0 || removeHooks === null) return;
  removeHooks();
  removeHooks = null;
}

function jobEnded(): void {
  const took = now() - jobBegan;
  const owner = jobOwner;
  jobBegan = Number.NaN;
  jobOwner = undefined;
  if (Number.isNaN(took)) return; // a job begun before the hooks came
  const task = owner ?? ownerOfHostCodeNow();
  if (task === null || task === undefined) return; // no task's code
  const linter = task._loop._linter;
  if (linter !== null && linters.has(linter)) linter.jobRan(task, took);
}
