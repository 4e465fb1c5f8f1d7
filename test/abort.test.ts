/**
 * AbortSignal interop: signals that cancel tasks and run(), waitAbort(), and
 * taskSignal() handed to native APIs.
 */
import { getEventListeners } from "node:events";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import {
  CancelledError,
  createTask,
  currentTask,
  fromPromise,
  getRunningLoop,
  run,
  sleep,
  type Task,
  taskSignal,
  timeout,
  VirtualEventLoop,
  waitAbort,
} from "../src/index.js";
import { removeScripts, runScript } from "./child.js";
import { catching, collection, runV } from "./helpers.js";

describe("createTask(coro, { signal })", () => {
  it("cancels the task when the signal aborts; the CancelledError carries the reason", () => {
    const log = runV(function* () {
      const loop = getRunningLoop();
      const log: string[] = [];
      const controller = new AbortController();
      const reason = new Error("user pressed stop");
      const task = createTask(
        (function* () {
          try {
            yield* sleep(60_000);
          } catch (error) {
            const e = error as Error;
            log.push(`${e.name} "${e.message}" cause=${e.cause === reason} at ${loop.time()}`);
            throw error;
          }
        })(),
        { signal: controller.signal },
      );
      loop.callLater(100, () => controller.abort(reason));
      const outside = (yield* catching(task)) as Error;
      log.push(`task cancelled=${task.cancelled()} "${outside.message}"`);
      return log;
    });
    expect(log).toEqual([
      'CancelledError "user pressed stop" cause=true at 100',
      'task cancelled=true "user pressed stop"',
    ]);
  });

  it("an already aborted signal cancels the task before it starts", () => {
    runV(function* () {
      let started = false;
      const task = createTask(
        (function* () {
          started = true;
          yield* sleep(1);
        })(),
        { signal: AbortSignal.abort("too late") },
      );
      const error = yield* catching(task);
      expect(error).toBeInstanceOf(CancelledError);
      expect((error as Error).message).toBe("too late");
      expect(started).toBe(false);
    });
  });

  it("a task cancelled while it is runnable gets the reason too", () => {
    runV(function* () {
      const controller = new AbortController();
      let seen: unknown = null;
      const task = createTask(
        (function* () {
          controller.abort("from inside"); // the task is running: the cancel is delivered at its next step
          try {
            yield;
          } catch (error) {
            seen = error;
          }
        })(),
        { signal: controller.signal },
      );
      yield* task;
      expect(seen).toBeInstanceOf(CancelledError);
      expect((seen as Error).message).toBe("from inside");
      expect((seen as Error).cause).toBe("from inside");
    });
  });

  it("an abort after the task finished does nothing; a bad signal is a TypeError", () => {
    runV(function* () {
      const controller = new AbortController();
      const task = createTask(sleep(1, "done"), { signal: controller.signal });
      expect(yield* task).toBe("done");
      yield* sleep(0);
      controller.abort();
      expect(task.result()).toBe("done");
      expect(() => createTask(sleep(1), { signal: {} as AbortSignal })).toThrow(
        /expects options\.signal to be an AbortSignal/,
      );
    });
  });
});

