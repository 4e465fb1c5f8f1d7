/**
 * Native async functions as tasks: `createTask(async () => { ... })`.
 *
 * What holds. A native task's function runs in microtasks, which the loop
 * cannot step; but `await x` on an asynkit awaitable calls x.then() from a job
 * of its own, queued when the await ran, so the then() calls come in the order
 * the awaits ran. So a native step is bounded exactly: the loop resumes the
 * function (calls the await's resolve function) from a ready-queue entry,
 * hands the host over to the microtasks (its drive returns), and runs nothing
 * else until the then() of the function's next asynkit await, or the settling
 * of its promise; then the task steps the awaited coroutine, as `yield*`
 * would, and the drive goes on. Native and generator tasks therefore
 * interleave as two generator tasks do (test/native-scenarios.test.ts), with
 * the task current and its context set across awaits, and cancellation thrown
 * in at the await (test/native-tasks.test.ts).
 *
 * Whose then() is it? The functions whose first step ran (in a loop entry, or
 * an eager start) and ended in an await get theirs first, in the order they
 * started; then the functions resumed, in the order they were resumed, each
 * awaiting after the tasks it started eagerly. An async body of timeout() or
 * taskGroup() is a function of its own, nested in the task's coroutine.
 *
 * What does not hold. An await of a promise the loop did not make (fetch, a
 * host timer) never reaches an asynkit then(): once the microtasks ran out (a
 * host macrotask comes) the task counts as blocked on the host, and the loop
 * goes on. Its continuation is not ordered by the loop; its later asynkit
 * awaits run as tasks of their own, unless the loop's asyncLocalStorage option
 * lets the host's async context say whose they are. A VirtualEventLoop
 * reports such awaits ("awaits the loop does not control" in the tests).
 */
import {
  type AsyncScope,
  type AsyncStore,
  captureAsyncScope,
  newAsyncStore,
} from "./asynccontext.js";
import { observed, publish } from "./channels.js";
import { type Context, currentContext, swapContext } from "./context.js";
import {
  type Coro,
  coroMark,
  coroutineOf,
  describe,
  isAsyncGenerator,
  isCoroutine,
  isGeneratorObject,
  isLocalAsyncFunction,
  isLocalGeneratorFunction,
  isPromiseLike,
  type Marked,
  type Signal,
  type Suspend,
} from "./coro.js";
import {
  activeLoopOrNull,
  eagerStarts,
  getRunningLoop,
  loopOfThisCode,
  onHostCodeOwner,
  runningTask,
  setHandedOver,
  setRunningLoop,
} from "./events.js";
import { abandoned, doneStep, Future, PENDING, waitStep } from "./futures.js";
import type { BaseEventLoop } from "./loops/base.js";
import type { Task } from "./tasks.js";
import { Deque } from "./util/deque.js";
import { inMicrotask, yieldToHost } from "./util/host.js";
import { markRefusedHandled } from "./validate.js";

/** What a native task's body yields to its task: the step goes on in microtasks. */
export const NATIVE_STEP = Symbol("asynkit.nativeStep") as unknown as Signal;
const IN_MICROTASKS: IteratorResult<Suspend, never> = Object.freeze({
  done: false,
  value: NATIVE_STEP,
});

/** What a body blocked on the host yields to a task that takes it over: the task waits for the host too. */
export const HOST_STEP = Symbol("asynkit.hostStep") as unknown as Signal;
const ON_THE_HOST: IteratorResult<Suspend, never> = Object.freeze({
  done: false,
  value: HOST_STEP,
});

type Settle = (value: unknown) => void;

/** What a native task's await drives: an asynkit coroutine, or a future waited on directly. */
type AwaitTarget = Coro<unknown> | Future<unknown>;

/** What an await of `x` drives, if x is asynkit's: a future itself, else its coroutine. */
function awaitTarget(x: unknown): AwaitTarget | null {
  return x instanceof Future ? x : coroutineOf(x);
}

/**
 * What a task drives, as `yield*` would, when a body's call returned `x`: a
 * future (a task, shield()'s) or an asynkit coroutine; null for a promise, an
 * async generator (its steps are promises) or anything else.
 */
function returnedTarget(x: unknown): AwaitTarget | null {
  const target = awaitTarget(x);
  return target !== null && isAsyncGenerator(target) ? null : target;
}

/** @internal What a native task blocked on the host waits on, in words (task tree, trace). */
export const HOST_AWAIT = "a native promise only the host settles";

/** NativeBody's state: what its next step does, and what `pending` holds for it. */
const START = 0; // call the function (pending)
const WATCH = 1; // watch the promise of an async body already running (pending)
const FIRST = 2; // the function's first part runs: the then() of its first asynkit await is due
const AFTER_PLAIN = 3; // FIRST, past a first await of a plain promise: it runs on in microtasks
const RUNNING = 4; // the function runs, or awaits `inner`
const QUEUED = 5; // RUNNING, with the task's step that drives `inner` in the ready queue (a bare yield)
const ON_HOST = 6; // the function is blocked on the host: its awaits are no longer the task's steps
const RETURNED = 7; // end with the function's result (pending)
const THREW = 8; // end by throwing what the function threw (pending)

/**
 * @internal The coroutine of a native task: it calls the function at the
 * task's first step, then drives each asynkit awaitable the function awaits,
 * as `yield*` drives one, and settles that await with its outcome. A Task
 * steps it as any coroutine. A blocked native task keeps it alive, so its
 * states share one slot for what each needs.
 */
export class NativeBody<T = unknown> {
  private state: number;
  /** What the state needs: the function, the promise, or the function's outcome. */
  private pending: unknown;
  /** The task that runs it, from the first step. */
  task: Task<unknown> | null;
  /** The asynkit coroutine or future the function awaits now, if any. */
  private inner: AwaitTarget | null = null;
  /**
   * The functions the await's then() was given: null for a coroutine the
   * function returned. Both are kept: a then() the loop took for an await
   * may be a plain `then(onFulfilled, onRejected)` call (see awaitInTask).
   */
  private resolve: Settle | null = null;
  private reject: Settle | null = null;
  /** Steps so far, for reports. */
  steps = 0;

  private constructor(state: number, pending: unknown, task: Task<unknown> | null) {
    this.state = state;
    this.pending = pending;
    this.task = task;
  }

  /** The body of a task that calls `fn` at its first step. */
  static calling(fn: () => unknown): NativeBody {
    return new NativeBody(START, fn, null);
  }

  /** The body of `task` that waits for an async body already running. */
  static watching(promise: PromiseLike<unknown>, task: Task<unknown> | null): NativeBody {
    return new NativeBody(WATCH, promise, task);
  }

  /** Blocked on the host: its awaits are no longer the task's steps. */
  get detached(): boolean {
    return this.state === ON_HOST;
  }

  /** @internal The function awaits the host (detached), or is back in the loop's order. */
  _onHost(detached: boolean): void {
    if (this.state >= FIRST && this.state <= ON_HOST) this.state = detached ? ON_HOST : RUNNING;
  }

  /**
   * @internal Just after its first part: if the then() of its first await has
   * not come, that await was of a plain promise, and the function runs on.
   */
  _firstPartEnded(): void {
    if (this.state === FIRST) this.state = AFTER_PLAIN;
  }

  /** @internal Its first part runs: the then() of its first asynkit await has not come. */
  get _inFirstPart(): boolean {
    return this.state === FIRST;
  }

  /**
   * @internal It is due the then() of its next asynkit await, which the loop
   * takes for it: its first, or the next after a resume (the function runs,
   * awaiting nothing the task drives).
   */
  get _dueThen(): boolean {
    const state = this.state;
    return state === FIRST || (state === RUNNING && this.inner === null && this.resolve === null);
  }

  /** @internal Its first await was of a plain promise; its first asynkit then() is still due. */
  get _afterPlainAwait(): boolean {
    return this.state === AFTER_PLAIN;
  }

  next(): IteratorResult<Suspend, T> {
    this.followTask();
    const state = this.state;
    if (state === START) return this.start();
    if (state === WATCH) return this.watch();
    if (state >= RETURNED) return this.finish();
    const inner = this.inner;
    if (inner === null) {
      // A task that took over the coroutine this body runs in (see settleElsewhere), while
      // its function awaits the host: the host, not the loop, resumes it.
      if (state === ON_HOST) return ON_THE_HOST;
      throw new Error(`${this.task}: a native task was stepped with nothing to run.`);
    }
    return this.advance(inner, false, undefined);
  }

  throw(error: unknown): IteratorResult<Suspend, T> {
    this.followTask();
    // The function failed already: its error ends the task, as a coroutine's own raise wins
    // over a cancellation still pending (asyncio's Task.__step).
    if (this.state === THREW) return this.finish();
    const inner = this.inner;
    // Not started, or nothing awaited: the error ends the task (a CancelledError cancels it).
    if (this.state <= WATCH) this.run();
    if (inner === null) throw error;
    return this.advance(inner, true, error);
  }

  return(value: T): IteratorResult<Suspend, T> {
    if (this.state === START) this.run();
    this.closeInner();
    return { done: true, value };
  }

  [Symbol.iterator](): this {
    return this;
  }

  toString(): string {
    return `the native body of ${this.task}`;
  }

