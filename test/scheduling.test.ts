/**
 * The scheduling functions, after asynkit's tests/test_df.py (depth-first
 * execution with createTaskStart, createTaskDescend and eager), the seed's
 * "Event loop tools" and "Scheduling functions" sections as running code, and
 * the documented examples. Every test runs on both scheduling loops.
 */
// biome-ignore-all lint/correctness/useYield: coroutines that finish without suspending are part of what is tested.
import { describe, expect, it } from "vitest";
import {
  type Awaitable,
  blockedTasks,
  type Coro,
  coroEager,
  coroStart,
  createTask,
  createTaskDescend,
  createTaskStart,
  currentTask,
  eventLoopPolicy,
  getEventLoopPolicy,
  getRunningLoop,
  isSchedulingLoop,
  run,
  runnableTasks,
  SchedulingEventLoopPolicy,
  schedulingLoopFactory,
  setEventLoopPolicy,
  sleep,
  sleepInsert,
  type Task,
  type TaskFactory,
  taskIsBlocked,
  taskIsRunnable,
  taskReinsert,
  taskSwitch,
} from "../src/index.js";
import { expectIdentity, LOOP_KINDS, names, runOn } from "./scheduling-helpers.js";

type Method = "nostart" | "start" | "descend" | "eager";
type Convert = (coro: Coro<string[]>) => Coro<Awaitable<string[]>>;

/** Four ways to hand a child coroutine on: as it is, or started in various ways. */
const CONVERT: Record<Method, Convert> = {
  *nostart(coro) {
    return coro;
  },
  *start(coro) {
    return yield* createTaskStart(coro);
  },
  *descend(coro) {
    return yield* createTaskDescend(coro);
  },
  *eager(coro) {
    return coroEager(coro);
  },
};

/**
 * A request that makes two child requests, converts them and waits for them;
 * at the bottom it sleeps. Each step is logged with the request's label.
 */
function* recursive(
  convert: Convert,
  maxDepth: number,
  log: string[],
  depth = 0,
  label = "0",
): Coro<string[]> {
  log.push(`${label}a`);
  try {
    if (depth === maxDepth) {
      log.push(`${label}B`);
      yield* sleep(10);
      return [label];
    }
    const a = yield* convert(recursive(convert, maxDepth, log, depth + 1, `${label}:0`));
    const b = yield* convert(recursive(convert, maxDepth, log, depth + 1, `${label}:1`));
    log.push(`${label}b`);
    const first = yield* a;
    const second = yield* b;
    return [...first, ...second];
  } finally {
    log.push(`${label}c`);
  }
}

/** The log when the children are plain coroutines, awaited one after the other. */
function normalLog(maxDepth: number, log: string[] = [], depth = 0, label = "0"): string[] {
  log.push(`${label}a`);
  if (depth === maxDepth) {
    log.push(`${label}B`, `${label}c`);
  } else {
    log.push(`${label}b`);
    normalLog(maxDepth, log, depth + 1, `${label}:0`);
    normalLog(maxDepth, log, depth + 1, `${label}:1`);
    log.push(`${label}c`);
  }
  return log;
}

/** The log of depth-first execution: each child runs until it blocks before its parent goes on. */
function dfLog(maxDepth: number, log: string[] = [], depth = 0, label = "0", part = 0): string[] {
  if (part === 0) {
    log.push(`${label}a`);
    if (depth === maxDepth) {
      log.push(`${label}B`);
    } else {
      dfLog(maxDepth, log, depth + 1, `${label}:0`);
      dfLog(maxDepth, log, depth + 1, `${label}:1`);
      log.push(`${label}b`);
    }
  }
  if (part === 1) log.push(`${label}c`);
  if (depth === 0) {
    dfLog(maxDepth, log, depth + 1, `${label}:1`, 1);
    dfLog(maxDepth, log, depth + 1, `${label}:0`, 1);
    log.push(`${label}c`);
  }
  return log;
}

/** The log up to and including `item`: the part that does not depend on timer order. */
function splitLog(log: readonly string[], item = "0b"): string[] {
  const index = log.indexOf(item);
  expect(index).toBeGreaterThanOrEqual(0);
  return log.slice(0, index + 1);
}

const EXPECTED_LOG: Record<Method, (maxDepth: number) => string[]> = {
  nostart: normalLog,
  start: dfLog,
  descend: dfLog,
  eager: dfLog,
};

