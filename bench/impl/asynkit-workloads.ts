/**
 * The workloads written with asynkit: coroutines are generator functions
 * driven by asynkit's own loop (the default policy's host loop, as `run()`
 * picks it). Made from a loaded build, so that the harness (impl/asynkit.ts,
 * dist/) and the build comparison (builds.ts, any dist/) run the same code.
 */
import type * as Asynkit from "../../src/index.js";
import type { Coro, Task } from "../../src/index.js";
import { heapUsed, type Impl, LOCK_TASKS, timerDelayMs } from "../workloads.js";

/** The coroutine of the call and eager workloads: it returns without suspending. */
// biome-ignore lint/correctness/useYield: the workload is a coroutine that never suspends
function* answer(i: number): Coro<number> {
  return i & 1;
}

/** The workloads on `asynkit`, a build of the package loaded by the caller. */
export function asynkitWorkloads(asynkit: typeof Asynkit): Impl {
  const { createTask, Event, eager, getRunningLoop, Lock, Queue, run, sleep } = asynkit;
  return {
    async switch(n) {
      await run(function* () {
        for (let i = 0; i < n; i++) yield* sleep(0);
      });
    },

    async "ping-pong"(n) {
      await run(function* () {
        const loop = getRunningLoop();
        let ping = loop.createFuture<void>();
        let pong = loop.createFuture<void>();
        const ponger = createTask(
          (function* (): Coro<void> {
            for (let i = 0; i < n; i++) {
              yield* ping;
              ping = loop.createFuture();
              pong.setResult();
            }
          })(),
        );
        for (let i = 0; i < n; i++) {
          const reply = pong;
          ping.setResult();
          yield* reply;
          pong = loop.createFuture();
        }
        yield* ponger;
      });
    },

    async "spawn-join"(n, reps) {
      await run(function* () {
        function* child(): Coro<void> {
          yield; // a bare yield: sleep(0)
        }
        for (let r = 0; r < reps; r++) {
          const tasks: Task<void>[] = [];
          for (let i = 0; i < n; i++) tasks.push(createTask(child()));
          for (const t of tasks) yield* t;
        }
      });
    },

    async "async-switch"(n) {
      await run(async () => {
        const turn = async () => {
          for (let i = 0; i < n / 2; i++) await sleep(0);
        };
        const a = createTask(turn);
        const b = createTask(turn);
        await a;
        await b;
      });
    },

    async "async-spawn-join"(n) {
      await run(async () => {
        const child = async () => {
          await sleep(0);
        };
        const tasks: Task<void>[] = [];
        for (let i = 0; i < n; i++) tasks.push(createTask(child));
        for (const t of tasks) await t;
      });
    },

    async timers(n, reps) {
      await run(function* () {
        for (let r = 0; r < reps; r++) {
          const tasks: Task<void>[] = [];
          for (let i = 0; i < n; i++) tasks.push(createTask(sleep(timerDelayMs())));
          for (const t of tasks) yield* t;
        }
      });
    },

    async call(n) {
      await run(function* () {
        let sum = 0;
        for (let i = 0; i < n; i++) sum += yield* answer(i);
        return sum;
      });
    },

    async eager(n) {
      await run(function* () {
        let sum = 0;
        for (let i = 0; i < n; i++) sum += yield* eager(answer(i));
        return sum;
      });
    },

    async "event-ping-pong"(n) {
      await run(function* () {
        const ping = new Event();
        const pong = new Event();
        const ponger = createTask(
          (function* (): Coro<void> {
            for (let i = 0; i < n; i++) {
              yield* ping.wait();
              ping.clear();
              pong.set();
            }
          })(),
        );
        for (let i = 0; i < n; i++) {
          ping.set();
          yield* pong.wait();
          pong.clear();
        }
        yield* ponger;
      });
    },

    async "queue-ping-pong"(n) {
      await run(function* () {
        const ping = new Queue<number>(1);
        const pong = new Queue<number>(1);
        const ponger = createTask(
          (function* (): Coro<void> {
            for (let i = 0; i < n; i++) yield* pong.put(yield* ping.get());
          })(),
        );
        for (let i = 0; i < n; i++) {
          yield* ping.put(i);
          yield* pong.get();
        }
        yield* ponger;
      });
    },

    async "lock-contention"(n) {
      await run(function* () {
        const lock = new Lock();
        function* worker(times: number): Coro<void> {
          for (let i = 0; i < times; i++) {
            yield* lock.acquire();
            try {
              yield; // hold the lock across a switch, so the others queue up
            } finally {
              lock.release();
            }
          }
        }
        const tasks: Task<void>[] = [];
        for (let t = 0; t < LOCK_TASKS; t++) tasks.push(createTask(worker(n / LOCK_TASKS)));
        for (const t of tasks) yield* t;
      });
    },

    async depth(n, depth) {
      await run(function* () {
        function* level(d: number): Coro<void> {
          if (d > 1) yield* level(d - 1);
          else for (let i = 0; i < n; i++) yield* sleep(0);
        }
        yield* level(depth); // every switch resumes all `depth` generators
      });
    },

    async memory(n) {
      return await run(function* () {
        const gate = getRunningLoop().createFuture<void>();
        function* child(): Coro<void> {
          yield* gate;
        }
        const before = heapUsed();
        const tasks: Task<void>[] = [];
        for (let i = 0; i < n; i++) tasks.push(createTask(child()));
        yield* sleep(0); // let every task start and block on the gate
        const after = heapUsed();
        gate.setResult();
        for (const t of tasks) yield* t;
        return (after - before) / n;
      });
    },
  };
}
