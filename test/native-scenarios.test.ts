/**
 * Each scenario written twice, with generator tasks (function*, yield*) and
 * with native tasks (async functions, await): both forms must give the same
 * event log, the one written here.
 */
import { describe, expect, it } from "vitest";
import {
  type Coro,
  createTask,
  currentTask,
  ensureFuture,
  getRunningLoop,
  Lock,
  Queue,
  SchedulingVirtualEventLoop,
  sleep,
  type Task,
  taskGroup,
  taskReinsert,
  taskSwitch,
  timeout,
  VirtualEventLoop,
} from "../src/index.js";

type Log = string[];
/** A scenario's two forms, each given the log to write to, and the log both must write. */
type Scenario = {
  generator: (log: Log) => () => Coro<unknown>;
  native: (log: Log) => () => Promise<unknown>;
  expected: Log;
  scheduling?: boolean;
};

const at = (): number => getRunningLoop().time();

/** What a task ended with: its result, or the error it failed with. */
function* outcomeOf(task: Task<unknown>): Coro<unknown> {
  try {
    return yield* task;
  } catch (error) {
    return error;
  }
}

async function logOf(form: "generator" | "native", scenario: Scenario): Promise<Log> {
  const loop = scenario.scheduling ? new SchedulingVirtualEventLoop() : new VirtualEventLoop();
  const log: Log = [];
  try {
    if (form === "generator") await loop.runUntilComplete(scenario.generator(log)());
    else await loop.runUntilComplete(scenario.native(log));
  } finally {
    loop.close();
  }
  return log;
}

