/**
 * eager(), coroEager, funcEager and the decorator form, cancelling/eagerCtx,
 * the eager task factory and createTask({ eagerStart }), after asynkit's
 * tests/test_coro.py (TestEager) and Python 3.12's eager tasks.
 */
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, test } from "vitest";
import {
  allTasks,
  asyncEager,
  type BaseEventLoop,
  CancelledError,
  type ChannelMessage,
  ContextVar,
  type Coro,
  CoroStart,
  cancelling,
  coroEager,
  coroStart,
  createEagerTaskFactory,
  createTask,
  createTaskDescend,
  currentTask,
  Event,
  type ExceptionContext,
  eager,
  eagerCtx,
  eagerTaskFactory,
  ensureFuture,
  Future,
  forAwait,
  funcEager,
  GeneratorObject,
  gather,
  getEventLoopPolicy,
  getRunningLoop,
  HostEventLoop,
  run,
  SchedulingVirtualEventLoop,
  sleep,
  sleepInsert,
  Task,
  type TaskBody,
  TimeoutError,
  taskGroup,
  taskSignal,
  taskSwitch,
  timeout,
  VirtualEventLoop,
} from "../src/index.js";
import { type TaskStats, traceRecorder } from "../src/trace/index.js";
import { catching, failAfter, thrown } from "./helpers.js";

const loops: [string, () => BaseEventLoop][] = [
  ["HostEventLoop", () => new HostEventLoop()],
  ["VirtualEventLoop", () => new VirtualEventLoop()],
];
const runSync = <T>(main: Coro<T>): T => new VirtualEventLoop().runSync(main);

/** What the task.created channel announces while `fn` runs: each new task and its parent, by name. */
function tasksCreatedDuring(fn: () => void): string[] {
  const created: string[] = [];
  const listener = (message: unknown) => {
    const { name, parent } = message as ChannelMessage<"asynkit:task.created">;
    created.push(`${name} under ${parent === null ? null : parent.getName()}`);
  };
  subscribe("asynkit:task.created", listener);
  try {
    fn();
  } finally {
    unsubscribe("asynkit:task.created", listener);
  }
  return created;
}

const eagerVar = new ContextVar<string>("eagerVar");

// biome-ignore lint/correctness/useYield: a coroutine that returns without suspending
function* returns<T>(value: T): Coro<T> {
  return value;
}
// biome-ignore lint/correctness/useYield: a coroutine that throws without suspending
function* throws(error: unknown): Coro<never> {
  throw error;
}
// biome-ignore lint/correctness/useYield: a main coroutine that only needs the loop running
function* inLoop(body: () => void): Coro<void> {
  body();
}
// biome-ignore lint/correctness/useYield: a coroutine that returns what `body` computes, at once
function* inLoopValue<T>(body: () => T): Coro<T> {
  return body();
}

describe.each([
  ["block", true],
  ["noblock", false],
])("eager (TestEager, %s)", (_name, block) => {
  function* coro1(log: unknown[]): Coro<void> {
    log.push(1);
    eagerVar.set("a");
    if (block) yield* sleep(0);
    log.push(2);
    expect(eagerVar.get()).toBe("a");
    eagerVar.set("b");
  }
  const expected = block ? [1, "a", 2] : [1, 2, "a"];
  function* coro6(log: unknown[]): Coro<never> {
    log.push(1);
    if (block) yield* sleep(0);
    log.push(2);
    throw new RangeError("foo");
  }

  describe.each(loops)("on %s", (_loop, loopFactory) => {
    const runOn = <T>(main: Coro<T>): Promise<T> => run(main, { loopFactory });

    test("without eager it runs when awaited, in the caller's context", async () => {
      const log: unknown[] = [];
      await runOn(
        (function* () {
          eagerVar.set("X");
          log.push("a");
          yield* coro1(log);
          expect(eagerVar.get()).toBe("b");
        })(),
      );
      expect(log).toEqual(["a", 1, 2]);
    });

    test("coroEager runs it at once, in a copy of the caller's context", async () => {
      const log: unknown[] = [];
      await runOn(
        (function* () {
          eagerVar.set("X");
          const future = coroEager(coro1(log));
          log.push("a");
          yield* future;
          expect(eagerVar.get()).toBe("X");
        })(),
      );
      expect(log).toEqual(expected);
    });

    test("funcEager and asyncEager wrap a generator function", async () => {
      for (const wrap of [funcEager, asyncEager]) {
        const log: unknown[] = [];
        const eagerCoro1 = wrap(coro1);
        expect(eagerCoro1.name).toBe("coro1");
        await runOn(
          (function* () {
            eagerVar.set("X");
            const future = eagerCoro1(log);
            log.push("a");
            yield* future;
            expect(eagerVar.get()).toBe("X");
          })(),
        );
        expect(log).toEqual(expected);
      }
    });

    test("eager() on a coroutine and on a generator function", async () => {
      const log: unknown[] = [];
      await runOn(
        (function* () {
          eagerVar.set("X");
          let future = eager(coro1(log));
          log.push("a");
          yield* future;
          expect(log).toEqual(expected);
          log.length = 0;
          future = eager(coro1)(log);
          log.push("a");
          yield* future;
          expect(log).toEqual(expected);
          expect(eagerVar.get()).toBe("X");
        })(),
      );
    });

    test("a Task when it blocks, a done Future when it does not", async () => {
      await runOn(
        (function* () {
          const future = eager(coro1([]));
          expect(future instanceof Task).toBe(block);
          expect(future).toBeInstanceOf(Future);
          expect(future.done()).toBe(!block);
          yield* future;
        })(),
      );
    });

    test("an error: raised when awaited, after the part before the block ran", async () => {
      const log: unknown[] = [];
      await runOn(
        (function* () {
          const awaitable = eager(coro6(log));
          expect(log).toEqual(block ? [1] : [1, 2]);
          const caught = yield* catching(awaitable);
          expect(caught).toBeInstanceOf(RangeError);
          expect(log).toEqual([1, 2]);
        })(),
      );
    });

    test("eagerCtx: awaited inside the scope", async () => {
      const log: unknown[] = [];
      await runOn(
        (function* () {
          using c = eagerCtx(coro1(log));
          log.push("a");
          yield* c;
        })(),
      );
      expect(log).toEqual(expected);
    });

    test("eagerCtx: leaving the scope cancels work not awaited", async () => {
      const log: unknown[] = [];
      await runOn(
        (function* () {
          let c: Future<void>;
          {
            using scoped = eagerCtx(coro1(log));
            c = scoped;
            log.push("a");
          }
          if (block) {
            const caught = yield* catching(c);
            expect(caught).toBeInstanceOf(CancelledError);
            expect(c.cancelled()).toBe(true);
            expect(log).toEqual([1, "a"]);
          } else {
            expect(log).toEqual(expected);
            expect(c.cancelled()).toBe(false);
          }
        })(),
      );
    });
  });
});

