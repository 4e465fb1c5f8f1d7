/**
 * Port of CPython Lib/test/test_asyncio/test_eager_task_factory.py (3.14), on
 * the virtual loop: `asyncio.create_eager_task_factory(Task)` is
 * `createEagerTaskFactory(Task)`, `eager_start=False` is `{ eagerStart: false }`.
 * CPython runs the loop tests for the C and the Python Task, and the counting
 * tests for both with and without the eager factory; asynkit has one Task, so
 * the loop tests run once and the counting tests twice (eager and not).
 *
 * Not ported:
 * - test_staggered_race_with_eager_tasks, test_staggered_race_with_eager_tasks_no_delay:
 *   asynkit has no staggered_race.
 * - test_issue105987: the C module's _swap_current_task, in a subprocess.
 * - test_issue122332: the C Task drops its coroutine when done; asynkit's getCoro() keeps it.
 */
// biome-ignore-all lint/correctness/useYield: coroutines that finish without suspending are what eager starts are about.
import { describe, expect, it } from "vitest";
import {
  allTasks,
  type BaseEventLoop,
  CancelledError,
  ContextVar,
  type Coro,
  createEagerTaskFactory,
  currentTask,
  gather,
  getRunningLoop,
  sleep,
  Task,
  type TaskFactory,
  type TaskOptions,
  taskGroup,
  VirtualEventLoop,
} from "../../src/index.js";
import { returns } from "./helpers.js";

/** A virtual loop with the eager task factory for `Task`. */
function eagerLoop(): { loop: VirtualEventLoop; factory: TaskFactory } {
  const loop = new VirtualEventLoop();
  const factory = createEagerTaskFactory(Task);
  loop.setTaskFactory(factory);
  return { loop, factory };
}

/** Runs `main` on `loop` inside a task, so that the loop is running when it creates tasks (run_coro). */
function runCoro<T>(loop: VirtualEventLoop, main: Coro<T>): T {
  return loop.runSync(
    (function* () {
      expect(getRunningLoop().isRunning()).toBe(true);
      return yield* main;
    })(),
  );
}

