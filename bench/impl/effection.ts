/**
 * effection 4: operations are generators run by `run()`, tasks are `spawn`ed
 * in the caller's scope, futures are `withResolvers()`. effection's `sleep(0)`
 * is a real 1 ms timer, so the switch and spawn-join "yield" is a synchronous
 * action instead: one trip through effection's scheduler, no host timer.
 */
import {
  action,
  createQueue,
  type Operation,
  run,
  sleep,
  spawn,
  type Task,
  type WithResolvers,
  withResolvers,
} from "effection";
import { heapUsed, type Impl, LOCK_TASKS, timerDelayMs } from "../workloads.js";

/** Suspends and resumes at once: the cheapest effection context switch. */
const yieldNow: Operation<void> = action<void>((resolve) => {
  resolve();
  return () => {};
});

/** effection has no Event: a flag and the resolvers of the operations waiting for it. */
class EffectionEvent {
  private flag = false;
  private waiters: WithResolvers<void>[] = [];

  set(): void {
    if (this.flag) return;
    this.flag = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve();
  }

  clear(): void {
    this.flag = false;
  }

  *wait(): Operation<void> {
    if (this.flag) return;
    const w = withResolvers<void>();
    this.waiters.push(w);
    yield* w.operation;
  }
}

/** effection has no lock: release hands it straight to the first waiter. */
class EffectionLock {
  private locked = false;
  private waiters: WithResolvers<void>[] = [];

  *acquire(): Operation<void> {
    if (!this.locked) {
      this.locked = true;
      return;
    }
    const w = withResolvers<void>();
    this.waiters.push(w);
    yield* w.operation;
  }

  release(): void {
    const next = this.waiters.shift();
    if (next !== undefined) next.resolve();
    else this.locked = false;
  }
}

/** The operation of the call and eager workloads: it returns without suspending. */
// biome-ignore lint/correctness/useYield: the workload is an operation that never suspends
function* answer(i: number): Operation<number> {
  return i & 1;
}

function* sumOfCalls(n: number): Operation<number> {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += yield* answer(i);
  return sum;
}

const impl: Impl = {
  async switch(n) {
    await run(function* () {
      for (let i = 0; i < n; i++) yield* yieldNow;
    });
  },

  async "ping-pong"(n) {
    await run(function* () {
      let ping = withResolvers<void>();
      let pong = withResolvers<void>();
      const ponger = yield* spawn(function* () {
        for (let i = 0; i < n; i++) {
          yield* ping.operation;
          ping = withResolvers();
          pong.resolve();
        }
      });
      for (let i = 0; i < n; i++) {
        const reply = pong.operation;
        ping.resolve();
        yield* reply;
        pong = withResolvers();
      }
      yield* ponger;
    });
  },

  async "spawn-join"(n, reps) {
    await run(function* () {
      for (let r = 0; r < reps; r++) {
        const tasks: Task<void>[] = [];
        for (let i = 0; i < n; i++) {
          tasks.push(
            yield* spawn(function* () {
              yield* yieldNow;
            }),
          );
        }
        for (const t of tasks) yield* t;
      }
    });
  },

  async timers(n, reps) {
    await run(function* () {
      for (let r = 0; r < reps; r++) {
        const tasks: Task<void>[] = [];
        for (let i = 0; i < n; i++) tasks.push(yield* spawn(() => sleep(timerDelayMs())));
        for (const t of tasks) yield* t;
      }
    });
  },

  async call(n) {
    await run(() => sumOfCalls(n));
  },

  // effection has no eager start: its plain call already runs the operation at once.
  async eager(n) {
    await run(() => sumOfCalls(n));
  },

  async "event-ping-pong"(n) {
    await run(function* () {
      const ping = new EffectionEvent();
      const pong = new EffectionEvent();
      const ponger = yield* spawn(function* () {
        for (let i = 0; i < n; i++) {
          yield* ping.wait();
          ping.clear();
          pong.set();
        }
      });
      for (let i = 0; i < n; i++) {
        ping.set();
        yield* pong.wait();
        pong.clear();
      }
      yield* ponger;
    });
  },

  // effection's queue is unbounded; in a ping-pong it never holds more than one item.
  async "queue-ping-pong"(n) {
    await run(function* () {
      const ping = createQueue<number, void>();
      const pong = createQueue<number, void>();
      const ponger = yield* spawn(function* () {
        for (let i = 0; i < n; i++) {
          const next = yield* ping.next();
          if (!next.done) pong.add(next.value);
        }
      });
      for (let i = 0; i < n; i++) {
        ping.add(i);
        yield* pong.next();
      }
      yield* ponger;
    });
  },

  async "lock-contention"(n) {
    await run(function* () {
      const lock = new EffectionLock();
      const tasks: Task<void>[] = [];
      for (let t = 0; t < LOCK_TASKS; t++) {
        tasks.push(
          yield* spawn(function* () {
            for (let i = 0; i < n / LOCK_TASKS; i++) {
              yield* lock.acquire();
              try {
                yield* yieldNow; // hold the lock across a switch, so the others queue up
              } finally {
                lock.release();
              }
            }
          }),
        );
      }
      for (const t of tasks) yield* t;
    });
  },

  async memory(n) {
    return await run(function* () {
      const gate = withResolvers<void>();
      const before = heapUsed();
      const tasks: Task<void>[] = [];
      for (let i = 0; i < n; i++) tasks.push(yield* spawn(() => gate.operation));
      yield* sleep(1); // let every child start and block on the gate
      const after = heapUsed();
      gate.resolve();
      for (const t of tasks) yield* t;
      return (after - before) / n;
    });
  },
};

export default impl;
