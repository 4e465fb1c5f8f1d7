/**
 * effect 4: programs are `Effect.gen` generators run by `Effect.runPromise`,
 * tasks are fibers (`Effect.forkChild` / `Fiber.join`), futures are `Deferred`s,
 * and a bare yield is `Effect.yieldNow`.
 */
import { Deferred, Effect, Fiber, Latch, Queue, Semaphore } from "effect";
import { heapUsed, type Impl, LOCK_TASKS, timerDelayMs } from "../workloads.js";

/** The effect of the call and eager workloads: it succeeds without suspending. */
const answer = (i: number) => Effect.succeed(i & 1);

const sumOfCalls = (n: number) =>
  Effect.gen(function* () {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += yield* answer(i);
    return sum;
  });

const impl: Impl = {
  async switch(n) {
    await Effect.runPromise(
      Effect.gen(function* () {
        for (let i = 0; i < n; i++) yield* Effect.yieldNow;
      }),
    );
  },

  async "ping-pong"(n) {
    await Effect.runPromise(
      Effect.gen(function* () {
        let ping = Deferred.makeUnsafe<void>();
        let pong = Deferred.makeUnsafe<void>();
        const ponger = yield* Effect.forkChild(
          Effect.gen(function* () {
            for (let i = 0; i < n; i++) {
              yield* Deferred.await(ping);
              ping = Deferred.makeUnsafe();
              yield* Deferred.succeed(pong, undefined);
            }
          }),
        );
        for (let i = 0; i < n; i++) {
          const reply = pong;
          yield* Deferred.succeed(ping, undefined);
          yield* Deferred.await(reply);
          pong = Deferred.makeUnsafe();
        }
        yield* Fiber.join(ponger);
      }),
    );
  },

  async "spawn-join"(n, reps) {
    await Effect.runPromise(
      Effect.gen(function* () {
        for (let r = 0; r < reps; r++) {
          const fibers: Fiber.Fiber<void>[] = [];
          for (let i = 0; i < n; i++) fibers.push(yield* Effect.forkChild(Effect.yieldNow));
          for (const f of fibers) yield* Fiber.join(f);
        }
      }),
    );
  },

  async timers(n, reps) {
    await Effect.runPromise(
      Effect.gen(function* () {
        for (let r = 0; r < reps; r++) {
          const fibers: Fiber.Fiber<void>[] = [];
          for (let i = 0; i < n; i++) {
            fibers.push(yield* Effect.forkChild(Effect.sleep(timerDelayMs())));
          }
          for (const f of fibers) yield* Fiber.join(f);
        }
      }),
    );
  },

  async call(n) {
    await Effect.runPromise(sumOfCalls(n));
  },

  // effect has no eager start: its plain call already runs the effect at once.
  async eager(n) {
    await Effect.runPromise(sumOfCalls(n));
  },

  // effect's Event is a Latch: open (set), await (wait), close (clear).
  async "event-ping-pong"(n) {
    await Effect.runPromise(
      Effect.gen(function* () {
        const ping = Latch.makeUnsafe(false);
        const pong = Latch.makeUnsafe(false);
        const ponger = yield* Effect.forkChild(
          Effect.gen(function* () {
            for (let i = 0; i < n; i++) {
              yield* ping.await;
              yield* ping.close;
              yield* pong.open;
            }
          }),
        );
        for (let i = 0; i < n; i++) {
          yield* ping.open;
          yield* pong.await;
          yield* pong.close;
        }
        yield* Fiber.join(ponger);
      }),
    );
  },

  async "queue-ping-pong"(n) {
    await Effect.runPromise(
      Effect.gen(function* () {
        const ping = yield* Queue.bounded<number>(1);
        const pong = yield* Queue.bounded<number>(1);
        const ponger = yield* Effect.forkChild(
          Effect.gen(function* () {
            for (let i = 0; i < n; i++) yield* Queue.offer(pong, yield* Queue.take(ping));
          }),
        );
        for (let i = 0; i < n; i++) {
          yield* Queue.offer(ping, i);
          yield* Queue.take(pong);
        }
        yield* Fiber.join(ponger);
      }),
    );
  },

  // effect's lock is a Semaphore with one permit.
  async "lock-contention"(n) {
    await Effect.runPromise(
      Effect.gen(function* () {
        const lock = Semaphore.makeUnsafe(1);
        // hold the lock across a switch, so the others queue up
        const critical = lock.withPermit(Effect.yieldNow);
        const worker = Effect.gen(function* () {
          for (let i = 0; i < n / LOCK_TASKS; i++) yield* critical;
        });
        const fibers: Fiber.Fiber<void>[] = [];
        for (let t = 0; t < LOCK_TASKS; t++) fibers.push(yield* Effect.forkChild(worker));
        for (const f of fibers) yield* Fiber.join(f);
      }),
    );
  },

  async memory(n) {
    return await Effect.runPromise(
      Effect.gen(function* () {
        const gate = Deferred.makeUnsafe<void>();
        const before = heapUsed();
        const fibers: Fiber.Fiber<void>[] = [];
        for (let i = 0; i < n; i++) fibers.push(yield* Effect.forkChild(Deferred.await(gate)));
        yield* Effect.sleep(1); // let every fiber start and block on the gate
        const after = heapUsed();
        yield* Deferred.succeed(gate, undefined);
        for (const f of fibers) yield* Fiber.join(f);
        return (after - before) / n;
      }),
    );
  },
};

export default impl;