describe("run(main, { signal })", () => {
  afterAll(removeScripts);

  it("cancels main when the signal aborts, and rejects with its reason", async () => {
    const controller = new AbortController();
    const cleanup: string[] = [];
    const outcome = run(
      function* () {
        getRunningLoop().callLater(50, () => controller.abort(new Error("shutdown")));
        try {
          yield* sleep(60 * 60_000);
        } finally {
          cleanup.push(`cleaned up at ${getRunningLoop().time()}`);
        }
      },
      { signal: controller.signal, loopFactory: () => new VirtualEventLoop() },
    );
    await expect(outcome).rejects.toThrow(CancelledError);
    await expect(outcome).rejects.toThrow("shutdown");
    expect(cleanup).toEqual(["cleaned up at 50"]);
  });

  it("names, a second after the abort, a task its cancellation cannot reach on a host promise", async () => {
    const controller = new AbortController();
    const reports: string[] = [];
    let settleHost = (): void => {};
    const host = new Promise<void>((resolve) => {
      settleHost = resolve;
    });
    let abortedAt = 0;
    let reportedAfter = 0;
    const loopFactory = (): VirtualEventLoop => {
      const loop = new VirtualEventLoop();
      loop.setExceptionHandler((_loop, context) => {
        reports.push(context.message);
        // The host API ends at last: main takes its cancellation at its next await.
        if (context.message.startsWith("run():")) {
          reportedAfter = performance.now() - abortedAt;
          settleHost();
        }
      });
      return loop;
    };
    const outcome = run(
      async () => {
        await sleep(10);
        abortedAt = performance.now();
        controller.abort(new Error("test over"));
        await host;
        await sleep(0);
        return "not cancelled";
      },
      { signal: controller.signal, loopFactory },
    );
    await expect(outcome).rejects.toThrow(CancelledError);
    expect(reports).toEqual([
      expect.stringMatching(
        /^<Task cancelling name="Task-1"> awaited a promise the loop did not make/,
      ),
      'run(): its signal aborted 1000 ms ago, and main still runs: Task "Task-1" waits on a native promise only the host settles: its cancellation waits for its next asynkit await, and the host API it awaits did not end on its taskSignal(): pass taskSignal() to that API, or await it through fromPromise(). run() waits until main ends.',
    ]);
    expect(reportedAfter).toBeGreaterThanOrEqual(999);
    expect(reportedAfter).toBeLessThan(5000);
  });

  it("does not keep a process alive for that report: one with nothing else left exits at once", async () => {
    // Main waits on a promise nobody settles: the process exits, reporting it as pending,
    // without waiting the second the report would come after.
    const exit = await runScript(
      "abort-exit",
      `
      import { run, VirtualEventLoop } from "asynkit";
      const controller = new AbortController();
      let abortedAt = 0;
      setTimeout(() => { abortedAt = performance.now(); controller.abort(); }, 20);
      process.on("exit", () => console.log(\`exited \${performance.now() - abortedAt < 900 ? "at once" : "a second late"}\`));
      void run(async () => { await new Promise(() => {}); }, {
        signal: controller.signal,
        loopFactory: () => new VirtualEventLoop(),
      });
      `,
    );
    expect(exit.stdout).toBe("exited at once\n");
  });

  it("an unaborted signal changes nothing", async () => {
    const controller = new AbortController();
    const value = await run(sleep(10, "fine"), {
      signal: controller.signal,
      loopFactory: () => new VirtualEventLoop(),
    });
    expect(value).toBe("fine");
    controller.abort(); // after run: nothing left to cancel
  });
});

describe("waitAbort", () => {
  it("returns the reason once the signal aborts, at once if it already has", () => {
    const log = runV(function* () {
      const loop = getRunningLoop();
      const controller = new AbortController();
      loop.callLater(30, () => controller.abort("enough"));
      const log = [`${yield* waitAbort(controller.signal)} at ${loop.time()}`];
      log.push(`${yield* waitAbort(controller.signal)} at ${loop.time()}`);
      return log;
    });
    expect(log).toEqual(["enough at 30", "enough at 30"]);
  });

  it("a cancelled waiter stops listening", () => {
    runV(function* () {
      const controller = new AbortController();
      const waiter = createTask(waitAbort(controller.signal));
      yield* sleep(1);
      waiter.cancel();
      expect(yield* catching(waiter)).toBeInstanceOf(CancelledError);
      controller.abort(); // no listener left to resolve a dead future
      expect(() => waitAbort(42 as never).next()).toThrow(TypeError);
    });
  });
});

describe("many waits on one signal", () => {
  it("share one listener, taken off once none waits, and are cancelled in the order they came", () => {
    const shutdown = new AbortController();
    const log: string[] = [];
    const seen = runV(function* () {
      const tasks = ["a", "b", "c"].map((name) =>
        createTask(
          function* () {
            try {
              yield* sleep(1000);
            } finally {
              log.push(name);
            }
          },
          { name, signal: shutdown.signal },
        ),
      );
      yield* sleep(1);
      const listening = getEventListeners(shutdown.signal, "abort").length;
      shutdown.abort("shutting down");
      yield* sleep(1);
      return [
        listening,
        getEventListeners(shutdown.signal, "abort").length,
        tasks.map((t) => t.cancelled()),
      ];
    });
    expect([seen, log]).toEqual([
      [1, 0, [true, true, true]],
      ["a", "b", "c"],
    ]);
  });
});

describe("a loop closed while it still waits on the host", () => {
  it("leaves nothing on a long-lived signal or promise: its listeners go, and the loop with them", async () => {
    const { watch, collected } = collection();
    const stopping = new AbortController();
    const listeners = () => getEventListeners(stopping.signal, "abort").length;
    const never = new Promise<void>(() => {});
    // In a function of its own, so that no variable of this test keeps the loop.
    (() => {
      const loop = new VirtualEventLoop();
      watch(loop, "loop");
      loop.createTask(sleep(1000), { signal: stopping.signal });
      loop.createTask(waitAbort(stopping.signal));
      loop.createTask(
        (function* () {
          yield* fromPromise(never);
        })(),
      );
      loop.runSync(sleep(1));
      expect(listeners()).toBe(1); // asynkit's one listener, for both waits
      loop.close();
    })();
    expect(listeners()).toBe(0);
    expect(await collected(1)).toEqual(["loop"]);
  });
});

