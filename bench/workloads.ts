/**
 * Shared definitions for the benchmark harness: the workloads, the sizes each
 * runs at, the goals, and the interface each implementation (asynkit, native,
 * effection, effect) provides. The CPython asyncio twin lives in
 * python/asyncio_bench.py.
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
  "depth",
  "async-switch",
  "async-spawn-join",
] as const;
export type TimedWorkload = (typeof TIMED_WORKLOADS)[number];

/** All workloads; `memory` reports heap bytes per blocked task instead of time. */
export const WORKLOADS = [...TIMED_WORKLOADS, "memory"] as const;
export type Workload = (typeof WORKLOADS)[number];

/** Ops per run at full size, one case per size (`--quick` divides them by 10). */
export const SIZES: Record<Workload, readonly number[]> = {
  switch: [1_000_000], // context switches of one task: `yield* sleep(0)`
  "ping-pong": [200_000, 1_000_000], // round trips between two tasks through futures
  "spawn-join": [1_000, 10_000, 100_000, 1_000_000], // tasks spawned, each yields once, all joined
  timers: [1_000, 10_000, 100_000, 1_000_000], // tasks each sleeping a random 0–10 ms, all joined
  call: [1_000_000], // calls of a coroutine that returns without suspending: `yield* f()`
  eager: [1_000_000], // the same calls started eagerly: `yield* eager(f())`
  "event-ping-pong": [200_000], // round trips between two tasks through two Events (set/wait/clear)
  "queue-ping-pong": [200_000], // round trips between two tasks through two Queue(1)s (put/get)
  "lock-contention": [100_000], // Lock acquisitions by 100 tasks, each holding it across one yield
  depth: [], // sized by DEPTHS instead
  "async-switch": [1_000_000], // switch with async functions: two tasks taking turns, `await sleep(0)`
  "async-spawn-join": [100_000], // spawn-join with async functions: each awaits sleep(0) once
  memory: [100_000], // tasks blocked on one never-resolved future
};

/**
 * Workloads of asynkit tasks written as async functions (native tasks), against
 * plain async functions doing the same (`await null` for a switch): asynkit
 * and native only.
 */
export const ASYNC_FUNCTION_WORKLOADS = ["async-switch", "async-spawn-join"] as const;
type AsyncFunctionWorkload = (typeof ASYNC_FUNCTION_WORKLOADS)[number];

/** The depth workload: `yield*` levels above the suspension, and switches per run. */
export const DEPTHS: readonly { depth: number; ops: number }[] = [
  { depth: 1, ops: 1_000_000 },
  { depth: 10, ops: 1_000_000 },
  { depth: 100, ops: 200_000 },
  { depth: 1_000, ops: 100_000 },
];

/**
 * Workloads whose functions take a batch count: `reps` batches of `n` tasks,
 * one after the other within one start of the runtime (`run()`,
 * `Effect.runPromise`, `asyncio.run`), so that a small size still times
 * MIN_OPS_PER_RUN tasks and the runtime's start-up is not counted per batch.
 */
export const BATCHED_WORKLOADS = ["spawn-join", "timers"] as const;
export type BatchedWorkload = (typeof BATCHED_WORKLOADS)[number];
export const MIN_OPS_PER_RUN = 100_000;

/** One measurement: a workload at one size (or one depth). */
export interface Case {
  readonly workload: Workload;
  /** Ops per run of the workload. */
  readonly ops: number;
  /** Batches of `ops` per timed run, for batched workloads (the warm-up does a tenth); else 1. */
  readonly reps: number;
  /** Ops per run at full size. */
  readonly fullOps: number;
  /** Nesting depth, for the depth workload. */
  readonly depth?: number;
  /** The full size, as goals and `--only` name it: "1k", "1M", "D=100". */
  readonly size: string;
  /** The size as the tables show it: `size`, with "/10" under `--quick`. */
  readonly label: string;
}

/** 1000 → "1k", 1000000 → "1M", 200 → "200". */
export function fmtCount(n: number): string {
  if (n >= 1_000_000 && n % 1_000_000 === 0) return `${n / 1_000_000}M`;
  if (n >= 1_000 && n % 1_000 === 0) return `${n / 1_000}k`;
  return String(n);
}