const scenarios: Record<string, Scenario> = {
  "ping-pong through two queues": {
    generator: (log) =>
      function* () {
        const ping = new Queue<number>();
        const pong = new Queue<number>();
        const player = createTask(
          (function* () {
            for (;;) {
              const n = yield* ping.get();
              log.push(`pong ${n}`);
              if (n === 3) return;
              yield* pong.put(n + 1);
            }
          })(),
        );
        for (let n = 1; n <= 3; n += 2) {
          log.push(`ping ${n}`);
          yield* ping.put(n);
          if (n < 3) log.push(`got ${yield* pong.get()}`);
        }
        yield* player;
      },
    native: (log) => async () => {
      const ping = new Queue<number>();
      const pong = new Queue<number>();
      const player = createTask(async () => {
        for (;;) {
          const n = await ping.get();
          log.push(`pong ${n}`);
          if (n === 3) return;
          await pong.put(n + 1);
        }
      });
      for (let n = 1; n <= 3; n += 2) {
        log.push(`ping ${n}`);
        await ping.put(n);
        if (n < 3) log.push(`got ${await pong.get()}`);
      }
      await player;
    },
    expected: ["ping 1", "pong 1", "got 2", "ping 3", "pong 3"],
  },

  "producer and consumer through a bounded Queue": {
    generator: (log) =>
      function* () {
        const queue = new Queue<number>(2);
        const consumer = createTask(
          (function* () {
            for (let i = 0; i < 4; i++) {
              const item = yield* queue.get();
              log.push(`got ${item} at ${at()}`);
              yield* sleep(10);
            }
          })(),
        );
        for (let i = 0; i < 4; i++) {
          yield* queue.put(i);
          log.push(`put ${i} at ${at()}`);
        }
        yield* consumer;
      },
    native: (log) => async () => {
      const queue = new Queue<number>(2);
      const consumer = createTask(async () => {
        for (let i = 0; i < 4; i++) {
          const item = await queue.get();
          log.push(`got ${item} at ${at()}`);
          await sleep(10);
        }
      });
      for (let i = 0; i < 4; i++) {
        await queue.put(i);
        log.push(`put ${i} at ${at()}`);
      }
      await consumer;
    },
    expected: [
      "put 0 at 0",
      "put 1 at 0",
      "got 0 at 0",
      "put 2 at 0",
      "got 1 at 10",
      "put 3 at 10",
      "got 2 at 20",
      "got 3 at 30",
    ],
  },

  "lock contention": {
    generator: (log) =>
      function* () {
        const lock = new Lock();
        const worker = (name: string) =>
          (function* () {
            log.push(`${name} waits at ${at()}`);
            using _ = yield* lock.hold();
            log.push(`${name} holds at ${at()}`);
            yield* sleep(10);
          })();
        const tasks = ["a", "b", "c"].map((name) => createTask(worker(name)));
        for (const task of tasks) yield* task;
      },
    native: (log) => async () => {
      const lock = new Lock();
      const worker = async (name: string) => {
        log.push(`${name} waits at ${at()}`);
        using _ = await lock.hold();
        log.push(`${name} holds at ${at()}`);
        await sleep(10);
      };
      const tasks = ["a", "b", "c"].map((name) => createTask(() => worker(name)));
      for (const task of tasks) await task;
    },
    expected: [
      "a waits at 0",
      "a holds at 0",
      "b waits at 0",
      "c waits at 0",
      "b holds at 10",
      "c holds at 20",
    ],
  },

  "timeouts and retries with backoff on virtual time": {
    generator: (log) =>
      function* () {
        let calls = 0;
        function* flaky() {
          calls++;
          yield* sleep(5);
          if (calls < 3) throw new Error(`failure ${calls}`);
          return "ok";
        }
        for (let attempt = 0; ; attempt++) {
          try {
            log.push(`${yield* flaky()} at ${at()}`);
            break;
          } catch (error) {
            log.push(`${(error as Error).message} at ${at()}`);
            yield* sleep(100 * 2 ** attempt);
          }
        }
        try {
          yield* timeout(50, function* () {
            yield* sleep(1000);
          });
        } catch (error) {
          log.push(`${(error as Error).name} at ${at()}`);
        }
      },
    native: (log) => async () => {
      let calls = 0;
      async function flaky() {
        calls++;
        await sleep(5);
        if (calls < 3) throw new Error(`failure ${calls}`);
        return "ok";
      }
      for (let attempt = 0; ; attempt++) {
        try {
          log.push(`${await flaky()} at ${at()}`);
          break;
        } catch (error) {
          log.push(`${(error as Error).message} at ${at()}`);
          await sleep(100 * 2 ** attempt);
        }
      }
      try {
        await timeout(50, async () => {
          await sleep(1000);
        });
      } catch (error) {
        log.push(`${(error as Error).name} at ${at()}`);
      }
    },
    expected: ["failure 1 at 5", "failure 2 at 110", "ok at 315", "TimeoutError at 365"],
  },

  "cancellation mid-wait": {
    generator: (log) =>
      function* () {
        const sleeper = createTask(
          (function* () {
            try {
              yield* sleep(1000);
            } finally {
              log.push(`sleeper unwinds at ${at()}`);
            }
          })(),
        );
        yield* sleep(10);
        sleeper.cancel("stop");
        try {
          yield* sleeper;
        } catch (error) {
          log.push(`${(error as Error).name} "${(error as Error).message}" at ${at()}`);
        }
      },
    native: (log) => async () => {
      const sleeper = createTask(async () => {
        try {
          await sleep(1000);
        } finally {
          log.push(`sleeper unwinds at ${at()}`);
        }
      });
      await sleep(10);
      sleeper.cancel("stop");
      try {
        await sleeper;
      } catch (error) {
        log.push(`${(error as Error).name} "${(error as Error).message}" at ${at()}`);
      }
    },
    expected: ["sleeper unwinds at 10", 'CancelledError "stop" at 10'],
  },

  "a TaskGroup whose child fails cancels the others": {
    generator: (log) =>
      function* () {
        try {
          // biome-ignore lint/correctness/useYield: the body only starts the group's tasks
          yield* taskGroup(function* (tg) {
            tg.createTask(
              (function* () {
                yield* sleep(10);
                log.push(`fails at ${at()}`);
                throw new Error("boom");
              })(),
            );
            tg.createTask(
              (function* () {
                try {
                  yield* sleep(1000);
                } finally {
                  log.push(`sibling cancelled at ${at()}`);
                }
              })(),
            );
          });
        } catch (error) {
          log.push(`${(error as AggregateError).errors.map((e: Error) => e.message)} at ${at()}`);
        }
      },
    native: (log) => async () => {
      try {
        await taskGroup(async (tg) => {
          tg.createTask(async () => {
            await sleep(10);
            log.push(`fails at ${at()}`);
            throw new Error("boom");
          });
          tg.createTask(async () => {
            try {
              await sleep(1000);
            } finally {
              log.push(`sibling cancelled at ${at()}`);
            }
          });
        });
      } catch (error) {
        log.push(`${(error as AggregateError).errors.map((e: Error) => e.message)} at ${at()}`);
      }
    },
    expected: ["fails at 10", "sibling cancelled at 10", "boom at 10"],
  },

  "a cancel() while the task runs waits for its next suspension, and cancels what it awaits": {
    generator: (log) =>
      function* () {
        const lock = new Lock();
        const victim = createTask(
          (function* () {
            currentTask()?.cancel();
            try {
              using _held = yield* lock.hold(); // uncontended: no suspension
              log.push("victim holds the lock");
              yield* sleep(0);
            } catch (error) {
              log.push(`victim ${(error as Error).name}`);
              throw error;
            }
          })(),
        );
        const other = createTask(sleep(1000));
        const waiter = createTask(
          (function* () {
            currentTask()?.cancel();
            yield* other;
          })(),
        );
        for (const task of [victim, waiter]) yield* outcomeOf(task);
        log.push(`other cancelled: ${other.cancelled()}, lock free: ${!lock.locked()}`);
      },
    native: (log) => async () => {
      const lock = new Lock();
      const victim = createTask(async () => {
        currentTask()?.cancel();
        try {
          using _held = await lock.hold();
          log.push("victim holds the lock");
          await sleep(0);
        } catch (error) {
          log.push(`victim ${(error as Error).name}`);
          throw error;
        }
      });
      const other = createTask(sleep(1000));
      const waiter = createTask(async () => {
        currentTask()?.cancel();
        await other;
      });
      for (const task of [victim, waiter]) await ensureFuture(outcomeOf(task));
      log.push(`other cancelled: ${other.cancelled()}, lock free: ${!lock.locked()}`);
    },
    expected: [
      "victim holds the lock",
      "victim CancelledError",
      "other cancelled: true, lock free: true",
    ],
  },
  "a TaskGroup child that fails while its cancelled parent waits: its error wins": {
    generator: (log) =>
      function* () {
        const parent = createTask(
          (function* () {
            // biome-ignore lint/correctness/useYield: a body that only starts a child
            yield* taskGroup(function* (group) {
              group.createTask(
                (function* () {
                  try {
                    yield* sleep(1000);
                  } finally {
                    // biome-ignore lint/correctness/noUnsafeFinally: the cleanup that fails is the point
                    throw new Error("cleanup failed");
                  }
                })(),
              );
            });
          })(),
        );
        yield* sleep(10);
        parent.cancel();
        const error = (yield* outcomeOf(parent)) as AggregateError;
        log.push(
          `${error.name} [${error.errors.map((e) => (e as Error).message)}], cancelled: ${parent.cancelled()}`,
        );
      },
    native: (log) => async () => {
      const parent = createTask(async () => {
        await taskGroup(async (group) => {
          group.createTask(async () => {
            try {
              await sleep(1000);
            } finally {
              // biome-ignore lint/correctness/noUnsafeFinally: the cleanup that fails is the point
              throw new Error("cleanup failed");
            }
          });
        });
      });
      await sleep(10);
      parent.cancel();
      const error = (await ensureFuture(outcomeOf(parent))) as AggregateError;
      log.push(
        `${error.name} [${error.errors.map((e) => (e as Error).message)}], cancelled: ${parent.cancelled()}`,
      );
    },
    expected: ["AggregateError [cleanup failed], cancelled: false"],
  },
  "taskSwitch and taskReinsert reorder the ready queue": {
    scheduling: true,
    generator: (log) =>
      function* () {
        const note = (name: string) =>
          (function* () {
            log.push(`${name} 1`);
            yield* sleep(0);
            log.push(`${name} 2`);
          })();
        const a = createTask(note("a"));
        const b = createTask(note("b"));
        const c = createTask(note("c"));
        taskReinsert(c as Task, 0);
        yield* taskSwitch(b as Task, { insertPos: 1 });
        log.push("main");
        yield* a;
        yield* c;
      },
    native: (log) => async () => {
      const note = (name: string) => async () => {
        log.push(`${name} 1`);
        await sleep(0);
        log.push(`${name} 2`);
      };
      const a = createTask(note("a"));
      const b = createTask(note("b"));
      const c = createTask(note("c"));
      taskReinsert(c as Task, 0);
      await taskSwitch(b as Task, { insertPos: 1 });
      log.push("main");
      await a;
      await c;
    },
    expected: ["b 1", "main", "c 1", "a 1", "b 2", "c 2", "a 2"],
  },

  "eager fan-out": {
    generator: (log) =>
      function* () {
        const child = (name: string) =>
          (function* () {
            log.push(`${name} starts`);
            yield* sleep(0);
            log.push(`${name} ends`);
          })();
        const tasks = ["a", "b", "c"].map((name) => {
          const task = createTask(child(name), { eagerStart: true });
          log.push(`main after ${name}`);
          return task;
        });
        for (const task of tasks) yield* task;
        log.push("main done");
      },
    native: (log) => async () => {
      const child = (name: string) => async () => {
        log.push(`${name} starts`);
        await sleep(0);
        log.push(`${name} ends`);
      };
      const tasks = ["a", "b", "c"].map((name) => {
        const task = createTask(child(name), { eagerStart: true });
        log.push(`main after ${name}`);
        return task;
      });
      for (const task of tasks) await task;
      log.push("main done");
    },
    expected: [
      "a starts",
      "main after a",
      "b starts",
      "main after b",
      "c starts",
      "main after c",
      "a ends",
      "b ends",
      "c ends",
      "main done",
    ],
  },
};

describe("the same scenario as generator tasks and as native tasks", () => {
  for (const [name, scenario] of Object.entries(scenarios)) {
    it(name, async () => {
      const generator = await logOf("generator", scenario);
      const native = await logOf("native", scenario);
      expect(generator).toEqual(scenario.expected);
      expect(native).toEqual(generator);
    });
  }
});
