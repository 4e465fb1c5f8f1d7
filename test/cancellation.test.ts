// biome-ignore-all lint/correctness/useYield: coroutines that finish without suspending are part of what is tested.
/**
 * Task cancellation, after the cancel tests of CPython's test_tasks.py:
 * CancelledError is thrown into the coroutine at its next step, the awaited
 * future is cancelled with it, and cancelling()/uncancel() count requests.
 */
import { describe, expect, it } from "vitest";
import {
  CancelledError,
  createTask,
  currentTask,
  Future,
  getRunningLoop,
  InterruptError,
  sleep,
  Task,
  VirtualEventLoop,
} from "../src/index.js";
import { caught, runV, thrown } from "./helpers.js";

/** Waits for `task` and returns what it gave: its result or its error. */

describe("cancel()", () => {
  it("cancelling a sleeping task throws CancelledError at its yield and cancels the sleep", () => {
    const log: string[] = [];
    const loop = new VirtualEventLoop();
    loop.runSync(
      (function* () {
        const t = createTask(
          (function* () {
            log.push("sleep");
            try {
              yield* sleep(1000);
              log.push("woke");
            } catch (e) {
              log.push(`caught ${(e as Error).name}`);
              throw e;
            } finally {
              log.push("finally");
            }
          })(),
        );
        yield* sleep(10);
        log.push("cancel");
        expect(t.cancel()).toBe(true);
        expect(t.done()).toBe(false);
        const e = yield* caught(() => t);
        log.push(`outcome ${(e as Error).name}`);
        expect(t.cancelled()).toBe(true);
      })(),
    );
    expect(log).toEqual([
      "sleep",
      "cancel",
      "caught CancelledError",
      "finally",
      "outcome CancelledError",
    ]);
    expect(loop.time()).toBe(10);
  });

  it("cancelling a task that waits on a future cancels that future", () => {
    runV(
      (function* () {
        const f = getRunningLoop().createFuture<number>();
        const t = createTask(
          (function* () {
            return yield* f;
          })(),
        );
        yield;
        t.cancel("why");
        expect(f.cancelled()).toBe(true);
        expect(t.cancelled()).toBe(false);
        const e = yield* caught(() => t);
        expect(e).toBeInstanceOf(CancelledError);
        expect((e as Error).message).toBe("why");
        expect(t.cancelled()).toBe(true);
      })(),
    );
  });

  it("a task cancelled before it starts never runs its coroutine", () => {
    const log: string[] = [];
    runV(
      (function* () {
        const t = createTask(
          (function* () {
            log.push("ran");
            yield;
          })(),
        );
        t.cancel("early");
        expect(t.cancelling()).toBe(1);
        const e = yield* caught(() => t);
        expect(e).toBeInstanceOf(CancelledError);
        expect((e as Error).message).toBe("early");
      })(),
    );
    expect(log).toEqual([]);
  });

  it("a task that catches CancelledError can go on and return a value", () => {
    const log: string[] = [];
    const result = runV(
      (function* () {
        const t = createTask(
          (function* () {
            try {
              yield* sleep(100);
            } catch (e) {
              log.push(`caught ${(e as Error).message}`);
            }
            yield* sleep(5);
            log.push("still running");
            return 42;
          })(),
        );
        yield;
        t.cancel("go away");
        const r = yield* t;
        expect(t.cancelled()).toBe(false);
        expect(t.cancelling()).toBe(1);
        return r;
      })(),
    );
    expect(result).toBe(42);
    expect(log).toEqual(["caught go away", "still running"]);
  });

  it("a task that catches CancelledError and throws something else fails with it", () => {
    const error = new Error("instead");
    const result = runV(
      (function* () {
        const t = createTask(
          (function* () {
            try {
              yield* sleep(100);
            } catch {
              throw error;
            }
          })(),
        );
        yield;
        t.cancel();
        const e = yield* caught(() => t);
        expect(t.cancelled()).toBe(false);
        return e;
      })(),
    );
    expect(result).toBe(error);
  });

  it("a task that cancels itself gets CancelledError at its next suspension", () => {
    const log: string[] = [];
    runV(
      (function* () {
        const t = createTask(
          (function* () {
            currentTask()!.cancel("self");
            log.push("after cancel");
            try {
              yield* sleep(1000);
            } catch (e) {
              log.push(`caught ${(e as Error).message}`);
              throw e;
            }
          })(),
        );
        yield* caught(() => t);
        expect(t.cancelled()).toBe(true);
      })(),
    );
    expect(log).toEqual(["after cancel", "caught self"]);
  });

  it("a task that cancels itself and then returns ends cancelled", () => {
    runV(
      (function* () {
        const t = createTask(
          (function* () {
            currentTask()!.cancel("at end");
            return 1;
          })(),
        );
        const e = yield* caught(() => t);
        expect(t.cancelled()).toBe(true);
        expect((e as Error).message).toBe("at end");
      })(),
    );
  });

  it("a task that cancels itself and yields bare gets CancelledError at the next step", () => {
    const log: string[] = [];
    runV(
      (function* () {
        const t = createTask(
          (function* () {
            currentTask()!.cancel();
            try {
              yield;
            } catch (e) {
              log.push((e as Error).name);
            }
            return "ok";
          })(),
        );
        expect(yield* t).toBe("ok");
      })(),
    );
    expect(log).toEqual(["CancelledError"]);
  });

  it("cancel() of a done task returns false", () => {
    runV(
      (function* () {
        const t = createTask(sleep(1, "x"));
        yield* t;
        expect(t.cancel()).toBe(false);
        expect(t.cancelling()).toBe(0);
        expect(t.result()).toBe("x");
      })(),
    );
  });

  it("cancelling a task whose awaited future is done but which has not woken yet", () => {
    const log: string[] = [];
    runV(
      (function* () {
        const f = getRunningLoop().createFuture<number>();
        const t = createTask(
          (function* () {
            try {
              const v = yield* f;
              log.push(`got ${v}`);
            } catch (e) {
              log.push(`caught ${(e as Error).name}`);
              throw e;
            }
          })(),
        );
        yield;
        f.setResult(1);
        expect(t.cancel()).toBe(true);
        yield* caught(() => t);
        expect(t.cancelled()).toBe(true);
        expect(f.result()).toBe(1);
      })(),
    );
    expect(log).toEqual(["caught CancelledError"]);
  });

  it("a future that refuses to be cancelled makes the task cancel when it wakes", () => {
    class Stubborn<T> extends Future<T> {
      override cancel(): boolean {
        return false;
      }
    }
    const log: string[] = [];
    const loop = new VirtualEventLoop();
    loop.runSync(
      (function* () {
        const f = new Stubborn<number>({ loop });
        const t = createTask(
          (function* () {
            try {
              yield* f;
              log.push("finished");
            } catch (e) {
              log.push(`caught ${(e as Error).name}`);
              throw e;
            }
          })(),
        );
        yield;
        expect(t.cancel()).toBe(true);
        yield;
        expect(t.done()).toBe(false);
        log.push("set");
        f.setResult(1);
        yield* caught(() => t);
        expect(t.cancelled()).toBe(true);
      })(),
    );
    expect(log).toEqual(["set", "caught CancelledError"]);
  });

  it("cancelling a task whose awaited future failed retrieves that failure, as asyncio's __wakeup", () => {
    const loop = new VirtualEventLoop();
    const reports: string[] = [];
    loop.setExceptionHandler((_l, ctx) => reports.push(ctx.message));
    loop.runSync(
      (function* () {
        const f = getRunningLoop().createFuture<number>();
        const t = createTask(
          (function* () {
            yield* f;
          })(),
        );
        yield;
        f.setException(new Error("boom"));
        expect(t.cancel()).toBe(true);
        const e = yield* caught(() => t);
        expect(e).toBeInstanceOf(CancelledError);
      })(),
    );
    loop.close();
    expect(reports).toEqual([]);
  });

  it("a second cancel() of a task whose awaited future it already cancelled keeps the first message", () => {
    runV(
      (function* () {
        const f = getRunningLoop().createFuture<number>();
        const t = createTask(
          (function* () {
            yield* f;
          })(),
        );
        yield;
        expect(t.cancel("first")).toBe(true);
        expect(t.cancel()).toBe(true);
        expect(t.cancelling()).toBe(2);
        const e = yield* caught(() => t);
        expect(e).toBeInstanceOf(CancelledError);
        expect((e as Error).message).toBe("first");
      })(),
    );
  });

  it("a cancel requested while a bad-yield TypeError is on its way wins", () => {
    runV(
      (function* () {
        const t = createTask(
          (function* () {
            yield 1 as never;
          })(),
        );
        yield;
        t.cancel();
        const e = yield* caught(() => t);
        expect(e).toBeInstanceOf(CancelledError);
      })(),
    );
  });
});