describe("eager: what runs where", () => {
  test("no task and no loop round trip when it does not block", () => {
    runSync(
      inLoop(() => {
        const loop = getRunningLoop();
        const tasksBefore = allTasks().size;
        const readyBefore = loop._ready.length;
        const future = eager(returns(7));
        expect(loop._ready.length).toBe(readyBefore);
        expect(allTasks().size).toBe(tasksBefore);
        expect(future.result()).toBe(7);
      }),
    );
  });

  test("currentTask() in the start is the task that carries the rest; the caller's is untouched", () => {
    const seen: unknown[] = [];
    runSync(
      (function* () {
        const me = currentTask();
        function* child(): Coro<void> {
          const mine = currentTask();
          seen.push(mine instanceof Task, mine === me, currentTask() === mine);
          yield* sleep(1);
          seen.push(currentTask() === mine, mine === task);
        }
        const task = eager(child());
        expect(task).toBeInstanceOf(Task);
        expect(currentTask()).toBe(me);
        yield* task;
      })(),
    );
    expect(seen).toEqual([true, false, true, true, true]);
  });

  test("a bare yield at the start resumes after one round of the ready queue, as the task's own yield", () => {
    const log: unknown[] = [];
    runSync(
      (function* () {
        function* f(): Coro<void> {
          log.push(1);
          yield;
          log.push(2);
        }
        const t = eager(f());
        log.push("a");
        yield;
        log.push("b");
        yield;
        log.push("c");
        yield* t;
      })(),
    );
    // Python's asynkit takes two: its task's first step yields the suspension again.
    expect(log).toEqual([1, "a", 2, "b", "c"]);
  });

  test.each(["sleepInsert(0)", "taskSwitch(other, { insertPos: 1 })", "createTaskDescend(child)"])(
    "%s in a start moves or follows its task, as in a task started eagerly",
    (call) => {
      const logs = (["eager()", "eagerStart"] as const).map((how) => {
        const log: string[] = [];
        new SchedulingVirtualEventLoop().runSync(
          (function* () {
            const other = createTask(inLoop(() => log.push("other")));
            createTask(inLoop(() => log.push("later")));
            function* work(): Coro<void> {
              log.push("start");
              if (call === "sleepInsert(0)") yield* sleepInsert(0);
              else if (call.startsWith("taskSwitch")) yield* taskSwitch(other, { insertPos: 1 });
              else {
                yield* createTaskDescend(inLoop(() => log.push("child")));
              }
              log.push("resumed");
            }
            const t = how === "eager()" ? eager(work()) : createTask(work(), { eagerStart: true });
            log.push("caller");
            yield* t;
          })(),
        );
        return log;
      });
      expect(logs[0]).toEqual(logs[1]);
      expect(logs[0]).toEqual(
        call === "sleepInsert(0)"
          ? ["start", "caller", "resumed", "other", "later"]
          : call.startsWith("taskSwitch")
            ? ["start", "caller", "other", "resumed", "later"]
            : ["start", "caller", "child", "resumed", "other", "later"],
      );
    },
  );

  test.each(["future", "bare yield"])(
    "under a task factory that drops options, a start suspended at a %s is continued by its task's own first step",
    (kind) => {
      const log: string[] = [];
      const loop = new VirtualEventLoop();
      loop.setExceptionHandler((_loop, context) => log.push(`report: ${context.message}`));
      const result = loop.runSync(
        (function* () {
          getRunningLoop().setTaskFactory((made, coro) => new Task(coro, { loop: made }));
          const gate = new Future<string>();
          function* work(): Coro<string> {
            log.push("start");
            let value = "bare";
            if (kind === "future") value = yield* gate;
            else yield;
            log.push(`resumed with ${value}`);
            return "done";
          }
          const t = eager(work());
          log.push("eager returned");
          yield* sleep(5);
          gate.setResult("x");
          return yield* t;
        })(),
      );
      loop.close();
      expect(result).toBe("done");
      expect(log).toEqual(
        kind === "future"
          ? ["start", "eager returned", "resumed with x"]
          : ["start", "eager returned", "resumed with bare"],
      );
    },
  );

  test("a trace counts the wait the start began as its task's, as for a task started eagerly", () => {
    const stats = (["eager()", "eagerStart"] as const).map((how) => {
      const loop = new VirtualEventLoop();
      const recorder = traceRecorder(loop);
      loop.runSync(
        (function* () {
          function* work(): Coro<void> {
            yield* sleep(50);
          }
          yield* how === "eager()" ? eager(work()) : createTask(work(), { eagerStart: true });
        })(),
      );
      recorder.stop();
      loop.close();
      const { steps, waitingMs, readyMs } = recorder.taskStats()[1] as TaskStats;
      return { steps, waitingMs, readyMs };
    });
    expect(stats[0]).toEqual({ steps: 2, waitingMs: 50, readyMs: 0 });
    expect(stats[1]).toEqual(stats[0]);
  });

  test("the task waits on the future the start blocked on", () => {
    const log: unknown[] = [];
    runSync(
      (function* () {
        const loop = getRunningLoop();
        const gate = loop.createFuture<string>();
        function* waiter(): Coro<string> {
          log.push("waiting");
          const v = yield* gate;
          log.push(["woke", v]);
          return v;
        }
        const t = eager(waiter());
        loop.callLater(10, () => gate.setResult("open"));
        log.push(["result", yield* t]);
        expect(loop.time()).toBe(10);
      })(),
    );
    expect(log).toEqual(["waiting", ["woke", "open"], ["result", "open"]]);
  });

  test("the rest runs in the context the start ran in", () => {
    runSync(
      (function* () {
        eagerVar.set("caller");
        function* f(): Coro<string> {
          const token = eagerVar.set("inner");
          yield* sleep(1);
          const seen = eagerVar.get();
          eagerVar.reset(token);
          return `${seen}/${eagerVar.get()}`;
        }
        const t = eager(f());
        expect(eagerVar.get()).toBe("caller");
        expect(yield* t).toBe("inner/caller");
        expect(t instanceof Task && t.getContext().get(eagerVar)).toBe("caller");
        expect(eagerVar.get()).toBe("caller");
      })(),
    );
  });
});