  /**
   * Its task is the one stepping it: an async body inside a coroutine moves
   * with that coroutine when another task takes it on (the rest of an eager
   * start; settleElsewhere's takers get their bodies at once, see
   * moveBodiesWithin).
   */
  private followTask(): void {
    const task = this.task;
    if (task === null) return;
    let stepping = task._loop._currentTask;
    // Stored only when it moved: a store is a write barrier, dear while the collector marks.
    if (stepping === task || stepping === null) return;
    // An eager start runs in its caller's step: the start's task is the one that carries it.
    if (eagerStarts.depth > 0) {
      stepping = runningTask(task._loop);
      if (stepping === task || stepping === null) return;
    }
    moveBody(this as NativeBody<unknown>, task, stepping);
  }

  /**
   * @internal The function awaits `op` (its then() was called): the next step
   * drives it, now (RUNNING) or from the ready queue (QUEUED).
   */
  _awaits(
    op: AwaitTarget,
    resolve: Settle,
    reject: Settle,
    state: typeof RUNNING | typeof QUEUED,
  ): void {
    this.state = state;
    this.inner = op;
    this.resolve = resolve;
    this.reject = reject;
  }

  /**
   * @internal The function awaits a future that is done: settle the await now,
   * with no step, as `yield*` of a done future goes on without suspending.
   * False for a result that is itself awaitable, which the task must wait for.
   */
  _awaitsDone(future: Future<unknown>, resolve: Settle, reject: Settle): boolean {
    let ok = true;
    let outcome: unknown;
    try {
      outcome = future.result();
    } catch (error) {
      ok = false;
      outcome = error;
    }
    if (ok && isPromiseLike(outcome)) return false;
    this.state = RUNNING;
    this.resolve = resolve;
    this.reject = reject;
    this.settle(ok, outcome);
    return true;
  }

  /** @internal What the function awaits now, if the task drives it: see enterAwaitScope. */
  get _awaited(): AwaitTarget | null {
    return this.resolve === null ? null : this.inner;
  }

  /**
   * @internal The task is abandoned as its loop closes: a then() it drives
   * that is no await (a `task.then(onDone, onError)` taken for one, on a loop
   * without the asyncLocalStorage option) is rejected, as then()'s promise
   * is (Future._abandon); the function's own await stays pending.
   */
  _abandonThen(): void {
    const reject = this.reject;
    if (reject === null || isResolvingFunction(this.resolve as Settle)) return;
    const inner = this.inner as AwaitTarget;
    this.inner = this.resolve = this.reject = null;
    reject(abandoned(inner));
  }

  /** @internal The task drives an await of the function's: the function is not running. */
  get _drivesAwait(): boolean {
    return this._awaited !== null;
  }

  /**
   * @internal The function settled while the task's step goes on in
   * microtasks for the await it drives, which was not the function's own:
   * the task settles that await, then ends with the function's outcome.
   */
  _endAfterAwait(ok: boolean, outcome: unknown): void {
    this.pending = new Ended(ok, outcome);
  }

  /** @internal The task's step is in the ready queue: its function's end must wait for that step. */
  get _queued(): boolean {
    return this.state === QUEUED;
  }

  /**
   * @internal The function's promise settled: the next step ends with its
   * outcome. An await the task still drives was not the function's own (a
   * then() of Promise.race, or of a function the loop did not order): see
   * _letGoOfAwait, whose result this returns.
   */
  _settled(ok: boolean, outcome: unknown, waitedOn: Future<unknown> | null): boolean {
    this._keepOutcome(ok, outcome);
    return this._letGoOfAwait(waitedOn);
  }

  /** @internal The function's outcome, which its next step gives (finish()). */
  _keepOutcome(ok: boolean, outcome: unknown): void {
    this.state = ok ? RETURNED : THREW;
    this.pending = outcome;
  }

  /**
   * @internal The await the task drives is not the function's (any more): it
   * goes on in a task of its own, which settles it, as for any then() not an
   * await. `waitedOn` is the future the task stopped waiting on for it.
   * True if the task's next step is in the ready queue still, queued for an
   * async body that went with the await: that step is the task's own now.
   */
  _letGoOfAwait(waitedOn: Future<unknown> | null): boolean {
    const task = this.task as Task<unknown>;
    // An async body in what it drove may be blocked on the host: that goes with the await.
    task._backFromHost();
    const inner = this.inner;
    const resolve = this.resolve as Settle;
    const reject = this.reject as Settle;
    this.inner = null;
    this.resolve = this.reject = null;
    if (inner === null) return false;
    const taker = settleElsewhere(task, inner, waitedOn, resolve, reject);
    // Before any of them settles, which steps its task: the old one has moved on.
    return taker !== null && moveBodiesWithin(task, this as NativeBody<unknown>, taker);
  }

  /** Lets go of what the function awaited, closing a coroutine as `yield*` would. */
  private closeInner(): void {
    const inner = this.inner;
    this.inner = null;
    if (inner !== null && !(inner instanceof Future)) inner.return(undefined);
  }

  /** The function runs from now on: what started it is let go. */
  private run(): void {
    this.state = RUNNING;
    this.pending = undefined;
  }

  /** Steps the awaited coroutine, as `yield*` does; its end settles the await. */
  private advance(
    inner: AwaitTarget,
    throwing: boolean,
    error: unknown,
  ): IteratorResult<Suspend, T> {
    let step: IteratorResult<Suspend, unknown>;
    try {
      if (inner instanceof Future) {
        // Waited on as `yield* future` does, without the iterator a task blocked for long
        // would keep (48 bytes): only its task steps it, once it is done or to throw.
        if (throwing) throw error;
        step = waitStep(inner, false);
      } else step = throwing ? inner.throw(error) : inner.next();
    } catch (thrown) {
      return this.settle(false, thrown);
    }
    if (step.done === true) return this.settle(true, step.value);
    this.state = step.value === undefined ? QUEUED : RUNNING;
    return step as IteratorResult<Suspend, T>;
  }

  /** The first step: call the function in the task's context. */
  private start(): IteratorResult<Suspend, T> {
    const fn = this.pending as () => unknown;
    this.run();
    const loop = activeLoopOrNull() as BaseEventLoop;
    const task = loop._currentTask as Task<unknown>;
    this.task = task;
    const result = loop._syncRun ? callInSyncRun(fn, task) : this.callFirst(fn, loop);
    const target = returnedTarget(result);
    if (target !== null) {
      // A function that returns a coroutine, a task or a future: the task drives it to its end.
      this.inner = target;
      return this.next();
    }
    if (!isPromiseLike(result)) {
      throw new TypeError(
        `${task}: its function, ${describe(fn)}, returned ${describe(result)}, not a promise, a coroutine or a future: give createTask() (or run(), runUntilComplete(), submit()) an async function, or a function that returns a coroutine.`,
      );
    }
    if (loop._syncRun) {
      // Its rest runs in microtasks, for a task that failed: nothing is left to report a failure.
      markRefusedHandled(result);
      throw cannotRunSync(`${task}, whose function returned a promise`);
    }
    this.pending = result;
    return this.watch();
  }

  /** Calls the function, up to its first await, in the loop's order of native steps. */
  private callFirst(fn: () => unknown, loop: BaseEventLoop): unknown {
    const steps = stepsOf(loop);
    // A then() the function calls itself (not an await) is not a step's end.
    steps.firstCalls++;
    try {
      const owner = loop._asyncLocalStorage
        ? new CodeOwner(this.task as Task<unknown>, this as NativeBody<unknown>)
        : null;
      return steps.callFirst(fn, owner, this as NativeBody<unknown>);
    } finally {
      steps.firstCalls--;
    }
  }

  /** The function runs on in microtasks: its then() is due, and its promise (pending) will end it. */
  private watch(): IteratorResult<Suspend, T> {
    const promise = this.pending as PromiseLike<unknown>;
    this.run();
    // Bound rather than closures: a task blocked for long keeps them, and these take 56 bytes less.
    promise.then(bodyFulfilled.bind(this), bodyRejected.bind(this));
    this.state = FIRST;
    expectThen(this as NativeBody<unknown>, true);
    return IN_MICROTASKS;
  }

  /** The step after the function's promise settled: its outcome is this coroutine's. */
  private finish(): IteratorResult<Suspend, T> {
    const outcome = this.pending;
    this.pending = undefined;
    if (this.state === RETURNED) return doneStep(outcome as T);
    throw outcome;
  }

  /** The awaited coroutine ended: settle the await, and let the function run on. */
  private settle(ok: boolean, outcome: unknown): IteratorResult<Suspend, T> {
    this.inner = null;
    const adopted =
      ok && this.resolve !== null && isPromiseLike(outcome) ? awaitTarget(outcome) : null;
    if (adopted !== null) {
      // A promise never resolves to a thenable (a Task, a Future): the engine would wait
      // for it outside the loop's order. Wait for it here instead, as the await would.
      this.inner = adopted;
      return this.advance(adopted, false, undefined);
    }
    const resolve = this.resolve;
    const reject = this.reject as Settle;
    this.resolve = this.reject = null;
    if (resolve === null) {
      // The coroutine the function returned: its end is the task's.
      if (ok) return doneStep(outcome as T);
      throw outcome;
    }
    // While the function runs, nothing is pending but its outcome, kept by _endAfterAwait.
    const ended = this.pending as Ended | undefined;
    if (ended !== undefined) {
      // The function settled meanwhile (see _endAfterAwait): no then() is due, the task ends.
      (ok ? resolve : reject)(outcome);
      this.state = ended.ok ? RETURNED : THREW;
      this.pending = ended.outcome;
      return this.finish();
    }
    this.state = RUNNING;
    const steps = expectThen(this as NativeBody<unknown>, false);
    this.steps++;
    (ok ? resolve : reject)(outcome);
    inMicrotask(steps.markSuspended);
    return IN_MICROTASKS;
  }
}

