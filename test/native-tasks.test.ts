/**
 * Native async functions as tasks: createTask(async () => ...), with the
 * step boundaries, context, cancellation and reports of generator tasks.
 */
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { EventEmitter, once } from "node:events";
import { setTimeout as delay } from "node:timers/promises";
import { describe, expect, it, vi } from "vitest";
import {
  allTasks,
  asCompleted,
  type BaseEventLoop,
  blockedTasks,
  type ChannelMessage,
  Condition,
  ContextVar,
  type Coro,
  createTask,
  createTaskDescend,
  currentTask,
  Event,
  type ExceptionContext,
  eager,
  eagerTaskFactory,
  ensureFuture,
  type Future,
  forAwait,
  fromPromise,
  GeneratorObject,
  gather,
  getEventLoop,
  getRunningLoop,
  HostAwaitError,
  HostEventLoop,
  Lock,
  Queue,
  QueueShutDown,
  run,
  runnableTasks,
  SchedulingVirtualEventLoop,
  Semaphore,
  schedulingLoopFactory,
  shield,
  sleep,
  Task,
  type Timeout,
  TimeoutError,
  taskGroup,
  taskIsBlocked,
  taskIsRunnable,
  taskSignal,
  taskSwitch,
  timeout,
  VirtualEventLoop,
  wait,
  waitFor,
} from "../src/index.js";
import { catching, refused, thrown } from "./helpers.js";

/** The issue's example: two native workers on a virtual clock. */
async function interleaving(): Promise<{ log: string[]; result: string[]; time: number }> {
  const loop = new VirtualEventLoop();
  const log: string[] = [];
  async function worker(name: string) {
    log.push(`${name}1`);
    await sleep(0);
    log.push(`${name}2`);
    await sleep(60_000);
    return name;
  }
  const result = await loop.runUntilComplete(async () => {
    const a = createTask(() => worker("a"));
    const b = createTask(() => worker("b"));
    return [await a, await b];
  });
  const time = loop.time();
  loop.close();
  return { log, result, time };
}

/** What awaiting `task` gives, or the error it throws (an await: `.then()` would not be one). */
async function outcome(task: PromiseLike<unknown>): Promise<unknown> {
  try {
    return await task;
  } catch (error) {
    return error;
  }
}

/**
 * Runs a task whose function awaits `race()` and then sleeps 50 ms, an await
 * the race's loser must leave alone; logs the winner, the wake-up and the
 * task's outcome, with the loop's times.
 */
async function raceThenSleep(
  loop: BaseEventLoop,
  log: string[],
  race: () => PromiseLike<unknown>,
): Promise<void> {
  const worker = createTask(async () => {
    const won = await race();
    log.push(`race: ${won} at ${loop.time()}`);
    await sleep(50);
    log.push(`slept at ${loop.time()}`);
  });
  log.push(String(await outcome(worker)));
}

/**
 * Awaits a Node timer given the task's signal; logs the AbortError it rejects
 * with and the signal's reason, which carries the cancel() message, as
 * asyncio's CancelledError does.
 */
async function signalledTimer(log: string[]): Promise<void> {
  try {
    await delay(10_000, undefined, { signal: taskSignal() });
  } catch (error) {
    const reason = (error as Error).cause as Error;
    log.push(`host API: ${(error as Error).name}, ${reason.name}("${reason.message}")`);
  }
}

/**
 * A host promise that settles two host macrotasks from now: after the loop's
 * check for steps blocked on the host (one macrotask), whatever the load.
 */
