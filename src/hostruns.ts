/**
 * Times the code a native task runs after an await of a host promise, for the
 * slow-step lint of debug mode on a loop with the asyncLocalStorage option.
 * That code is no step of the loop's (the loop finds the task blocked on the
 * host, and takes it back only at its next asynkit await), yet a long run of
 * it holds up every other task as a step does. Node's promise hooks time
 * each job the host runs; the host's async context says whose code it was.
 * Nothing here runs outside debug mode, nor on a host without the hooks.
 */
import { ownerOfHostCodeNow } from "./events.js";
import { type Linter, SLOW_STEP_MS } from "./lints.js";
import type { Task } from "./tasks.js";
import { now } from "./util/clock.js";
import { builtinModule } from "./util/host.js";

/** Node's `v8.promiseHooks`: each adds a hook, and returns what removes it. */
interface PromiseHooks {
  onBefore(hook: () => void): () => void;
  onAfter(hook: () => void): () => void;
}

/** The linters of debug loops whose tasks' code the host may resume: the hooks run while there are any. */
const linters = new Set<Linter>();
let removeHooks: (() => void) | null = null;
/** When the job running now began; NaN between jobs, and for one begun before the hooks were added. */
let jobBegan = Number.NaN;
/**
 * Whose code the job running now is, as its before hook saw: the host's own
 * hook switches the async context in before ours and back before our after,
 * when ours came later, as it does (the after hook asks too, for the other order).
 */
let jobOwner: Task<unknown> | null | undefined;

/** @internal `linter`'s loop has a task blocked on the host: time the jobs the host resumes it in. */
export function timeHostRuns(linter: Linter): void {
  if (linters.has(linter) || hooksMissing) return;
  if (removeHooks === null) removeHooks = addHooks();
  if (removeHooks === null) hooksMissing = true;
  else linters.add(linter);
}

/** The host has no promise hooks: asked once. */
let hooksMissing = false;

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

/** @internal `linter`'s loop closes: the last one removes the hooks. */
export function stopTimingHostRuns(linter: Linter): void {
  if (!linters.delete(linter) || linters.size > 0 || removeHooks === null) return;
  removeHooks();
  removeHooks = null;
}

function jobEnded(): void {
  const took = now() - jobBegan;
  const owner = jobOwner;
  jobBegan = Number.NaN;
  jobOwner = undefined;
  if (!(took >= SLOW_STEP_MS)) return; // the common case: a short job, or one not timed
  const task = owner ?? ownerOfHostCodeNow();
  if (!task?._blockedOnHost) return; // no task's code, or a step the loop times itself
  const linter = task._loop._linter;
  // Out of the hook: the lint calls the loop's exception handler, the user's code.
  if (linter !== null && linters.has(linter)) queueMicrotask(() => linter.slowHostRun(task, took));
}