/** A function's outcome, kept until the task's step that drives another await ends. */
class Ended {
  constructor(
    readonly ok: boolean,
    readonly outcome: unknown,
  ) {}
}

/**
 * Under runSync() a function that returns a coroutine runs; an async one is
 * refused before its call (its awaits would resume in microtasks).
 */
function callInSyncRun(fn: () => unknown, task: Task<unknown>): unknown {
  if (isLocalAsyncFunction(fn)) throw cannotRunSync(`${task}, a native async function`);
  return fn();
}

/** `what`: the task or body refused, as the error names it. */
function cannotRunSync(what: string): Error {
  return new Error(
    `runSync() cannot run ${what}: its awaits resume in microtasks, which need the host. Use \`await loop.runUntilComplete(main)\` or \`await run(main)\` instead.`,
  );
}

/** The body an async body's call makes next, after its first part (see callBody). */
const NEXT_BODY = Symbol("asynkit.nextBody");

/** A credit that counts for nothing: see NativeSteps.crediting. */
const NO_THEN = Symbol("asynkit.noThen");

/**
 * @internal The native steps a loop waits for: the tasks whose then() is due.
 * While any is, the loop's drive has handed the host over to the microtasks.
 */
export class NativeSteps {
  /** Functions whose first step ended in an await, in the order their then() comes. */
  readonly started = new Deque<NativeBody>();
  /**
   * The function resumed and not yet at its next await, whose then() comes
   * after those of `started`; then any resumed after it, in the order they
   * were resumed: each resume queued its function's continuation after the
   * one before's (several are resumed at once when the first awaits of
   * eager starts end at once). Two fields, so that the common case, one
   * resumed function, moves no array.
   */
  resumed: NativeBody | null = null;
  private resumedAfter: Deque<NativeBody> | null = null;

  /** `body` was resumed: its then() comes after those of the functions resumed before it. */
  resume(body: NativeBody): void {
    // Two functions are due a then() now: the one whose first part ended alone gets its mark.
    this.markUnmarked();
    if (this.resumed === null) this.resumed = body;
    else (this.resumedAfter ??= new Deque()).push(body);
    this.unmarkedResumes++;
  }

  /** Takes the function resumed first; the next one resumed takes its place. */
  private takeResumed(): NativeBody | null {
    const body = this.resumed;
    const after = this.resumedAfter;
    this.resumed = after !== null && after.length > 0 ? (after.shift() as NativeBody) : null;
    return body;
  }

  /** Takes every function resumed, in order (see detachBlocked). */
  takeAllResumed(): NativeBody[] {
    const resumed = this.resumed;
    const all = resumed === null ? [] : [resumed, ...(this.resumedAfter ?? [])];
    this.resumed = null;
    this.resumedAfter = null;
    return all;
  }
  /** Functions blocked on the host, found again by their async context (asyncLocalStorage option). */
  readonly detached = new BlockedOnHost();
  /** True while the loop's drive is handed over (the running loop, task and context are kept). */
  handedOver = false;
  /** Hand-overs so far: which native step's microtasks run now (see handOverNow). */
  handOvers = 0;
  /** Task steps running now (the loop runs one within the hand-over to begin an await). */
  stepping = 0;
  /** The context to restore when the hand-over ends. */
  outerContext: Context | null = null;
  /** True while a check after the microtasks is queued. */
  checking = false;
  /**
   * The check itself, made once: a closure made in armHostCheck() would have
   * it allocate its context at every hand-over, though it queues one a slice.
   */
  readonly hostCheck = (): void => {
    this.checking = false;
    // Handed over, or not yet: a function whose first part ran in host code (see
    // startedInHostCode) has had its microtasks too.
    if (this.loop._handover === this) detachBlocked(this);
  };
  /**
   * The resumed functions, the last ones, whose marker has not run: from a
   * resume until a microtask queued just after it, the resumed function runs
   * (or has not started), so a then() call is its own `.then()`, not an await
   * (whose then() comes in a job of its own). Markers run in the order of the
   * resumes, so the first resumed function is suspended once its own has run.
   */
  private unmarkedResumes = 0;
  readonly markSuspended = (): void => {
    if (this.unmarkedResumes === 0) return;
    // The continuation of the next function resumed comes next: the hand-over runs as it.
    const next = this.handedOver && this.unmarkedResumes > 1;
    if (next) this.keepRunningContext();
    this.unmarkedResumes--;
    if (next) enterRunning(this);
  };
  /** First parts being called: a then() call now is the function's own `.then()`. */
  firstCalls = 0;

  /** How many resumed functions, from the first, are suspended: their then() may be an await. */
  private suspendedResumes(): number {
    if (this.resumed === null) return 0;
    const after = this.resumedAfter;
    // A function dropped (it settled) before its marker ran is still counted unmarked.
    return Math.max(0, 1 + (after === null ? 0 : after.length) - this.unmarkedResumes);
  }

  /** The suspended resumed function of `owner`'s task, if any (no array made: once per await). */
  private suspendedResume(owner: Task<unknown>): NativeBody | null {
    const suspended = this.suspendedResumes();
    if (suspended === 0) return null;
    if ((this.resumed as NativeBody).task === owner) return this.resumed;
    const after = this.resumedAfter as Deque<NativeBody>;
    for (let i = 0; i < suspended - 1; i++) {
      const body = after.get(i);
      if (body.task === owner) return body;
    }
    return null;
  }
  /**
   * How many of `started` may take a then() now. A function's first step
   * queues a credit before it calls the function, so the credit comes just
   * before the then() job of the function's first await: a then() job queued
   * earlier (outside code awaiting a task, Promise.all over tasks) finds no
   * credit and is not taken for the function's await.
   */
  credits = 0;
  /**
   * The functions whose first part was called, in the order of their credits
   * (null: not a task's own; NO_THEN: a call that returned no promise, which
   * no then() comes for).
   */
  private readonly crediting = new Deque<NativeBody | null | typeof NO_THEN>();
  readonly credit = (): void => {
    const body = this.crediting.shift();
    if (body === NO_THEN) return;
    this.credits++;
    // From its credit to its firstPartEnded(), the microtasks are those its first part queued.
    if (body?._inFirstPart && this.handedOver && body !== this.running()) {
      this.keepRunningContext();
      this.firstPart = body;
      enterRunning(this);
    }
  };

  /**
   * The function whose first part's microtasks run now, if it is not the
   * running one anyway; its firstPartEnded() clears it (only a function whose
   * marker is queued can differ from the running one at its credit).
   */
  private firstPart: NativeBody | null = null;

  /** Functions whose first part was called, each with a firstPartEnded() queued just after it. */
  private readonly firstParts = new Deque<NativeBody>();
  /** Just after a function's first part: see NativeBody._firstPartEnded(). */
  readonly firstPartEnded = (): void => {
    const body = this.firstParts.shift() as NativeBody;
    body._firstPartEnded();
    if (this.firstPart === body) {
      this.keepRunningContext();
      this.firstPart = null;
      if (this.handedOver) enterRunning(this);
    }
  };

  /**
   * A function whose first part ended with no other function due a then(),
   * whose firstPartEnded() waits until another first part begins: a then()
   * can be taken for the wrong function only once two are due one, and the
   * first part's microtasks were all queued before the other's begin. (At
   * most one: the next to end its first part finds this one due.)
   */
  private unmarked: NativeBody | null = null;

  /** Task steps the hand-over runs now (see stepTask): their code is not the running function's. */
  taskSteps = 0;

  /** Async bodies parked in a CoroStart's start whose then() has not come (see parkStart). */
  parked = 0;

  /**
   * Nonzero when an await needs more than the common path of driveAwait():
   * the loop's asyncLocalStorage option, or a body parked in a start.
   */
  get rareAwaits(): number {
    return this.parked + (this.loop._asyncLocalStorage ? 1 : 0);
  }

  /** How many first parts are being called now (one inside another: an eager start). */
  private calling = 0;

  /**
   * `body`'s first part ended (before it joins `started`): its firstPartEnded()
   * is queued now, or, if it is the only function due a then(), once another
   * first part begins.
   */
  firstPartOver(body: NativeBody): void {
    if (this.calling === 0 && !this.pending()) this.unmarked = body;
    else this.mark(body);
  }

  /** Another function is due a then(): the one left unmarked gets its firstPartEnded() queued. */
  private markUnmarked(): void {
    const unmarked = this.unmarked;
    if (unmarked === null) return;
    this.unmarked = null;
    if (unmarked._inFirstPart) this.mark(unmarked);
  }

