/**
 * Port of CPython Lib/test/test_asyncio/test_taskgroups.py (3.14), on the
 * virtual loop. As in CPython, the whole suite runs twice: with plain tasks and
 * with `eagerTaskFactory`. `async with TaskGroup() as g:` becomes
 * `yield* taskGroup(function* (g) { ... })`, ExceptionGroup is AggregateError,
 * ZeroDivisionError (`1 / 0`) is a RangeError. test/taskgroups.test.ts holds
 * asynkit's own cases.
 *
 * Not ported:
 * - test_taskgroup_20, test_taskgroup_20a, test_taskgroup_21a: KeyboardInterrupt and
 *   BaseException groups; JavaScript has one kind of error (test_taskgroup_19 covers the rest).
 * - test_taskgroup_already_entered, test_taskgroup_double_enter: a TaskGroup is entered only by
 *   taskGroup(body), which makes a new one each time; there is no way to enter one twice.
 * - test_exception_refcycles_*: gc.get_referrers and reference cycles.
 */
// biome-ignore-all lint/correctness/useYield: coroutines that finish without suspending are part of what is tested.
import { describe, expect, it } from "vitest";
import {
  CancelledError,
  ContextVar,
  type Coro,
  copyContext,
  createTask,
  currentTask,
  Event,
  eagerTaskFactory,
  sleep,
  type Task,
  type TaskFactory,
  TaskGroup,
  TimeoutError,
  taskGroup,
  timeout,
  VirtualEventLoop,
} from "../../src/index.js";
import { catching } from "../helpers.js";

class MyExc extends Error {}

/** The classes of the errors in an AggregateError. */
function errorTypes(error: unknown): Set<unknown> {
  expect(error).toBeInstanceOf(AggregateError);
  return new Set((error as AggregateError).errors.map((e) => (e as object).constructor));
}

/** `1 / 0`: fails with a RangeError. */
function divideByZero(): never {
  throw new RangeError("division by zero");
}

/** Sleeps `ms`, then returns `value`. */
function* valueAfter<T>(ms: number, value: T): Coro<T> {
  yield* sleep(ms);
  return value;
}

/** Sleeps `ms`, then divides by zero. */
function* crashAfter(ms: number): Coro<never> {
  yield* sleep(ms);
  divideByZero();
}

/** Sleeps `ms`, counting a cancellation in `counter.n` before letting it through. */
function* countCancel(ms: number, counter: { n: number }, by = 1): Coro<void> {
  try {
    yield* sleep(ms);
  } catch (error) {
    if (error instanceof CancelledError) counter.n += by;
    throw error;
  }
}

/** Sleeps 10 s and divides by zero when it is interrupted. */
function* crashOnCancel(): Coro<void> {
  try {
    yield* sleep(10_000);
  } finally {
    divideByZero();
  }
}

/** Starts `runner` as a task, lets it run 100 ms, cancels it and gives what it raised. */
function* cancelAfter100(runner: Coro<unknown>): Coro<unknown> {
  const r = createTask(runner);
  yield* sleep(100);
  expect(r.done()).toBe(false);
  r.cancel();
  return yield* catching(r);
}

const factories: [string, TaskFactory | null][] = [
  ["TestTaskGroup", null],
  ["TestEagerTaskTaskGroup", eagerTaskFactory],
];

