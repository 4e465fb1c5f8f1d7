/**
 * Port of CPython Lib/test/test_asyncio/test_runners.py: RunTests, with
 * BaseTest's tearDown checks, against asynkit's run(main, { loopFactory,
 * debug, signal }). run() returns a promise, and "cancel the main task at
 * Ctrl-C" is run(main, { signal }): asynkit leaves process signals alone
 * (docs/from-asyncio.md).
 *
 * Not ported: RunnerTests, but for the interrupt tests (an AbortSignal in place
 * of SIGINT): asyncio.Runner has no asynkit counterpart; its loop_factory and
 * debug are run()'s options, tested in RunTests.
 */
// biome-ignore-all lint/correctness/useYield: coroutines that finish without suspending are part of what is tested.
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  type BaseEventLoop,
  CancelledError,
  type Coro,
  createTask,
  currentTask,
  type ExceptionHandler,
  type Future,
  forAwait,
  GeneratorObject,
  getEventLoop,
  getRunningLoop,
  HostEventLoop,
  type Op,
  run,
  sleep,
  type Task,
  VirtualEventLoop,
} from "../../src/index.js";
import { rejectedAtCall } from "../helpers.js";
import { only } from "./helpers.js";

/** BaseTest: a loop factory that records its loop and whether shutdown_asyncgens ran. */
class TestLoop extends HostEventLoop {
  shutdownAgRun = false;
  override shutdownAsyncgens(): Op<void> {
    this.shutdownAgRun = true;
    return super.shutdownAsyncgens();
  }
}
let made: TestLoop[] = [];
const loopFactory = () => {
  const l = new TestLoop();
  made.push(l);
  return l;
};
afterEach(() => {
  // BaseTest.tearDown: the loop run() made is closed and its async generators were shut down
  for (const l of made) {
    expect(l.isClosed()).toBe(true);
    expect(l.shutdownAgRun).toBe(true);
  }
  made = [];
});

describe("test_runners.RunTests", () => {
  it("test_asyncio_run_return", async () => {
    function* main() {
      yield* sleep(0);
      return 42;
    }
    expect(await run(main(), { loopFactory })).toBe(42);
  });

  it("test_asyncio_run_raises", async () => {
    function* main(): Coro<void> {
      yield* sleep(0);
      throw new RangeError("spam");
    }
    await expect(run(main(), { loopFactory })).rejects.toThrow(/spam/);
  });

  it("test_asyncio_run_only_coro (ADAPTED)", async () => {
    // Python: ValueError 'a coroutine was expected' for 1 and for a lambda. asynkit documents that run()
    // also takes a function* or async function to call, so a lambda is called; one returning a non-coroutine fails.
    made = [];
    await expect(run(1 as never)).rejects.toThrow(TypeError);
    await expect(run((() => null) as never)).rejects.toThrow(TypeError);
  });

  it("test_asyncio_run_debug", async () => {
    function* main(expected: boolean) {
      const loop = getEventLoop();
      expect(loop.getDebug()).toBe(expected);
    }
    await run(main(false), { loopFactory });
    await run(main(true), { loopFactory, debug: true });
  });

  it("test_asyncio_run_from_running_loop", async () => {
    // ADAPTED: the inner run() returns a promise rejected already (a call that cannot start does),
    // where Python raises RuntimeError through main. Its rejection is taken at the call, before
    // the host could call it unhandled.
    let refusal: Promise<Error> | undefined;
    function* main(): Coro<void> {
      refusal = rejectedAtCall(run(main()));
    }
    await run(main(), { loopFactory });
    expect((await refusal)?.message).toMatch(/cannot be called from a running/);
  });

  it("test_asyncio_run_cancels_hanging_tasks", async () => {
    const leftovers: Task[] = [];
    function* leftover() {
      yield* sleep(100);
    }
    function* main() {
      leftovers.push(createTask(leftover()));
      return 123;
    }
    expect(await run(main(), { loopFactory })).toBe(123);
    const loTask = only(leftovers);
    expect(loTask.done()).toBe(true);
    expect(loTask.cancelled()).toBe(true);
  });

  it("test_asyncio_run_reports_hanging_tasks_errors", async () => {
    const leftovers: Task[] = [];
    const handler = vi.fn<ExceptionHandler>();
    function* leftover(): Coro<void> {
      try {
        yield* sleep(100);
      } catch (e) {
        if (e instanceof CancelledError) throw new RangeError("division by zero");
        throw e;
      }
    }
    function* main() {
      getRunningLoop().setExceptionHandler(handler);
      leftovers.push(createTask(leftover()));
      return 123;
    }
    expect(await run(main(), { loopFactory })).toBe(123);
    const loTask = only(leftovers);
    expect(loTask.done()).toBe(true);
    expect(handler).toHaveBeenCalled();
    // assert_called_with: the last call
    const lastCall = handler.mock.calls.at(-1);
    if (lastCall === undefined) throw new Error("the exception handler was not called");
    const [, ctx] = lastCall;
    // Python: {'message': 'unhandled exception during asyncio.run() shutdown', 'task': lo_task, 'exception': ZeroDivisionError}
    expect(ctx.message).toBe("unhandled exception during run() shutdown");
    expect(ctx.task).toBe(loTask);
    expect(ctx.exception).toBeInstanceOf(RangeError);
    expect(Object.keys(ctx).sort()).toEqual(["exception", "message", "task"]);
  });

  it("test_asyncio_run_closes_gens_after_hanging_tasks_errors", async () => {
    let spinnerFinalized = false;
    const lazyboys: Task[] = [];
    class FancyExit extends Error {}
    function* fidget(g: GeneratorObject<number>): Coro<void> {
      try {
        for (;;) {
          yield* g.yield(1);
          yield* sleep(1000);
        }
      } finally {
        spinnerFinalized = true;
      }
    }
    function* spin(): Coro<void> {
      const spinner = new GeneratorObject<number>((g) => fidget(g));
      try {
        yield* forAwait(spinner, () => {});
      } catch (e) {
        if (e instanceof CancelledError) throw new RangeError("division by zero");
        throw e;
      }
    }
    function* main(): Coro<void> {
      getRunningLoop().setExceptionHandler(vi.fn());
      lazyboys.push(createTask(spin()));
      throw new FancyExit();
    }
    await expect(run(main(), { loopFactory })).rejects.toBeInstanceOf(FancyExit);
    expect(only(lazyboys).done()).toBe(true);
    expect(spinnerFinalized).toBe(true);
  });

  // newer CPython (3.12+): asyncio.run(loop_factory=...)
  it("test_asyncio_run_loop_factory", async () => {
    const loops: BaseEventLoop[] = [];
    const factory = () => {
      const l = new VirtualEventLoop();
      loops.push(l);
      return l;
    };
    made = [];
    const r = await run(
      function* () {
        expect(getRunningLoop()).toBe(loops[0]);
        yield* sleep(10);
        return "ok";
      },
      { loopFactory: factory },
    );
    expect(r).toBe("ok");
    expect(loops.length).toBe(1);
    expect(only(loops).isClosed()).toBe(true);
  });
});

