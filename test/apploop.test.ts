/**
 * The application loop: one loop for the life of the process. Native code
 * submits coroutines to it and awaits their tasks; shutdown() cancels what is
 * left, waits up to a deadline, reports the tasks that ignored it by name,
 * and closes the loop. Primitives shared by its tasks bind to it once.
 */
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import {
  CancelledError,
  type Coro,
  createTask,
  Event,
  type ExceptionContext,
  fromPromise,
  GeneratorObject,
  getRunningLoop,
  HostEventLoop,
  PriorityVirtualEventLoop,
  run,
  Semaphore,
  sleep,
  taskSignal,
  VirtualEventLoop,
} from "../src/index.js";
import { removeScripts, runScript } from "./child.js";
import { collection } from "./helpers.js";

afterAll(removeScripts);

/** Lets a loop started in the background run what is ready (on a virtual loop, until it is idle). */
function tick(): Promise<void> {
  return new Promise((done) => setTimeout(done, 5));
}

/** Waits for an event nobody sets: on a virtual loop, a long sleep would end at once. */
function forever(): Coro<true> {
  return new Event().wait();
}

/** The messages a loop's exception handler receives. */
function reports(loop: HostEventLoop | VirtualEventLoop): string[] {
  const messages: string[] = [];
  loop.setExceptionHandler((_loop, context: ExceptionContext) => {
    messages.push(context.message);
  });
  return messages;
}

