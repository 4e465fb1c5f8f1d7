/**
 * Port of CPython Lib/test/test_asyncio/test_timeouts.py (3.14), on the virtual
 * loop. `async with asyncio.timeout(s) as cm:` becomes
 * `yield* timeout(ms, function* (cm) { ... })`.
 *
 * Already ported in test/timeouts.test.ts: test_timeout_basic, test_nested_timeouts,
 * test_timeout_zero, test_timeout_in_the_past_sleep_zero, test_foreign_exception_passed,
 * test_foreign_cancel_doesnt_timeout_if_not_expired, test_reschedule,
 * test_timeout_after_cancellation, test_cancel_in_timeout_after_cancellation.
 *
 * Not ported:
 * - test_repr_active: the regex is for Python's float seconds; test_repr_disabled covers the format.
 */
// biome-ignore-all lint/correctness/useYield: bodies that finish without suspending are part of what is tested.
import { describe, expect, it } from "vitest";
import {
  CancelledError,
  type Coro,
  createTask,
  getRunningLoop,
  type Suspend,
  sleep,
  Timeout,
  TimeoutError,
  taskGroup,
  timeout,
  timeoutAt,
  VirtualEventLoop,
} from "../../src/index.js";
import { catching, runV } from "../helpers.js";

/** What `aw` throws, rethrown unless it is a TimeoutError (as `assertRaises(TimeoutError)`). */
function* catchingTimeout(aw: Iterable<Suspend, unknown, unknown>): Coro<unknown> {
  const error = yield* catching(aw);
  if (error !== undefined && !(error instanceof TimeoutError)) throw error;
  return error;
}

/** The virtual loop that runs the current test. */
const loopNow = () => getRunningLoop() as VirtualEventLoop;

