/**
 * Port of the parts of CPython Lib/test/test_asyncio/test_base_events.py that
 * do no I/O: BaseEventLoopTests and RunningLoopTests. CPython's tests look at
 * the loop's _ready and _scheduled; here a SchedulingVirtualEventLoop shows its
 * ready queue through queueItems(), and one `_run_once` is runOnce(),
 * `callSoon(stop)` then runForever(). The default exception handler prints
 * through console.error, which the tests read in place of CPython's mocked
 * logger.
 */
// biome-ignore-all lint/correctness/useYield: coroutines that finish without suspending are part of what is tested.
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import {
  type BaseEventLoop,
  type Coro,
  type ExceptionContext,
  type ExceptionHandler,
  Handle,
  HostEventLoop,
  SchedulingVirtualEventLoop,
  sleep,
  Task,
  type TaskFactory,
  TimerHandle,
  VirtualEventLoop,
} from "../../src/index.js";
import { rejectedAtCall } from "../helpers.js";
import { CLOCK_RES, LOOPS, noop, only, runBriefly, runOnce } from "./helpers.js";

describe("test_base_events.BaseEventLoopTests", () => {
  let loop: SchedulingVirtualEventLoop;
  let errorSpy: MockInstance<typeof console.error>;
  /** What the default exception handler printed since the last call (CPython mocks the logger). */
  const logged = (): string => {
    const text = errorSpy.mock.calls.map((args) => args.map(String).join(" ")).join("\n");
    errorSpy.mockClear();
    return text;
  };
  beforeEach(() => {
    loop = new SchedulingVirtualEventLoop();
    errorSpy = vi.spyOn(console, "error").mockImplementation(() => {});
  });
  afterEach(() => {
    if (!loop.isClosed()) loop.close();
    const unread = logged();
    errorSpy.mockRestore();
    // Each test reads what it makes the loop print: nothing else may be printed.
    expect(unread).toBe("");
  });

  it("test_close", async () => {
    expect(loop.isClosed()).toBe(false);
    loop.close();
    expect(loop.isClosed()).toBe(true);
    loop.close();
    loop.close();
    const f = loop.createFuture();
    await expect(loop.runForever()).rejects.toThrow(/closed/);
    await expect(loop.runUntilComplete(f)).rejects.toThrow(/closed/);
  });

  it("test_call_soon", () => {
    const cb = () => {};
    const h = loop.callSoon(cb);
    expect(h.callback).toBe(cb);
    expect(h).toBeInstanceOf(Handle);
    expect([...loop.queueItems()]).toContain(h);
  });

  it("test_call_soon_non_callable", () => {
    loop.setDebug(true);
    expect(() => loop.callSoon(1 as never)).toThrow(TypeError);
  });

  it("test_call_later", () => {
    const cb = () => {};
    const h = loop.callLater(10_000, cb);
    expect(h).toBeInstanceOf(TimerHandle);
    expect([...loop.queueItems()]).not.toContain(h);
    expect(() => loop.callLater(null as never, cb)).toThrow(TypeError);
  });

  it("test_call_later_negative_delays", async () => {
    const calls: string[] = [];
    const cb = (arg: string) => calls.push(arg);
    loop.callLater(-1000, cb, "a");
    loop.callLater(-2000, cb, "b");
    await runBriefly(loop);
    expect(calls).toEqual(["b", "a"]);
  });

  it.each(LOOPS)("test_call_later_negative_delays [%s]", async (_n, make) => {
    const l = make();
    const calls: string[] = [];
    const cb = (arg: string) => calls.push(arg);
    l.callLater(-1000, cb, "a");
    l.callLater(-2000, cb, "b");
    await runBriefly(l);
    l.close();
    expect(calls).toEqual(["b", "a"]);
  });

  it.each(LOOPS)("test_time_and_call_at [%s]", async (_n, make) => {
    const l = make();
    const delay = 100;
    const when = l.time() + delay;
    l.callAt(when, () => l.stop());
    const t0 = l.time();
    await l.runForever();
    const dt = l.time() - t0;
    expect(dt).toBeGreaterThanOrEqual(delay - CLOCK_RES);
    expect(() => l.callAt(null as never, noop)).toThrow(TypeError);
    l.close();
  });

  it("test_set_debug", () => {
    loop.setDebug(true);
    expect(loop.getDebug()).toBe(true);
    loop.setDebug(false);
    expect(loop.getDebug()).toBe(false);
  });

  it("test__run_once_schedule_handle (ADAPTED)", async () => {
    // A due timer whose callback calls call_soon: after one iteration, the new handle waits in the
    // ready queue (it runs at the next iteration), the timer callback itself ran.
    let handle: Handle | null = null;
    let processed = false;
    loop.callLater(
      -1000,
      (l: BaseEventLoop) => {
        processed = true;
        handle = l.callSoon(() => true);
      },
      loop,
    );
    await runOnce(loop);
    expect(processed).toBe(true);
    expect([...loop.queueItems()]).toEqual([handle]);
  });

  it("test_run_until_complete_type_error", async () => {
    await expect(loop.runUntilComplete("blah" as never)).rejects.toThrow(TypeError);
  });

  it("test_run_until_complete_loop", async () => {
    const task = loop.createFuture();
    const other = new VirtualEventLoop();
    await expect(other.runUntilComplete(task)).rejects.toThrow(/different event loop/);
    other.close();
  });

  it("test_run_until_complete_loop_orphan_future_close_loop (ADAPTED)", async () => {
    // Python interrupts run_until_complete with a SystemExit from a callback; JS has no BaseException
    // (a callback's error goes to the handler), so interrupt it with stop() instead.
    function* foo(delay: number) {
      yield* sleep(delay);
    }
    loop.callSoon(() => loop.stop());
    await expect(loop.runUntilComplete(foo(100))).rejects.toThrow(/stopped before/);
    // fails if runUntilComplete did not clean up the done-callback of the previous future
    await loop.runUntilComplete(foo(200));
  });

  it("test_default_exc_handler_callback", async () => {
    function zeroError(fut: { setResult(v: boolean): void }) {
      fut.setResult(true);
      throw new RangeError("division by zero");
    }
    // call_soon (Handle)
    let fut = loop.createFuture<boolean>();
    loop.callSoon(zeroError, fut);
    fut.addDoneCallback(() => loop.stop());
    await loop.runForever();
    let text = logged();
    expect(text).toMatch(/Exception in callback.*zeroError/);
    expect(text).toMatch(/RangeError/);
    // call_later (TimerHandle)
    fut = loop.createFuture<boolean>();
    loop.callLater(10, zeroError, fut);
    fut.addDoneCallback(() => loop.stop());
    await loop.runForever();
    text = logged();
    expect(text).toMatch(/Exception in callback.*zeroError/);
  });

  it("test_default_exc_handler_coro (ADAPTED: reported at close, not at GC)", async () => {
    function* zeroErrorCoro(): Coro<void> {
      yield* sleep(10);
      throw new RangeError("division by zero");
    }
    const contexts: ExceptionContext[] = [];
    loop.setExceptionHandler((_l, ctx) => contexts.push(ctx));
    const fut = loop.createTask(zeroErrorCoro());
    fut.addDoneCallback(() => loop.stop());
    await loop.runForever();
    loop.close(); // "reports failures nobody retrieved"
    expect(contexts.length).toBe(1);
    const context = only(contexts);
    expect(context.message).toMatch(/exception was never retrieved/);
    expect(context.exception).toBeInstanceOf(RangeError);
    expect(context.future).toBe(fut);
  });

  it("test_set_exc_handler_invalid", () => {
    expect(() => loop.setExceptionHandler("spam" as never)).toThrow(TypeError);
  });

  it("test_set_exc_handler_custom", async () => {
    function zeroError() {
      throw new RangeError("division by zero");
    }
    loop.setDebug(true);
    expect(loop.getExceptionHandler()).toBeNull();
    const mockHandler = vi.fn<ExceptionHandler>();
    loop.setExceptionHandler(mockHandler);
    expect(loop.getExceptionHandler()).toBe(mockHandler);
    let handle = loop.callSoon(zeroError);
    await runOnce(loop);
    expect(mockHandler).toHaveBeenCalledTimes(1);
    const [l, ctx] = only(mockHandler.mock.calls);
    expect(l).toBe(loop);
    expect(Object.keys(ctx).sort()).toEqual(["exception", "handle", "message", "sourceTraceback"]);
    expect(ctx.message).toMatch(/Exception in callback.*zeroError/);
    expect(ctx.handle).toBe(handle);
    expect(ctx.exception).toBeInstanceOf(RangeError);
    mockHandler.mockReset();

    loop.setExceptionHandler(null);
    handle = loop.callSoon(zeroError);
    await runOnce(loop);
    expect(logged()).toMatch(/Exception in callback.*zero/);
    expect(mockHandler).not.toHaveBeenCalled();
  });

  it("test_set_exc_handler_broken", async () => {
    loop.setExceptionHandler(() => {
      throw new TypeError("spam");
    });
    loop.callSoon(() => {
      throw new RangeError("division by zero");
    });
    await runOnce(loop);
    expect(logged()).toMatch(/Unhandled error in exception handler/);
  });

  it("test_default_exc_handler_broken", async () => {
    const contexts: ExceptionContext[] = [];
    class Loop extends SchedulingVirtualEventLoop {
      override defaultExceptionHandler(context: ExceptionContext): void {
        contexts.push(context);
        throw new Error("spam"); // a buggy default_exception_handler
      }
    }
    const l = new Loop();
    const zero = () => {
      throw new RangeError("division by zero");
    };
    l.callSoon(zero);
    await runOnce(l);
    expect(logged()).toMatch(/Exception in default exception handler/);

    contexts.length = 0;
    l.setExceptionHandler(() => {
      throw new Error("ham");
    });
    l.callSoon(zero);
    await runOnce(l);
    expect(logged()).toMatch(/Exception in default exception.*while handling.*in custom/s);
    // the original context is passed to the default handler
    const { context: original } = only(contexts);
    expect(original).toBeTruthy();
    expect((original as ExceptionContext).exception).toBeInstanceOf(RangeError);
    l.close();
  });

  it("test_set_task_factory_invalid", () => {
    expect(() => loop.setTaskFactory(1 as never)).toThrow(TypeError);
    expect(loop.getTaskFactory()).toBeNull();
  });

  it("test_set_task_factory", async () => {
    class MyTask<T> extends Task<T> {}
    function* coro() {}
    const factory: TaskFactory = (l, c, options) => new MyTask(c, { ...options, loop: l });
    expect(loop.getTaskFactory()).toBeNull();
    loop.setTaskFactory(factory);
    expect(loop.getTaskFactory()).toBe(factory);
    let task = loop.createTask(coro());
    expect(task).toBeInstanceOf(MyTask);
    await loop.runUntilComplete(task);
    loop.setTaskFactory(null);
    expect(loop.getTaskFactory()).toBeNull();
    task = loop.createTask(coro());
    expect(task).toBeInstanceOf(Task);
    expect(task).not.toBeInstanceOf(MyTask);
    await loop.runUntilComplete(task);
  });

  it("test_create_named_task_with_default_factory", async () => {
    const task = loop.createTask((function* () {})(), { name: "test_task" });
    expect(task.getName()).toBe("test_task");
    await loop.runUntilComplete(task);
  });

  it("test_create_named_task_with_custom_factory", async () => {
    loop.setTaskFactory((l, c, options) => new Task(c, { ...options, loop: l }));
    const task = loop.createTask((function* () {})(), { name: "test_task" });
    expect(task.getName()).toBe("test_task");
    await loop.runUntilComplete(task);
  });

  it("test_run_forever_keyboard_interrupt (ADAPTED: an Error in place of KeyboardInterrupt)", async () => {
    // the temporary task that run_until_complete makes consumes the error: nothing is reported later
    const handler = vi.fn();
    loop.setExceptionHandler(handler);
    function* raiser(): Coro<void> {
      throw new Error("interrupt");
    }
    await expect(loop.runUntilComplete(raiser())).rejects.toThrow("interrupt");
    loop.close();
    expect(handler).not.toHaveBeenCalled();
  });

  it("test_run_until_complete_baseexception (ADAPTED)", async () => {
    // run_until_complete must not leave a pending stop() behind when the main failed
    function* raiser(): Coro<void> {
      throw new Error("interrupt");
    }
    await expect(loop.runUntilComplete(raiser())).rejects.toThrow("interrupt");
    let called = false;
    const func = () => {
      loop.stop();
      called = true;
    };
    loop.callSoon(() => loop.callSoon(func));
    await loop.runForever();
    expect(called).toBe(true);
  });

  it("test_run_once", async () => {
    let count = 0;
    loop.callSoon(() => count++);
    await runOnce(loop);
    expect(count).toBe(1);
  });

  it.each(LOOPS)("test_run_forever_pre_stopped [%s]", async (_n, make) => {
    // the old idiom: stop() before run_forever() runs one iteration and returns
    const l = make();
    const order: string[] = [];
    l.callSoon(() => {
      order.push("first");
      l.callSoon(() => order.push("second"));
    });
    l.stop();
    await l.runForever();
    expect(order).toEqual(["first"]);
    expect(l.isRunning()).toBe(false);
    await runBriefly(l);
    expect(order).toEqual(["first", "second"]);
    l.close();
  });

  it("test_custom_run_forever_integration (ADAPTED: isRunning/getRunningLoop during runForever)", async () => {
    let count = 0;
    let sawRunning: BaseEventLoop | null = null;
    loop.callSoon(() => {
      count++;
      sawRunning = loop.isRunning() ? loop : null;
    });
    const p = loop.runForever();
    expect(loop.isRunning()).toBe(true);
    loop.callSoon(() => loop.stop());
    await p;
    expect(loop.isRunning()).toBe(false);
    expect(count).toBe(1);
    expect(sawRunning).toBe(loop);
  });

  it("test_log_slow_callbacks (ADAPTED: debug lint through the exception handler)", async () => {
    // Python sets slow_callback_duration = 0.0, so that every callback and step is slow, and checks
    // the logger's warning "Executing <Handle ...stop_loop_cb...> took .* seconds". asynkit gives the
    // warning, in ms, to the exception handler, and a task's string does not name its coroutine.
    const l = new HostEventLoop();
    const contexts: ExceptionContext[] = [];
    l.setExceptionHandler((_x, ctx) => contexts.push(ctx));
    l.setDebug(true);
    l.slowCallbackDuration = 0;
    function stopLoopCb(x: BaseEventLoop) {
      x.stop();
    }
    const handle = l.callSoon(stopLoopCb, l);
    await l.runForever();
    const slowCallback = only(contexts);
    expect(slowCallback.message).toMatch(
      /^Executing <Handle stopLoopCb\(<HostEventLoop running ready=0 timers=0>\) created at [^>]*> took \d+\.\d ms: a step this long holds up every other task$/,
    );
    expect(slowCallback.handle).toBe(handle);
    expect(slowCallback.lint).toBe(true);
    contexts.length = 0;
    function* stopLoopCoro(x: BaseEventLoop): Coro<void> {
      x.stop();
    }
    const task = l.createTask(stopLoopCoro(l));
    await l.runForever();
    const slowStep = only(contexts);
    expect(slowStep.message).toMatch(
      /^Executing <Task finished name="Task-1" result=undefined> took \d+\.\d ms \(its first step\): a step this long holds up every other task$/,
    );
    expect(slowStep.task).toBe(task);
    expect(slowStep.lint).toBe(true);
    l.close();
  });

  it("test_call_coroutine", () => {
    // Python: TypeError("coroutines cannot be used with call_soon()") for a coroutine function or object.
    function* simpleCoroutine() {}
    loop.setDebug(true);
    for (const func of [simpleCoroutine, simpleCoroutine()]) {
      expect(() => loop.callSoon(func as never)).toThrow(TypeError);
      expect(() => loop.callLater(60_000, func as never)).toThrow(TypeError);
      expect(() => loop.callAt(loop.time() + 60_000, func as never)).toThrow(TypeError);
    }
  });
});

describe("test_base_events.RunningLoopTests", () => {
  it("test_running_loop_within_a_loop", async () => {
    const l = new HostEventLoop();
    const outer = new HostEventLoop();
    // ADAPTED: the nested runForever() returns a promise rejected already; Python raises through
    // runner(). Its rejection is taken at the call, before the host could call it unhandled.
    let refusal: Promise<Error> | undefined;
    function* runner(x: BaseEventLoop) {
      refusal = rejectedAtCall(x.runForever());
    }
    try {
      await outer.runUntilComplete(runner(l));
      expect((await refusal)?.message).toMatch(/another loop is running/);
    } finally {
      l.close();
      outer.close();
    }
  });
});