describe("eager: the start's own task, made when asked for", () => {
  function* expires(label: string): Coro<string> {
    try {
      yield* timeout(0, function* () {
        yield* sleep(1);
      });
      return `${label} finished`;
    } catch (error) {
      if (error instanceof TimeoutError) return `${label} timed out`;
      throw error;
    }
  }

  test.each([
    ["eager()", (coro: Coro<string>) => eager(coro)],
    ["createTask", (coro: Coro<string>) => createTask(coro)],
    ["eagerStart", (coro: Coro<string>) => createTask(coro, { eagerStart: true })],
  ])("a timeout in each of three overlapping starts cancels its own start (%s)", (_, start) => {
    const results = runSync(
      (function* () {
        return yield* gather(start(expires("A")), start(expires("B")), start(expires("C")));
      })(),
    );
    expect(results).toEqual(["A timed out", "B timed out", "C timed out"]);
  });

  test("a task made in a start is the child of the start's task, in the tree and on the channel", () => {
    let tree: string[] = [];
    const loop = new VirtualEventLoop();
    const created = tasksCreatedDuring(() =>
      loop.runSync(
        loop.createTask(
          (function* () {
            const outer = eager(
              (function* () {
                createTask(sleep(5), { name: "first child" }); // makes the start's task
                eager(
                  (function* () {
                    createTask(sleep(5), { name: "grandchild" });
                    yield* sleep(1);
                  })(),
                );
                yield* sleep(1);
              })(),
            );
            // A start that returns at once, having made a task: its own task is made, done.
            const quick = eager(
              // biome-ignore lint/correctness/useYield: a coroutine that returns without suspending
              (function* () {
                createTask(sleep(5), { name: "orphan" });
                return 1;
              })(),
            );
            createTask(
              (function* () {
                yield* sleep(1);
              })(),
              { name: "sibling", eagerStart: true },
            );
            tree = getRunningLoop().dumpTasks().split("\n");
            yield* outer;
            return quick;
          })(),
          { name: "main" },
        ),
      ),
    );
    expect(created).toEqual([
      "main under null",
      "Task-1 under main",
      "first child under Task-1",
      "Task-2 under Task-1",
      "grandchild under Task-2",
      "Task-3 under main",
      "orphan under Task-3",
      "sibling under main",
    ]);
    expect(tree).toEqual([
      'Task "main" running',
      '├── Task "Task-1" waits on sleep until t=1 ms',
      '│   ├── Task "first child" ready at position 0',
      '│   └── Task "Task-2" waits on sleep until t=1 ms',
      '│       └── Task "grandchild" ready at position 1',
      '└── Task "sibling" waits on sleep until t=1 ms',
      // Its creator, the quick start's task, is done: the tree shows a child under a live creator only.
      'Task "orphan" ready at position 2',
    ]);
  });

  test("nested starts: the inner start's task is the outer's child, unless it asked before the outer did", () => {
    const nested = (innerAsks: boolean) =>
      tasksCreatedDuring(() => {
        const loop = new VirtualEventLoop();
        loop.runSync(
          loop.createTask(
            (function* () {
              eager(
                (function* () {
                  eager(
                    (function* () {
                      if (innerAsks) createTask(sleep(1), { name: "leaf" });
                      yield* sleep(1);
                    })(),
                  );
                  yield* sleep(1);
                })(),
              );
              yield* sleep(2);
            })(),
            { name: "main" },
          ),
        );
        loop.close();
      });
    // The inner start's task is made as it suspends, in the outer start, which makes the
    // outer's first: numbered and announced first.
    expect(nested(false)).toEqual(["main under null", "Task-1 under main", "Task-2 under Task-1"]);
    // Asked for inside the inner start, before the outer start made its own: under main.
    expect(nested(true)).toEqual([
      "main under null",
      "Task-1 under main",
      "leaf under Task-1",
      "Task-2 under main",
    ]);
  });

  test("a task factory that asks currentTask() while a start's task is made gets the start's caller", () => {
    const loop = new VirtualEventLoop();
    const asked: (string | null)[] = [];
    loop.setTaskFactory((factoryLoop, coro, options) => {
      asked.push(currentTask(factoryLoop)?.getName() ?? null);
      return new Task(coro, { ...options, loop: factoryLoop });
    });
    const started = loop.runSync(
      loop.createTask(
        (function* () {
          const start = eager(
            (function* () {
              const own = currentTask(); // makes the start's task, through the factory
              yield* sleep(1);
              return own?.getName();
            })(),
          );
          return yield* start;
        })(),
        { name: "main" },
      ),
    );
    expect(started).toBe("Task-1");
    expect(asked).toEqual([null, "main"]); // main's own, made before the run; then the start's
  });

  test("a start begun while a start's task is made (in its task factory) gets a task of its own", () => {
    const loop = new VirtualEventLoop();
    const seen: string[] = [];
    const recordOwnTask = function* (): Coro<void> {
      seen.push(currentTask()?.getName() ?? "none");
      yield* sleep(1);
    };
    let first = true;
    loop.setTaskFactory((factoryLoop, coro, options) => {
      const task = new Task(coro, { ...options, loop: factoryLoop });
      if (first && factoryLoop.isRunning()) {
        first = false; // while the outer start's task (Task-1) is made:
        eager(recordOwnTask()); // a start of its own, deeper: Task-2
        createTask(
          (function* () {
            yield* eager(recordOwnTask()); // in a named task's eager first step: Task-3
          })(),
          { name: "helper", eagerStart: true },
        );
      }
      return task;
    });
    loop.runSync(
      loop.createTask(
        (function* () {
          yield* eager(
            (function* () {
              currentTask(); // makes this start's task, through the factory
              yield* sleep(2);
            })(),
          );
        })(),
        { name: "main" },
      ),
    );
    // Each its own task, not the code around the start being made (main), nor the helper.
    expect(seen).toEqual(["Task-2", "Task-3"]);
  });

  test("a Task given to eager() is refused with a hint to wait for it", () => {
    const loop = new VirtualEventLoop();
    loop.runSync(
      (function* () {
        const task = createTask(sleep(1), { name: "x" });
        expect(() => eager(task as never)).toThrow(
          new TypeError(
            'eager() expects x to be a coroutine or a function that returns one (function*), got <Task pending name="x">: a Future (a Task) is awaited, not started: yield* it.',
          ),
        );
        yield* task;
      })(),
    );
  });

  test("a start that asks for its task and returns: that task, done at once, not live", () => {
    runSync(
      inLoop(() => {
        const loop = getRunningLoop();
        const readyBefore = loop._ready.length;
        let inside: unknown = null;
        // biome-ignore lint/correctness/useYield: a coroutine that returns without suspending
        function* quick(): Coro<number> {
          inside = currentTask();
          return 5;
        }
        const result = eager(quick());
        expect(result).toBe(inside);
        expect(result).toBeInstanceOf(Task);
        expect(result.done()).toBe(true);
        expect(result.result()).toBe(5);
        expect(allTasks().has(result as Task)).toBe(false);
        expect(loop._ready.length).toBe(readyBefore);
      }),
    );
  });

  test("a start that asks for its task and throws: that task fails, reported once", () => {
    const loop = new VirtualEventLoop();
    const reports: ExceptionContext[] = [];
    loop.setExceptionHandler((_, context) => reports.push(context));
    const boom = new Error("boom");
    let inside: unknown = null;
    // biome-ignore lint/correctness/useYield: a coroutine that throws without suspending
    function* failing(): Coro<never> {
      inside = currentTask();
      throw boom;
    }
    const started = loop.runSync(inLoopValue(() => eager(failing())));
    expect(started).toBe(inside);
    expect(started.exception()).toBe(boom);
    loop.close();
    expect(reports).toEqual([]);
    const unread = new VirtualEventLoop();
    const unreadReports: ExceptionContext[] = [];
    unread.setExceptionHandler((_, context) => unreadReports.push(context));
    unread.runSync(
      inLoop(() => {
        eager(failing());
      }),
    );
    unread.close();
    expect(unreadReports.map((r) => r.exception)).toEqual([boom]);
  });

  test("a start that throws CancelledError after asking: its task is cancelled", () => {
    runSync(
      inLoop(() => {
        // biome-ignore lint/correctness/useYield: a coroutine that cancels itself without suspending
        function* selfCancel(): Coro<never> {
          currentTask();
          throw new CancelledError("given up");
        }
        const task = eager(selfCancel());
        expect(task.cancelled()).toBe(true);
      }),
    );
  });

  test("a start that throws CancelledError without asking: its future is cancelled too, with the message", () => {
    runSync(
      inLoop(() => {
        // biome-ignore lint/correctness/useYield: a coroutine that cancels itself without suspending
        function* selfCancel(): Coro<never> {
          throw new CancelledError("given up");
        }
        const future = eager(selfCancel());
        expect([future.done(), future.cancelled()]).toEqual([true, true]);
        expect(() => future.result()).toThrow(new CancelledError("given up"));
      }),
    );
  });

  test("cancel() of its own task in the start: CancelledError at its first suspension", () => {
    const log: unknown[] = [];
    runSync(
      (function* () {
        function* child(): Coro<void> {
          const me = currentTask() as Task;
          me.cancel("stop");
          log.push(["cancelling", me.cancelling()]);
          try {
            yield* sleep(10);
            log.push("slept");
          } catch (error) {
            log.push((error as Error).message);
            throw error;
          }
        }
        const task = eager(child());
        log.push(["caller cancelling", currentTask()?.cancelling()]);
        log.push(yield* catching(task));
        expect(task.cancelled()).toBe(true);
        expect(getRunningLoop().time()).toBe(0);
      })(),
    );
    expect(log).toEqual([
      ["cancelling", 1],
      ["caller cancelling", 0],
      "stop",
      expect.any(CancelledError),
    ]);
  });

  test("taskSignal() in the start is the start's task's signal", () => {
    runSync(
      (function* () {
        let signal: AbortSignal | null = null;
        function* child(): Coro<void> {
          signal = taskSignal();
          yield* sleep(10);
        }
        const task = eager(child());
        const callerSignal = taskSignal();
        task.cancel("no longer needed");
        yield* catching(task);
        expect((signal as AbortSignal | null)?.aborted).toBe(true);
        expect(callerSignal.aborted).toBe(false);
      })(),
    );
  });

  test("a TaskGroup in the start: a failing child cancels the start's task, not the caller", () => {
    const log: unknown[] = [];
    runSync(
      (function* () {
        function* child(): Coro<void> {
          yield* taskGroup(function* (tg) {
            tg.createTask(failAfter(5, "child failed"));
            yield* sleep(100);
          });
        }
        const task = eager(child());
        yield* sleep(50);
        log.push(["caller still running at", getRunningLoop().time()]);
        const error = yield* catching(task);
        log.push(error instanceof AggregateError ? (error.errors[0] as Error).message : error);
      })(),
    );
    expect(log).toEqual([["caller still running at", 50], "child failed"]);
  });

  test("nested starts each get their own task; the outer one is current again after the inner", () => {
    const seen: Task[] = [];
    runSync(
      (function* () {
        function* inner(): Coro<void> {
          seen.push(currentTask() as Task);
          yield* sleep(1);
        }
        function* outer(): Coro<void> {
          seen.push(currentTask() as Task);
          const t = eager(inner());
          seen.push(currentTask() as Task);
          const eagerTask = createTask(inner(), { eagerStart: true });
          seen.push(currentTask() as Task);
          yield* t;
          yield* eagerTask;
        }
        const main = currentTask() as Task;
        const t = eager(outer());
        expect(currentTask()).toBe(main);
        yield* t;
        expect(new Set(seen).size).toBe(3);
        expect(seen[0]).toBe(t);
        expect(seen[2]).toBe(t);
        expect(seen[4]).toBe(t);
        expect(seen).not.toContain(main);
      })(),
    );
  });

  test("a ContextVar set after asking for the task is in the task's context", () => {
    runSync(
      (function* () {
        eagerVar.set("caller");
        function* child(): Coro<string> {
          currentTask();
          eagerVar.set("start");
          yield* sleep(1);
          return eagerVar.get();
        }
        const task = eager(child()) as Task<string>;
        expect(task.getContext().get(eagerVar)).toBe("start");
        expect(eagerVar.get()).toBe("caller");
        expect(yield* task).toBe("start");
      })(),
    );
  });

  test("a suspended start that asked resumes on the same schedule as one that did not", () => {
    const orders: unknown[][] = [];
    for (const ask of [false, true]) {
      const log: unknown[] = [];
      runSync(
        (function* () {
          function* child(name: string): Coro<void> {
            if (ask) currentTask();
            log.push(`${name} start`);
            yield;
            log.push(`${name} end`);
          }
          const a = eager(child("a"));
          const b = eager(child("b"));
          log.push("caller");
          yield;
          log.push("caller again");
          yield* a;
          yield* b;
        })(),
      );
      orders.push(log);
    }
    expect(orders[1]).toEqual(orders[0]);
  });
});