function afterTwoHostTurns(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

/** Promise.race over a wait that never ends and a settled promise: "fast". */
function raceANeverEndingWait(): Promise<string | true> {
  return Promise.race([new Event().wait(), Promise.resolve("fast")]);
}

/** Runs `main` as a native task on a new virtual loop; reports go to `reports`. */
async function onLoop<T>(
  main: () => Promise<T>,
  reports: string[] = [],
  loop: VirtualEventLoop = new VirtualEventLoop(),
): Promise<T> {
  loop.setExceptionHandler((_loop, context: ExceptionContext) => reports.push(context.message));
  try {
    return await loop.runUntilComplete(main);
  } finally {
    loop.close();
  }
}

describe("native tasks", () => {
  it("interleave at their asynkit awaits, on virtual time", async () => {
    const started = performance.now();
    expect(await interleaving()).toEqual({
      log: ["a1", "b1", "a2", "b2"],
      result: ["a", "b"],
      time: 60_000,
    });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("say so when their function returns a generator no task ran, and end with it", async () => {
    const ran: string[] = [];
    function* work(): Coro<number> {
      ran.push("work");
      yield* sleep(1);
      return 7;
    }
    function* lines(): Generator<string> {
      yield "a line";
    }
    const reports: string[] = [];
    const results = await onLoop(async () => {
      const slip = createTask(async () => work(), { name: "slip" });
      const meant = createTask(() => work(), { name: "meant" });
      // Not the task's function: a body of timeout() says nothing of the task's.
      const inBody = await timeout(100, async () => work());
      // A generator a task ran, then returned: it ran.
      const ranFirst = createTask(async () => {
        const w = work();
        await createTask(w);
        return w;
      });
      // Data, returned inside an object.
      const data = createTask(async () => ({ items: lines() }));
      // Passed on from a task that returned it: said once, of that task.
      const passedOn = createTask(async () => await slip, { name: "passedOn" });
      return [await slip, await meant, inBody, await ranFirst, (await data).items, await passedOn];
    }, reports);
    expect(
      results.map((r) => (typeof r === "number" ? r : Object.prototype.toString.call(r))),
    ).toEqual([
      "[object Generator]",
      7,
      "[object Generator]",
      "[object Generator]",
      "[object Generator]",
      "[object Generator]",
    ]);
    expect(ran).toEqual(["work", "work"]);
    expect(reports).toEqual([
      expect.stringMatching(
        /^<Task pending name="slip">'s async function returned a generator object that no task ran: if it is a coroutine, none of its code ran, .* `\(\) => work\(\)` rather than `async \(\) => work\(\)`/,
      ),
    ]);
  });

  it("give one log in 1,000 runs", async () => {
    const logs = new Set<string>();
    for (let i = 0; i < 1000; i++) logs.add((await interleaving()).log.join(" "));
    expect([...logs]).toEqual(["a1 b1 a2 b2"]);
  });

  it("are the current task, with their context and signal, across every await", async () => {
    const user = new ContextVar<string>("user", { default: "nobody" });
    const seen = await onLoop(async () => {
      const worker = createTask(
        async () => {
          user.set("ann");
          const task = currentTask();
          const signal = taskSignal();
          const seen: unknown[] = [];
          for (const ms of [0, 10, 0]) {
            await sleep(ms);
            seen.push(currentTask() === task, taskSignal() === signal, user.get());
          }
          return seen;
        },
        { name: "worker" },
      );
      await sleep(5);
      const outside = [currentTask()?.getName(), user.get()];
      return [...outside, ...(await worker)];
    });
    expect(seen).toEqual([
      expect.stringMatching(/^Task-\d+$/),
      "nobody",
      true,
      true,
      "ann",
      true,
      true,
      "ann",
      true,
      true,
      "ann",
    ]);
  });

  it("are the current task, in their context, after a plain await that comes before their first asynkit await", async () => {
    const id = new ContextVar<string>("id", { default: "none" });
    const lookup = async (name: string) => `user-${name}`; // settles at once: no host I/O
    const handle = async (name: string) => {
      const user = await lookup(name);
      const seen = [currentTask()?.getName(), id.get()];
      id.set(name);
      await sleep(10);
      return [user, ...seen, id.get()];
    };
    const results = await onLoop(async () => {
      const a = createTask(() => handle("a"), { name: "a" });
      const b = createTask(() => handle("b"), { name: "b" });
      return [await a, await b, id.get()];
    });
    expect(results).toEqual([["user-a", "a", "none", "a"], ["user-b", "b", "none", "b"], "none"]);
    expect(id.get()).toBe("none");
  });

  it("run() takes an async function as its main task", async () => {
    const result = await run(
      async () => {
        await sleep(1000);
        return [currentTask()?.getName(), currentTask()?.getCoro()];
      },
      { loopFactory: () => new VirtualEventLoop() },
    );
    expect(result).toEqual([expect.stringMatching(/^Task-\d+$/), null]);
  });

  it("a generator function given to createTask() makes a coroutine task, which runSync() runs", () => {
    const loop = new VirtualEventLoop();
    const log: string[] = [];
    function* body(): Coro<number> {
      log.push(`body in ${currentTask()?.getName()}`);
      yield* sleep(10);
      return 7;
    }
    const result = loop.runSync(function* () {
      const task = createTask(body, { name: "gen" });
      log.push("created");
      return [yield* task, task.getCoro() === null ? "no coroutine" : "a coroutine", loop.time()];
    });
    expect(result).toEqual([7, "a coroutine", 10]);
    expect(log).toEqual(["created", "body in gen"]);
  });

  it("a function that returns a coroutine runs it as the task's body", async () => {
    const result = await onLoop(async () => {
      const task = createTask(() =>
        (function* () {
          yield* sleep(10);
          return currentTask()?.getName();
        })(),
      );
      return [await task, task.getCoro()];
    });
    expect(result).toEqual([expect.stringMatching(/^Task-\d+$/), null]);
  });

  it("a native task awaits a generator task, and a generator task waits for a native one", async () => {
    const log: string[] = [];
    await onLoop(async () => {
      const native = createTask(async () => {
        log.push("native starts");
        await sleep(10);
        log.push("native ends");
        return "n";
      });
      const generator = createTask(
        (function* () {
          log.push("generator starts");
          const n = yield* native;
          log.push(`generator got ${n}`);
          return "g";
        })(),
      );
      log.push(`main got ${await generator}`);
    });
    expect(log).toEqual([
      "native starts",
      "generator starts",
      "native ends",
      "generator got n",
      "main got g",
    ]);
  });

  it("a function that returns neither a promise nor a coroutine fails the task with a TypeError", async () => {
    const error = await onLoop(async () => {
      return await outcome(createTask((() => 5) as never));
    });
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(
      /^<Task pending name="Task-\d+">: its function, function \(anonymous\), returned number 5, not a promise, a coroutine or a future: give createTask\(\) \(or run\(\), runUntilComplete\(\), submit\(\)\) an async function, or a function that returns a coroutine\.$/,
    );
  });

  it("an async generator is no task body: a TypeError, on every loop and under runSync, never a spin", async () => {
    async function* numbers(): AsyncGenerator<number, string> {
      yield 1;
      return "done";
    }
    const viaFunction = await onLoop(async () => await outcome(createTask(numbers as never)));
    expect((viaFunction as Error).message).toMatch(
      /: its function, function numbers, returned .*, not a promise, a coroutine or a future/,
    );
    const viaObject = await onLoop(async () => {
      try {
        return createTask(numbers() as never);
      } catch (error) {
        return error;
      }
    });
    expect(viaObject).toBeInstanceOf(TypeError);
    expect((viaObject as Error).message).toMatch(
      /an async generator is not a coroutine: write it as a function\* \(waiting with yield\*\) or as an async function\.$/,
    );
    const loop = new VirtualEventLoop();
    const underRunSync = loop.runSync(function* () {
      try {
        return yield* createTask(numbers as never);
      } catch (error) {
        return error;
      }
    });
    expect(underRunSync).toBeInstanceOf(TypeError);
    loop.close();
  });

  it("a promise refused as a task's body or an awaitable leaves no unhandled rejection once the TypeError is caught", async () => {
    const unhandled: unknown[] = [];
    const onRejection = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on("unhandledRejection", onRejection);
    try {
      const work = async (): Promise<number> => {
        await sleep(10);
        return 1;
      };
      const caught: string[] = [];
      const reports: string[] = [];
      const misuses: [string, () => unknown][] = [
        ["createTask", () => createTask(work() as never)],
        ["waitFor", () => waitFor(work() as never, 10)],
        ["eager", () => eager(work() as never)],
      ];
      for (const [name, misuse] of misuses) {
        const loop = new VirtualEventLoop();
        loop.setExceptionHandler((_, context) => reports.push(context.message.slice(0, 40)));
        await loop
          .runUntilComplete(async () => await (misuse() as Promise<unknown>))
          .catch((error: Error) => caught.push(`${name}: ${error.constructor.name}`));
        loop.close();
      }
      await run(async () => await createTask(work() as never)).catch((error: Error) =>
        caught.push(`run: ${error.constructor.name}`),
      );
      await delay(5); // Node reports an unhandled rejection after the microtasks
      expect(caught).toEqual([
        "createTask: TypeError",
        "waitFor: TypeError",
        "eager: TypeError",
        "run: TypeError",
      ]);
      expect(unhandled).toEqual([]);
      // The refused function's await, in the caller's step, is taken for the caller's own
      // (async-functions.md, "Details"), and the sleep it began is no task's.
      expect(reports).toEqual(
        Array(3)
          .fill([
            '<Task pending name="Task-1"> went on pas',
            "Task was destroyed but it is pending: it",
          ])
          .flat(),
      );
    } finally {
      process.off("unhandledRejection", onRejection);
    }
  });

  it("runSync refuses a native task: it says to use runUntilComplete() or run()", () => {
    const loop = new VirtualEventLoop();
    const main = loop.createTask(
      (function* () {
        yield* createTask(async () => 1);
      })(),
    );
    expect(() => loop.runSync(main)).toThrow(
      /^runSync\(\) cannot run <Task pending name="Task-\d+">, a native async function: its awaits resume in microtasks, which need the host\. Use `await loop\.runUntilComplete\(main\)` or `await run\(main\)` instead\.$/,
    );
    loop.close();
  });

  it("under runSync, an async body of timeout(), taskGroup() or forAwait() is refused with the same advice, before its call", () => {
    const loop = new VirtualEventLoop();
    const called: string[] = [];
    const failure = (body: () => Coro<unknown>) => {
      try {
        loop.runSync(body);
        return "no error";
      } catch (error) {
        return error instanceof AggregateError
          ? `a group of ${error.errors.length}`
          : (error as Error).message;
      }
    };
    const items = () =>
      new GeneratorObject<number>(function* (g) {
        yield* g.yield(1);
      });
    const advice =
      "its awaits resume in microtasks, which need the host. Use `await loop.runUntilComplete(main)` or `await run(main)` instead.";
    expect([
      failure(function* () {
        yield* timeout(50, async () => called.push("timeout"));
      }),
      failure(function* () {
        yield* taskGroup(async () => called.push("taskGroup"));
      }),
      failure(function* () {
        yield* forAwait(items(), async () => {
          called.push("forAwait");
        });
      }),
      failure(function* () {
        yield* timeout(50, () => Promise.resolve(called.push("an arrow's promise")));
      }),
      called,
    ]).toEqual([
      `runSync() cannot run the async body of timeout(): ${advice}`,
      `runSync() cannot run the async body of taskGroup(): ${advice}`, // its own error, no group's
      `runSync() cannot run the async body of forAwait(): ${advice}`,
      `runSync() cannot run the body of timeout(), which returned a promise: ${advice}`,
      ["an arrow's promise"],
    ]);
    loop.close();
  });

  it("under runSync, an arrow body that returns a coroutine queues no microtask: runSync() would hold each until it returned", () => {
    const loop = new VirtualEventLoop();
    function* work(i: number): Coro<number> {
      yield* sleep(1);
      return i;
    }
    const thens = vi.spyOn(Promise.prototype, "then");
    try {
      const results = loop.runSync(function* () {
        const results: number[] = [];
        for (let i = 0; i < 3; i++) results.push(yield* timeout(50, () => work(i)));
        yield* taskGroup((group) => group.createTask(work(3)));
        return results;
      });
      expect([results, thens.mock.calls.length]).toEqual([[0, 1, 2], 0]);
    } finally {
      thens.mockRestore();
      loop.close();
    }
  });

  it("under runSync, a plain function's result is judged by what it is: a coroutine runs, anything else is named", () => {
    const loop = new VirtualEventLoop();
    function* work(): Coro<number> {
      yield* sleep(1);
      return 1;
    }
    const calling = () => work();
    const returningTheFunction = (() => work) as unknown as () => Coro<number>;
    const returningAPromise = () => Promise.reject(new Error("never seen")) as never;
    expect(
      loop.runSync(function* () {
        return yield* createTask(calling);
      }),
    ).toBe(1);
    const outcome = (body: () => Coro<number>) =>
      loop.runSync(
        (function* () {
          try {
            return yield* createTask(body);
          } catch (error) {
            return (error as Error).message;
          }
        })(),
      );
    expect(outcome(returningTheFunction)).toMatch(
      /: its function, function returningTheFunction, returned generator function work, not a promise, a coroutine or a future: give createTask\(\)/,
    );
    expect(outcome(returningAPromise)).toMatch(
      /^runSync\(\) cannot run <Task pending name="Task-\d+">, whose function returned a promise: its awaits resume in microtasks/,
    );
    loop.close();
  });
});

// A stop() lets the iteration it was asked in finish, and no more: a native step that
// handed the host over at the iteration's last handle must not let the next one begin.
describe("a stop() in the iteration a native step ends", () => {
  /** A worker woken at t=10 (or made then), beside a main that returns at t=10, as either kind. */
  async function workerSteps(kind: "generator" | "native", made: "before" | "at 10") {
    const loop = new VirtualEventLoop();
    loop.setExceptionHandler(() => {}); // the worker is still pending when the loop closes
    const log: (string | number)[] = [];
    const delay = made === "before" ? 10 : 0;
    function* generator(): Coro<void> {
      if (delay > 0) yield* sleep(delay);
      for (let i = 0; i < 5; i++) {
        log.push(i);
        yield* sleep(0);
      }
    }
    async function native(): Promise<void> {
      if (delay > 0) await sleep(delay);
      for (let i = 0; i < 5; i++) {
        log.push(i);
        await sleep(0);
      }
    }
    let worker: Task<void> | undefined;
    const start = () => {
      worker = createTask(kind === "generator" ? generator : native, { name: "worker" });
    };
    await loop.runUntilComplete(function* () {
      if (made === "before") start();
      else
        createTask(function* () {
          yield* sleep(10);
          start();
        });
      yield* sleep(10);
      log.push("main returns");
    });
    loop.close();
    return { log, done: worker?.done(), time: loop.time() };
  }

  it("a worker woken with main's last step gets its step in that iteration, as a generator's", async () => {
    const expected = { log: ["main returns", 0, 1], done: false, time: 10 };
    expect(await workerSteps("generator", "before")).toEqual(expected);
    expect(await workerSteps("native", "before")).toEqual(expected);
  });

  it("a worker made in main's last iteration gets its first step, as a generator's", async () => {
    const expected = { log: ["main returns", 0], done: false, time: 10 };
    expect(await workerSteps("generator", "at 10")).toEqual(expected);
    expect(await workerSteps("native", "at 10")).toEqual(expected);
  });
});

describe("awaiting a future that is already done", () => {
  it("gives its value, error or cancellation at once, and the step goes on", async () => {
    const log: string[] = [];
    const loop = new VirtualEventLoop();
    await loop.runUntilComplete(async () => {
      const ok = loop.createFuture<number>();
      ok.setResult(1);
      const failed = loop.createFuture<number>();
      failed.setException(new Error("boom"));
      const cancelled = loop.createFuture<number>();
      cancelled.cancel("gone");
      const inner = createTask(async () => 7);
      await sleep(0);
      // A promise never resolves to a task: the await waits for the task inside.
      const wrapping = loop.createFuture<Task<number>>();
      wrapping.setResult(inner);
      const other = createTask(async () => {
        log.push("other runs");
      });
      log.push(`ok ${await ok}`);
      log.push(`failed ${String(await outcome(failed))}`);
      log.push(`cancelled ${String(await outcome(cancelled))}`);
      log.push(`through ${await wrapping}`);
      // A cancel() pending waits for an await that suspends, as a coroutine's waits for its
      // next yield: a done future's goes on; a pending task's is cancelled with the wait.
      currentTask()?.cancel("stop");
      log.push(`then ${String(await outcome(ok))}`);
      log.push(`other ${String(await outcome(other))}, cancelled: ${other.cancelled()}`);
    });
    loop.close();
    expect(log).toEqual([
      "ok 1",
      "failed Error: boom",
      "cancelled CancelledError: gone",
      "through 7",
      "then 1",
      "other CancelledError: stop, cancelled: true",
    ]);
  });
});

describe("async bodies", () => {
  it("timeout() and taskGroup() take an async body, in a native task and in a generator task", async () => {
    const log: string[] = [];
    const body = async (label: string) => {
      const task = currentTask();
      try {
        await timeout(50, async () => {
          await sleep(10);
          log.push(
            `${label}: in the body at ${getRunningLoop().time()}, same task: ${currentTask() === task}`,
          );
          await sleep(1000);
        });
      } catch (error) {
        log.push(`${label}: ${(error as Error).name} at ${getRunningLoop().time()}`);
      }
      const sum = await taskGroup(async (tg) => {
        const a = tg.createTask(async () => (await sleep(5, 1)) + 1);
        const b = tg.createTask(sleep(7, 3));
        return (await a) + (await b);
      });
      log.push(`${label}: group gave ${sum} at ${getRunningLoop().time()}`);
    };
    await onLoop(async () => {
      await createTask(() => body("native"));
      await createTask(
        (function* () {
          yield* timeout(50, async () => {
            await sleep(10);
            log.push("generator: in an async body");
          });
        })(),
      );
    });
    expect(log).toEqual([
      "native: in the body at 10, same task: true",
      "native: TimeoutError at 50",
      "native: group gave 5 at 57",
      "generator: in an async body",
    ]);
  });

  it("a body that returns a task or a future is waited on as its await would be: in the loop's order, with its timeout and its cancellation", async () => {
    const loop = new VirtualEventLoop({ hostAwaits: "error" });
    const log: string[] = [];
    await loop.runUntilComplete(async () => {
      const slow = createTask(sleep(1000, "slow"));
      const timedOut = await outcome(timeout(50, () => slow));
      log.push(
        `timeout: ${(timedOut as Error).name} at ${loop.time()}, slow cancelled: ${slow.cancelled()}`,
      );
      const inner = createTask(sleep(1000, "inner"));
      const outer = createTask(() => inner);
      await sleep(10);
      outer.cancel();
      log.push(
        `cancelled: ${(await outcome(outer)) as Error} at ${loop.time()}, inner cancelled: ${inner.cancelled()}`,
      );
      const future = loop.createFuture<string>();
      loop.callLater(5, () => future.setResult("set"));
      log.push(`future: ${await createTask(() => future)} at ${loop.time()}`);
      log.push(
        `group: ${await taskGroup(() => createTask(sleep(5, "in group")))} at ${loop.time()}`,
      );
    });
    loop.close();
    expect(log).toEqual([
      "timeout: TimeoutError at 50, slow cancelled: true",
      "cancelled: CancelledError at 60, inner cancelled: true",
      "future: set at 65",
      "group: in group at 70",
    ]);
  });

  it("a body that returns a future nobody will set is a deadlock, reported as one", async () => {
    const loop = new VirtualEventLoop();
    const never = loop.createFuture<void>();
    const error = await outcome(loop.runUntilComplete(() => createTask(() => never)));
    expect((error as Error).name).toBe("DeadlockError");
    loop.close();
  });

  it("a body that returns an async generator is a TypeError naming the call, not an iteration error", async () => {
    async function* numbers(): AsyncGenerator<number> {
      yield 1;
    }
    const error = await onLoop(async () => outcome(timeout(10, numbers as never)));
    expect((error as Error).message).toBe(
      "timeout(): the body returned an async generator object, not a coroutine, a future or a promise: pass a function* or an async function.",
    );
  });

  it("a body that returns neither a coroutine nor a promise is a TypeError naming the call", async () => {
    const error = await onLoop(async () => outcome(timeout(10, (() => 5) as never)));
    expect((error as Error).message).toBe(
      "timeout(): the body returned number 5, not a coroutine, a future or a promise: pass a function* or an async function.",
    );
  });
});

describe("native tasks started eagerly in one step", () => {
  // Their first awaits end at once (uncontended locks) in then() calls that
  // come one after the other: each function is resumed before the last one's
  // next await, and each next await is its own, in the order of the resumes.
  it("a resumed task that starts another, whose first await ends at once, keeps its own next await", async () => {
    // The child is resumed after the parent, but the parent's then() job was queued first.
    const loop = new VirtualEventLoop({ hostAwaits: "error" });
    loop.setTaskFactory(eagerTaskFactory);
    const queue = new Queue<number>();
    const lock = new Lock();
    const log: string[] = [];
    await loop.runUntilComplete(async () => {
      const parent = createTask(async () => {
        await sleep(1);
        createTask(async () => {
          using _ = await lock.hold();
          log.push("child locked");
        });
        log.push(`parent got ${await queue.get()}`);
      });
      await sleep(2);
      queue.putNowait(7);
      await parent;
    });
    loop.close();
    expect(log).toEqual(["child locked", "parent got 7"]);
  });

  it("by a generator caller, take their first await after the caller's step: after a sleep(0) in each, the caller runs first", async () => {
    // The engine calls the then() of a native await in a microtask, after the caller's code;
    // a native caller's own await comes after the child's (docs/async-functions.md, Details).
    const logOf = async (caller: "generator" | "native", start: "createTask" | "eager") => {
      const loop = new VirtualEventLoop();
      const log: string[] = [];
      const child = async () => {
        log.push("child 1");
        await sleep(0);
        log.push("child 2");
      };
      const begin = () =>
        start === "createTask"
          ? createTask(child, { eagerStart: true })
          : eager(timeout(1_000, child));
      await loop.runUntilComplete(
        caller === "generator"
          ? function* () {
              const started = begin();
              log.push("caller 1");
              yield* sleep(0);
              log.push("caller 2");
              yield* started;
            }
          : async () => {
              const started = begin();
              log.push("caller 1");
              await sleep(0);
              log.push("caller 2");
              await started;
            },
      );
      loop.close();
      return log;
    };
    for (const start of ["createTask", "eager"] as const) {
      expect(await logOf("generator", start)).toEqual([
        "child 1",
        "caller 1",
        "caller 2",
        "child 2",
      ]);
      expect(await logOf("native", start)).toEqual(["child 1", "caller 1", "child 2", "caller 2"]);
    }
  });

  it("keep their next awaits: a Condition wait after an eager start is the task's own, and is cancelled with it", async () => {
    const loop = new VirtualEventLoop();
    loop.setTaskFactory(eagerTaskFactory);
    const condition = new Condition();
    const lock = new Lock();
    const log: string[] = [];
    await loop.runUntilComplete(async () => {
      const waiter = createTask(async () => {
        using _ = await condition.hold();
        await condition.wait();
      });
      const other = createTask(async () => {
        {
          using _ = await lock.hold();
          await sleep(0);
        }
        log.push("other unlocked");
      });
      await wait([waiter, other], { timeout: 200 });
      waiter.cancel();
      await wait([waiter, other]);
      log.push(`waiter cancelled: ${waiter.cancelled()}`);
    });
    loop.close();
    expect(log).toEqual(["other unlocked", "waiter cancelled: true"]);
  });

  it("each runs on after its first await as itself, in its own context, when both awaits end at once", async () => {
    // Both continuations come after both then() calls: the first runs as the first task.
    const user = new ContextVar<string>("user", { default: "nobody" });
    const loop = new VirtualEventLoop({ hostAwaits: "error" });
    const reports: string[] = [];
    loop.setExceptionHandler((_, context) => reports.push(context.message));
    const log: string[] = [];
    await loop.runUntilComplete(async () => {
      const worker = (name: string) => async () => {
        user.set(name);
        const lock = new Lock();
        await lock.acquire(); // uncontended: ends at once
        log.push(`${name} runs as ${currentTask()?.getName()}, user ${user.get()}`);
        await sleep(1);
        log.push(`${name} runs as ${currentTask()?.getName()}, user ${user.get()}`);
        lock.release();
      };
      const a = createTask(worker("a"), { name: "a", eagerStart: true });
      const b = createTask(worker("b"), { name: "b", eagerStart: true });
      const c = createTask(worker("c"), { name: "c", eagerStart: true });
      await a;
      await b;
      await c;
    });
    loop.close();
    expect(log).toEqual([
      "a runs as a, user a",
      "b runs as b, user b",
      "c runs as c, user c",
      "a runs as a, user a",
      "b runs as b, user b",
      "c runs as c, user c",
    ]);
    expect(reports).toEqual([]);
  });

  it("a task past a plain first await that starts one eagerly keeps its own next await", async () => {
    // The child's first part runs inside the parent's code, so its then() comes first.
    const loop = new VirtualEventLoop({ hostAwaits: "error" });
    const log: string[] = [];
    await loop.runUntilComplete(async () => {
      const parent = createTask(
        async () => {
          await null; // settles in microtasks: still the parent's first step
          createTask(
            async () => {
              await sleep(0);
              log.push(`child slept as ${currentTask()?.getName()}`);
            },
            { name: "child", eagerStart: true },
          );
          await sleep(0);
          log.push(`parent slept as ${currentTask()?.getName()}`);
        },
        { name: "parent" },
      );
      await parent;
    });
    loop.close();
    expect(log).toEqual(["child slept as child", "parent slept as parent"]);
  });

  it("a task past a plain first await keeps its await when what it starts eagerly starts a function of its own", async () => {
    // The grandchild's first part runs inside the parent's code, through the child's start:
    // its then() comes before the parent's, whichever kind of task the child is.
    const results: unknown[] = [];
    for (const kind of ["native", "generator", "eager()", "eager() of an async body"]) {
      const loop = new VirtualEventLoop({ hostAwaits: "error" });
      results.push(
        await loop.runUntilComplete(async () => {
          await null; // settles in microtasks: still main's first step
          const grandchild = () =>
            createTask(
              async () => {
                await sleep(1);
                return currentTask()?.getName();
              },
              { name: "grandchild", eagerStart: true },
            );
          const child =
            kind === "native"
              ? createTask(async () => await grandchild(), { eagerStart: true })
              : kind === "generator"
                ? createTask(
                    function* () {
                      return yield* grandchild();
                    },
                    { eagerStart: true },
                  )
                : kind === "eager()"
                  ? eager(
                      (function* () {
                        return yield* grandchild();
                      })(),
                    )
                  : eager(
                      timeout(50, async () => {
                        await sleep(1);
                        return currentTask()?.getName();
                      }),
                    );
          await sleep(3);
          return [await child, currentTask()?.getName()];
        }),
      );
      loop.close();
    }
    expect(results).toEqual([
      ["grandchild", "Task-1"],
      ["grandchild", "Task-1"],
      ["grandchild", "Task-1"],
      ["Task-2", "Task-1"], // the body is the eager() start's task's
    ]);
  });

  it("a task its async body's end steps on, in another's first step, leaves that step's await to it", async () => {
    // The eager generator task's timeout() body ends in microtasks of the main function's
    // first step, before the main function's `await worker`: the child it then starts
    // eagerly is the worker's, not the main function's, and comes after its await.
    for (const childAwaits of [true, false]) {
      const loop = new VirtualEventLoop({ hostAwaits: "error" });
      const reports: string[] = [];
      loop.setExceptionHandler((_, context) => reports.push(context.message));
      const log: string[] = [];
      const result = await loop.runUntilComplete(async () => {
        const worker = createTask(
          function* () {
            const v = yield* timeout(50, async () => "v");
            log.push(`timeout gave ${v} to ${currentTask()?.getName()}`);
            const child = createTask(
              async () => {
                if (childAwaits) await sleep(1);
                log.push(`child ran as ${currentTask()?.getName()}`);
                return "c";
              },
              { name: "child", eagerStart: true },
            );
            return [v, yield* child];
          },
          { name: "worker", eagerStart: true },
        );
        const values = await worker;
        log.push(`main ran as ${currentTask()?.getName()}`);
        return values;
      });
      loop.close();
      expect(reports).toEqual([]);
      expect(result).toEqual(["v", "c"]);
      expect(log).toEqual(["timeout gave v to worker", "child ran as child", "main ran as Task-1"]);
    }
  });

  it("the next await of the second is its own, though the first started an async body before it", async () => {
    // b's then() job was queued before the credit of a's timeout() body: it is b's await.
    const loop = new VirtualEventLoop({ hostAwaits: "error" });
    const reports: string[] = [];
    loop.setExceptionHandler((_, context) => reports.push(context.message));
    const queue = new Queue<number>();
    const log: string[] = [];
    await loop.runUntilComplete(async () => {
      const worker = (name: string) => async () => {
        await queue.put(1); // room: ends at once
        await timeout(5, async () => {
          await queue.put(2);
        });
        log.push(`${name} put twice as ${currentTask()?.getName()}`);
      };
      const a = createTask(worker("a"), { name: "a", eagerStart: true });
      const b = createTask(worker("b"), { name: "b", eagerStart: true });
      await a;
      await b;
    });
    loop.close();
    expect(log).toEqual(["a put twice as a", "b put twice as b"]);
    expect(reports).toEqual([]);
  });

  it("with asyncLocalStorage, the function of a task failed at a host await keeps off the next test's loop", async () => {
    // hostAwaits: "error" fails the task, but its function runs on once the host's promise
    // settles; its next asynkit await must not land on whatever loop runs then.
    const log: string[] = [];
    const first = new VirtualEventLoop({ hostAwaits: "error", asyncLocalStorage: true });
    const outcome = await first.runUntilComplete(async () => {
      const task = createTask(async () => {
        await delay(30); // long enough for the loop to notice it first, even on a busy machine
        log.push("first: after the host await");
        try {
          await sleep(100);
          log.push("first: slept");
        } catch (error) {
          log.push(`first: ${(error as Error).message.slice(0, 21)}`);
        }
      });
      try {
        await task;
        return "finished";
      } catch (error) {
        return (error as Error).name;
      }
    });
    first.close();
    const second = new VirtualEventLoop();
    second.setExceptionHandler(() => {}); // its own host await is reported: not under test
    const time = await second.runUntilComplete(async () => {
      await sleep(100);
      await delay(100); // the first test's function resumes meanwhile
      await sleep(100);
      return second.time();
    });
    second.close();
    expect([outcome, time, log]).toEqual([
      "HostAwaitError",
      200,
      ["first: after the host await", "first: no running event loop"],
    ]);
  });

  it("with asyncLocalStorage, the function of a task failed at a host await awaits on as code outside the tasks while its loop runs", async () => {
    // Its task is done: its awaits are no task's, and run as tasks of their own on the loop.
    const log: string[] = [];
    const loop = new VirtualEventLoop({ hostAwaits: "error", asyncLocalStorage: true });
    const reports: string[] = [];
    loop.setExceptionHandler((_, context) => reports.push(context.message));
    await loop.runUntilComplete(async () => {
      const child = createTask(
        async () => {
          await delay(20);
          log.push(`child goes on at ${loop.time()}`);
          await sleep(10);
          log.push(`child slept until ${loop.time()}`);
        },
        { name: "child" },
      );
      try {
        await child;
      } catch (error) {
        log.push(`child failed: ${(error as Error).message.slice(0, 35)}`);
      }
      await fromPromise(delay(60)); // the loop runs on while the child's function does
      await sleep(100);
    });
    loop.close();
    expect(log).toEqual([
      'child failed: <Task pending name="child"> awaited',
      "child goes on at 0",
      "child slept until 10",
    ]);
    expect(reports).toEqual([]);
  });
});

describe("cancelling a native task", () => {
  it("a cancellation pending when an async body of timeout() or taskGroup() returns without waiting waits for the next suspension, as for a function* body", async () => {
    const log: string[] = [];
    const loop = new VirtualEventLoop();
    const selfCancelling = (name: string, block: () => PromiseLike<unknown> | Coro<unknown>) =>
      createTask(
        async () => {
          currentTask()?.cancel();
          await block();
          log.push(`${name}: block done`);
          return "returned";
        },
        { name },
      );
    await loop.runUntilComplete(async () => {
      const tasks = [
        selfCancelling("timeout", () => timeout(5, async () => {})),
        selfCancelling("taskGroup", () => taskGroup(async () => {})),
        selfCancelling("function* body", () =>
          // biome-ignore lint/correctness/useYield: a body that returns without waiting
          timeout(5, function* () {
            return 1;
          }),
        ),
      ];
      for (const task of tasks) {
        log.push(
          `${task.getName()}: ${(await outcome(task)) instanceof Error ? "cancelled" : "?"}, ${task.cancelled()}`,
        );
      }
    });
    loop.close();
    expect(log).toEqual([
      "timeout: block done",
      "taskGroup: block done",
      "function* body: block done",
      "timeout: cancelled, true",
      "taskGroup: cancelled, true",
      "function* body: cancelled, true",
    ]);
  });

  it("rejects the asynkit await it is blocked on with CancelledError", async () => {
    const log: string[] = [];
    await onLoop(async () => {
      const task = createTask(async () => {
        try {
          await sleep(60_000);
        } catch (error) {
          log.push(`caught ${(error as Error).name}: ${(error as Error).message}`);
          throw error;
        }
      });
      await sleep(10);
      task.cancel("enough");
      log.push(`task ${((await outcome(task)) as Error).name}`);
      log.push(`cancelled: ${task.cancelled()}`);
    });
    expect(log).toEqual([
      "caught CancelledError: enough",
      "task CancelledError",
      "cancelled: true",
    ]);
  });

  it("a task cancelled in its step that returns without another await ends cancelled", async () => {
    const state = await onLoop(async () => {
      const task = createTask(async () => {
        (currentTask() as Task).cancel();
        return "ignored";
      });
      await sleep(0);
      return [task.cancelled(), task.done()];
    });
    expect(state).toEqual([true, true]);
  });

  it("a cancel() that comes while it runs is thrown in at its next asynkit await", async () => {
    const log: string[] = [];
    await onLoop(async () => {
      const task = createTask(async () => {
        (currentTask() as Task).cancel();
        log.push("still running");
        try {
          await sleep(0);
          log.push("not reached");
        } catch (error) {
          log.push((error as Error).name);
        }
      });
      await sleep(10);
      log.push(`cancelled: ${task.cancelled()}`);
    });
    expect(log).toEqual(["still running", "CancelledError", "cancelled: false"]);
  });
});

describe("awaits the loop does not control", () => {
  it("helpers' promises gathered in one task: the error says to give each helper a task, which works", async () => {
    const log: string[] = [];
    const helper = async (name: string, ms: number) => {
      await sleep(ms);
      log.push(`${name} at t=${getRunningLoop().time()}`);
      return name;
    };
    const wrong = await onLoop(async () => {
      // @ts-expect-error gather() takes tasks and asynkit awaitables, not promises of helpers running in this task
      return await gather(helper("a", 300), helper("b", 100));
    }).catch((error: unknown) => (error as Error).message);
    expect(wrong).toMatch(/give each helper a task, createTask\(\(\) => helper\(a\)\)/);
    log.length = 0;
    const right = await onLoop(async () =>
      gather(
        createTask(() => helper("a", 300)),
        createTask(() => helper("b", 100)),
      ),
    );
    expect(right).toEqual(["a", "b"]);
    expect(log).toEqual(["b at t=100", "a at t=300"]);
  });

  it("a host promise blocks the task on the host; the virtual loop reports it", async () => {
    const reports: string[] = [];
    const log: string[] = [];
    await onLoop(async () => {
      const task = createTask(
        async () => {
          await afterTwoHostTurns();
          log.push("host promise settled");
          return "done";
        },
        { name: "fetcher" },
      );
      log.push(`got ${await task}`);
    }, reports);
    expect(log).toEqual(["host promise settled", "got done"]);
    expect(reports).toEqual([
      "<Task pending name=\"fetcher\"> awaited a promise the loop did not make, in its step 0: its continuation is not ordered by the loop, so the run is no longer deterministic. That promise is the host's, or that of an async function the task called without await, whose first asynkit await the loop took for the task's. Await what the loop makes instead: a task, not the promise of an async function (keep what createTask(fn) returns, and await it); asynkit's sleep(), not a host timer; gather(), wait() or asCompleted(), not Promise.all() or race(), whose then() calls are not the task's awaits; a Future (loop.createFuture()), an Event or a Semaphore, not a promise of your own that another task resolves. Host I/O is ordered when awaited through fromPromise(promise); an async function of yours that awaits asynkit is not host I/O: make it a task, createTask(() => fn()), rather than wrap its promise or call it without await (void fn()).",
    ]);
  });

  it('with hostAwaits: "error" the task fails with the report, a HostAwaitError', async () => {
    const loop = new VirtualEventLoop({ hostAwaits: "error" });
    const error = await loop.runUntilComplete(async () => {
      const task = createTask(async () => {
        await sleep(0);
        await afterTwoHostTurns();
      });
      return (await outcome(task)) as Error;
    });
    loop.close();
    expect(error).toBeInstanceOf(HostAwaitError);
    expect(error.name).toBe("HostAwaitError");
    expect(error.message).toMatch(/awaited a promise the loop did not make, in its step 1:/);
  });

  for (const hostAwaits of ["report", "error"] as const) {
    it(`the function of a task past a host await, run on after its loop closed, cannot move the next loop's clock unseen (hostAwaits: "${hostAwaits}")`, async () => {
      // A test suite's loops one after the other: the first test leaves a task whose function
      // awaits a host timer ("error" fails the task there), and goes on during the second test.
      const log: string[] = [];
      // The host timer the task awaits is armed by the second test, during its own wait on the
      // host: armed at the await, a timer could fire before the first loop finds the task
      // blocked (its next host macrotask), or before the second loop starts, on a loaded machine.
      let armHostTimer = (): void => {};
      const hostTimer = new Promise((resolve) => {
        armHostTimer = () => setTimeout(resolve, 1);
      });
      const first = new VirtualEventLoop({ hostAwaits });
      first.setExceptionHandler(() => {}); // the host await, the task left pending or failed
      await first.runUntilComplete(async () => {
        createTask(async () => {
          await hostTimer;
          await sleep(1_000_000).then(
            () => log.push("slept on"),
            (error: Error) => log.push(`${error.name}: ${error.message.split(" (")[0]}`),
          );
        });
        await sleep(0);
      });
      first.close();
      const reports: string[] = [];
      const second = new VirtualEventLoop({ hostAwaits });
      const time = await onLoop(
        async () => {
          await fromPromise(
            new Promise((resolve) => {
              armHostTimer(); // fires first: the task's function goes on during this wait
              setTimeout(resolve, 20);
            }),
          );
          await sleep(10);
          return second.time();
        },
        reports,
        second,
      );
      if (hostAwaits === "error") {
        expect([log, time, reports]).toEqual([
          [
            "HostAwaitError: sleep(1000000) was awaited outside the loop's tasks while the function of a native task goes on past a host await, outside its loop's order",
          ],
          10,
          [],
        ]);
      } else {
        expect([log, time, reports.map((r) => r.split(" (")[0])]).toEqual([
          ["slept on"],
          1_000_010,
          [
            "sleep(1000000) was awaited outside the loop's tasks while the function of a native task goes on past a host await, outside its loop's order",
          ],
        ]);
      }
    });
  }

  it("blocked on the host, a cancelled task's taskSignal() aborts at once", async () => {
    const log: string[] = [];
    await onLoop(async () => {
      let settle = (): void => {};
      const task = createTask(async () => {
        const signal = taskSignal();
        signal.addEventListener("abort", () => log.push("aborted"));
        await new Promise<void>((resolve) => {
          settle = resolve;
        });
        log.push(`settled, aborted: ${signal.aborted}`);
      });
      await fromPromise(afterTwoHostTurns()); // the loop found the task blocked on the host
      task.cancel();
      log.push("cancel() returned");
      settle();
      log.push(((await outcome(task)) as Error).name);
    });
    expect(log).toEqual([
      "aborted",
      "cancel() returned",
      "settled, aborted: true",
      "CancelledError",
    ]);
  });

  for (const asyncLocalStorage of [false, true]) {
    it(`tasks that go on after host promises keep their own asynkit awaits (asyncLocalStorage: ${asyncLocalStorage})`, async () => {
      // Their continuations run in host turns, beside other tasks' native steps: none may be
      // taken for another's await, stepped twice or lost.
      for (let round = 0; round < 10; round++) {
        const results = await run(
          async () => {
            const tasks = Array.from({ length: 10 }, (_, i) =>
              createTask(async () => {
                await new Promise((resolve) => setTimeout(resolve, i % 3));
                await sleep(1);
                await sleep(0);
                return i;
              }),
            );
            return await gather(...tasks);
          },
          { asyncLocalStorage },
        );
        expect(results).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      }
    });
  }

  it("an async body of timeout() after a host promise moves with the await that runs it", async () => {
    // Its await may be taken for another task's, whose function can end first: the body then
    // goes on in the task of its own that takes the await on, and no task is stepped twice.
    for (let round = 0; round < 5; round++) {
      const app = new HostEventLoop();
      const reports: string[] = [];
      app.setExceptionHandler((_loop, context) => reports.push(context.message));
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          app.submit(async () => {
            await new Promise((resolve) => setTimeout(resolve, i % 3));
            await timeout(5_000, async () => {
              await sleep(1);
            });
            return i;
          }),
        ),
      );
      await app.shutdown();
      expect([results, reports]).toEqual([Array.from({ length: 20 }, (_, i) => i), []]);
    }
  });

  it("native code after a host await finds its loop while another loop started later has stopped", async () => {
    const app = new HostEventLoop();
    const work = Promise.all(
      Array.from({ length: 3 }, (_, i) =>
        app.submit(async () => {
          for (let k = 0; k < 3; k++) {
            await delay(1);
            await sleep(0);
          }
          return i;
        }),
      ),
    );
    const other = new VirtualEventLoop();
    expect(await other.runUntilComplete(async () => await sleep(1000, "virtual"))).toBe("virtual");
    other.close();
    expect(await work).toEqual([0, 1, 2]);
    await app.shutdown();
  });

  it("a worker that goes on after a host promise loses no item and steps no task twice", async () => {
    // `.then()` on an acquire gives a host promise: each worker's later awaits are not
    // ordered, and may come while another task's step is due its then().
    const reports: string[] = [];
    const done = await onLoop(async () => {
      const queue = new Queue<number>(2);
      const semaphore = new Semaphore(2);
      const done: number[] = [];
      const producer = createTask(async () => {
        for (let i = 0; i < 6; i++) await queue.put(i);
        queue.shutdown();
      });
      const worker = async () => {
        for (;;) {
          let item: number;
          try {
            item = await queue.get();
          } catch (error) {
            if (error instanceof QueueShutDown) return;
            throw error;
          }
          await semaphore.acquire().then(() => {});
          try {
            await timeout(50, async () => {
              await sleep(item * 20);
            });
            done.push(item);
          } catch (error) {
            if (!(error instanceof TimeoutError)) throw error;
            done.push(-item);
          } finally {
            semaphore.release();
          }
        }
      };
      const workers = [1, 2, 3].map(() => createTask(worker));
      await producer;
      await gather(...workers);
      return done;
    }, reports);
    expect(done.map(Math.abs).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(reports.filter((r) => !r.includes("awaited a promise the loop did not make"))).toEqual(
      [],
    );
  });

  it("after a host await, awaiting a child blocked on the host waits for the child", async () => {
    // Without the option, the function's `await child` after the host's promise is no longer
    // ordered, and the child's then() was due (it waited on the host too): the await was taken
    // for the child's own, which failed with "Task-2 cannot wait on itself".
    const hostTurn = () => new Promise((resolve) => setImmediate(resolve));
    const loop = new HostEventLoop();
    const result = await loop.runUntilComplete(async () => {
      const child = createTask(async () => {
        await hostTurn();
        return "child";
      });
      await hostTurn();
      return await child;
    });
    loop.close();
    expect(result).toBe("child");
  });

  it("a native task that awaits itself fails as a coroutine does, on a loop with the asyncLocalStorage option", async () => {
    // Without the option the loop cannot tell that then() from one of host code that awaits
    // the task while its step waits for the host check (see the test after this one).
    const outcome = await onLoop(
      async () => {
        const task = createTask(async () => {
          await sleep(0);
          await currentTask();
        });
        try {
          await task;
          return "returned";
        } catch (error) {
          return (error as Error).message;
        }
      },
      [],
      new VirtualEventLoop({ asyncLocalStorage: true }),
    );
    expect(outcome).toMatch(/^<Task pending name="Task-2"> cannot wait on itself\.$/);
  });

  it("without the asyncLocalStorage option, host code's await of a task whose step waits for the host check is not taken for the task's own", async () => {
    // The then() of `await task` in a host callback that runs before the loop's check of the
    // step was the function's await of its own task: "cannot wait on itself" was thrown into
    // it, which the pending cancellation turned into a CancelledError for the callback's await,
    // while the task went on to return "returned" (a queued throw could also step it after it
    // ended, an InvalidStateError reported as "a ready-queue entry was run twice").
    const reports: string[] = [];
    const loop = new HostEventLoop();
    loop.setExceptionHandler((_loop, context) => reports.push(context.message));
    const hostDelay = () => new Promise((resolve) => setTimeout(resolve, 20));
    const task = loop.submit(async () => {
      await hostDelay();
      return "returned";
    });
    const ended = new Promise<void>((resolve) => task.addDoneCallback(() => resolve()));
    // Queued after the loop's drive: it runs while the task's first step waits for its check.
    const awaited = await new Promise<string>((resolve) =>
      setImmediate(async () => {
        task.cancel();
        try {
          resolve(`resolved ${await task}`);
        } catch (error) {
          resolve((error as Error).name);
        }
      }),
    );
    await ended;
    await loop.shutdown();
    expect([awaited, String(task), ...reports]).toEqual([
      "CancelledError",
      '<Task cancelled name="Task-1">',
    ]);
  });

  it("a host API's AbortError for the task's signal counts as its cancellation", async () => {
    // Node's timers, fs and child_process reject with an AbortError whose cause is the
    // signal's reason; fetch rejects with the reason itself.
    const hostWait = () => delay(1000, undefined, { signal: taskSignal() });
    const got = await run(async () => {
      const cancelled = createTask(async () => {
        await hostWait();
      });
      await sleep(5);
      cancelled.cancel("client gone");
      const ended = String(await outcome(cancelled));
      const timedOut = String(await outcome(timeout(20, async () => await hostWait())));
      const inGroup = String(
        await outcome(
          timeout(20, async () => {
            await taskGroup(async (group) => {
              group.createTask(async () => await hostWait());
            });
          }),
        ),
      );
      return [ended, cancelled.cancelled(), timedOut, inGroup];
    });
    expect(got).toEqual([
      "CancelledError: client gone",
      true,
      expect.stringMatching(/^TimeoutError: Timed out/),
      expect.stringMatching(/^TimeoutError: Timed out/),
    ]);
  });

  for (const asyncLocalStorage of [false, true]) {
    it(`a cancellation a host API heard through taskSignal() is not raised again at the cleanup's awaits (asyncLocalStorage: ${asyncLocalStorage})`, async () => {
      const log: string[] = [];
      const hostWait = () => delay(10_000, undefined, { signal: taskSignal() });
      const cleanUp = async (who: string) => {
        try {
          await sleep(1);
          log.push(`${who}: cleaned up`);
        } catch (error) {
          log.push(`${who}: cleanup got ${(error as Error).name}`);
        }
      };
      await run(
        async () => {
          const task = createTask(async () => {
            try {
              await hostWait();
            } finally {
              await cleanUp("task");
            }
          });
          await sleep(5);
          task.cancel();
          log.push(`task: ${String(await outcome(task))}`);
          // The same for an async body of timeout(), which runs in the calling task.
          const timedOut = await outcome(
            timeout(5, async () => {
              try {
                await hostWait();
              } finally {
                await cleanUp("timeout body");
              }
            }),
          );
          log.push(`timeout: ${(timedOut as Error).name}`);
          const emitter = new EventEmitter();
          const grouped = await outcome(
            taskGroup(async (group) => {
              group.createTask(async () => {
                try {
                  await once(emitter, "never", { signal: taskSignal() });
                } finally {
                  await cleanUp("group child");
                }
              });
              group.createTask(async () => {
                await sleep(5);
                throw new Error("boom");
              });
            }),
          );
          log.push(`group: ${(grouped as Error).name}`);
        },
        { asyncLocalStorage },
      );
      expect(log).toEqual([
        "task: cleaned up",
        "task: CancelledError",
        "timeout body: cleaned up",
        "timeout: TimeoutError",
        "group child: cleaned up",
        "group: AggregateError",
      ]);
    });
  }

  for (const asyncLocalStorage of [false, true]) {
    it(`a function that catches the AbortError a host API gave it for a cancel() and returns ends with its value, as a swallowed CancelledError (asyncLocalStorage: ${asyncLocalStorage})`, async () => {
      const got = await run(
        async () => {
          const task = createTask(async () => {
            try {
              await delay(10_000, undefined, { signal: taskSignal() });
            } catch {
              // swallowed
            }
            return "value";
          });
          await sleep(5);
          task.cancel();
          return [await outcome(task), task.cancelled(), task.cancelling()];
        },
        { asyncLocalStorage },
      );
      expect(got).toEqual(["value", false, 1]);
    });
  }

  it("with asyncLocalStorage, after timeout() of an async body a host API aborted, the function's next await is the task's", async () => {
    const log: string[] = [];
    await run(
      async () => {
        const task: Task<void> = createTask(async () => {
          try {
            await timeout(5, async () => {
              await delay(10_000, undefined, { signal: taskSignal() });
            });
          } catch (error) {
            log.push((error as Error).name);
          }
          try {
            await sleep(1000); // the cancel() below must reach this await
            log.push("not cancelled");
          } catch (error) {
            log.push(`${(error as Error).name}, in the task: ${currentTask() === task}`);
            throw error;
          }
        });
        // Cancel once the timeout has come and gone (the task waits in sleep(1000)): after a
        // sleep(20) instead, a loaded machine could run the timeout's 5 ms and the sleep's 20 ms
        // timers in one iteration, and the cancel() came while the body still waited on the host.
        while (log.length === 0) await sleep(1);
        task.cancel();
        log.push(String(await outcome(task)));
      },
      { asyncLocalStorage: true },
    );
    expect(log).toEqual(["TimeoutError", "CancelledError, in the task: true", "CancelledError"]);
  });

  it("with asyncLocalStorage, a child cancelled through its parent's signal is not the parent learning of its cancellation", async () => {
    const log: string[] = [];
    let release = (): void => {};
    const hostPromise = new Promise<void>((resolve) => {
      release = resolve;
    });
    await run(
      async () => {
        const parent = createTask(async () => {
          const child = createTask(() => sleep(10_000), { signal: taskSignal() });
          await hostPromise; // a promise the loop did not make, which ignores the signal
          log.push(`child cancelled: ${child.cancelled()}`);
          try {
            await sleep(1);
            log.push("not cancelled");
          } catch (error) {
            log.push(`next await: ${(error as Error).name}`);
            throw error;
          }
        });
        await sleep(5);
        parent.cancel();
        setTimeout(release, 1); // settled by the host once the cancel is made, whatever the machine's load
        log.push(String(await outcome(parent)));
      },
      { asyncLocalStorage: true },
    );
    expect(log).toEqual(["child cancelled: true", "next await: CancelledError", "CancelledError"]);
  });

  it("with asyncLocalStorage, code that polls the signal rather than listening hears the cancellation too", async () => {
    // Node's fs checks signal.aborted between reads and rejects with the reason as the cause;
    // code of one's own may call signal.throwIfAborted().
    const pollers = {
      "aborted and reason": (signal: AbortSignal) => {
        if (signal.aborted) {
          throw Object.assign(new Error("The operation was aborted", { cause: signal.reason }), {
            name: "AbortError",
          });
        }
      },
      throwIfAborted: (signal: AbortSignal) => signal.throwIfAborted(),
    };
    const log: string[] = [];
    for (const [name, poll] of Object.entries(pollers)) {
      await run(
        async () => {
          const task = createTask(async () => {
            const signal = taskSignal();
            try {
              for (;;) {
                await delay(1);
                poll(signal);
              }
            } finally {
              try {
                await sleep(1);
                log.push(`${name}: cleaned up`);
              } catch (error) {
                log.push(`${name}: cleanup got ${(error as Error).name}`);
              }
            }
          });
          await sleep(5);
          task.cancel();
          task.cancel(); // a second request joins the first, as in asyncio
          log.push(`${name}: ${String(await outcome(task))}`);
        },
        { asyncLocalStorage: true },
      );
    }
    expect(log).toEqual([
      "aborted and reason: cleaned up",
      "aborted and reason: CancelledError",
      "throwIfAborted: cleaned up",
      "throwIfAborted: CancelledError",
    ]);
  });

  it("with asyncLocalStorage, a cancellation nothing heard is raised at the next asynkit await; one a host API heard is spent there", async () => {
    const got = await run(
      async () => {
        // The host promise settles once the cancel is made: a host timer armed at the await could
        // fire first on a loaded machine, before main's sleep(5) ended.
        let release = (): void => {};
        const unheard = createTask(async () => {
          // ignores the signal
          await new Promise<void>((resolve) => {
            release = resolve;
          });
          try {
            await sleep(1);
            return "not cancelled";
          } catch (error) {
            return (error as Error).name;
          }
        });
        const swallowed = createTask(async () => {
          try {
            await delay(10_000, undefined, { signal: taskSignal() });
          } catch (error) {
            if ((error as Error).name !== "AbortError") throw error;
          }
          await sleep(1);
          return "carried on";
        });
        await sleep(5);
        unheard.cancel();
        swallowed.cancel();
        setTimeout(release, 1); // settled by the host once the cancel is made
        return [
          await outcome(unheard),
          await outcome(swallowed),
          unheard.cancelled(),
          swallowed.cancelling(),
        ];
      },
      { asyncLocalStorage: true },
    );
    // As an asyncio task that catches its CancelledError and goes on: it ends with its
    // value, and cancelling() still counts the request.
    expect(got).toEqual(["CancelledError", "carried on", false, 1]);
  });

  it("with asyncLocalStorage, a cancellation made while it awaited the host is raised at its next asynkit await even where that await would not suspend", async () => {
    // A consumer of a queue that is never empty: its get()s return at once.
    const log: string[] = [];
    const got = await run(
      async () => {
        const queue = new Queue<number>();
        for (let i = 0; i < 5; i++) queue.putNowait(i);
        let release = (): void => {};
        const consumer = createTask(async () => {
          for (;;) {
            log.push(`got ${await queue.get()}`);
            await new Promise<void>((resolve) => {
              release = resolve; // a host API that ignores the signal
            });
          }
        });
        await sleep(5);
        consumer.cancel();
        log.push("cancel()");
        setTimeout(release, 1);
        return [await outcome(consumer), queue.qsize()];
      },
      { asyncLocalStorage: true },
    );
    expect([(got[0] as Error).name, got[1], log]).toEqual([
      "CancelledError",
      4,
      ["got 0", "cancel()"],
    ]);
  });

  it("with asyncLocalStorage, a cancellation made while it awaited the host cancels what its next asynkit await waits on: a task, a gather()'s children", async () => {
    // As asyncio's task, which cancels the future its coroutine yields while a cancel() is
    // pending: nothing the function went on to await is left running with nobody to read it.
    const events: string[] = [];
    const reports: string[] = [];
    await run(
      async () => {
        getRunningLoop().setExceptionHandler((_loop, context) => reports.push(context.message));
        const child = (name: string) => async () => {
          try {
            await sleep(100);
          } catch (error) {
            events.push(`${name}: ${(error as Error).name}`);
            throw error;
          }
        };
        let release = (): void => {};
        const onHost = () =>
          new Promise<void>((resolve) => {
            release = resolve; // a host API that ignores the signal
          });
        const other = createTask(child("other"));
        const awaitsTask = createTask(async () => {
          await onHost();
          await other;
        });
        await sleep(1);
        awaitsTask.cancel();
        setTimeout(release, 1);
        events.push(`awaitsTask: ${((await outcome(awaitsTask)) as Error).name}`);
        const gathers = createTask(async () => {
          await onHost();
          await gather(createTask(child("gathered")));
        });
        await sleep(1);
        gathers.cancel();
        setTimeout(release, 1);
        events.push(`gathers: ${((await outcome(gathers)) as Error).name}`);
        await sleep(200);
      },
      { asyncLocalStorage: true },
    );
    expect([events, reports]).toEqual([
      [
        "other: CancelledError",
        "awaitsTask: CancelledError",
        "gathered: CancelledError",
        "gathers: CancelledError",
      ],
      [],
    ]);
  });

  it("in debug mode, a host loop without the asyncLocalStorage option says once what a host await means for the code after it", async () => {
    const lints: string[] = [];
    const plain = new HostEventLoop();
    plain.setDebug(true);
    plain.setExceptionHandler((_loop, context) => {
      if (context.lint === true) lints.push(context.message);
    });
    const hostWait = () => new Promise<void>((resolve) => setTimeout(resolve, 1));
    await plain.runUntilComplete(async () => {
      const fetcher = async () => {
        await hostWait();
        await hostWait();
      };
      await gather(createTask(fetcher, { name: "fetcher" }), createTask(fetcher));
    });
    plain.close();
    const withOption = new HostEventLoop({ asyncLocalStorage: true });
    withOption.setDebug(true);
    withOption.setExceptionHandler((_loop, context) => {
      if (context.lint === true) lints.push(context.message);
    });
    await withOption.runUntilComplete(async () => {
      await createTask(hostWait);
    });
    withOption.close();
    expect(lints).toEqual([
      "<Task pending name=\"fetcher\"> awaited a promise the loop did not make (a host API, Promise.all() or Promise.race()) in its step 0: this loop has no asyncLocalStorage option, so the function's code after that await runs outside the task and the loop's order, where currentTask() and createTask() find no loop, or another task's step running, and a cancel() or a timeout reaches it only through taskSignal() until the function ends. Give the loop the option, run(main, { asyncLocalStorage: true }), or await host promises through fromPromise() and tasks through gather() or wait(). Said once a loop.",
    ]);
  });

  it("with asyncLocalStorage, a second cancellation after the one a host API heard is raised at the next asynkit await", async () => {
    const log: string[] = [];
    await run(
      async () => {
        let release = (): void => {};
        const task = createTask(async () => {
          try {
            await delay(10_000, undefined, { signal: taskSignal() });
          } catch (error) {
            log.push(`host API: ${(error as Error).name}`);
          }
          await new Promise<void>((resolve) => {
            release = resolve; // a host promise that ignores the signal
          });
          try {
            await sleep(1);
            log.push("no CancelledError");
          } catch (error) {
            log.push(`asynkit await: ${(error as Error).name} ${(error as Error).message}`);
          }
        });
        await sleep(5);
        task.cancel("first");
        await sleep(5); // the function heard it, and awaits the host again
        task.cancel("second");
        setTimeout(release, 1);
        await outcome(task);
        log.push(`cancelling() ${task.cancelling()}`);
      },
      { asyncLocalStorage: true },
    );
    expect(log).toEqual([
      "host API: AbortError",
      "asynkit await: CancelledError second",
      "cancelling() 2",
    ]);
  });

  it("with asyncLocalStorage, a task that cancels itself and then gives its signal to a host API gets the cancellation from that API alone", async () => {
    const log: string[] = [];
    await run(
      async () => {
        const task = createTask(async () => {
          currentTask()?.cancel("self");
          await signalledTimer(log);
          try {
            await sleep(1);
            log.push("no CancelledError after it");
          } catch (error) {
            log.push(`asynkit await: ${(error as Error).name}`);
          }
          return "carried on";
        });
        log.push(`${await outcome(task)}, cancelling() ${task.cancelling()}`);
      },
      { asyncLocalStorage: true },
    );
    expect(log).toEqual([
      'host API: AbortError, CancelledError("self")',
      "no CancelledError after it",
      "carried on, cancelling() 1",
    ]);
  });

  it("with asyncLocalStorage, two cancel() calls in one turn reach a task on a host API that reads its signal once, as asyncio's join", async () => {
    // Node's timers read the signal's reason inside the first cancel(): the second comes
    // before the function has had the rejection, so it joins the first rather than being
    // raised again at the cleanup's await.
    const log: string[] = [];
    await run(
      async () => {
        const task = createTask(async () => {
          await signalledTimer(log);
          try {
            await sleep(5);
            log.push("cleanup ran");
          } catch (error) {
            log.push(`cleanup: ${(error as Error).name}`);
            throw error;
          }
          return "v";
        });
        await sleep(0);
        task.cancel("a");
        task.cancel("b");
        log.push(`${await outcome(task)}, cancelling() ${task.cancelling()}`);
        // A cancel() while on the host, and the signal taken after it: the message is kept.
        const late = createTask(async () => {
          await new Promise((resolve) => setTimeout(resolve, 5)); // ignores the signal
          await delay(10_000, undefined, { signal: taskSignal() });
        });
        await sleep(0);
        late.cancel("m");
        const error = (await outcome(late)) as Error;
        log.push(`late: ${error.name}("${error.message}")`);
      },
      { asyncLocalStorage: true },
    );
    expect(log).toEqual([
      'host API: AbortError, CancelledError("a")',
      "cleanup ran",
      "v, cancelling() 2",
      'late: CancelledError("m")',
    ]);
  });

  it("fromPromise orders a host promise: the task stays a task", async () => {
    const reports: string[] = [];
    const seen = await onLoop(async () => {
      const task: Task<boolean> = createTask(async () => {
        await fromPromise(new Promise((resolve) => setTimeout(resolve, 1)));
        return currentTask() === task;
      });
      return await task;
    }, reports);
    expect([seen, reports]).toEqual([true, []]);
  });

  it("with asyncLocalStorage, code after a host await is still its task's: its loop, signal, context and children", async () => {
    const request = new ContextVar("request", { default: "none" });
    const seen: unknown[] = [];
    const got = await run(
      async () => {
        const loop = getRunningLoop();
        const task: Task<string> = createTask(async () => {
          request.set("first");
          const signal = taskSignal();
          await delay(1); // the host resumes the function, between the loop's steps
          seen.push(currentTask() === task, getRunningLoop() === loop, taskSignal() === signal);
          seen.push(request.get());
          request.set("second");
          const child = createTask(async () => `child saw ${request.get()}`);
          await sleep(0);
          seen.push(request.get(), await child);
          return "done";
        });
        return [await task, request.get()];
      },
      { asyncLocalStorage: true },
    );
    expect(seen).toEqual([true, true, true, "first", "second", "child saw second"]);
    expect(got).toEqual(["done", "none"]);
    expect(request.get()).toBe("none"); // the root context is untouched
  });

  it("with asyncLocalStorage, code after a host await reads its own task's context while another task's step is handed over", async () => {
    // A's function resumes from the host while B's step, which ended at a host await, still has
    // the loop handed over (until the loop's check after the microtasks): B's context is current.
    const v = new ContextVar("v", { default: "root" });
    const got = await run(
      async () => {
        const a = createTask(
          async () => {
            v.set("A");
            await new Promise((resolve) => setImmediate(resolve));
            const seen = [currentTask()?.getName(), v.get()];
            v.set("A2");
            return seen;
          },
          { name: "A" },
        );
        const b = createTask(
          async () => {
            v.set("B");
            await new Promise((resolve) => setTimeout(resolve, 20));
            return [currentTask()?.getName(), v.get()];
          },
          { name: "B" },
        );
        return [await a, await b, a.getContext().get(v), b.getContext().get(v)];
      },
      { asyncLocalStorage: true },
    );
    expect(got).toEqual([["A", "A"], ["B", "B"], "A2", "B"]);
  });

  it("with asyncLocalStorage, host code of no task finds no loop and the root context, even during a hand-over", async () => {
    const v = new ContextVar("v", { default: "root" });
    const seen: unknown[] = [];
    const running = run(
      async () => {
        const b = createTask(async () => {
          v.set("B");
          await new Promise((resolve) => setTimeout(resolve, 20));
          return v.get();
        });
        return await b;
      },
      { asyncLocalStorage: true },
    );
    setImmediate(() => {
      // queued before the loop's check that B's first step ended
      for (const ask of [getRunningLoop, currentTask]) {
        seen.push(thrown(() => ask()).message.replace(/:.*/s, ""));
      }
      seen.push(v.get());
      v.set("top level");
    });
    const fromB = await running;
    expect([seen, fromB, v.get()]).toEqual([
      ["no running event loop", "no running event loop", "root"],
      "B",
      "top level",
    ]);
    v.set("root");
  });

  it("with asyncLocalStorage, a write after a host await while the loop is stopped stays the task's", async () => {
    const v = new ContextVar("v", { default: "root" });
    const loop = new HostEventLoop({ asyncLocalStorage: true });
    let task: Task<string> | undefined;
    let wrote = () => {};
    const written = new Promise<void>((resolve) => {
      wrote = resolve;
    });
    await loop.runUntilComplete(async () => {
      task = createTask(async () => {
        v.set("T");
        await new Promise((resolve) => setTimeout(resolve, 10));
        v.set("T after the host"); // runUntilComplete() has returned: the loop is stopped
        wrote();
        await sleep(1);
        return v.get();
      });
      await sleep(1);
    });
    await written;
    const rootAfter = v.get();
    const result = await loop.runUntilComplete(task as Task<string>);
    loop.close();
    expect([rootAfter, result]).toEqual(["root", "T after the host"]);
  });

  it("without asyncLocalStorage, code after a host await finds no task", async () => {
    const seen = await run(async () => {
      const task = createTask(async () => {
        await delay(1);
        const tries = [() => currentTask(), () => taskSignal(), () => createTask(sleep(0))];
        return tries.map((attempt) => {
          try {
            attempt();
            return "ran";
          } catch (error) {
            return (error as Error).message.replace(/:.*/s, "");
          }
        });
      });
      return await task;
    });
    expect(seen).toEqual([
      "no running event loop",
      "no running event loop",
      "createTask() needs a running event loop",
    ]);
  });
});

describe("host callbacks a native task queues", () => {
  it("run outside the loop, in its first part and after an await alike", async () => {
    const seen: string[] = [];
    const probe = (where: string) => () => {
      try {
        seen.push(`${where}: ${getRunningLoop().constructor.name} ${currentTask()?.getName()}`);
      } catch {
        seen.push(`${where}: no loop`);
      }
    };
    // Each step then waits on the host, so that its hand-over lasts until the host's turn.
    const hostAwait = () => new Promise((resolve) => setTimeout(resolve, 5));
    await run(async () => {
      setImmediate(probe("first part"));
      await hostAwait();
    });
    await run(async () => {
      await sleep(0);
      setImmediate(probe("after an await"));
      await hostAwait();
    });
    expect(seen).toEqual(["first part: no loop", "after an await: no loop"]);
  });
});

/**
 * What the scheduling API says of the task `make` starts on a scheduling
 * loop, once `first` is done (if given): blocked?, runnable?, in blockedTasks()?, in
 * runnableTasks()?, why taskSwitch() refuses to move it.
 */
function schedulingViewOf(
  make: () => Task<unknown>,
  first: (() => Future<unknown>) | null,
): Promise<unknown[]> {
  return run(
    function* () {
      const task = make();
      if (first !== null) yield* first();
      const state = [
        taskIsBlocked(task),
        taskIsRunnable(task),
        blockedTasks().has(task),
        runnableTasks().has(task),
      ];
      const refused = (yield* catching(taskSwitch(task))) as Error;
      yield* task;
      return [...state, refused.message];
    },
    { loopFactory: schedulingLoopFactory },
  );
}

/** schedulingViewOf() of a task named `name` that is blocked and cannot be moved, `why`. */
function blockedAndUnmovable(name: string, why: string): unknown[] {
  return [
    true,
    false,
    true,
    false,
    `taskSwitch(): <Task pending name="${name}"> is not in the ready queue (${why}), so it cannot be moved: only a task waiting in the ready queue can (see runnableTasks()).`,
  ];
}

describe("the scheduling API sees native tasks", () => {
  it("runnableTasks and blockedTasks", async () => {
    const seen = await onLoop(
      async () => {
        const sleeper = createTask(async () => {
          await sleep(100);
        });
        const yielder = createTask(async () => {
          await sleep(0);
          await sleep(0);
        });
        await sleep(0);
        return [
          blockedTasks().has(sleeper),
          runnableTasks().has(yielder),
          runnableTasks().has(sleeper),
        ];
      },
      [],
      new SchedulingVirtualEventLoop(),
    );
    expect(seen).toEqual([true, true, false]);
  });

  it("a task blocked on the host is blocked, not runnable, and cannot be moved, which says why", async () => {
    const seen = await schedulingViewOf(
      () =>
        createTask(
          async () => {
            await delay(20); // a host await: no entry in the ready queue
          },
          { name: "fetcher" },
        ),
      () => fromPromise(afterTwoHostTurns()), // the loop found the task blocked on the host
    );
    expect(seen).toEqual(
      blockedAndUnmovable(
        "fetcher",
        "it is blocked waiting for a native promise only the host settles",
      ),
    );
  });
});

describe("the scheduling API sees native tasks started eagerly", () => {
  it("on its way to its first await, such a task is blocked, as blockedTasks() says, and cannot be moved", async () => {
    const seen = await schedulingViewOf(
      () => createTask(async () => await sleep(10), { name: "eagerly", eagerStart: true }),
      null, // looked at as createTask() returns
    );
    expect(seen).toEqual(
      blockedAndUnmovable(
        "eagerly",
        "its step goes on in the microtasks, in an async function or body, to its next await",
      ),
    );
  });
});

describe("native tasks on other loops and modes", () => {
  it("two loops running native tasks at the same time keep their own awaits", async () => {
    const fetchAll = async (name: string, loop: BaseEventLoop): Promise<string[]> => {
      const reports: string[] = [];
      loop.setExceptionHandler((_loop, context) => reports.push(context.message));
      try {
        const results = await loop.runUntilComplete(async () => {
          const tasks = [1, 2].map((i) =>
            createTask(async () => {
              await sleep(i * 10);
              return `${name}${i}`;
            }),
          );
          return await gather(...tasks);
        });
        return [...results, ...reports];
      } finally {
        loop.close();
      }
    };
    const both = await Promise.all([
      fetchAll("a", new VirtualEventLoop({ hostAwaits: "error" })),
      fetchAll("b", new VirtualEventLoop({ hostAwaits: "error" })),
      fetchAll("h", new HostEventLoop()),
    ]);
    expect(both).toEqual([
      ["a1", "a2"],
      ["b1", "b2"],
      ["h1", "h2"],
    ]);
  });

  it("a loop starts from the microtasks of another loop's native step, as a concurrent test starts beside another", async () => {
    const twice = (loop: VirtualEventLoop) => async () => {
      await sleep(10);
      await sleep(10);
      return loop.time();
    };
    const starts: Record<string, (start: () => Promise<number>) => Promise<number>> = {
      "in the same tick": (start) => start(),
      "from a microtask": (start) =>
        new Promise((ok, fail) => queueMicrotask(() => start().then(ok, fail))),
      "after await null": async (start) => {
        await null;
        return await start();
      },
      "from setImmediate": (start) =>
        new Promise((ok, fail) => setImmediate(() => start().then(ok, fail))),
    };
    const outcomes: Record<string, unknown> = {};
    for (const [when, startOther] of Object.entries(starts)) {
      const first = new VirtualEventLoop();
      const other = new VirtualEventLoop();
      const both = [
        first.runUntilComplete(twice(first)),
        startOther(() => other.runUntilComplete(twice(other))),
      ];
      outcomes[when] = (await Promise.allSettled(both)).map((outcome) =>
        outcome.status === "fulfilled" ? outcome.value : (outcome.reason as Error).message,
      );
    }
    expect(outcomes).toEqual({
      "in the same tick": [20, 20],
      "from a microtask": [20, 20],
      "after await null": [20, 20],
      "from setImmediate": [20, 20],
    });
  });

  it("loops with and without the asyncLocalStorage option, started in the same tick, keep their own awaits", async () => {
    const runOne = async (i: number, asyncLocalStorage: boolean): Promise<string> => {
      const loop = new VirtualEventLoop({ asyncLocalStorage, hostAwaits: "error" });
      try {
        return await loop.runUntilComplete(async () => {
          const task = createTask(
            async () => {
              await sleep(10);
              await sleep(10);
              return currentTask()?.getName();
            },
            { name: `t${i}` },
          );
          await sleep(5);
          return `${await task} at ${loop.time()}`;
        });
      } catch (error) {
        return (error as Error).message;
      } finally {
        loop.close();
      }
    };
    const outcomes = await Promise.all([0, 1, 2, 3].map((i) => runOne(i, i % 2 === 0)));
    expect(outcomes).toEqual(["t0 at 20", "t1 at 20", "t2 at 20", "t3 at 20"]);
  });

  it("a step of one loop's generator task cannot start another loop's run: it says to wait for the work", async () => {
    const other = new VirtualEventLoop();
    const refusal = await new VirtualEventLoop().runUntilComplete(
      (function* () {
        return refused(() => other.runUntilComplete(sleep(1)));
      })(),
    );
    expect((await refusal).message).toBe(
      "runUntilComplete(): cannot run an event loop while another loop is running in this stack; inside the running loop's tasks, yield* or await the work instead.",
    );
  });

  it("with the asyncLocalStorage option, a native task's code past an await cannot start another loop either", async () => {
    const refusals: string[] = [];
    const tryToStart = async () => {
      for (const start of [
        () => run(async () => 1),
        () => new VirtualEventLoop().runUntilComplete(sleep(1)),
      ]) {
        try {
          await start();
          refusals.push("started");
        } catch (error) {
          refusals.push((error as Error).message);
        }
      }
    };
    const loop = new HostEventLoop({ asyncLocalStorage: true });
    await loop.runUntilComplete(async () => {
      await sleep(1);
      await tryToStart(); // past an asynkit await: in the loop's hand-over
      await new Promise((resolve) => setTimeout(resolve, 1));
      await tryToStart(); // past a host await: the task's code, as the host's context says
    });
    loop.close();
    expect(refusals).toEqual([
      "run() cannot be called from a running event loop: inside a task, yield* the work (await it in an async function) or start it with createTask() instead.",
      "runUntilComplete(): cannot run an event loop while another loop is running in this stack; inside the running loop's tasks, yield* or await the work instead.",
      "run() cannot be called from a running event loop: inside a task, yield* the work (await it in an async function) or start it with createTask() instead.",
      "runUntilComplete(): cannot run an event loop while another loop is running in this stack; inside the running loop's tasks, yield* or await the work instead.",
    ]);
  });

  it("run on a HostEventLoop in real time, parking between steps", async () => {
    const log: string[] = [];
    const result = await run(async () => {
      const worker = createTask(async () => {
        log.push("worker 1");
        await sleep(5);
        log.push("worker 2");
        return "w";
      });
      log.push("main 1");
      await sleep(0);
      log.push("main 2");
      return await worker;
    });
    expect([result, log]).toEqual(["w", ["main 1", "worker 1", "main 2", "worker 2"]]);
  });

  it("in debug mode, the loop hands over to native steps the same way", async () => {
    const loop = new VirtualEventLoop();
    loop.setDebug(true);
    const log: string[] = [];
    await loop.runUntilComplete(async () => {
      const other = createTask(async () => {
        log.push("other 1");
        await sleep(0);
        log.push("other 2");
      });
      log.push("main 1");
      await sleep(0);
      log.push("main 2");
      await other;
    });
    loop.close();
    expect(log).toEqual(["main 1", "other 1", "main 2", "other 2"]);
  });

  it("createTaskDescend runs a native child at once; await gives its result, as a promise never resolves to a task", async () => {
    const log: string[] = [];
    await onLoop(
      async () => {
        const other = createTask(async () => {
          log.push("other runs");
        });
        const result = await createTaskDescend(async () => {
          log.push("child starts");
          await sleep(10);
          log.push("child ends");
          return "child's result";
        });
        log.push(`parent got ${result}`);
        await other;
      },
      [],
      new SchedulingVirtualEventLoop(),
    );
    expect(log).toEqual(["child starts", "other runs", "child ends", "parent got child's result"]);
  });
});

describe("with the asyncLocalStorage option", () => {
  it("a call whose await goes on in a task of its own (a host callback took the task's) is that task's: no 'awaited already'", async () => {
    const loop = new HostEventLoop({ asyncLocalStorage: true });
    loop.setExceptionHandler(() => {}); // the host callback's await is reported: not under test
    const outcome = await loop.runUntilComplete(async () => {
      const queue = new Queue<string>();
      const event = new Event();
      const lock = new Lock();
      await lock.acquire();
      const awaiting = (wait: () => Promise<unknown>) =>
        createTask(async () => {
          setTimeout(async () => {
            await sleep(1); // taken for the task's own await, which goes on in a task of its own
          }, 5);
          return await wait();
        });
      const tasks = [
        awaiting(async () => await queue.get()),
        awaiting(async () => await event.wait()),
        awaiting(async () => {
          using _ = await lock.hold();
          return "held";
        }),
      ];
      await fromPromise(delay(30));
      queue.putNowait("item");
      event.set();
      lock.release();
      return [await gather(...tasks), queue.qsize(), lock.locked()];
    });
    loop.close();
    expect(outcome).toEqual([["item", true, "held"], 0, false]);
  });

  it("a Promise.race whose loser the task drove gives the task back to the function at its next await", async () => {
    // The race's first then() is taken for the function's await, so the task drives sleep(200)
    // while the queue's item wins: the function's next asynkit await must be the task's again.
    const log: string[] = [];
    await run(
      async () => {
        const queue = new Queue<string>();
        const worker = createTask(async () => {
          await sleep(0);
          const job = await Promise.race([sleep(200, "gave up"), queue.get()]);
          log.push(`got ${job}, current task is the worker: ${currentTask() === worker}`);
          await sleep(1000); // cancel() must reach this await
          log.push("worked to the end");
        });
        await sleep(5);
        queue.putNowait("job-1");
        await sleep(5);
        worker.cancel();
        log.push(String(await outcome(worker)));
        log.push(`cancelling: ${worker.cancelling()}`);
      },
      { asyncLocalStorage: true },
    );
    expect(log).toEqual([
      "got job-1, current task is the worker: true",
      "CancelledError",
      "cancelling: 1",
    ]);
  });

  it("a waitFor() that loses a Promise.race times out in the task its loser goes on in, not in the function's task", async () => {
    // The race's first then() is taken for the function's await (or a timeout() body's), so the
    // task enters waitFor()'s deadline; the sleep wins, and the waitFor goes on in a task of its
    // own. Its deadline cancelled the function's task, 20 ms later, at an await that had nothing
    // to do with it.
    const races = {
      "in the function": (race: () => Promise<unknown>) => race(),
      "in a timeout() body": (race: () => Promise<unknown>) => timeout(1000, race),
    };
    for (const [where, racing] of Object.entries(races)) {
      for (const asyncLocalStorage of [true, false]) {
        const log: string[] = [];
        const loop = new VirtualEventLoop({ asyncLocalStorage });
        await loop.runUntilComplete(async () => {
          function* neverSet(): Coro<void> {
            try {
              yield* new Event().wait();
            } catch (error) {
              log.push(`loser: ${(error as Error).name} at ${loop.time()}`);
              throw error;
            }
          }
          await raceThenSleep(loop, log, () =>
            racing(() => Promise.race([waitFor(neverSet(), 20), sleep(5, "sleep")])),
          );
        });
        loop.close();
        expect([where, asyncLocalStorage, log]).toEqual([
          where,
          asyncLocalStorage,
          ["race: sleep at 5", "loser: CancelledError at 20", "slept at 55", "undefined"],
        ]);
      }
    }
  });

  it("a taskGroup() that loses a Promise.race stops its body in the task its loser goes on in, when a child fails", async () => {
    for (const asyncLocalStorage of [true, false]) {
      const log: string[] = [];
      const loop = new VirtualEventLoop({ asyncLocalStorage });
      const reports: string[] = [];
      loop.setExceptionHandler((_loop, context) => reports.push(context.message));
      await loop.runUntilComplete(async () => {
        const group = taskGroup(function* (tg) {
          tg.createTask(function* () {
            yield* sleep(20);
            throw new Error("child failed");
          });
          try {
            yield* new Event().wait();
          } catch (error) {
            log.push(`group body: ${(error as Error).name} at ${loop.time()}`);
            throw error;
          }
        });
        await raceThenSleep(loop, log, () => Promise.race([group, sleep(5, "sleep")]));
      });
      loop.close();
      expect([asyncLocalStorage, log, reports]).toEqual([
        asyncLocalStorage,
        ["race: sleep at 5", "group body: CancelledError at 20", "slept at 55", "undefined"],
        // The virtual loop's word on a race (see the test below), and no failure of the group's.
        [expect.stringMatching(/awaited a (Promise\.race\(\)|promise the loop did not make)/)],
      ]);
    }
  });

  it("an async timeout() body that loses a Promise.race runs on as the task its loser goes on in: T's child, in a copy of T's context", async () => {
    const cv = new ContextVar<string>("cv", { default: "root" });
    for (const asyncLocalStorage of [true, false]) {
      const log: string[] = [];
      const parents = new Map<Task<unknown>, Task<unknown> | null>();
      const created = (message: unknown) => {
        const { task, parent } = message as { task: Task<unknown>; parent: Task<unknown> | null };
        parents.set(task, parent);
      };
      subscribe("asynkit:task.created", created);
      const loop = new VirtualEventLoop({ asyncLocalStorage });
      loop.setExceptionHandler(() => {}); // the virtual loop's word on the race (see below)
      try {
        await loop.runUntilComplete(async () => {
          const whose = (where: string) => {
            const task = currentTask() as Task<unknown>;
            log.push(
              `${where} at ${loop.time()}: the racer ${task === racer}, done ${task.done()}, ` +
                `the racer's child ${parents.get(task) === racer}, cv ${cv.get()}`,
            );
          };
          const racer = createTask(async () => {
            cv.set("the racer's");
            const won = await Promise.race([
              timeout(100, async () => {
                await sleep(5);
                whose("loser");
                await sleep(1);
                whose("loser again");
                return "loser";
              }),
              sleep(1, "winner"),
            ]);
            log.push(`race: ${won}`);
          });
          await racer;
          await sleep(20);
        });
      } finally {
        unsubscribe("asynkit:task.created", created);
      }
      loop.close();
      const loser = "the racer false, done false, the racer's child true, cv the racer's";
      expect([asyncLocalStorage, log]).toEqual([
        asyncLocalStorage,
        ["race: winner", `loser at 5: ${loser}`, `loser again at 6: ${loser}`],
      ]);
    }
  });

  it("with the asyncLocalStorage option, the racer's next await takes it back from an async body that lost a Promise.race", async () => {
    // The race's first then() is taken for the function's await: the task drives the timeout()
    // and its body. At the function's next await the body goes on in a task of its own, and the
    // function's awaits are the racer's again: a cancel() at 20 ms ends it at once.
    const log: string[] = [];
    const loop = new VirtualEventLoop({ asyncLocalStorage: true });
    loop.setExceptionHandler(() => {});
    await loop.runUntilComplete(async () => {
      const whose = () => (currentTask() === racer ? "the racer" : "another task");
      const racer = createTask(async () => {
        await Promise.race([
          timeout(1000, async () => {
            await sleep(5);
            log.push(`${loop.time()} loser runs as ${whose()}`);
            await sleep(50);
            log.push(`${loop.time()} loser ends as ${whose()}`);
          }),
          sleep(1),
        ]);
        await sleep(10);
        log.push(`${loop.time()} racer slept, as ${whose()}`);
        await sleep(100);
      });
      await sleep(20);
      racer.cancel();
      log.push(`${loop.time()} racer: ${await outcome(racer)}`);
      await sleep(50);
    });
    loop.close();
    expect(log).toEqual([
      "5 loser runs as another task",
      "11 racer slept, as the racer",
      "20 racer: CancelledError",
      "55 loser ends as another task",
    ]);
  });

  it("a task cancelled while a body and its function both run past races is not stepped again once it ended", async () => {
    // The cancel() wakes the task from the race's loser it waits on; before that wakeup runs,
    // the timeout() body returns past its race (the task stops waiting, its wakeup still
    // queued), then the function past its own: that end must not step the task at once.
    for (const asyncLocalStorage of [true, false]) {
      const log: string[] = [];
      await run(
        async () => {
          getRunningLoop().setExceptionHandler((_loop, context) =>
            log.push(`reported: ${context.message}`),
          );
          let bodyWins = (_: string): void => {};
          let functionWins = (_: string): void => {};
          const forBody = new Promise<string>((resolve) => {
            bodyWins = resolve;
          });
          const forFunction = new Promise<string>((resolve) => {
            functionWins = resolve;
          });
          const task = createTask(async () => {
            const won = await Promise.race([
              timeout(1000, async () => {
                log.push(`body: ${await Promise.race([new Event().wait(), forBody])}`);
                return "body";
              }),
              forFunction,
            ]);
            log.push(`function: ${won}`);
            return won;
          });
          await sleep(1);
          task.cancel();
          bodyWins("won");
          functionWins("won");
          await delay(5); // the microtasks run before the loop's next step
          log.push(`task: ${await outcome(task)}`);
          await sleep(5);
        },
        { asyncLocalStorage },
      );
      expect([asyncLocalStorage, log]).toEqual([
        asyncLocalStorage,
        ["body: won", "function: won", "task: won"],
      ]);
    }
  });

  it("then(null, onRejected) on an op, a task or a future is a then() of its own, not an await", async () => {
    for (const asyncLocalStorage of [true, false]) {
      const got = await run(
        async () => {
          const task = createTask(sleep(1, "task"));
          const future = getRunningLoop().createFuture<string>();
          future.setResult("future");
          const fail = (error: unknown) => `failed: ${error}`;
          return [
            await sleep(1, "op").then(null, fail),
            await task.then(undefined, fail),
            await future.then(null, fail),
            await waitFor(new Event().wait(), 1).then(null, (error) => (error as Error).name),
          ];
        },
        { asyncLocalStorage },
      );
      expect([asyncLocalStorage, got]).toEqual([
        asyncLocalStorage,
        ["op", "task", "future", "TimeoutError"],
      ]);
    }
  });

  it("code the host resumed may call task.then(onDone, onError) itself: that is no await", async () => {
    const got = await run(
      async () => {
        const task = createTask(async () => {
          await delay(20);
          return "result";
        });
        await sleep(1);
        await delay(5); // a host await: what follows runs when the host says
        const promise = task.then(
          (value) => `done: ${value}`,
          () => "failed",
        );
        return [promise instanceof Promise, await promise, task.done()];
      },
      { asyncLocalStorage: true },
    );
    expect(got).toEqual([true, "done: result", true]);
  });

  it("code after a host await never sees another task as the current one", async () => {
    // Other tasks' native steps run while the host resumes each function: their hand-overs
    // make their task the loop's current one, which the function's own code must not see.
    const seen: string[] = [];
    await run(
      async () => {
        let stop = false;
        const busy = [1, 2].map(() =>
          createTask(async () => {
            while (!stop) {
              const until = performance.now() + 0.2;
              while (performance.now() < until);
              await sleep(0);
            }
          }),
        );
        const requests = Array.from({ length: 20 }, (_, i) =>
          createTask(async () => {
            const mine = currentTask();
            await new Promise((resolve) => setTimeout(resolve, i % 4));
            let now: Task | null = null;
            try {
              now = currentTask();
            } catch {
              // no loop running: not another task's
            }
            if (now !== null && now !== mine) seen.push(`${mine?.getName()} saw ${now.getName()}`);
          }),
        );
        await gather(...requests);
        stop = true;
        await gather(...busy);
      },
      { asyncLocalStorage: true },
    );
    expect(seen).toEqual([]);
  });

  it("with two loops at once, code after a host await finds its own task and context", async () => {
    // A task's function resumed by the host may run while the other loop's native step has
    // the host (it awaits a host promise too): its next asynkit await is still its own loop's.
    const request = new ContextVar("request", { default: "none" });
    const wrong: string[] = [];
    async function worker(name: string): Promise<void> {
      request.set(name);
      for (let round = 0; round < 5; round++) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        await sleep(0);
        await sleep(0);
        let current: string;
        try {
          current = currentTask()?.getName() ?? "null";
        } catch {
          current = "no loop";
        }
        if (current !== name || request.get() !== name) {
          wrong.push(`${name}: current task ${current}, request ${request.get()}`);
        }
      }
    }
    for (let run_ = 0; run_ < 10; run_++) {
      await Promise.all(
        ["a", "b"].map((loop) =>
          run(
            () =>
              gather(
                ...[1, 2, 3].map((i) =>
                  createTask(() => worker(`${loop}${i}`), { name: `${loop}${i}` }),
                ),
              ),
            { asyncLocalStorage: true },
          ),
        ),
      );
    }
    expect(wrong).toEqual([]);
  });

  it("a task blocked on the host is back in the loop's order at its next asynkit await", async () => {
    const reports: string[] = [];
    const log: string[] = [];
    const loop = new VirtualEventLoop({ asyncLocalStorage: true });
    await onLoop(
      async () => {
        const task: Task<boolean> = createTask(async () => {
          await afterTwoHostTurns();
          log.push("host promise settled");
          await sleep(10);
          log.push(`after sleep(10), the task's own: ${currentTask() === task}`);
          return currentTask() === task;
        });
        return await task;
      },
      reports,
      loop,
    );
    expect(log).toEqual(["host promise settled", "after sleep(10), the task's own: true"]);
    expect(reports).toHaveLength(1);
  });

  it("an async body of timeout() or taskGroup() cancelled while it awaits the host gets the CancelledError at its next asynkit await", async () => {
    const loop = new HostEventLoop({ asyncLocalStorage: true });
    const log: string[] = [];
    const body = (label: string) => async () => {
      await new Promise((resolve) => setTimeout(resolve, 30)); // cancelled at 10 ms, in here
      try {
        await sleep(5_000);
        log.push(`${label}: slept`);
      } catch (error) {
        log.push(`${label}: ${(error as Error).name}`);
        throw error;
      }
    };
    const started = performance.now();
    const outcomes = await loop.runUntilComplete(async () => {
      const deadline = await outcome(timeout(10, body("timeout")));
      const group = await outcome(
        taskGroup(async (tg) => {
          tg.createTask(async () => {
            await sleep(10);
            throw new Error("child failed");
          });
          await body("taskGroup")();
        }),
      );
      return [(deadline as Error).name, (group as Error).name];
    });
    loop.close();
    expect(outcomes).toEqual(["TimeoutError", "AggregateError"]);
    expect(log).toEqual(["timeout: CancelledError", "taskGroup: CancelledError"]);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  describe("an eager() start in code the host resumed", () => {
    /** Runs `main` after an await of a host timer, plain or through fromPromise(). */
    async function afterHostTimer<T>(
      loopClass: typeof HostEventLoop | typeof VirtualEventLoop,
      throughFromPromise: boolean,
      main: () => Promise<T>,
      reported: string[] = [],
    ): Promise<T> {
      const loop = new loopClass({ asyncLocalStorage: true });
      // A virtual loop reports each task that awaits the host.
      loop.setExceptionHandler((_, context) => reported.push(String(context.task?.getName())));
      const result = await loop.runUntilComplete(async () => {
        const timer = delay(5);
        if (throughFromPromise) await fromPromise(timer);
        else await timer;
        return await main();
      });
      loop.close();
      return result;
    }

    const name = () => currentTask()?.getName();

    for (const loopClass of [HostEventLoop, VirtualEventLoop]) {
      it(`of a block whose body is an async function runs it in the start's task, as after fromPromise() (${loopClass.name})`, async () => {
        // The body's first await was taken for the function's own, which was on the host:
        // "a native task was stepped with nothing to run", or a DeadlockError.
        const logs: string[][] = [];
        for (const throughFromPromise of [false, true]) {
          const log: string[] = [];
          const result = await afterHostTimer(loopClass, throughFromPromise, async () => {
            const started = eager(
              timeout(1_000, async () => {
                log.push(`body in ${name()}`);
                await sleep(1);
                log.push(`body ends in ${name()}`);
                return 7;
              }),
            );
            log.push(`after eager() in ${name()}: ${started}`);
            return await started;
          });
          log.push(`result ${result}`);
          logs.push(log);
        }
        expect(logs[0]).toEqual([
          "body in Task-2",
          'after eager() in Task-1: <Task pending name="Task-2">',
          "body ends in Task-2",
          "result 7",
        ]);
        expect(logs[1]).toEqual(logs[0]);
      });
    }

    it("asks for its task as a start in a step does: a generator body's currentTask() is the start's task", async () => {
      const seen: string[] = [];
      for (const throughFromPromise of [false, true]) {
        await afterHostTimer(HostEventLoop, throughFromPromise, async () => {
          const started = eager(
            timeout(1_000, function* () {
              seen.push(`${name()}`);
              yield* sleep(1);
            }),
          );
          seen.push(`${(started as Task<void>).getName()}`);
          await started;
        });
      }
      expect(seen).toEqual(["Task-2", "Task-2", "Task-2", "Task-2"]);
    });

    it("of several async bodies whose first awaits end at once (an uncontended Lock) keeps each in its task's order", async () => {
      const lock = new Lock();
      const log: string[] = [];
      const reported: string[] = [];
      const main = async () => {
        const body = (n: number) => async () => {
          await lock.acquire(); // done at once for the first: its function is resumed by the host's code
          log.push(`${n} locked in ${name()}`);
          await sleep(0);
          lock.release();
          await sleep(n);
          log.push(`${n} ends in ${name()}`);
          return n * 10;
        };
        const started = [1, 2, 3].map((n) => eager(timeout(1_000, body(n))));
        return await gather(...started);
      };
      const result = await afterHostTimer(VirtualEventLoop, false, main, reported);
      expect(reported).toEqual(["Task-1"]); // the bodies' awaits are all in the loop's order
      expect(result).toEqual([10, 20, 30]);
      expect(log).toEqual([
        "1 locked in Task-2",
        "2 locked in Task-3",
        "3 locked in Task-4",
        "1 ends in Task-2",
        "2 ends in Task-3",
        "3 ends in Task-4",
      ]);
    });

    it("of an async body whose first await is the host's counts its task as blocked on the host, then back at its next asynkit await", async () => {
      // On a virtual loop, that await is reported as any task's host await is (it went unsaid).
      const reported: string[] = [];
      const result = await afterHostTimer(
        VirtualEventLoop,
        false,
        async () => {
          const started = eager(
            taskGroup(async () => {
              await delay(10);
              await sleep(1);
              return "done";
            }),
          );
          await delay(30); // nothing of the loop's runs meanwhile
          return await started;
        },
        reported,
      );
      expect([result, reported]).toEqual(["done", ["Task-1", "Task-2"]]);

      const log: string[] = [];
      const resultOnHost = await afterHostTimer(HostEventLoop, false, async () => {
        const started = eager(
          timeout(1_000, async () => {
            await delay(10);
            log.push(`on the host: ${taskIsBlocked(currentTask() as Task<unknown>)}`);
            await sleep(1);
            log.push(`back in ${name()}`);
            return "done";
          }),
        );
        await sleep(5);
        log.push(`meanwhile blocked: ${taskIsBlocked(started as Task<unknown>)}`);
        return await started;
      });
      expect(resultOnHost).toBe("done");
      expect(log).toEqual(["meanwhile blocked: true", "on the host: true", "back in Task-2"]);
    });

    const variable = new ContextVar<string>("variable", { default: "root" });

    /**
     * The log of a task that sets `variable`, awaits a host promise, then starts `start`
     * eagerly: after a host timer, or while another task's step goes on in the microtasks
     * (its code resolves the promise, then awaits plain promises).
     */
    async function startsInTaskContext(
      loopClass: typeof HostEventLoop | typeof VirtualEventLoop,
      resumed: "after a host timer" | "during another task's step",
    ): Promise<string[]> {
      const log: string[] = [];
      const loop = new loopClass({ asyncLocalStorage: true });
      loop.setExceptionHandler(() => {});
      await loop.runUntilComplete(async () => {
        let resolve = (): void => {};
        const hostPromise =
          resumed === "after a host timer"
            ? delay(5)
            : new Promise<void>((settle) => {
                resolve = settle;
              });
        const task = createTask(async () => {
          variable.set("task");
          await hostPromise;
          const started = eager(
            (function* () {
              log.push(`start in ${name()}, variable ${variable.get()}`);
              variable.set("start");
              yield* sleep(1);
              log.push(`start resumed, variable ${variable.get()}`);
            })(),
          );
          log.push(`task after eager() in ${name()}, variable ${variable.get()}`);
          await started;
          log.push(`task ends, variable ${variable.get()}`);
        });
        await sleep(0);
        const other = createTask(async () => {
          variable.set("other");
          resolve();
          for (let i = 0; i < 3; i++) await Promise.resolve();
          await sleep(0);
        });
        await gather(task, other);
      });
      loop.close();
      return log;
    }

    for (const resumed of ["after a host timer", "during another task's step"] as const) {
      for (const loopClass of [HostEventLoop, VirtualEventLoop]) {
        it(`runs in a copy of the task's context, as in a step, ${resumed} (${loopClass.name})`, async () => {
          // The start ran in the root context, or the other task's, and wrote to the task's.
          expect(await startsInTaskContext(loopClass, resumed)).toEqual([
            "start in Task-4, variable task",
            "task after eager() in Task-2, variable task",
            "start resumed, variable start",
            "task ends, variable task",
          ]);
        });
      }
    }
  });

  describe("code the host resumed", () => {
    function* work(): Coro<string> {
      yield* sleep(1);
      return "done";
    }

    const value = new ContextVar<string>("value", { default: "root" });

    for (const asyncLocalStorage of [false, true]) {
      it(`keeps an eager start nested in an async body's start in a copy of that body's context (asyncLocalStorage ${asyncLocalStorage})`, async () => {
        // With the option, the inner start's write went to the outer start's task.
        const loop = new VirtualEventLoop({ asyncLocalStorage });
        const seen = await loop.runUntilComplete(async () => {
          await sleep(0); // a later step: the body runs while the step is handed over
          return await eager(
            timeout(10, async () => {
              value.set("outer");
              const inner = eager(
                (function* () {
                  value.set("inner");
                  yield* sleep(1);
                  return value.get();
                })(),
              );
              const right = value.get();
              return [right, await inner, value.get()];
            }),
          );
        });
        loop.close();
        expect(seen).toEqual(["outer", "inner", "outer"]);
      });
    }

    /** Starts eagerly a coroutine that suspends on `gate`; logs its close and eager()'s error. */
    function startThatSuspends(gate: Future<void>, log: string[]): void {
      try {
        eager(
          (function* () {
            try {
              yield* gate; // needs no loop until it suspends
            } finally {
              log.push("the suspended start is closed");
            }
          })(),
        );
      } catch (error) {
        log.push((error as Error).message.split(":")[0] as string);
      }
    }

    it("that is no task's starts eagerly in a copy of the root context during a task's step, and finds no loop for a start that suspends", async () => {
      // It wrote to the root context; and a start that suspended went on in a task, on the
      // loop started last, in the stepping task's context, where createTask() refused.
      const loop = new HostEventLoop({ asyncLocalStorage: true });
      const gate = loop.createFuture<void>();
      const log: string[] = [];
      let resume = (): void => {};
      const resumed = new Promise<void>((settle) => {
        resume = settle;
      });
      const noTasks = (async () => {
        await resumed; // resolved by the task below, in its step
        eager(
          // biome-ignore lint/correctness/useYield: a start that finishes without suspending
          (function* () {
            value.set("the start's");
          })(),
        );
        log.push(`no task's code reads ${value.get()}`);
        startThatSuspends(gate, log);
      })();
      await loop.runUntilComplete(async () => {
        value.set("the task's");
        await sleep(1);
        resume();
        await noTasks;
      });
      loop.close();
      log.push(`top level reads ${value.get()}`);
      expect(log).toEqual([
        "no task's code reads root",
        "the suspended start is closed",
        "no running event loop",
        "top level reads root",
      ]);
    });

    it("without the asyncLocalStorage option finds no loop for an eager start that suspends, as createTask() finds none", async () => {
      // The start's task went to the loop started last, with no parent.
      const loop = new HostEventLoop();
      const gate = loop.createFuture<void>();
      const log: string[] = [];
      await loop.runUntilComplete(async () => {
        await delay(2);
        startThatSuspends(gate, log);
      });
      loop.close();
      expect(log).toEqual(["the suspended start is closed", "no running event loop"]);
    });

    it("makes tasks that are the children of its task, as in a step", async () => {
      // Each was a root of the task tree: the loop has no current task there.
      const loop = new HostEventLoop({ asyncLocalStorage: true });
      const created: string[] = [];
      const listener = (message: unknown) => {
        const { task, parent } = message as ChannelMessage<"asynkit:task.created">;
        created.push(`${task.getName()} under ${parent?.getName() ?? null}`);
      };
      subscribe("asynkit:task.created", listener);
      try {
        await loop.runUntilComplete(
          loop.createTask(
            async () => {
              await delay(1);
              await gather(
                createTask(work(), { name: "created" }),
                createTask(work(), { name: "eagerly", eagerStart: true }),
                ensureFuture(work()),
                eager(work()),
              );
            },
            { name: "main" },
          ),
        );
      } finally {
        unsubscribe("asynkit:task.created", listener);
      }
      loop.close();
      expect(created).toEqual([
        "main under null",
        "created under main",
        "eagerly under main",
        "Task-1 under main",
        "Task-2 under main",
      ]);
    });

    it("of a task whose loop closed makes no task on another loop: ensureFuture() throws as sleep() does", async () => {
      // It made a task on the policy's loop, which nothing runs: its await waited for ever.
      const loop = new HostEventLoop({ asyncLocalStorage: true });
      let outcome: Promise<string> = Promise.resolve("not run");
      await loop.runUntilComplete(async () => {
        outcome = (async () => {
          await delay(20); // the loop closes meanwhile
          try {
            ensureFuture(work());
            return "made a future";
          } catch (error) {
            return (error as Error).message.split(":")[0] as string;
          }
        })();
      });
      loop.close();
      expect(await outcome).toBe("no running event loop");
    });

    it("steps a task it creates with eagerStart (or the eager task factory) on its task's loop", async () => {
      // The new task's first step found no running loop: its sleep failed the task.
      for (const factory of [false, true]) {
        const loop = new HostEventLoop({ asyncLocalStorage: true });
        if (factory) loop.setTaskFactory(eagerTaskFactory);
        const result = await loop.runUntilComplete(async () => {
          await delay(2);
          const task = factory ? createTask(work()) : createTask(work(), { eagerStart: true });
          return await task;
        });
        loop.close();
        expect(result).toBe("done");
      }
    });

    for (const asyncLocalStorage of [true, false]) {
      it(`makes what it names no loop for on the loop that runs (ensureFuture(), asCompleted()${asyncLocalStorage ? ", getEventLoop()" : ""}; asyncLocalStorage ${asyncLocalStorage})`, async () => {
        // They went to the policy's loop, which does not run: the run waited for ever.
        const loop = new HostEventLoop({ asyncLocalStorage });
        const outcome = await loop.runUntilComplete(async () => {
          await delay(2);
          const future = ensureFuture(work());
          const completed: unknown[] = [];
          for (const next of asCompleted([sleep(2, "slept"), future])) completed.push(await next);
          return [
            future.getLoop() === loop,
            completed,
            asyncLocalStorage ? getEventLoop() === loop : "not asked",
          ];
        });
        loop.close();
        expect(outcome).toEqual([true, ["done", "slept"], asyncLocalStorage ? true : "not asked"]);
      });
    }
  });
});

describe("native children of waitFor, shield and task factories", () => {
  it("waitFor cancels a native task at its deadline; shield keeps one running", async () => {
    const log: string[] = [];
    await onLoop(async () => {
      const slow = createTask(async () => {
        try {
          await sleep(100);
        } finally {
          log.push(`slow unwinds at ${getRunningLoop().time()}`);
        }
      });
      try {
        await waitFor(slow, 10);
      } catch (error) {
        log.push(`${(error as Error).name} at ${getRunningLoop().time()}`);
      }
      const saved = createTask(async () => {
        await sleep(20);
        log.push(`saved at ${getRunningLoop().time()}`);
      });
      const waiter = createTask(async () => {
        await shield(saved);
      });
      await sleep(5);
      waiter.cancel();
      await saved;
      log.push(`waiter cancelled: ${waiter.cancelled()}`);
    });
    expect(log).toEqual([
      "slow unwinds at 10",
      "TimeoutError at 10",
      "saved at 30",
      "waiter cancelled: true",
    ]);
  });

  it("a task factory receives a native task's coroutine and passes it on; the eager factory starts it at once", async () => {
    const log: string[] = [];
    const loop = new VirtualEventLoop();
    loop.setTaskFactory((factoryLoop, coro, options) => {
      log.push(`factory: getCoro() ${coro === null ? "null" : typeof coro}`);
      return new Task(coro, { ...options, loop: factoryLoop, name: "made" });
    });
    await loop.runUntilComplete(async () => {
      const task = createTask(async () => currentTask()?.getName());
      log.push(`name ${await task}, getCoro() ${task.getCoro()}`);
    });
    loop.setTaskFactory(eagerTaskFactory);
    await loop.runUntilComplete(async () => {
      createTask(async () => {
        log.push("eager child runs at once");
        await sleep(0);
      });
      log.push("parent goes on");
      await sleep(0);
    });
    loop.close();
    expect(log).toEqual([
      "factory: getCoro() object",
      "factory: getCoro() object",
      "name made, getCoro() null",
      "eager child runs at once",
      "parent goes on",
    ]);
  });
});

describe("eager native starts", () => {
  for (const [body, childAwaits] of [
    ["timeout", false],
    ["timeout", true],
    ["taskGroup", false],
    ["taskGroup", true],
  ] as const) {
    it(`a native task whose ${body}() body, a function*, starts a native child eagerly${childAwaits ? " that awaits sleep(0)" : ""} is the current task again after it, and so is every other`, async () => {
      // The child's first part ends while no other function is due a then(); the task's
      // own resume, right after, makes two: the child's first part must end before it.
      const loop = new VirtualEventLoop();
      const variable = new ContextVar<string>("variable", { default: "root" });
      const log: string[] = [];
      let childSignal: AbortSignal | undefined;
      let main: unknown;
      const seen = (who: string) =>
        `${who}: current ${currentTask() === main ? "main" : currentTask()?.getName()}, variable ${variable.get()}, child's signal ${taskSignal() === childSignal}`;
      await loop.runUntilComplete(async () => {
        main = currentTask();
        variable.set("main");
        const task = createTask(
          async () => {
            variable.set("task");
            const start = function* () {
              createTask(
                async () => {
                  variable.set("child");
                  childSignal = taskSignal();
                  if (childAwaits) await sleep(0);
                },
                { eagerStart: true, name: "child" },
              );
            };
            if (body === "timeout") await timeout(null, start);
            else await taskGroup(start);
            log.push(seen("task"));
          },
          { name: "task" },
        );
        await task;
        await sleep(1);
        log.push(seen("main"));
      });
      loop.close();
      expect(log).toEqual([
        "task: current task, variable task, child's signal false",
        "main: current main, variable main, child's signal false",
      ]);
    });
  }

  for (const first of ["timeout", "waitFor", "taskGroup"] as const) {
    it(`a start whose first await is ${first}() leaves the next start its own await`, async () => {
      // The body of timeout(), or the task waitFor() makes, is called inside the first
      // start's await: its credit, given back, must not take the second start's.
      const reports: string[] = [];
      const log: string[] = [];
      await onLoop(async () => {
        const a = createTask(
          async () => {
            if (first === "timeout") await timeout(4, () => sleep(1));
            else if (first === "waitFor") await waitFor(sleep(1), 4);
            else await taskGroup(() => sleep(1));
            log.push(`A in ${currentTask()?.getName()} at t=${getRunningLoop().time()}`);
          },
          { eagerStart: true, name: "A" },
        );
        const b = createTask(
          async () => {
            await sleep(1);
            log.push(`B in ${currentTask()?.getName()} at t=${getRunningLoop().time()}`);
          },
          { eagerStart: true, name: "B" },
        );
        await a;
        await b;
      }, reports);
      expect([log, reports]).toEqual([["A in A at t=1", "B in B at t=1"], []]);
    });
  }

  it("end at the first await, whose operation begins in its then() job, after the caller's step goes on", () => {
    const lock = new Lock();
    const log: string[] = [];
    const loop = new VirtualEventLoop();
    const run = loop.runUntilComplete(function* () {
      const child = createTask(
        async () => {
          log.push("child starts");
          await lock.acquire();
          log.push("child has the lock");
          lock.release();
        },
        { eagerStart: true },
      );
      log.push(`locked after createTask(): ${lock.locked()}`);
      yield* lock.acquire(); // in the same step: before the child's then() job
      log.push("caller has the lock");
      yield* sleep(0);
      lock.release();
      yield* child;
    });
    return run.then(() => {
      loop.close();
      expect(log).toEqual([
        "child starts",
        "locked after createTask(): false",
        "caller has the lock",
        "child has the lock",
      ]);
    });
  });

  it("each eager child's await is its own, even when what it awaits is done at once", async () => {
    const reports: string[] = [];
    const log: string[] = [];
    await onLoop(async () => {
      const lock = new Lock();
      const child = (name: string) => async () => {
        log.push(`${name} starts`);
        await lock.acquire();
        log.push(`${name} has the lock, as ${currentTask()?.getName()}`);
        lock.release();
        await sleep(0);
        log.push(`${name} ends`);
      };
      const tasks = ["a", "b", "c"].map((name) =>
        createTask(child(name), { eagerStart: true, name }),
      );
      log.push("main goes on");
      for (const task of tasks) await task;
    }, reports);
    // A native await always suspends, so each eager start ends at its first
    // await; the lock is then taken in turn, each task as itself.
    expect(log).toEqual([
      "a starts",
      "b starts",
      "c starts",
      "main goes on",
      "a has the lock, as a",
      "b has the lock, as b",
      "a ends",
      "c has the lock, as c",
      "b ends",
      "c ends",
    ]);
    expect(reports).toEqual([]);
  });
  it("a child whose first await is a plain promise, beside its creator, goes on outside the order: no await is taken for the other's", async () => {
    const reports: string[] = [];
    const loop = new VirtualEventLoop();
    const log: string[] = [];
    const result = await onLoop(
      async () => {
        const child = async (name: string) => {
          await null; // a plain promise: the creator runs on meanwhile
          log.push(`${name} after null, as ${currentTask()?.getName()}`);
          await sleep(5);
          return `${name} done`;
        };
        const a = createTask(() => child("a"), { name: "a", eagerStart: true });
        const b = createTask(() => child("b"), { name: "b", eagerStart: true });
        return [await a, await b, loop.time()];
      },
      reports,
      loop,
    );
    expect(result).toEqual(["a done", "b done", 5]);
    // Each child's code after the plain await ran as that child, and then outside the order.
    expect(log).toEqual(["a after null, as a", "b after null, as b"]);
    expect(reports).toEqual([
      expect.stringMatching(
        /^<Task pending name="a"> awaited a promise the loop did not make, in its step 0/,
      ),
      expect.stringMatching(
        /^<Task pending name="b"> awaited a promise the loop did not make, in its step 0/,
      ),
    ]);
  });

  it("started by a generator task, a child after a plain await does not take its sibling's then()", async () => {
    const reports: string[] = [];
    const log: string[] = [];
    const loop = new VirtualEventLoop();
    const result = await onLoop(
      async () =>
        await createTask(function* () {
          const plain = createTask(
            async () => {
              await null;
              await sleep(5);
              log.push(`plain at ${loop.time()}`);
            },
            { name: "plain", eagerStart: true },
          );
          const ordered = createTask(
            async () => {
              await sleep(1);
              log.push(`ordered at ${loop.time()}, as ${currentTask()?.getName()}`);
            },
            { name: "ordered", eagerStart: true },
          );
          yield* gather(plain, ordered);
          return "done";
        }),
      reports,
      loop,
    );
    expect(result).toBe("done");
    expect(log).toEqual(["ordered at 1, as ordered", "plain at 5"]);
    expect(reports).toEqual([
      expect.stringMatching(/^<Task pending name="plain"> awaited a promise/),
    ]);
  });

  it("a function that ends before the eager child it started takes its then(): the child's await stays its own", async () => {
    const reports: string[] = [];
    const log: string[] = [];
    const results = await onLoop(async () => {
      let b: Task<string> | null = null;
      const child = async () => {
        log.push("b starts");
        await null; // not asynkit's: b has no then() yet when a ends
        log.push("b after null");
        await sleep(0);
        log.push(`b ends, as ${currentTask()?.getName()}`);
        return "b";
      };
      const a = createTask(
        async () => {
          log.push("a starts");
          b = createTask(child, { eagerStart: true, name: "b" });
          log.push("a ends");
          return "a";
        },
        { name: "a" },
      );
      const first = await a;
      return [first, await (b as unknown as Task<string>)];
    }, reports);
    expect(results).toEqual(["a", "b"]);
    expect(log).toEqual(["a starts", "b starts", "a ends", "b after null", "b ends, as b"]);
    expect(reports).toEqual([]);
  });
});

describe("an app loop", () => {
  it("submit() takes an async function from native code and runs it as a native task", async () => {
    const app = new HostEventLoop();
    const lock = new Lock();
    const order: string[] = [];
    const handle = (n: number) => async () => {
      using _ = await lock.hold();
      order.push(`request ${n} as ${currentTask()?.getName()}`);
      await sleep(1);
      return n * 2;
    };
    const results = await Promise.all([
      app.submit(handle(1), { name: "r1" }),
      app.submit(handle(2), { name: "r2" }),
    ]);
    await app.shutdown();
    expect([results, order]).toEqual([
      [2, 4],
      ["request 1 as r1", "request 2 as r2"],
    ]);
  });

  it("without the asyncLocalStorage option, a waitFor() a handler's await lost to another task still times out: no request hangs on its lock", async () => {
    // After its host await, a helper's code is no task's, and its await of waitFor() may be
    // taken by another task whose function is about to return; the waitFor then goes on in a
    // task of its own. Its deadline cancelled the returned task instead, so it never timed
    // out, the helper kept the lock, and every later request waited for it.
    const app = new HostEventLoop();
    const reports: string[] = [];
    app.setExceptionHandler((_loop, context) => reports.push(context.message));
    const lock = new Lock();
    const neverSet = new Event();
    const inner = async () => {
      await new Promise((resolve) => setImmediate(resolve));
      await lock.acquire();
      try {
        await waitFor(neverSet.wait(), 1);
        return "set";
      } catch (error) {
        return (error as Error).name;
      } finally {
        lock.release();
      }
    };
    const outer = async () => {
      try {
        return await waitFor(createTask(inner), 3);
      } catch (error) {
        return `outer: ${(error as Error).name}`;
      }
    };
    const ends: unknown[] = [];
    const clients = Promise.all(
      Array.from({ length: 2 }, async () => {
        for (let i = 0; i < 3; i++) ends.push(await app.submit(() => gather(createTask(outer))));
      }),
    );
    const hung = delay(2_000).then(() => "hung");
    expect(await Promise.race([clients.then(() => "settled"), hung])).toBe("settled");
    await app.shutdown();
    expect([ends.length, reports, lock.locked()]).toEqual([6, [], false]);
    for (const end of ends) {
      expect([["TimeoutError"], ["outer: TimeoutError"]]).toContainEqual(end);
    }
  });

  it("without the asyncLocalStorage option, a then() of a task that another task's body took for its await is rejected when shutdown() abandons both", async () => {
    // B.then(onDone, onError), made in a microtask while A's function is due its first asynkit
    // then(), is taken for A's await: A's task drives it. Abandoned as the loop closes, A left
    // it unanswered, where a then() that went to B's own promise gets the InvalidStateError.
    const app = new HostEventLoop();
    app.setExceptionHandler(() => {}); // each abandoned task is reported
    const answers: string[] = [];
    const answer = (task: Task<unknown>): void => {
      task.then(
        () => answers.push(`${task.getName()}: done`),
        (error: Error) => answers.push(`${task.getName()}: ${error.name}`),
      );
    };
    // Ignores taskSignal(), and settles once the loop closed (however late the host's timers
    // run): the functions then end, not left counted as on the host, where they would
    // trouble the virtual loops of later tests.
    let settle = (): void => {};
    const settled = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const onTheHost = () => settled;
    const a = app.submit(
      async () => {
        queueMicrotask(() => {
          answer(app.submit(onTheHost, { name: "b" }));
        });
        await onTheHost();
      },
      { name: "a" },
    );
    answer(a);
    await delay(20);
    await app.shutdown({ timeout: 20 });
    expect(answers.sort()).toEqual(["a: InvalidStateError", "b: InvalidStateError"]);
    settle();
    await delay(0);
  });

  it("without the asyncLocalStorage option, a waitFor() after a host await that a timeout() body's task took still times out", async () => {
    // Three clients, two requests each. The second handler's await of waitFor(put) is no
    // task's code; a task whose timeout() body drove an await took it, and the waitFor's
    // deadline was entered under that body's await, not its function's: it stayed with the
    // task when the await went on in a task of its own, and never fired.
    const app = new HostEventLoop();
    const neverSet = new Event();
    const queue = new Queue<number>(2);
    const handler = async () => {
      await timeout(11, async () => {
        try {
          const task = createTask(() => waitFor(neverSet.wait(), 1));
          task.addDoneCallback((done) => {
            if (!done.cancelled()) done.exception(); // its failure is seen
          });
          await Promise.all([sleep(0), task]);
        } catch {}
      });
      await delay(2);
      await waitFor(queue.put(18), 5); // from the third put on: TimeoutError after 5 ms
    };
    const ends: string[] = [];
    const clients = Promise.all(
      [0, 1, 2].map(async () => {
        for (let i = 0; i < 2; i++) {
          const end = await outcome(app.submit(timeout(56, handler)));
          ends.push(end instanceof Error ? end.name : String(end));
        }
      }),
    );
    const hung = delay(2_000).then(() => "hung");
    expect(await Promise.race([clients.then(() => "settled"), hung])).toBe("settled");
    await app.shutdown();
    // The queue takes two items; the other puts time out (so may a slow request's timeout(56)).
    expect(ends.length).toBe(6);
    expect(ends.filter((end) => end !== "TimeoutError" && end !== "undefined")).toEqual([]);
    expect(ends.filter((end) => end === "TimeoutError").length).toBeGreaterThanOrEqual(4);
  });

  it("without the asyncLocalStorage option, handlers that cancel a helper awaiting the host end with no internal error", async () => {
    // Eight clients, fifty requests each: a handler's helper makes a task after a host await,
    // where the code is no task's, so awaits get mixed up (as async-functions.md says), and
    // tasks may await each other in a ring. A cancel() that came round such a ring put a task
    // in the ready queue while its function's end stepped it too: "stepped after it finished".
    const app = new HostEventLoop();
    const reports: string[] = [];
    app.setExceptionHandler((_loop, context) => reports.push(context.message));
    const hostTurn = () => new Promise((resolve) => setImmediate(resolve));
    const helper = async () => {
      await hostTurn();
      await createTask(async () => {
        await sleep(1);
        await hostTurn();
        return 2;
      });
    };
    const handler = async () => {
      const task = createTask(helper);
      await delay(0);
      task.cancel();
      await outcome(task);
      return 1;
    };
    const ends = new Map<string, number>();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = 0; i < 50; i++) {
          const end = String(await outcome(app.submit(handler))).split(":")[0] as string;
          ends.set(end, (ends.get(end) ?? 0) + 1);
        }
      }),
    );
    await app.shutdown();
    // A handler's await taken by another task may leave its helper's failure unread.
    const unread = "Task exception was never retrieved";
    expect(reports.filter((message) => message !== unread)).toEqual([]);
    // The documented ends of mixed-up awaits, and the handler's own.
    const documented = ["1", "CancelledError", "Error"];
    expect([...ends.keys()].filter((end) => !documented.includes(end))).toEqual([]);
  });
});

