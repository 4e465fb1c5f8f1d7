/**
 * Before/after check for a hot-path change: the same workload against two or
 * more builds of asynkit (their dist/ folders), in interleaved fresh processes
 * (A B A B …), reporting each build's min and median. Ratios to native (run.ts)
 * hide a change on a machine whose speed drifts; this compares builds directly.
 *
 *   npx tsx bench/builds.ts <workload> <rounds> <dist> <dist> … [--collect]
 *
 * With `--collect`, each timed run follows a full collection, as a run of a
 * program (a test in a suite) may: what V8 drops then, src/layouts.ts keeps.
 *
 * A build of an earlier commit: `git worktree add /tmp/old <rev> && cd /tmp/old
 * && npm ci && npm run build`, then pass /tmp/old/dist.
 */
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type * as Asynkit from "../src/index.js";
import { assertRunsBuild } from "./dist.js";
import { asynkitWorkloads } from "./impl/asynkit-workloads.js";
import type { Impl } from "./workloads.js";

/**
 * Each gives ns per op, or bytes per task for memory: the harness's own
 * workloads at their usual sizes, and two that run coroutines of many
 * generator functions (each function's generators have a map of their own).
 */
type Measure = (impl: Impl, asynkit: typeof Asynkit, dist: string) => Promise<number>;

const WORKLOADS: Record<string, Measure> = {
  switch: (impl) => fastest(1_000_000, (n) => impl.switch(n)),
  "ping-pong": (impl) => fastest(200_000, (n) => impl["ping-pong"](n)),
  "spawn-join": (impl) => fastest(100_000, (n) => impl["spawn-join"](n, 1)),
  timers: (impl) => fastest(100_000, (n) => impl.timers(n, 1)),
  // timers at the largest size the harness runs, where the timer queue's cost shows most.
  "timers-1M": (impl) => fastest(1_000_000, (n) => impl.timers(n, 1)),
  eager: (impl) => fastest(1_000_000, (n) => impl.eager(n)),
  "event-ping-pong": (impl) => fastest(200_000, (n) => impl["event-ping-pong"](n)),
  "queue-ping-pong": (impl) => fastest(200_000, (n) => impl["queue-ping-pong"](n)),
  "lock-contention": (impl) => fastest(100_000, (n) => impl["lock-contention"](n)),
  memory: (impl) => impl.memory(100_000),
  "async-switch": (impl) => fastest(1_000_000, (n) => asyncWorkload(impl, "async-switch")(n)),
  "async-spawn-join": (impl) => fastest(100_000, (n) => asyncWorkload(impl, "async-spawn-join")(n)),
  // spawn-join where every task's coroutine comes from a generator function of its own.
  "spawn-join-fresh-functions": (_, { createTask, run }) =>
    fastest(100_000, (n) =>
      run(function* () {
        const makeChild = () =>
          function* child(): Generator<undefined, void> {
            yield;
          };
        const tasks: Asynkit.Task<void>[] = [];
        for (let i = 0; i < n; i++) tasks.push(createTask(makeChild()()));
        for (const t of tasks) yield* t;
      }),
    ),
  // async-spawn-join with children that never await: what a native task costs without being blocked.
  "async-spawn-join-no-await": (_, { createTask, run }) =>
    fastest(100_000, (n) =>
      run(async () => {
        const noAwait = async () => {};
        const tasks: Asynkit.Task<void>[] = [];
        for (let i = 0; i < n; i++) tasks.push(createTask(noAwait));
        for (const t of tasks) await t;
      }),
    ),
  // spawn-join where each task is created with options (its context).
  "spawn-join-options": (_, { copyContext, createTask, run }) =>
    fastest(100_000, (n) =>
      run(function* () {
        const context = copyContext();
        const tasks: Asynkit.Task<void>[] = [];
        for (let i = 0; i < n; i++) tasks.push(createTask(child(), { context }));
        for (const t of tasks) yield* t;
      }),
    ),
  // spawn-join through the eager task factory, each task created with options.
  "eager-factory-options": (_, { createTask, eagerTaskFactory, getRunningLoop, run }) =>
    fastest(100_000, (n) =>
      run(function* () {
        getRunningLoop().setTaskFactory(eagerTaskFactory);
        const tasks: Asynkit.Task<void>[] = [];
        for (let i = 0; i < n; i++) tasks.push(createTask(child(), { name: "child" }));
        for (const t of tasks) yield* t;
      }),
    ),
  // `yield* eager(f())` where f suspends once: the start's continuation becomes a task.
  "eager-suspending": (_, { eager, run }) =>
    fastest(100_000, (n) =>
      run(function* () {
        for (let i = 0; i < n; i++) yield* eager(child());
      }),
    ),
  // taskInterrupt() round trips: a task waiting on an event is interrupted, takes the error and waits again.
  "interrupt-round-trip": (_, asynkit) =>
    fastest(100_000, (n) => {
      const { Event, createTask, run, schedulingLoopFactory, sleep, taskInterrupt } = asynkit;
      return run(
        function* () {
          const never = new Event();
          let caught = 0;
          const waiter = createTask(
            (function* (): Asynkit.Coro<void> {
              while (caught < n) {
                try {
                  yield* never.wait();
                } catch {
                  caught++;
                }
              }
            })(),
          );
          yield* sleep(0);
          for (let i = 0; i < n; i++) yield* taskInterrupt(waiter, i);
          yield* waiter;
        },
        { loopFactory: schedulingLoopFactory },
      );
    }),
  // The loop's timer queue alone: 100k timers spread over 10 ms, pushed, then popped; ns per timer.
  "timer-queue": async (_, __, dist) => {
    const { TimerQueue } = (await import(
      pathToFileURL(resolve(dist, "util/timerqueue.js")).href
    )) as typeof import("../src/util/timerqueue.js");
    return fastest(100_000, async (n) => {
      const queue = new TimerQueue<number>();
      for (let i = 0; i < n; i++) {
        const delay = Math.random() * 10;
        queue.push(i, 1_000 + delay, i, delay);
      }
      while (queue.pop() !== undefined);
    });
  },
  // switch among 64 tasks, each running a generator function of its own.
  "switch-64-functions": (_, { createTask, run, sleep }) =>
    fastest(1_000_000, (n) =>
      run(function* () {
        const tasks = Array.from({ length: 64 }, () => {
          function* worker(count: number): Asynkit.Coro<void> {
            for (let i = 0; i < count; i++) yield* sleep(0);
          }
          return createTask(worker(n / 64));
        });
        for (const t of tasks) yield* t;
      }),
    ),
};

