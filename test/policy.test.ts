/**
 * run(), the running loop, and event loop policies, as asyncio.run,
 * get_running_loop, get_event_loop and the policy functions.
 */
// biome-ignore-all lint/correctness/useYield: coroutines that finish without suspending are part of what is tested.
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  type BaseEventLoop,
  CancelledError,
  type Coro,
  CoroStart,
  createTask,
  currentTask,
  DefaultEventLoopPolicy,
  Event,
  type EventLoopPolicy,
  type ExceptionContext,
  type Future,
  getEventLoop,
  getEventLoopPolicy,
  getRunningLoop,
  HostAwaitError,
  HostEventLoop,
  InvalidStateError,
  run,
  setEventLoopPolicy,
  sleep,
  type Task,
  VirtualEventLoop,
} from "../src/index.js";
import { removeScripts, runScript } from "./child.js";

afterEach(() => {
  setEventLoopPolicy(null);
});

const virtual = { loopFactory: () => new VirtualEventLoop() };

describe("run()", () => {
  it("runs a coroutine and settles with its result", async () => {
    await expect(run(sleep(10, "result"), virtual)).resolves.toBe("result");
  });

  it("calls a function* to get the coroutine", async () => {
    await expect(
      run(function* () {
        yield* sleep(1);
        return 7;
      }, virtual),
    ).resolves.toBe(7);
  });

  it("settles when main returns a Future: a thenable result is adopted after the cleanup", async () => {
    const finished = run(function* () {
      const done = getRunningLoop().createFuture<string>();
      done.setResult("inner");
      return done;
    }, virtual);
    await expect(finished).resolves.toBe("inner");
    // A task still running when main returns could finish only on the loop run() closes (its
    // cleanup cancels it, as asyncio.run cancels what is left): refused, with what to do.
    const leftover = run(function* () {
      return createTask(sleep(50));
    }, virtual);
    await expect(leftover).rejects.toThrow(
      /^run\(\): main returned <Task pending name="Task-\d+"[^>]*>, which could finish only on the loop/,
    );
  });

  it("does not report main's failure as never retrieved when the loop closes", async () => {
    const reports: string[] = [];
    const error = new Error("main failed");
    const loopFactory = (): BaseEventLoop => {
      const loop = new VirtualEventLoop();
      loop.setExceptionHandler((_loop, context: ExceptionContext) => reports.push(context.message));
      return loop;
    };
    await expect(
      run(
        function* (): Coro<never> {
          yield;
          throw error;
        },
        { loopFactory },
      ),
    ).rejects.toBe(error);
    expect(reports).toEqual([]);
  });

  it("rejects with main's error", async () => {
    const error = new Error("main failed");
    await expect(
      run(function* (): Coro<never> {
        yield;
        throw error;
      }, virtual),
    ).rejects.toBe(error);
  });

  it("runs on a new HostEventLoop from the default policy, and closes it", async () => {
    let loop: BaseEventLoop | null = null;
    await run(function* () {
      loop = getRunningLoop();
      yield;
    });
    expect(loop).toBeInstanceOf(HostEventLoop);
    expect(loop!.isClosed()).toBe(true);
    expect(loop!.isRunning()).toBe(false);
  });

  it("cancels the tasks that are left when main is done, and waits for them", async () => {
    const log: string[] = [];
    let leftover: ReturnType<typeof createTask> | null = null;
    const result = await run(function* () {
      leftover = createTask(
        (function* () {
          try {
            yield* sleep(60_000);
          } catch (e) {
            log.push(`leftover got ${(e as Error).name}: ${(e as Error).message}`);
            yield* sleep(5);
            log.push("leftover cleaned up");
            throw e;
          }
        })(),
      );
      yield* sleep(1);
      log.push("main done");
      return "main";
    }, virtual);
    expect(result).toBe("main");
    expect(log).toEqual([
      "main done",
      "leftover got CancelledError: run() is ending",
      "leftover cleaned up",
    ]);
    expect(leftover!.cancelled()).toBe(true);
  });

  it("cancels the tasks the leftovers' cleanup makes too, and the task a function that ran on past its task's end awaits in", async () => {
    const log: string[] = [];
    const reports: string[] = [];
    await run(function* () {
      getRunningLoop().setExceptionHandler((_loop, context) => reports.push(context.message));
      createTask(function* () {
        try {
          yield* sleep(60_000);
        } finally {
          // Made while run() cancels the first: cancelled in turn, its cleanup runs too.
          createTask(function* () {
            try {
              yield* sleep(60_000);
            } finally {
              log.push("second leftover cleaned up");
            }
          });
        }
      });
      yield* sleep(1);
    }, virtual);
    // A refused Promise.race ends main with a HostAwaitError; its function runs on and awaits
    // sleep(1) in a task of its own, made while run() cancels what main left.
    let fate = "did not go on past the race";
    await expect(
      run(
        async () => {
          const ready = new Event();
          ready.set();
          await Promise.race([sleep(200), ready.wait()]);
          try {
            await sleep(1);
            fate = "slept";
          } catch (error) {
            fate = `sleep(1): ${(error as Error).message}`;
          }
        },
        {
          asyncLocalStorage: true,
          loopFactory: () => {
            const loop = new VirtualEventLoop({ hostAwaits: "error" });
            loop.setExceptionHandler((_loop, context) => reports.push(context.message));
            return loop;
          },
        },
      ),
    ).rejects.toThrow(HostAwaitError);
    expect([log, fate, reports]).toEqual([
      ["second leftover cleaned up"],
      "sleep(1): run() is ending",
      [],
    ]);
  });

  it("cancels the leftovers when main fails too", async () => {
    let leftover: ReturnType<typeof createTask> | null = null;
    await expect(
      run(function* (): Coro<never> {
        leftover = createTask(sleep(1000));
        yield;
        throw new Error("main failed");
      }, virtual),
    ).rejects.toThrow("main failed");
    expect(leftover!.cancelled()).toBe(true);
  });

  it.each([
    ["an error", new Error("refused to cancel")],
    ["undefined, as a promise rejected with no reason does", undefined],
  ])("reports a leftover task that fails with %s instead of being cancelled", async (_, error) => {
    const contexts: ExceptionContext[] = [];
    let leftover: Task<void> | undefined;
    await run(function* () {
      getRunningLoop().setExceptionHandler((_l, ctx) => contexts.push(ctx));
      leftover = createTask(
        (function* () {
          try {
            yield* sleep(1000);
          } catch {
            throw error;
          }
        })(),
      );
      yield;
    }, virtual);
    expect(contexts).toHaveLength(1);
    expect(contexts[0]!.message).toBe("unhandled exception during run() shutdown");
    expect(contexts[0]!.exception).toBe(error);
    // asyncio's key for it: a handler written for asyncio's contexts finds it.
    expect(contexts[0]!.task).toBe(leftover);
  });

  it("a main function that returns neither a promise nor a coroutine fails with a TypeError that names its task", async () => {
    const failure = run((() => undefined) as never, virtual);
    await expect(failure).rejects.toThrow(TypeError);
    await expect(failure).rejects.toThrow(
      /^<Task \w+ name="Task-\d+">: its function, function \(anonymous\), returned undefined, not a promise, a coroutine or a future: give createTask\(\) \(or run\(\), runUntilComplete\(\), submit\(\)\) an async function/,
    );
  });

  it("refuses a pending future of its own loop as main's result, which could never be done", async () => {
    let pending: Future<number> | undefined;
    const error = await run(function* () {
      pending = getRunningLoop().createFuture<number>();
      return pending;
    }, virtual).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(InvalidStateError);
    expect(error!.message).toBe(
      "run(): main returned <Future pending>, which could finish only on the loop run() ran, closed as main ends: return (yield* it) to return its result instead.",
    );
    // So is a pending task, an operation or a CoroStart, which would have to run on that loop.
    for (const made of [
      () => createTask(sleep(5, "late")),
      () => sleep(5, "late"),
      () => new CoroStart(sleep(5, "late")),
    ]) {
      const refused = await run(function* () {
        return made();
      }, virtual).then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(refused).toBeInstanceOf(InvalidStateError);
      expect(refused!.message).toMatch(
        /^run\(\): main returned .+, which could finish only on the loop run\(\) ran/,
      );
    }
    // A failed one gives its error, retrieved: no report at the loop's close.
    const reports: ExceptionContext[] = [];
    const failure = await run(function* () {
      const loop = getRunningLoop();
      loop.setExceptionHandler((_l, ctx) => reports.push(ctx));
      const future = loop.createFuture<number>();
      future.setException(new RangeError("failed"));
      return future;
    }, virtual).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect([failure, reports]).toEqual([new RangeError("failed"), []]);
    // A CoroStart done in its start gives its result; another loop's future is waited for.
    const elsewhere = new VirtualEventLoop();
    const theirs = elsewhere.createFuture<string>();
    theirs.setResult("theirs");
    const results = [
      await run(function* () {
        return new CoroStart(
          (function* () {
            return "started";
          })(),
        );
      }, virtual),
      await run(function* () {
        return theirs;
      }, virtual),
    ];
    expect(results).toEqual(["started", "theirs"]);
    // A done one is waited for, as a promise waits for any thenable it resolves to.
    const done = await run(function* () {
      const future = getRunningLoop().createFuture<number>();
      future.setResult(7);
      return future;
    }, virtual);
    expect(done).toBe(7);
    expect(pending!.done()).toBe(false);
  });

  it("names a leftover that caught its cancellation and still runs, and waits for it", async () => {
    const messages: string[] = [];
    const log: string[] = [];
    await run(function* () {
      const loop = getRunningLoop();
      loop.setExceptionHandler((_l, ctx) => {
        messages.push(ctx.message);
        log.push(`report at ${loop.time()} about ${(ctx.task as Task).getName()}`);
      });
      const stubborn = createTask(
        (function* () {
          try {
            yield* sleep(60_000);
          } catch {
            log.push(`ignored at ${loop.time()}`);
          }
          yield* sleep(5000);
          log.push(`stubborn ends at ${loop.time()}`);
        })(),
        { name: "stubborn" },
      );
      createTask(
        (function* () {
          yield* stubborn; // waits on the stubborn one: not named itself
        })(),
        { name: "waiter" },
      );
      createTask(
        (function* () {
          try {
            yield* sleep(60_000);
          } finally {
            yield* sleep(500); // a cleanup within the grace period is not named
          }
        })(),
        { name: "polite" },
      );
      yield* sleep(10);
    }, virtual);
    expect(log).toEqual([
      "ignored at 10",
      "report at 1010 about stubborn",
      "stubborn ends at 5010",
    ]);
    expect(messages).toEqual([
      'Task "stubborn" was cancelled at run() shutdown but still runs 1000 ms later, waiting on sleep until t=5010 ms: it caught the CancelledError, or its cleanup takes that long. run() waits until it ends.',
    ]);
  });

  /** What run() on a virtual loop reports of its shutdown, and the clock's times. */
  async function virtualShutdown(
    leftover: (loop: VirtualEventLoop) => Promise<void>,
    asyncLocalStorage: boolean,
  ) {
    const loop = new VirtualEventLoop({ asyncLocalStorage });
    const reports: string[] = [];
    loop.setExceptionHandler((_l, ctx) => {
      if (ctx.message.includes("shutdown")) reports.push(`${ctx.message} (at ${loop.time()})`);
    });
    const times: string[] = [];
    await run(
      async () => {
        createTask(() => leftover(loop), { name: "leftover" });
        await sleep(100);
        times.push(`main returns at ${loop.time()}`);
      },
      { loopFactory: () => loop },
    );
    times.push(`run() ends at ${loop.time()}`);
    return { reports, times };
  }

  it.each([false, true])(
    "on a virtual loop, waits for a leftover in host I/O without moving the clock or naming it (asyncLocalStorage %s)",
    async (asyncLocalStorage) => {
      const times: string[] = [];
      const shutdown = await virtualShutdown(async (loop) => {
        await new Promise((resolve) => setTimeout(resolve, 30));
        times.push(`leftover resumes at ${loop.time()}`);
      }, asyncLocalStorage);
      expect(shutdown.reports).toEqual([]);
      expect([...shutdown.times, ...times]).toEqual([
        "main returns at 100",
        "run() ends at 100",
        "leftover resumes at 100",
      ]);
    },
  );

  it("on a virtual loop, names a leftover the host holds past a real second, at the clock's own time", async () => {
    const { reports, times } = await virtualShutdown(async () => {
      await new Promise((resolve) => setTimeout(resolve, 1200)); // no taskSignal()
    }, true);
    expect(reports).toEqual([
      'Task "leftover" was cancelled at run() shutdown but still runs 1000 ms later, waiting on a native promise only the host settles: its cancellation waits for its next asynkit await, and the host API it awaits did not end on its taskSignal(): pass taskSignal() to that API, or await it through fromPromise(). run() waits until it ends, or until the host has nothing left to run, when it fails with a DeadlockError. (at 100)',
    ]);
    expect(times).toEqual(["main returns at 100", "run() ends at 100"]);
  });

  /**
   * What run() on a host loop reports of `leftover`, a task main leaves running:
   * each from inside its loop, as a virtual loop's timer reports it.
   */
  async function hostLeftoverReports(leftover: () => Promise<void>, name: string) {
    const messages: string[] = [];
    await run(
      async () => {
        getRunningLoop().setExceptionHandler((loop, ctx) =>
          messages.push(
            getRunningLoop() === loop ? ctx.message : `outside its loop: ${ctx.message}`,
          ),
        );
        createTask(leftover, { name });
        await sleep(5);
      },
      { loopFactory: () => new HostEventLoop() },
    );
    return messages;
  }
  const hostDelay = () => new Promise((resolve) => setTimeout(resolve, 1200)); // no taskSignal()

  it("names a native leftover whose cleanup awaits a host promise as waiting on the host", async () => {
    const cleaner = async () => {
      try {
        await sleep(60_000);
      } finally {
        await hostDelay();
      }
    };
    expect(await hostLeftoverReports(cleaner, "cleaner")).toEqual([
      'Task "cleaner" was cancelled at run() shutdown but still runs 1000 ms later, waiting on a native promise only the host settles: it caught the CancelledError, or its cleanup takes that long. run() waits until it ends, or until the host has nothing left to run, when it fails with a DeadlockError.',
    ]);
  });

  it("names a native leftover blocked on a host promise that ignores its signal: its cancellation cannot reach it", async () => {
    const watcher = async () => {
      await sleep(1);
      await hostDelay();
    };
    expect(await hostLeftoverReports(watcher, "watcher")).toEqual([
      'Task "watcher" was cancelled at run() shutdown but still runs 1000 ms later, waiting on a native promise only the host settles: its cancellation waits for its next asynkit await, and the host API it awaits did not end on its taskSignal(): pass taskSignal() to that API, or await it through fromPromise(). run() waits until it ends, or until the host has nothing left to run, when it fails with a DeadlockError.',
    ]);
  });

  it("names a leftover that ignored its cancellation and keeps yielding", async () => {
    const messages: string[] = [];
    await run(function* () {
      const loop = getRunningLoop() as VirtualEventLoop;
      loop.setExceptionHandler((_l, ctx) => messages.push(ctx.message));
      createTask(
        (function* () {
          const start = loop.time();
          for (;;) {
            try {
              yield* sleep(0);
            } catch {
              // ignored
            }
            if (loop.time() > start + 1500) return;
            loop.advance(1);
          }
        })(),
        { name: "spinner" },
      );
      yield;
    }, virtual);
    expect(messages).toEqual([
      'Task "spinner" was cancelled at run() shutdown but still runs 1000 ms later, waiting on nothing (it is ready to run): it caught the CancelledError, or its cleanup takes that long. run() waits until it ends.',
    ]);
  });

  it("debug: true turns on the loop's debug mode", async () => {
    const debug = await run(
      function* () {
        yield;
        return getRunningLoop().getDebug();
      },
      { ...virtual, debug: true },
    );
    expect(debug).toBe(true);
  });

  it("accepts a Future or a native promise as main", async () => {
    await expect(run(Promise.resolve(3) as never, virtual)).resolves.toBe(3);
  });

  it("rejects main that is not a coroutine with a TypeError", async () => {
    await expect(run(42 as never)).rejects.toThrow(TypeError);
    await expect(run(42 as never)).rejects.toThrow(/run\(\) expects main to be a coroutine/);
  });

  it("refuses a loopFactory whose loop is another run's, and leaves that run alone", async () => {
    const shared = new VirtualEventLoop();
    const first = run(
      async () => {
        await sleep(10);
        return "first";
      },
      { loopFactory: () => shared },
    );
    let started = false;
    await expect(
      run(
        function* () {
          started = true;
          return "second";
        },
        { loopFactory: () => shared },
      ),
    ).rejects.toThrow(
      "run(): options.loopFactory returned a loop that is running (another run's); run() runs on a loop of its own and closes it at the end: return a new loop, e.g. () => new VirtualEventLoop().",
    );
    await expect(first).resolves.toBe("first");
    expect(started).toBe(false);
    await expect(run(async () => 1, { loopFactory: () => shared })).rejects.toThrow(
      "options.loopFactory returned a loop that is closed",
    );
  });

  it("refuses a loopFactory that returns no loop, at the call", async () => {
    await expect(run(async () => 1, { loopFactory: () => 42 as never })).rejects.toThrow(
      new TypeError(
        "run() expects the loop options.loopFactory returned to be an asynkit event loop, got number 42: return a new loop, e.g. () => new VirtualEventLoop().",
      ),
    );
  });

  it("refuses a policy's loop that is another run's, and leaves that run alone", async () => {
    const shared = new HostEventLoop();
    const first = run(
      async () => {
        await sleep(5);
        return "first";
      },
      { loopFactory: () => shared },
    );
    setEventLoopPolicy(
      new (class extends DefaultEventLoopPolicy {
        override newEventLoop(): BaseEventLoop {
          return shared;
        }
      })(),
    );
    try {
      await expect(run(async () => 3)).rejects.toThrow(
        "run(): the event loop policy's newEventLoop() returned a loop that is running (another run's)",
      );
    } finally {
      setEventLoopPolicy(null);
    }
    await expect(first).resolves.toBe("first");
  });
});

