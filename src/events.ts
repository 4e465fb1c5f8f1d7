/**
 * Scheduled callbacks (Handle, TimerHandle), the exception-handler types, and
 * which event loop is running: the parts of asyncio's `events` module that
 * everything else needs.
 */
import type { AsyncScope } from "./asynccontext.js";
import { type Context, setHandedOver as setContextHandedOver, swapContext } from "./context.js";
import { shortRepr } from "./coro.js";
import { SynchronousError } from "./errors.js";
import type { Future } from "./futures.js";
import type { GeneratorObject } from "./generatorobject.js";
import type { BaseEventLoop } from "./loops/base.js";
import { createdAt } from "./suspendsite.js";
import type { Task } from "./tasks.js";
import { classNameOf, inspectAsString } from "./util/inspect.js";

/** What the loop's exception handler is told about an error nobody else caught. */
export interface ExceptionContext {
  /** What happened, in a sentence. */
  message: string;
  /** The error nobody caught, if there is one. */
  exception?: unknown;
  /** The future or task whose failure nobody retrieved. */
  future?: Future<unknown> | undefined;
  /** That future or task in words, when it was garbage-collected before the report: `<Task failed name="bg" exception=Error("boom")>`. */
  collected?: string | undefined;
  /** The callback that threw. */
  handle?: Handle | undefined;
  /** The task a report is about: a lint's, a native task's await of a host promise on a VirtualEventLoop, a task run() left that failed or would not end at shutdown. */
  task?: Task<unknown> | undefined;
  /** The GeneratorObject that failed to close at loop.shutdownAsyncgens(), or began after it. */
  asyncgen?: GeneratorObject<unknown, unknown, unknown> | undefined;
  /** True for a lint of debug mode (see setDebug()): advice, not an error. */
  lint?: boolean | undefined;
  /**
   * Debug mode: where the callback (`handle`), future or task was made, the
   * user's frames innermost first, when debug mode was on then (asyncio's
   * `source_traceback`); the default handler prints them under "created at:".
   */
  sourceTraceback?: readonly string[] | undefined;
  [key: string]: unknown;
}

/** Receives errors from callbacks and from futures whose exception nobody retrieved. */
export type ExceptionHandler = (loop: BaseEventLoop, context: ExceptionContext) => void;

/** A callback a Handle runs: any function, called with the arguments it was scheduled with. */
// biome-ignore lint/suspicious/noExplicitAny: a Handle stores callbacks of any signature.
export type HandleCallback = (...args: any[]) => unknown;

/**
 * A callback scheduled on an event loop, as returned by `callSoon`.
 * Up to two arguments are stored inline, so scheduling does not allocate an array.
 *
 * @example
 * ```ts
 * import { VirtualEventLoop } from "asynkit";
 * const loop = new VirtualEventLoop();
 * const handle = loop.callSoon(() => console.log("never runs"));
 * handle.cancel();
 * console.log(handle.cancelled()); // true
 * ```
 */
export class Handle {
  /** @internal Null once cancelled. */
  _callback: HandleCallback | null;
  /** @internal The first argument, or every argument (an array) when there are more than two. */
  _arg0: unknown;
  /** @internal */ _arg1: unknown;
  /** @internal */ _argc: number;
  /** @internal The AsyncLocalStorage context of whoever scheduled a user's callback. */
  _asyncScope: AsyncScope | undefined = undefined;

  /** @internal Use loop.callSoon() to make one. */
  constructor(
    callback: HandleCallback,
    argc: number,
    arg0: unknown,
    arg1: unknown,
    /** @internal */ readonly _loop: BaseEventLoop,
    /** @internal */ readonly _context: Context | null,
  ) {
    this._callback = callback;
    this._argc = argc;
    this._arg0 = arg0;
    this._arg1 = arg1;
  }

  /** Stops the callback from running, if it has not run yet. */
  cancel(): void {
    this._callback = null;
    this._arg0 = this._arg1 = undefined;
  }

  /** True once cancel() was called. */
  cancelled(): boolean {
    return this._callback === null;
  }

  /** The callback this handle will call (null once cancelled). */
  get callback(): HandleCallback | null {
    return this._callback;
  }

  /** The arguments the callback will receive (none once cancelled). */
  get args(): unknown[] {
    if (this._argc === 0 || this._callback === null) return [];
    if (this._argc > 2) return [...(this._arg0 as unknown[])];
    return this._argc === 1 ? [this._arg0] : [this._arg0, this._arg1];
  }

