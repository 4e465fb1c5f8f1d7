/**
 * timeout() / timeoutAt() / Timeout: ports of CPython's test_timeouts.py on
 * the virtual loop; timeouts of minutes run in microseconds.
 */
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { setTimeout as delay } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import {
  CancelledError,
  coroStart,
  createTask,
  currentTask,
  Event,
  forAwait,
  GeneratorObject,
  getRunningLoop,
  run,
  sleep,
  Timeout,
  TimeoutError,
  taskSignal,
  timeout,
  timeoutAt,
  VirtualEventLoop,
  waitFor,
} from "../src/index.js";
import { catching, runV } from "./helpers.js";

describe("timeout", () => {
  it("names its deadline to the microsecond on the host's clock", async () => {
    const message = await run(function* () {
      try {
        yield* timeout(1.000_123_4, function* () {
          yield* sleep(50);
        });
      } catch (error) {
        return (error as Error).message;
      }
      return "no timeout";
    });
    expect(message).toMatch(
      /^Timed out: the deadline at loop time \d+(\.\d{1,3})? ms passed, \d+(\.\d{1,3})? ms after the block began, while Task "Task-\d+" waited on sleep until t=\d+ ms \(every duration is in milliseconds\)\.$/,
    );
  });

  it("counts a delay from the clock reading its deadline came from: on the host's clock the error says the delay given", async () => {
    const messages = await run(function* () {
      const out: string[] = [];
      for (const guard of [() => timeout(5, () => sleep(50)), () => waitFor(sleep(50), 5)]) {
        out.push(((yield* catching(guard())) as Error).message);
      }
      return out;
    });
    for (const message of messages)
      expect(message).toContain(" ms passed, 5 ms after the block began, ");
  });

  it("says how long after the block began its deadline came, for a delay given in seconds by habit", () => {
    const messages = runV(function* () {
      yield* sleep(100);
      const out: string[] = [];
      for (const guard of [() => timeout(1.5, () => sleep(50)), () => waitFor(sleep(50), 1.5)]) {
        out.push(((yield* catching(guard())) as Error).message);
      }
      return out;
    });
    expect(messages.map((message) => message.replace(/Task-\d+/, "Task-N"))).toEqual([
      'Timed out: the deadline at loop time 101.5 ms passed, 1.5 ms after the block began, while Task "Task-N" waited on sleep until t=150 ms (every duration is in milliseconds).',
      'Timed out: the deadline at loop time 103 ms passed, 1.5 ms after the block began, while Task "Task-N" waited on sleep until t=152 ms (every duration is in milliseconds).',
    ]);
  });

  it("names the task and what it waited on when the deadline came: a native body's stack shows none of its frames", async () => {
    const loop = new VirtualEventLoop();
    const message = await loop.runUntilComplete(() =>
      createTask(() => timeout(50, () => new Event().wait()), { name: "caller" }).then(
        String,
        (error: Error) => error.message,
      ),
    );
    loop.close();
    expect(message).toBe(
      'Timed out: the deadline at loop time 50 ms passed, 50 ms after the block began, while Task "caller" waited on Event.wait() (every duration is in milliseconds).',
    );
    // On the host's clock, a body that never waits: one bare yield a step, ready at the deadline.
    const spun = await run(() =>
      createTask(
        () =>
          timeout(1, async () => {
            for (;;) await sleep(0);
          }),
        { name: "spinner" },
      ).then(String, (error: Error) => error.message),
    );
    expect(spun).toMatch(
      /^Timed out: the deadline at loop time [\d.]+ ms passed, [\d.]+ ms after the block began, in Task "spinner" \(every duration is in milliseconds\)\.$/,
    );
  });

  it("cancels the body at the deadline and raises TimeoutError (test_timeout_basic)", () => {
    const started = performance.now();
    const result = runV(function* () {
      const loop = getRunningLoop();
      let cm: Timeout | null = null;
      const error = yield* catching(
        timeout(5 * 60_000, function* (t) {
          cm = t;
          yield* sleep(60 * 60_000);
        }),
      );
      return { error, now: loop.time(), expired: (cm as Timeout | null)?.expired() };
    });
    expect(result.error).toBeInstanceOf(TimeoutError);
    expect((result.error as Error).cause).toBeInstanceOf(CancelledError);
    expect(result.now).toBe(5 * 60_000);
    expect(result.expired).toBe(true);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("the body sees the CancelledError; only the outermost expired block raises TimeoutError (test_nested_timeouts)", () => {
    const log = runV(function* () {
      const loop = getRunningLoop();
      const log: string[] = [];
      const deadline = loop.time() + 10;
      let cm1: Timeout | null = null;
      let cm2: Timeout | null = null;
      const error = yield* catching(
        timeoutAt(deadline, function* (t1) {
          cm1 = t1;
          try {
            yield* timeoutAt(deadline, function* (t2) {
              cm2 = t2;
              yield* sleep(10_000);
            });
          } catch (e) {
            log.push(`inner: ${(e as Error).name}`);
            throw e;
          }
        }),
      );
      log.push(`outer: ${(error as Error).name}`);
      log.push(
        `expired: ${(cm1 as Timeout | null)?.expired()} ${(cm2 as Timeout | null)?.expired()}`,
      );
      return log;
    });
    expect(log).toEqual(["inner: CancelledError", "outer: TimeoutError", "expired: true true"]);
  });

  it("returns the body's value when it finishes in time; null means no deadline", () => {
    runV(function* () {
      let cm: Timeout | null = null;
      expect(
        yield* timeout(100, function* (t) {
          cm = t;
          return yield* sleep(10, "in time");
        }),
      ).toBe("in time");
      expect((cm as Timeout | null)?.expired()).toBe(false);
      expect(String(cm)).toBe("<Timeout [finished] when=100>");
      expect(
        yield* timeout(null, function* (t) {
          expect(t.when()).toBeNull();
          return yield* sleep(60_000, "no deadline");
        }),
      ).toBe("no deadline");
    });
  });

  it("a zero or past deadline still expires, at the next step (test_timeout_zero, test_timeout_in_the_past_sleep_zero)", () => {
    runV(function* () {
      expect(yield* catching(timeout(0, () => sleep(10_000)))).toBeInstanceOf(TimeoutError);
      expect(yield* catching(timeout(-11, () => sleep(0)))).toBeInstanceOf(TimeoutError);
    });
  });

  it("passes other errors through unchanged (test_foreign_exception_passed)", () => {
    runV(function* () {
      const error = yield* catching(
        timeout(10, function* () {
          yield* sleep(1);
          throw new RangeError("mine");
        }),
      );
      expect(error).toBeInstanceOf(RangeError);
    });
  });

  it("a cancel from outside stays a CancelledError (test_foreign_cancel_doesnt_timeout_if_not_expired)", () => {
    runV(function* () {
      const task = createTask(timeout(10_000, () => sleep(60_000)));
      yield* sleep(10);
      task.cancel();
      expect(yield* catching(task)).toBeInstanceOf(CancelledError);
    });
  });

  it("the task is not left cancelled after a TimeoutError (test_outer_task_is_not_cancelled)", () => {
    runV(function* () {
      yield* catching(timeout(1, () => sleep(10)));
      const task = currentTask();
      expect(task?.cancelling()).toBe(0);
      yield* sleep(10); // and it can still wait
    });
  });

  it("reschedule() moves the deadline, null removes it (test_reschedule)", () => {
    runV(function* () {
      const loop = getRunningLoop();
      const deadline1 = loop.time() + 10_000;
      const deadline2 = deadline1 + 20_000;
      const fut = loop.createFuture<Timeout>();
      const task = createTask(
        timeoutAt(deadline1, function* (cm) {
          fut.setResult(cm);
          yield* sleep(50_000);
        }),
      );
      const cm = yield* fut;
      expect(cm.when()).toBe(deadline1);
      expect(String(cm)).toBe(`<Timeout [active] when=${deadline1}>`);
      cm.reschedule(deadline2);
      expect(cm.when()).toBe(deadline2);
      cm.reschedule(null);
      expect(cm.when()).toBeNull();
      task.cancel();
      expect(yield* catching(task)).toBeInstanceOf(CancelledError);
      expect(cm.expired()).toBe(false);
      expect(() => cm.reschedule(1)).toThrow("Cannot reschedule a Timeout that is finished.");
    });
  });

  it("extending the deadline from inside the body gives it more time", () => {
    const end = runV(function* () {
      yield* timeout(100, function* (t) {
        yield* sleep(90);
        t.reschedule((t.when() as number) + 100);
        yield* sleep(90);
      });
      return getRunningLoop().time();
    });
    expect(end).toBe(180);
  });

  it("works in cleanup after the task swallowed a cancellation (test_timeout_after_cancellation)", () => {
    runV(function* () {
      try {
        currentTask()?.cancel();
        yield* sleep(1000);
      } catch (error) {
        expect(error).toBeInstanceOf(CancelledError);
      }
      expect(yield* catching(timeout(0, () => sleep(1000)))).toBeInstanceOf(TimeoutError);
    });
  });

  it("a cancel inside an expiring block wins over the timeout (test_cancel_in_timeout_after_cancellation)", () => {
    runV(function* () {
      const error = yield* catching(
        timeout(0, function* () {
          currentTask()?.cancel();
          yield* sleep(2000);
        }),
      );
      expect(error).toBeInstanceOf(CancelledError);
      expect(error).not.toBeInstanceOf(TimeoutError);
    });
  });

  it("misuse is reported: reuse, reschedule before entering, outside a task, bad delay", () => {
    runV(function* () {
      const t = new Timeout(null);
      expect(() => t.reschedule(1)).toThrow(/has not been entered/);
      yield* t.run(() => sleep(0));
      expect(() => t.run(() => sleep(0)).next()).toThrow(/already been entered/);
      expect(() => timeout(Number.NaN, () => sleep(0))).toThrow(RangeError);
    });
    const loop = new VirtualEventLoop();
    let outside: unknown = null;
    loop.callSoon(() => {
      try {
        timeout(1, () => sleep(0)).next();
      } catch (error) {
        outside = error;
      }
    });
    loop.runSync(sleep(0));
    expect(String(outside)).toMatch(/inside a task/);
  });
});

describe("timeout() in a generator closed with return() (aclose() of an async generator in asyncio)", () => {
  it("its deadline goes with it: it cancels nothing later", () => {
    const log = runV(function* () {
      const log: string[] = [];
      const gen = new GeneratorObject<number>(function* (g) {
        try {
          yield* timeout(50, function* () {
            yield* g.yield(1);
            yield* g.yield(2);
          });
        } finally {
          log.push(`closed at ${getRunningLoop().time()}`);
        }
      });
      log.push(`got ${(yield* gen.next()).value}`);
      yield* gen.close();
      yield* sleep(100); // past the deadline
      log.push(`slept to ${getRunningLoop().time()}, cancelling ${currentTask()?.cancelling()}`);
      return log;
    });
    expect(log).toEqual(["got 1", "closed at 0", "slept to 100, cancelling 0"]);
  });

  it("and for waitFor() and forAwait() leaving a source early", async () => {
    function ticker(): GeneratorObject<number> {
      return new GeneratorObject<number>(function* (g) {
        yield* timeout(50, function* () {
          for (let i = 0; ; i++) {
            yield* sleep(5);
            yield* g.yield(i);
          }
        });
      });
    }
    const loop = new VirtualEventLoop();
    const read = await loop.runUntilComplete(function* () {
      const items: number[] = [];
      yield* forAwait(ticker(), (i) => {
        items.push(i);
        return i < 2;
      });
      const start = coroStart(waitFor(sleep(1000), 30));
      start.close();
      yield* sleep(100);
      return items;
    });
    expect([read, loop.time()]).toEqual([[0, 1, 2], 115]);
  });
});

describe("timeout() around an async body blocked on a host promise", () => {
  it("returns the late result when the cancellation never reached the body, as asyncio.timeout() does; one that takes taskSignal() raises TimeoutError", async () => {
    const log: string[] = [];
    const reports: string[] = [];
    const loop = new VirtualEventLoop();
    loop.setExceptionHandler((_loop, context) => reports.push(context.message));
    // The host timer runs from the deadline's cancel() of the task: armed at the await, it
    // could fire before the loop's looks on a loaded machine (it finds the task blocked on the
    // host in one host macrotask, and moves its clock to the deadline in the next), and the
    // body would end before the deadline.
    let armHostTimer = (): void => {};
    const onCancelled = (): void => armHostTimer();
    subscribe("asynkit:task.cancelled", onCancelled);
    try {
      await loop.runUntilComplete(async () => {
        let deadline: Timeout | null = null;
        const value = await timeout(10, async (cm) => {
          deadline = cm;
          // ignores the task's signal
          await new Promise((resolve) => {
            armHostTimer = () => setTimeout(resolve, 30);
          });
          return "late";
        });
        armHostTimer = () => {};
        log.push(`${value}, expired ${(deadline as Timeout | null)?.expired()}, t=${loop.time()}`);
        await sleep(1); // the deadline's cancellation is not left pending for the task
        log.push(`then t=${loop.time()}`);
        try {
          // Its deadline aborts it: 10 s, not 30 ms, lest it end before the loop looks.
          await timeout(10, () => delay(10_000, "late", { signal: taskSignal() }));
        } catch (error) {
          log.push(`${(error as Error).name} at t=${loop.time()}`);
        }
      });
    } finally {
      unsubscribe("asynkit:task.cancelled", onCancelled);
    }
    loop.close();
    expect(log).toEqual(["late, expired true, t=10", "then t=11", "TimeoutError at t=21"]);
    // Each host await is reported on a virtual loop: it breaks determinism.
    expect(reports).toHaveLength(2);
    for (const report of reports) expect(report).toMatch(/awaited a promise the loop did not make/);
  });
});