describe.each(factories)("test_taskgroups.%s", (_name, factory) => {
  /** Runs `main` on a fresh virtual loop with the suite's task factory. */
  function runTG<T>(main: () => Coro<T>): T {
    const loop = new VirtualEventLoop();
    loop.setTaskFactory(factory);
    return loop.runSync(loop.createTask(main()));
  }

  it("test_taskgroup_01", () => {
    runTG(function* () {
      const [t1, t2] = yield* taskGroup(function* (g) {
        return [g.createTask(valueAfter(100, 42)), g.createTask(valueAfter(200, 11))];
      });
      expect(t1?.result()).toBe(42);
      expect(t2?.result()).toBe(11);
    });
  });

  it("test_taskgroup_02", () => {
    runTG(function* () {
      const [t1, t2] = yield* taskGroup(function* (g) {
        const t1 = g.createTask(valueAfter(100, 42));
        yield* sleep(150);
        return [t1, g.createTask(valueAfter(200, 11))];
      });
      expect(t1?.result()).toBe(42);
      expect(t2?.result()).toBe(11);
    });
  });

  it("test_taskgroup_03", () => {
    runTG(function* () {
      const [t1, t2] = yield* taskGroup(function* (g) {
        const t1 = g.createTask(valueAfter(1000, 42));
        yield* sleep(150);
        t1.cancel(); // everything goes on as expected
        return [t1, g.createTask(valueAfter(200, 11))];
      });
      expect(t1?.cancelled()).toBe(true);
      expect(t2?.result()).toBe(11);
    });
  });

  it("test_taskgroup_04", () => {
    runTG(function* () {
      let num = 0;
      const t2Cancel = { n: 0 };
      let t2: Task | undefined;
      function* runner(): Coro<void> {
        yield* taskGroup(function* (g) {
          g.createTask(crashAfter(100));
          t2 = g.createTask(
            (function* () {
              yield* countCancel(1000, t2Cancel);
              num += 1;
            })(),
          );
        });
        num += 10;
      }
      const error = yield* catching(createTask(runner()));
      expect(errorTypes(error)).toEqual(new Set([RangeError]));
      expect(num).toBe(0);
      expect(t2Cancel.n).toBe(1);
      expect(t2?.cancelled()).toBe(true);
    });
  });

  it("test_cancel_children_on_child_error", () => {
    runTG(function* () {
      let num = 0;
      const t2Cancel = { n: 0 };
      const runnerCancel = { n: 0 };
      function* runner(): Coro<void> {
        yield* taskGroup(function* (g) {
          g.createTask(crashAfter(100));
          g.createTask(crashAfter(100));
          g.createTask(crashAfter(100));
          g.createTask(
            (function* () {
              yield* countCancel(5000, t2Cancel);
              num += 1;
            })(),
          );
          yield* countCancel(10_000, runnerCancel);
        });
        num += 10;
      }
      const error = yield* catching(createTask(runner()));
      // On the virtual clock the three crashes land in the same step: all three are reported.
      expect((error as AggregateError).errors).toHaveLength(3);
      expect(errorTypes(error)).toEqual(new Set([RangeError]));
      expect(num).toBe(0);
      expect(t2Cancel.n).toBe(1);
      expect(runnerCancel.n).toBe(1);
    });
  });

  it("test_cancellation", () => {
    runTG(function* () {
      const counter = { n: 0 };
      function* runner(): Coro<void> {
        yield* taskGroup(function* (g) {
          for (let i = 0; i < 5; i++) g.createTask(countCancel(5000, counter));
        });
      }
      expect(yield* cancelAfter100(runner())).toBeInstanceOf(CancelledError);
      expect(counter.n).toBe(5);
    });
  });

  it("test_taskgroup_07", () => {
    runTG(function* () {
      const counter = { n: 0 };
      function* runner(): Coro<void> {
        yield* taskGroup(function* (g) {
          for (let i = 0; i < 5; i++) g.createTask(countCancel(5000, counter));
          yield* countCancel(10_000, counter, 10);
        });
      }
      expect(yield* cancelAfter100(runner())).toBeInstanceOf(CancelledError);
      expect(counter.n).toBe(15);
    });
  });

  it("test_taskgroup_08", () => {
    runTG(function* () {
      function* runner(): Coro<void> {
        yield* taskGroup(function* (g) {
          for (let i = 0; i < 5; i++) g.createTask(crashOnCancel());
          yield* sleep(10_000);
        });
      }
      const error = yield* cancelAfter100(runner());
      expect(errorTypes(error)).toEqual(new Set([RangeError]));
    });
  });

  it.each([
    ["test_taskgroup_09", 100],
    ["test_taskgroup_10", null],
  ])("%s", (_test, sleepFirst) => {
    runTG(function* () {
      let tasks: Task[] = [];
      const error = yield* catching(
        taskGroup(function* (g) {
          tasks = [g.createTask(valueAfter(1000, 42)), g.createTask(valueAfter(2000, 11))];
          if (sleepFirst !== null) yield* sleep(sleepFirst);
          divideByZero();
        }),
      );
      expect(errorTypes(error)).toEqual(new Set([RangeError]));
      expect(tasks.map((t) => t.cancelled())).toEqual([true, true]);
    });
  });

  it.each([
    ["test_taskgroup_11", false],
    ["test_taskgroup_12", true],
  ])("%s", (_test, outerSleeps) => {
    runTG(function* () {
      function* runner(): Coro<void> {
        yield* taskGroup(function* (g1) {
          if (outerSleeps) g1.createTask(sleep(10_000));
          yield* taskGroup(function* (g2) {
            for (let i = 0; i < 5; i++) g2.createTask(crashOnCancel());
            yield* sleep(10_000);
          });
        });
      }
      const error = yield* cancelAfter100(runner());
      expect(errorTypes(error)).toEqual(new Set([AggregateError]));
      expect(errorTypes((error as AggregateError).errors[0])).toEqual(new Set([RangeError]));
    });
  });

  it.each([
    ["test_taskgroup_13", 100, 10_000, RangeError],
    ["test_taskgroup_14", 10_000, 100, AggregateError],
  ])("%s", (_test, outerMs, innerMs, outerType) => {
    runTG(function* () {
      const error = yield* catching(
        createTask(
          taskGroup(function* (g1) {
            g1.createTask(crashAfter(outerMs));
            yield* taskGroup(function* (g2) {
              g2.createTask(crashAfter(innerMs));
            });
          }),
        ),
      );
      expect(errorTypes(error)).toEqual(new Set([outerType]));
      // The inner group's failure reaches the outer one as a nested AggregateError.
      if (outerType === AggregateError) {
        expect(errorTypes((error as AggregateError).errors[0])).toEqual(new Set([RangeError]));
      }
    });
  });

  /** test_taskgroup_15's runner: a group whose body takes 500 ms to give up when cancelled. */
  function* slowToCancelGroup(): Coro<void> {
    yield* taskGroup(function* (g1) {
      g1.createTask(crashAfter(300));
      try {
        yield* sleep(10_000);
      } catch (error) {
        yield* sleep(500);
        throw error;
      }
    });
  }

  it("test_taskgroup_15", () => {
    runTG(function* () {
      const error = yield* cancelAfter100(slowToCancelGroup());
      expect(errorTypes(error)).toEqual(new Set([RangeError]));
    });
  });

  it("test_taskgroup_16", () => {
    runTG(function* () {
      function* runner(): Coro<void> {
        yield* createTask(slowToCancelGroup());
      }
      const error = yield* cancelAfter100(runner());
      expect(errorTypes(error)).toEqual(new Set([RangeError]));
    });
  });

  it("test_taskgroup_17", () => {
    runTG(function* () {
      const counter = { n: 0 };
      function* runner(): Coro<void> {
        yield* taskGroup(() => countCancel(10_000, counter, 10));
      }
      expect(yield* cancelAfter100(runner())).toBeInstanceOf(CancelledError);
      expect(counter.n).toBe(10);
    });
  });

  it("test_taskgroup_18", () => {
    runTG(function* () {
      let num = 0;
      function* runner(): Coro<void> {
        yield* taskGroup(function* () {
          try {
            yield* sleep(10_000);
          } catch {
            num += 10;
            throw new MyExc(); // not a good idea, but it has to be supported
          }
        });
      }
      const error = yield* cancelAfter100(runner());
      expect(errorTypes(error)).toEqual(new Set([MyExc]));
      expect(num).toBe(10);
    });
  });

  it("test_taskgroup_19", () => {
    runTG(function* () {
      function* nested(): Coro<void> {
        try {
          yield* sleep(10_000);
        } finally {
          // biome-ignore lint/correctness/noUnsafeFinally: an error raised while cancelling is what is tested.
          throw new MyExc();
        }
      }
      const error = yield* catching(
        createTask(
          taskGroup(function* (g) {
            g.createTask(crashAfter(100));
            yield* nested();
          }),
        ),
      );
      expect(errorTypes(error)).toEqual(new Set([MyExc, RangeError]));
    });
  });

  it("test_taskgroup_22", () => {
    runTG(function* () {
      const r = createTask(
        taskGroup(function* (g) {
          g.createTask(valueAfter(1000, 42));
          g.createTask(valueAfter(2000, 11));
        }),
      );
      yield* sleep(50);
      r.cancel();
      expect(yield* catching(r)).toBeInstanceOf(CancelledError);
    });
  });

  it("test_taskgroup_23", () => {
    runTG(function* () {
      yield* taskGroup(function* (g) {
        for (let count = 0; count < 10; count++) {
          yield* sleep(100);
          g.createTask(sleep(300));
          // Finished tasks leave the group: at most three are running at any time.
          if (count === 5) expect(String(g)).toMatch(/^<TaskGroup tasks=[0-4] /);
        }
        yield* sleep(1350);
        expect(String(g)).toBe("<TaskGroup tasks=0 entered>");
      });
    });
  });

  it("test_taskgroup_24", () => {
    runTG(function* () {
      const done: number[] = [];
      function* coro1(ms: number): Coro<void> {
        yield* sleep(ms);
        done.push(ms);
      }
      yield* taskGroup(function* (g) {
        g.createTask(
          (function* () {
            yield* sleep(100);
            g.createTask(coro1(100));
            g.createTask(coro1(200));
          })(),
        );
      });
      expect(done).toEqual([100, 200]);
    });
  });

  it("test_taskgroup_25", () => {
    runTG(function* () {
      let nHydras = 0;
      function* hydra(g: TaskGroup): Coro<void> {
        nHydras += 1;
        yield* sleep(10);
        g.createTask(hydra(g));
        g.createTask(hydra(g));
      }
      function* hercules(): Coro<void> {
        while (nHydras < 10) yield* sleep(15);
        divideByZero();
      }
      const error = yield* catching(
        taskGroup(function* (g) {
          g.createTask(hydra(g));
          g.createTask(hercules());
        }),
      );
      expect(errorTypes(error)).toEqual(new Set([RangeError]));
      expect(nHydras).toBeGreaterThanOrEqual(10);
    });
  });

  it("test_taskgroup_task_name", () => {
    runTG(function* () {
      yield* taskGroup(function* (g) {
        const t = g.createTask(sleep(0), { name: "yolo" });
        expect(t.getName()).toBe("yolo");
      });
    });
  });

  it("test_taskgroup_task_context", () => {
    runTG(function* () {
      const cvar = new ContextVar<number>("cvar");
      function* coro(val: number): Coro<void> {
        yield* sleep(0);
        cvar.set(val);
      }
      yield* taskGroup(function* (g) {
        const ctx = copyContext();
        expect(ctx.get(cvar)).toBeUndefined();
        yield* g.createTask(coro(1), { context: ctx });
        expect(ctx.get(cvar)).toBe(1);
        yield* g.createTask(coro(2), { context: ctx });
        expect(ctx.get(cvar)).toBe(2);
      });
    });
  });

  it("test_taskgroup_no_create_task_after_failure", () => {
    runTG(function* () {
      let refused: unknown;
      function* coro2(g: TaskGroup): Coro<void> {
        try {
          yield* sleep(1000);
        } catch (error) {
          if (!(error instanceof CancelledError)) throw error;
          try {
            g.createTask(crashAfter(1));
          } catch (e) {
            refused = e;
          }
        }
      }
      const error = yield* catching(
        taskGroup(function* (g) {
          g.createTask(crashAfter(1));
          g.createTask(coro2(g));
        }),
      );
      expect(errorTypes(error)).toEqual(new Set([RangeError]));
      expect(String(refused)).toMatch(/TaskGroup is shutting down/);
    });
  });

  it("test_taskgroup_context_manager_exit_raises", () => {
    runTG(function* () {
      class CustomException extends Error {}
      function* raiseExc(): Coro<never> {
        throw new CustomException();
      }
      function* main(): Coro<void> {
        const task = currentTask() as Task;
        const error = yield* catching(
          taskGroup(function* (tg) {
            // `async with database():` whose exit raises
            try {
              tg.createTask(raiseExc());
              yield* sleep(1000);
            } finally {
              // biome-ignore lint/correctness/noUnsafeFinally: the context manager's exit raises (cpython#95289).
              throw new CustomException();
            }
          }),
        );
        expect(errorTypes(error)).toEqual(new Set([CustomException]));
        expect((error as AggregateError).errors).toHaveLength(2);
        expect(task.cancelling()).toBe(0);
      }
      yield* createTask(main());
    });
  });

  it("test_taskgroup_finished", () => {
    runTG(function* () {
      let tg: TaskGroup | undefined;
      yield* taskGroup(function* (g) {
        tg = g;
      });
      const coro = sleep(0);
      expect(() => tg?.createTask(coro)).toThrow(/is finished/);
      // The coroutine was closed, not left unstarted.
      expect(coro.next().done).toBe(true);
    });
  });

  it("test_taskgroup_not_entered", () => {
    runTG(function* () {
      const tg = new TaskGroup();
      expect(() => tg.createTask(sleep(0))).toThrow(/has not been entered/);
    });
  });

  it("test_taskgroup_without_parent_task", () => {
    const loop = new VirtualEventLoop();
    loop.setTaskFactory(factory);
    let outside: unknown;
    loop.callSoon(() => {
      outside = catching(taskGroup(() => sleep(0))).next().value;
    });
    loop.runSync(sleep(0));
    expect(String(outside)).toMatch(/inside a task/);
  });

  it("test_coro_closed_when_tg_closed", () => {
    runTG(function* () {
      let tg: TaskGroup | undefined;
      yield* taskGroup(function* (g) {
        tg = g;
      });
      expect(() => tg?.createTask(sleep(0))).toThrow(/is finished/);
    });
  });

  /** Sleeps `ms`, then raises a new `E`. */
  function* raiseAfter(ms: number, E: new () => Error): Coro<never> {
    yield* sleep(ms);
    throw new E();
  }

  it("test_cancelling_level_preserved", () => {
    runTG(function* () {
      const error = yield* catching(
        taskGroup(function* (tg) {
          tg.createTask(raiseAfter(0, TypeError));
        }),
      );
      expect(errorTypes(error)).toEqual(new Set([TypeError]));
      expect(currentTask()?.cancelling()).toBe(0);
    });
  });

  it("test_nested_groups_both_cancelled", () => {
    runTG(function* () {
      const error = yield* catching(
        taskGroup(function* (outerTg) {
          const inner = yield* catching(
            taskGroup(function* (innerTg) {
              innerTg.createTask(raiseAfter(0, TypeError));
              outerTg.createTask(raiseAfter(0, SyntaxError));
            }),
          );
          expect(errorTypes(inner)).toEqual(new Set([TypeError]));
          expect(currentTask()?.cancelling()).toBe(1);
        }),
      );
      expect(errorTypes(error)).toEqual(new Set([SyntaxError]));
      expect(currentTask()?.cancelling()).toBe(0);
    });
  });

  it("test_error_and_cancel", () => {
    runTG(function* () {
      const event = new Event();
      const log: string[] = [];
      function* raiseError(): Coro<never> {
        event.set();
        yield* sleep(0);
        throw new TypeError();
      }
      function* inner(): Coro<void> {
        const error = yield* catching(
          taskGroup(function* (tg) {
            tg.createTask(raiseError());
            yield* sleep(1000);
            log.push("sleep in group was not cancelled");
          }),
        );
        expect(errorTypes(error)).toEqual(new Set([TypeError]));
        expect(currentTask()?.cancelling()).toBe(1);
        yield* sleep(1000);
        log.push("sleep after group was not cancelled");
      }
      const t = createTask(inner());
      yield* event.wait();
      expect(t.cancelling()).toBe(0);
      t.cancel();
      expect(t.cancelling()).toBe(1);
      expect(yield* catching(t)).toBeInstanceOf(CancelledError);
      expect(t.cancelled()).toBe(true);
      expect(log).toEqual([]);
    });
  });

  it("test_name", () => {
    runTG(function* () {
      let name: string | undefined;
      yield* taskGroup(function* (tg) {
        tg.createTask(
          (function* () {
            name = currentTask()?.getName();
          })(),
          { name: "example name" },
        );
      });
      expect(name).toBe("example name");
    });
  });

  it("test_cancels_task_if_created_during_creation", () => {
    runTG(function* () {
      let ran = false;
      const error = yield* catching(
        taskGroup(function* (tg) {
          function* thirdTask(): Coro<never> {
            throw new MyExc("third task failed");
          }
          function* secondTask(): Coro<void> {
            tg.createTask(thirdTask());
            const cancelled = yield* catching(
              (function* () {
                yield* sleep(0); // eager tasks cancel here
                yield* sleep(0); // lazy tasks cancel here
              })(),
            );
            expect(cancelled).toBeInstanceOf(CancelledError);
            ran = true;
          }
          tg.createTask(secondTask());
        }),
      );
      expect(ran).toBe(true);
      expect(errorTypes(error)).toEqual(new Set([MyExc]));
      expect(((error as AggregateError).errors[0] as Error).message).toBe("third task failed");
    });
  });

  it("test_cancellation_does_not_leak_out_of_tg", () => {
    runTG(function* () {
      function* throwError(): Coro<never> {
        throw new MyExc();
      }
      const error = yield* catching(
        taskGroup(function* (tg) {
          tg.createTask(throwError());
        }),
      );
      expect(errorTypes(error)).toEqual(new Set([MyExc]));
      // A cancellation leaking out of the group would surface here.
      yield* sleep(0);
      expect(currentTask()?.cancelling()).toBe(0);
    });
  });

  it("test_exception_refcycles_propagate_cancellation_error (the cause, without the gc check)", () => {
    runTG(function* () {
      const error = yield* catching(
        timeout(-1, function* () {
          yield* taskGroup(() => sleep(0));
        }),
      );
      expect(error).toBeInstanceOf(TimeoutError);
      expect((error as Error).cause).toBeInstanceOf(CancelledError);
    });
  });
});
