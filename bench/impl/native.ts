/**
 * Baseline: native async/await. A "yield" is `await undefined` (one microtask
 * turn), a future is a promise with its resolver, a task is an async call.
 */
import { heapUsed, type Impl, LOCK_TASKS, timerDelayMs } from "../workloads.js";

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

/** The native Event: a flag, and the resolvers of the promises waiting for it. */
class NativeEvent {
  private flag = false;
  private waiters: (() => void)[] = [];

  set(): void {
    if (this.flag) return;
    this.flag = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  clear(): void {
    this.flag = false;
  }

  wait(): Promise<void> | undefined {
    if (this.flag) return undefined;
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

/** The native mailbox: a bounded queue of items, with the resolvers of blocked getters and putters. */
class Mailbox<T> {
  private items: T[] = [];
  private getters: ((item: T) => void)[] = [];
  private putters: (() => void)[] = [];

  constructor(private readonly capacity: number) {}

  async put(item: T): Promise<void> {
    while (this.items.length >= this.capacity) {
      await new Promise<void>((resolve) => this.putters.push(resolve));
    }
    const getter = this.getters.shift();
    if (getter !== undefined) getter(item);
    else this.items.push(item);
  }

  get(): Promise<T> | T {
    if (this.items.length > 0) {
      const item = this.items.shift() as T;
      this.putters.shift()?.();
      return item;
    }
    return new Promise<T>((resolve) => this.getters.push(resolve));
  }
}

/** The native mutex: release hands the lock straight to the first waiter. */
class NativeLock {
  private locked = false;
  private waiters: (() => void)[] = [];

  acquire(): Promise<void> | undefined {
    if (!this.locked) {
      this.locked = true;
      return undefined;
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next !== undefined) next();
    else this.locked = false;
  }
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

  async "async-switch"(n) {
    const turn = async () => {
      for (let i = 0; i < n / 2; i++) await null;
    };
    await Promise.all([turn(), turn()]);
  },

  async "async-spawn-join"(n) {
    const child = async () => {
      await null;
    };
    const all: Promise<void>[] = [];
    for (let i = 0; i < n; i++) all.push(child());
    for (const p of all) await p;
  },

  async "spawn-join"(n, reps) {
    const child = async () => {
      await undefined;
    };
    for (let r = 0; r < reps; r++) {
      const tasks: Promise<void>[] = [];
      for (let i = 0; i < n; i++) tasks.push(child());
      for (const t of tasks) await t;
    }
  },

  async timers(n, reps) {
    const child = () => new Promise<void>((resolve) => setTimeout(resolve, timerDelayMs()));
    for (let r = 0; r < reps; r++) {
      const tasks: Promise<void>[] = [];
      for (let i = 0; i < n; i++) tasks.push(child());
      for (const t of tasks) await t;
    }
  },

  async call(n) {
    await sumOfCalls(n);
  },

  // An async function always starts at once: its eager call is its plain call.
  async eager(n) {
    await sumOfCalls(n);
  },

  async "event-ping-pong"(n) {
    const ping = new NativeEvent();
    const pong = new NativeEvent();
    const ponger = (async () => {
      for (let i = 0; i < n; i++) {
        await ping.wait();
        ping.clear();
        pong.set();
      }
    })();
    for (let i = 0; i < n; i++) {
      ping.set();
      await pong.wait();
      pong.clear();
    }
    await ponger;
  },

  async "queue-ping-pong"(n) {
    const ping = new Mailbox<number>(1);
    const pong = new Mailbox<number>(1);
    const ponger = (async () => {
      for (let i = 0; i < n; i++) await pong.put(await ping.get());
    })();
    for (let i = 0; i < n; i++) {
      await ping.put(i);
      await pong.get();
    }
    await ponger;
  },

  async "lock-contention"(n) {
    const lock = new NativeLock();
    const worker = async (times: number) => {
      for (let i = 0; i < times; i++) {
        await lock.acquire();
        try {
          await undefined; // hold the lock across a switch, so the others queue up
        } finally {
          lock.release();
        }
      }
    };
    const tasks: Promise<void>[] = [];
    for (let t = 0; t < LOCK_TASKS; t++) tasks.push(worker(n / LOCK_TASKS));
    for (const t of tasks) await t;
  },

  async depth(n, depth) {
    const level = async (d: number): Promise<void> => {
      if (d > 1) await level(d - 1);
      else for (let i = 0; i < n; i++) await undefined;
    };
    await level(depth); // a switch resumes the innermost function only
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