describe("test_eager_task_factory.PyEagerTaskFactoryLoopTests", () => {
  it("test_eager_task_factory_set", () => {
    const { loop, factory } = eagerLoop();
    expect(loop.getTaskFactory()).toBe(factory);
    runCoro(
      loop,
      (function* () {
        const t = loop.createTask((function* () {})());
        expect(t).toBeInstanceOf(Task);
        yield* t;
      })(),
    );
  });

  it("test_await_future_during_eager_step", () => {
    const { loop } = eagerLoop();
    function* setResult(fut: { setResult(v: string): void }, val: string): Coro<void> {
      fut.setResult(val);
    }
    const result = runCoro(
      loop,
      (function* () {
        const fut = loop.createFuture<string>();
        const t = loop.createTask(setResult(fut, "my message"));
        // the eager step completed the task
        expect(t.done()).toBe(true);
        return yield* fut;
      })(),
    );
    expect(result).toBe("my message");
  });

  it("test_eager_completion", () => {
    const { loop } = eagerLoop();
    const result = runCoro(
      loop,
      (function* () {
        const t = loop.createTask(returns("hello"));
        expect(t.done()).toBe(true); // the eager step completed the task
        return yield* t;
      })(),
    );
    expect(result).toBe("hello");
  });

  /** Sleeps 100 ms, then returns "finished after blocking". */
  function* blocking(): Coro<string> {
    yield* sleep(100);
    return "finished after blocking";
  }

  it("test_block_after_eager_step", () => {
    const { loop } = eagerLoop();
    const result = runCoro(
      loop,
      (function* () {
        const t = loop.createTask(blocking());
        expect(t.done()).toBe(false);
        const result = yield* t;
        expect(t.done()).toBe(true);
        return result;
      })(),
    );
    expect(result).toBe("finished after blocking");
  });

  it("test_cancellation_after_eager_completion", () => {
    const { loop } = eagerLoop();
    const result = runCoro(
      loop,
      (function* () {
        const t = loop.createTask(returns("finished without blocking"));
        t.cancel();
        const result = yield* t;
        expect(t.cancelled()).toBe(false); // a finished task cannot be cancelled
        return result;
      })(),
    );
    expect(result).toBe("finished without blocking");
  });

  it("test_cancellation_after_eager_step_blocks", () => {
    const { loop } = eagerLoop();
    let error: unknown;
    try {
      runCoro(
        loop,
        (function* () {
          const t = loop.createTask(blocking());
          t.cancel("cancellation message");
          expect(t.cancelling()).toBeGreaterThan(0);
          yield* t;
        })(),
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CancelledError);
    expect((error as Error).message).toBe("cancellation message");
  });

  it("test_current_task", () => {
    const { loop } = eagerLoop();
    let captured: Task | null = null;
    function* coro(): Coro<void> {
      captured = currentTask();
      // the task before and after blocking is the same
      yield* sleep(100);
      expect(currentTask()).toBe(captured);
    }
    runCoro(
      loop,
      (function* () {
        const t = loop.createTask(coro());
        expect(captured).toBe(t);
        yield* t;
      })(),
    );
  });

  it("test_all_tasks_with_eager_completion", () => {
    const { loop } = eagerLoop();
    let captured = new Set<Task>();
    runCoro(
      loop,
      (function* () {
        const t = loop.createTask(
          (function* () {
            captured = allTasks();
          })(),
        );
        expect(captured.has(t)).toBe(true);
        expect(allTasks().has(t)).toBe(false);
      })(),
    );
  });

  it("test_all_tasks_with_blocking", () => {
    const { loop } = eagerLoop();
    let capturedEager = new Set<Task>();
    runCoro(
      loop,
      (function* () {
        const fut1 = loop.createFuture<void>();
        const fut2 = loop.createFuture<void>();
        const t = loop.createTask(
          (function* () {
            capturedEager = allTasks();
            yield* fut1;
            fut2.setResult();
          })(),
        );
        expect(capturedEager.has(t)).toBe(true);
        expect(allTasks().has(t)).toBe(true);
        fut1.setResult();
        yield* fut2;
        expect(allTasks().has(t)).toBe(false);
      })(),
    );
  });

  it("test_context_vars", () => {
    const { loop } = eagerLoop();
    const cv = new ContextVar("cv", { default: 0 });
    let firstStepRan = false;
    let secondStepRan = false;
    function* coro(): Coro<void> {
      expect(cv.get()).toBe(1);
      cv.set(2);
      expect(cv.get()).toBe(2);
      firstStepRan = true;
      yield* sleep(100);
      expect(cv.get()).toBe(2);
      cv.set(3);
      expect(cv.get()).toBe(3);
      secondStepRan = true;
    }
    runCoro(
      loop,
      (function* () {
        cv.set(1);
        const t = loop.createTask(coro());
        expect(firstStepRan).toBe(true);
        expect(secondStepRan).toBe(false);
        expect(cv.get()).toBe(1);
        yield* t;
        expect(secondStepRan).toBe(true);
        expect(cv.get()).toBe(1);
      })(),
    );
  });

  it("test_eager_start_false", () => {
    const { loop } = eagerLoop();
    let name: string | null = null;
    runCoro(
      loop,
      (function* () {
        const t = getRunningLoop().createTask(
          (function* () {
            name = currentTask()?.getName() ?? null;
          })(),
          { eagerStart: false, name: "example" },
        );
        expect(t.done()).toBe(false);
        expect(name).toBeNull();
        yield* t;
        expect(name).toBe("example");
      })(),
    );
  });

  it("test_name", () => {
    const { loop } = eagerLoop();
    let name: string | null = null;
    runCoro(
      loop,
      (function* () {
        const task = loop.createTask(
          (function* () {
            name = currentTask()?.getName() ?? null;
          })(),
          { name: "test name" },
        );
        expect(name).toBe("test name");
        yield* task;
      })(),
    );
  });
});

/** Counts the tasks made without an eager start (AsyncTaskCounter). */
function countingLoop(eager: boolean): { loop: VirtualEventLoop; count: () => number } {
  let taskCount = 0;
  class CountingTask<T> extends Task<T> {
    constructor(coro: Coro<T>, options?: TaskOptions & { loop?: BaseEventLoop }) {
      if (options?.eagerStart !== true) taskCount++;
      super(coro, options);
    }
  }
  const loop = new VirtualEventLoop();
  loop.setTaskFactory(
    eager
      ? createEagerTaskFactory(CountingTask as typeof Task)
      : (l, coro, options) => new CountingTask(coro, { ...options, loop: l }),
  );
  return { loop, count: () => taskCount };
}

function* awaitableChain(depth: number): Coro<number> {
  if (depth === 0) return 0;
  return 1 + (yield* awaitableChain(depth - 1));
}

function* recursiveTaskgroups(width: number, depth: number): Coro<void> {
  if (depth === 0) return;
  yield* taskGroup(function* (tg) {
    for (let i = 0; i < width; i++) tg.createTask(recursiveTaskgroups(width, depth - 1));
  });
}

function* recursiveGather(width: number, depth: number): Coro<void> {
  if (depth === 0) return;
  yield* gather(...Array.from({ length: width }, () => recursiveGather(width, depth - 1)));
}

describe.each([
  ["NonEagerPyTaskTests", false, 781], // 1 + 5 + 5^2 + 5^3 + 5^4
  ["EagerPyTaskTests", true, 0],
])("test_eager_task_factory.%s", (_name, eager, expectedTaskCount) => {
  it("test_awaitables_chain", () => {
    const { loop, count } = countingLoop(eager);
    expect(loop.runSync(awaitableChain(100))).toBe(100);
    expect(count()).toBe(eager ? 0 : 1);
  });

  it("test_recursive_taskgroups", () => {
    const { loop, count } = countingLoop(eager);
    loop.runSync(recursiveTaskgroups(5, 4));
    expect(count()).toBe(expectedTaskCount);
  });

  it("test_recursive_gather", () => {
    const { loop, count } = countingLoop(eager);
    loop.runSync(recursiveGather(5, 4));
    expect(count()).toBe(expectedTaskCount);
  });
});
