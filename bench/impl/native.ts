/**
 * Baseline: native async/await. A "yield" is `await undefined` (one microtask
 * turn), a future is a promise with its resolver, a task is an async call.
 */
import { heapUsed, type Impl, timerDelayMs } from "../workloads.js";

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** The function of the call and eager workloads: it returns without awaiting. */
async function answer(i: number): Promise<number> {
  return i & 1;
}

async function sumOfCalls(n: number): Promise<number> {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += await answer(i);
  return sum;
}

const impl: Impl = {
  async switch(n) {
    for (let i = 0; i < n; i++) await undefined;
  },

  async "ping-pong"(n) {
    let ping = deferred<void>();
    let pong = deferred<void>();
    const ponger = (async () => {
      for (let i = 0; i < n; i++) {
        await ping.promise;
        ping = deferred();
        pong.resolve();
      }
    })();
    for (let i = 0; i < n; i++) {
      const reply = pong.promise;
      ping.resolve();
      await reply;
      pong = deferred();
    }
    await ponger;
  },

  async "spawn-join"(n) {
    const child = async () => {
      await undefined;
    };
    const tasks: Promise<void>[] = [];
    for (let i = 0; i < n; i++) tasks.push(child());
    for (const t of tasks) await t;
  },

  async timers(n) {
    const child = () => new Promise<void>((resolve) => setTimeout(resolve, timerDelayMs()));
    const tasks: Promise<void>[] = [];
    for (let i = 0; i < n; i++) tasks.push(child());
    for (const t of tasks) await t;
  },

  async call(n) {
    await sumOfCalls(n);
  },

  // An async function always starts at once: its eager call is its plain call.
  async eager(n) {
    await sumOfCalls(n);
  },

  async memory(n) {
    const gate = deferred<void>();
    const child = async () => {
      await gate.promise;
    };
    const before = heapUsed();
    const tasks: Promise<void>[] = [];
    for (let i = 0; i < n; i++) tasks.push(child()); // each is blocked on return
    const after = heapUsed();
    gate.resolve();
    for (const t of tasks) await t;
    return (after - before) / n;
  },
};

export default impl;
