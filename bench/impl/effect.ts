/**
 * effect 4: programs are `Effect.gen` generators run by `Effect.runPromise`,
 * tasks are fibers (`Effect.forkChild` / `Fiber.join`), futures are `Deferred`s,
 * and a bare yield is `Effect.yieldNow`.
 */
import { Deferred, Effect, Fiber } from "effect";
import { heapUsed, type Impl, timerDelayMs } from "../workloads.js";

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

  async "spawn-join"(n) {
    await Effect.runPromise(
      Effect.gen(function* () {
        const fibers: Fiber.Fiber<void>[] = [];
        for (let i = 0; i < n; i++) fibers.push(yield* Effect.forkChild(Effect.yieldNow));
        for (const f of fibers) yield* Fiber.join(f);
      }),
    );
  },

  async timers(n) {
    await Effect.runPromise(
      Effect.gen(function* () {
        const fibers: Fiber.Fiber<void>[] = [];
        for (let i = 0; i < n; i++) {
          fibers.push(yield* Effect.forkChild(Effect.sleep(timerDelayMs())));
        }
        for (const f of fibers) yield* Fiber.join(f);
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