  /** Queues `body`'s firstPartEnded(). */
  private mark(body: NativeBody): void {
    this.firstParts.push(body);
    inMicrotask(this.firstPartEnded);
  }

  /** @internal No function is due a then(): the one left unmarked is past its first part. */
  forgetUnmarked(): void {
    this.unmarked = null;
  }

  constructor(readonly loop: BaseEventLoop) {}

  /** True while a then() is due. */
  pending(): boolean {
    return this.resumed !== null || this.started.length > 0;
  }

  /**
   * The function the hand-over runs as, between its asynkit awaits: one whose
   * first part's microtasks run now (see credit), else the first resumed whose
   * continuation has not run (their continuations run in the order of the
   * resumes, each followed by its marker), else the one resumed last, else the
   * last whose first step ended in an await (the step the drive ran; the
   * eager children it started come before it).
   */
  running(): NativeBody | null {
    if (this.firstPart !== null) return this.firstPart;
    const after = this.resumedAfter;
    if (after !== null && after.length > 0) {
      const suspended = this.suspendedResumes();
      if (suspended === 0) return this.resumed;
      return after.get(Math.min(suspended, after.length) - 1);
    }
    if (this.resumed !== null) return this.resumed;
    const started = this.started;
    return started.length > 0 ? started.get(started.length - 1) : null;
  }

  /**
   * The function the next then() belongs to (see due()), unless the then()
   * may be code outside it awaiting its task (`op`; see awaitOfOwnTask).
   */
  take(op: object): NativeBody | null {
    const started = this.started;
    if (started.length > 0 && this.credits > 0) {
      if (this.awaitOfOwnTask(started.get(0) as NativeBody, op)) return null;
      this.keepRunningContext();
      this.credits--;
      return started.shift() as NativeBody; // a Deque: an array's shift() moves them all
    }
    if (this.awaitOfOwnTask(this.resumed as NativeBody, op)) return null;
    this.keepRunningContext();
    return this.takeResumed() as NativeBody;
  }

  /**
   * True for a then() of `body`'s own task, which is never the function's
   * await here: without the asyncLocalStorage option the loop cannot tell the
   * function's then() from one of code the host runs while the step waits
   * for its check (a handler's `await task`, another task's function past a
   * host await), which awaits the task, and the function's own then() is
   * still to come. A function that awaits its own task waits for ever, as a
   * promise that awaits itself does; with the option it fails as a coroutine
   * does ("cannot wait on itself").
   */
  private awaitOfOwnTask(body: NativeBody, op: object): boolean {
    return body.task === op;
  }

  /**
   * The function of `owner`, whose then() this is by the host's async context,
   * if it is due one (null: the then() is not an await the loop ordered).
   */
  takeOwned(owner: Task<unknown>): NativeBody | null {
    const started = this.started;
    for (let i = 0; i < started.length; i++) {
      const body = started.get(i);
      if (body.task !== owner) continue;
      this.keepRunningContext();
      started.removeAt(i);
      this.credits--;
      return body;
    }
    const body = this.suspendedResume(owner);
    if (body === null) return null;
    this.keepRunningContext();
    this.dropResumed(body);
    return body;
  }

  /**
   * Before a task steps during the hand-over: the running task keeps the
   * context its microtasks ran in (see enterRunning), which is a copy of its
   * own if it wrote to a snapshot it shared; the next enterRunning() enters it.
   */
  keepRunningContext(): void {
    const running = this.running();
    if (running !== null && this.handedOver) {
      (running.task as Task<unknown>)._context = currentContext();
    }
  }

  /**
   * True if a then() now is the await of the function it would be given to: a
   * started function's once its credit came, else a suspended resumed one's.
   * A then() before the credit is not the started function's: it may be the
   * await of a function resumed before that one started (its then() job was
   * queued before the credit).
   */
  due(): boolean {
    if (this.started.length > 0) {
      this.detachAfterPlainAwaits();
      if (this.started.length > 0 && this.credits > 0) return true;
    }
    return this.firstCalls === 0 && this.suspendedResumes() > 0;
  }

  /**
   * True if a then() now may be the first await of a function whose first part
   * ran outside the loop's drives and hand-overs: in an eager start in a task's
   * code that the host resumed (asyncLocalStorage option), whose credit came.
   */
  startedInHostCode(): boolean {
    return !this.handedOver && this.credits > 0 && this.started.length > 0;
  }

  /**
   * A started function whose first await was of a plain promise runs on in
   * the microtasks, and the then() of its first asynkit await comes when that
   * promise's chain says. Alone, it is the only function a then() can be
   * from. Beside another function due one (its creator, a task started with
   * it), a then() now could be either's: it goes on outside the loop's order,
   * as a function blocked on the host (which the asyncLocalStorage option
   * finds again), and the then() goes to the other.
   */
  private detachAfterPlainAwaits(): void {
    const started = this.started;
    while (started.length > 1 || (started.length === 1 && this.resumed !== null)) {
      const first = started.get(0);
      if (!first._afterPlainAwait) return;
      started.shift();
      this.credits--;
      detach(this, first);
    }
  }

  /**
   * Calls a function's first part (its call, up to its first await), with its
   * credit queued before; a call that does not return a promise takes no then(),
   * and gives its credit back. With the loop's asyncLocalStorage option, the
   * function runs as `owner`'s, if given (see runAsOwner).
   */
  callFirst(fn: () => unknown, owner: CodeOwner | null, body: NativeBody | null): unknown {
    // Another first part begins: the one that waited for it gets its firstPartEnded() now.
    this.markUnmarked();
    // Its credit's place: the call runs synchronously, so none of the credits queued
    // (this one included) comes before it returns, and places only grow at the end.
    const place = this.crediting.length;
    this.crediting.push(body);
    inMicrotask(this.credit);
    armHostCheck(this); // before the function can queue host callbacks of its own (see there)
    const creator = this.runningStarted();
    let result: unknown;
    this.calling++;
    try {
      result = !this.loop._asyncLocalStorage
        ? runAsNoOwner(fn)
        : owner !== null
          ? runAsOwner(owner, fn)
          : fn();
    } finally {
      this.calling--;
      // No then() comes for it: its credit, still queued, counts for nothing when it comes
      // (taken back now, it would leave a credit queued before it, another's, short).
      const thenDue = isPromiseLike(result) && !isCoroutine(result);
      if (!thenDue) this.crediting.set(place, NO_THEN);
      // An async body's NativeBody is made from its promise, after the call.
      this.startedBody = body ?? (thenDue ? NEXT_BODY : null);
      this.startedBy = creator;
    }
    return result;
  }

  /**
   * The function whose first part was just called (NEXT_BODY: an async
   * body, whose NativeBody is made after its call), and the started function
   * whose code called it, if one did: a function past a plain first await,
   * still due its first then(), which starts one eagerly.
   */
  private startedBody: NativeBody | typeof NEXT_BODY | null = null;
  private startedBy: NativeBody | null = null;

  /**
   * The function the hand-over runs as, if it is a started one past its
   * credit: alone, it runs on past a plain first await (its code, or code its
   * microtasks run, as the hand-over takes all of it to be). Not while the
   * hand-over steps a task (an async body inside that task ended, and the
   * task steps on from it): that step's code is the task's.
   */
  private runningStarted(): NativeBody | null {
    const started = this.started;
    if (!this.handedOver || this.firstPart !== null || this.resumed !== null) return null;
    if (this.taskSteps > 0) return null;
    return started.length === 1 && this.credits === 1 ? started.get(0) : null;
  }

  /**
   * `body`'s first part ended in an await: it joins the started functions, in
   * the order their then() comes. One started by a started function's code
   * comes before that function, whose next await comes after the code that
   * started it.
   */
  addStarted(body: NativeBody): void {
    const startedBody = this.startedBody;
    const creator = startedBody === body || startedBody === NEXT_BODY ? this.startedBy : null;
    this.startedBody = this.startedBy = null;
    const started = this.started;
    const at = creator === null ? -1 : started.lastIndexOf(creator);
    if (at < 0) started.push(body);
    else started.insert(at, body);
  }

  /** `body` is no longer due a then() as a resumed function. */
  private dropResumed(body: NativeBody): void {
    if (this.resumed === body) this.takeResumed();
    else {
      const after = this.resumedAfter;
      const i = after?.indexOf(body) ?? -1;
      if (i >= 0) after?.removeAt(i);
    }
  }

  /** Forgets `body` (its promise settled without another await). */
  drop(body: NativeBody): void {
    this.dropResumed(body);
    const started = this.started;
    const i = started.indexOf(body);
    if (i < 0) return;
    // Usually the first: a function that ended without an await, before the next one started.
    started.removeAt(i);
    this.credits--;
  }
}

/**
 * A native step goes on in microtasks until the function's next then(): the
 * loop hands over. A resumed function's caller queues `markSuspended` just
 * after the continuation it queued.
 */
function expectThen(body: NativeBody, first: boolean): NativeSteps {
  const loop = (body.task as Task<unknown>)._loop;
  const steps = stepsOf(loop);
  if (first) {
    steps.firstPartOver(body);
    steps.addStarted(body);
  } else {
    steps.resume(body);
    armHostCheck(steps); // before the continuation can queue host callbacks of its own
  }
  loop._handover = steps;
  return steps;
}