/** A coroutine that suspends once (a bare yield) and returns. */
function* child(): Generator<undefined, void> {
  yield;
}

/** `--collect`: a full collection before each timed run. */
const COLLECT = "--collect";
const collectFirst = process.argv.includes(COLLECT);

/** The fastest of 5 timed runs after a warm-up of n / 10, in ns per op. */
async function fastest(n: number, once: (n: number) => Promise<unknown>): Promise<number> {
  await once(n / 10);
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round++) {
    if (collectFirst) globalThis.gc?.();
    const start = process.hrtime.bigint();
    await once(n);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / n);
  }
  return best;
}

function usage(message: string): never {
  console.error(`error: ${message}`);
  console.error(
    `usage: npx tsx bench/builds.ts <${Object.keys(WORKLOADS).join("|")}> <rounds> <dist> <dist> … [${COLLECT}]`,
  );
  process.exit(2);
}

/** In a child: runs one workload against one build and prints its figure. */
async function worker(dist: string, workload: string): Promise<void> {
  const asynkit = (await import(pathToFileURL(resolve(dist, "index.js")).href)) as typeof Asynkit;
  assertRunsBuild(asynkit, resolve(dist));
  const measure = WORKLOADS[workload] as Measure;
  console.log((await measure(asynkitWorkloads(asynkit), asynkit, dist)).toFixed(1));
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[(sorted.length - 1) >> 1] as number;
}

function main(args: string[]): void {
  const [workload, roundsText, ...dists] = args.filter((arg) => arg !== COLLECT);
  if (workload === undefined || !(workload in WORKLOADS)) usage(`unknown workload "${workload}"`);
  const rounds = Number(roundsText);
  if (!Number.isInteger(rounds) || rounds < 1) usage("<rounds> takes a positive integer");
  if (dists.length === 0) usage("name at least one dist/ folder");
  const figures = new Map<string, number[]>(dists.map((d) => [d, []]));
  const self = fileURLToPath(import.meta.url);
  for (let round = 0; round < rounds; round++) {
    for (const dist of dists) {
      const child = spawnSync(
        process.execPath,
        ["--expose-gc", "--import", "tsx", self, "--worker", dist, workload].concat(
          collectFirst ? [COLLECT] : [],
        ),
        { encoding: "utf8" },
      );
      const figure = Number(child.stdout.trim());
      if (child.status !== 0 || Number.isNaN(figure)) {
        // The error's own line, not Node's version line after its stack.
        const lines = child.stderr.trim().split("\n");
        usage(
          `${dist}: ${lines.find((line) => /^\w*Error\b/.test(line)) ?? lines.at(-1) ?? `exit ${child.status}`}`,
        );
      }
      figures.get(dist)?.push(figure);
    }
  }
  const unit = workload === "memory" ? "B/task" : "ns/op";
  for (const [dist, xs] of figures) {
    console.log(
      `${workload} ${dist}: min ${Math.min(...xs).toFixed(1)} median ${median(xs).toFixed(1)} ${unit} (${xs.length} processes)`,
    );
  }
}

const args = process.argv.slice(2);
if (args[0] === "--worker") await worker(args[1] as string, args[2] as string);
else main(args);

/** One of asynkit's async-function workloads, which every build's impl has. */
function asyncWorkload(
  impl: Impl,
  name: "async-switch" | "async-spawn-join",
): (n: number) => Promise<void> {
  const fn = impl[name];
  if (!fn) throw new Error(`no ${name} workload`);
  return fn;
}
