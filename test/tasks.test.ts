/**
 * Task semantics, after CPython's Lib/test/test_asyncio/test_tasks.py: how a
 * task steps its coroutine, what a coroutine may yield, currentTask/allTasks,
 * names, eager start, task factories and ensureFuture.
 */
// biome-ignore-all lint/correctness/useYield: coroutines that finish without suspending are part of what is tested.
import { describe, expect, it } from "vitest";
import {
  allTasks,
  type BaseEventLoop,
  ContextVar,
  type Coro,
  copyContext,
  createTask,
  currentTask,
  ensureFuture,
  Future,
  fromPromise,
  HostEventLoop,
  run,
  sleep,
  Task,
  type TaskFactory,
  VirtualEventLoop,
} from "../src/index.js";
import { catching, caught, runV } from "./helpers.js";

describe("stepping", () => {
  it("a new task starts on the loop's next turn, after what is already ready", () => {
    const log: string[] = [];
    runV(
      (function* () {
        const loop = currentTask()!.getLoop();
        loop.callSoon(() => log.push("soon-1"));
        const t = createTask(
          (function* () {
            log.push("task start");
            yield;
            log.push("task end");
          })(),
        );
        loop.callSoon(() => log.push("soon-2"));
        log.push("main");
        yield* t;
        log.push("main end");
      })(),
    );
    expect(log).toEqual(["main", "soon-1", "task start", "soon-2", "task end", "main end"]);
  });

  it("a bare yield puts the task at the end of the ready queue", () => {
    const log: string[] = [];
    runV(
      (function* () {
        const ticker = (name: string, n: number) =>
          createTask(
            (function* () {
              for (let i = 0; i < n; i++) {
                log.push(`${name}${i}`);
                yield;
              }
            })(),
          );
        const a = ticker("a", 3);
        const b = ticker("b", 2);
        const c = ticker("c", 3);
        yield* a;
        yield* b;
        yield* c;
      })(),
    );
    expect(log).toEqual(["a0", "b0", "c0", "a1", "b1", "c1", "a2", "c2"]);
  });

  it("yield* sleep(0) also lets every other ready task run once", () => {
    const log: string[] = [];
    runV(
      (function* () {
        const t = createTask(
          (function* () {
            log.push("t");
          })(),
        );
        log.push("before");
        yield* sleep(0);
        log.push("after");
        yield* t;
      })(),
    );
    expect(log).toEqual(["before", "t", "after"]);
  });

  it("yield* task gives the task's result; many waiters get it in order", () => {
    const log: string[] = [];
    const result = runV(
      (function* () {
        const worker = createTask(sleep(10, "value"));
        const waiters = [1, 2].map((i) =>
          createTask(
            (function* () {
              log.push(`w${i} got ${yield* worker}`);
            })(),
          ),
        );
        const v = yield* worker;
        log.push(`main got ${v}`);
        for (const w of waiters) yield* w;
        return v;
      })(),
    );
    expect(result).toBe("value");
    expect(log).toEqual(["main got value", "w1 got value", "w2 got value"]);
  });

  it("a task's exception is thrown into the coroutine that waits for it", () => {
    const error = new Error("inner");
    const result = runV(
      caught(function* () {
        const t = createTask(
          (function* (): Coro<never> {
            yield;
            throw error;
          })(),
        );
        return yield* t;
      }),
    );
    expect(result).toBe(error);
  });

  it("a coroutine that returns without suspending finishes its task on the first step", () => {
    const loop = new VirtualEventLoop();
    const t = loop.createTask(
      (function* () {
        return 5;
      })(),
    );
    expect(t.done()).toBe(false);
    expect(loop.runSync(t)).toBe(5);
    expect(t.result()).toBe(5);
    expect(String(t)).toMatch(/^<Task finished name="Task-\d+" result=5>$/);
  });

  it("a coroutine may yield* another coroutine: it runs inline, in the same task", () => {
    const log: string[] = [];
    function* inner(): Coro<number> {
      log.push(`inner in ${currentTask()?.getName()}`);
      yield;
      return 2;
    }
    const result = runV(
      (function* () {
        log.push(`outer in ${currentTask()?.getName()}`);
        return (yield* inner()) * 10;
      })(),
    );
    expect(result).toBe(20);
    expect(log[0]!.slice(9)).toBe(log[1]!.slice(9));
  });
});