  /** @internal Runs the callback; an error goes to the loop's exception handler. */
  _run(): void {
    const callback = this._callback;
    if (callback === null) return;
    const scope = this._asyncScope;
    if (scope !== undefined && scope !== this._loop._asyncScope) {
      this._loop._runInScope(scope, this._run, this, undefined);
      return;
    }
    const previous = this._context === null ? null : swapContext(this._context);
    try {
      let result: unknown;
      switch (this._argc) {
        case 0:
          result = callback();
          break;
        case 1:
          result = callback(this._arg0);
          break;
        case 2:
          result = callback(this._arg0, this._arg1);
          break;
        default:
          result = callback(...(this._arg0 as unknown[]));
      }
      // An async callback fails later, in its promise: that is an exception in the callback too.
      if (result instanceof Promise)
        result.then(undefined, (exception) => this._failedLater(callback, exception));
    } catch (exception) {
      this._failed(callback, exception);
    } finally {
      if (previous !== null) swapContext(previous);
    }
  }

  /** An async callback's promise rejected: reported in the callback's context, as a throw is. */
  private _failedLater(callback: HandleCallback, exception: unknown): void {
    const previous = this._context === null ? null : swapContext(this._context);
    try {
      this._failed(callback, exception);
    } finally {
      if (previous !== null) swapContext(previous);
    }
  }

  /** The callback threw: the loop's exception handler hears of it. */
  private _failed(callback: HandleCallback, exception: unknown): void {
    this._loop.callExceptionHandler({
      message: `Exception in callback ${callback.name || "(anonymous)"}`,
      exception,
      handle: this,
    });
  }

  toString(): string {
    return `<${classNameOf(this)} ${this._describe()}${createdAt(this)}>`;
  }

  /** @internal What toString() shows between the class's name and the bracket: `noop(1, "a")`. */
  _describe(): string {
    const callback = this._callback;
    if (callback === null) return "cancelled";
    const name = callback.name || "(anonymous)";
    return `${name}(${this.args.map(shortRepr).join(", ")})`;
  }
}

inspectAsString(Handle);

/**
 * A callback scheduled for a time, as returned by `callLater` and `callAt`.
 *
 * @example
 * ```ts
 * import { VirtualEventLoop } from "asynkit";
 * const loop = new VirtualEventLoop();
 * const timer = loop.callLater(100, () => console.log("100 ms later"));
 * console.log(timer.when() - loop.time()); // about 100
 * ```
 */
export class TimerHandle extends Handle {
  /** @internal */ _when: number;
  /** @internal True while the timer is in the loop's timer queue. */
  _scheduled = true;

  /** @internal Use loop.callLater() or loop.callAt() to make one. */
  constructor(
    when: number,
    callback: HandleCallback,
    argc: number,
    arg0: unknown,
    arg1: unknown,
    loop: BaseEventLoop,
    context: Context | null,
  ) {
    super(callback, argc, arg0, arg1, loop, context);
    this._when = when;
  }

  /** The loop time (ms) the callback is due. */
  when(): number {
    return this._when;
  }

  /** @internal As asyncio's repr: `<TimerHandle when=100 callback()>`, `<TimerHandle cancelled when=100>`. */
  override _describe(): string {
    const callback = this._callback;
    const when = `when=${this._when}`;
    return callback === null ? `cancelled ${when}` : `${when} ${super._describe()}`;
  }

  override cancel(): void {
    if (this._callback === null) return;
    super.cancel();
    if (!this._scheduled) return;
    this._loop._timerHandles--;
    this._loop._timerHandleCancelled(this);
  }
}

/**
 * @internal An entry of the ready queue other than a Handle: a task (its next
 * step or wakeup) or a sleep's timer (see sleep.ts). The scheduling API shows
 * each as the Handle `_readyHandle()` makes for it.
 */
export interface ReadyEntry {
  _run(): void;
  _readyHandle(): Handle;
}

/** @internal What the loop's timer queue holds: a TimerHandle, or a sleep's own timer. */
export interface Timer {
  /** The loop time it is due. */
  _when: number;
  /** What runs when it is due; null once cancelled. */
  _callback: unknown;
  /** True while it is in the loop's timer queue. */
  _scheduled: boolean;
}

