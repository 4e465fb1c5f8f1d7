/**
 * asynkit: coroutines are generator functions driven by asynkit's own loop
 * (the default policy's host loop, as `run()` picks it).
 */
import {
  type Coro,
  createTask,
  eager,
  getRunningLoop,
  run,
  sleep,
  type Task,
} from "../../src/index.js";
import { heapUsed, type Impl, timerDelayMs } from "../workloads.js";

/** The coroutine of the call and eager workloads: it returns without suspending. */
// biome-ignore lint/correctness/useYield: the workload is a coroutine that never suspends
function* answer(i: number): Coro<number> {
  return i & 1;
}

const impl: Impl = {
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

  async "spawn-join"(n) {
    await run(function* () {
      function* child(): Coro<void> {
        yield; // a bare yield: sleep(0)
      }
      const tasks: Task<void>[] = [];
      for (let i = 0; i < n; i++) tasks.push(createTask(child()));
      for (const t of tasks) yield* t;
    });
  },

  async timers(n) {
    await run(function* () {
      const tasks: Task<void>[] = [];
      for (let i = 0; i < n; i++) tasks.push(createTask(sleep(timerDelayMs())));
      for (const t of tasks) yield* t;
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

export default impl;