describe("what a coroutine may yield", () => {
  it("`yield future` without * throws a TypeError into the coroutine that says to use yield*", () => {
    const loop = new VirtualEventLoop();
    const result = loop.runSync(
      caught(function* () {
        const f = loop.createFuture<number>();
        yield f as never;
        return "not reached";
      }),
    );
    expect(result).toBeInstanceOf(TypeError);
    expect((result as Error).message).toContain(
      "`yield future` was used instead of `yield* future`",
    );
  });

  it("a step made by hand is a bad yield too: only a wait's own step hands the task a future", () => {
    const loop = new VirtualEventLoop();
    const f = loop.createFuture<number>();
    const forged = {
      next: () => ({ done: false, value: f }),
      throw: (error: unknown) => {
        throw error;
      },
      [Symbol.iterator]() {
        return this;
      },
    };
    const result = loop.runSync(
      caught(function* () {
        yield* forged as unknown as Coro<number>;
      }),
    );
    expect(result).toBeInstanceOf(TypeError);
    expect((result as Error).message).toContain(
      "`yield future` was used instead of `yield* future`",
    );
  });

  it("a wait begun by hand and dropped leaves nothing behind: `yield future` is still reported", () => {
    const loop = new VirtualEventLoop();
    const f = loop.createFuture<number>();
    const result = loop.runSync(
      caught(function* () {
        f[Symbol.iterator]().next(); // the first step of a wait, which no task takes
        yield f as never;
      }),
    );
    expect(result).toBeInstanceOf(TypeError);
    expect((result as Error).message).toContain(
      "`yield future` was used instead of `yield* future`",
    );
  });

  it("yielding any other value throws a TypeError that names it", () => {
    const result = runV(
      caught(function* () {
        yield 42 as never;
      }),
    );
    expect(result).toBeInstanceOf(TypeError);
    expect((result as Error).message).toMatch(/bad yield number 42/);
    expect((result as Error).message).toMatch(/yield\*/);
  });

  it("yielding a promise says how a coroutine waits for one", () => {
    const result = runV(
      caught(function* () {
        yield Promise.resolve(1) as never;
      }),
    );
    expect((result as Error).message).toMatch(
      /got bad yield .*: a coroutine waits for a promise with `yield\* fromPromise\(promise\)`\.$/,
    );
  });

  it("a coroutine that catches the TypeError goes on, one turn later", () => {
    const log: string[] = [];
    const result = runV(
      (function* () {
        const other = createTask(
          (function* () {
            log.push("other");
          })(),
        );
        try {
          yield "oops" as never;
        } catch (e) {
          log.push((e as Error).constructor.name);
        }
        yield* other;
        return "recovered";
      })(),
    );
    expect(result).toBe("recovered");
    expect(log).toEqual(["other", "TypeError"]);
  });

  it("a task that waits on itself gets an Error", () => {
    const result = runV(
      (function* () {
        const me = { task: null as Task<unknown> | null };
        const t = createTask(
          caught(function* () {
            return yield* me.task!;
          }),
        );
        me.task = t;
        return yield* t;
      })(),
    );
    expect(result).toBeInstanceOf(Error);
    expect((result as Error).message).toMatch(/cannot wait on itself/);
  });

  it("waiting on a future of another loop gets an Error that says to use this loop", () => {
    const other = new VirtualEventLoop();
    const result = runV(
      caught(function* () {
        return yield* other.createFuture<number>();
      }),
    );
    expect(result).toBeInstanceOf(Error);
    expect((result as Error).message).toMatch(/belongs to a different event loop/);
  });

  it("waiting on a task of another running loop names both loops, and says to wait through fromPromise()", async () => {
    const app = new HostEventLoop();
    try {
      const appTask = app.submit(sleep(5, "from app"));
      const error = await run(function* () {
        try {
          yield* appTask;
        } catch (e) {
          return e as Error;
        }
      });
      // Each loop numbers its own tasks: both are "Task-1".
      expect(error?.message).toBe(
        '<Task pending name="Task-1"> waited on <Task pending name="Task-1">, which belongs to a different event loop ' +
          "(<HostEventLoop running ready=0 timers=1>, running beside this task's <HostEventLoop running ready=0 timers=0>): " +
          "wait for another loop's work through a promise, `yield* fromPromise(task)` in a coroutine " +
          "(an async function's await does so itself), or create it on this task's loop.",
      );
      expect(
        await run(function* () {
          return yield* fromPromise(appTask);
        }),
      ).toBe("from app");
    } finally {
      await app.shutdown();
    }
  });
});