let runningLoop: BaseEventLoop | null = null;
/** awaitSync() calls under way: code that asks for the running loop while none runs cannot finish synchronously. */
let syncAwaits = 0;

/** @internal awaitSync() drives a coroutine until the function returned is called. */
export function enterAwaitSync(): () => void {
  syncAwaits++;
  return () => {
    syncAwaits--;
  };
}
/**
 * Loops running (runForever() or runUntilComplete() pending), the last started
 * last: native code awaiting between their drives (in microtasks) runs on the
 * last. One that runForever() alone started is held weakly: a loop nobody
 * holds (an app loop dropped without shutdown(), idle, with no timer) has
 * nothing left that could run on it. A runUntilComplete() stops its loop when
 * main is done, and a WeakRef keeps its target alive until the host's job
 * ends: one per run would keep every loop of runs made in one job (explore()
 * of an async main, all in microtasks) alive until the last.
 */
const startedLoops: (BaseEventLoop | WeakRef<BaseEventLoop>)[] = [];

function startedLoop(entry: BaseEventLoop | WeakRef<BaseEventLoop>): BaseEventLoop | undefined {
  return entry instanceof WeakRef ? entry.deref() : entry;
}

/** @internal Marks `loop` as the one running now; returns the previous. */
export function setRunningLoop(loop: BaseEventLoop | null): BaseEventLoop | null {
  const previous = runningLoop;
  runningLoop = loop;
  return previous;
}

/**
 * @internal A loop starts to run: native awaits outside its drives go to it.
 * `untilComplete`: runUntilComplete() started it (see startedLoops).
 */
export function loopStarted(loop: BaseEventLoop, untilComplete: boolean): void {
  anyLoopStarted = true;
  dropStarted(undefined);
  startedLoops.push(untilComplete ? loop : new WeakRef(loop));
}

/** @internal A loop stopped: it is no longer one native code can run on. */
export function loopStopped(loop: BaseEventLoop): void {
  dropStarted(loop);
}

/** Drops `loop` from the started loops, and the loops already collected. */
function dropStarted(loop: BaseEventLoop | undefined): void {
  for (let i = startedLoops.length - 1; i >= 0; i--) {
    const started = startedLoop(startedLoops[i] as BaseEventLoop | WeakRef<BaseEventLoop>);
    if (started === undefined || started === loop) startedLoops.splice(i, 1);
  }
}

/** @internal The running loop, or null. */
export function peekRunningLoop(): BaseEventLoop | null {
  return runningLoop;
}

/**
 * @internal The loop running this code, which cannot start another run: in a
 * drive of its own (a step, a callback), or, as the host's async context says
 * (the asyncLocalStorage option), a native task's code past an await. Else
 * null while a native step goes on in the microtasks: they are anyone's code
 * there (a concurrent test that starts its own loop), as between the drives.
 */
export function loopInThisStack(): BaseEventLoop | null {
  const loop = runningLoop;
  if (loop !== null && loop._handover?.handedOver !== true) return loop;
  const owner = ownerOfHostCode();
  return owner && !owner.done() && owner._loop.isRunning() ? owner._loop : null;
}

/** Why code that a loop started may find no loop running. */
const AFTER_HOST_AWAIT = [
  "If this is code of an async function that a loop started, it runs outside the loop:",
  "  - after an await of a host promise (fetch, fs, a host timer), of Promise.all() or Promise.race(), or of what a then() of a task or future returns (task.then(f, g)), whose promise the host settles, even over tasks: await fromPromise(promise), or gather() / wait() rather than Promise.all() / race(), or the task itself; or, on Node, give the loop the asyncLocalStorage option, run(main, { asyncLocalStorage: true }), with which that code is still its task's;",
  "  - in a helper awaited beside other awaits of its task, as in gather(helper(a), helper(b)), from the helper's first await: give each helper a task, createTask(() => helper(a));",
  "  - in an async main called for run(), run(main()), from its first await: pass the function, run(main).",
].join("\n");

/** True once a loop has run on the host: code it started may run on after it, outside it. */
let anyLoopStarted = false;

/**
 * @internal What to do about finding no loop running: where a loop has run
 * on the host, why code it started may run outside it; where none has, start one.
 */
export function noLoopAdvice(): string {
  return anyLoopStarted
    ? AFTER_HOST_AWAIT
    : "No asynkit loop runs, nor has one run on the host in this process: start one with run(main) (or loop.runUntilComplete(main)) and call this from code it runs.";
}

