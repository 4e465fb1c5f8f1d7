/**
 * asynkit: an event loop you can see and steer.
 *
 * Coroutines are generator functions (`function*`), awaited with `yield*`,
 * driven by asynkit's own event loop. Everything public is exported here.
 *
 * @packageDocumentation
 */

// AbortSignal interop
export { taskSignal, waitAbort } from "./abort.js";
// Event loops
export type { ShutdownOptions, SubmitOptions } from "./apploop.js";
// Eager (depth-first) execution and CoroStart; driving a coroutine without a loop
export { awaitSync } from "./awaitsync.js";
// Observability
export type { ChannelId, ChannelMessage, ChannelMessages, ChannelName } from "./channels.js";
// Combinators: waiting for several things at once
export {
  type AsCompletedOptions,
  asCompleted,
  type GatherOptions,
  gather,
  type ReturnWhen,
  shield,
  type WaitOptions,
  wait,
  waitFor,
} from "./combinators.js";
// Context variables
export { Context, type ContextStore, ContextVar, copyContext, Token } from "./context.js";
// Coroutines and their types
export type { Awaitable, AwaitedResult, Coro, Signal, Suspend } from "./coro.js";
export {
  asyncEager,
  CoroStart,
  type CoroStartOptions,
  cancelling,
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
  eager,
  eagerCtx,
  eagerTaskFactory,
  funcEager,
} from "./eager.js";
// Errors
export {
  BrokenBarrierError,
  CancelledError,
  DeadlockError,
  HostAwaitError,
  InterruptError,
  InvalidStateError,
  QueueEmpty,
  QueueFull,
  QueueShutDown,
  SynchronousError,
  TimeoutError,
  TimeoutInterrupt,
} from "./errors.js";
// Scheduled callbacks and the running loop
export {
  type ExceptionContext,
  type ExceptionHandler,
  getEventLoop,
  getRunningLoop,
  Handle,
  type HandleCallback,
  TimerHandle,
} from "./events.js";
// Futures
export {
  type DoneCallback,
  type DoneCallbackOptions,
  Future,
  fromPromise,
  isFuture,
} from "./futures.js";
// Asynchronous generators as coroutines, and async iteration across the border with native code
export { GeneratorObject } from "./generatorobject.js";
// Immediate interruption
export { TaskTimeout, taskInterrupt, taskThrow, taskTimeout } from "./interrupt.js";
export {
  aiterSync,
  type ForAwaitBody,
  type ForAwaitOutcome,
  type ForAwaitSource,
  forAwait,
  fromAsyncIterable,
} from "./iteration.js";
// Debug mode's lints
export { POLLING_STEPS, SLOW_STEP_MS, STARVED_ITERATIONS } from "./lints.js";
// Synchronization primitives
export {
  Barrier,
  BoundedSemaphore,
  Condition,
  Event,
  Lock,
  LoopBound,
  Semaphore,
  type Truthy,
} from "./locks.js";
// Event loops
export { BaseEventLoop, type EventLoopOptions, type TaskFactory } from "./loops/base.js";
export { HostEventLoop } from "./loops/host.js";
export {
  PriorityHostEventLoop,
  PriorityMixin,
  PriorityVirtualEventLoop,
  STARVATION_BOUND,
} from "./loops/priority.js";
export {
  DefaultSchedulingEventLoop,
  isSchedulingLoop,
  type LoopConstructor,
  SchedulingHostEventLoop,
  type SchedulingLoop,
  SchedulingMixin,
  SchedulingVirtualEventLoop,
  schedulingLoopFactory,
} from "./loops/scheduling.js";
export { VirtualEventLoop, type VirtualEventLoopOptions } from "./loops/virtual.js";
// Out-of-band messages from a coroutine to the one awaiting it
export { type BoundMonitor, Monitor } from "./monitor.js";
// Policies and run()
export {
  DefaultEventLoopPolicy,
  type EventLoopPolicy,
  getEventLoopPolicy,
  type RunOptions,
  run,
  setEventLoopPolicy,
} from "./policy.js";
// Priorities
export { PRIORITIES, type TaskPriority } from "./priority.js";
export { PriorityCondition, PriorityLock } from "./prioritylocks.js";
// Queues
export { LifoQueue, PriorityQueue, Queue } from "./queues.js";
// Scheduling functions: sleepInsert, taskSwitch, createTaskDescend, runnable and blocked tasks
export {
  blockedTasks,
  type CreateTaskOptions,
  createTaskDescend,
  createTaskStart,
  runnableTasks,
  sleepInsert,
  type TaskSwitchOptions,
  taskIsBlocked,
  taskIsRunnable,
  taskReinsert,
  taskSwitch,
} from "./scheduling.js";
export { eventLoopPolicy, SchedulingEventLoopPolicy } from "./schedulingpolicy.js";
export { sleep } from "./sleep.js";
// Structured concurrency
export { TaskGroup, taskGroup } from "./taskgroups.js";
// Tasks
export {
  allTasks,
  createTask,
  currentTask,
  ensureFuture,
  Task,
  type TaskBody,
  type TaskOptions,
} from "./tasks.js";
export { formatTaskTree } from "./tasktree.js";
export type { Op } from "./thenable.js";
// Deadlines
export { Timeout, timeout, timeoutAt } from "./timeouts.js";

// One object of each hot kind, kept for the life of the process: see layouts.ts.
import "./layouts.js";