describe("currentTask and allTasks", () => {
  it("currentTask is the task whose step runs, null in a plain callback", () => {
    const loop = new VirtualEventLoop();
    const seen: (Task | null)[] = [];
    const main = loop.createTask(
      (function* () {
        seen.push(currentTask());
        loop.callSoon(() => seen.push(currentTask()));
        const t = createTask(
          (function* () {
            seen.push(currentTask());
          })(),
        );
        yield* t;
        seen.push(currentTask());
        return t;
      })(),
    );
    const t = loop.runSync(main);
    expect(seen).toEqual([main, null, t, main]);
    expect(currentTask(loop)).toBeNull();
  });

  it("currentTask() with no running loop throws", () => {
    expect(() => currentTask()).toThrow(/no running event loop/);
  });

  it("currentTask is right when tasks interleave", () => {
    const log: string[] = [];
    runV(
      (function* () {
        const make = (name: string) =>
          createTask(
            (function* () {
              for (let i = 0; i < 2; i++) {
                log.push(`${name}:${currentTask()?.getName()}`);
                yield;
              }
            })(),
            { name },
          );
        const a = make("A");
        const b = make("B");
        yield* a;
        yield* b;
      })(),
    );
    expect(log).toEqual(["A:A", "B:B", "A:A", "B:B"]);
  });

  it("allTasks holds the tasks not yet done, main included", () => {
    const loop = new VirtualEventLoop();
    const sizes: number[] = [];
    loop.runSync(
      (function* () {
        const main = currentTask()!;
        const a = createTask(sleep(10));
        const b = createTask(sleep(20));
        const all = allTasks();
        expect(all).toEqual(new Set([main, a, b]));
        sizes.push(all.size);
        yield* a;
        expect(allTasks()).toEqual(new Set([main, b]));
        yield* b;
        sizes.push(allTasks().size);
      })(),
    );
    sizes.push(allTasks(loop).size);
    expect(sizes).toEqual([3, 1, 0]);
  });

  it("allTasks returns a new set each time", () => {
    runV(
      (function* () {
        const s = allTasks();
        s.clear();
        expect(allTasks().size).toBe(1);
      })(),
    );
  });
});

describe("names, coroutine and context", () => {
  it("default names are Task-N, numbered in creation order", () => {
    const loop = new VirtualEventLoop();
    const a = loop.createTask((function* () {})());
    const b = loop.createTask((function* () {})());
    const na = Number(/^Task-(\d+)$/.exec(a.getName())?.[1]);
    expect(b.getName()).toBe(`Task-${na + 1}`);
    loop.runSync(b);
  });

  it("name option, setName, and toString", () => {
    const loop = new VirtualEventLoop();
    const t = loop.createTask((function* () {})(), { name: "worker" });
    expect(t.getName()).toBe("worker");
    t.setName(7 as never);
    expect(t.getName()).toBe("7");
    expect(String(t)).toBe('<Task pending name="7">');
    loop.runSync(t);
  });

  it("toString says cancelling while a cancel() request waits to be taken (test_cancelling)", () => {
    const loop = new VirtualEventLoop();
    const t = loop.createTask(sleep(10), { name: "sleeper" });
    const seen = [String(t)];
    t.cancel();
    seen.push(String(t));
    t.uncancel();
    seen.push(String(t));
    t.cancel();
    loop.runSync(catching(t));
    seen.push(String(t));
    loop.close();
    expect(seen).toEqual([
      '<Task pending name="sleeper">',
      '<Task cancelling name="sleeper">',
      '<Task pending name="sleeper">',
      '<Task cancelled name="sleeper">',
    ]);
  });

  it("getCoro returns the coroutine; getContext the task's context", () => {
    const loop = new VirtualEventLoop();
    const coro = (function* () {})();
    const ctx = copyContext();
    const t = loop.createTask(coro, { context: ctx });
    expect(t.getCoro()).toBe(coro);
    expect(t.getContext()).toBe(ctx);
    loop.runSync(t);
  });

  it("getCoro is null for a task that ended within its eager start (test_issue122332)", () => {
    const loop = new VirtualEventLoop();
    const got = loop.runSync(
      (function* () {
        const quick = (function* () {
          return 1;
        })();
        const slow = (function* () {
          yield* sleep(1);
        })();
        const ended = createTask(quick, { eagerStart: true });
        const waiting = createTask(slow, { eagerStart: true });
        const coros = [ended.getCoro(), waiting.getCoro() === slow];
        yield* waiting;
        return [...coros, waiting.getCoro() === slow];
      })(),
    );
    loop.close();
    expect(got).toEqual([null, true, true]);
  });

  it("setResult and setException on a task throw and say why", () => {
    const loop = new VirtualEventLoop();
    const t = loop.createTask((function* () {})());
    expect(() => t.setResult(undefined)).toThrow(/result is what its coroutine returns/);
    expect(() => t.setException(new Error())).toThrow(/cancel\(\) it, or throw/);
    loop.runSync(t);
  });

  it("new Task() with something that is not a coroutine throws a TypeError", () => {
    const loop = new VirtualEventLoop();
    expect(() => new Task(42 as never, { loop })).toThrow(TypeError);
    expect(() => new Task(42 as never, { loop })).toThrow(
      /new Task\(\) expects coro to be a coroutine/,
    );
  });
});