/**
 * Settles an await with what it drives, in a task of its own (see
 * NativeBody._settled): a future is waited for, a coroutine goes on from where
 * the function's task left it.
 */
function settleElsewhere(
  task: Task<unknown>,
  inner: AwaitTarget,
  waitedOn: Future<unknown> | null,
  resolve: Settle,
  reject: Settle,
): Task<unknown> | null {
  if (inner instanceof Future) {
    inner._promise().then(resolve, reject);
    return null;
  }
  // The child of the task whose function let go of it, whichever code runs now (the
  // function's promise settling runs as no task's, to the host's async context), in a
  // copy of its context, in which what it goes on with ran.
  const loop = task._loop;
  const make = () => loop._createTaskOf(resumeFrom(inner), task);
  const taker = loop._asyncLocalStorage ? runAsOwner(new CodeOwner(task, null), make) : make();
  taker._context = task._context.copy();
  moveScopesWithin(inner, taker);
  takersNotStarted.set(taker, waitedOn);
  taker._promise().then(resolve, reject);
  return taker;
}

/**
 * A deadline (timeout(), waitFor()) or a task group entered in a task: it
 * cancels the task that runs its block, which changes if the block is inside
 * an await that the task's function lets go of (settleElsewhere). One that
 * cancelled the task before passed the cancellation on to what the task
 * waited on, inside the block, which goes with it.
 */
interface AwaitScope {
  /** The block goes on in `task`. */
  _moveTo(task: Task<unknown>): void;
}

/** The scopes entered inside each await a native task's function drives, while they run. */
const scopesWithin = new WeakMap<object, Set<AwaitScope>>();

/**
 * @internal `scope` is entered in `task`: returns the await of the task's
 * function that it is inside (pass it to leaveAwaitScope), or null for none:
 * a generator task's scopes stay its own.
 */
export function enterAwaitScope(task: Task<unknown>, scope: AwaitScope): object | null {
  const within = innermostAwait(task);
  if (within === null) return null;
  let scopes = scopesWithin.get(within);
  if (scopes === undefined) scopesWithin.set(within, (scopes = new Set()));
  scopes.add(scope);
  return within;
}

/**
 * The await a block entered now in `task` is inside: that of the innermost
 * async body of the task's (timeout()'s, taskGroup()'s) whose task drives
 * one, else its function's; null for a generator task.
 */
function innermostAwait(task: Task<unknown>): object | null {
  const bodies = runningBodies.get(task);
  if (bodies !== undefined) {
    for (let i = bodies.length - 1; i >= 0; i--) {
      const awaited = (bodies[i] as NativeBody)._awaited;
      if (awaited !== null) return awaited;
    }
  }
  const body = task._coro as unknown;
  return body instanceof NativeBody ? body._awaited : null;
}

/** The scopes entered inside `within` go on in `task`. */
function moveScopesWithin(within: object | null, task: Task<unknown>): void {
  const scopes = within === null ? undefined : scopesWithin.get(within);
  if (scopes !== undefined) for (const scope of scopes) scope._moveTo(task);
}

/** @internal The block of `scope`, entered inside `within` (enterAwaitScope's answer), is left. */
export function leaveAwaitScope(within: object | null, scope: AwaitScope): void {
  if (within !== null) scopesWithin.get(within)?.delete(scope);
}

/**
 * The tasks settleElsewhere() made whose first step is still in the ready
 * queue: it steps the async bodies that went to them, so nothing else may.
 * Each with the future that step will wait on.
 */
const takersNotStarted = new WeakMap<Task<unknown>, Future<unknown> | null>();

/**
 * `task` stops waiting on its future, for an await one of its functions let
 * go of: that future, if any. A taker not started yet waits on none, but its
 * first step will, and so must a body's await that goes on elsewhere: the
 * coroutine that waits on that future may be inside it.
 */
function stopWaiting(task: Task<unknown>): Future<unknown> | null {
  const waitedOn = task._stopWaiting() ?? takersNotStarted.get(task) ?? null;
  // That first step then steps what the taker drives at once, as a started one is stepped.
  if (takersNotStarted.has(task)) takersNotStarted.set(task, null);
  return waitedOn;
}

/**
 * A coroutine that was suspended in another task's step, driven on: once
 * the future it waited on (kept in takersNotStarted) is done (it reads the
 * outcome itself), or at once after a bare yield, or when a body inside it
 * let go of the await that waited on that future before this first step.
 */
function* resumeFrom(inner: Coro<unknown>): Coro<unknown> {
  const task = activeLoopOrNull()?._currentTask as Task<unknown>;
  const waitedOn = takersNotStarted.get(task) ?? null;
  takersNotStarted.delete(task);
  let resumed = false;
  try {
    if (waitedOn !== null) {
      try {
        yield* new WaitUntilStepped(waitedOn);
      } catch (error) {
        if (!waitedOn.done()) throw error; // interrupted while waiting
      }
    }
    resumed = true;
    return yield* inner;
  } finally {
    if (!resumed) inner.return(undefined);
  }
}

/**
 * Waits for a future as `yield* future` does, but leaves its outcome to the
 * coroutine that reads it, and ends at the next step even if the future is
 * still pending: an async body inside that coroutine ended, or let go of its
 * await, and the task stopped waiting for it (see bodySettled).
 */
class WaitUntilStepped {
  private waited = false;
  constructor(private readonly future: Future<unknown>) {}

  next(): IteratorResult<Suspend, undefined> {
    if (this.waited || this.future.done()) return doneStep(undefined);
    this.waited = true;
    return waitStep(this.future, false) as IteratorResult<Suspend, undefined>;
  }

  throw(error: unknown): IteratorResult<Suspend, undefined> {
    throw error;
  }

  [Symbol.iterator](): this {
    return this;
  }
}

function stepsOf(loop: BaseEventLoop): NativeSteps {
  let steps = loop._nativeSteps;
  if (steps === null) steps = loop._nativeSteps = new NativeSteps(loop);
  return steps;
}

/** @internal The native step whose microtasks run now on `loop` (its count of hand-overs), or -1. */
export function handOverNow(loop: BaseEventLoop): number {
  const steps = loop._handover;
  return steps?.handedOver === true ? steps.handOvers : -1;
}

/**
 * @internal The loop's drive stopped for a native step: keep the loop running
 * for the microtasks (the running loop, and the running task as the current
 * one), and check after them whether the step ended.
 */
export function handOver(loop: BaseEventLoop): void {
  const steps = loop._handover as NativeSteps;
  steps.handedOver = true;
  steps.handOvers++;
  handedOverLoop = loop;
  // Only a loop with the asyncLocalStorage option lets ContextVars ask whose code runs.
  setHandedOver(loop._asyncLocalStorage);
  setRunningLoop(loop);
  enterRunning(steps);
  armHostCheck(steps);
}

/**
 * During a hand-over the running task is the current one, in its context, as
 * in a step: its code up to its next asynkit await is the step's, plain awaits
 * included. A write there to a snapshot the task shares makes a copy, which
 * the task takes before any task steps (keepRunningContext).
 */
function enterRunning(steps: NativeSteps): void {
  const running = steps.running()?.task ?? null;
  steps.loop._currentTask = running;
  if (running !== null) {
    const outer = swapContext(running._context);
    steps.outerContext ??= outer;
  } else if (steps.outerContext !== null) {
    swapContext(steps.outerContext);
    steps.outerContext = null;
  }
}

/**
 * In the host's next macrotask, the microtasks have all run: a then() still
 * due would have come. The steps still waiting for one await the host. Armed
 * before a function's code runs, so that it comes before the host callbacks
 * that code queues (a setImmediate), which must not find the loop running.
 */
function armHostCheck(steps: NativeSteps): void {
  if (steps.checking) return;
  steps.checking = true;
  yieldToHost(steps.hostCheck);
}

/** The tasks still due a then() await the host: the loop goes on without them. */
function detachBlocked(steps: NativeSteps): void {
  steps.keepRunningContext();
  const blocked = steps.started.toArray();
  blocked.push(...steps.takeAllResumed());
  steps.started.clear();
  steps.credits = 0; // every credit has come: the microtasks have all run
  for (const body of blocked) detach(steps, body);
  stepsDone(steps);
}

/** `body`'s function goes on outside the loop's order: it counts as blocked on the host. */
function detach(steps: NativeSteps, body: NativeBody): void {
  const loop = steps.loop;
  body._onHost(true);
  if (loop._asyncLocalStorage && owners !== undefined) steps.detached.add(body);
  loop._hostPending++;
  const task = body.task as Task<unknown>;
  task._endStepOnHost();
  loop._hostAwait(task, body.steps);
  if (observed) publish("task.suspended", { task, future: null, what: HOST_AWAIT });
}

/** No then() is due any more: give the loop back its drive. */
function stepsDone(steps: NativeSteps): void {
  const loop = steps.loop;
  if (steps.pending()) {
    if (steps.handedOver) enterRunning(steps);
    // A step the host's code ran (see startedInHostCode) resumed a function: its
    // microtasks are the loop's now, unless another loop's are.
    else if (handedOverLoop === null) handOver(loop);
    return;
  }
  steps.forgetUnmarked(); // none is in its first part any more
  loop._handover = null;
  if (!steps.handedOver) return;
  steps.handedOver = false;
  enterRunning(steps);
  setRunningLoop(null);
  handedOverLoop = null;
  setHandedOver(false);
  loop._resumeDrive();
  if (handedOverLoop === null) wakeWaitingLoops();
}