describe("test_timeouts.TimeoutTests", () => {
  it("test_timeout_at_basic", () => {
    runV(function* () {
      const deadline = loopNow().time() + 10;
      let cm: Timeout | undefined;
      const error = yield* catching(
        timeoutAt(deadline, function* (t) {
          cm = t;
          yield* sleep(10_000);
        }),
      );
      expect(error).toBeInstanceOf(TimeoutError);
      expect(cm?.expired()).toBe(true);
      expect(cm?.when()).toBe(deadline);
      expect(loopNow().time()).toBe(deadline);
    });
  });

  it("test_waiter_cancelled", () => {
    runV(function* () {
      let cancelled = false;
      const error = yield* catching(
        timeout(10, function* () {
          try {
            yield* sleep(10_000);
          } catch (e) {
            cancelled = e instanceof CancelledError;
            throw e;
          }
        }),
      );
      expect(error).toBeInstanceOf(TimeoutError);
      expect(cancelled).toBe(true);
    });
  });

  it("test_timeout_not_called", () => {
    runV(function* () {
      const cm = new Timeout(loopNow().time() + 10_000);
      yield* cm.run(() => sleep(10));
      expect(cm.expired()).toBe(false);
      expect(cm.when()).toBeGreaterThan(loopNow().time());
    });
  });

  it.each([
    ["test_timeout_disabled", timeout],
    ["test_timeout_at_disabled", timeoutAt],
  ])("%s", (_name, withDeadline) => {
    runV(function* () {
      let cm: Timeout | undefined;
      yield* withDeadline(null, function* (t) {
        cm = t;
        yield* sleep(10);
      });
      expect(cm?.expired()).toBe(false);
      expect(cm?.when()).toBeNull();
    });
  });

  it("test_timeout_zero_sleep_zero", () => {
    runV(function* () {
      const t0 = loopNow().time();
      let cm: Timeout | undefined;
      const error = yield* catching(
        timeout(0, function* (t) {
          cm = t;
          yield* sleep(0);
        }),
      );
      expect(error).toBeInstanceOf(TimeoutError);
      expect(cm?.expired()).toBe(true);
      expect(cm?.when()).toBe(t0);
      expect(loopNow().time()).toBe(t0);
    });
  });

  it("test_foreign_exception_on_timeout", () => {
    runV(function* () {
      function* crash() {
        try {
          yield* sleep(1000);
        } finally {
          // biome-ignore lint/correctness/noUnsafeFinally: the test is about an error raised while cancelling.
          throw new RangeError("division by zero");
        }
      }
      const error = yield* catching(timeout(10, crash));
      expect(error).toBeInstanceOf(RangeError);
      expect((error as Error).message).toBe("division by zero");
    });
  });

  it("test_nested_timeouts_concurrent", () => {
    runV(function* () {
      let inner: unknown = "passed through";
      const outer = yield* catching(
        timeout(2, function* () {
          inner = yield* catchingTimeout(
            timeout(100, function* () {
              loopNow().advance(10); // the code crunches numbers past both deadlines
              yield* sleep(1000);
            }),
          );
        }),
      );
      // Only the outer deadline passed: the inner block lets the cancellation through.
      expect(inner).toBe("passed through");
      expect(outer).toBeInstanceOf(TimeoutError);
    });
  });

  it("test_nested_timeouts_loop_busy", () => {
    runV(function* () {
      const t0 = loopNow().time();
      let inner: unknown = "passed through";
      const outer = yield* catching(
        timeout(100, function* () {
          inner = yield* catchingTimeout(
            timeout(10, function* () {
              loopNow().advance(100); // the loop is busy past both deadlines
              yield* sleep(1000);
            }),
          );
          yield* sleep(10_000); // interrupted by the outer deadline
        }),
      );
      // Both deadlines passed at once: the inner block sees the outer's request
      // still pending and lets the cancellation through, as asyncio's does.
      expect(inner).toBe("passed through");
      expect(outer).toBeInstanceOf(TimeoutError);
      expect(loopNow().time() - t0).toBe(100);
    });
  });

  it("test_repr_expired", () => {
    runV(function* () {
      let cm: Timeout | undefined;
      yield* catching(
        timeout(10, function* (t) {
          cm = t;
          yield* sleep(10_000);
        }),
      );
      expect(String(cm)).toBe("<Timeout [expired] when=10>");
    });
  });

  it("test_repr_finished", () => {
    runV(function* () {
      let cm: Timeout | undefined;
      yield* timeout(10_000, function* (t) {
        cm = t;
        yield* sleep(0);
      });
      expect(String(cm)).toBe("<Timeout [finished] when=10000>");
    });
  });

  it("test_repr_disabled", () => {
    runV(function* () {
      yield* timeout(null, function* (cm) {
        expect(String(cm)).toBe("<Timeout [active] when=null>");
      });
    });
  });

  it("test_nested_timeout_in_finally", () => {
    runV(function* () {
      let inner: unknown = "passed through";
      const outer = yield* catching(
        timeout(10, function* () {
          try {
            yield* sleep(1000);
          } finally {
            inner = yield* catching(timeout(10, () => sleep(10_000)));
          }
        }),
      );
      expect(inner).toBeInstanceOf(TimeoutError);
      expect(outer).toBeInstanceOf(TimeoutError);
    });
  });

  it("test_timeout_exception_cause", () => {
    runV(function* () {
      const error = yield* catching(timeout(0, () => sleep(1000)));
      expect(error).toBeInstanceOf(TimeoutError);
      expect((error as Error).cause).toBeInstanceOf(CancelledError);
    });
  });

  it("test_timeout_already_entered", () => {
    runV(function* () {
      yield* timeout(10, function* (cm) {
        const error = yield* catching(cm.run(() => sleep(0)));
        expect(String(error)).toMatch(/has already been entered/);
      });
    });
  });

  it("test_timeout_double_enter", () => {
    runV(function* () {
      let cm: Timeout | undefined;
      yield* timeout(10, function* (t) {
        cm = t;
      });
      const error = yield* catching((cm as Timeout).run(() => sleep(0)));
      expect(String(error)).toMatch(/has already been entered/);
    });
  });

  it("test_timeout_finished", () => {
    runV(function* () {
      let cm: Timeout | undefined;
      yield* timeout(10, function* (t) {
        cm = t;
      });
      expect(() => cm?.reschedule(20)).toThrow(/finished/);
    });
  });

  it("test_timeout_expired", () => {
    runV(function* () {
      let cm: Timeout | undefined;
      const error = yield* catching(
        timeout(10, function* (t) {
          cm = t;
          yield* sleep(1000);
        }),
      );
      expect(error).toBeInstanceOf(TimeoutError);
      expect(() => cm?.reschedule(20)).toThrow(/expired/);
    });
  });

  it("test_timeout_expiring", () => {
    runV(function* () {
      yield* timeout(10, function* (cm) {
        expect(yield* catching(sleep(1000))).toBeInstanceOf(CancelledError);
        expect(() => cm.reschedule(20)).toThrow(/expiring/);
      });
    });
  });

  it("test_timeout_not_entered", () => {
    const cm = new Timeout(10);
    expect(() => cm.reschedule(20)).toThrow(/has not been entered/);
  });

  it("test_timeout_without_task", () => {
    const loop = new VirtualEventLoop();
    const cm = new Timeout(10);
    let outside: unknown;
    loop.callSoon(() => {
      try {
        cm.run(() => sleep(0)).next();
      } catch (error) {
        outside = error;
      }
    });
    loop.runSync(sleep(0));
    expect(String(outside)).toMatch(/task/);
    expect(() => cm.reschedule(20)).toThrow(/has not been entered/);
  });

  it("test_outer_task_is_not_cancelled", () => {
    runV(function* () {
      const task = createTask(catching(timeout(1, () => sleep(10_000))));
      expect(yield* task).toBeInstanceOf(TimeoutError);
      expect(task.cancelled()).toBe(false);
    });
  });

  it("test_timeout_taskgroup", () => {
    runV(function* () {
      function* task(): Coro<void> {
        try {
          yield* sleep(2000); // interrupted after 10 ms
        } finally {
          // biome-ignore lint/correctness/noUnsafeFinally: a crash in cleanup is what is tested.
          throw new RangeError("division by zero");
        }
      }
      const error = yield* catching(
        timeout(10, function* () {
          yield* taskGroup(function* (tg) {
            tg.createTask(task());
            try {
              throw new SyntaxError("value error");
            } finally {
              yield* sleep(1000);
            }
          });
        }),
      );
      // The group's failure wins over the timeout: one error, the crash in cleanup.
      expect(error).toBeInstanceOf(AggregateError);
      const errors = (error as AggregateError).errors;
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(RangeError);
    });
  });
});
