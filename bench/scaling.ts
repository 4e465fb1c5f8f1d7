/**
 * What one operation costs as the tasks around it grow from 1k to 10k to
 * 100k: operations that once searched every task, waiter or entry, each
 * timed alone. A flat row is the goal; `!!` marks one whose cost at the
 * largest size is more than 3x its cost at the smallest.
 *
 *   npm run build && npx tsx bench/scaling.ts [--only <words of a name>]
 *
 * One process; each size runs three times, and the best run counts (the
 * first runs of a process warm it up).
 */
import { parseArgs } from "node:util";
import type * as Asynkit from "../src/index.js";
import { assertBuilt, loadAsynkit } from "./dist.js";

const SIZES = [1_000, 10_000, 100_000] as const;
const RUNS = 3;

/** Times `ops` operations of a scenario with n tasks around them: ns per operation. */
type Scenario = (asynkit: typeof Asynkit, n: number) => Promise<number>;

/** Nanoseconds per op since `t0` (from performance.now()). */
function perOp(t0: number, ops: number): number {
  return ((performance.now() - t0) * 1e6) / ops;
}

const SCENARIOS: Record<string, Scenario> = {
  "cancel() of a chain of n tasks, each awaiting the next (per task)": async (a, n) => {
    let cost = 0;
    new a.VirtualEventLoop().runSync(function* () {
      const never = a.getRunningLoop().createFuture();
      let next = a.createTask(
        (function* () {
          yield* never;
        })(),
      );
      for (let i = 1; i < n; i++) {
        const inner = next;
        next = a.createTask(
          (function* () {
            yield* inner;
          })(),
        );
      }
      yield* a.sleep(0);
      const t0 = performance.now();
      next.cancel();
      cost = perOp(t0, n);
      yield* a.sleep(0);
    });
    return cost;
  },

  "n workers cancelled while waiting for a Lock clean up under it (per worker)": async (a, n) => {
    let cost = 0;
    const lock = new a.Lock();
    function* worker(): Asynkit.Coro<void> {
      try {
        yield* lock.acquire();
        try {
          yield* a.sleep(1000);
        } finally {
          lock.release();
        }
      } finally {
        yield* lock.acquire(); // the cleanup
        lock.release();
      }
    }
    new a.VirtualEventLoop().runSync(function* () {
      const workers = Array.from({ length: n }, () => a.createTask(worker()));
      yield* a.sleep(1);
      const t0 = performance.now();
      for (const task of workers) task.cancel();
      yield* a.gather(workers, { returnExceptions: true });
      cost = perOp(t0, n);
    });
    return cost;
  },

  "n native tasks started eagerly, their first await done at once (per task)": async (a, n) => {
    const loop = new a.VirtualEventLoop();
    const cost = await loop.runUntilComplete(async () => {
      const done = a.getRunningLoop().createFuture<number>();
      done.setResult(1);
      const t0 = performance.now();
      const tasks = [];
      for (let i = 0; i < n; i++) {
        tasks.push(
          a.createTask(
            async () => {
              await done;
              await a.sleep(1);
            },
            { eagerStart: true },
          ),
        );
      }
      await a.gather(tasks);
      return perOp(t0, n);
    });
    loop.close();
    return cost;
  },

  "n tasks given one AbortSignal (per task)": async (a, n) => {
    let cost = 0;
    const shutdown = new AbortController();
    new a.VirtualEventLoop().runSync(function* () {
      const t0 = performance.now();
      const tasks = [];
      for (let i = 0; i < n; i++) tasks.push(a.createTask(a.sleep(1), { signal: shutdown.signal }));
      yield* a.gather(tasks);
      cost = perOp(t0, n);
    });
    return cost;
  },

  "n tasks wait for a PriorityLock, then are served (per waiter)": async (a, n) => {
    let cost = 0;
    const lock = new a.PriorityLock();
    function* waiter(): Asynkit.Coro<void> {
      yield* lock.acquire();
      lock.release();
    }
    new a.PriorityVirtualEventLoop().runSync(function* () {
      yield* lock.acquire();
      const t0 = performance.now();
      const tasks = [];
      for (let i = 0; i < n; i++) tasks.push(a.createTask(waiter(), { priority: i % 3 }));
      yield* a.sleep(1); // all wait
      lock.release();
      yield* a.gather(tasks);
      cost = perOp(t0, n);
    });
    return cost;
  },

  "n tasks wait on a PriorityCondition, each woken by a notify(1) (per waiter)": async (a, n) => {
    let cost = 0;
    const condition = new a.PriorityCondition();
    function* waiter(): Asynkit.Coro<void> {
      yield* condition.acquire();
      try {
        yield* condition.wait();
      } finally {
        condition.release();
      }
    }
    new a.PriorityVirtualEventLoop().runSync(function* () {
      const tasks = [];
      for (let i = 0; i < n; i++) tasks.push(a.createTask(waiter(), { priority: i % 3 }));
      yield* a.sleep(1); // all wait (a sleep(0) would come back before the worse priorities ran)
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        yield* condition.acquire();
        condition.notify(1);
        condition.release();
      }
      yield* a.gather(tasks);
      cost = perOp(t0, n);
    });
    return cost;
  },

  "formatTaskTree() of n tasks in one chain, each awaiting the next (per task)": async (a, n) => {
    let cost = 0;
    const loop = new a.VirtualEventLoop();
    loop.runSync(function* () {
      const never = new a.Event();
      let inner: Asynkit.Task<unknown> = a.createTask(never.wait());
      for (let i = 1; i < n; i++) {
        const awaited = inner;
        inner = a.createTask(
          (function* () {
            yield* awaited;
          })(),
        );
      }
      yield* a.sleep(0);
      const t0 = performance.now();
      a.formatTaskTree(loop);
      cost = perOp(t0, n);
      never.set();
    });
    return cost;
  },

  ...onPriorityLoop("sleepInsert(1)", (a) => a.sleepInsert(1)),
  ...onPriorityLoop("setPriority() of a ready task near an end of its line", (_, ready, i) => {
    ready[ready.length - 1 - i]?.setPriority(-1);
  }),
  ...onPriorityLoop("readyRotate(1), the first placing them all,", (a) => {
    (a.getRunningLoop() as Asynkit.PriorityVirtualEventLoop).readyRotate(1);
  }),
};