/**
 * The loop whose native step goes on in the microtasks now. One at a time: a
 * then() finds its loop as the running one, so while one loop is handed over,
 * another runs no step (its drive waits until the hand-over ends).
 */
let handedOverLoop: BaseEventLoop | null = null;
const waitingLoops: BaseEventLoop[] = [];

/** @internal False (and `loop` waits its turn) while another loop's native step runs. */
export function mayRunSlice(loop: BaseEventLoop): boolean {
  if (handedOverLoop === null || handedOverLoop === loop) return true;
  if (!waitingLoops.includes(loop)) waitingLoops.push(loop);
  return false;
}

function wakeWaitingLoops(): void {
  if (waitingLoops.length === 0) return;
  // Woken from a hand-over's microtasks: the drives must not run as that task's code.
  runAsNoOwner(() => {
    for (const loop of waitingLoops.splice(0)) loop._queueDrive();
  });
}

/**
 * @internal `await op` (op.then()) in code the loop runs: when a native task
 * is due its then(), this is its await, which the task now drives; returns
 * false otherwise (the caller runs op as a task of its own, or waits for a
 * future's promise: another loop's future is always waited for so). An await always
 * passes both functions: a then() without one (`op.then(f)`, made inside a
 * thenable's own then(), or `op.then(null, onError)`) is never one, and gets its promise.
 */
export function awaitInTask(op: object, onFulfilled: unknown, onRejected: unknown): boolean {
  if (typeof onFulfilled !== "function" || typeof onRejected !== "function") return false;
  const resolve = onFulfilled as Settle;
  const reject = onRejected as Settle;
  let loop = activeLoopOrNull();
  if (loop === null) return false;
  // The host's async context tells whose await it is (the asyncLocalStorage option): a
  // task blocked on the host may resume while another loop's native step has the host.
  const code = owners ? owners.getStore() : undefined;
  if (code !== undefined) {
    // The function of a task that ended (failed at a host await) runs on as no task's code.
    if (code.task.done()) return false;
    loop = code.task._loop;
  }
  // Another loop's future settles in that loop's time: to this one it is a host promise.
  if (op instanceof Future && op._loop !== loop) return false;
  const steps = loop._handover;
  const due = steps?.handedOver === true && steps.due();
  if (loop._asyncLocalStorage && owners) return awaitOfOwner(loop, code, op, resolve, reject, due);
  const body = due ? (steps as NativeSteps).take(op) : null;
  return body !== null && driveAwait(steps as NativeSteps, body, op, resolve, reject);
}

/**
 * awaitInTask() on a loop with the asyncLocalStorage option, where the host's
 * async context names `code`, whose code the then() is (a function of its
 * own, so that the common path stays small enough to inline).
 */
function awaitOfOwner(
  loop: BaseEventLoop,
  code: CodeOwner | undefined,
  op: object,
  resolve: Settle,
  reject: Settle,
  due: boolean,
): boolean {
  // A then() outside every task's code (a host callback's) is no task's await, and one
  // of a task blocked on the host is its.
  if (code === undefined) return false;
  const owner = code.task;
  const steps = loop._handover;
  const body = due || steps?.startedInHostCode() ? (steps as NativeSteps).takeOwned(owner) : null;
  if (body === null) return reattach(loop, code, op, resolve, reject);
  return driveAwait(steps as NativeSteps, body, op, resolve, reject);
}

/**
 * A native task's asynkit await, with the loop's asyncLocalStorage option:
 * the steps that drive what it awaits run in the context current at the
 * await (an `als.run()` around it, an `enterWith()` before it), as the code
 * after a native await would, not in the one the task was made in.
 */
function followAwaitScope(task: Task<unknown>): void {
  const scopes = task._loop._asyncScopes;
  if (scopes === null || !scopes.has(task)) return;
  scopes.set(task, captureAsyncScope("asynkit.Task") as AsyncScope);
}

/** The task of `body` drives `op`, its function's await, from now on. */
function driveAwait(
  steps: NativeSteps,
  body: NativeBody,
  op: object,
  resolve: Settle,
  reject: Settle,
): true {
  // One test on the common path for what is rare (see NativeSteps.rareAwaits).
  if (steps.rareAwaits !== 0) return driveRareAwait(steps, body, op, resolve, reject);
  stepAwait(steps, body, op, resolve, reject);
  return true;
}

/**
 * driveAwait() where the loop has the asyncLocalStorage option (the steps
 * follow the context current at the await) or a body is parked in a start.
 */
function driveRareAwait(
  steps: NativeSteps,
  body: NativeBody,
  op: object,
  resolve: Settle,
  reject: Settle,
): true {
  if (steps.parked !== 0 && parkedBodies.has(body))
    return awaitParked(steps, body, op, resolve, reject);
  if (steps.loop._asyncLocalStorage) followAwaitScope(body.task as Task<unknown>);
  stepAwait(steps, body, op, resolve, reject);
  return true;
}

/** The task of `body` steps what it awaits now, unless the await settles at once. */
function stepAwait(
  steps: NativeSteps,
  body: NativeBody,
  op: object,
  resolve: Settle,
  reject: Settle,
): void {
  const done = op instanceof Future && op._state !== PENDING;
  if (!done || !body._awaitsDone(op, resolve, reject)) {
    body._awaits(awaitTarget(op) as AwaitTarget, resolve, reject, RUNNING);
    stepTask(body.task as Task<unknown>, true);
  }
  stepsDone(steps);
}

onHostCodeOwner(() => (owners ? (owners.getStore()?.task ?? null) : undefined));

/**
 * Whose code a task's function or an async body is, to the host's async
 * context: its task, which for a body changes as the body moves to another
 * task (moveBody), so that its code after a host await, and after the task it
 * began in has ended, is the task's that now runs it.
 */
class CodeOwner {
  constructor(
    public task: Task<unknown>,
    /** The function: the task's own body, or the async body's (set once it is made). */
    public body: NativeBody | null,
  ) {}
}

/**
 * The async context runs a function in, on hosts that have one: its
 * CodeOwner, so that its awaits after a host promise are found to be its
 * task's again.
 */
let owners: AsyncStore<CodeOwner> | undefined | null = null;

function runAsOwner<R>(owner: CodeOwner, fn: () => R): R {
  if (owners === null) owners = newAsyncStore<CodeOwner>();
  return owners === undefined ? fn() : owners.run(owner, fn);
}

/** The CodeOwner of each async body that has one, which moves with it. */
const bodyOwners = new WeakMap<NativeBody, CodeOwner>();
/** The CodeOwner callBody() called its body with last, for resultCoroutine()'s NativeBody. */
let calledBodyOwner: CodeOwner | null = null;

/**
 * @internal Runs `fn` as no task's code: a loop without the asyncLocalStorage
 * option starts its functions so, and its drives, which may be queued from the
 * code of another loop's task that has the option; else their awaits would be
 * taken for that task's, on that loop. So does a read of a native async
 * iterable, which its consumer waits for as a host promise.
 */
export function runAsNoOwner<R>(fn: () => R): R {
  return owners ? owners.exit(fn) : fn();
}

/**
 * The await of a task blocked on the host, now that the host resumed it: the
 * task is back in the loop's order, its next step (which drives the awaited
 * coroutine) queued as any wakeup. Only an await's then(), which is given a
 * promise's resolving functions: the code the host resumed may call `then()`
 * itself first (`task.then(onDone, onError)`), and that call is no await.
 */
function reattach(
  loop: BaseEventLoop,
  code: CodeOwner,
  op: object,
  resolve: Settle,
  reject: Settle,
): boolean {
  if (!isResolvingFunction(resolve)) return false;
  const detached = loop._nativeSteps?.detached;
  const body = detached?.last(code.task) ?? null;
  if (body === null) return retake(code, op, resolve, reject);
  (detached as BlockedOnHost).delete(body);
  body._onHost(false);
  (body.task as Task<unknown>)._backFromHost();
  loop._hostPending--;
  body._awaits(awaitTarget(op) as AwaitTarget, resolve, reject, QUEUED);
  const task = body.task as Task<unknown>;
  followAwaitScope(task);
  // A cancellation requested while it was on the host, which no host API took from its
  // signal, is thrown in at this await, whether or not the await would suspend; a pending
  // future is cancelled instead, as asyncio's task does with the future its coroutine
  // yields, so that a gather() is not left running with nobody to read its outcome.
  if (takersNotStarted.has(task)) return true;
  if (op instanceof Future && op._state === PENDING) task._runAwaitStart("queue");
  else loop._readyTask(task);
  return true;
}

/**
 * The function of `owner` awaits `op` while its task still drives an await
 * taken for it before: that then() was a combinator's (`Promise.race` over
 * asynkit awaitables, after a resume, or `Promise.all` over helpers that
 * each await), whose winner let the function run on. The await taken before
 * goes on in a task of its own, as a race's losers do, and the task drives
 * `op`, so that cancel() reaches the function where it waits. The function
 * is the one `code` names: the task's own, or one of its async bodies.
 */