describe("loop.submit()", () => {
  it("starts the loop in the background and returns a task native code can await", async () => {
    const app = new HostEventLoop();
    expect(app.isRunning()).toBe(false);
    const task = app.submit(
      (function* () {
        yield* sleep(5);
        return getRunningLoop() === app;
      })(),
      { name: "request 1" },
    );
    expect(app.isRunning()).toBe(true);
    expect(task.getName()).toBe("request 1");
    expect(await task).toBe(true);
    // A function* works as well, as with run().
    expect(
      await app.submit(function* () {
        yield* sleep(1);
        return "again";
      }),
    ).toBe("again");
    await app.shutdown();
    expect(app.isClosed()).toBe(true);
  });

  it("cancels the task when its signal aborts, with the reason", async () => {
    const app = new HostEventLoop();
    const controller = new AbortController();
    const log: string[] = [];
    const task = app.submit(
      function* () {
        try {
          yield* sleep(60_000);
        } finally {
          log.push(`cleaned up at t=${getRunningLoop().time()}`);
        }
      },
      { signal: controller.signal },
    );
    await new Promise((done) => setTimeout(done, 5));
    controller.abort(new Error("client went away"));
    const error = await Promise.resolve(task).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CancelledError);
    expect((error as Error).message).toBe("client went away");
    expect(log).toEqual([expect.stringMatching(/^cleaned up at t=\d/)]);
    await app.shutdown();
  });

  it("a handler that hands taskSignal() to a host API ends cancelled when the submit signal aborts", async () => {
    const app = new HostEventLoop();
    const outcomes: string[] = [];
    for (const hostApi of ["timers", "fetch-like"] as const) {
      const client = new AbortController();
      const task = app.submit(
        async () => {
          const signal = taskSignal();
          if (hostApi === "timers") await delay(60_000, undefined, { signal });
          else {
            // As fetch() does: reject with the signal's reason itself.
            await new Promise((_, reject) =>
              signal.addEventListener("abort", () => reject(signal.reason)),
            );
          }
        },
        { signal: client.signal },
      );
      await new Promise((done) => setTimeout(done, 5));
      const reason = new Error("client went away");
      client.abort(reason);
      const error = await Promise.resolve(task).catch((e: unknown) => e);
      outcomes.push(
        `${hostApi}: ${(error as Error).name} "${(error as Error).message}", cancelled ${task.cancelled()}, cause kept ${(error as Error).cause === reason || ((error as Error).cause as Error | undefined)?.cause === reason}`,
      );
    }
    await app.shutdown();
    expect(outcomes).toEqual([
      'timers: CancelledError "client went away", cancelled true, cause kept true',
      'fetch-like: CancelledError "client went away", cancelled true, cause kept true',
    ]);
  });

  it("fromPromise() after a host await binds to the task's loop, with or without asyncLocalStorage", async () => {
    for (const asyncLocalStorage of [false, true]) {
      const app = new HostEventLoop({ asyncLocalStorage });
      const task = app.submit(async () => {
        await new Promise((done) => setTimeout(done, 1)); // a driver's promise, awaited directly
        const future = fromPromise(new Promise((done) => setTimeout(() => done("ok"), 1)));
        return `${await future}, on the app loop ${future.getLoop() === app}`;
      });
      expect(await task).toBe("ok, on the app loop true");
      await app.shutdown();
    }
  });

  it("refuses what is not a coroutine, and work after shutdown() or close()", async () => {
    const app = new VirtualEventLoop();
    expect(() => app.submit(5 as never)).toThrow(
      new TypeError(
        "loop.submit() expects main to be a coroutine (or a function* or async function to call), got number 5: pass handler() or the function itself.",
      ),
    );
    const handler = async (n: number): Promise<number> => n;
    expect(() => app.submit(handler(1) as never)).toThrow(
      new TypeError(
        "loop.submit() expects main to be a coroutine (or a function* or async function to call), got Promise object: a promise is already running, so no task can start it: pass the function that makes it, () => thePromiseMaker().",
      ),
    );
    const future = app.createFuture();
    expect(() => app.submit(future as never)).toThrow(
      /, got <Future pending>: to wait for it, submit a coroutine that does: submit\(function\* \(\) \{ return yield\* it; \}\)\.$/,
    );
    future.cancel();
    const done = app.shutdown();
    expect(() => app.submit(sleep(1))).toThrow(
      "loop.submit(): the loop is shutting down and takes no new work: submit before calling shutdown().",
    );
    await done;
    const closed = new VirtualEventLoop();
    closed.close();
    expect(() => closed.submit(sleep(1))).toThrow(/This event loop is closed/);
  });

  it("gives the task its priority, which a priority loop orders by", async () => {
    const app = new PriorityVirtualEventLoop();
    const order: string[] = [];
    const work = (name: string) =>
      function* () {
        order.push(name);
        yield* sleep(0);
      };
    const tasks = [
      app.submit(work("background"), { name: "background", priority: "background" }),
      app.submit(work("urgent"), { name: "urgent", priority: "user-blocking" }),
    ];
    expect(tasks.map((task) => task.getPriority())).toEqual([10, -10]);
    await Promise.all(tasks);
    expect(order).toEqual(["urgent", "background"]);
    await app.shutdown();
  });

  it("lets requests share one module-level Semaphore, where a run() per request cannot", async () => {
    const slots = new Semaphore(2);
    let inFlight = 0;
    let most = 0;
    function* handler(n: number): Coro<number> {
      using _ = yield* slots.hold();
      inFlight++;
      most = Math.max(most, inFlight);
      yield* sleep(5);
      inFlight--;
      return n;
    }
    // One run() per request: the semaphore binds to the first run's loop, the others fail.
    const perRequest = await Promise.allSettled([1, 2, 3, 4].map((n) => run(handler(n))));
    const failures = perRequest.filter((r) => r.status === "rejected");
    expect(failures.length).toBe(1);
    expect(String((failures[0] as PromiseRejectedResult).reason)).toBe(
      "Error: <Semaphore [locked, waiters:1]> is bound to a different event loop: a primitive belongs to the first loop that waits on it. " +
        "To share one between requests, run them all on one long-lived loop: `const app = new HostEventLoop()` once, " +
        "then `await app.submit(handler())` for each (see docs/servers.md); otherwise create the primitive inside the coroutine that run() runs.",
    );

    // It stays bound to that loop, closed now: it never rebinds (as asyncio's primitives).
    const again = run(function* () {
      for (let i = 0; i < 3; i++) yield* slots.acquire(); // the third waits
    });
    await expect(again).rejects.toThrow(
      "<Semaphore [locked]> is bound to a different event loop (now closed): a primitive belongs",
    );

    const shared = new Semaphore(2);
    const app = new HostEventLoop();
    const slotsFor = (n: number) =>
      app.submit(function* () {
        using _ = yield* shared.hold();
        inFlight++;
        most = Math.max(most, inFlight);
        yield* sleep(5);
        inFlight--;
        return n;
      });
    most = 0;
    expect(await Promise.all([1, 2, 3, 4, 5, 6].map(slotsFor))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(most).toBe(2);
    await app.shutdown();
  });
});