describe("eager: an async body inside the start (timeout(), taskGroup())", () => {
  // The body's first await ends the start: its task carries it on, as for a generator body.
  test.each([
    ["timeout()", "slept", () => timeout(50, async () => (await sleep(5, "slept")) as string)],
    [
      "taskGroup()",
      "slept after child",
      () =>
        taskGroup(async (tg) => {
          const child = tg.createTask(sleep(3, "child"));
          return `${await sleep(5, "slept")} after ${await child}`;
        }),
    ],
  ])("%s, started from a generator task and from a native one", async (_, expected, block) => {
    const fromGenerator = new VirtualEventLoop();
    const fromNative = new VirtualEventLoop();
    const results = [
      await fromGenerator.runUntilComplete(function* () {
        return yield* eager(block());
      }),
      await fromNative.runUntilComplete(async () => await eager(block())),
    ];
    expect([results, fromGenerator.time(), fromNative.time()]).toEqual([
      [expected, expected],
      5,
      5,
    ]);
  });
});

describe("eager: a start suspended in an async body is its task's from the body's first await", () => {
  // The body's step goes on in microtasks when the start ends: the then() of its first await
  // may come before the loop runs anything, and it begins the await in the start's task.
  const kinds = ["generator", "async"] as const;
  type Kind = (typeof kinds)[number];

  test.each(kinds)(
    "%s body: the await goes before the caller's next one, as a task started eagerly does",
    async (kind: Kind) => {
      const orders: string[][] = [];
      for (const how of ["eager", "eagerStart"]) {
        const loop = new VirtualEventLoop({ hostAwaits: "error" });
        const log: string[] = [];
        function* work(): Coro<void> {
          yield* timeout(
            50,
            kind === "async"
              ? async () => {
                  await sleep(0);
                  log.push("child");
                }
              : function* () {
                  yield* sleep(0);
                  log.push("child");
                },
          );
        }
        await loop.runUntilComplete(async () => {
          const started = how === "eager" ? eager(work()) : createTask(work, { eagerStart: true });
          await sleep(0);
          log.push("caller");
          await started;
        });
        loop.close();
        orders.push(log);
      }
      expect(orders).toEqual([
        ["child", "caller"],
        ["child", "caller"],
      ]);
    },
  );

  test.each(kinds)(
    "%s body: a cancel() before the await's then() cancels what it awaits, and its failure is read",
    async (kind: Kind) => {
      const loop = new VirtualEventLoop({ hostAwaits: "error" });
      const reports: string[] = [];
      loop.setExceptionHandler((_, context) => reports.push(context.message));
      const log: string[] = [];
      await loop.runUntilComplete(async () => {
        const started = eager(
          (function* () {
            try {
              yield* timeout(
                10,
                kind === "async"
                  ? async () => {
                      await gather(sleep(5));
                    }
                  : function* () {
                      yield* gather(sleep(5));
                    },
              );
            } catch (error) {
              log.push(`coroutine: ${(error as Error).name}`);
            }
          })(),
        );
        const others = [...allTasks()].filter((t) => t !== currentTask() && t !== started);
        expect(others).toHaveLength(1);
        const child = others[0] as Task<unknown>;
        child.cancel(); // gather()'s child: the gather fails with its CancelledError
        started.cancel();
        await gather([started, child], { returnExceptions: true });
      });
      loop.close();
      expect([log, reports]).toEqual([["coroutine: CancelledError"], []]);
    },
  );

  test("in debug mode, its wait is dated from its start, as an eager native task's is", async () => {
    const lines: string[] = [];
    for (const how of ["eager", "eagerStart"]) {
      const loop = new VirtualEventLoop();
      loop.setDebug(true);
      const never = new Event();
      const error = await loop
        .runUntilComplete(async () => {
          await sleep(7);
          const started =
            how === "eager"
              ? eager(taskGroup(async () => await never.wait()))
              : createTask(async () => await never.wait(), { eagerStart: true });
          await started;
        })
        .catch((e: unknown) => e as Error);
      lines.push(
        ...String((error as Error).message)
          .split("\n")
          .filter((line) => line.startsWith('  Task "Task-2"')),
      );
    }
    expect(lines).toEqual([
      '  Task "Task-2" waits on Event.wait() since t=7 ms',
      '  Task "Task-2" waits on Event.wait() since t=7 ms',
    ]);
  });

  test("a task factory that forces eagerStart still leaves the start's task its first step", async () => {
    // As asyncio's eager task factory: options passed on, eagerStart: true added.
    const spreading = new VirtualEventLoop();
    spreading.setTaskFactory(
      (loop, coro, options) => new Task(coro, { ...options, loop, eagerStart: true }),
    );
    const name = await spreading.runUntilComplete(function* () {
      return yield* eager(
        (function* () {
          const carrier = currentTask()?.getName();
          yield* sleep(1);
          return carrier;
        })(),
      );
    });
    expect(name).toBe("Task-2");
    // One that drops the options the loop gave it cannot carry the start: it says why.
    const dropping = new VirtualEventLoop();
    dropping.setTaskFactory((loop, coro) => new Task(coro, { loop, eagerStart: true }));
    const error = await dropping
      .runUntilComplete(function* () {
        return yield* eager(
          (function* () {
            currentTask();
            yield* sleep(1);
          })(),
        );
      })
      .catch((e: unknown) => e as Error);
    expect((error as Error).message).toBe(
      "The task of an eager() start was stepped before the start ended: the loop's task factory started it (eagerStart: true) without the options it was given. A factory must pass its options on to new Task(coro, { ...options, loop }).",
    );
  });

  test("async body: a cancel() after what it awaits failed ends the task cancelled", async () => {
    // The function gets the failure at its await, catches it and returns: cancelled, as a
    // native task that returns without another asynkit await (and as eagerStart gives).
    const outcomes: string[] = [];
    for (const how of ["eager", "eagerStart"]) {
      const loop = new VirtualEventLoop({ hostAwaits: "error" });
      await loop.runUntilComplete(async () => {
        const awaited = new Future<string>();
        const log: string[] = [];
        function* work(): Coro<string> {
          try {
            yield* timeout(50, async () => await awaited);
          } catch (error) {
            log.push(`caught ${String(error)}`);
          }
          return "returned";
        }
        const task =
          how === "eager"
            ? (eager(work()) as Task<string>)
            : createTask(work, { eagerStart: true });
        awaited.setException(new Error("x"));
        task.cancel();
        try {
          log.push(`returned ${await task}`);
        } catch (error) {
          log.push((error as Error).name);
        }
        outcomes.push(`${how}: ${log.join("; ")}`);
      });
      loop.close();
    }
    expect(outcomes).toEqual([
      "eager: caught Error: x; CancelledError",
      "eagerStart: caught Error: x; CancelledError",
    ]);
  });
});

