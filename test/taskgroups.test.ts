// biome-ignore-all lint/correctness/useYield: a task-group body that only starts tasks has nothing to wait for.
/**
 * taskGroup / TaskGroup: ports of CPython's test_taskgroups.py on the virtual
 * loop. ExceptionGroup becomes AggregateError.
 */
import { describe, expect, it } from "vitest";
import {
  CancelledError,
  type Coro,
  coroStart,
  createTask,
  currentTask,
  GeneratorObject,
  getRunningLoop,
  sleep,
  type Task,
  TaskGroup,
  taskGroup,
  VirtualEventLoop,
} from "../src/index.js";
import { catching, failAfter, runV } from "./helpers.js";

function messages(error: unknown): string[] {
  expect(error).toBeInstanceOf(AggregateError);
  return (error as AggregateError).errors.map((e: Error) => `${e.name}: ${e.message}`);
}

/** Sleeps `ms`, and fails as it ends: cancelled, it fails while cleaning up. */
function* failsInCleanup(ms: number, message: string): Coro<void> {
  try {
    yield* sleep(ms);
  } finally {
    // biome-ignore lint/correctness/noUnsafeFinally: the failing cleanup under test.
    throw new Error(message);
  }
}

describe("taskGroup", () => {
  it("waits for every task and returns the body's value (test_taskgroup_01)", () => {
    const result = runV(function* () {
      const loop = getRunningLoop();
      let t1: Task<number> | null = null;
      let t2: Task<number> | null = null;
      const value = yield* taskGroup(function* (tg) {
        t1 = tg.createTask(sleep(100, 42));
        t2 = tg.createTask(sleep(200, 11));
        return "body";
      });
      return [value, t1!.result(), t2!.result(), loop.time()];
    });
    expect(result).toEqual(["body", 42, 11, 200]);
  });

  it("a failing task cancels its siblings and the body; errors come out together (test_taskgroup_03)", () => {
    const log = runV(function* () {
      const loop = getRunningLoop();
      const log: string[] = [];
      function* sibling(): Coro<void> {
        try {
          yield* sleep(10_000);
        } catch (error) {
          log.push(`sibling ${(error as Error).name} at ${loop.time()}`);
          throw error;
        }
      }
      const error = yield* catching(
        taskGroup(function* (tg) {
          tg.createTask(sibling());
          tg.createTask(failAfter(10, "boom"));
          try {
            yield* sleep(10_000);
          } catch (e) {
            log.push(`body ${(e as Error).name} at ${loop.time()}`);
            throw e;
          }
        }),
      );
      log.push(...messages(error));
      log.push((error as Error).message);
      log.push(`parent cancelling: ${currentTask()?.cancelling()}`);
      return log;
    });
    expect(log).toEqual([
      "sibling CancelledError at 10",
      "body CancelledError at 10",
      "Error: boom",
      "unhandled errors in a TaskGroup (1 sub-exception)",
      "parent cancelling: 0",
    ]);
  });

  it("starts a task eagerly when asked: it runs before the body goes on, and its failure in the start fails the group", () => {
    const log = runV(function* () {
      const log: string[] = [];
      const error = yield* catching(
        taskGroup(function* (tg) {
          const quick = tg.createTask(
            (function* () {
              log.push("quick starts");
              yield* sleep(5);
              return "quick";
            })(),
            { eagerStart: true },
          );
          log.push("body goes on");
          tg.createTask(
            (function* (): Coro<void> {
              log.push("failing starts");
              throw new Error("failed in its start");
            })(),
            { eagerStart: true },
          );
          log.push(
            `quick ${quick.cancelled() ? "cancelled" : "pending"} after the failure is seen`,
          );
          yield* sleep(10);
          log.push("not reached");
        }),
      );
      log.push(...messages(error));
      return log;
    });
    expect(log).toEqual([
      "quick starts",
      "body goes on",
      "failing starts",
      "quick pending after the failure is seen",
      "Error: failed in its start",
    ]);
  });

  it("gathers several failures, and the body's own error, in one AggregateError (test_taskgroup_07, _10)", () => {
    const result = runV(function* () {
      const error = yield* catching(
        taskGroup(function* (tg) {
          tg.createTask(failAfter(5, "child 1"));
          tg.createTask(failsInCleanup(100, "child 2 cleanup")); // cancelled by the body's failure
          try {
            yield* sleep(10_000);
          } finally {
            // biome-ignore lint/correctness/noUnsafeFinally: the body fails while it is cancelled.
            throw new RangeError("body");
          }
        }),
      );
      return messages(error);
    });
    expect(result).toEqual(["Error: child 1", "Error: child 2 cleanup", "RangeError: body"]);
  });

  it("a child that swallows its cancellation still lets the group raise (test_taskgroup_18)", () => {
    const result = runV(function* () {
      let swallowed: number | null = null;
      const error = yield* catching(
        taskGroup(function* (tg) {
          tg.createTask(
            (function* () {
              try {
                yield* sleep(10_000);
              } catch {
                swallowed = 42;
                return;
              }
            })(),
          );
          yield* sleep(100);
          throw new TypeError("from the body");
        }),
      );
      return { messages: messages(error), swallowed };
    });
    expect(result).toEqual({ messages: ["TypeError: from the body"], swallowed: 42 });
  });

  it("cancelling the parent cancels every task and raises CancelledError (test_taskgroup_08)", () => {
    const log = runV(function* () {
      const log: string[] = [];
      function* child(name: string): Coro<void> {
        try {
          yield* sleep(10_000);
        } catch (error) {
          log.push(`${name} ${(error as Error).name}`);
          throw error;
        }
      }
      const runner = createTask(
        taskGroup(function* (tg) {
          tg.createTask(child("a"));
          tg.createTask(child("b"));
          yield* sleep(10_000);
        }),
      );
      yield* sleep(10);
      runner.cancel();
      const error = yield* catching(runner);
      log.push(`runner ${(error as Error).name}, cancelled: ${runner.cancelled()}`);
      return log;
    });
    expect(log).toEqual([
      "a CancelledError",
      "b CancelledError",
      "runner CancelledError, cancelled: true",
    ]);
  });

  it("cancelling the parent while it waits for the tasks at the end also propagates (test_taskgroup_11)", () => {
    runV(function* () {
      const children: Task<void>[] = [];
      const runner = createTask(
        taskGroup(function* (tg) {
          children.push(tg.createTask(sleep(10_000)));
        }),
      );
      yield* sleep(10);
      runner.cancel();
      expect(yield* catching(runner)).toBeInstanceOf(CancelledError);
      expect(children[0]?.cancelled()).toBe(true);
    });
  });

  it("a child that fails with undefined fails the group and cancels its siblings", () => {
    const log = runV(function* () {
      const sibling: Task<void>[] = [];
      const error = yield* catching(
        taskGroup(function* (tg) {
          tg.createTask(
            (function* () {
              yield* sleep(5);
              throw undefined; // as a promise rejected with no reason does
            })(),
          );
          sibling.push(tg.createTask(sleep(50)));
        }),
      );
      return [
        error instanceof AggregateError && error.errors,
        sibling[0]!.cancelled(),
        getRunningLoop().time(),
      ];
    });
    expect(log).toEqual([[undefined], true, 5]);
  });

  it("an error in a nested group reaches the outer group as a nested AggregateError (test_taskgroup_13)", () => {
    const result = runV(function* () {
      const error = yield* catching(
        taskGroup(function* (outer) {
          outer.createTask(sleep(10_000));
          yield* taskGroup(function* (inner) {
            inner.createTask(failAfter(5, "deep"));
            yield* sleep(10_000);
          });
        }),
      );
      const outerErrors = (error as AggregateError).errors;
      return [outerErrors.length, messages(outerErrors[0])];
    });
    expect(result).toEqual([1, ["Error: deep"]]);
  });

  it("a failure after the body finished still cancels the siblings (test_taskgroup_cancel_children_on_child_error)", () => {
    const log = runV(function* () {
      const loop = getRunningLoop();
      const log: string[] = [];
      const error = yield* catching(
        taskGroup(function* (tg) {
          tg.createTask(
            (function* () {
              try {
                yield* sleep(10_000);
              } catch (e) {
                log.push(`sibling cancelled at ${loop.time()}`);
                throw e;
              }
            })(),
          );
          tg.createTask(failAfter(50, "late"));
          log.push("body done");
        }),
      );
      log.push(...messages(error));
      return log;
    });
    expect(log).toEqual(["body done", "sibling cancelled at 50", "Error: late"]);
  });

  it("a cancelled child is not an error", () => {
    runV(function* () {
      const value = yield* taskGroup(function* (tg) {
        const t = tg.createTask(sleep(100));
        yield* sleep(1);
        t.cancel();
        return "fine";
      });
      expect(value).toBe("fine");
    });
  });

  it("an outside cancel that arrives during a failure stays pending on the parent (test_taskgroup_cancel_parent_and_child_error)", () => {
    runV(function* () {
      const runner = createTask(
        (function* () {
          const error = yield* catching(
            taskGroup(function* (tg) {
              tg.createTask(failAfter(10, "child"));
              try {
                yield* sleep(10_000);
              } finally {
                // the parent is cancelled from outside while the group handles the failure
                currentTask()?.cancel();
              }
            }),
          );
          expect(messages(error)).toEqual(["Error: child"]);
          expect(currentTask()?.cancelling()).toBe(1);
          yield* sleep(1); // the outside cancellation is delivered here
          return "not reached";
        })(),
      );
      expect(yield* catching(runner)).toBeInstanceOf(CancelledError);
    });
  });

  it("refuses new tasks once finished or shutting down, and closes the coroutine (test_taskgroup_17, test_coro_closed_when_tg_closed)", () => {
    runV(function* () {
      let group: TaskGroup | null = null;
      yield* taskGroup(function* (tg) {
        group = tg;
      });
      let closed = false;
      function* never(): Coro<void> {
        try {
          yield* sleep(1);
        } finally {
          closed = true;
        }
      }
      const coro = never();
      coro.next(); // started, so that closing it runs its finally
      expect(() => (group as TaskGroup | null)?.createTask(coro)).toThrow(/TaskGroup is finished/);
      expect(closed).toBe(true);
      expect(() => new TaskGroup().createTask(sleep(0))).toThrow(/has not been entered/);
      const error = yield* catching(
        taskGroup(function* (tg) {
          tg.createTask(failAfter(1, "x"));
          yield* catching(sleep(100));
          tg.createTask(sleep(1));
        }),
      );
      expect(messages(error)).toEqual([
        "Error: x",
        "Error: TaskGroup is shutting down after a failure or a cancellation: no new task can be started in it.",
      ]);
    });
  });

  it("must run inside a task (test_taskgroup_without_parent_task)", () => {
    const loop = new VirtualEventLoop();
    let error: unknown = null;
    loop.callSoon(() => {
      try {
        taskGroup(function* () {}).next();
      } catch (e) {
        error = e;
      }
    });
    loop.runSync(sleep(0));
    expect(String(error)).toMatch(/must be used inside a task/);
  });

  it("names tasks, and shows its state", () => {
    runV(function* () {
      yield* taskGroup(function* (tg) {
        const t = tg.createTask(sleep(1), { name: "worker" });
        expect(t.getName()).toBe("worker");
        expect(String(tg)).toBe("<TaskGroup tasks=1 entered>");
      });
    });
  });
});