describe("InterruptError", () => {
  it("is a CancelledError: a coroutine that ends with it ends its task cancelled", () => {
    runV(
      (function* () {
        const t = createTask(
          (function* () {
            yield;
            throw new InterruptError("interrupted");
          })(),
        );
        const e = yield* caught(() => t);
        expect(t.cancelled()).toBe(true);
        expect(e).toBeInstanceOf(CancelledError);
        expect((e as Error).message).toBe("interrupted");
        expect(new InterruptError("x").name).toBe("InterruptError");
      })(),
    );
  });
});

describe("cancelling() and uncancel()", () => {
  it("count the cancel requests", () => {
    runV(
      (function* () {
        const t = createTask(sleep(100));
        expect(t.cancelling()).toBe(0);
        expect(t.cancel()).toBe(true);
        expect(t.cancel()).toBe(true);
        expect(t.cancelling()).toBe(2);
        expect(t.uncancel()).toBe(1);
        expect(t.uncancel()).toBe(0);
        expect(t.uncancel()).toBe(0);
        yield;
      })(),
    );
  });

  it("uncancel() to zero before the task starts withdraws the cancellation", () => {
    const log: string[] = [];
    const result = runV(
      (function* () {
        const t = createTask(
          (function* () {
            log.push("ran");
            return "ran normally";
          })(),
        );
        t.cancel();
        t.uncancel();
        return yield* t;
      })(),
    );
    expect(result).toBe("ran normally");
    expect(log).toEqual(["ran"]);
  });

  it("a task can catch its cancellation, uncancel and carry on as if not cancelled", () => {
    const result = runV(
      (function* () {
        const t = createTask(
          (function* () {
            const me = currentTask()!;
            try {
              yield* sleep(100);
            } catch (e) {
              if (!(e instanceof CancelledError)) throw e;
              if (me.uncancel() !== 0) throw e;
            }
            yield* sleep(1);
            return me.cancelling();
          })(),
        );
        yield;
        t.cancel();
        return yield* t;
      })(),
    );
    expect(result).toBe(0);
  });
});