/**
 * The event loop running the current code. Throws when called from outside a
 * task or callback of a running loop.
 *
 * @example
 * ```ts
 * import { getRunningLoop, run } from "asynkit";
 * await run(function* () { console.log(getRunningLoop().time()); });
 * ```
 */
export function getRunningLoop(): BaseEventLoop {
  const found = loopOfThisCode();
  if (found !== null) return found;
  if (syncAwaits > 0) {
    throw new SynchronousError(
      "awaitSync(): the coroutine needs a running event loop (to sleep, or to wait for a lock, an event or a task), so it cannot finish synchronously. Run it on an event loop (run(), createTask) instead.",
    );
  }
  throw new Error(
    `no running event loop: call this from a coroutine or callback run by an asynkit loop, e.g. inside run(main).\n${noLoopAdvice()}`,
  );
}

/**
 * @internal The loop running this code, or null: the running loop, where it knows the
 * code is its own; else the loop of the task whose code it is (codeLoop).
 */
export function loopOfThisCode(): BaseEventLoop | null {
  const loop = runningLoop;
  if (loop !== null && loopKnows(loop)) return loop;
  return codeLoop(loop);
}

/**
 * @internal The loop of the code running outside every loop's drive, or while
 * the `running` loop's native step is handed over: the loop of the task whose
 * code it is, if the host's async context tells (see hostCodeOwnerNow), else
 * `running`; null for no task's code, or a task that is done or whose loop
 * does not run.
 */
export function codeLoop(running: BaseEventLoop | null): BaseEventLoop | null {
  const owner = hostCodeOwnerNow();
  if (owner === undefined) return running;
  return owner !== null && !owner.done() && owner._loop.isRunning() ? owner._loop : null;
}

/**
 * @internal The loop native code runs on: the running loop, else the loop started
 * last, while it is still running (runForever() or runUntilComplete()
 * pending). Throws the "no running event loop" error when there is none.
 */
export function activeLoop(): BaseEventLoop {
  return activeLoopOrNull() ?? getRunningLoop();
}

/**
 * @internal activeLoop(), or null when there is none. Outside every drive,
 * the host's async context may say whose code it is (the asyncLocalStorage
 * option): that task's loop, even stopped (it goes on when the loop runs
 * again), but none once closed (never another loop: a test's task that
 * outlived it must not run on the next test's); else the loop started last
 * that still runs.
 */
export function activeLoopOrNull(): BaseEventLoop | null {
  const running = runningLoop;
  if (running !== null && loopKnows(running)) return running;
  const owner = hostCodeOwnerNow();
  if (owner) return owner._loop.isClosed() ? null : owner._loop;
  if (running !== null) return running;
  for (let i = startedLoops.length - 1; i >= 0; i--) {
    const loop = startedLoop(startedLoops[i] as BaseEventLoop | WeakRef<BaseEventLoop>);
    if (loop !== undefined) return loop;
    startedLoops.splice(i, 1); // collected
  }
  return null;
}

// Set when native.ts loads: the task whose function the host's async context runs (null:
// no task's), or undefined where the host has no async context to ask.
let ownerOfHostCode: () => Task<unknown> | null | undefined = () => undefined;

/**
 * @internal The task whose code the host's async context runs now (null: no
 * task's; undefined: no context to ask), whichever loop runs.
 */
export function ownerOfHostCodeNow(): Task<unknown> | null | undefined {
  return ownerOfHostCode();
}

/**
 * @internal True for code outside every loop's drive that the host's async
 * context does not name as a task's (or cannot): top-level code, a host
 * callback, or the function of a task that ended while it awaited a host
 * promise, run on when that promise settled.
 */
export function outsideTasks(): boolean {
  return runningLoop === null && !ownerOfHostCode();
}

/**
 * Native tasks of every loop, closed ones included, whose function goes on
 * outside its loop's order past a host await: while there are any, code
 * outside every task may be one of their functions, run on (see outsideTasks).
 */
let tasksOnHost = 0;

/** @internal A native task of `loop` went to the host (1), or came back from it (-1). */
export function countTaskOnHost(loop: BaseEventLoop, change: 1 | -1): void {
  loop._tasksOnHost += change;
  tasksOnHost += change;
}