describe("coroStart: an async body's first await is the start's, driven when the start is continued", () => {
  // The body's first await ends the start in microtasks; its then() comes before the caller
  // continues the start (an async function's `await state`, or after other awaits): it is kept
  // on the body, and the step that continues the start drives it, as `yield* state` at once does.
  type Log = (line: string) => void;
  const options = [false, true];

  /** Runs `main` with run() on a virtual loop; each line with the virtual time, then the reports. */
  async function logged(
    asyncLocalStorage: boolean,
    main: (log: Log) => TaskBody<unknown>,
  ): Promise<string[]> {
    const lines: string[] = [];
    let loop: VirtualEventLoop | null = null;
    const log: Log = (line) => lines.push(`${(loop as VirtualEventLoop).time()} ${line}`);
    await run(main(log), {
      asyncLocalStorage,
      loopFactory: () => {
        loop = new VirtualEventLoop({ hostAwaits: "error" });
        loop.setExceptionHandler((_, context) => lines.push(`report: ${context.message}`));
        return loop;
      },
    });
    return lines;
  }

  const bodies: [string, (log: Log) => Coro<unknown>][] = [
    [
      "timeout()",
      (log) =>
        timeout(100, async () => {
          log("body begins");
          await sleep(1);
          log("body slept");
          return "body";
        }),
    ],
    [
      "taskGroup()",
      (log) =>
        taskGroup(async () => {
          log("body begins");
          await sleep(1);
          log("body slept");
          return "body";
        }),
    ],
    [
      "forAwait()",
      (log) =>
        forAwait(
          new GeneratorObject<string>(function* (g) {
            yield* g.yield("item");
          }),
          async (item) => {
            log(`body begins with ${item}`);
            await sleep(1);
            log("body slept");
          },
        ),
    ],
  ];
  const timeoutBody = bodies[0]?.[1] as (log: Log) => Coro<unknown>;

  /** main's part of a cancellation test: at 3 ms it cancels `child`, and logs how it ended. */
  async function cancelAfter3(child: Task<unknown>, log: Log): Promise<void> {
    await sleep(3);
    child.cancel();
    try {
      await child;
    } catch (error) {
      log(`main: child ${(error as Error).name}`);
    }
  }

  describe.each(options)("asyncLocalStorage: %s", (asyncLocalStorage) => {
    test.each(bodies)("%s: a native task's `await state` runs the body", async (name, body) => {
      const lines = await logged(asyncLocalStorage, (log) => async () => {
        const child = createTask(
          async () => {
            const state = coroStart(body(log));
            try {
              return await state;
            } catch (error) {
              log(`child caught: ${(error as Error).message}`);
              return "caught";
            }
          },
          { name: "child" },
        );
        try {
          log(`child -> ${await child}`);
        } catch (error) {
          log(`child failed: ${(error as Error).name}: ${(error as Error).message}`);
        }
        await sleep(5);
        log("main still runs");
      });
      const result = name === "forAwait()" ? "undefined" : "body";
      const begins = name === "forAwait()" ? "body begins with item" : "body begins";
      expect(lines).toEqual([
        `0 ${begins}`,
        "1 body slept",
        `1 child -> ${result}`,
        "6 main still runs",
      ]);
    });

    test("a body that ends before any await gives its outcome when the start is continued", async () => {
      const lines = await logged(asyncLocalStorage, (log) => async () => {
        const returns = coroStart(timeout(100, async () => "returned"));
        const throws = coroStart(
          taskGroup(async () => {
            throw new Error("thrown");
          }),
        );
        const closed = coroStart(timeout(100, async () => "never read"));
        log(`pending: ${returns.pending()} ${throws.pending()}`);
        await sleep(1);
        log(`got ${await returns}`);
        try {
          await throws;
        } catch (error) {
          log(`caught ${(error as Error).message}`);
        }
        closed.close();
        let fromMaker: CoroStart<unknown> | null = null;
        const maker = createTask(
          async () => {
            fromMaker = coroStart(timeout(100, async () => "from the maker"));
            await sleep(2);
          },
          { name: "maker" },
        );
        await sleep(1);
        log(`another task got ${await (fromMaker as unknown as CoroStart<unknown>)}`);
        await maker;
        log(`at once: ${await coroStart(timeout(100, async () => "at once"))}`);
      });
      expect(lines).toEqual([
        "0 pending: true true",
        "1 got returned",
        "1 caught unhandled errors in a TaskGroup (1 sub-exception)",
        "2 another task got from the maker",
        "3 at once: at once",
      ]);
    });

    test("continued later: the body's await begins when the start is continued", async () => {
      const native = await logged(asyncLocalStorage, (log) => async () => {
        const state = coroStart(timeoutBody(log));
        await sleep(5);
        log("caller slept");
        log(`got ${await state}`);
      });
      const generator = await logged(
        asyncLocalStorage,
        (log) =>
          function* () {
            const state = coroStart(timeoutBody(log));
            yield* sleep(20);
            log("caller slept");
            log(`got ${yield* state}`);
          },
      );
      const otherTask = await logged(
        asyncLocalStorage,
        (log) =>
          function* () {
            const state = coroStart(timeoutBody(log));
            yield* sleep(5);
            log(`got ${yield* createTask(state.asCoroutine())}`);
          },
      );
      expect([native, generator, otherTask]).toEqual([
        ["0 body begins", "5 caller slept", "6 body slept", "6 got body"],
        ["0 body begins", "20 caller slept", "21 body slept", "21 got body"],
        ["0 body begins", "6 body slept", "6 got body"],
      ]);
    });

    test("continued by another task once its maker ended: the body runs as the continuing task", async () => {
      const lines = await logged(asyncLocalStorage, (log) => async () => {
        let state: CoroStart<string> | null = null;
        let continuerSignal: AbortSignal | null = null;
        const whose = (where: string) =>
          log(
            `${where}: ${currentTask()?.getName()}, its signal ${taskSignal() === continuerSignal}`,
          );
        const maker = createTask(
          async () => {
            state = coroStart(
              timeout(100, async () => {
                await sleep(1);
                whose("body");
                // A start of another async body here, after its maker's end.
                const inner = coroStart(
                  timeout(100, async () => {
                    await sleep(1);
                    whose("inner body");
                    return "inner";
                  }),
                );
                const child = createTask(async () => currentTask()?.getName(), {
                  name: "grandchild",
                });
                return `${await inner} ${await child}`;
              }),
            );
          },
          { name: "maker" },
        );
        await maker;
        log(`maker done: ${maker.done()}`);
        const continuer = createTask(
          async () => {
            continuerSignal = taskSignal();
            return await (state as CoroStart<string>);
          },
          { name: "continuer" },
        );
        log(`continuer -> ${await continuer}`);
      });
      expect(lines).toEqual([
        "0 maker done: true",
        "1 body: continuer, its signal true",
        "2 inner body: continuer, its signal true",
        "2 continuer -> inner grandchild",
      ]);
    });

    test("continued at once by a coroutine (`yield* state`), as before", async () => {
      const lines = await logged(
        asyncLocalStorage,
        (log) =>
          function* () {
            const state = coroStart(timeoutBody(log));
            log(`got ${yield* state}`);
          },
      );
      expect(lines).toEqual(["0 body begins", "1 body slept", "1 got body"]);
    });

    test("the caller cancelled while the start waits: it continues the start, or drops it", async () => {
      const continuing = (kind: "native" | "generator") =>
        logged(asyncLocalStorage, (log) => async () => {
          const child = createTask(
            kind === "native"
              ? async () => {
                  const state = coroStart(timeoutBody(log));
                  try {
                    await sleep(10);
                  } catch (error) {
                    log(`child: ${(error as Error).name}`);
                    log(`child got ${await state}`);
                    throw error;
                  }
                }
              : function* () {
                  const state = coroStart(timeoutBody(log));
                  try {
                    yield* sleep(10);
                  } catch (error) {
                    log(`child: ${(error as Error).name}`);
                    log(`child got ${yield* state}`);
                    throw error;
                  }
                },
          );
          await cancelAfter3(child, log);
        });
      const dropping = await logged(asyncLocalStorage, (log) => async () => {
        const child = createTask(async () => {
          const state = coroStart(timeoutBody(log));
          await sleep(10);
          await state;
        });
        await cancelAfter3(child, log);
        await sleep(5);
        log("main ends");
      });
      // A cancel() pending when the start is continued is thrown in at the body's await.
      const atContinue = await logged(asyncLocalStorage, (log) => async () => {
        const child = createTask(async () => {
          const state = coroStart(
            timeout(100, async () => {
              try {
                await sleep(1);
              } catch (error) {
                log(`body: ${(error as Error).name}`);
                throw error;
              }
            }),
          );
          await sleep(5);
          currentTask()?.cancel();
          try {
            await state;
          } catch (error) {
            log(`child: ${(error as Error).name}`);
          }
          return "child returns";
        });
        log(`main: ${await child}`);
      });
      const continued = [
        "0 body begins",
        "3 child: CancelledError",
        "4 body slept",
        "4 child got body",
        "4 main: child CancelledError",
      ];
      expect([
        await continuing("native"),
        await continuing("generator"),
        dropping,
        atContinue,
      ]).toEqual([
        continued,
        continued,
        ["0 body begins", "3 main: child CancelledError", "8 main ends"],
        ["5 body: CancelledError", "5 child: CancelledError", "5 main: child returns"],
      ]);
    });

    test("a start dropped or closed: its body's then() is no one's await, and nothing is stepped", async () => {
      const ending = (how: "dropped" | "closed later" | "closed at once") =>
        logged(asyncLocalStorage, (log) => async () => {
          const child = createTask(async () => {
            const state = coroStart(timeoutBody(log));
            if (how === "closed at once") state.close();
            await sleep(2);
            if (how === "closed later") state.close();
            log(`child ends, ${state}`);
            return "child";
          });
          log(`main: ${await child}`);
          await sleep(5);
          log("main ends");
        });
      expect([
        await ending("dropped"),
        await ending("closed later"),
        await ending("closed at once"),
      ]).toEqual([
        ["0 body begins", "2 child ends, <CoroStart pending>", "2 main: child", "7 main ends"],
        ["0 body begins", "2 child ends, <CoroStart continued>", "2 main: child", "7 main ends"],
        ["0 body begins", "2 child ends, <CoroStart continued>", "2 main: child", "7 main ends"],
      ]);
    });

    test("athrow() or throw() on a start whose body waits: the error reaches the body at its await", async () => {
      const lines = await logged(
        asyncLocalStorage,
        (log) =>
          function* () {
            const state = coroStart(
              timeout(100, async () => {
                try {
                  await sleep(1);
                } catch (error) {
                  log(`body caught ${(error as Error).message}`);
                  return "handled";
                }
                return "slept";
              }),
            );
            yield* sleep(5);
            log(`got ${yield* state.athrow(new Error("boom"))}`);
          },
      );
      // A throw() that the body catches at its await, to await again: that await is the start's too.
      const rethrown = await logged(
        asyncLocalStorage,
        (log) =>
          function* () {
            const state = coroStart(
              timeout(100, async () => {
                try {
                  await sleep(1);
                  return "slept";
                } catch (error) {
                  log(`body caught ${(error as Error).message}`);
                  await sleep(2);
                  log("body slept again");
                  return "handled";
                }
              }),
            );
            yield* sleep(5);
            state.throw(new Error("boom"));
            log(`thrown: ${state}`);
            yield* sleep(5);
            const result = yield* state;
            log(`got ${result}`);
          },
      );
      expect([lines, rethrown]).toEqual([
        ["5 body caught boom", "5 got handled"],
        [
          "5 thrown: <CoroStart pending>",
          "5 body caught boom",
          "12 body slept again",
          "12 got handled",
        ],
      ]);
    });
  });

  test.each(options)(
    "on run()'s own loop (asyncLocalStorage: %s), the issue's example",
    async (asyncLocalStorage) => {
      const log: string[] = [];
      const reports: string[] = [];
      await run(
        async () => {
          getRunningLoop().setExceptionHandler((_, context) => reports.push(context.message));
          const child = createTask(
            async () => {
              const state = coroStart(
                timeout(100, async () => {
                  await sleep(1);
                  return "body";
                }),
              );
              try {
                return await state;
              } catch (error) {
                log.push(`child caught: ${(error as Error).message}`);
                return "caught";
              }
            },
            { name: "child" },
          );
          try {
            log.push(`child -> ${await child}`);
          } catch (error) {
            log.push(`child failed: ${(error as Error).name}: ${(error as Error).message}`);
          }
          await sleep(5);
          log.push("main still runs");
        },
        { asyncLocalStorage },
      );
      expect([log, reports]).toEqual([["child -> body", "main still runs"], []]);
    },
  );
});

