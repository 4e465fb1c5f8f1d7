/**
 * Port of CPython Lib/test/test_asyncio/test_waitfor.py (3.13), on the virtual
 * loop: `asyncio.wait_for(aw, s)` is `waitFor(aw, ms)`, `time.monotonic()` the
 * loop's clock.
 *
 * Already ported in test/combinators.test.ts: test_wait_for, test_wait_for_race_condition,
 * test_wait_for_timeout_less_then_0_or_0 (timeout 0), test_cancel_wait_for.
 */
// biome-ignore-all lint/correctness/useYield: coroutines that finish without suspending are part of what is tested.
import { describe, expect, it } from "vitest";
import {
  CancelledError,
  type Coro,
  createTask,
  type Future,
  getRunningLoop,
  sleep,
  TimeoutError,
  wait,
  waitFor,
} from "../../src/index.js";
import { catching, runV } from "../helpers.js";

/** A very small timeout: above 0, so the deadline path is taken. */
const EPSILON = 0.1;

/** Runs for `ms` of loop time, ignoring cancel requests (CPython's SlowTask). */
class SlowTask {
  static readonly TASK_TIMEOUT = 200;
  exited = false;

  *run(): Coro<void> {
    const loop = getRunningLoop();
    const exitAt = loop.time() + SlowTask.TASK_TIMEOUT;
    for (;;) {
      const toSleep = exitAt - loop.time();
      if (toSleep <= 0) break;
      try {
        yield* sleep(toSleep);
      } catch (error) {
        if (!(error instanceof CancelledError)) throw error;
      }
    }
    this.exited = true;
  }
}

/** Sleeps 10 s; on cancellation takes EPSILON more before giving up. Sets `state.done` at the end. */
function* slowToCancel(state: { done: boolean }): Coro<void> {
  try {
    yield* sleep(10_000);
  } catch (error) {
    yield* sleep(EPSILON);
    throw error;
  } finally {
    state.done = true;
  }
}