/** The start method at depth 2, up to "0b": each level of tasks runs a round of the loop later. */
const START_LOG_DEPTH_2 = ["0a", "0:0a", "0:0:0a", "0:0:0B", "0:1a", "0b"];

describe.each(LOOP_KINDS)("on the %s scheduling loop", (kind) => {
  describe.each(["nostart", "start", "descend", "eager"] as const)("children by %s", (method) => {
    it("depth 1: the log is the expected one up to where the parent waits", async () => {
      const log: string[] = [];
      const result = await runOn(kind, () => recursive(CONVERT[method], 1, log));
      expect(result).toEqual(["0:0", "0:1"]);
      expect(splitLog(log)).toEqual(splitLog(EXPECTED_LOG[method](1)));
      expect(log).toHaveLength(EXPECTED_LOG[method](1).length);
    });

    it("depth 2", async () => {
      const log: string[] = [];
      const result = await runOn(kind, () => recursive(CONVERT[method], 2, log));
      expect(result).toEqual(["0:0:0", "0:0:1", "0:1:0", "0:1:1"]);
      if (method === "start") {
        // Started tasks run breadth-first, a level per round of the loop: neither order.
        const prefix = splitLog(log);
        expect(prefix).not.toEqual(splitLog(normalLog(2)));
        expect(prefix).not.toEqual(splitLog(dfLog(2)));
        expect(prefix).toEqual(START_LOG_DEPTH_2);
      } else if (method === "descend") {
        // asynkit compares this one up to 0:1:1B: the unwinding order is the loop's.
        expect(splitLog(log, "0:1:1B")).toEqual(splitLog(dfLog(2), "0:1:1B"));
      } else {
        expect(splitLog(log)).toEqual(splitLog(EXPECTED_LOG[method](2)));
      }
    });
  });

  describe("createTaskDescend", () => {
    it("runs the child until it blocks, then the caller, then the rest of the queue", async () => {
      const log = await runOn(kind, function* () {
        const log: string[] = [];
        const other = createTask(
          (function* () {
            log.push("other");
          })(),
        );
        const child = yield* createTaskDescend(
          (function* () {
            log.push("child starts");
            yield* sleep(5);
            log.push("child ends");
            return 7;
          })(),
          { name: "child" },
        );
        log.push("caller");
        expect(child.getName()).toBe("child");
        expect(taskIsBlocked(child)).toBe(true);
        expectIdentity();
        expect(yield* child).toBe(7);
        yield* other;
        return log;
      });
      expect(log).toEqual(["child starts", "caller", "other", "child ends"]);
    });

    it("a child that finishes at once is done when the caller goes on", async () => {
      await runOn(kind, function* () {
        const child = yield* createTaskDescend(
          (function* () {
            return "quick";
          })(),
        );
        expect(child.done()).toBe(true);
        expect(child.result()).toBe("quick");
      });
    });

    it("a task factory that starts tasks eagerly: the caller goes on at once", async () => {
      const eagerFactory: TaskFactory = (loop, coro, options) =>
        // biome-ignore lint/suspicious/noExplicitAny: a plain Task with eagerStart, for this test.
        new (currentTask(loop)!.constructor as any)(coro, { ...options, loop, eagerStart: true });
      const log = await runOn(kind, function* () {
        const log: string[] = [];
        getRunningLoop().setTaskFactory(eagerFactory);
        const child = yield* createTaskDescend(
          (function* () {
            log.push("child starts");
            yield* sleep(5);
            log.push("child ends");
          })(),
        );
        log.push("caller");
        expect(taskIsBlocked(child)).toBe(true);
        yield* child;
        return log;
      });
      expect(log).toEqual(["child starts", "caller", "child ends"]);
    });
  });

  describe("createTaskStart", () => {
    it("lets the new task run its first step before the caller goes on", async () => {
      const log = await runOn(kind, function* () {
        const log: string[] = [];
        createTask(
          (function* () {
            log.push("ready before");
          })(),
        );
        const task = yield* createTaskStart(
          (function* () {
            log.push("started");
            yield;
            log.push("second step");
          })(),
          { name: "started" },
        );
        log.push("caller");
        expect(task.getName()).toBe("started");
        expect(taskIsRunnable(task)).toBe(true);
        yield* task;
        return log;
      });
      expect(log).toEqual(["ready before", "started", "caller", "second step"]);
    });
  });

  describe("the identity allTasks() == runnable ∪ blocked ∪ {current}", () => {
    it("holds in tasks and callbacks while tasks are moved, switched, woken and done", async () => {
      let checks = 0;
      const check = (): void => {
        expectIdentity();
        checks++;
      };
      await runOn(kind, function* () {
        const loop = getRunningLoop();
        const gate = loop.createFuture<void>();
        function* worker(i: number): Coro<void> {
          check();
          if (i % 3 === 0) yield* gate;
          check();
          yield* sleepInsert(i % 2);
          check();
          yield* sleep(i);
          check();
        }
        const tasks = Array.from({ length: 9 }, (_, i) => createTask(worker(i)));
        check();
        taskReinsert(tasks[8]!, 0);
        check();
        yield* taskSwitch(tasks[4]!, { insertPos: 2 });
        check();
        loop.callSoon(check);
        yield* sleepInsert(3);
        check();
        gate.setResult();
        check();
        loop.callSoon(check);
        const child = yield* createTaskDescend(worker(1));
        check();
        for (const task of [...tasks, child]) yield* task;
        check();
      });
      expect(checks).toBeGreaterThan(40);
    });
  });

  describe("sleepInsert", () => {
    /** Tasks that log their names, ready in that order. */
    function logging(log: string[], names: string[]): void {
      for (const name of names) {
        createTask(
          (function* () {
            log.push(name);
          })(),
        );
      }
    }

    it("from a position past the end wakes last, and a negative position counts from the end", async () => {
      const log = await runOn(kind, function* () {
        const log: string[] = [];
        logging(log, ["a", "b", "c"]);
        yield* sleepInsert(10);
        log.push("main 1");
        logging(log, ["d", "e", "f"]);
        yield* sleepInsert(-1);
        log.push("main 2");
        yield* sleep(0);
        return log;
      });
      expect(log).toEqual(["a", "b", "c", "main 1", "d", "e", "main 2", "f"]);
    });

    it("closed before it yielded to its task, moves nothing: the task's next wait is its own", async () => {
      const log = await runOn(kind, function* () {
        const log: string[] = [];
        logging(log, ["a", "b", "c"]);
        coroStart(sleepInsert(0)).close();
        log.push("main");
        yield* sleep(0);
        log.push("main again");
        return log;
      });
      expect(log).toEqual(["main", "a", "b", "c", "main again"]);
    });

    it("checks its argument at once, and needs a task to put to sleep", async () => {
      expect(() => sleepInsert(1.5)).toThrow(
        new RangeError(
          "sleepInsert() expects pos to be an integer, got number 1.5: pass a whole number.",
        ),
      );
      await runOn(kind, function* () {
        const loop = getRunningLoop();
        let error: unknown = null;
        loop.callSoon(() => {
          try {
            sleepInsert(0).next();
          } catch (e) {
            error = e;
          }
        });
        yield* sleep(0);
        expect((error as Error).message).toBe(
          "sleepInsert() must be awaited by a task: yield* it from a coroutine the loop runs.",
        );
      });
    });
  });

  describe("a cancelled task moved around", () => {
    it("taskSwitch to a task whose cancellation is pending lets it end at once", async () => {
      const log = await runOn(kind, function* () {
        const log: string[] = [];
        const victim = createTask(
          (function* () {
            try {
              log.push("victim runs");
              yield;
            } finally {
              log.push("victim cleans up");
            }
          })(),
        );
        createTask(
          (function* () {
            log.push("bystander");
          })(),
        );
        yield* sleep(0);
        victim.cancel();
        yield* taskSwitch(victim, { insertPos: 1 });
        log.push(`main, victim cancelled: ${victim.cancelled()}`);
        return log;
      });
      expect(log).toEqual([
        "victim runs",
        "bystander",
        "victim cleans up",
        "main, victim cancelled: true",
      ]);
    });
  });
});

