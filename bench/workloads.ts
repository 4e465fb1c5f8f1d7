/**
 * Shared definitions for the benchmark harness: the workloads, their default
 * sizes, and the interface each implementation (asynkit, native, effection,
 * effect) provides. The CPython asyncio twin lives in python/asyncio_bench.py.
 */

/** Workloads timed in ns per op. */
export const TIMED_WORKLOADS = [
  "switch",
  "ping-pong",
  "spawn-join",
  "timers",
  "call",
  "eager",
  "event-ping-pong",
  "queue-ping-pong",
  "lock-contention",
] as const;
export type TimedWorkload = (typeof TIMED_WORKLOADS)[number];

/** All workloads; `memory` reports heap bytes per blocked task instead of time. */
export const WORKLOADS = [...TIMED_WORKLOADS, "memory"] as const;
export type Workload = (typeof WORKLOADS)[number];

/** Ops per run at full size (`--quick` divides by 10). */
export const DEFAULT_OPS: Record<Workload, number> = {
  switch: 1_000_000, // context switches of one task: `yield* sleep(0)`
  "ping-pong": 200_000, // round trips between two tasks through futures
  "spawn-join": 100_000, // tasks spawned, each yields once, all joined
  timers: 100_000, // tasks each sleeping a random 0–10 ms, all joined
  call: 1_000_000, // calls of a coroutine that returns without suspending: `yield* f()`
  eager: 1_000_000, // the same calls started eagerly: `yield* eager(f())`
  "event-ping-pong": 200_000, // round trips between two tasks through two Events (set/wait/clear)
  "queue-ping-pong": 200_000, // round trips between two tasks through two Queue(1)s (put/get)
  "lock-contention": 100_000, // Lock acquisitions by 100 tasks, each holding it across one yield
  memory: 100_000, // tasks blocked on one never-resolved future
};

/** Tasks that compete for the lock in the lock-contention workload. */
export const LOCK_TASKS = 100;

/** What one implementation family provides: one function per workload. */
export type Impl = { readonly [K in TimedWorkload]: (n: number) => Promise<void> } & {
  /** Blocks `n` tasks on one future, returns heap bytes per task, then releases them. */
  readonly memory: (n: number) => Promise<number>;
};

/** The JS implementations, in the order each round runs them (native first). */
export const JS_IMPLS = ["native", "asynkit", "effection", "effect"] as const;
export type JsImpl = (typeof JS_IMPLS)[number];

/** The line a worker prints on stdout. */
export type WorkerResult = { nsPerOp: number } | { bytesPerTask: number } | { error: string };

/**
 * Heap in use after full collections. Needs `--expose-gc`; two passes so that
 * objects freed by the first pass's finalizers/weak callbacks are gone too.
 */
export function heapUsed(): number {
  if (!globalThis.gc) throw new Error("memory workload needs node --expose-gc");
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
}

/** Random sleep for the timers workload: uniform in [0, 10) ms. */
export function timerDelayMs(): number {
  return Math.random() * 10;
}