describe("taskSignal", () => {
  it("aborts when the task is asked to cancel, with a CancelledError as reason", () => {
    const log = runV(function* () {
      const log: string[] = [];
      const task = createTask(
        (function* () {
          const signal = taskSignal();
          signal.addEventListener("abort", () => {
            const reason = signal.reason as Error;
            log.push(`aborted: ${reason.name} "${reason.message}"`);
          });
          expect(taskSignal()).toBe(signal); // one per task
          yield* sleep(1000);
        })(),
      );
      yield* sleep(10);
      log.push("cancel");
      task.cancel("no longer needed");
      log.push("cancel returned");
      yield* catching(task);
      return log;
    });
    expect(log).toEqual([
      "cancel",
      'aborted: CancelledError "no longer needed"',
      "cancel returned",
    ]);
  });

  it("carries an AbortSignal's reason through, and is aborted at once for a task already cancelling", () => {
    runV(function* () {
      const outer = new AbortController();
      const reason = new Error("outer reason");
      let inner: AbortSignal | null = null;
      const task = createTask(
        (function* () {
          inner = taskSignal();
          yield* sleep(1000);
        })(),
        { signal: outer.signal },
      );
      yield* sleep(1);
      outer.abort(reason);
      expect((inner as AbortSignal | null)?.reason).toBe(reason);
      yield* catching(task);
      expect(taskSignal(task).aborted).toBe(true);
      const doomed = createTask(sleep(1));
      doomed.cancel();
      expect(taskSignal(doomed).aborted).toBe(true);
      yield* catching(doomed);
    });
  });

  it("is a fresh one once the task handled its cancellation; the aborted one stays aborted", () => {
    const log = runV(function* () {
      const log: string[] = [];
      const first = taskSignal();
      try {
        yield* timeout(10, function* () {
          yield* sleep(1000);
        });
      } catch (error) {
        log.push(`${(error as Error).name}, cancelling() ${currentTask()?.cancelling()}`);
      }
      const second = taskSignal();
      log.push(
        `fresh: ${second !== first && !second.aborted}, first still aborted: ${first.aborted}`,
      );
      // A cancel() the task has not handled keeps its signal aborted.
      const task = currentTask() as Task<unknown>;
      task.cancel();
      task.cancel();
      task.uncancel();
      log.push(`one of two handled: ${taskSignal() === second && second.aborted}`);
      task.uncancel();
      log.push(`both handled: ${!taskSignal().aborted}`);
      return log;
    });
    expect(log).toEqual([
      "TimeoutError, cancelling() 0",
      "fresh: true, first still aborted: true",
      "one of two handled: true",
      "both handled: true",
    ]);
  });

  it("needs a task", () => {
    const loop = new VirtualEventLoop();
    let error: unknown = null;
    loop.callSoon(() => {
      try {
        taskSignal();
      } catch (e) {
        error = e;
      }
    });
    loop.runSync(sleep(0));
    expect(String(error)).toMatch(/taskSignal\(\) needs a task/);
  });

  it("after a timeout the task caught, a host API given taskSignal() runs (host loop, real time)", async () => {
    const result = await run(function* () {
      const timedOut = yield* catching(
        timeout(20, function* () {
          yield* fromPromise(delay(60_000, undefined, { signal: taskSignal() }));
        }),
      );
      const value = yield* fromPromise(delay(5, "after", { signal: taskSignal() }));
      return [(timedOut as Error).name, value];
    });
    expect(result).toEqual(["TimeoutError", "after"]);
  });

  it("clears a native host timer when the task is cancelled (host loop, real time)", async () => {
    let hostTimer: Promise<void> | null = null;
    const result = await run(function* () {
      const sleeper = createTask(
        (function* () {
          hostTimer = delay(60_000, undefined, { signal: taskSignal() });
          yield* fromPromise(hostTimer);
          return "slept a minute";
        })(),
      );
      yield* sleep(5);
      sleeper.cancel("hurry");
      return yield* catching(sleeper);
    });
    expect(result).toBeInstanceOf(CancelledError);
    // The minute-long host timer was aborted with the cancellation as reason, not left running.
    await expect(hostTimer).rejects.toMatchObject({
      name: "AbortError",
      cause: { message: "hurry" },
    });
  });
});