/** Calls of an operation a scenario times on a priority loop. */
const PRIORITY_LOOP_OPS = 1000;

/**
 * A scenario: calls of `op` (awaited, if it returns something to await) by a
 * task on a priority loop with n other tasks ready, of three priorities (per call).
 */
function onPriorityLoop(
  what: string,
  op: (a: typeof Asynkit, ready: Asynkit.Task[], i: number) => Asynkit.Op<void> | undefined | void,
): Record<string, Scenario> {
  const scenario: Scenario = async (a, n) => {
    let cost = 0;
    new a.PriorityVirtualEventLoop().runSync(function* () {
      const ready: Asynkit.Task[] = [];
      for (let i = 0; i < n; i++) ready.push(a.createTask(a.sleep(0), { priority: i % 3 }));
      const t0 = performance.now();
      for (let i = 0; i < PRIORITY_LOOP_OPS; i++) {
        const call = op(a, ready, i);
        if (call !== undefined) yield* call;
      }
      cost = perOp(t0, PRIORITY_LOOP_OPS);
      yield* a.gather(ready);
    });
    return cost;
  };
  return { [`priority loop, n ready: ${what} (per call)`]: scenario };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: "string" } } });
  assertBuilt();
  const asynkit = await loadAsynkit();
  const sizes = SIZES.map((n) => `${n / 1000}k`.padStart(9)).join("");
  console.log(`${"ns per operation, with n =".padEnd(90)}${sizes}  largest/smallest`);
  for (const [name, scenario] of Object.entries(SCENARIOS)) {
    if (values.only !== undefined && !name.includes(values.only)) continue;
    const costs: number[] = [];
    for (const n of SIZES) {
      let best = Number.POSITIVE_INFINITY;
      try {
        for (let run = 0; run < RUNS; run++) best = Math.min(best, await scenario(asynkit, n));
      } catch (error) {
        console.log(`   ${name}, n = ${n}: ${String(error).split("\n")[0]}`);
        best = Number.NaN;
      }
      costs.push(best);
    }
    const growth = (costs.at(-1) as number) / (costs[0] as number); // NaN if a size failed
    const row = costs
      .map((cost) => (Number.isNaN(cost) ? "failed" : cost.toFixed(0)).padStart(9))
      .join("");
    console.log(
      `${growth > 3 ? "!!" : "  "} ${name.padEnd(87)}${row}  ${Number.isNaN(growth) ? "-" : `${growth.toFixed(1)}x`}`,
    );
  }
}

await main();