describe("the seed's Event loop tools and Scheduling functions, as running code", () => {
  function* myprogram(): Coro<string> {
    yield* sleepInsert(0);
    return getRunningLoop().constructor.name;
  }

  it("asyncio.set_event_loop_policy(asynkit.SchedulingEventLoopPolicy); asyncio.run(myprogram())", async () => {
    const before = getEventLoopPolicy();
    try {
      setEventLoopPolicy(new SchedulingEventLoopPolicy());
      expect(await run(myprogram())).toBe("SchedulingHostEventLoop");
    } finally {
      setEventLoopPolicy(before);
    }
  });

  it("with asynkit.event_loop_policy(): asyncio.run(myprogram())", async () => {
    const before = getEventLoopPolicy();
    {
      using _ = eventLoopPolicy();
      expect(await run(myprogram())).toBe("SchedulingHostEventLoop");
    }
    expect(getEventLoopPolicy()).toBe(before);
    await expect(run(myprogram())).rejects.toThrow(/needs a scheduling event loop/);
  });

  it("the SchedulingMixin methods: readyLen, readyPop, readyInsert, readyRotate, callInsert", async () => {
    const log = await run(
      function* () {
        const loop = getRunningLoop();
        if (!isSchedulingLoop(loop)) throw new Error("not a scheduling loop");
        const log: string[] = [];
        for (const name of ["a", "b", "c", "d"]) loop.callSoon(() => log.push(name));
        expect(loop.readyLen()).toBe(4);
        loop.readyInsert(0, loop.readyPop()); // d a b c
        loop.readyRotate(-1); // a b c d
        loop.readyRotate(2); // c d a b
        loop.callInsert(1, () => log.push("inserted")); // c inserted d a b
        yield* sleep(0);
        return log;
      },
      { loopFactory: schedulingLoopFactory },
    );
    expect(log).toEqual(["c", "inserted", "d", "a", "b"]);
  });

  it("sleep_insert(pos), task_reinsert(pos) and create_task_descend(coro)", async () => {
    const log = await run(
      function* () {
        const log: string[] = [];
        const spawn = (name: string): Task<void> =>
          createTask(
            (function* () {
              log.push(name);
            })(),
          );
        spawn("a");
        spawn("b");
        yield* sleepInsert(1); // wake after one other entry: after a
        log.push("main");
        spawn("c");
        spawn("d");
        taskReinsert(0); // d, just created, goes first: d b c
        const child = yield* createTaskDescend(
          (function* () {
            log.push("child");
            yield* sleep(1);
          })(),
        );
        log.push("main again");
        yield* child;
        return log;
      },
      { loopFactory: schedulingLoopFactory },
    );
    expect(log).toEqual(["a", "main", "child", "main again", "d", "b", "c"]);
  });
});

