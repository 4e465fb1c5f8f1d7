/**
 * Bad input gets a clear error at the call: a TypeError for a wrong type, a
 * RangeError for a right type out of range, and a message that names the
 * public function and the argument, shows the value and its type, and says
 * what to do. One table covers every export of the package; an export with no
 * row (and no reason to have none) fails the coverage test.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Coro } from "../src/index.js";
import * as asynkit from "../src/index.js";
import {
  aiterSync,
  allTasks,
  asCompleted,
  asyncEager,
  awaitSync,
  Barrier,
  BoundedSemaphore,
  blockedTasks,
  CancelledError,
  Condition,
  Context,
  ContextVar,
  CoroStart,
  cancelling,
  copyContext,
  coroAsFuture,
  coroAwait,
  coroContinue,
  coroEager,
  coroIsBlocked,
  coroIsFinished,
  coroIsNew,
  coroIsSuspended,
  coroStart,
  createEagerTaskFactory,
  createTask,
  createTaskDescend,
  createTaskStart,
  currentTask,
  DefaultEventLoopPolicy,
  eager,
  eagerCtx,
  eagerTaskFactory,
  ensureFuture,
  eventLoopPolicy,
  Future,
  forAwait,
  formatTaskTree,
  fromAsyncIterable,
  fromPromise,
  funcEager,
  GeneratorObject,
  gather,
  getRunningLoop,
  HostEventLoop,
  InvalidStateError,
  LifoQueue,
  Lock,
  Monitor,
  PriorityCondition,
  PriorityHostEventLoop,
  PriorityMixin,
  PriorityQueue,
  PriorityVirtualEventLoop,
  Queue,
  run,
  runnableTasks,
  SchedulingEventLoopPolicy,
  SchedulingHostEventLoop,
  SchedulingMixin,
  SchedulingVirtualEventLoop,
  Semaphore,
  setEventLoopPolicy,
  shield,
  sleep,
  sleepInsert,
  Task,
  TaskGroup,
  Timeout,
  taskGroup,
  taskInterrupt,
  taskIsBlocked,
  taskIsRunnable,
  taskReinsert,
  taskSignal,
  taskSwitch,
  taskThrow,
  taskTimeout,
  timeout,
  timeoutAt,
  VirtualEventLoop,
  wait,
  waitAbort,
  waitFor,
} from "../src/index.js";
import * as testing from "../src/testing/index.js";
import { choose, explore, replay } from "../src/testing/index.js";
import * as trace from "../src/trace/index.js";
import { traceRecorder } from "../src/trace/index.js";
import { refused, thrown } from "./helpers.js";

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The standard message: `${where} expects ${arg} to be …, got ${got}: <what to do>.` */
function expects(where: string, arg: string, got: string): RegExp {
  return new RegExp(
    `^${escapeRegExp(where)} expects ${escapeRegExp(arg)} to be .+, got ${escapeRegExp(got)}: .+\\.$`,
  );
}

function* work(): Generator<undefined, number, unknown> {
  yield;
  return 1;
}

/** One bad call and the error it must raise. */
interface Row {
  /** The export of an entry point (src/index.ts, src/testing/index.ts) the call belongs to. */
  export: keyof typeof asynkit | keyof typeof testing | keyof typeof trace;
  /** The bad call, as the test's name shows it. */
  call: string;
  /** Makes the call (inside a coroutine on a running virtual loop, unless `outside`). */
  run: () => unknown;
  error: typeof TypeError | typeof RangeError;
  message: RegExp;
  /** Call it with no loop running (for entry points that refuse a running loop). */
  outside?: true;
}

const T = TypeError;
const R = RangeError;
const bad = 5 as never;