/** @internal True while a native task's function, of any loop, goes on past a host await. */
export function anyTaskOnHost(): boolean {
  return tasksOnHost > 0;
}

/**
 * @internal True where the running `loop` knows whose code runs: in its drive;
 * and while its native step is handed over to the microtasks, unless the
 * host's async context can tell (its asyncLocalStorage option, see
 * hostCodeOwnerNow).
 */
export function loopKnows(loop: BaseEventLoop): boolean {
  return !loop._asyncLocalStorage || loop._handover?.handedOver !== true;
}

/**
 * @internal Whose code runs now, as the host's async context says (the
 * asyncLocalStorage option), where the loops cannot tell: outside every
 * loop's drive, and while the running loop's native step is handed over to
 * the microtasks, where until the loop's check after them the host may run
 * other code too (an I/O callback; another task's function, resumed after its
 * host await). A task, null for code that is no task's, undefined where the
 * loops' own answer stands (a step's code, or no context to ask).
 */
export function hostCodeOwnerNow(): Task<unknown> | null | undefined {
  const loop = runningLoop;
  if (loop === null) return ownerOfHostCode();
  const steps = loop._handover;
  // A loop without the option runs its functions as no task's: its step's code looks like any other.
  if (steps === null || !steps.handedOver || steps.stepping > 0 || !loop._asyncLocalStorage) {
    return undefined;
  }
  const owner = ownerOfHostCode();
  return owner === steps.running()?.task ? undefined : owner;
}

/**
 * @internal The task whose code runs now, for a task it makes: the host's
 * async context's answer where it has one (the handed-over step's task
 * included); else null while the running loop's native step is handed over
 * to the microtasks, whose code may be anyone's; else the task the loop steps.
 */
export function creatorNow(loop: BaseEventLoop): Task<unknown> | null {
  const owner = hostCodeOwnerOn(loop);
  if (owner !== undefined) return owner;
  const steps = loop._handover;
  if (!steps?.handedOver || steps.stepping !== 0) return loop._currentTask;
  // The host's async context may name the handed-over step's own task (asyncLocalStorage
  // option), which hostCodeOwnerOn() leaves to the loop.
  const stepOwner = steps.running()?.task ?? null;
  return loop._asyncLocalStorage && stepOwner !== null && ownerOfHostCode() === stepOwner
    ? stepOwner
    : null;
}

/**
 * The task of `loop` whose code runs now, as the host's async context says
 * (see hostCodeOwnerNow): null for code that is none of its tasks', undefined
 * where the loop's own answer stands (always, on a loop without the option).
 */
function hostCodeOwnerOn(loop: BaseEventLoop): Task<unknown> | null | undefined {
  // Another loop's option may have made the host's async context ask: not this one's.
  if (!loop._asyncLocalStorage) return undefined;
  const owner = hostCodeOwnerNow();
  if (owner === undefined) return undefined;
  return owner !== null && owner._loop === loop ? owner : null;
}

/** @internal native.ts hands over how to ask the host's async context whose code runs. */
export function onHostCodeOwner(lookup: () => Task<unknown> | null | undefined): void {
  ownerOfHostCode = lookup;
}

let defaultLoop: () => BaseEventLoop = () => {
  throw new Error(
    "No event loop policy is installed: import asynkit from its package entry point.",
  );
};

/** @internal The policy module installs how getEventLoop() finds a loop when none runs. */
export function setDefaultLoopProvider(provider: () => BaseEventLoop): void {
  defaultLoop = provider;
}

/**
 * The running loop if there is one (in a native task's code past an await of
 * a host promise, on a loop with the asyncLocalStorage option, the task's
 * loop, as getRunningLoop() says), else the current policy's loop (created
 * on first use).
 *
 * @example
 * ```ts
 * import { getEventLoop } from "asynkit";
 * const future = getEventLoop().createFuture<number>();
 * ```
 */
export function getEventLoop(): BaseEventLoop {
  // Code the host runs for a task (asyncLocalStorage option) is its loop's, as getRunningLoop() says.
  return loopOfThisCode() ?? defaultLoop();
}

/**
 * @internal The loop for what code makes without naming one (ensureFuture(),
 * fromPromise()): the running loop; in code the host runs outside every
 * loop's drive, its task's loop (asyncLocalStorage option), else the loop
 * started last that still runs, whose futures an await there joins
 * (activeLoopOrNull); else the policy's.
 */
