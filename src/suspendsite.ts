/**
 * The stacks debug mode takes, shown without asynkit's own frames: where a
 * task suspended, for the task tree (a suspended generator shows no frames,
 * so the stack is captured while the `yield*` that suspends it is still on
 * it), and where a task, a future or a callback was made, for reports about
 * it (asyncio's `source_traceback`).
 */

/**
 * Frames captured per suspension: asynkit's own at the top, then the user's
 * with the engine's `.next` between, and asynkit's again under each wrapper
 * (coroAwait() takes 8): enough for five of the user's under several.
 */
const CAPTURED_FRAMES = 64;

/** At most this many of the user's frames are shown. */
const SHOWN_FRAMES = 5;

/** A stack frame's place, V8's ("at f (file:1:2)", "at file:1:2") or JavaScriptCore's ("f@file:1:2"). */
const FRAME_PLACE = /(?:\(|at |@)(([^()]+?):\d+:\d+)\)?$/;

/** The file of a stack frame; null for an engine frame. */
function frameFile(frame: string): string | null {
  return FRAME_PLACE.exec(frame)?.[2] ?? null;
}

/** asynkit's functions below which a suspended task's own frames end: its step, an eager start. */
const SUSPENSION_BOUNDARY = /(?:^|\.)(?:_step|_start|eager|coroEager)$/;
/**
 * Below which the code that made something ends: the step of the task that
 * ran it (an eager start's caller, below it, made it too).
 */
const CREATION_BOUNDARY = /(?:^|\.)_step$/;

/** The function of a stack frame ("at Task._step (file:1:2)", "_step@file:1:2"); "" for none. */
function functionOf(frame: string): string {
  const found = /^(?:at (?:new |async )?([^\s(]+) \(|([^\s@]+)@)/.exec(frame);
  return found?.[1] ?? found?.[2] ?? "";
}

/** The directory of asynkit's files (src/ or dist/), from where this module was loaded. */
const ownDirectory = ((): string | null => {
  const file = new Error().stack
    ?.split("\n")
    .map((line) => frameFile(line.trim()))
    .find((found) => found !== null);
  return file == null
    ? null
    : file.slice(0, Math.max(file.lastIndexOf("/"), file.lastIndexOf("\\")) + 1);
})();

/** @internal The stack as it is now, deep enough to reach past asynkit's frames to the user's. */
export function captureSite(): Error {
  // V8's and JavaScriptCore's depth limit; another host ignores it.
  const errors = Error as { stackTraceLimit?: number | undefined };
  const limit = errors.stackTraceLimit;
  errors.stackTraceLimit = CAPTURED_FRAMES;
  const site = new Error("here");
  errors.stackTraceLimit = limit;
  return site;
}

/**
 * @internal The user's frames of a captured site, innermost (the `yield*`
 * that suspended, the call that made something) first, down to the task's
 * step that ran them, without asynkit's own between them. Empty when the
 * task's coroutine is asynkit's own (`createTask(event.wait())`) or the host
 * gives no file names.
 */
export function userFrames(site: Error, boundary = SUSPENSION_BOUNDARY): string[] {
  const frames: string[] = [];
  if (ownDirectory === null) return frames;
  for (const line of site.stack?.split("\n") ?? []) {
    const frame = line.trim();
    const file = frameFile(frame);
    if (file === null) continue; // the message, or the engine's generator.next between two yield*
    if (file.startsWith("node:")) continue; // the host's own: a module's loading, AsyncLocalStorage.run()
    if (file.startsWith(ownDirectory)) {
      // The task's step, or an eager start (another task's code runs below it):
      // what lies below is not this task's coroutine. Any other of asynkit's
      // frames (coroAwait(), timeout(), waitFor() …) lies between the user's.
      if (boundary.test(functionOf(frame))) break;
      continue;
    }
    frames.push(frame);
    if (frames.length === SHOWN_FRAMES) break;
  }
  return frames;
}

/** Where each task, future and callback debug mode saw made was made. */
const creations = new WeakMap<object, Error>();

/**
 * @internal Debug mode: remembers where `made` is being made (its frames are
 * read only when shown); a task made through `new Task(coro, options)` is
 * seen both as a future and as a task, and keeps the first.
 */
export function noteCreation(made: object): void {
  if (creations.has(made)) return;
  const site = captureSite();
  // Formatted now: until then the engine keeps each frame's function and receiver
  // alive, and with them every task whose step made another (its creator's chain).
  void site.stack;
  creations.set(made, site);
}

/**
 * @internal The user's frames where `made` was made, innermost first, if
 * debug mode saw it made; else empty.
 */
export function creationFrames(made: unknown): string[] {
  const site = typeof made === "object" && made !== null ? creations.get(made) : undefined;
  return site === undefined ? [] : userFrames(site, CREATION_BOUNDARY);
}

/**
 * @internal What toString() adds for `made` in debug mode: " created at
 * file:line:column", the innermost of the user's frames where it was made; "" otherwise.
 */
export function createdAt(made: object): string {
  const frame = creationFrames(made)[0];
  return frame === undefined ? "" : ` created at ${FRAME_PLACE.exec(frame)?.[1] ?? frame}`;
}