describe("an app loop whose native tasks native code awaits", () => {
  /**
   * A handler resumes in the slice in which the loop also resumed the native
   * code that awaits the tasks (a callback it ran first): that code's next
   * `await task` reaches the loop between the handler's resumption and its
   * own next await. What each of the handler's awaits found as the current task.
   */
  async function handlerSeesItself(options: { asyncLocalStorage: boolean }): Promise<string[]> {
    const app = new HostEventLoop(options);
    const seen: string[] = [];
    let resolveOutside!: () => void;
    const outside = new Promise<void>((resolve) => {
      resolveOutside = resolve;
    });
    const other = app.submit(() => sleep(50), { name: "other" });
    const caller = (async () => {
      await outside;
      await other;
    })();
    const handler = app.submit(
      async () => {
        const me = currentTask();
        app.callSoon(resolveOutside);
        for (let i = 0; i < 3; i++) {
          await sleep(0);
          try {
            const now = currentTask();
            seen.push(now === me ? "itself" : `${now?.getName() ?? "no task"}`);
          } catch {
            seen.push("no loop");
          }
        }
      },
      { name: "handler" },
    );
    await handler;
    await caller;
    await app.shutdown();
    return seen;
  }

  it("with the asyncLocalStorage option, a handler stays its own task across every await", async () => {
    expect(await handlerSeesItself({ asyncLocalStorage: true })).toEqual([
      "itself",
      "itself",
      "itself",
    ]);
  });

  it("without it, the loop goes by order, and the awaiting code's then() is taken for the handler's (servers.md says to give the option)", async () => {
    expect(await handlerSeesItself({ asyncLocalStorage: false })).toEqual([
      "itself",
      "no loop",
      "no loop",
    ]);
  });
});