describe("cancellation through awaiting tasks", () => {
  it("cancelling the outer task cancels the inner task it waits on, with the message", () => {
    const log: string[] = [];
    runV(
      (function* () {
        const inner = createTask(
          (function* () {
            try {
              yield* sleep(1000);
            } catch (e) {
              log.push(`inner caught ${(e as Error).message}`);
              throw e;
            }
          })(),
          { name: "inner" },
        );
        const outer = createTask(
          (function* () {
            try {
              yield* inner;
            } catch (e) {
              log.push(`outer caught ${(e as Error).message}`);
              throw e;
            }
          })(),
          { name: "outer" },
        );
        yield;
        outer.cancel("stop");
        expect(inner.cancelling()).toBe(1);
        yield* caught(() => outer);
        expect(inner.cancelled()).toBe(true);
        expect(outer.cancelled()).toBe(true);
      })(),
    );
    expect(log).toEqual(["inner caught stop", "outer caught stop"]);
  });

  it("a chain of 20,000 tasks each awaiting the next passes a cancel() to its end, innermost first", () => {
    const depth = 20_000;
    const order: number[] = [];
    runV(
      (function* () {
        const never = getRunningLoop().createFuture();
        let next: Task<unknown> = createTask(
          (function* () {
            yield* never;
          })(),
        );
        const chain = [next];
        for (let i = 1; i < depth; i++) {
          const inner = next;
          const at = i;
          next = createTask(
            (function* () {
              try {
                yield* inner;
              } finally {
                order.push(at);
              }
            })(),
          );
          chain.push(next);
        }
        yield;
        expect(next.cancel("deep")).toBe(true);
        expect(chain.every((task) => task.cancelling() === 1)).toBe(true);
        expect(never.cancelled()).toBe(true);
        yield* caught(() => next);
        expect(chain.every((task) => task.cancelled())).toBe(true);
      })(),
    );
    expect(order).toEqual(Array.from({ length: depth - 1 }, (_, i) => i + 1));
  });

  it("a Task subclass in a chain of awaiting tasks has its own cancel() called", () => {
    const log: string[] = [];
    class Refusing<T> extends Task<T> {
      override cancel(message?: string): boolean {
        log.push(`refused ${message}`);
        return false;
      }
    }
    runV(
      (function* () {
        const loop = getRunningLoop();
        const inner = createTask(sleep(1000));
        const middle = new Refusing(
          (function* () {
            yield* inner;
            log.push("middle woke");
          })(),
          { loop },
        );
        const outer = createTask(
          (function* () {
            yield* middle;
          })(),
        );
        yield;
        expect(outer.cancel("stop")).toBe(true);
        expect(inner.cancelling()).toBe(0);
        // As asyncio's: the outer task takes the cancellation when what it waits on ends.
        yield* caught(() => outer);
        expect(outer.cancelled()).toBe(true);
        expect(loop.time()).toBe(1000);
      })(),
    );
    expect(log).toEqual(["refused stop", "middle woke"]);
  });

  it("a future whose cancel() throws leaves its task cancellable: the next cancel() reaches it", () => {
    const log = runV(function* () {
      const log: string[] = [];
      class Reluctant<T> extends Future<T> {
        refused = false;
        override cancel(message?: string): boolean {
          if (this.refused) return super.cancel(message);
          this.refused = true;
          throw new Error("not now");
        }
      }
      const future = new Reluctant<number>({ loop: getRunningLoop() });
      const inner = createTask(
        (function* () {
          return yield* future;
        })(),
      );
      const outer = createTask(
        (function* () {
          return yield* inner;
        })(),
      );
      yield;
      log.push(thrown(() => outer.cancel("first")).message);
      log.push(`again: ${outer.cancel("second")}`);
      const error = yield* caught(() => outer);
      log.push(`${(error as Error).name}: ${(error as Error).message}`);
      log.push(`future cancelled: ${future.cancelled()}, inner cancelled: ${inner.cancelled()}`);
      return log;
    });
    expect(log).toEqual([
      "not now",
      "again: true",
      "CancelledError: second",
      "future cancelled: true, inner cancelled: true",
    ]);
  });

  it("cancelling the inner task makes the outer one see CancelledError, without cancelling it", () => {
    const result = runV(
      (function* () {
        const inner = createTask(sleep(1000));
        const outer = createTask(
          (function* () {
            try {
              yield* inner;
              return "no";
            } catch (e) {
              return `outer saw ${(e as Error).name}: ${(e as Error).message}`;
            }
          })(),
        );
        yield;
        inner.cancel("inner only");
        const r = yield* outer;
        expect(outer.cancelling()).toBe(0);
        expect(outer.cancelled()).toBe(false);
        return r;
      })(),
    );
    expect(result).toBe("outer saw CancelledError: inner only");
  });

  it("a cancelled task raises the CancelledError that ended its coroutine, every time", () => {
    runV(
      (function* () {
        let raised: unknown;
        const t = createTask(
          (function* () {
            try {
              yield* sleep(1000);
            } catch (error) {
              raised = error;
              throw error;
            }
          })(),
        );
        yield;
        t.cancel("m");
        const awaited = yield* caught(() => t);
        expect(raised).toBeInstanceOf(CancelledError);
        expect((raised as Error).message).toBe("m");
        expect((raised as Error).cause).toBeUndefined();
        expect(awaited).toBe(raised);
        expect(thrown(() => t.result())).toBe(raised);
        expect(thrown(() => t.exception())).toBe(raised);
      })(),
    );
  });

  it("native await of a cancelled task rejects with its message", async () => {
    const loop = new VirtualEventLoop();
    const t = loop.createTask(sleep(100));
    loop.runSync(
      (function* () {
        yield;
        t.cancel("native");
        yield;
      })(),
    );
    await expect(t).rejects.toThrow(CancelledError);
    await expect(t).rejects.toThrow("native");
  });

  it("done-callbacks of a cancelled task run after it ends", () => {
    const log: string[] = [];
    runV(
      (function* () {
        const t = createTask(sleep(100));
        t.addDoneCallback((task) => log.push(`done cancelled=${task.cancelled()}`));
        yield;
        t.cancel();
        log.push("cancel requested");
        yield* caught(() => t);
        log.push("awaited");
      })(),
    );
    expect(log).toEqual(["cancel requested", "done cancelled=true", "awaited"]);
  });
});