/** Every case of a workload; `quick` divides the ops by 10. */
export function casesOf(workload: Workload, quick: boolean): Case[] {
  const make = (fullOps: number, size: string, depth?: number): Case => ({
    workload,
    ops: quick ? Math.max(1, fullOps / 10) : fullOps,
    reps: (BATCHED_WORKLOADS as readonly Workload[]).includes(workload)
      ? Math.max(1, Math.ceil(MIN_OPS_PER_RUN / fullOps))
      : 1,
    fullOps,
    ...(depth === undefined ? {} : { depth }),
    size,
    label: quick && depth === undefined ? `${size}/10` : size,
  });
  if (workload === "depth") return DEPTHS.map(({ depth, ops }) => make(ops, `D=${depth}`, depth));
  return SIZES[workload].map((ops) => make(ops, fmtCount(ops)));
}

/** The JS implementations, in the order each round runs them (native first). */
export const JS_IMPLS = ["native", "asynkit", "effection", "effect"] as const;
export type JsImpl = (typeof JS_IMPLS)[number];
export type ImplName = JsImpl | "asyncio";

/**
 * Whether an implementation runs a case. depth and the async-function
 * workloads are asynkit and native only.
 * spawn-join and timers run every size in asynkit, native and effect; asyncio
 * leaves out 1M tasks (about 20 µs and 0.8 KB a task: 20 s and a gigabyte a
 * run), and effection runs 100k only: about 100 µs a task there, and several
 * times that a task at 1k and 10k, where a run of 100k tasks in batches takes minutes.
 */
export function runsCase(impl: ImplName, c: Case): boolean {
  if (impl === "native" || impl === "asynkit") return true;
  if (c.workload === "depth") return false;
  if ((ASYNC_FUNCTION_WORKLOADS as readonly Workload[]).includes(c.workload)) return false;
  if (c.workload !== "spawn-join" && c.workload !== "timers") return true;
  if (impl === "effection") return c.fullOps === 100_000;
  if (impl === "asyncio") return c.fullOps <= 100_000;
  return true;
}

/** A goal: asynkit's ratio to native at most `maxRatio`, at the listed sizes (all when absent). */
export interface Goal {
  readonly maxRatio: number;
  readonly sizes?: readonly string[];
}

/** Round two's goals (ratio to native in the same run; both modes must meet them). */
export const GOALS: Partial<Record<Workload, Goal>> = {
  switch: { maxRatio: 1.5 },
  "ping-pong": { maxRatio: 1.3, sizes: ["200k", "1M"] },
  "spawn-join": { maxRatio: 1.0, sizes: ["100k", "1M"] },
  timers: { maxRatio: 1.2, sizes: ["10k", "100k", "1M"] },
  eager: { maxRatio: 1.0 },
  memory: { maxRatio: 1.1 },
  // Native async tasks (issue 12): asynkit's bounded steps cost a hand-over per step.
  "async-switch": { maxRatio: 10 },
  "async-spawn-join": { maxRatio: 3 },
};

/** The goal of a case, if it has one. */
export function goalOf(c: Case): Goal | undefined {
  const goal = GOALS[c.workload];
  return goal && (!goal.sizes || goal.sizes.includes(c.size)) ? goal : undefined;
}

/** Workloads whose cost per task should stay within FLAT_MAX of its own best size. */
export const FLAT_WORKLOADS: readonly Workload[] = ["spawn-join", "timers"];
export const FLAT_MAX = 1.5;

/** Tasks that compete for the lock in the lock-contention workload. */
export const LOCK_TASKS = 100;

/** What one implementation family provides: one function per workload. */
export type Impl = {
  readonly [K in Exclude<TimedWorkload, "depth" | BatchedWorkload | AsyncFunctionWorkload>]: (
    n: number,
  ) => Promise<void>;
} & {
  /** The async-function workloads (asynkit and native only). */
  readonly [K in AsyncFunctionWorkload]?: (n: number) => Promise<void>;
} & {
  /** `reps` batches of `n` tasks in one start of the runtime (see BATCHED_WORKLOADS). */
  readonly [K in BatchedWorkload]: (n: number, reps: number) => Promise<void>;
} & {
  /** Blocks `n` tasks on one future, returns heap bytes per task, then releases them. */
  readonly memory: (n: number) => Promise<number>;
  /** `n` switches of a task suspended `depth` nested calls deep (asynkit and native only). */
  readonly depth?: (n: number, depth: number) => Promise<void>;
};

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

/**
 * Random sleep for the timers workload: uniform in [0, 10) ms. The timers
 * workload is timed in CPU time (the process's, all threads), not wall time:
 * 1k tasks take at least the 10 ms their sleeps span whatever they cost.
 */
export function timerDelayMs(): number {
  return Math.random() * 10;
}