describe("an app loop behind a library's promise API", () => {
  // The library runs its work on a loop of its own; its callers may run asynkit loops too.
  const libraryWith = () => {
    const lib = new HostEventLoop();
    return {
      lib,
      task: (x: string) => lib.submit(sleep(2, `got ${x}`)),
      promise: async (x: string) => await lib.submit(sleep(2, `got ${x}`)),
    };
  };

  it("is started by a submit() made inside another loop's step, native or generator", async () => {
    const native = libraryWith();
    expect(await run(async () => await native.promise("a"))).toBe("got a");
    const generator = libraryWith();
    expect(
      await run(function* () {
        return yield* fromPromise(generator.promise("b"));
      }),
    ).toBe("got b");
    await native.lib.shutdown();
    await generator.lib.shutdown();
  });

  it("its tasks are awaited from another loop's tasks as promises, directly or through fromPromise()", async () => {
    const { lib, task, promise } = libraryWith();
    expect(await promise("warm")).toBe("got warm"); // the library's loop runs already
    // Each a run of its own: past an await of a host promise, code runs outside the loop.
    const results = [
      await run(async () => await promise("a")),
      await run(async () => await task("b")),
      await run(async () => await fromPromise(task("c"))),
      await run(function* () {
        return yield* fromPromise(task("d"));
      }),
    ];
    expect(results).toEqual(["got a", "got b", "got c", "got d"]);
    await lib.shutdown();
  });
});