describe("getRunningLoop and getEventLoop", () => {
  it("outside the tasks of a loop running on the host, the error says how code it started ends up there", async () => {
    const app = new HostEventLoop();
    const parked = app.submit(sleep(Infinity));
    await new Promise((resolve) => setTimeout(resolve, 1));
    try {
      expect(() => getRunningLoop()).toThrow(
        "no running event loop: call this from a coroutine or callback run by an asynkit loop, e.g. inside run(main).\nIf this is code of an async function that a loop started, it runs outside the loop:\n  - after an await of a host promise (fetch, fs, a host timer), of Promise.all() or Promise.race(), or of what a then() of a task or future returns (task.then(f, g)), whose promise the host settles, even over tasks: await fromPromise(promise), or gather() / wait() rather than Promise.all() / race(), or the task itself; or, on Node, give the loop the asyncLocalStorage option, run(main, { asyncLocalStorage: true }), with which that code is still its task's;\n  - in a helper awaited beside other awaits of its task, as in gather(helper(a), helper(b)), from the helper's first await: give each helper a task, createTask(() => helper(a));\n  - in an async main called for run(), run(main()), from its first await: pass the function, run(main).",
      );
    } finally {
      parked.cancel();
      await app.shutdown();
    }
  });

  it("getRunningLoop is the running loop inside, and throws outside", async () => {
    await run(function* () {}); // a loop has run in this process: code it started may be outside it
    let inside: BaseEventLoop | null = null;
    const loop = new VirtualEventLoop();
    loop.runSync(
      (function* () {
        inside = getRunningLoop();
        yield;
      })(),
    );
    expect(inside).toBe(loop);
    expect(() => getRunningLoop()).toThrow(
      "no running event loop: call this from a coroutine or callback run by an asynkit loop, e.g. inside run(main).\nIf this is code of an async function that a loop started, it runs outside the loop:\n  - after an await of a host promise (fetch, fs, a host timer), of Promise.all() or Promise.race(), or of what a then() of a task or future returns (task.then(f, g)), whose promise the host settles, even over tasks: await fromPromise(promise), or gather() / wait() rather than Promise.all() / race(), or the task itself; or, on Node, give the loop the asyncLocalStorage option, run(main, { asyncLocalStorage: true }), with which that code is still its task's;\n  - in a helper awaited beside other awaits of its task, as in gather(helper(a), helper(b)), from the helper's first await: give each helper a task, createTask(() => helper(a));\n  - in an async main called for run(), run(main()), from its first await: pass the function, run(main).",
    );
  });

  it("in a process where no loop has run, the error says to start one", async () => {
    const { code, stdout } = await runScript(
      "no-loop-yet",
      `import { createTask, getRunningLoop, sleep } from "asynkit";
for (const call of [() => getRunningLoop(), () => createTask(sleep(1))]) {
  try { call(); } catch (error) { console.log(error.message); }
}`,
    );
    expect(code).toBe(0);
    expect(stdout).toBe(
      "no running event loop: call this from a coroutine or callback run by an asynkit loop, e.g. inside run(main).\n" +
        "No asynkit loop runs, nor has one run on the host in this process: start one with run(main) (or loop.runUntilComplete(main)) and call this from code it runs.\n" +
        "createTask() needs a running event loop: call it from a task run by run(main), or use loop.createTask(coro).\n" +
        "No asynkit loop runs, nor has one run on the host in this process: start one with run(main) (or loop.runUntilComplete(main)) and call this from code it runs.\n",
    );
  }, 30_000);

  it("getEventLoop is the running loop when one runs", () => {
    const loop = new VirtualEventLoop();
    const seen = loop.runSync(
      (function* () {
        return getEventLoop();
      })(),
    );
    expect(seen).toBe(loop);
  });

  it("outside a loop, getEventLoop is the policy's loop, created once", () => {
    const a = getEventLoop();
    expect(a).toBeInstanceOf(HostEventLoop);
    expect(getEventLoop()).toBe(a);
    expect(getEventLoopPolicy().getEventLoop()).toBe(a);
  });

  it("while run() runs, the policy's loop is run's loop; afterwards it is reset", async () => {
    let policyLoop: BaseEventLoop | null = null;
    let running: BaseEventLoop | null = null;
    await run(function* () {
      running = getRunningLoop();
      policyLoop = getEventLoopPolicy().getEventLoop();
      yield;
    }, virtual);
    expect(policyLoop).toBe(running);
    expect(getEventLoopPolicy().getEventLoop()).not.toBe(running);
  });
});