describe("eager: the start runs as if in a copy of the caller's context", () => {
  test("a start that suspends without writing still gets its own copy", () => {
    runSync(
      (function* () {
        eagerVar.set("before");
        function* reader(): Coro<string> {
          yield* sleep(1);
          return eagerVar.get();
        }
        const t = eager(reader());
        eagerVar.set("after"); // the caller's later write does not reach the coroutine
        expect(yield* t).toBe("before");
      })(),
    );
  });

  test("a token of the caller cannot reset a value inside the start", () => {
    runSync(
      (function* () {
        const token = eagerVar.set("caller");
        // biome-ignore lint/correctness/useYield: a coroutine that throws without suspending
        function* resetsCallers(): Coro<void> {
          eagerVar.reset(token);
        }
        const f = eager(resetsCallers());
        expect(() => f.result()).toThrow(/created in a different Context/);
        expect(eagerVar.get()).toBe("caller");
        eagerVar.reset(token);
      })(),
    );
  });

  test("nested eager starts each write to their own copy", () => {
    const seen: string[] = [];
    runSync(
      (function* () {
        eagerVar.set("main");
        // biome-ignore lint/correctness/useYield: a coroutine that returns without suspending
        function* inner(): Coro<void> {
          eagerVar.set("inner");
          seen.push(`inner sees ${eagerVar.get()}`);
        }
        function* outer(): Coro<void> {
          seen.push(`outer sees ${eagerVar.get()}`);
          eager(inner());
          seen.push(`outer after inner sees ${eagerVar.get()}`);
          eagerVar.set("outer");
          yield* sleep(1);
          seen.push(`outer resumed sees ${eagerVar.get()}`);
        }
        const t = eager(outer());
        seen.push(`main sees ${eagerVar.get()}`);
        yield* t;
      })(),
    );
    expect(seen).toEqual([
      "outer sees main",
      "inner sees inner",
      "outer after inner sees main",
      "main sees main",
      "outer resumed sees outer",
    ]);
  });

  test("a callback scheduled by the start sees the values of that moment", () => {
    const seen: string[] = [];
    runSync(
      (function* () {
        eagerVar.set("start");
        function* schedules(): Coro<void> {
          getRunningLoop().callSoon(() => seen.push(eagerVar.get()));
        }
        eager(schedules());
        eagerVar.set("later");
        yield* sleep(0);
      })(),
    );
    expect(seen).toEqual(["start"]);
  });
});