function retake(code: CodeOwner, op: object, resolve: Settle, reject: Settle): boolean {
  const owner = code.task;
  const body = code.body;
  if (!(body instanceof NativeBody) || !body._drivesAwait || owner._stepInMicrotasks) return false;
  if (owner._loop._currentTask === owner) return false; // its own step: a then() of its own code
  const queuedBefore = stepQueued(owner, body);
  // A step queued for an async body that went with the let-go await drives `op` instead.
  const queued = body._letGoOfAwait(stopWaiting(owner)) || queuedBefore;
  const failure = owner._loop._ranPastAwait(owner, body.steps);
  if (failure !== null) {
    // Refused (the virtual loop's hostAwaits: "error"): the function runs on as no task's code.
    owner._endThrown(failure);
    return false;
  }
  body._awaits(awaitTarget(op) as AwaitTarget, resolve, reject, QUEUED);
  owner._runAwaitStart(queued ? "queued" : "queue");
  return true;
}

/**
 * The task's step that drives `body`'s await is in the ready queue: a bare
 * yield's, the wakeup of a done future (waited on still, or no longer: see
 * STEP_QUEUED), a cancellation's that came round a ring of tasks awaiting
 * each other, or the first step of a task an async body went to.
 */
function stepQueued(task: Task<unknown>, body: NativeBody): boolean {
  if (body._queued || task._futWaiter?.done() === true || task._queuedStep) return true;
  return body !== (task._coro as unknown) && takersNotStarted.has(task);
}

/** How the host prints a promise's resolving functions: built in, unnamed. */
const resolverSource = (() => {
  let source = "";
  void new Promise((resolve) => {
    source = Function.prototype.toString.call(resolve);
  });
  return source;
})();

/** True for a promise's resolving function, what an await passes then() (a bound function has a name). */
function isResolvingFunction(fn: Settle): boolean {
  return fn.name === "" && Function.prototype.toString.call(fn) === resolverSource;
}

/**
 * Runs the task's next step now, on its loop, whether or not the loop's drive
 * runs: the start of its function's await, or the end of its function.
 */
function stepTask(task: Task<unknown>, awaitStart: boolean): void {
  const previous = setRunningLoop(task._loop);
  const steps = stepsOf(task._loop);
  steps.taskSteps++;
  try {
    if (awaitStart) task._runAwaitStart("now");
    else task._run();
  } finally {
    steps.taskSteps--;
    setRunningLoop(previous);
  }
}

function bodyFulfilled(this: NativeBody, value: unknown): void {
  bodySettled(this, true, value);
}

function bodyRejected(this: NativeBody, error: unknown): void {
  bodySettled(this, false, error);
}

/** The function's promise settled: the task steps on from it (a native task ends). */
function bodySettled(body: NativeBody, okAsSettled: boolean, outcomeAsSettled: unknown): void {
  let ok = okAsSettled;
  let outcome = outcomeAsSettled;
  const task = body.task as Task<unknown>;
  const loop = task._loop;
  if (body.detached) {
    task._backFromHost();
    loop._hostPending--;
    loop._nativeSteps?.detached.delete(body);
  }
  // A task blocked on the host may settle after its loop closed: nothing is left to step.
  if (task.done() || loop.isClosed()) return;
  const native = loop._nativeSteps;
  if (native !== null && native.parked !== 0 && parkedBodies.has(body)) {
    settleParked(native, body, ok, outcome);
    return;
  }
  if (task._futWaiter === null && task._stepInMicrotasks && body._drivesAwait) {
    // The await the task drives goes on in microtasks (an async body inside it): the task ends after it.
    body._endAfterAwait(ok, outcome);
    return;
  }
  if (ok && task._coro === (body as unknown) && isUnrunGenerator(outcome))
    reportReturnedGenerator(task, outcome as object);
  // The function went on without the await the task drives (e.g. Promise.race): unless a
  // task awaits the host, whose code may have taken that await, the function did so.
  if (body._drivesAwait && loop._tasksOnHost === 0) {
    const failure = loop._ranPastAwait(task, body.steps);
    if (failure !== null) {
      ok = false;
      outcome = failure;
    }
  }
  // A step of the task's already queued ends the task.
  const queuedBefore = stepQueued(task, body);
  const queued = body._settled(ok, outcome, stopWaiting(task)) || queuedBefore;
  const steps = loop._handover;
  steps?.keepRunningContext();
  steps?.drop(body);
  // The step that ran the function goes on: a pending cancellation waits for its next
  // suspension, as for a generator body that returns without one (see _runAwaitStart).
  if (!queued) stepTask(task, task._mustCancel);
  if (steps !== null) stepsDone(steps);
  // Settled outside a hand-over (the host resumed the function), the step may have resumed an
  // outer function (an async body of timeout() ended): its step goes on in the microtasks.
  else if (loop._handover !== null && !loop._handover.handedOver) handOver(loop);
}

/** The generators a task's async function returned, reported already. */
const reportedGenerators = new WeakSet<object>();

/** A generator object no task or eager start ran (unmarked: see coroMark). */
function isUnrunGenerator(x: unknown): boolean {
  return isGeneratorObject(x) && (x as Marked)[coroMark] === undefined;
}

/**
 * A task's async function that returns a generator (`async () => work()`)
 * resolves to it unrun, where `() => work()` makes the task run it: said
 * through the exception handler, as asyncio warns of a coroutine never
 * awaited. The generator stays the result, since it may be meant as one.
 */
function reportReturnedGenerator(task: Task<unknown>, generator: object): void {
  // Once: a task that returns another's result passes it on, and was told nothing new.
  if (reportedGenerators.has(generator)) return;
  reportedGenerators.add(generator);
  task._loop.callExceptionHandler({
    message: `${task}'s async function returned a generator object that no task ran: if it is a coroutine, none of its code ran, and the generator is the task's result. To run it, give the task the function that returns it, \`() => work()\` rather than \`async () => work()\`, or wait for it in the function: \`return await createTask(work())\`. A generator meant as the result is passed on as it is (return it inside an object, \`{ items }\`, and this is not said).`,
    task,
  });
}

/** @internal What createTask() and its kin make of a function: the coroutine of a native task. */
export function nativeBody(fn: () => unknown): Coro<unknown> {
  return NativeBody.calling(fn) as unknown as Coro<unknown>;
}

/**
 * @internal What a body given to timeout() or taskGroup() returns for `arg`,
 * as the coroutine that waits for it in the current task: a coroutine as it
 * is, a promise (an async body) as a native function the task drives.
 */
export function bodyCoroutine<T, A>(where: string, body: (arg: A) => unknown, arg: A): Coro<T> {
  const result = callBody(where, body, arg);
  const coro = resultCoroutine<T>(where, result);
  if (coro === null) {
    throw new TypeError(
      `${where}: the body returned ${describe(result)}, not a coroutine, a future or a promise: pass a function* or an async function.`,
    );
  }
  return coro;
}

/**
 * @internal Calls a body in the current task, in the loop's order of native
 * steps, so that an async body's awaits are the task's own.
 */
export function callBody<A>(where: string, body: (arg: A) => unknown, arg: A): unknown {
  calledBodyOwner = null;
  // A generator function's call is a coroutine, with no native step to expect.
  if (isLocalGeneratorFunction(body)) return body(arg);
  const found = loopOfThisCode();
  // No loop, under awaitSync(): a plain body needs none to be called (a promise it returns
  // is refused by resultCoroutine()), and an async body is refused here.
  if (found === null && !isLocalAsyncFunction(body)) return body(arg);
  const loop = found ?? getRunningLoop();
  checkBodyRunsHere(where, body, loop);
  // No native step runs under runSync(): another body needs no credit (a promise it
  // returns is refused by resultCoroutine()).
  if (loop._syncRun) return body(arg);
  const task = runningTask(loop);
  const owner = loop._asyncLocalStorage && task !== null ? new CodeOwner(task, null) : null;
  const result = stepsOf(loop).callFirst(() => body(arg), owner, null);
  calledBodyOwner = owner;
  return result;
}

/**
 * @internal Refuses an async body under runSync(), before its call: its
 * awaits would resume in microtasks. A block that wraps its body (a task
 * group) asks before it begins, so that the refusal is its error.
 */
export function checkBodyRunsHere(where: string, body: unknown, loop: BaseEventLoop): void {
  if (loop._syncRun && isLocalAsyncFunction(body as () => unknown)) {
    throw cannotRunSync(`the async body of ${where}`);
  }
}

/**
 * @internal The coroutine that waits, in the current task, for what a body
 * returned: a coroutine as it is, a future, a promise (an async body) as a
 * native function the task drives; null for anything else.
 */
export function resultCoroutine<T>(where: string, result: unknown): Coro<T> | null {
  const target = returnedTarget(result);
  if (target !== null)
    return (target instanceof Future ? target[Symbol.iterator]() : target) as Coro<T>;
  if (!isPromiseLike(result)) return null;
  const loop = getRunningLoop();
  if (loop._syncRun) {
    markRefusedHandled(result); // its failure has no one else to reach
    throw cannotRunSync(`the body of ${where}, which returned a promise`);
  }
  const task = runningTask(loop);
  const body = NativeBody.watching(result, task);
  if (calledBodyOwner !== null) {
    calledBodyOwner.body = body;
    bodyOwners.set(body, calledBodyOwner);
    calledBodyOwner = null;
  }
  return (task === null ? body : nestedBody<T>(body, task)) as Coro<T>;
}