describe("policies", () => {
  it("the default policy is a DefaultEventLoopPolicy", () => {
    expect(getEventLoopPolicy()).toBeInstanceOf(DefaultEventLoopPolicy);
    expect(getEventLoopPolicy()).toBe(getEventLoopPolicy());
  });

  it("DefaultEventLoopPolicy makes HostEventLoops and remembers the one it hands out", () => {
    const policy = new DefaultEventLoopPolicy();
    const a = policy.newEventLoop();
    const b = policy.newEventLoop();
    expect(a).toBeInstanceOf(HostEventLoop);
    expect(a).not.toBe(b);
    const current = policy.getEventLoop();
    expect(policy.getEventLoop()).toBe(current);
    policy.setEventLoop(a);
    expect(policy.getEventLoop()).toBe(a);
    policy.setEventLoop(null);
    const fresh = policy.getEventLoop();
    expect(fresh).not.toBe(a);
    expect(fresh).toBeInstanceOf(HostEventLoop);
  });

  it("setEventLoopPolicy installs a policy that run() and getEventLoop() use; null restores the default", async () => {
    const made: BaseEventLoop[] = [];
    class VirtualPolicy extends DefaultEventLoopPolicy {
      override newEventLoop(): BaseEventLoop {
        const loop = new VirtualEventLoop();
        made.push(loop);
        return loop;
      }
    }
    const policy: EventLoopPolicy = new VirtualPolicy();
    setEventLoopPolicy(policy);
    expect(getEventLoopPolicy()).toBe(policy);
    const time = await run(function* () {
      yield* sleep(86_400_000);
      return getRunningLoop().time();
    });
    expect(time).toBe(86_400_000);
    expect(made).toHaveLength(1);
    expect(getEventLoop()).toBeInstanceOf(VirtualEventLoop);
    setEventLoopPolicy(null);
    expect(getEventLoopPolicy()).not.toBe(policy);
    expect(getEventLoopPolicy()).toBeInstanceOf(DefaultEventLoopPolicy);
  });

  it("the CancelledError of a cancelled main rejects run()", async () => {
    await expect(
      run(function* () {
        const me = currentTask()!;
        me.cancel("cancelled main");
        yield;
      }, virtual),
    ).rejects.toThrow(CancelledError);
  });
});

afterAll(removeScripts);