describe("taskGroup() in a generator closed with return() (aclose() of an async generator in asyncio)", () => {
  /** A generator whose body runs `child` in a task group, then yields 1 inside the group. */
  function groupYielding(child: Coro<void>): GeneratorObject<number> {
    return new GeneratorObject<number>(function* (g) {
      yield* taskGroup(function* (tg) {
        tg.createTask(child);
        yield* g.yield(1);
      });
    });
  }

  it("cancels its tasks and waits for them before the close returns", () => {
    const log = runV(function* () {
      const loop = getRunningLoop();
      const log: string[] = [];
      const gen = groupYielding(
        (function* () {
          try {
            yield* sleep(1000);
            log.push("child ran to its end");
          } catch (error) {
            log.push(`child ${(error as Error).name} at ${loop.time()}`);
            yield* sleep(5); // its cleanup waits, and the close with it
            throw error;
          }
        })(),
      );
      log.push(`got ${(yield* gen.next()).value}`);
      yield* sleep(10);
      yield* gen.close();
      log.push(`closed at ${loop.time()}`);
      yield* sleep(2000);
      return log;
    });
    expect(log).toEqual(["got 1", "child CancelledError at 10", "closed at 15"]);
  });

  it("a task that fails as it is cancelled is raised from the close", () => {
    const error = runV(function* () {
      const gen = groupYielding(failsInCleanup(1000, "cleanup failed"));
      yield* gen.next();
      yield* sleep(1); // the task runs to its sleep
      return yield* catching(gen.close());
    });
    expect(messages(error)).toEqual(["Error: cleanup failed"]);
  });
  it("closed while it waits for its tasks, cancels them: none runs on, and none cancels the parent later", () => {
    const log = runV(function* () {
      const loop = getRunningLoop();
      const log: string[] = [];
      const start = coroStart(
        taskGroup(function* (tg) {
          tg.createTask(
            (function* () {
              yield* sleep(100);
              log.push("child ran on");
              throw new Error("child failed");
            })(),
          );
          return "body done"; // the group waits for its task
        }),
      );
      yield* sleep(10);
      yield* start.aclose();
      log.push(`closed at ${loop.time()}`);
      yield* sleep(1000);
      log.push(`slept on to ${loop.time()}, cancelling ${currentTask()?.cancelling()}`);
      return log;
    });
    expect(log).toEqual(["closed at 10", "slept on to 1010, cancelling 0"]);
  });

  it("a parent cancelled while its close waits for the tasks gets the CancelledError", () => {
    const log = runV(function* () {
      const loop = getRunningLoop();
      const log: string[] = [];
      const parent = createTask(
        (function* () {
          const gen = groupYielding(
            (function* () {
              try {
                yield* sleep(1000);
              } finally {
                yield* sleep(20); // a cleanup that waits, and the close with it
              }
            })(),
          );
          yield* gen.next();
          yield* sleep(1);
          yield* gen.close();
          log.push("the close returned");
        })(),
      );
      yield* sleep(5);
      parent.cancel();
      const error = yield* catching(parent);
      log.push(`parent ${(error as Error).name} at ${loop.time()}`);
      return log;
    });
    expect(log).toEqual(["parent CancelledError at 21"]);
  });
});
