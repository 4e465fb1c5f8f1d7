/**
 * Times the code a native task runs outside the loop's steps, for the
 * slow-step lint of debug mode on a loop with the asyncLocalStorage option:
 * its code after an await of a host promise (the loop finds the task blocked
 * on the host, and takes it back only at its next asynkit await), or after a
 * Promise.race() the host settled while the task still waits on a loser. A
 * long run of it holds up every other task as a step does. Node's promise
 * hooks time each job the host runs; the host's async context says whose
 * code it was. Nothing here runs outside debug mode, nor on a host without
 * the hooks.
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

/** @internal `linter`'s loop has a task blocked on the host: time the jobs the host resumes it in. */
export function timeHostRuns(linter: Linter): void {
  if (linters.has(linter) || hooksMissing) return;
  if (removeHooks === null) removeHooks = addHooks();
  if (removeHooks === null) {
    hooksMissing = true;
    return;
  }
  linters.add(linter);
  lintersTimed++;
  dropped.register(linter, null, linter);
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
  if (!(took >= SLOW_STEP_MS)) return; // the common case: a short job, or one not timed
  const task = owner ?? ownerOfHostCodeNow();
  if (task === null || task === undefined) return; // no task's code
  const loop = task._loop;
  const linter = loop._linter;
  if (linter === null || !linters.has(linter)) return;
  // A job of the native step the loop runs now is that step's, which the loop times itself.
  const steps = loop._handover;
  if (steps?.handedOver && steps.running()?.task === task) return;
  // Out of the hook: the lint calls the loop's exception handler, the user's code.
  queueMicrotask(() => linter.slowHostRun(task, took));
}
