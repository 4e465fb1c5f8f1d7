/**
 * effection 4: operations are generators run by `run()`, tasks are `spawn`ed
 * in the caller's scope, futures are `withResolvers()`. effection's `sleep(0)`
 * is a real 1 ms timer, so the switch and spawn-join "yield" is a synchronous
 * action instead: one trip through effection's scheduler, no host timer.
 */
import { action, type Operation, run, sleep, spawn, type Task, withResolvers } from "effection";
import { heapUsed, type Impl, timerDelayMs } from "../workloads.js";

/** Suspends and resumes at once: the cheapest effection context switch. */
const yieldNow: Operation<void> = action<void>((resolve) => {
  resolve();
  return () => {};
});

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

  async "spawn-join"(n) {
    await run(function* () {
      const tasks: Task<void>[] = [];
      for (let i = 0; i < n; i++) {
        tasks.push(
          yield* spawn(function* () {
            yield* yieldNow;
          }),
        );
      }
      for (const t of tasks) yield* t;
    });
  },

  async timers(n) {
    await run(function* () {
      const tasks: Task<void>[] = [];
      for (let i = 0; i < n; i++) tasks.push(yield* spawn(() => sleep(timerDelayMs())));
      for (const t of tasks) yield* t;
    });
  },

  async call(n) {
    await run(() => sumOfCalls(n));
  },

  // effection has no eager start: its plain call already runs the operation at once.
  async eager(n) {
    await run(() => sumOfCalls(n));
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