describe("test_waitfor.AsyncioWaitForTest", () => {
  it("test_asyncio_wait_for_cancelled", () => {
    runV(function* () {
      const t = new SlowTask();
      const waitForTask = createTask(waitFor(t.run(), SlowTask.TASK_TIMEOUT * 2));
      yield* sleep(0);
      waitForTask.cancel();
      yield* wait([waitForTask]);
      expect(t.exited).toBe(true);
    });
  });

  it("test_asyncio_wait_for_timeout", () => {
    runV(function* () {
      const t = new SlowTask();
      const error = yield* catching(waitFor(t.run(), SlowTask.TASK_TIMEOUT / 2));
      // The work swallowed the cancellation and ran to its end: no TimeoutError.
      expect(error).toBeUndefined();
      expect(t.exited).toBe(true);
      expect(getRunningLoop().time()).toBe(SlowTask.TASK_TIMEOUT);
    });
  });

  it("test_wait_for_timeout_less_then_0_or_0_future_done", () => {
    runV(function* () {
      const loop = getRunningLoop();
      const fut = loop.createFuture<string>();
      fut.setResult("done");
      const t0 = loop.time();
      expect(yield* waitFor(fut, 0)).toBe("done");
      expect(fut.done()).toBe(true);
      expect(loop.time()).toBe(t0);
    });
  });

  it("test_wait_for_timeout_less_then_0_or_0_coroutine_do_not_started", () => {
    runV(function* () {
      let fooStarted = false;
      function* foo(): Coro<void> {
        fooStarted = true;
      }
      const error = yield* catching(waitFor(foo(), 0));
      expect(error).toBeInstanceOf(TimeoutError);
      expect(fooStarted).toBe(false);
      expect(getRunningLoop().time()).toBe(0);
    });
  });

  it("test_wait_for_timeout_less_then_0_or_0 (timeout -1)", () => {
    runV(function* () {
      const loop = getRunningLoop();
      let fooRunning: boolean | null = null;
      const started = loop.createFuture<void>();
      function* foo(): Coro<string> {
        fooRunning = true;
        started.setResult();
        try {
          yield* sleep(10_000);
        } finally {
          fooRunning = false;
        }
        return "done";
      }
      const fut = createTask(foo());
      yield* started;
      const error = yield* catching(waitFor(fut, -1));
      expect(error).toBeInstanceOf(TimeoutError);
      expect(fut.cancelled()).toBe(true);
      expect(fooRunning).toBe(false);
      expect(loop.time()).toBe(0);
    });
  });

  it("test_wait_for_blocking", () => {
    runV(function* () {
      function* coro(): Coro<string> {
        return "done";
      }
      expect(yield* waitFor(coro(), null)).toBe("done");
    });
  });

  it("test_wait_for_cancellation_race_condition", () => {
    runV(function* () {
      function* inner(): Coro<number> {
        expect(yield* catching(sleep(1000))).toBeInstanceOf(CancelledError);
        return 1;
      }
      expect(yield* waitFor(inner(), 10)).toBe(1);
    });
  });

  it("test_wait_for_waits_for_task_cancellation", () => {
    runV(function* () {
      const state = { done: false };
      const innerTask = createTask(slowToCancel(state));
      const error = yield* catching(waitFor(innerTask, EPSILON));
      expect(error).toBeInstanceOf(TimeoutError);
      expect(state.done).toBe(true);
      expect((error as Error).cause).toBeInstanceOf(CancelledError);
    });
  });

  it("test_wait_for_waits_for_task_cancellation_w_timeout_0", () => {
    runV(function* () {
      const state = { done: false };
      function* foo(): Coro<void> {
        const innerTask = createTask(slowToCancel(state));
        yield* sleep(EPSILON);
        yield* waitFor(innerTask, 0);
      }
      const error = yield* catching(foo());
      expect(error).toBeInstanceOf(TimeoutError);
      expect(state.done).toBe(true);
      expect((error as Error).cause).toBeInstanceOf(CancelledError);
    });
  });

  it("test_wait_for_reraises_exception_during_cancellation", () => {
    runV(function* () {
      class FooException extends Error {}
      function* foo(): Coro<void> {
        function* inner(): Coro<void> {
          try {
            yield* sleep(200);
          } finally {
            // biome-ignore lint/correctness/noUnsafeFinally: the error raised while cancelling is what is tested.
            throw new FooException();
          }
        }
        const innerTask = createTask(inner());
        yield* waitFor(innerTask, EPSILON);
      }
      expect(yield* catching(foo())).toBeInstanceOf(FooException);
    });
  });

  it("test_wait_for_self_cancellation", () => {
    runV(function* () {
      function* inner(): Coro<number> {
        try {
          yield* sleep(300);
        } catch {
          try {
            yield* sleep(300);
          } catch {
            yield* sleep(300);
          }
        }
        return 42;
      }
      const innerTask = createTask(inner());
      // waitFor itself is cancellable even while the work holds up the first cancellation.
      const task = createTask(waitFor(innerTask, 100));
      task.cancel();
      expect(yield* catching(task)).toBeInstanceOf(CancelledError);
      expect(yield* innerTask).toBe(42);
    });
  });

  it("test_cancel_blocking_wait_for", () => {
    runV(function* () {
      const loop = getRunningLoop();
      function* blockingCoroutine(): Coro<void> {
        const fut: Future<void> = loop.createFuture();
        yield* fut; // never set
      }
      const task = createTask(blockingCoroutine());
      const waiting = createTask(waitFor(task, null));
      loop.callSoon(() => waiting.cancel());
      expect(yield* catching(waiting)).toBeInstanceOf(CancelledError);
      // Cancelling the wait also cancels the task (Python issue #23219).
      expect(task.cancelled()).toBe(true);
    });
  });

  it("test_wait_for_cancel_suppressed", () => {
    runV(function* () {
      function* return42(): Coro<number | undefined> {
        try {
          yield* sleep(10_000);
        } catch (error) {
          if (error instanceof CancelledError) return 42;
          throw error;
        }
        return undefined;
      }
      expect(yield* waitFor(return42(), 100)).toBe(42);
    });
  });

  it("test_wait_for_issue86296", () => {
    runV(function* () {
      function* inner(): Coro<void> {}
      let reachedEnd = false;
      function* waitForCoro(): Coro<void> {
        yield* waitFor(inner(), 100_000);
        yield* sleep(1000);
        reachedEnd = true;
      }
      const task = createTask(waitForCoro());
      yield* sleep(0);
      expect(task.done()).toBe(false);
      task.cancel();
      expect(yield* catching(task)).toBeInstanceOf(CancelledError);
      expect(reachedEnd).toBe(false);
    });
  });
});