/**
 * The async bodies (of timeout(), taskGroup(), forAwait()) each task runs now,
 * in the order they began: each inside the await of the one before, which
 * waits for it. When a function lets go of its await (see settleElsewhere),
 * the bodies inside go with it. With the asyncLocalStorage option, an await
 * the host's async context finds to be the task's is the one body's that runs
 * (see retake); where several run, the bodies of sibling lines of code in one
 * task (`Promise.all` over helpers that each run one) can nest too, and which
 * of them an await is from cannot be told.
 */
const runningBodies = new WeakMap<Task<unknown>, NativeBody[]>();

/** `body`, an async body running in `task`, known as one of its bodies while it runs. */
function* nestedBody<T>(body: NativeBody, task: Task<unknown>): Coro<T> {
  addBody(body, task);
  try {
    return (yield* body) as T;
  } finally {
    forgetBody(body, body.task as Task<unknown>);
  }
}

/** `body` runs in `task`, inside the bodies that run there already. */
function addBody(body: NativeBody, task: Task<unknown>): void {
  list(runningBodies, task, body);
}

/** `body` no longer runs in `task`. */
function forgetBody(body: NativeBody, task: Task<unknown>): boolean {
  return unlist(runningBodies, task, body);
}

/** `body` runs in `to` from now on: it ran in `from`, whose await it was in went on there. */
function moveBody(body: NativeBody, from: Task<unknown> | null, to: Task<unknown>): void {
  if (from !== null && forgetBody(body, from)) addBody(body, to);
  to._loop._nativeSteps?.detached.moving(body, to);
  body.task = to;
  const owner = bodyOwners.get(body);
  if (owner !== undefined) owner.task = to;
  moveScopesWithin(body._awaited, to);
}

/**
 * `from`, a function of `task`, let go of its await to `taker`: the bodies
 * begun inside it go too. True if one had the task's next step queued for it
 * (a bare yield's, or an await's start): that step is the task's own now, and
 * `taker` steps the body.
 */
function moveBodiesWithin(task: Task<unknown>, from: NativeBody, taker: Task<unknown>): boolean {
  const bodies = runningBodies.get(task);
  if (bodies === undefined) return false;
  const at = from === (task._coro as unknown) ? 0 : bodies.indexOf(from) + 1;
  if (at === 0 && from !== (task._coro as unknown)) return false; // a body no task tracks
  let queued = false;
  for (const body of bodies.slice(at)) {
    moveBody(body, task, taker);
    queued ||= body._queued;
  }
  return queued;
}

/** @internal `task` is abandoned as its loop closes: see NativeBody._abandonThen. */
export function abandonThens(task: Task<unknown>): void {
  const top = task._coro as unknown;
  if (top instanceof NativeBody) top._abandonThen();
  for (const body of runningBodies.get(task) ?? []) body._abandonThen();
}

/**
 * The async bodies whose await (the first, or the next after a throw() into
 * the start) ended the start of a CoroStart (see parkStart), whose then()
 * has not come: that await is the start's, which no task drives until
 * something continues the start. Counted by their loop (NativeSteps.parked),
 * so that an await pays one test while none is.
 */
const parkedBodies = new WeakSet<NativeBody>();
/** The body each CoroStart's start suspended in (see parkStart), until it is continued or closed. */
const parkedIn = new WeakMap<object, NativeBody>();

/**
 * @internal A CoroStart's start (`start`, or a throw() into it) suspended
 * where an async body's await goes on in microtasks (NATIVE_STEP): that
 * await is the start's, not the step's of the task that ran it. Its then()
 * records the await on the body without stepping the task (awaitParked);
 * continuing the start then drives it (unparkStart), as `yield* start` at
 * once does.
 */
export function parkStart(start: object): void {
  const loop = activeLoopOrNull();
  const task = loop === null ? null : runningTask(loop);
  const bodies = task === null ? undefined : runningBodies.get(task);
  // The innermost body of the task that runs the start: it yielded the start's NATIVE_STEP.
  const body = bodies === undefined ? undefined : bodies[bodies.length - 1];
  if (body === undefined || !body._dueThen || parkedBodies.has(body)) return;
  parkedBodies.add(body);
  stepsOf((task as Task<unknown>)._loop).parked++;
  parkedIn.set(start, body);
}

/**
 * @internal The start parked by parkStart() is continued (`continuing`), or
 * thrown into or closed: true if its body's then() came, so that the body
 * drives its await at the start's next step (it runs in its task again).
 * If not, a continued body is no longer parked (the then() drives it in the
 * task that continues the start, as for `yield* start` at once); one thrown
 * into or closed left the coroutine, and stays parked: its then() is no
 * one's await.
 */
export function unparkStart(start: object, continuing: boolean): boolean {
  const body = parkedIn.get(start);
  if (body === undefined) return false;
  parkedIn.delete(start);
  if (parkedBodies.has(body)) {
    if (continuing) unpark(body, stepsOf((body.task as Task<unknown>)._loop));
    return false;
  }
  addBody(body, body.task as Task<unknown>);
  return true;
}

/**
 * The then() of a parked body's await came: the await is recorded on
 * the body, for the step that continues the start, and no task steps now.
 * Until then the body runs in no task (innermostAwait()).
 */
function awaitParked(
  steps: NativeSteps,
  body: NativeBody,
  op: object,
  resolve: Settle,
  reject: Settle,
): true {
  unpark(body, steps);
  body._awaits(awaitTarget(op) as AwaitTarget, resolve, reject, RUNNING);
  if (body.task !== null) forgetBody(body, body.task);
  stepsDone(steps);
  return true;
}

/**
 * A parked body's function ended before any asynkit await (`async () =>
 * value`): its outcome waits, with its await's would-be then(), for the step
 * that continues the start (unparkStart() then finds it no longer parked), and
 * no task steps now.
 */
function settleParked(native: NativeSteps, body: NativeBody, ok: boolean, outcome: unknown): void {
  unpark(body, native);
  body._keepOutcome(ok, outcome);
  if (body.task !== null) forgetBody(body, body.task);
  const steps = body.task?._loop._handover ?? null;
  steps?.drop(body);
  if (steps !== null) stepsDone(steps);
}

/** `body` is no longer parked: its then() came, its function ended, or its start goes on. */
function unpark(body: NativeBody, steps: NativeSteps): void {
  parkedBodies.delete(body);
  steps.parked--;
}

/**
 * The functions blocked on the host, found again by the task whose code each
 * runs as (see CodeOwner). Host I/O settles
 * oldest first, so a search of one list of them all from its end made a
 * burst of n such resumes cost O(n²) (60,000 took 21 s).
 */
class BlockedOnHost {
  /** Each body, with when it began to wait: the last to begin is the one found. */
  private readonly began = new Map<NativeBody, number>();
  private count = 0;
  /** The bodies by their `task` (kept as it changes: see moving()). */
  private readonly byTask = new Map<Task<unknown>, NativeBody[]>();

  add(body: NativeBody): void {
    this.began.set(body, this.count++);
    list(this.byTask, body.task as Task<unknown>, body);
  }

  delete(body: NativeBody): void {
    if (!this.began.delete(body)) return;
    unlist(this.byTask, body.task as Task<unknown>, body);
  }

  /** `body` goes to the task `to`. */
  moving(body: NativeBody, to: Task<unknown>): void {
    if (!this.began.has(body)) return;
    unlist(this.byTask, body.task as Task<unknown>, body);
    list(this.byTask, to, body);
  }

  /**
   * The last to begin waiting of the bodies whose code runs as `owner`'s, or
   * null (a body that moved joins its new task's list at the end, whenever it
   * began, so every one is looked at).
   */
  last(owner: Task<unknown>): NativeBody | null {
    const bodies = this.byTask.get(owner);
    if (bodies === undefined) return null;
    let found: NativeBody | null = null;
    let latest = -1;
    for (const body of bodies) {
      const began = this.began.get(body) as number;
      if (began > latest) {
        found = body;
        latest = began;
      }
    }
    return found;
  }
}

/** Lists of bodies by task: a Map, or a WeakMap where the task alone keeps its list. */
interface BodyLists {
  get(key: Task<unknown>): NativeBody[] | undefined;
  set(key: Task<unknown>, bodies: NativeBody[]): unknown;
  delete(key: Task<unknown>): boolean;
}

/** Adds `body` to the end of the list of `key` in `lists`. */
function list(lists: BodyLists, key: Task<unknown>, body: NativeBody): void {
  const bodies = lists.get(key);
  if (bodies === undefined) lists.set(key, [body]);
  else bodies.push(body);
}

/** Takes `body` out of the list of `key` in `lists` (its last place there); false if absent. */
function unlist(lists: BodyLists, key: Task<unknown>, body: NativeBody): boolean {
  const bodies = lists.get(key);
  const at = bodies === undefined ? -1 : bodies.lastIndexOf(body);
  if (at < 0) return false;
  (bodies as NativeBody[]).splice(at, 1);
  if ((bodies as NativeBody[]).length === 0) lists.delete(key);
  return true;
}