describe("eagerStart", () => {
  it("runs the coroutine at once, as the current task, until it first suspends", () => {
    const log: string[] = [];
    runV(
      (function* () {
        const main = currentTask();
        const t = createTask(
          (function* () {
            log.push(`eager in ${currentTask() === main ? "main" : "own task"}`);
            yield;
            log.push("resumed");
          })(),
          { eagerStart: true },
        );
        log.push(`back in ${currentTask() === main ? "main" : "?"}`);
        yield* t;
      })(),
    );
    expect(log).toEqual(["eager in own task", "back in main", "resumed"]);
  });

  it("a coroutine that returns at once gives a task that is already done", () => {
    runV(
      (function* () {
        const t = createTask(
          (function* () {
            return "quick";
          })(),
          { eagerStart: true },
        );
        expect(t.done()).toBe(true);
        expect(t.result()).toBe("quick");
        expect(allTasks().has(t)).toBe(false);
        yield;
      })(),
    );
  });

  it("on a loop that is not running, eagerStart just schedules the task", () => {
    const loop = new VirtualEventLoop();
    const log: string[] = [];
    const t = loop.createTask(
      (function* () {
        log.push("ran");
      })(),
      { eagerStart: true },
    );
    expect(log).toEqual([]);
    loop.runSync(t);
    expect(log).toEqual(["ran"]);
  });

  it("an eager task runs in its own copy of the context", () => {
    const v = new ContextVar<string>("v", { default: "outer" });
    const result = runV(
      (function* () {
        v.set("main");
        const t = createTask(
          (function* () {
            const seen = v.get();
            v.set("eager");
            yield;
            return seen;
          })(),
          { eagerStart: true },
        );
        const inMain = v.get();
        return [yield* t, inMain];
      })(),
    );
    expect(result).toEqual(["main", "main"]);
  });
});