const rows: Row[] = [
  // AbortSignal interop
  {
    export: "taskSignal",
    call: "taskSignal(5)",
    run: () => taskSignal(bad),
    error: T,
    message: expects("taskSignal()", "task", "number 5"),
  },
  {
    export: "waitAbort",
    call: "waitAbort(5)",
    run: () => waitAbort(bad),
    error: T,
    message: expects("waitAbort()", "signal", "number 5"),
  },
  // Combinators
  {
    export: "asCompleted",
    call: "asCompleted(5)",
    run: () => asCompleted(bad),
    error: T,
    message: expects("asCompleted()", "aws", "number 5"),
  },
  {
    export: "asCompleted",
    call: 'asCompleted([], { timeout: "1" })',
    run: () => asCompleted([], { timeout: "1" as never }),
    error: T,
    message: expects("asCompleted()", "options.timeout", 'string "1"'),
  },
  {
    export: "asCompleted",
    call: "asCompleted([], 5)",
    run: () => asCompleted([], bad),
    error: T,
    message: expects("asCompleted()", "options", "number 5"),
  },
  {
    export: "gather",
    call: "gather(5)",
    run: () => gather(bad).next(),
    error: T,
    message: expects("gather()", "each awaitable", "number 5"),
  },
  {
    export: "gather",
    call: "gather(work)",
    run: () => gather(work as never).next(),
    error: T,
    message:
      /^gather\(\) expects each awaitable to be .+, got generator function work: call it first: gather\(work\(\)\)\.$/,
  },
  {
    export: "shield",
    call: "shield(5)",
    run: () => shield(bad),
    error: T,
    message: expects("shield()", "aw", "number 5"),
  },
  {
    export: "wait",
    call: "wait(5)",
    run: () => wait(bad),
    error: T,
    message: expects("wait()", "aws", "number 5"),
  },
  {
    export: "wait",
    call: 'wait([f], { timeout: "1" })',
    run: () => wait([new Future()], { timeout: "1" as never }),
    error: T,
    message: expects("wait()", "options.timeout", 'string "1"'),
  },
  {
    export: "wait",
    call: 'wait([f], { returnWhen: "SOON" })',
    run: () => wait([new Future()], { returnWhen: "SOON" as never }),
    error: R,
    message: expects("wait()", "options.returnWhen", 'string "SOON"'),
  },
  {
    export: "waitFor",
    call: "waitFor(5, 10)",
    run: () => waitFor(bad, 10),
    error: T,
    message: expects("waitFor()", "aw", "number 5"),
  },
  {
    export: "waitFor",
    call: "waitFor(slow(), 10)",
    run: () => waitFor((async () => {})() as never, 10),
    error: T,
    message:
      /^waitFor\(\) expects aw to be .+, got Promise object: the promise of an async function is already running, outside the loop's order: give it a task, createTask\(\(\) => fn\(\)\); a host promise \(fetch, fs\) goes through fromPromise\(promise\)\.$/,
  },
  {
    export: "waitFor",
    call: 'waitFor(sleep(1), "10")',
    run: () => waitFor(sleep(1), "10" as never),
    error: T,
    message: expects("waitFor()", "timeoutMs", 'string "10"'),
  },
  {
    export: "waitFor",
    call: "waitFor(sleep(1), NaN)",
    run: () => waitFor(sleep(1), Number.NaN),
    error: R,
    message: expects("waitFor()", "timeoutMs", "number NaN"),
  },
  // Context variables
  {
    export: "Context",
    call: "new Context(5)",
    run: () => new Context(bad),
    error: T,
    message: expects("new Context()", "store", "number 5"),
  },
  {
    export: "copyContext",
    call: "copyContext().run(5)",
    run: () => copyContext().run(bad),
    error: T,
    message: expects("context.run()", "fn", "number 5"),
  },
  {
    export: "ContextVar",
    call: "new ContextVar(5)",
    run: () => new ContextVar(bad),
    error: T,
    message: expects("new ContextVar()", "name", "number 5"),
  },
  {
    export: "ContextVar",
    call: 'new ContextVar("v", 5)',
    run: () => new ContextVar("v", bad),
    error: T,
    message: expects("new ContextVar()", "options", "number 5"),
  },
  {
    export: "ContextVar",
    call: "variable.reset(5)",
    run: () => new ContextVar("v").reset(bad),
    error: T,
    message: expects("contextVar.reset()", "token", "number 5"),
  },
  // Coroutines, eager execution
  {
    export: "asyncEager",
    call: "asyncEager(5)",
    run: () => asyncEager(bad),
    error: T,
    message: expects("funcEager()", "fn", "number 5"),
  },
  {
    export: "awaitSync",
    call: "awaitSync(5)",
    run: () => awaitSync(bad),
    error: T,
    message: expects("awaitSync()", "awaitable", "number 5"),
  },
  {
    export: "cancelling",
    call: "cancelling(5)",
    run: () => cancelling(bad),
    error: T,
    message: expects("cancelling()", "target", "number 5"),
  },
  {
    export: "CoroStart",
    call: "new CoroStart(5)",
    run: () => new CoroStart(bad),
    error: T,
    message: expects("new CoroStart()", "coro", "number 5"),
  },
  {
    export: "CoroStart",
    call: "new CoroStart(work(), 5)",
    run: () => new CoroStart(work(), bad),
    error: T,
    message: expects("new CoroStart()", "options", "number 5"),
  },
  {
    export: "CoroStart",
    call: 'new CoroStart(work(), { autostart: "no" })',
    run: () => new CoroStart(work(), { autostart: "no" as never }),
    error: T,
    message: expects("new CoroStart()", "options.autostart", 'string "no"'),
  },
  {
    export: "coroAsFuture",
    call: "coroAsFuture(5)",
    run: () => coroAsFuture(bad),
    error: T,
    message: expects("coroAsFuture()", "state", "number 5"),
  },
  {
    export: "coroAwait",
    call: "coroAwait(5)",
    run: () => coroAwait(bad),
    error: T,
    message: expects("coroAwait()", "coro", "number 5"),
  },
  {
    export: "coroAwait",
    call: "coroAwait(work(), 5)",
    run: () => coroAwait(work(), bad),
    error: T,
    message: expects("coroAwait()", "options", "number 5"),
  },
  {
    export: "coroContinue",
    call: "coroContinue(5)",
    run: () => coroContinue(bad),
    error: T,
    message: expects("coroContinue()", "state", "number 5"),
  },
  {
    export: "coroEager",
    call: "coroEager(5)",
    run: () => coroEager(bad),
    error: T,
    message: expects("coroEager()", "coro", "number 5"),
  },
  {
    export: "coroIsBlocked",
    call: "coroIsBlocked(5)",
    run: () => coroIsBlocked(bad),
    error: T,
    message: expects("coroIsBlocked()", "state", "number 5"),
  },
  {
    export: "coroIsFinished",
    call: "coroIsFinished(5)",
    run: () => coroIsFinished(bad),
    error: T,
    message: expects("coroIsFinished()", "coro", "number 5"),
  },
  {
    export: "coroIsNew",
    call: "coroIsNew(5)",
    run: () => coroIsNew(bad),
    error: T,
    message: expects("coroIsNew()", "coro", "number 5"),
  },
  {
    export: "coroIsSuspended",
    call: "coroIsSuspended(5)",
    run: () => coroIsSuspended(bad),
    error: T,
    message: expects("coroIsSuspended()", "coro", "number 5"),
  },
  {
    export: "coroStart",
    call: "coroStart(5)",
    run: () => coroStart(bad),
    error: T,
    message: expects("coroStart()", "coro", "number 5"),
  },
  {
    export: "createEagerTaskFactory",
    call: "createEagerTaskFactory(5)",
    run: () => createEagerTaskFactory(bad),
    error: T,
    message: expects("createEagerTaskFactory()", "taskClass", "number 5"),
  },
  {
    export: "createEagerTaskFactory",
    call: "createEagerTaskFactory(Future)",
    run: () => createEagerTaskFactory(Future as never),
    error: T,
    message: expects("createEagerTaskFactory()", "taskClass", "function Future"),
  },
  {
    export: "eager",
    call: "eager(5)",
    run: () => eager(bad),
    error: T,
    message: expects("eager()", "x", "number 5"),
  },
  {
    export: "eagerCtx",
    call: "eagerCtx(5)",
    run: () => eagerCtx(bad),
    error: T,
    message: expects("eagerCtx()", "coro", "number 5"),
  },
  {
    export: "eagerTaskFactory",
    call: "eagerTaskFactory(loop, 5)",
    run: () => eagerTaskFactory(getRunningLoop(), bad),
    error: T,
    message: expects("new Task()", "coro", "number 5"),
  },
  {
    export: "funcEager",
    call: "funcEager(5)",
    run: () => funcEager(bad),
    error: T,
    message: expects("funcEager()", "fn", "number 5"),
  },
  // Futures
  {
    export: "Future",
    call: "new Future({ loop: 5 })",
    run: () => new Future({ loop: bad }),
    error: T,
    message: expects("new Future()", "options.loop", "number 5"),
  },
  {
    export: "Future",
    call: "new Future(5)",
    run: () => new Future(bad),
    error: T,
    message: expects("new Future()", "options", "number 5"),
  },
  {
    export: "Future",
    call: "future.addDoneCallback(5)",
    run: () => new Future().addDoneCallback(bad),
    error: T,
    message: expects("future.addDoneCallback()", "callback", "number 5"),
  },
  {
    export: "Future",
    call: "future.addDoneCallback(fn, { context: 5 })",
    run: () => new Future().addDoneCallback(() => {}, { context: bad }),
    error: T,
    message: expects("future.addDoneCallback()", "options.context", "number 5"),
  },
  {
    export: "HostEventLoop",
    call: 'new HostEventLoop({ asyncLocalStorage: "yes" })',
    run: () => new HostEventLoop({ asyncLocalStorage: "yes" as never }),
    error: T,
    message: expects("new HostEventLoop()", "options.asyncLocalStorage", 'string "yes"'),
  },
  {
    export: "SchedulingHostEventLoop",
    call: "new SchedulingHostEventLoop({ asyncLocalStorage: 1 })",
    run: () => new SchedulingHostEventLoop({ asyncLocalStorage: 1 as never }),
    error: T,
    message: expects("new SchedulingHostEventLoop()", "options.asyncLocalStorage", "number 1"),
  },
  {
    export: "fromPromise",
    call: "fromPromise(5)",
    run: () => fromPromise(bad),
    error: T,
    message: expects("fromPromise()", "promise", "number 5"),
  },
  {
    export: "fromPromise",
    call: "fromPromise(p, { loop: 5 })",
    run: () => fromPromise(Promise.resolve(1), { loop: bad }),
    error: T,
    message: expects("fromPromise()", "options.loop", "number 5"),
  },
  // Synchronization primitives
  {
    export: "Barrier",
    call: 'new Barrier("3")',
    run: () => new Barrier("3" as never),
    error: T,
    message: expects("new Barrier()", "parties", 'string "3"'),
  },
  {
    export: "Barrier",
    call: "new Barrier(0)",
    run: () => new Barrier(0),
    error: R,
    message: expects("new Barrier()", "parties", "number 0"),
  },
  {
    export: "BoundedSemaphore",
    call: "new BoundedSemaphore(-1)",
    run: () => new BoundedSemaphore(-1),
    error: R,
    message: expects("new BoundedSemaphore()", "value", "number -1"),
  },
  {
    export: "Condition",
    call: "new Condition(5)",
    run: () => new Condition(bad),
    error: T,
    message: expects("new Condition()", "lock", "number 5"),
  },
  {
    export: "Condition",
    call: 'condition.notify("all")',
    run: () => new Condition().notify("all" as never),
    error: T,
    message: expects("condition.notify()", "n", 'string "all"'),
  },
  {
    export: "Condition",
    call: "condition.waitFor(true)",
    run: () => new Condition().waitFor(true as never),
    error: T,
    message: expects("condition.waitFor()", "predicate", "boolean true"),
  },
  {
    export: "Semaphore",
    call: 'new Semaphore("abc")',
    run: () => new Semaphore("abc" as never),
    error: T,
    message: expects("new Semaphore()", "value", 'string "abc"'),
  },
  {
    export: "Semaphore",
    call: "new Semaphore(1.5)",
    run: () => new Semaphore(1.5),
    error: R,
    message: expects("new Semaphore()", "value", "number 1.5"),
  },
  // Event loops
  {
    export: "BaseEventLoop",
    call: 'loop.callLater("10", f)',
    run: () => getRunningLoop().callLater("10" as never, () => {}),
    error: T,
    message: expects("loop.callLater()", "delayMs", 'string "10"'),
  },
  {
    export: "BaseEventLoop",
    call: "loop.callLater(NaN, f)",
    run: () => getRunningLoop().callLater(Number.NaN, () => {}),
    error: R,
    message: expects("loop.callLater()", "delayMs", "number NaN"),
  },
  {
    export: "BaseEventLoop",
    call: 'loop.callLater(1, "f")',
    run: () => getRunningLoop().callLater(1, "f" as never),
    error: T,
    message: expects("loop.callLater()", "callback", 'string "f"'),
  },
  {
    export: "BaseEventLoop",
    call: "loop.callAt(NaN, f)",
    run: () => getRunningLoop().callAt(Number.NaN, () => {}),
    error: R,
    message: expects("loop.callAt()", "whenMs", "number NaN"),
  },
  {
    export: "BaseEventLoop",
    call: "loop.callSoon(5)",
    run: () => getRunningLoop().callSoon(bad),
    error: T,
    message: expects("loop.callSoon()", "callback", "number 5"),
  },
  {
    export: "BaseEventLoop",
    call: "loop.createTask(5)",
    run: () => getRunningLoop().createTask(bad),
    error: T,
    message: expects("loop.createTask()", "coro", "number 5"),
  },
  {
    export: "BaseEventLoop",
    call: "loop.createTask(promise)",
    run: () => getRunningLoop().createTask(Promise.resolve(5) as never),
    error: T,
    message: expects("loop.createTask()", "coro", "Promise object"),
  },
  {
    export: "BaseEventLoop",
    call: 'loop.createTask(work(), "name")',
    run: () => getRunningLoop().createTask(work(), "name" as never),
    error: T,
    message: expects("loop.createTask()", "options", 'string "name"'),
  },
  {
    export: "BaseEventLoop",
    call: "loop.setTaskFactory(5)",
    run: () => getRunningLoop().setTaskFactory(bad),
    error: T,
    message: expects("loop.setTaskFactory()", "factory", "number 5"),
  },
  {
    export: "BaseEventLoop",
    call: "loop.callExceptionHandler(null)",
    run: () => getRunningLoop().callExceptionHandler(null as never),
    error: T,
    message: expects("loop.callExceptionHandler()", "context", "null"),
  },
  {
    export: "BaseEventLoop",
    call: "loop.setExceptionHandler(5)",
    run: () => getRunningLoop().setExceptionHandler(bad),
    error: T,
    message: expects("loop.setExceptionHandler()", "handler", "number 5"),
  },
  {
    export: "BaseEventLoop",
    call: "loop.runUntilComplete(5)",
    run: () => new VirtualEventLoop().runUntilComplete(bad),
    error: T,
    message: expects("loop.runUntilComplete()", "main", "number 5"),
    outside: true,
  },
  {
    export: "BaseEventLoop",
    call: "loop.runUntilComplete()",
    run: () => new VirtualEventLoop().runUntilComplete(undefined as never),
    error: T,
    message: expects("loop.runUntilComplete()", "main", "undefined"),
    outside: true,
  },
  {
    export: "ensureFuture",
    call: "ensureFuture(null)",
    run: () => ensureFuture(null as never),
    error: T,
    message: expects("ensureFuture()", "awaitable", "null"),
  },
  {
    export: "BaseEventLoop",
    call: "loop.submit(5)",
    run: () => new VirtualEventLoop().submit(bad),
    error: T,
    message: expects("loop.submit()", "main", "number 5"),
    outside: true,
  },
  {
    export: "BaseEventLoop",
    call: "loop.submit(coro, 5)",
    run: () => new VirtualEventLoop().submit(sleep(0), bad),
    error: T,
    message: expects("loop.submit()", "options", "number 5"),
    outside: true,
  },
  {
    export: "BaseEventLoop",
    call: "loop.submit(coro, { signal: 5 })",
    run: () => new VirtualEventLoop().submit(sleep(0), { signal: bad }),
    error: T,
    message: expects("loop.submit()", "options.signal", "number 5"),
    outside: true,
  },
  {
    export: "BaseEventLoop",
    call: 'loop.shutdown({ timeout: "soon" })',
    run: () => new VirtualEventLoop().shutdown({ timeout: "soon" as never }),
    error: T,
    message: expects("loop.shutdown()", "options.timeout", 'string "soon"'),
    outside: true,
  },
  {
    export: "BaseEventLoop",
    call: "loop.shutdown({ timeout: NaN })",
    run: () => new VirtualEventLoop().shutdown({ timeout: Number.NaN }),
    error: R,
    message: expects("loop.shutdown()", "options.timeout", "number NaN"),
    outside: true,
  },
  {
    export: "VirtualEventLoop",
    call: "loop.runSync(5)",
    run: () => new VirtualEventLoop().runSync(bad),
    error: T,
    message: expects("loop.runSync()", "main", "number 5"),
    outside: true,
  },
  {
    export: "VirtualEventLoop",
    call: "new VirtualEventLoop({ hostAwaits: 5 })",
    run: () => new VirtualEventLoop({ hostAwaits: bad }),
    error: T,
    message: expects("new VirtualEventLoop()", "options.hostAwaits", "number 5"),
    outside: true,
  },
  {
    export: "VirtualEventLoop",
    call: 'new VirtualEventLoop({ hostAwaits: "warn" })',
    run: () => new VirtualEventLoop({ hostAwaits: "warn" as never }),
    error: R,
    message: expects("new VirtualEventLoop()", "options.hostAwaits", 'string "warn"'),
    outside: true,
  },
  {
    export: "VirtualEventLoop",
    call: "loop.runSync(async () => 5)",
    run: () => new VirtualEventLoop().runSync((async () => 5) as never),
    error: T,
    message: expects("loop.runSync()", "main", "function (anonymous)"),
    outside: true,
  },
  {
    export: "VirtualEventLoop",
    call: 'loop.advance("5")',
    run: () => new VirtualEventLoop().advance("5" as never),
    error: T,
    message: expects("loop.advance()", "ms", 'string "5"'),
  },
  {
    export: "VirtualEventLoop",
    call: "loop.advance(-1)",
    run: () => new VirtualEventLoop().advance(-1),
    error: R,
    message: expects("loop.advance()", "ms", "number -1"),
  },
  {
    export: "PriorityMixin",
    call: "PriorityMixin(5)",
    run: () => PriorityMixin(bad),
    error: T,
    message: expects("PriorityMixin()", "base", "number 5"),
  },
  {
    export: "PriorityVirtualEventLoop",
    call: 'new PriorityVirtualEventLoop({ asyncLocalStorage: "yes" })',
    run: () => new PriorityVirtualEventLoop({ asyncLocalStorage: "yes" as never }),
    error: T,
    message: expects("new PriorityVirtualEventLoop()", "options.asyncLocalStorage", 'string "yes"'),
  },
  {
    export: "PriorityHostEventLoop",
    call: 'new PriorityHostEventLoop({ asyncLocalStorage: "yes" })',
    run: () => new PriorityHostEventLoop({ asyncLocalStorage: "yes" as never }),
    error: T,
    message: expects("new PriorityHostEventLoop()", "options.asyncLocalStorage", 'string "yes"'),
  },
  {
    export: "PriorityCondition",
    call: "new PriorityCondition(5)",
    run: () => new PriorityCondition(bad),
    error: T,
    message: expects("new PriorityCondition()", "lock", "number 5"),
  },
  {
    export: "Task",
    call: 'createTask(coro, { priority: "urgent" })',
    run: () => createTask(work(), { priority: "urgent" as never }),
    error: T,
    message: expects("createTask()", "options.priority", 'string "urgent"'),
  },
  {
    export: "Task",
    call: "task.setPriority(NaN)",
    run: () => (currentTask() as Task).setPriority(Number.NaN),
    error: R,
    message: expects("task.setPriority()", "priority", "number NaN"),
  },
  {
    export: "SchedulingVirtualEventLoop",
    call: 'loop.readyPop("0")',
    run: () => new SchedulingVirtualEventLoop().readyPop("0" as never),
    error: T,
    message: expects("loop.readyPop()", "pos", 'string "0"'),
  },
  {
    export: "SchedulingVirtualEventLoop",
    call: "loop.readyRotate(0.5)",
    run: () => new SchedulingVirtualEventLoop().readyRotate(0.5),
    error: R,
    message: expects("loop.readyRotate()", "n", "number 0.5"),
  },
  {
    export: "SchedulingVirtualEventLoop",
    call: "loop.queueFind(5)",
    run: () => new SchedulingVirtualEventLoop().queueFind(bad),
    error: T,
    message: expects("loop.queueFind()", "key", "number 5"),
  },
  {
    export: "SchedulingMixin",
    call: "SchedulingMixin(5)",
    run: () => SchedulingMixin(bad),
    error: T,
    message: expects("SchedulingMixin()", "base", "number 5"),
  },
  // Policies and run()
  {
    export: "run",
    call: "run(5)",
    run: () => run(bad),
    error: T,
    message: expects("run()", "main", "number 5"),
    outside: true,
  },
  {
    export: "run",
    call: "run(main, 5)",
    run: () => run(work(), bad),
    error: T,
    message: expects("run()", "options", "number 5"),
    outside: true,
  },
  {
    export: "run",
    call: "run(main, { signal: 5 })",
    run: () => run(work(), { signal: bad }),
    error: T,
    message: expects("run()", "options.signal", "number 5"),
    outside: true,
  },
  {
    export: "run",
    call: "run(main, { loopFactory: 5 })",
    run: () => run(work(), { loopFactory: bad }),
    error: T,
    message: expects("run()", "options.loopFactory", "number 5"),
    outside: true,
  },
  {
    export: "run",
    call: 'run(main, { debug: "yes" })',
    run: () => run(work(), { debug: "yes" as never }),
    error: T,
    message: expects("run()", "options.debug", 'string "yes"'),
    outside: true,
  },
  {
    export: "DefaultEventLoopPolicy",
    call: "policy.setEventLoop(5)",
    run: () => new DefaultEventLoopPolicy().setEventLoop(bad),
    error: T,
    message: expects("policy.setEventLoop()", "loop", "number 5"),
    outside: true,
  },
  {
    export: "SchedulingEventLoopPolicy",
    call: "policy.setEventLoop({})",
    run: () => new SchedulingEventLoopPolicy().setEventLoop({} as never),
    error: T,
    message: expects("policy.setEventLoop()", "loop", "object {}"),
    outside: true,
  },
  {
    export: "setEventLoopPolicy",
    call: "setEventLoopPolicy(5)",
    run: () => setEventLoopPolicy(bad),
    error: T,
    message: expects("setEventLoopPolicy()", "policy", "number 5"),
  },
  {
    export: "eventLoopPolicy",
    call: "eventLoopPolicy(5)",
    run: () => eventLoopPolicy(bad),
    error: T,
    message: expects("eventLoopPolicy()", "policy", "number 5"),
  },
  // Out-of-band messages
  {
    export: "Monitor",
    call: "monitor.await(5)",
    run: () => new Monitor().await(bad),
    error: T,
    message: expects("Monitor.await()", "coro", "number 5"),
  },
  {
    export: "Monitor",
    call: "monitor.bind(work)",
    run: () => new Monitor().bind(work as never),
    error: T,
    message: expects("Monitor.bind()", "coro", "generator function work"),
  },
  {
    export: "Monitor",
    call: "monitor.close(5)",
    run: () => new Monitor().close(bad),
    error: T,
    message: expects("Monitor.close()", "coro", "number 5"),
  },
  // Asynchronous generators and async iteration
  {
    export: "GeneratorObject",
    call: "new GeneratorObject(5)",
    run: () => new GeneratorObject(bad),
    error: T,
    message: expects("new GeneratorObject()", "body", "number 5"),
  },
  {
    export: "GeneratorObject",
    call: "new GeneratorObject(() => 5)",
    run: () => new GeneratorObject((() => 5) as never),
    error: T,
    message: expects("new GeneratorObject()", "body", "function (anonymous)"),
  },
  {
    export: "fromAsyncIterable",
    call: "fromAsyncIterable([1])",
    run: () => fromAsyncIterable([1] as never),
    error: T,
    message: expects("fromAsyncIterable()", "source", "array of length 1"),
  },
  {
    export: "forAwait",
    call: "forAwait(5, body)",
    run: () => forAwait(bad, () => undefined),
    error: T,
    message: expects("forAwait()", "source", "number 5"),
  },
  {
    export: "forAwait",
    call: "forAwait(gen, 5)",
    run: () => forAwait(new GeneratorObject(work as never), bad),
    error: T,
    message: expects("forAwait()", "body", "number 5"),
  },
  {
    export: "aiterSync",
    call: "aiterSync(asyncGenerator)",
    run: () => aiterSync((async function* () {})() as never),
    error: T,
    message: expects("aiterSync()", "gen", "an async generator object"),
  },
  // Queues
  {
    export: "Queue",
    call: 'new Queue("x")',
    run: () => new Queue("x" as never),
    error: T,
    message: expects("new Queue()", "maxsize", 'string "x"'),
  },
  {
    export: "Queue",
    call: "new Queue(-1)",
    run: () => new Queue(-1),
    error: R,
    message: expects("new Queue()", "maxsize", "number -1"),
  },
  {
    export: "Queue",
    call: 'queue.shutdown("now")',
    run: () => new Queue().shutdown("now" as never),
    error: T,
    message: expects("queue.shutdown()", "immediate", 'string "now"'),
  },
  {
    export: "LifoQueue",
    call: "new LifoQueue(NaN)",
    run: () => new LifoQueue(Number.NaN),
    error: R,
    message: expects("new LifoQueue()", "maxsize", "number NaN"),
  },
  {
    export: "PriorityQueue",
    call: 'new PriorityQueue(0, "cmp")',
    run: () => new PriorityQueue(0, "cmp" as never),
    error: T,
    message: expects("new PriorityQueue()", "compare", 'string "cmp"'),
  },
  // Scheduling functions
  {
    export: "blockedTasks",
    call: "blockedTasks(5)",
    run: () => blockedTasks(bad),
    error: T,
    message: expects("blockedTasks()", "loop", "number 5"),
  },
  {
    export: "runnableTasks",
    call: "runnableTasks(5)",
    run: () => runnableTasks(bad),
    error: T,
    message: expects("runnableTasks()", "loop", "number 5"),
  },
  {
    export: "createTaskDescend",
    call: "createTaskDescend(5)",
    run: () => createTaskDescend(bad),
    error: T,
    message: expects("createTaskDescend()", "coro", "number 5"),
  },
  {
    export: "createTaskStart",
    call: 'createTaskStart(work(), "name")',
    run: () => createTaskStart(work(), "name" as never),
    error: T,
    message: expects("createTaskStart()", "options", 'string "name"'),
  },
  {
    export: "sleepInsert",
    call: 'sleepInsert("1")',
    run: () => sleepInsert("1" as never),
    error: T,
    message: expects("sleepInsert()", "pos", 'string "1"'),
  },
  {
    export: "taskIsBlocked",
    call: "taskIsBlocked(5)",
    run: () => taskIsBlocked(bad),
    error: T,
    message: expects("taskIsBlocked()", "task", "number 5"),
  },
  {
    export: "taskIsRunnable",
    call: "taskIsRunnable(5)",
    run: () => taskIsRunnable(bad),
    error: T,
    message: expects("taskIsRunnable()", "task", "number 5"),
  },
  {
    export: "taskReinsert",
    call: 'taskReinsert("x", 0)',
    run: () => taskReinsert("x" as never, 0),
    error: T,
    message: expects("taskReinsert()", "task", 'string "x"'),
  },
  {
    export: "taskSwitch",
    call: "taskSwitch(5)",
    run: () => taskSwitch(bad),
    error: T,
    message: expects("taskSwitch()", "task", "number 5"),
  },
  {
    export: "taskSwitch",
    call: "taskSwitch(task, 1)",
    run: () => taskSwitch(currentTask() as Task, 1 as never),
    error: T,
    message: expects("taskSwitch()", "options", "number 1"),
  },
  // interruption
  {
    export: "taskThrow",
    call: "taskThrow(5, error)",
    run: () => taskThrow(bad, new Error("x")),
    error: T,
    message: expects("taskThrow()", "task", "number 5"),
  },
  {
    export: "taskInterrupt",
    call: "taskInterrupt(5, error)",
    run: () => taskInterrupt(bad, new Error("x")),
    error: T,
    message: expects("taskInterrupt()", "task", "number 5"),
  },
  {
    export: "taskInterrupt",
    call: 'taskInterrupt(task, error, { insertPos: "1" })',
    run: () => taskInterrupt(currentTask() as Task, 1, { insertPos: "1" as never }),
    error: T,
    message: expects("taskInterrupt()", "insertPos", 'string "1"'),
  },
  {
    export: "taskTimeout",
    call: 'taskTimeout("10")',
    run: () => taskTimeout("10" as never),
    error: T,
    message: expects("taskTimeout()", "ms", 'string "10"'),
  },
  {
    export: "taskTimeout",
    call: "taskTimeout(10, 5)",
    run: () => taskTimeout(10, bad),
    error: T,
    message: expects("taskTimeout()", "body", "number 5"),
  },
  // sleep
  {
    export: "sleep",
    call: 'sleep("10")',
    run: () => sleep("10" as never),
    error: T,
    message: expects("sleep()", "ms", 'string "10"'),
  },
  {
    export: "sleep",
    call: "sleep(NaN)",
    run: () => sleep(Number.NaN),
    error: R,
    message: expects("sleep()", "ms", "number NaN"),
  },
  // Structured concurrency
  {
    export: "taskGroup",
    call: "taskGroup(null)",
    run: () => taskGroup(null as never),
    error: T,
    message: expects("taskGroup()", "body", "null"),
  },
  {
    export: "TaskGroup",
    call: "tg.createTask(5)",
    run: () => new TaskGroup().createTask(bad),
    error: T,
    message: expects("tg.createTask()", "coro", "number 5"),
  },
  // Tasks
  {
    export: "allTasks",
    call: "allTasks(5)",
    run: () => allTasks(bad),
    error: T,
    message: expects("allTasks()", "loop", "number 5"),
  },
  {
    export: "formatTaskTree",
    call: "formatTaskTree(5)",
    run: () => formatTaskTree(bad),
    error: T,
    message: expects("formatTaskTree()", "loop", "number 5"),
  },
  {
    export: "createTask",
    call: "createTask(5)",
    run: () => createTask(bad),
    error: T,
    message: expects("createTask()", "coro", "number 5"),
  },
  {
    export: "createTask",
    call: "createTask(promise)",
    run: () => createTask(Promise.resolve(1) as never),
    error: T,
    message:
      /^createTask\(\) expects coro to be a coroutine or an async function, got Promise object: a promise is already running, so no task can start it: pass the function that makes it, \(\) => thePromiseMaker\(\)\.$/,
  },
  {
    export: "createTask",
    call: "createTask(future)",
    run: () => createTask(new Future({ loop: new HostEventLoop() }) as never),
    error: T,
    message:
      /^createTask\(\) expects coro to be a coroutine or an async function, got <Future pending>: a Future \(a Task, shield\(\)'s\) is awaited, not run: wait for it with `yield\* future` or `await future`, or give a task a function that waits for it, async \(\) => await future\.$/,
  },
  {
    export: "createTask",
    call: 'createTask(work(), "name")',
    run: () => createTask(work(), "name" as never),
    error: T,
    message: expects("createTask()", "options", 'string "name"'),
  },
  {
    export: "createTask",
    call: "createTask(work(), { context: 5 })",
    run: () => createTask(work(), { context: bad }),
    error: T,
    message: expects("createTask()", "options.context", "number 5"),
  },
  {
    export: "createTask",
    call: "createTask(work(), { signal: 5 })",
    run: () => createTask(work(), { signal: bad }),
    error: T,
    message: expects("createTask()", "options.signal", "number 5"),
  },
  {
    export: "createTask",
    call: 'createTask(work(), { eagerStart: "yes" })',
    run: () => createTask(work(), { eagerStart: "yes" as never }),
    error: T,
    message: expects("createTask()", "options.eagerStart", 'string "yes"'),
  },
  {
    export: "currentTask",
    call: "currentTask(5)",
    run: () => currentTask(bad),
    error: T,
    message: expects("currentTask()", "loop", "number 5"),
  },
  {
    export: "ensureFuture",
    call: "ensureFuture(5)",
    run: () => ensureFuture(bad),
    error: T,
    message: expects("ensureFuture()", "awaitable", "number 5"),
  },
  {
    export: "ensureFuture",
    call: "ensureFuture(work(), 5)",
    run: () => ensureFuture(work(), bad),
    error: T,
    message: expects("ensureFuture()", "options", "number 5"),
  },
  {
    export: "Task",
    call: "new Task(5)",
    run: () => new Task(bad),
    error: T,
    message: expects("new Task()", "coro", "number 5"),
  },
  {
    export: "Task",
    call: "new Task(work(), { loop: 5 })",
    run: () => new Task(work(), { loop: bad }),
    error: T,
    message: expects("new Task()", "options.loop", "number 5"),
  },
  // Deadlines
  {
    export: "Timeout",
    call: 'new Timeout("x")',
    run: () => new Timeout("x" as never),
    error: T,
    message: expects("new Timeout()", "when", 'string "x"'),
  },
  {
    export: "timeout",
    call: "timeout(10)",
    run: () => (timeout as (ms: number) => unknown)(10),
    error: T,
    message: expects("timeout()", "body", "undefined"),
  },
  {
    export: "timeout",
    call: 'timeout("10", body)',
    run: () => timeout("10" as never, () => sleep(0)),
    error: T,
    message: expects("timeout()", "ms", 'string "10"'),
  },
  {
    export: "timeoutAt",
    call: "timeoutAt(NaN, body)",
    run: () => timeoutAt(Number.NaN, () => sleep(0)),
    error: R,
    message: expects("timeoutAt()", "when", "number NaN"),
  },
  // asynkit/testing
  {
    export: "explore",
    call: "explore(5)",
    run: () => explore(bad),
    error: T,
    message: expects("explore()", "main", "number 5"),
  },
  // asynkit/trace
  {
    export: "traceRecorder",
    call: "traceRecorder(5)",
    run: () => traceRecorder(bad),
    error: T,
    message: expects("traceRecorder()", "loop", "number 5"),
  },
  {
    export: "explore",
    call: "explore(main, 5)",
    run: () => explore(work, bad),
    error: T,
    message: expects("explore()", "options", "number 5"),
  },
  {
    export: "explore",
    call: 'explore(main, { iterations: "5" })',
    run: () => explore(work, { iterations: "5" as never }),
    error: T,
    message: expects("explore()", "options.iterations", 'string "5"'),
  },
  {
    export: "explore",
    call: "explore(main, { iterations: 0 })",
    run: () => explore(work, { iterations: 0 }),
    error: R,
    message: expects("explore()", "options.iterations", "number 0"),
  },
  {
    export: "explore",
    call: "explore(main, { seed: -1 })",
    run: () => explore(work, { seed: -1 }),
    error: R,
    message: expects("explore()", "options.seed", "number -1"),
  },
  {
    export: "explore",
    call: "explore(main, { seed: 2 ** 53 })",
    run: () => explore(work, { seed: 2 ** 53 }),
    error: R,
    message: expects("explore()", "options.seed", "number 9007199254740992"),
  },
  {
    export: "explore",
    call: "explore(main, { strategy: 5 })",
    run: () => explore(work, { strategy: bad }),
    error: T,
    message: expects("explore()", "options.strategy", "number 5"),
  },
  {
    export: "explore",
    call: 'explore(main, { strategy: "bfs" })',
    run: () => explore(work, { strategy: "bfs" as never }),
    error: R,
    message: expects("explore()", "options.strategy", 'string "bfs"'),
  },
  {
    export: "explore",
    call: "explore(main, { depth: 0 })",
    run: () => explore(work, { depth: 0 } as never),
    error: R,
    message: expects("explore()", "options.depth", "number 0"),
  },
  {
    export: "explore",
    call: "explore(main, { preemptionBound: 1.5 })",
    run: () => explore(work, { preemptionBound: 1.5 } as never),
    error: R,
    message: expects("explore()", "options.preemptionBound", "number 1.5"),
  },
  {
    export: "explore",
    call: "explore(main, { preemptionBound: 2 })",
    run: () => explore(work, { preemptionBound: 2 } as never),
    error: T,
    message: expects("explore()", "options.preemptionBound", "number 2"),
  },
  {
    export: "explore",
    call: 'explore(main, { strategy: "dfs", depth: 2 })',
    run: () => explore(work, { strategy: "dfs", depth: 2 } as never),
    error: T,
    message: expects("explore()", "options.depth", "number 2"),
  },
  {
    export: "explore",
    call: "explore(main, { signal: 5 })",
    run: () => explore(work, { signal: bad }),
    error: T,
    message: expects("explore()", "options.signal", "number 5"),
  },
  {
    export: "explore",
    call: "explore(main, { maxSteps: 0 })",
    run: () => explore(work, { maxSteps: 0 }),
    error: R,
    message: expects("explore()", "options.maxSteps", "number 0"),
  },
  {
    export: "explore",
    call: "explore(main, { timeLimitMs: -1 })",
    run: () => explore(work, { timeLimitMs: -1 }),
    error: R,
    message: expects("explore()", "options.timeLimitMs", "number -1"),
  },
  {
    export: "explore",
    call: "explore(main, { failOnWarnings: 1 })",
    run: () => explore(work, { failOnWarnings: 1 as never }),
    error: T,
    message: expects("explore()", "options.failOnWarnings", "number 1"),
  },
  {
    export: "explore",
    call: 'explore(main, { debug: "yes" })',
    run: () => explore(work, { debug: "yes" as never }),
    error: T,
    message: expects("explore()", "options.debug", 'string "yes"'),
  },
  {
    export: "replay",
    call: 'replay(5, "1:")',
    run: () => replay(bad, "1:"),
    error: T,
    message: expects("replay()", "main", "number 5"),
  },
  {
    export: "replay",
    call: "replay(main, 5)",
    run: () => replay(work, bad),
    error: T,
    message: expects("replay()", "token", "number 5"),
  },
  {
    export: "replay",
    call: 'replay(main, "4-1")',
    run: () => replay(work, "4-1"),
    error: R,
    message: expects("replay()", "token", 'string "4-1"'),
  },
  {
    export: "replay",
    call: 'replay(main, "1:2-1.2-2")',
    run: () => replay(work, "1:2-1.2-2"),
    error: R,
    message: expects("replay()", "token", 'string "1:2-1.2-2"'),
  },
  {
    export: "replay",
    call: 'replay(main, "1:3-1.2-1")',
    run: () => replay(work, "1:3-1.2-1"),
    error: R,
    message: expects("replay()", "token", 'string "1:3-1.2-1"'),
  },
  {
    export: "replay",
    call: 'replay(main, "1:2-0")',
    run: () => replay(work, "1:2-0"),
    error: R,
    message: expects("replay()", "token", 'string "1:2-0"'),
  },
  {
    export: "replay",
    call: 'replay(main, "1:", "fast")',
    run: () => replay(work, "1:", "fast" as never),
    error: T,
    message: expects("replay()", "options", 'string "fast"'),
  },
  {
    export: "replay",
    call: 'replay(main, "1:", { maxSteps: 0 })',
    run: () => replay(work, "1:", { maxSteps: 0 }),
    error: R,
    message: expects("replay()", "options.maxSteps", "number 0"),
  },
  {
    export: "choose",
    call: 'choose("2")',
    run: () => choose("2" as never),
    error: T,
    message: expects("choose()", "n", 'string "2"'),
  },
  {
    export: "choose",
    call: "choose(0)",
    run: () => choose(0),
    error: R,
    message: expects("choose()", "n", "number 0"),
  },
];

/** Exports that take no argument to check, and why. */
const noArguments: Partial<Record<keyof typeof asynkit | keyof typeof testing, string>> = {
  ExploreError: "an error class: made by explore() and replay() for a schedule that fails",
  HostWaitError:
    "an error class: made by explore() and replay() for a program that waits on the host",
  BrokenBarrierError: "an error class: any message",
  DeadlockError: "an error class: made by a loop that finds a run can never finish",
  HostAwaitError: 'an error class: made by a VirtualEventLoop with hostAwaits: "error"',
  CancelledError: "an error class: any message",
  InterruptError: "an error class: any message",
  InvalidStateError: "an error class: any message",
  QueueEmpty: "an error class: any message",
  QueueFull: "an error class: any message",
  QueueShutDown: "an error class: any message",
  SynchronousError: "an error class: any message",
  TimeoutError: "an error class: any message",
  TimeoutInterrupt: "an error class: any message",
  PRIORITIES: "a constant: the priority names and their numbers",
  STARVATION_BOUND: "a constant",
  SLOW_STEP_MS: "a constant",
  POLLING_STEPS: "a constant",
  STARVED_ITERATIONS: "a constant",
  PriorityLock: "no arguments (release() by another task is tested in priority.test.ts)",
  TaskTimeout: "made by taskTimeout(), which checks its arguments",
  DefaultSchedulingEventLoop: "no arguments",
  Event: "no arguments",
  Lock: "no arguments (hold() is tested below)",
  LoopBound: "an abstract base class",
  getEventLoop: "no arguments",
  getEventLoopPolicy: "no arguments",
  getRunningLoop: "no arguments",
  schedulingLoopFactory: "no arguments",
  Handle: "made by the loop (callSoon), not by users",
  TimerHandle: "made by the loop (callLater), not by users",
  Token: "made by ContextVar.set(); reset() checks it",
  isFuture: "a predicate: any value has an answer",
  isSchedulingLoop: "a predicate: any value has an answer",
};

/** Calls `fn` inside a coroutine on a running virtual loop and returns what it refused (see refused()). */
function refusedInLoop(fn: () => unknown): Promise<Error> {
  return new VirtualEventLoop().runSync(
    (function* () {
      yield;
      return refused(fn);
    })(),
  );
}

describe("every export checks its arguments at the call", () => {
  // A row that failed to throw must not leave its policy behind for the next rows.
  afterEach(() => setEventLoopPolicy(null));

  it.each(rows.map((row) => [row.call, row] as const))("%s", async (_call, row) => {
    const error = row.outside ? await refused(row.run) : await refusedInLoop(row.run);
    expect(error).toBeInstanceOf(row.error);
    expect(error.message).toMatch(row.message);
  });

  it("the table has a row (or a reason for none) for every export of every entry point", () => {
    const covered = new Set<string>([
      ...rows.map((row) => row.export),
      ...Object.keys(noArguments),
    ]);
    const missing = [
      ...Object.keys(asynkit),
      ...Object.keys(testing),
      ...Object.keys(trace),
    ].filter((name) => !covered.has(name));
    expect(missing).toEqual([]);
  });
});

describe("values in messages", () => {
  it("describes generators and generator functions as such, not as [object Generator]", () => {
    expect(thrown(() => sleep(work() as never)).message).toBe(
      "sleep() expects ms to be a number of milliseconds, got a generator object: pass a number, such as 10.",
    );
    expect(thrown(() => waitFor(work as never, 1)).message).toBe(
      "waitFor() expects aw to be an awaitable (a coroutine or a Future), got generator function work: call it first: waitFor(work()).",
    );
  });

  it("says of a plain or async function where an awaitable is expected to run it as a task", () => {
    const hint =
      "a function is not awaitable: pass the coroutine it returns, or run it as a task and pass the task, createTask(fn) (an async function too).";
    expect(thrown(() => waitFor((async () => 1) as never, 1)).message).toBe(
      `waitFor() expects aw to be an awaitable (a coroutine or a Future), got function (anonymous): ${hint}`,
    );
    function fetchUser() {
      return Promise.resolve("user");
    }
    expect(thrown(() => gather(fetchUser as never)).message).toBe(
      `gather() expects each awaitable to be an awaitable (a coroutine or a Future), got function fetchUser: ${hint}`,
    );
  });

  it("describes strings, arrays, maps, plain objects and class instances by kind", () => {
    const where = (value: unknown) => thrown(() => new Barrier(value as never)).message;
    expect(where("3")).toMatch(/got string "3":/);
    expect(where([1, 2])).toMatch(/got array of length 2:/);
    expect(where(new Map([[1, 2]]))).toMatch(/got Map of size 1:/);
    expect(where({ a: 1, b: 2 })).toMatch(/got object \{ a, b \}:/);
    expect(where(new Lock())).toMatch(/got <Lock \[unlocked\]>:/);
    expect(where(undefined)).toMatch(/got undefined:/);
  });
});

describe("errors that come from state, not from an argument", () => {
  it("createTask with no running loop says to use run() or loop.createTask()", async () => {
    await run(function* () {}); // a loop has run in this process (see policy.test.ts for none)
    const e = thrown(() => createTask(work()));
    expect(e.constructor).toBe(Error);
    expect(e.message).toMatch(
      /^createTask\(\) needs a running event loop: call it from a task run by run\(main\), or use loop\.createTask\(coro\)\.\nIf this is code of an async function that a loop started, it runs outside the loop:\n {2}- after an await of a host promise/,
    );
  });

  it("a future of a loop that is not running, waited on by a task, says where such a future comes from", () => {
    const waitOn = (future: Future<number>): string => {
      const loop = new VirtualEventLoop();
      const e = thrown(() =>
        loop.runSync(
          (function* () {
            return yield* future;
          })(),
        ),
      );
      return e.message.replace(/name="Task-\d+"/, 'name="Task-N"');
    };
    const idle = new VirtualEventLoop(); // as the policy's loop, for \`new Future()\` where none runs
    expect(waitOn(new Future<number>({ loop: idle }))).toBe(
      `<Task pending name="Task-N"> waited on <Future pending>, which belongs to a different event loop (<VirtualEventLoop idle ready=0 timers=0>, which is not running: a future belongs to the loop it was made on, and \`new Future()\` where no loop runs, as at a module's top level, takes the policy's loop): create it on this task's loop, inside the task or with loop.createFuture().`,
    );
    const closed = new VirtualEventLoop(); // a run that is over
    const kept = new Future<number>({ loop: closed });
    closed.close();
    expect(waitOn(kept)).toBe(
      `<Task pending name="Task-N"> waited on <Future pending>, which belongs to a different event loop (<VirtualEventLoop closed ready=0 timers=0>: the run that made it is over, and a future kept past its run is not another run's): create it on this task's loop, inside the task or with loop.createFuture().`,
    );
  });

  it("setResult twice is an InvalidStateError that says a future completes once", () => {
    const f = new Future<number>({ loop: new VirtualEventLoop() });
    f.setResult(1);
    const e = thrown(() => f.setResult(2));
    expect(e).toBeInstanceOf(InvalidStateError);
    expect(e.message).toBe(
      "setResult() on a finished Future: a future can be completed only once.",
    );
  });

  it("result() on a pending future is an InvalidStateError that says to wait first", () => {
    const f = new Future({ loop: new VirtualEventLoop() });
    const e = thrown(() => f.result());
    expect(e).toBeInstanceOf(InvalidStateError);
    expect(e.message).toBe(
      "Result is not set yet: wait for the future first (yield* future), or check done().",
    );
  });

  it("callSoon on a closed loop says to create a new loop or use run()", () => {
    const loop = new VirtualEventLoop();
    loop.close();
    const e = thrown(() => loop.callSoon(() => {}));
    expect(e.constructor).toBe(Error);
    expect(e.message).toBe(
      "This event loop is closed: create a new one (or use run()) to schedule work.",
    );
  });

  it("runUntilComplete on a running loop says to use yield* instead", async () => {
    const loop = new VirtualEventLoop();
    const e = loop.runSync(
      (function* () {
        yield;
        return refused(() => loop.runUntilComplete(sleep(0)));
      })(),
    );
    expect((await e).message).toBe(
      "runUntilComplete(): this event loop is already running. Inside one of its tasks, wait for the work instead: yield* it in a coroutine, await it in an async function.",
    );
  });

  it("run() inside a running loop says to use yield* or createTask, and closes the coroutine", async () => {
    const log: string[] = [];
    function* inner() {
      try {
        log.push("inner started");
        yield;
      } finally {
        log.push("inner finally");
      }
    }
    const loop = new VirtualEventLoop();
    const coro = inner();
    const e = loop.runSync(
      (function* () {
        yield;
        return refused(() => run(coro));
      })(),
    );
    const error = await e;
    expect(error.constructor).toBe(Error);
    expect(error.message).toBe(
      "run() cannot be called from a running event loop: inside a task, yield* the work (await it in an async function) or start it with createTask() instead.",
    );
    expect(coro.next().done).toBe(true);
    expect(log).toEqual([]);
  });

  it("run() with a bad option is refused at once, before it makes a loop or starts main", async () => {
    const log: string[] = [];
    function* main() {
      log.push("main ran");
      yield;
    }
    const coro = main();
    expect(await refused(() => run(coro, { signal: 5 as never }))).toBeInstanceOf(TypeError);
    expect(log).toEqual([]);
    expect(coro.next().done).toBe(false);
    expect(log).toEqual(["main ran"]);
  });
});

describe("a misspelt option is refused at the call, naming it and the options there are", () => {
  const misspelt = { nmae: "x" } as never;
  const fn = async () => {};
  const calls: [string, () => unknown, string][] = [
    ["run()", () => run(fn, misspelt), "loopFactory, debug, signal, asyncLocalStorage"],
    [
      "new VirtualEventLoop()",
      () => new VirtualEventLoop(misspelt),
      "asyncLocalStorage, hostAwaits",
    ],
    ["new HostEventLoop()", () => new HostEventLoop(misspelt), "asyncLocalStorage"],
    ["new ContextVar()", () => new ContextVar("v", misspelt), "default"],
    ["new CoroStart()", () => new CoroStart(sleep(0), misspelt), "context, autostart"],
    ["coroAwait()", () => coroAwait(sleep(0), misspelt), "context"],
    ["fromPromise()", () => fromPromise(new Promise(() => {}), misspelt), "loop"],
    ["ensureFuture()", () => ensureFuture(Promise.resolve(1), misspelt), "loop"],
    ["new Future()", () => new Future(misspelt), "loop"],
    ["wait()", () => wait([sleep(0)], misspelt), "timeout, returnWhen"],
    ["asCompleted()", () => asCompleted([sleep(0)], misspelt), "timeout"],
    ["gather()", () => gather([sleep(0)], misspelt), "returnExceptions"],
    [
      "explore()",
      () => explore(() => sleep(0), misspelt),
      "iterations, seed, strategy, depth, preemptionBound, maxSteps, timeLimitMs, failOnWarnings, asyncLocalStorage, debug, signal",
    ],
    [
      "replay()",
      () => replay(() => sleep(0), "1:", misspelt),
      "maxSteps, failOnWarnings, asyncLocalStorage, debug, signal",
    ],
  ];
  for (const [where, call, names] of calls) {
    it(where, async () => {
      expect(await refused(call)).toEqual(
        new TypeError(`${where} has no option "nmae": its options are ${names}.`),
      );
    });
  }

  it("createTask(), loop.submit(), addDoneCallback(), taskSwitch(), taskInterrupt(), loop.shutdown()", async () => {
    const loop = new SchedulingVirtualEventLoop();
    const where = (w: string, names: string) =>
      new TypeError(`${w} has no option "nmae": its options are ${names}.`);
    const task = "name, context, eagerStart, signal, priority";
    loop.runSync(function* () {
      expect(() => createTask(fn, misspelt)).toThrow(where("createTask()", task));
      expect(() => loop.createTask(fn, misspelt)).toThrow(where("loop.createTask()", task));
      // A loop is new Task()'s option (a TaskFactory's); createTask() makes the task on its loop.
      expect(() => createTask(fn, { loop: new VirtualEventLoop() } as never)).toThrow(
        where("createTask()", task).message.replace('"nmae"', '"loop"'),
      );
      expect(() => new Task(sleep(0), misspelt)).toThrow(where("new Task()", `${task}, loop`));
      const other = createTask(sleep(0));
      expect(() => other.addDoneCallback(() => {}, misspelt)).toThrow(
        where("future.addDoneCallback()", "context"),
      );
      expect(() => taskSwitch(other, misspelt)).toThrow(where("taskSwitch()", "insertPos"));
      expect(() => taskInterrupt(other, "stop", misspelt)).toThrow(
        where("taskInterrupt()", "insertPos"),
      );
      yield* other;
    });
    const app = new VirtualEventLoop();
    expect(() => app.submit(fn, misspelt)).toThrow(
      where("loop.submit()", "name, signal, context, priority"),
    );
    expect(await refused(() => app.shutdown(misspelt))).toEqual(
      where("loop.shutdown()", "timeout"),
    );
  });

  it("gather() checks that returnExceptions is a boolean", () => {
    expect(() => gather([sleep(0)], { returnExceptions: "yes" as never })).toThrow(
      new TypeError(
        'gather() expects options.returnExceptions to be a boolean, got string "yes": pass true or false.',
      ),
    );
  });
});

describe("a negative delay means now, as in asyncio and setTimeout", () => {
  it("sleep(negative) yields once, like sleep(0), and returns its value", () => {
    const log: string[] = [];
    const loop = new VirtualEventLoop();
    const result = loop.runSync(
      (function* () {
        loop.callSoon(() => log.push("callback"));
        const value = yield* sleep(-5, "v");
        log.push("after sleep");
        return value;
      })(),
    );
    expect(result).toBe("v");
    expect(log).toEqual(["callback", "after sleep"]);
    expect(loop.time()).toBe(0);
  });

  it("sleep(deadline - loop.time()) after the deadline does not throw", () => {
    const loop = new VirtualEventLoop();
    const at = loop.runSync(
      (function* () {
        const deadline = loop.time() + 10;
        yield* sleep(25);
        yield* sleep(deadline - loop.time());
        return loop.time();
      })(),
    );
    expect(at).toBe(25);
  });

  it("callLater(negative) is due that long ago, as asyncio's: before a callLater(0), after an earlier callAt()", () => {
    const loop = new VirtualEventLoop();
    const log: string[] = [];
    loop.runSync(
      (function* () {
        yield* sleep(10);
        const now = loop.callLater(0, () => log.push(`callLater(0) at ${loop.time()}`));
        const late = loop.callLater(-1, () => log.push(`callLater(-1) at ${loop.time()}`));
        const earlier = loop.callAt(5, () => log.push(`callAt(5) at ${loop.time()}`));
        expect([now.when(), late.when(), earlier.when()]).toEqual([10, 9, 5]);
        yield* sleep(1);
      })(),
    );
    expect(log).toEqual(["callAt(5) at 10", "callLater(-1) at 10", "callLater(0) at 10"]);
  });

  it("timeout(negative) has a deadline that long ago, as asyncio's, and expires at the first suspension", () => {
    const log: string[] = [];
    const error = new VirtualEventLoop().runSync(
      (function* () {
        try {
          yield* timeout(-1, function* (t) {
            log.push(`deadline ${t.when()}`);
            yield* sleep(10);
            log.push("not reached");
          });
        } catch (e) {
          return e;
        }
      })(),
    );
    expect(error).toBeInstanceOf(asynkit.TimeoutError);
    expect((error as Error).message).toMatch(
      /^Timed out: the deadline at loop time -1 ms lay 1 ms before the block began, while Task "Task-\d+" waited on sleep until t=10 ms \(every duration is in milliseconds\)\.$/,
    );
    expect(log).toEqual(["deadline -1"]);
  });

  it("waitFor(future, 0) of a pending future of another loop is refused, not left waiting forever", () => {
    const other = new VirtualEventLoop();
    const foreign = other.createFuture<number>();
    const error = new VirtualEventLoop().runSync(
      (function* () {
        try {
          yield* waitFor(foreign, 0);
        } catch (e) {
          return e;
        }
      })(),
    );
    expect((error as Error).message).toBe(
      "waitFor(): <Future pending> belongs to a different event loop: create it on the loop that waits for it.",
    );
    expect(foreign.cancelled()).toBe(false);
    other.close();
  });

  it("waitFor(aw, negative) behaves as waitFor(aw, 0): a done future gives its result, a pending one times out", () => {
    const loop = new VirtualEventLoop();
    const [done, error] = loop.runSync(
      (function* () {
        const ready = loop.createFuture<string>();
        ready.setResult("ready");
        const done = yield* waitFor(ready, -10);
        const sleeper = createTask(sleep(100));
        let error: unknown = null;
        try {
          yield* waitFor(sleeper, -10);
        } catch (e) {
          error = e;
        }
        expect(sleeper.cancelled()).toBe(true);
        return [done, error] as const;
      })(),
    );
    expect(done).toBe("ready");
    expect(error).toBeInstanceOf(asynkit.TimeoutError);
  });

  it("wait(fs, { timeout: negative }) returns at once with what is done", () => {
    const loop = new VirtualEventLoop();
    const sizes = loop.runSync(
      (function* () {
        const sleeper = createTask(sleep(100));
        const { done, pending } = yield* wait([sleeper], { timeout: -1 });
        sleeper.cancel();
        return [done.size, pending.size, loop.time()];
      })(),
    );
    expect(sizes).toEqual([0, 1, 0]);
  });

  it("asCompleted(aws, { timeout: negative }) times out what is not done yet", () => {
    const loop = new VirtualEventLoop();
    const outcome = loop.runSync(
      (function* () {
        const sleeper = createTask(sleep(100));
        const results: unknown[] = [];
        for (const next of asCompleted([sleeper], { timeout: -1 })) {
          try {
            results.push(yield* next);
          } catch (e) {
            results.push((e as Error).constructor.name);
          }
        }
        sleeper.cancel();
        return [results, loop.time()];
      })(),
    );
    expect(outcome).toEqual([["TimeoutError"], 0]);
  });
});

describe("a coroutine is single-use", () => {
  it("a coroutine given to a second task is refused at the call, naming the task that has it", () => {
    const error = new VirtualEventLoop().runSync(
      (function* () {
        const coro = work();
        const first = createTask(coro, { name: "first" });
        const e = thrown(() => createTask(coro));
        expect(yield* first).toBe(1);
        return e;
      })(),
    );
    expect(error).toBeInstanceOf(InvalidStateError);
    expect(error.message).toBe(
      'This coroutine already belongs to <Task pending name="first">: a coroutine can be awaited once; wrap it in a task to share its result (create the task once, then yield* the task as often as needed).',
    );
  });

  it("ensureFuture and gather refuse a coroutine a task already ran, instead of giving undefined", () => {
    const loop = new VirtualEventLoop();
    const errors = loop.runSync(
      (function* () {
        const coro = work();
        yield* createTask(coro);
        const fromEnsure = thrown(() => ensureFuture(coro));
        const fromGather = thrown(() => gather(coro).next());
        return [fromEnsure, fromGather];
      })(),
    );
    for (const error of errors) {
      expect(error).toBeInstanceOf(InvalidStateError);
      expect(error.message).toMatch(
        /^This coroutine already belongs to <Task finished name="Task-\d+" result=\w+>: a coroutine can be awaited once; wrap it in a task/,
      );
    }
  });

  it("a coroutine that is running in its task cannot be handed to another", () => {
    const error = new VirtualEventLoop().runSync(
      (function* () {
        const holder: { self: Coro<unknown> | null } = { self: null };
        function* selfish(): Coro<unknown> {
          yield;
          return thrown(() => createTask(holder.self as Coro<unknown>));
        }
        holder.self = selfish();
        return yield* createTask(holder.self, { name: "selfish" });
      })(),
    ) as Error;
    expect(error).toBeInstanceOf(InvalidStateError);
    expect(error.message).toMatch(
      /^This coroutine already belongs to <Task pending name="selfish">/,
    );
  });

  it("a task wrapping the coroutine can be awaited any number of times", () => {
    const results = new VirtualEventLoop().runSync(
      (function* () {
        const task = createTask(work());
        return [yield* task, yield* task, yield* gather(task, task)];
      })(),
    );
    expect(results).toEqual([1, 1, [1, 1]]);
  });
});

describe("hold() must be awaited before it is disposed", () => {
  function holders(): [string, { hold(): unknown }][] {
    return [
      ["lock.hold()", new Lock()],
      ["semaphore.hold()", new Semaphore(1)],
      ["semaphore.hold()", new BoundedSemaphore(1)],
      ["condition.hold()", new Condition()],
    ];
  }

  it.each(holders())(
    "using _ = %s without yield* is a TypeError that shows the fix",
    (call, holder) => {
      const error = thrown(() => {
        using _ = holder.hold() as Disposable;
      });
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toBe(
        `${call} was disposed without being awaited, so it never acquired, and the block ran without it: write \`using _ = yield* ${call};\` in a coroutine, \`using _ = await ${call};\` in an async function.`,
      );
    },
  );

  it("using _ = yield* lock.hold() acquires, and releases when the scope ends", () => {
    const lock = new Lock();
    const log = new VirtualEventLoop().runSync(
      (function* () {
        const log: boolean[] = [];
        {
          using _ = yield* lock.hold();
          log.push(lock.locked());
        }
        log.push(lock.locked());
        return log;
      })(),
    );
    expect(log).toEqual([true, false]);
  });

  it("using h = lock.hold(); yield* h; releases the lock when the scope ends, once", () => {
    const lock = new Lock();
    const log = new VirtualEventLoop().runSync(
      (function* () {
        const log: boolean[] = [];
        {
          using hold = lock.hold() as Coro<Disposable> & Disposable;
          yield* hold;
          log.push(lock.locked());
        }
        log.push(lock.locked());
        return log;
      })(),
    );
    expect(log).toEqual([true, false]);
  });

  it("a hold() cancelled while it waits for the lock leaves the lock to its holder", () => {
    const lock = new Lock();
    const outcome = new VirtualEventLoop().runSync(
      (function* () {
        yield* lock.acquire();
        const waiter = createTask(
          (function* () {
            using _ = yield* lock.hold();
            return "acquired";
          })(),
        );
        yield* sleep(0);
        waiter.cancel();
        let cancelled = false;
        try {
          yield* waiter;
        } catch (e) {
          cancelled = e instanceof CancelledError;
        }
        return [cancelled, lock.locked()];
      })(),
    );
    expect(outcome).toEqual([true, true]);
  });
});