describe("eager: forwarding to the coroutine is exact", () => {
  function* guarded(log: unknown[], gate: Future<string>): Coro<string> {
    try {
      log.push("start");
      const v = yield* gate;
      log.push(["got", v]);
      return v;
    } catch (e) {
      log.push(["caught", (e as Error).name]);
      throw e;
    } finally {
      log.push("finally");
    }
  }

  test("cancelling the task while it waits: CancelledError reaches it once, finally once", () => {
    const log: unknown[] = [];
    runSync(
      (function* () {
        const gate = getRunningLoop().createFuture<string>();
        const t = eager(guarded(log, gate));
        yield* sleep(0); // the task takes over and waits on the gate
        yield* sleep(0);
        t.cancel();
        const caught = yield* catching(t);
        expect(caught).toBeInstanceOf(CancelledError);
        expect(t.cancelled()).toBe(true);
        expect(gate.cancelled()).toBe(true);
      })(),
    );
    expect(log).toEqual(["start", ["caught", "CancelledError"], "finally"]);
  });

  test("cancelling the task before its first step still reaches the coroutine once, and cancels what it waits on", () => {
    const log: unknown[] = [];
    runSync(
      (function* () {
        const gate = getRunningLoop().createFuture<string>();
        const t = eager(guarded(log, gate));
        t.cancel("early");
        const caught = yield* catching(t);
        expect(caught).toBeInstanceOf(CancelledError);
        expect(t.cancelled()).toBe(true);
        // The task waits on the gate from the start, as a task that suspended there does.
        expect(gate.cancelled()).toBe(true);
      })(),
    );
    expect(log).toEqual(["start", ["caught", "CancelledError"], "finally"]);
  });

  test("a coroutine that handles the cancellation returns its value", () => {
    const result = runSync(
      (function* () {
        function* stubborn(): Coro<string> {
          try {
            yield* sleep(100);
          } catch (e) {
            if (e instanceof CancelledError) return "handled";
            throw e;
          }
          return "slept";
        }
        const t = eager(stubborn());
        yield* sleep(1);
        t.cancel();
        return yield* t;
      })(),
    );
    expect(result).toBe("handled");
  });

  test("values reach the coroutine through the task as through yield*", () => {
    const log: unknown[] = [];
    runSync(
      (function* () {
        const gate = getRunningLoop().createFuture<string>();
        const t = eager(guarded(log, gate));
        getRunningLoop().callLater(5, () => gate.setResult("v"));
        expect(yield* t).toBe("v");
      })(),
    );
    expect(log).toEqual(["start", ["got", "v"], "finally"]);
  });
});

describe("eager: bad input", () => {
  test("no loop runs a task to continue it: the coroutine is ended, the error raised", () => {
    // The policy's loop is not running: a task there would never run (as asyncio, which needs a running loop).
    const idle = new VirtualEventLoop();
    getEventLoopPolicy().setEventLoop(idle);
    const log: string[] = [];
    function* work(): Coro<void> {
      try {
        log.push("started");
        yield;
        log.push("continued");
      } finally {
        log.push("finally");
      }
    }
    try {
      expect(() => eager(work())).toThrow(/^no running event loop/);
    } finally {
      getEventLoopPolicy().setEventLoop(null);
      idle.close();
    }
    expect(log).toEqual(["started", "finally"]);
    // A start that does not suspend needs no loop: its Future is done.
    expect(eager(returns(1)).result()).toBe(1);
  });

  test("a coroutine started once is not started again: its first start's result stays its own", async () => {
    function* work(): Coro<number> {
      yield* sleep(1);
      return 5;
    }
    const results = await run(function* () {
      const coro = work();
      const task = eager(coro);
      const again = [thrown(() => eager(coro)).message, thrown(() => new CoroStart(coro)).message];
      // A task would resume it past the start's suspension, and leave the start no result.
      const inTask = [
        thrown(() => createTask(coro)).message,
        thrown(() => gather(coro)).message,
        thrown(() => ensureFuture(coro)).message,
      ];
      const started = work();
      const start = coroStart(started);
      const afterCoroStart = thrown(() => createTask(started)).message;
      return [...again, ...new Set([...inTask, afterCoroStart]), yield* task, yield* start];
    });
    expect(results).toEqual([
      "eager(): this coroutine was started already, by eager() or a CoroStart, which continues it: wait for what that returned instead.",
      "new CoroStart(): this coroutine was started already, by eager() or a CoroStart, which continues it: wait for what that returned instead.",
      "This coroutine was started already, by eager() or a CoroStart, which continues it: wait for what that returned instead.",
      5,
      5,
    ]);
  });

  test("a coroutine a task took is not started by eager() or a CoroStart: the task keeps its result", async () => {
    function* work(): Coro<string> {
      yield* sleep(5);
      return "the task's";
    }
    const results = await run(function* () {
      const coro = work();
      const task = createTask(coro, { name: "owner" });
      yield* sleep(1);
      const refused = [
        thrown(() => eager(coro)).message,
        thrown(() => new CoroStart(coro)).message,
        thrown(() => coroStart(coro)).message,
      ];
      return [...new Set(refused), yield* task];
    });
    expect(results).toEqual([
      'This coroutine already belongs to <Task pending name="owner">: a coroutine can be awaited once; wrap it in a task to share its result (create the task once, then yield* the task as often as needed).',
      "the task's",
    ]);
  });

  test("eager(42)", () => {
    expect(() => eager(42 as never)).toThrow(TypeError);
    expect(() => eager(42 as never)).toThrow(
      /eager\(\) expects x to be a coroutine or a function that returns one \(function\*\), got number 42/,
    );
  });

  test("eager(promise) says to use fromPromise", () => {
    expect(() => eager(Promise.resolve(1) as never)).toThrow(
      /a promise is already running: wait for it with yield\* fromPromise\(promise\)/,
    );
  });

  test("eager(plain function that returns a coroutine) is funcEager(fn), as API.md types it", async () => {
    function* double(x: number): Coro<number> {
      yield* sleep(1);
      return x * 2;
    }
    const eagerDouble = eager((x: number) => double(x));
    expect(await run(() => eagerDouble(21))).toBe(42);
    // A function that returns no coroutine fails at its call, as funcEager()'s does.
    expect(() => (eager((() => 1) as never) as unknown as () => unknown)()).toThrow(
      /coroEager\(\)/,
    );
  });

  test("an async function is refused before it runs, pointing to createTask's eagerStart", () => {
    let ran = false;
    const request = async (): Promise<void> => {
      ran = true;
    };
    const hint = /createTask\(fn, \{ eagerStart: true \}\)/;
    expect(() => eager(request as never)).toThrow(hint);
    expect(() => funcEager(request as never)).toThrow(hint);
    expect(() => asyncEager(request as never)).toThrow(hint);
    expect(ran).toBe(false);
  });

  test("funcEager(non-function), coroEager(non-coroutine)", () => {
    expect(() => funcEager(7 as never)).toThrow(/funcEager\(\) expects fn to be a function/);
    expect(() => coroEager({} as never)).toThrow(/coroEager\(\) expects coro to be a coroutine/);
    function* gen(): Coro<void> {}
    expect(() => coroEager(gen as never)).toThrow(/call it first: coroEager\(gen\(\)\)/);
  });

  test("@eager on something other than a method", () => {
    function* gen(): Coro<void> {}
    const context = { kind: "getter", name: "x" } as unknown as ClassMethodDecoratorContext;
    expect(() => eager(gen, context)).toThrow(/@eager decorates generator methods, not a getter/);
  });

  test("cancelling(non-cancellable)", () => {
    expect(() => cancelling({} as never)).toThrow(
      /cancelling\(\) expects target to be something with a cancel/,
    );
  });
});