describe("a native task outliving its loop", () => {
  it("settles quietly after the loop closed", async () => {
    const loop = new VirtualEventLoop();
    const reports: string[] = [];
    loop.setExceptionHandler((_loop, context) => reports.push(context.message));
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let task: Task<string> | null = null;
    await loop.runUntilComplete(async () => {
      task = createTask(async () => {
        await gate; // a host promise, outliving the loop
        return "late";
      });
      await sleep(0);
    });
    loop.close();
    release();
    await afterTwoHostTurns();
    expect([(task as Task<string> | null)?.done(), reports]).toEqual([
      false,
      [
        expect.stringMatching(/awaited a promise the loop did not make, in its step 0/),
        expect.stringMatching(
          /^Task was destroyed but it is pending: its loop was closed: Task "Task-\d+" waits on a native promise only the host settles$/,
        ),
      ],
    ]);
  });
});

describe("Promise.all over asynkit awaitables in a native task", () => {
  it("of helpers in a timeout() body, each awaiting after one host promise: the body's await is taken, not its task's (asyncLocalStorage option)", async () => {
    // The host resumes both helpers in one turn: the first one's await is taken for the
    // body (which waits on the host), the second one's goes to the body too, and the first
    // goes on in a task of its own. The main function, which awaits timeout() itself, keeps
    // its await: taking the second for it had timeout() finish in another task, and the
    // run failed ("iterated while pending", "stepped with nothing to run").
    async function body(): Promise<string[]> {
      const gate = delay(5);
      return await Promise.all([
        (async () => {
          await gate;
          await sleep(150);
          return "a";
        })(),
        (async () => {
          await gate;
          await sleep(1);
          return "b";
        })(),
      ]);
    }
    let expired = (): boolean => false;
    const timedBody = (scope: Timeout) => {
      expired = () => scope.expired();
      return body();
    };
    const asNative = async () => {
      const main = currentTask();
      const got = await timeout(60, timedBody);
      await sleep(1);
      return [got, expired(), currentTask() === main];
    };
    const asGenerator = function* () {
      const main = currentTask();
      const got = yield* timeout(60, timedBody);
      yield* sleep(1);
      return [got, expired(), currentTask() === main];
    };
    for (const main of [asNative, asGenerator]) {
      const reports: string[] = [];
      const loop = new HostEventLoop({ asyncLocalStorage: true });
      loop.setExceptionHandler((_loop, context) => reports.push(context.message));
      const started = performance.now();
      const result = await loop.runUntilComplete(main);
      loop.close();
      // Not cancelled: no asynkit await of the body's came after the deadline, so the late
      // result stands (as asyncio.timeout() leaves an undelivered cancellation).
      expect([result, reports]).toEqual([[["a", "b"], true, true], []]);
      expect(performance.now() - started).toBeGreaterThanOrEqual(150);
    }
  });

  it("of helpers that each run async bodies of their own: an await is not taken for a body it may not be from (asyncLocalStorage option)", async () => {
    // Sibling lines of code in one task, each in a timeout() or taskGroup() body: which body
    // an await found by the async context is from cannot be told, and taking it for the last
    // one begun queued a second step of the task, which then ran with nothing to run. That
    // depended on the host's timing: one run in three as a program of its own, fewer here,
    // so it runs forty times.
    async function twice(): Promise<string> {
      await sleep(1);
      await sleep(6);
      return "twice";
    }
    async function bodies(): Promise<string> {
      await timeout(7, async () => {});
      await taskGroup(async () => {
        await sleep(6);
      });
      return "bodies";
    }
    async function siblings(): Promise<string[]> {
      const all = await Promise.all([twice(), bodies(), bodies()]);
      return [...all, await createTask(bodies)];
    }
    async function main(): Promise<unknown> {
      await Promise.allSettled([bodies(), (async () => await bodies())()]);
      const got = await createTask(siblings);
      await timeout(15, async () => {
        await timeout(0, async () => {});
        await taskGroup(async () => {
          await timeout(0, async () => {});
        });
      });
      return got;
    }
    for (let run = 0; run < 40; run++) {
      const reports: string[] = [];
      const loop = new HostEventLoop({ asyncLocalStorage: true });
      loop.setExceptionHandler((_loop, context) => reports.push(context.message));
      const result = await loop.runUntilComplete(main);
      loop.close();
      expect([result, reports]).toEqual([["twice", "bodies", "bodies", "bodies"], []]);
    }
  });

  it("gives the right values, as a host promise: the virtual loop reports it; gather is the ordered form", async () => {
    const reports: string[] = [];
    const result = await onLoop(async () => {
      const all = await Promise.all([sleep(10, "a"), sleep(20, "b")]);
      const gathered = await gather(sleep(10, "c"), sleep(20, "d"));
      return [...all, ...gathered];
    }, reports);
    expect(result).toEqual(["a", "b", "c", "d"]);
    expect(reports).toEqual([expect.stringMatching(/awaited a promise the loop did not make/)]);
  });

  it("on a virtual loop, their sleeps all start before the clock moves: the times and the race's winner are right", async () => {
    const loop = new VirtualEventLoop();
    const result = await onLoop(
      async () => {
        const start = loop.time();
        const all = await Promise.all([sleep(30, "a"), sleep(20, "b"), sleep(10, "c")]);
        const allTook = loop.time() - start;
        const winner = await Promise.race([sleep(500, "work"), sleep(100, "deadline")]);
        return [all, allTook, winner, loop.time() - start];
      },
      [],
      loop,
    );
    expect(result).toEqual([["a", "b", "c"], 30, "deadline", 130]);
  });

  it("a Promise.race whose winner the loop did not take for the function's await is reported on a virtual loop, or fails the task with hostAwaits: 'error'", async () => {
    async function race(winner: "first" | "second", hostAwaits: "report" | "error") {
      const reports: string[] = [];
      const loop = new VirtualEventLoop({ hostAwaits });
      const outcome = await onLoop(
        async () => {
          const racer = createTask(
            async () => {
              const work = createTask(async () => {
                await sleep(winner === "first" ? 10 : 50);
                return "work";
              });
              const won = await Promise.race([work, sleep(20, "deadline")]);
              await sleep(1);
              return won;
            },
            { name: "racer" },
          );
          let outcome: string;
          try {
            outcome = await racer;
          } catch (error) {
            outcome = (error as Error).name;
          }
          await sleep(100); // the race's loser ends
          return outcome;
        },
        reports,
        loop,
      );
      return [outcome, ...reports];
    }
    const reported =
      '<Task pending name="racer"> went on past an await the loop did not resume, in its step 0: it awaited a Promise.race() or Promise.all() of asynkit awaitables, or called without await (void fn()) an async function that awaits asynkit, and the loop took that then() for the function\'s own await; the host settles what the function awaits, so its continuation is not ordered by the loop, and the run is no longer deterministic. ';
    // The first is the one the loop took: it resumes the function, in its order.
    expect(await race("first", "report")).toEqual(["work"]);
    expect(await race("first", "error")).toEqual(["work"]);
    const [outcome, report] = await race("second", "report");
    expect([outcome, report?.slice(0, reported.length)]).toEqual(["deadline", reported]);
    expect(await race("second", "error")).toEqual(["HostAwaitError"]);
  });

  it("an async function called without await (void fn()) that awaits asynkit is reported as what it is", async () => {
    async function request(asyncLocalStorage: boolean): Promise<string[]> {
      const reports: string[] = [];
      const loop = new VirtualEventLoop({ asyncLocalStorage });
      const log: string[] = [];
      async function refreshInBackground(): Promise<void> {
        await sleep(200);
        log.push(`refreshed at ${loop.time()}`);
      }
      await onLoop(
        async () => {
          const served = createTask(
            async () => {
              void refreshInBackground();
              await sleep(500);
              log.push(`served at ${loop.time()}`);
            },
            { name: "request" },
          );
          await served;
        },
        reports,
        loop,
      );
      return [...log, ...reports.map((report) => report.split(". Await what")[0] as string)];
    }
    expect(await request(true)).toEqual([
      "refreshed at 200",
      "served at 500",
      '<Task pending name="request"> went on past an await the loop did not resume, in its step 0: it awaited a Promise.race() or Promise.all() of asynkit awaitables, or called without await (void fn()) an async function that awaits asynkit, and the loop took that then() for the function\'s own await; the host settles what the function awaits, so its continuation is not ordered by the loop, and the run is no longer deterministic',
    ]);
    expect(await request(false)).toEqual([
      "refreshed at 200",
      "served at 500",
      "<Task pending name=\"request\"> awaited a promise the loop did not make, in its step 1: its continuation is not ordered by the loop, so the run is no longer deterministic. That promise is the host's, or that of an async function the task called without await, whose first asynkit await the loop took for the task's",
    ]);
  });

  it("Promise.race over an asynkit awaitable as the first thing: the task ends with its function", async () => {
    // race's then() on the event's wait comes before the function's own await of the race
    // (a host promise), so the task takes it for the function's await and drives it: the
    // function must still end the task when it returns, though that wait never ends.
    const outcome = await run(async () => {
      const task = createTask(async () => await raceANeverEndingWait());
      const late = new Promise<string>((resolve) => setTimeout(() => resolve("not ended"), 200));
      return await Promise.race([task, late]);
    });
    expect(outcome).toBe("fast");
  });

  it("on a virtual loop, that race ends the task too: idle in a microtask is no deadlock yet", async () => {
    // The task's drive of the event's wait leaves the loop idle inside race's then() job,
    // before the function runs on in the microtasks after it.
    const loop = new VirtualEventLoop();
    const result = await onLoop(
      async () => {
        const task = createTask(async () => `${await raceANeverEndingWait()} at ${loop.time()}`);
        return await task;
      },
      [],
      loop,
    );
    expect(result).toBe("fast at 0");
  });

  it("a function that ends while its task drives a wait not its own leaves that wait to a task of its own", async () => {
    // race's then() on the acquire is taken for the function's await: the task queues for
    // the lock. Once the function returned, the acquire goes on in a task of its own, as
    // Promise.race leaves its losers running (and as a then() the loop does not take does).
    const loop = new VirtualEventLoop();
    const result = await onLoop(
      async () => {
        const lock = new Lock();
        await lock.acquire();
        const task = createTask(async () => {
          return await Promise.race([lock.acquire(), Promise.resolve("fast")]);
        });
        const winner = await task;
        const waiting = allTasks().size;
        lock.release();
        await sleep(1);
        return [winner, waiting, lock.locked(), allTasks().size];
      },
      [],
      loop,
    );
    // Two tasks while the lock is held: main and the acquire; the acquire took the lock and ended.
    expect(result).toEqual(["fast", 2, true, 1]);
  });

  it("inside a thenable's own then(), an asynkit awaitable's then(f) gives a promise to chain on", async () => {
    const reports: string[] = [];
    const query = {
      // biome-ignore lint/suspicious/noThenProperty: a thenable, as many query builders are
      then(resolve: (value: string) => void, reject: (error: unknown) => void): void {
        const chained = sleep(10, "x").then((value) => `${value}!`);
        chained.then(resolve, reject);
      },
    };
    const result = await onLoop(async () => {
      const task = createTask(async () => `got ${await query}`, { name: "querying" });
      return await task;
    }, reports);
    expect(result).toBe("got x!");
    // The chain is a host promise: the task's await is not ordered, and the virtual loop says so.
    expect(reports).toEqual([
      expect.stringMatching(
        /^<Task pending name="querying"> awaited a promise the loop did not make/,
      ),
    ]);
  });

  it("after an await that threw, a then() the function calls itself is not an await", async () => {
    const reports: string[] = [];
    const log: string[] = [];
    const loop = new VirtualEventLoop();
    const result = await onLoop(
      async () => {
        const failing = loop.createFuture<string>();
        loop.callLater(5, () => failing.setException(new Error("failed")));
        try {
          await failing;
        } catch (error) {
          log.push(`caught ${(error as Error).message}`);
          // Called while the function runs on: a task of its own, not the function's await.
          sleep(10, "a").then((value) => log.push(`${value} at ${loop.time()}`));
        }
        await sleep(20);
        log.push(`b at ${loop.time()}`);
        return "done";
      },
      reports,
      loop,
    );
    expect(result).toBe("done");
    // b's sleep began at 5, not after a's (35); a's callback runs from a host promise,
    // before the virtual clock goes on.
    expect(log).toEqual(["caught failed", "a at 15", "b at 25"]);
    expect(reports).toEqual([]);
  });
});