describe("documented examples", () => {
  it("sleepInsert(1) with three tasks ready", async () => {
    const log: string[] = [];
    await run(
      function* () {
        for (const name of ["a", "b", "c"]) {
          createTask(
            (function* () {
              log.push(name);
            })(),
          );
        }
        yield* sleepInsert(1);
        log.push("main");
      },
      { loopFactory: schedulingLoopFactory },
    );
    expect(log).toEqual(["a", "main", "b", "c"]);
  });

  it("taskReinsert(tasks[2], 0)", async () => {
    const log: string[] = [];
    await run(
      function* () {
        const tasks = ["a", "b", "c"].map((name) =>
          createTask(
            (function* () {
              log.push(name);
            })(),
          ),
        );
        taskReinsert(tasks[2]!, 0);
        yield* tasks[1]!;
      },
      { loopFactory: schedulingLoopFactory },
    );
    expect(log).toEqual(["c", "a", "b"]);
  });

  it("taskSwitch(b, { insertPos: 1 })", async () => {
    const log: string[] = [];
    await run(
      function* () {
        const a = createTask(
          (function* () {
            log.push("a");
          })(),
        );
        const b = createTask(
          (function* () {
            log.push("b");
          })(),
        );
        yield* taskSwitch(b, { insertPos: 1 });
        log.push("main");
        yield* a;
      },
      { loopFactory: schedulingLoopFactory },
    );
    expect(log).toEqual(["b", "main", "a"]);
  });

  it("createTaskStart, taskIsBlocked, runnableTasks and blockedTasks", async () => {
    await run(
      function* () {
        const started = yield* createTaskStart((function* () {})());
        expect(started.done()).toBe(true);
        const task = createTask(sleep(10));
        expect(taskIsBlocked(task)).toBe(false);
        expect(taskIsRunnable(task)).toBe(true);
        expect(names(runnableTasks())).toEqual(names([task]));
        yield;
        expect(taskIsBlocked(task)).toBe(true);
        expect(names(blockedTasks())).toEqual(names([task]));
        yield* task;
      },
      { loopFactory: schedulingLoopFactory },
    );
  });
});