export function callersLoop(): BaseEventLoop {
  const loop = activeLoopOrNull();
  if (loop !== null) return loop;
  // The code of a task whose loop closed is no other loop's: getRunningLoop() says so.
  return hostCodeOwnerNow() ? getRunningLoop() : defaultLoop();
}

/*
 * Eager starts in progress: eager() runs a coroutine in its caller's stack, and
 * currentTask() inside it is the task that will carry the coroutine if it
 * suspends, made on the first request. Counted in one module-level object
 * rather than marked on the loop: a start that nobody asks for its task only
 * stores small integers (no write barrier, no check for an uninitialised
 * binding), so it costs next to nothing.
 */
const starts = {
  /** Starts in progress on the running loop's stack. */
  depth: 0,
  /** The depth of the innermost start whose task was made, and that task. */
  askedDepth: 0,
  askedTask: null as Task<unknown> | null,
  /**
   * The depth of the start whose task is being made (0: none). The code that
   * runs meanwhile at that depth (the task's constructor, a task factory, a
   * task.created listener) is the code around the start, and must not ask
   * for that task again; a start it begins is deeper, and has its own.
   */
  making: 0,
  /**
   * The task whose code the host runs outside the loops' steps (after an
   * await of a host promise; the asyncLocalStorage option tells) that makes
   * the outermost start: the starts are on its loop, as in a step of its own
   * (lendContext gives them its context). Set at each outermost start made
   * outside the steps, and read only for one (see hostCodeStarter()): a start
   * in a step, the usual one, neither sets nor clears it.
   */
  hostCodeStarter: null as Task<unknown> | null,
  /** True while a loop with the asyncLocalStorage option has a native step handed over. */
  askOwner: false,
};

/**
 * @internal A loop hands a native step over to the microtasks, or takes it
 * back: while one with the asyncLocalStorage option has, the code running may
 * be another task's than its running one, as the host's async context says.
 */
export function setHandedOver(asyncLocalStorage: boolean): void {
  starts.askOwner = asyncLocalStorage;
  setContextHandedOver(asyncLocalStorage);
}
/**
 * @internal How many eager starts are in progress (0 almost always), for the
 * task constructor's test (see creatingTask): this object's field, not a `let`
 * of the module, which would be checked for its uninitialised state at every use.
 */
export const eagerStarts: { readonly depth: number } = starts;

/** The askedDepth and askedTask pairs of outer starts, while an inner one has its own. */
const outerAsks: (number | Task<unknown> | null)[] = [];

// Set when eager.ts loads; only eager.ts begins a start, so it is set whenever it is needed.
let makeEagerStartTask: ((loop: BaseEventLoop) => Task<unknown>) | null = null;

/** @internal eager.ts hands over how to make the task of the start in progress. */
export function onEagerStartTaskRequest(maker: (loop: BaseEventLoop) => Task<unknown>): void {
  makeEagerStartTask = maker;
}

/**
 * @internal An eager start begins; returns its depth, for endEagerStart(). With
 * no loop running nothing can ask for its task, and nothing is counted (0).
 */
export function beginEagerStart(): number {
  // In a drive the code running is the loop's own, unless a native step is handed over.
  return runningLoop === null || starts.askOwner ? beginStartOutsideSteps() : ++starts.depth;
}

/** An eager start while a native step may be handed over, or no loop runs. */
function beginStartOutsideSteps(): number {
  const owner = hostCodeOwnerNow();
  const starter = owner && !owner.done() && owner._loop.isRunning() ? owner : null;
  if (starts.depth === 0) starts.hostCodeStarter = starter;
  return starter === null && runningLoop === null ? 0 : ++starts.depth;
}

/** The task whose code made the eager starts in progress outside the steps, if it did. */
function hostCodeStarter(): Task<unknown> | null {
  return runningLoop === null || starts.askOwner ? starts.hostCodeStarter : null;
}

/** The loop the eager starts in progress run on: their hostCodeStarter's, or the running one. */
function startsLoop(): BaseEventLoop | null {
  return hostCodeStarter()?._loop ?? runningLoop;
}

/** @internal The start at `depth` ended: the task made for it, if anything asked for one. */
export function endEagerStart(depth: number): Task<unknown> | null {
  if (depth === 0) return null;
  starts.depth = depth - 1;
  if (starts.askedDepth !== depth) return null;
  const task = starts.askedTask;
  starts.askedTask = outerAsks.pop() as Task<unknown> | null;
  starts.askedDepth = outerAsks.pop() as number;
  return task;
}