describe("loop.shutdown()", () => {
  it("cancels the tasks left, lets them clean up, and closes the loop", async () => {
    const app = new VirtualEventLoop();
    const log: string[] = [];
    const worker = (name: string) =>
      app.submit(
        function* () {
          try {
            yield* forever();
          } finally {
            log.push(`${name} cleans up`);
            yield* sleep(10); // cleanup may wait
            log.push(`${name} cleaned up at t=${getRunningLoop().time()}`);
          }
        },
        { name },
      );
    const a = worker("a");
    const b = worker("b");
    await tick();
    const messages = reports(app);
    const done = app.shutdown({ timeout: 1000 });
    expect(app.shutdown()).toBe(done);
    await done;
    expect(log).toEqual([
      "a cleans up",
      "b cleans up",
      "a cleaned up at t=10",
      "b cleaned up at t=10",
    ]);
    expect([a.cancelled(), b.cancelled(), app.isClosed(), app.isRunning()]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(messages).toEqual([]);
  });

  it("reports by name each task that ignored its cancellation, once the timeout has passed", async () => {
    const app = new VirtualEventLoop();
    const contexts: ExceptionContext[] = [];
    app.setExceptionHandler((_loop, context) => contexts.push(context));
    const stubborn = app.submit(
      function* () {
        for (;;) {
          try {
            yield* forever();
          } catch {
            // ignores every cancellation
          }
        }
      },
      { name: "stubborn" },
    );
    app.submit(forever(), { name: "polite" });
    await tick();
    await app.shutdown({ timeout: 500 });
    expect(app.time()).toBe(500);
    expect(contexts.map((c) => c.message)).toEqual([
      'loop.shutdown(): Task "stubborn" was still running 500 ms after its cancellation (it waits on Event.wait()): it caught the CancelledError, or its cleanup takes that long; it is abandoned as the loop closes.',
    ]);
    expect(contexts[0]?.task).toBe(stubborn);
    expect(app.isClosed()).toBe(true);
  });

  it("cancels with a message that says why: a handler's log shows it", async () => {
    const app = new VirtualEventLoop();
    const messages = reports(app);
    const seen: string[] = [];
    app.submit(async () => {
      try {
        await forever();
      } catch (error) {
        seen.push(`${(error as Error).name}: ${(error as Error).message}`);
        throw error;
      }
    });
    await tick();
    await app.shutdown();
    expect([seen, messages]).toEqual([["CancelledError: the loop is shutting down"], []]);
  });

  it("says of a native task blocked on a host promise that ignores its signal what would end it", async () => {
    const app = new HostEventLoop();
    const messages = reports(app);
    const log: string[] = [];
    const slow = app.submit(
      async () => {
        await delay(300); // no signal given: the cancellation waits for the next asynkit await
        log.push("resumed after the host wait");
      },
      { name: "GET /report" },
    );
    await delay(5);
    await app.shutdown({ timeout: 50 });
    expect([slow.done(), app.isClosed(), log]).toEqual([false, true, []]);
    expect(messages).toEqual([
      'loop.shutdown(): Task "GET /report" was still running 50 ms after its cancellation (it waits on a native promise only the host settles): its cancellation waits for its next asynkit await, and the host API it awaits did not end on its taskSignal(): pass taskSignal() to that API, or await it through fromPromise(); it is abandoned as the loop closes.',
    ]);
  });

  it("without a timeout, names a second later a task the cancellation cannot reach, and waits for it", async () => {
    const app = new HostEventLoop();
    const messages: string[] = [];
    let settleHost = (): void => {};
    const host = new Promise<void>((resolve) => {
      settleHost = resolve;
    });
    let cancelledAt = 0;
    let reportedAfter = 0;
    app.setExceptionHandler((_loop, context) => {
      messages.push(context.message);
      reportedAfter = performance.now() - cancelledAt;
      settleHost(); // the host API ends at last: the task takes its cancellation
    });
    const log: string[] = [];
    const slow = app.submit(
      async () => {
        await host;
        log.push("resumed after the host wait");
        await sleep(0);
      },
      { name: "GET /report" },
    );
    await delay(5);
    cancelledAt = performance.now();
    await app.shutdown();
    expect([slow.cancelled(), app.isClosed(), log]).toEqual([
      true,
      true,
      ["resumed after the host wait"],
    ]);
    expect(messages).toEqual([
      'loop.shutdown(): 1000 ms after the cancellation, Task "GET /report" waits on a native promise only the host settles: its cancellation waits for its next asynkit await, and the host API it awaits did not end on its taskSignal(): pass taskSignal() to that API, or await it through fromPromise(). shutdown() waits until it ends: give it a timeout to abandon such a task instead.',
    ]);
    expect(reportedAfter).toBeGreaterThanOrEqual(999);
    expect(reportedAfter).toBeLessThan(5000);
  });

  it("on a virtual loop, stops the clock at the deadline: a cleanup that sleeps past it is reported, not run to its end", async () => {
    const app = new VirtualEventLoop();
    const messages = reports(app);
    const log: string[] = [];
    const worker = app.submit(
      function* () {
        try {
          yield* forever();
        } finally {
          log.push(`cleanup began at t=${app.time()}`);
          yield* sleep(10_000);
          log.push(`cleanup ended at t=${app.time()}`);
        }
      },
      { name: "worker" },
    );
    await tick();
    await app.shutdown({ timeout: 1000 });
    expect([log, app.time(), worker.done(), app.isClosed()]).toEqual([
      ["cleanup began at t=0"],
      1000,
      false,
      true,
    ]);
    expect(messages).toEqual([
      'loop.shutdown(): Task "worker" was still running 1000 ms after its cancellation (it waits on sleep until t=10000 ms): it caught the CancelledError, or its cleanup takes that long; it is abandoned as the loop closes.',
    ]);
  });

  it("cancels each task once: closing the generators does not interrupt a cleanup again", async () => {
    const app = new VirtualEventLoop();
    const messages = reports(app);
    const log: string[] = [];
    const cursor = new GeneratorObject<number>(function* (g) {
      try {
        for (;;) yield* g.yield(1);
      } finally {
        log.push(`cursor closed at t=${app.time()}`);
      }
    });
    await app.submit(cursor.next());
    app.submit(
      function* () {
        try {
          yield* forever();
        } catch (error) {
          log.push(`rolling back at t=${app.time()}`);
          try {
            yield* sleep(500);
          } catch (again) {
            log.push(`rollback interrupted by a second ${(again as Error).name}`);
          }
          throw error;
        }
      },
      { name: "tx" },
    );
    await tick();
    await app.shutdown({ timeout: 200 });
    expect(log).toEqual(["rolling back at t=0", "cursor closed at t=200"]);
    expect(messages).toEqual([
      'loop.shutdown(): Task "tx" was still running 200 ms after its cancellation (it waits on sleep until t=500 ms): it caught the CancelledError, or its cleanup takes that long; it is abandoned as the loop closes.',
    ]);
  });

  it("a signal that aborts after the loop closed has nothing left to cancel", async () => {
    const app = new VirtualEventLoop();
    reports(app);
    const client = new AbortController();
    const abandoned = app.submit(
      function* () {
        for (;;) {
          try {
            yield* forever();
          } catch {
            // ignores the cancellation
          }
        }
      },
      { signal: client.signal },
    );
    await tick();
    await app.shutdown({ timeout: 10 });
    client.abort(new Error("client went away"));
    expect(abandoned.cancelling()).toBe(1); // shutdown()'s request only: the abort was ignored
    expect(abandoned.done()).toBe(false);
  });

  it("cancels tasks started during the shutdown too, once each", async () => {
    const app = new VirtualEventLoop();
    const log: string[] = [];
    app.submit(function* () {
      try {
        yield* forever();
      } finally {
        createTask(
          (function* () {
            try {
              yield* forever();
            } catch (error) {
              log.push(`late task: ${(error as Error).name}`);
            }
          })(),
        );
      }
    });
    await tick();
    await app.shutdown({ timeout: 1000 });
    expect(log).toEqual(["late task: CancelledError"]);
    expect(app.time()).toBe(0);
  });

  it("cancels an await of native code that reaches a loop it started, in the microtasks of the call", async () => {
    for (const asyncLocalStorage of [false, true]) {
      const app = new HostEventLoop({ asyncLocalStorage });
      const reports: string[] = [];
      app.setExceptionHandler((_loop, context) => reports.push(context.message));
      const log: string[] = [];
      // Its then() runs in the next microtask: after shutdown() began, and started the loop.
      const flushed = (async () => {
        await sleep(1);
        return "flushed";
      })();
      flushed.then(
        (value) => log.push(value),
        (error: Error) => log.push(`${error.name}: ${error.message}`),
      );
      await app.shutdown();
      expect([log, reports, app.isClosed()]).toEqual([
        ["CancelledError: the loop is shutting down"],
        [],
        true,
      ]);
    }
  });

  it("closes a loop that never ran, and rejects bad options at the call", async () => {
    const app = new VirtualEventLoop();
    await expect(app.shutdown({ timeout: "soon" as never })).rejects.toThrow(
      new TypeError(
        'loop.shutdown() expects options.timeout to be a number of milliseconds, got string "soon": pass a number, such as 10.',
      ),
    );
    await app.shutdown();
    expect(app.isClosed()).toBe(true);
    await app.shutdown(); // again: nothing to do
  });

  it("is not for a loop that runs main: runUntilComplete() stops it", async () => {
    const loop = new VirtualEventLoop();
    const running = loop.runUntilComplete(sleep(10, "main"));
    await expect(loop.shutdown()).rejects.toThrow(
      "loop.shutdown(): this loop is running runUntilComplete() (or run()), which stops it when main is done; shutdown() is for a loop started by submit() or runForever().",
    );
    expect(await running).toBe("main");
    loop.close();
  });

  it("reports a failure nobody retrieved when it closes the loop", async () => {
    const app = new VirtualEventLoop();
    const messages = reports(app);
    app.submit(function* () {
      try {
        yield* forever();
      } finally {
        // biome-ignore lint/correctness/noUnsafeFinally: the failure during cleanup is what is tested.
        throw new Error("cleanup failed");
      }
    });
    await tick();
    await app.shutdown();
    expect(messages).toEqual(["Task exception was never retrieved"]);
  });

  it("on the host loop, finishes within its deadline when a task ignores the cancellation", async () => {
    const app = new HostEventLoop();
    const messages = reports(app);
    app.submit(
      function* () {
        for (;;) {
          try {
            yield* sleep(60_000);
          } catch {
            // ignores the cancellation
          }
        }
      },
      { name: "stubborn" },
    );
    await new Promise((done) => setTimeout(done, 5));
    const start = performance.now();
    await app.shutdown({ timeout: 100 });
    const took = performance.now() - start;
    expect(took).toBeGreaterThanOrEqual(99);
    expect(took).toBeLessThan(400);
    expect(messages.length).toBe(1);
    expect(messages[0]).toMatch(
      /^loop\.shutdown\(\): Task "stubborn" was still running \d+ ms after its cancellation/,
    );
  });
});

describe("a long-lived app loop", () => {
  it("does not keep the process alive: it exits when the host has nothing left", async () => {
    const { code, stdout, stderr } = await runScript(
      "app-loop-exits",
      `import { HostEventLoop, sleep } from "asynkit";
const app = new HostEventLoop();
console.log(await app.submit(sleep(10, "done")), app.isRunning());
`,
    );
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: "done true\n", stderr: "" });
  }, 30_000);

  it("dropped without shutdown(), idle, is collected: nothing is left that could run on it", async () => {
    const { watch, collected } = collection();
    // In a function of its own, so that no variable of this test keeps the loop.
    const serve = async (i: number): Promise<number> => {
      const app = new HostEventLoop();
      watch(app, String(i));
      return await app.submit(sleep(0, i));
    };
    expect([await serve(1), await serve(2)]).toEqual([1, 2]);
    expect(await collected(2)).toEqual(["1", "2"]);
  });
});