describe("test_runners.RunnerTests (the interrupt tests, with an AbortSignal in place of SIGINT)", () => {
  it("test_interrupt_call_soon", async () => {
    // a main task not suspended on a future (it spins on sleep(0)) is cancelled by the interrupt
    const ac = new AbortController();
    let sawCancel = false;
    function* coro(): Coro<void> {
      try {
        for (;;) yield* sleep(0);
      } catch (e) {
        if (e instanceof CancelledError) sawCancel = true;
        throw e;
      }
    }
    setTimeout(() => ac.abort("SIGINT"), 100);
    await expect(run(coro(), { loopFactory, signal: ac.signal })).rejects.toBeInstanceOf(
      CancelledError,
    );
    expect(sawCancel).toBe(true);
  });

  it("test_interrupt_wait", async () => {
    // interrupting while waiting on a future cancels both the future and the main task
    const ac = new AbortController();
    const futs: Future<unknown>[] = [];
    function* coro(): Coro<void> {
      const fut = getRunningLoop().createFuture();
      futs.push(fut);
      try {
        yield* fut;
      } catch (e) {
        expect(e).toBeInstanceOf(CancelledError);
        throw new CancelledError();
      }
    }
    setTimeout(() => ac.abort("SIGINT"), 100);
    await expect(run(coro(), { loopFactory, signal: ac.signal })).rejects.toBeInstanceOf(
      CancelledError,
    );
    expect(only(futs).cancelled()).toBe(true);
  });

  it("test_interrupt_cancelled_task", async () => {
    // interrupting a main task that is already cancelled gives the CancelledError
    const ac = new AbortController();
    function* subtask(task: Task): Coro<void> {
      yield* sleep(0);
      task.cancel();
      ac.abort("SIGINT");
    }
    function* coro(): Coro<void> {
      const task = currentTask();
      if (task === null) throw new Error("coro() runs outside a task");
      createTask(subtask(task));
      yield* sleep(10_000);
    }
    await expect(run(coro(), { loopFactory, signal: ac.signal })).rejects.toBeInstanceOf(
      CancelledError,
    );
  });
});