/**
 * @internal Runs `fn` as no start, though starts are in progress around it: a
 * task's eager first step (Task's eagerStart option) is that task's, not theirs.
 */
export function outsideEagerStarts(fn: () => void): void {
  const depth = starts.depth;
  const making = starts.making;
  const starter = starts.hostCodeStarter;
  outerAsks.push(starts.askedDepth, starts.askedTask);
  starts.depth = 0;
  starts.making = 0;
  starts.askedDepth = 0;
  starts.askedTask = null;
  starts.hostCodeStarter = null;
  try {
    fn();
  } finally {
    starts.depth = depth;
    starts.making = making;
    starts.hostCodeStarter = starter;
    starts.askedTask = outerAsks.pop() as Task<unknown> | null;
    starts.askedDepth = outerAsks.pop() as number;
  }
}

/**
 * @internal The task whose code makes an eager start now, without asking
 * for a start's task: within an enclosing start, the innermost one's task if
 * it was made, else the step's; outside starts, the running task.
 */
export function startingTask(loop: BaseEventLoop): Task<unknown> | null {
  if (starts.depth === 0) return runningTask(loop);
  return starts.askedTask ?? hostCodeStarter() ?? loop._currentTask;
}

/** Makes the task of the innermost eager start: out of runningTask(), which native steps call often. */
function makeAskedStartTask(loop: BaseEventLoop): Task<unknown> {
  const outer = starts.making;
  starts.making = starts.depth;
  try {
    return (makeEagerStartTask as (loop: BaseEventLoop) => Task<unknown>)(loop);
  } finally {
    starts.making = outer;
  }
}

/**
 * @internal The task whose child a task made now on `loop` is: the step's
 * task, or in an eager start the task that continues it (made now, as
 * currentTask() makes it), so the tree and the task.created channel show the
 * start's children under it; while that task is being made, the code around
 * the start's. In code the host runs outside the steps, the task whose code
 * the host's async context says it is (asyncLocalStorage option), if any.
 */
export function creatingTask(loop: BaseEventLoop): Task<unknown> | null {
  if (starts.depth > 0 && loop === startsLoop()) return runningTask(loop);
  const owner = hostCodeOwnerOn(loop);
  return owner === undefined ? loop._currentTask : owner;
}

/**
 * @internal True where a task made on `loop` now is the child of the loop's
 * current task, with nothing more to ask: in its drive, outside eager starts,
 * with no native step handed over on a loop with the asyncLocalStorage option.
 */
export function createdInStep(loop: BaseEventLoop): boolean {
  return starts.depth === 0 && !starts.askOwner && runningLoop === loop;
}

/**
 * @internal The task a wait begun now in a step of `loop` belongs to: the
 * step's task, or in an eager start the task that continues it (see
 * runningTask, whose other cases a step does not meet).
 */
export function waitingTask(loop: BaseEventLoop): Task<unknown> | null {
  return starts.depth === 0 ? loop._currentTask : runningTask(loop);
}

/**
 * @internal The task running on `loop` now. During an eager start that is the
 * task that will continue the coroutine if it suspends, made on this first request.
 * With the asyncLocalStorage option, code in the microtasks of a native step
 * that is not that step's task's (a task's after its host await, a host
 * callback's) is its own task's, or no task's.
 */
export function runningTask(loop: BaseEventLoop): Task<unknown> | null {
  if (starts.depth === 0 || loop !== startsLoop()) {
    const task = loop._currentTask;
    // Inside a step (its own task's code), the loop knows. Between its drives, or while its
    // native step is handed over, the code may be another task's, or no task's.
    if (loop === runningLoop && loopKnows(loop)) return task;
    const owner = hostCodeOwnerNow();
    if (owner === undefined) return task;
    return owner !== null && owner._loop === loop && !owner.done() ? owner : null;
  }
  if (starts.askedDepth !== starts.depth) {
    if (starts.making === starts.depth) return startingTask(loop);
    const task = makeAskedStartTask(loop);
    outerAsks.push(starts.askedDepth, starts.askedTask);
    starts.askedDepth = starts.depth;
    starts.askedTask = task;
  }
  return starts.askedTask;
}