describe("eager as a TypeScript 5 method decorator", () => {
  test("compiled @eager syntax runs eagerly and keeps `this`", () => {
    const source = `
      export function make(eager, sleep, log) {
        class Client {
          prefix = "data of ";
          @eager
          *fetch(path) {
            log.push("sent " + path);
            yield* sleep(10);
            return this.prefix + path;
          }
        }
        return Client;
      }`;
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS },
    });
    const exports: { make?: (...a: unknown[]) => new () => { fetch(p: string): Future<string> } } =
      {};
    new Function("exports", outputText)(exports);
    const log: unknown[] = [];
    const Client = exports.make?.(eager, sleep, log);
    if (Client === undefined) throw new Error("the compiled module did not export make()");
    const result = runSync(
      (function* () {
        const client = new Client();
        const pending = client.fetch("/x");
        log.push("after call");
        expect(pending).toBeInstanceOf(Task);
        return yield* pending;
      })(),
    );
    expect(result).toBe("data of /x");
    expect(log).toEqual(["sent /x", "after call"]);
  });

  test("@eager type-checks on a method declared to return Awaitable<T>", () => {
    const dir = mkdtempSync(join(tmpdir(), "asynkit-eager-"));
    const file = join(dir, "decorated.ts");
    const index = resolve(__dirname, "../src/index.js");
    writeFileSync(
      file,
      `import { type Awaitable, type Coro, type Future, eager, sleep } from ${JSON.stringify(index)};
      class Client {
        @eager
        *fetch(path: string): Awaitable<string> { yield* sleep(10); return path; }
      }
      function* use(c: Client): Coro<string> { return yield* c.fetch("/a"); }
      const f: Future<number> = eager(function* (n: number) { return n; })(1);
      export { use, f };`,
    );
    const program = ts.createProgram([file], {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ["lib.es2023.d.ts", "lib.esnext.disposable.d.ts", "lib.dom.d.ts"],
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
    });
    const diagnostics = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file?.fileName === file)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    rmSync(dir, { recursive: true });
    expect(diagnostics).toEqual([]);
  }, 60_000); // a whole TypeScript program is built and checked
});

describe("cancelling", () => {
  test("leaving the scope cancels the task, with the message", () => {
    runSync(
      (function* () {
        let task: Task<void>;
        {
          using t = cancelling(createTask(sleep(1000)), "scope left");
          task = t;
          yield* sleep(1);
        }
        const caught = yield* catching(task);
        expect(caught).toBeInstanceOf(CancelledError);
        expect((caught as Error).message).toBe("scope left");
      })(),
    );
  });

  test("a failure before the scope ends is not hidden: nobody read it, so it is reported", () => {
    const loop = new VirtualEventLoop();
    const reports: string[] = [];
    loop.setExceptionHandler((_loop, context) =>
      reports.push(`${context.message}: ${(context.exception as Error).message}`),
    );
    function* failing(what: string): Coro<void> {
      yield* sleep(1);
      throw new Error(`${what} failed`);
    }
    loop.runSync(
      (function* () {
        {
          using _ = eagerCtx(failing("prefetch"));
          yield* sleep(5);
        }
        {
          using _ = cancelling(createTask(failing("task")));
          yield* sleep(5);
        }
      })(),
    );
    loop.close();
    expect(reports).toEqual([
      "Task exception was never retrieved: prefetch failed",
      "Task exception was never retrieved: task failed",
    ]);
  });

  test("a done task is left as it is", () => {
    runSync(
      (function* () {
        const t = createTask(sleep(1, "v"));
        {
          using _ = cancelling(t);
          yield* t;
        }
        expect(t.result()).toBe("v");
      })(),
    );
  });
});

describe.each(loops)("eager tasks (Python 3.12 semantics) on %s", (_loop, loopFactory) => {
  const runOn = <T>(main: Coro<T>): Promise<T> => run(main, { loopFactory });

  test("createTask(coro, { eagerStart: true }) runs it at once, until it first suspends", async () => {
    const log: unknown[] = [];
    await runOn(
      (function* () {
        function* child(): Coro<string> {
          log.push("child start");
          yield* sleep(1);
          log.push("child end");
          return "done";
        }
        const task = createTask(child(), { eagerStart: true });
        log.push("after create");
        expect(task.done()).toBe(false);
        log.push(yield* task);
      })(),
    );
    expect(log).toEqual(["child start", "after create", "child end", "done"]);
  });

  test("currentTask() during the eager start is the new task", async () => {
    await runOn(
      inLoop(() => {
        const me = currentTask();
        let inside: unknown = null;
        // biome-ignore lint/correctness/useYield: a coroutine that returns without suspending
        function* child(): Coro<void> {
          inside = currentTask();
        }
        const task = createTask(child(), { eagerStart: true });
        expect(inside).toBe(task);
        expect(inside).not.toBe(me);
        expect(currentTask()).toBe(me);
      }),
    );
  });

  test("a task that finishes during its eager start is done at once and not live", async () => {
    await runOn(
      inLoop(() => {
        const loop = getRunningLoop();
        const task = createTask(returns(5), { eagerStart: true });
        expect(task.done()).toBe(true);
        expect(task.result()).toBe(5);
        expect(allTasks().has(task)).toBe(false);
        expect(loop._ready.length).toBe(0);
      }),
    );
  });

  test("an error during the eager start fails the task", async () => {
    await runOn(
      inLoop(() => {
        const task = createTask(throws(new RangeError("at once")), { eagerStart: true });
        expect(task.done()).toBe(true);
        expect(task.exception()).toBeInstanceOf(RangeError);
      }),
    );
  });

  test("eagerStart runs in the task's own context", async () => {
    await runOn(
      inLoop(() => {
        eagerVar.set("outer");
        const setInner = (): string => {
          eagerVar.set("inner");
          return eagerVar.get();
        };
        const task = createTask(inLoopValue(setInner), { eagerStart: true });
        expect(task.result()).toBe("inner");
        expect(eagerVar.get()).toBe("outer");
        expect(task.getContext().get(eagerVar)).toBe("inner");
      }),
    );
  });

  test("eagerTaskFactory makes every task eager; eagerStart: false opts out", async () => {
    const log: unknown[] = [];
    await runOn(
      (function* () {
        getRunningLoop().setTaskFactory(eagerTaskFactory);
        function* child(name: string): Coro<void> {
          log.push(`${name} start`);
          yield;
          log.push(`${name} end`);
        }
        const a = createTask(child("a"));
        const b = createTask(child("b"), { eagerStart: false });
        log.push("main");
        yield* a;
        yield* b;
      })(),
    );
    expect(log).toEqual(["a start", "main", "a end", "b start", "b end"]);
  });

  test("createEagerTaskFactory(TaskClass) makes that class", async () => {
    class Traced<T> extends Task<T> {}
    await runOn(
      (function* () {
        getRunningLoop().setTaskFactory(createEagerTaskFactory(Traced as typeof Task));
        const t = createTask(sleep(1, "x"), { name: "traced" });
        expect(t).toBeInstanceOf(Traced);
        expect(t.getName()).toBe("traced");
        expect(yield* t).toBe("x");
      })(),
    );
    expect(() => createEagerTaskFactory(1 as never)).toThrow(
      /expects taskClass to be a Task class/,
    );
  });

  test("eager() under the eager task factory: the task takes over at once", async () => {
    const log: unknown[] = [];
    await runOn(
      (function* () {
        getRunningLoop().setTaskFactory(eagerTaskFactory);
        function* f(): Coro<void> {
          log.push(1);
          yield* sleep(5);
          log.push(2);
        }
        const t = eager(f());
        log.push("a");
        expect(t).toBeInstanceOf(Task);
        yield* t;
      })(),
    );
    expect(log).toEqual([1, "a", 2]);
  });
});
