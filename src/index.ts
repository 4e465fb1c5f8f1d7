/**
 * asynkit: an event loop you can see and steer.
 *
 * Coroutines are generator functions (`function*`), awaited with `yield*`,
 * driven by asynkit's own event loop. Everything public is exported here.
 *
 * @packageDocumentation
 */

// Context variables
export { Context, ContextVar, copyContext, Token } from "./context.js";
// Coroutines and their types
export type { Awaitable, Coro, Signal, Suspend } from "./coro.js";
// Errors
export {
  BrokenBarrierError,
  CancelledError,
  InterruptError,
  InvalidStateError,
  QueueEmpty,
  QueueFull,
  QueueShutDown,
  SynchronousError,
  TimeoutError,
} from "./errors.js";
// Scheduled callbacks and the running loop
export {
  type ExceptionContext,
  type ExceptionHandler,
  getEventLoop,
  getRunningLoop,
  Handle,
  TimerHandle,
} from "./events.js";
// Futures
export { type DoneCallback, Future, fromPromise, isFuture } from "./futures.js";
// Event loops
export { BaseEventLoop, type TaskFactory } from "./loops/base.js";
export { HostEventLoop } from "./loops/host.js";
export { VirtualEventLoop } from "./loops/virtual.js";
// Policies and run()
export {
  DefaultEventLoopPolicy,
  type EventLoopPolicy,
  getEventLoopPolicy,
  type RunOptions,
  run,
  setEventLoopPolicy,
} from "./policy.js";
export { sleep } from "./sleep.js";
// Tasks
export {
  allTasks,
  createTask,
  currentTask,
  ensureFuture,
  Task,
  type TaskOptions,
} from "./tasks.js";