describe("task factories", () => {
  it("createTask goes through the loop's task factory", () => {
    const loop = new VirtualEventLoop();
    const made: string[] = [];
    const factory: TaskFactory = (l, coro, options) => {
      made.push(options?.name ?? "?");
      return new Task(coro, { ...options, loop: l });
    };
    loop.setTaskFactory(factory);
    expect(loop.getTaskFactory()).toBe(factory);
    const result = loop.runSync(
      (function* () {
        return yield* createTask(sleep(1, "x"), { name: "child" });
      })(),
    );
    expect(result).toBe("x");
    expect(made).toEqual(["?", "child"]);
    loop.setTaskFactory(null);
    expect(loop.getTaskFactory()).toBeNull();
  });

  it("a task the factory leaves unnamed gets the name asked for; one it names keeps its own", () => {
    const loop = new VirtualEventLoop();
    const names = loop.runSync(
      (function* () {
        // Written as asyncio 3.11's docs show a factory, (loop, coro): no options passed on.
        const seen: string[] = [];
        const twoArguments: TaskFactory = (l, coro) => {
          const task = new Task(coro, { loop: l });
          seen.push(task.getName()); // reading its number does not make it named
          return task;
        };
        loop.setTaskFactory(twoArguments);
        const kept = createTask(sleep(1), { name: "worker" });
        const numbered = createTask(sleep(1));
        expect(seen).toEqual([expect.stringMatching(/^Task-\d+$/), numbered.getName()]);
        const naming: TaskFactory = (l, coro, options) => {
          const task = new Task(coro, { loop: l });
          task.setName(`pool:${options?.name ?? "?"}`);
          return task;
        };
        loop.setTaskFactory(naming);
        const renamed = createTask(sleep(1), { name: "worker" });
        loop.setTaskFactory(null);
        return [kept.getName(), numbered.getName(), renamed.getName()];
      })(),
    );
    expect(names[0]).toBe("worker");
    expect(names[1]).toMatch(/^Task-\d+$/);
    expect(names[1]).not.toBe(names[0]);
    expect(names[2]).toBe("pool:worker");
  });

  it("setTaskFactory rejects what is not a function", () => {
    expect(() => new VirtualEventLoop().setTaskFactory(1 as never)).toThrow(TypeError);
  });

  it("a factory that returns no Task fails the call that asked for one, naming the factory", () => {
    const loop = new VirtualEventLoop();
    const message =
      "The loop's task factory, function (anonymous), returned undefined, not a Task: a factory returns new Task(coro, { ...options, loop }), or an instance of a Task subclass (see loop.setTaskFactory()).";
    const seen = loop.runSync(
      (function* () {
        loop.setTaskFactory((() => undefined) as never);
        try {
          createTask(sleep(0), { name: "lost" });
          return "made";
        } catch (error) {
          return (error as Error).message;
        } finally {
          loop.setTaskFactory(null);
        }
      })(),
    );
    expect(seen).toBe(message);
    loop.setTaskFactory((() => 42) as never);
    expect(() => loop.runSync(sleep(0))).toThrow(
      "The loop's task factory, function (anonymous), returned number 42, not a Task",
    );
  });
});

describe("ensureFuture", () => {
  it("returns a future as it is", () => {
    const loop = new VirtualEventLoop();
    const f = loop.createFuture();
    expect(ensureFuture(f)).toBe(f);
    expect(ensureFuture(f, { loop })).toBe(f);
  });

  it("a future of another loop than the one given is an error", () => {
    const f = new VirtualEventLoop().createFuture();
    expect(() => ensureFuture(f, { loop: new VirtualEventLoop() })).toThrow(
      /belongs to a different event loop/,
    );
  });

  it("wraps a coroutine in a task on the given loop", () => {
    const loop = new VirtualEventLoop();
    const t = ensureFuture(sleep(3, "slept"), { loop });
    expect(t).toBeInstanceOf(Task);
    expect(t.getLoop()).toBe(loop);
    expect(loop.runSync(t)).toBe("slept");
  });

  it("wraps another yield*-able (an iterable) in a task", () => {
    const loop = new VirtualEventLoop();
    const iterable = {
      *[Symbol.iterator](): Coro<number> {
        yield;
        return 11;
      },
    };
    const t = ensureFuture(iterable, { loop });
    expect(t).toBeInstanceOf(Task);
    expect(loop.runSync(t)).toBe(11);
  });

  it("wraps a native promise with fromPromise", async () => {
    const value = await run(
      function* () {
        const f = ensureFuture(Promise.resolve(4));
        expect(f).toBeInstanceOf(Future);
        return yield* f;
      },
      { loopFactory: () => new VirtualEventLoop() },
    );
    expect(value).toBe(4);
  });

  it("rejects anything else with a TypeError", () => {
    expect(() => ensureFuture(42 as never)).toThrow(TypeError);
    expect(() => ensureFuture(42 as never)).toThrow(
      /ensureFuture\(\) expects awaitable to be a coroutine, a Future or a promise/,
    );
  });
});

describe("tasks on the loop", () => {
  it("loop.createTask makes a task of that loop", () => {
    const loop: BaseEventLoop = new VirtualEventLoop();
    const t = loop.createTask(sleep(0));
    expect(t.getLoop()).toBe(loop);
    expect(allTasks(loop).has(t)).toBe(true);
    (loop as VirtualEventLoop).runSync(t);
    expect(allTasks(loop).has(t)).toBe(false);
  });
});
