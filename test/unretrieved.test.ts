/**
 * A failure nobody looked at is reported through the loop's exception
 * handler ("Task exception was never retrieved"), never silently lost; one
 * that was retrieved is not reported.
 */
import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import {
  ContextVar,
  type Coro,
  createTask,
  type ExceptionContext,
  Future,
  gather,
  getRunningLoop,
  run,
  sleep,
  VirtualEventLoop,
} from "../src/index.js";
import { removeScripts, runScript } from "./child.js";
import { collection, failAfter } from "./helpers.js";

afterEach(() => {
  vi.restoreAllMocks();
});

function* failing(error: unknown): Coro<never> {
  yield;
  throw error;
}

/** Collects garbage until `reports` has one, for a few host macrotasks at most. */
async function collectUntilReported(reports: readonly unknown[]): Promise<void> {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  for (let i = 0; i < 20 && reports.length === 0; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A loop whose exception handler records what it is given. */
function recordingLoop(): { loop: VirtualEventLoop; reports: ExceptionContext[] } {
  const loop = new VirtualEventLoop();
  const reports: ExceptionContext[] = [];
  loop.setExceptionHandler((_l, ctx) => reports.push(ctx));
  return { loop, reports };
}

describe("reported when the loop closes", () => {
  it("a task whose exception nobody retrieved", () => {
    const { loop, reports } = recordingLoop();
    const error = new Error("lost");
    const task = loop.createTask(failing(error));
    loop.runSync(sleep(1));
    expect(task.done()).toBe(true);
    expect(reports).toEqual([]);
    loop.close();
    expect(reports).toHaveLength(1);
    expect(reports[0]!.message).toBe("Task exception was never retrieved");
    expect(reports[0]!.exception).toBe(error);
    expect(reports[0]!.future).toBe(task);
  });

  it("a task's failure is reported in the task's context (test_task_exc_handler_correct_context)", () => {
    const variable = new ContextVar("variable", { default: "foo" });
    const loop = new VirtualEventLoop();
    const seen: string[] = [];
    loop.setExceptionHandler(() => seen.push(variable.get()));
    loop.createTask(
      (function* () {
        variable.set("bar");
        yield;
        throw new Error("lost");
      })(),
    );
    loop.createTask(
      (function* () {
        yield;
        variable.set("baz"); // in the step that fails
        throw new Error("lost too");
      })(),
    );
    loop.runSync(sleep(1));
    loop.close();
    expect([seen, variable.get()]).toEqual([["bar", "baz"], "foo"]);
  });

  it("a future whose exception nobody retrieved", () => {
    const { loop, reports } = recordingLoop();
    const f = new Future({ loop });
    const error = new Error("future lost");
    f.setException(error);
    loop.close();
    // (field by field: deep equality would iterate the future, i.e. yield* it)
    expect(reports).toHaveLength(1);
    expect(reports[0]!.message).toBe("Future exception was never retrieved");
    expect(reports[0]!.exception).toBe(error);
    expect(reports[0]!.future).toBe(f);
  });

  it("once only, in the order the failures happened", () => {
    const { loop, reports } = recordingLoop();
    const a = new Future({ loop });
    const b = new Future({ loop });
    b.setException("b");
    a.setException("a");
    loop.close();
    loop.close();
    expect(reports.map((r) => r.exception)).toEqual(["b", "a"]);
  });

  it("run() closes its loop, so a background task's lost failure is reported", async () => {
    const reports: ExceptionContext[] = [];
    const error = new Error("background failure");
    await run(
      function* () {
        getRunningLoop().setExceptionHandler((_l, ctx) => reports.push(ctx));
        createTask(failing(error));
        yield* sleep(10);
        return "main ok";
      },
      { loopFactory: () => new VirtualEventLoop() },
    );
    expect(reports).toHaveLength(1);
    expect(reports[0]!.message).toBe("Task exception was never retrieved");
    expect(reports[0]!.exception).toBe(error);
  });

  it("the default handler writes the report with console.error", () => {
    const loop = new VirtualEventLoop();
    const logged: string[] = [];
    vi.spyOn(console, "error").mockImplementation((msg: string) => logged.push(msg));
    const f = new Future({ loop });
    f.setException(new Error("to the console"));
    loop.close();
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(
      /^Future exception was never retrieved\nfuture: <Future failed exception=Error\("to the console"\)>\nError: to the console/,
    );
  });
});

describe("what a report keeps", () => {
  it("nothing once made: a loop closed with a failure reported, by a handler that never read the stack, is collected", async () => {
    const { watch, collected } = collection();
    const messages: string[] = [];
    // In a function of its own, so that no variable of this test keeps the loop.
    (() => {
      const loop = new VirtualEventLoop();
      loop.setExceptionHandler((_loop, context) => messages.push(String(context.exception)));
      watch(loop, "loop");
      loop.runSync(
        (function* () {
          createTask(failAfter(5, "disk full"));
          yield* sleep(10);
        })(),
      );
      loop.close();
    })();
    expect(messages).toEqual(["Error: disk full"]);
    expect(await collected(1)).toEqual(["loop"]);
  });
});

describe("not reported when retrieved", () => {
  it("by result(), exception(), yield* or a native await", async () => {
    const { loop, reports } = recordingLoop();
    const make = (): Future<never> => {
      const f = new Future<never>({ loop });
      f.setException(new Error("seen"));
      return f;
    };
    expect(() => make().result()).toThrow("seen");
    expect(make().exception()).toBeInstanceOf(Error);
    const viaYield = make();
    loop.runSync(
      (function* () {
        try {
          yield* viaYield;
        } catch {}
      })(),
    );
    await make().then(undefined, () => {});
    loop.close();
    expect(reports).toEqual([]);
  });

  it("a task awaited by another task", () => {
    const { loop, reports } = recordingLoop();
    const result = loop.runSync(
      (function* () {
        const t = createTask(failing(new Error("handled")));
        try {
          yield* t;
        } catch (e) {
          return (e as Error).message;
        }
      })(),
    );
    expect(result).toBe("handled");
    loop.close();
    expect(reports).toEqual([]);
  });

  it("main's failure, which run() rejects with", async () => {
    const reports: ExceptionContext[] = [];
    await expect(
      run(
        function* () {
          getRunningLoop().setExceptionHandler((_l, ctx) => reports.push(ctx));
          yield* failing(new Error("main"));
        },
        { loopFactory: () => new VirtualEventLoop() },
      ),
    ).rejects.toThrow("main");
    expect(reports).toEqual([]);
  });

  it("a cancelled task or future is never reported", () => {
    const { loop, reports } = recordingLoop();
    const t = loop.createTask(sleep(100));
    const f = new Future({ loop });
    f.cancel();
    loop.runSync(
      (function* () {
        yield;
        t.cancel();
        yield;
      })(),
    );
    expect(t.cancelled()).toBe(true);
    loop.close();
    expect(reports).toEqual([]);
  });
});

describe("reported when collected", () => {
  it("a failed future that is garbage-collected is reported without closing the loop", async () => {
    const { loop, reports } = recordingLoop();
    (() => {
      const f = new Future({ loop });
      f.setException(new Error("collected"));
    })();
    await collectUntilReported(reports);
    expect(reports).toHaveLength(1);
    expect(reports[0]!.message).toBe("Future exception was never retrieved");
    expect((reports[0]!.exception as Error).message).toBe("collected");
    // The future is gone: the report says what it was.
    expect(reports[0]!.future).toBeUndefined();
    expect(reports[0]!.collected).toBe('<Future failed exception=Error("collected")>');
    loop.close();
    expect(reports).toHaveLength(1);
  });
});

describe("reported when a task that threw is collected, the loop never closed", () => {
  // The error's stack keeps the frames of the coroutine or function that threw it, and
  // through them the task: only once that stack is formatted can the task be collected.
  it("a generator task, by runUntilComplete()", async () => {
    const { loop, reports } = recordingLoop();
    await loop.runUntilComplete(function* () {
      createTask(failing(new Error("thrown in a coroutine")), { name: "background" });
      yield* sleep(5);
    });
    await collectUntilReported(reports);
    expect(reports.map((r) => [r.message, (r.exception as Error).message, r.collected])).toEqual([
      [
        "Task exception was never retrieved",
        "thrown in a coroutine",
        '<Task failed name="background" exception=Error("thrown in a coroutin…")>',
      ],
    ]);
  });

  it("in debug mode, with where the task was made, as a report at the loop's close has it", async () => {
    const { loop, reports } = recordingLoop();
    loop.setDebug(true);
    await loop.runUntilComplete(function* () {
      createTask(failing(new Error("made in debug mode")), { name: "background" });
      yield* sleep(5);
    });
    await collectUntilReported(reports);
    expect(reports.map((r) => r.collected)).toEqual([
      '<Task failed name="background" exception=Error("made in debug mode")>',
    ]);
    expect(reports[0]?.sourceTraceback?.[0]).toMatch(/unretrieved\.test\.ts:\d+:\d+\)?$/);
  });

  it("in the context the task failed in, with its failing step's writes (test_task_exc_handler_correct_context)", async () => {
    const variable = new ContextVar("variable", { default: "foo" });
    const loop = new VirtualEventLoop();
    const seen: string[] = [];
    loop.setExceptionHandler(() => seen.push(variable.get()));
    await loop.runUntilComplete(function* () {
      createTask(
        (function* () {
          yield;
          variable.set("bar"); // in the step that fails
          throw new Error("lost");
        })(),
      );
      yield* sleep(5);
    });
    await collectUntilReported(seen);
    expect([seen, variable.get()]).toEqual([["bar"], "foo"]);
  });

  it("a native task, by runUntilComplete()", async () => {
    const { loop, reports } = recordingLoop();
    await loop.runUntilComplete(async () => {
      createTask(async () => {
        await sleep(1);
        throw new Error("thrown in an async function");
      });
      await sleep(5);
    });
    await collectUntilReported(reports);
    expect(reports.map((r) => [r.message, (r.exception as Error).message])).toEqual([
      ["Task exception was never retrieved", "thrown in an async function"],
    ]);
  });

  it("a generator task, by runSync()", async () => {
    const { loop, reports } = recordingLoop();
    loop.runSync(
      (function* () {
        createTask(failing(new Error("thrown under runSync")));
        yield* sleep(5);
      })(),
    );
    await collectUntilReported(reports);
    expect(reports.map((r) => (r.exception as Error).message)).toEqual(["thrown under runSync"]);
  });
});

describe("reported when the process exits", () => {
  afterAll(removeScripts);

  it("a failure still unreported, on a loop never closed, goes to the default handler", async () => {
    const exit = await runScript(
      "unretrieved-at-exit",
      `import { VirtualEventLoop, createTask, sleep } from "asynkit";
const loop = new VirtualEventLoop();
await loop.runUntilComplete(function* () {
  createTask((function* () { yield* sleep(1); throw new Error("lost at exit"); })(), { name: "doomed" });
  yield* sleep(5);
});
console.log("run over");
`,
    );
    expect(exit.code).toBe(0);
    expect(exit.stdout).toBe("run over\n");
    expect(exit.stderr).toContain("Task exception was never retrieved");
    expect(exit.stderr).toContain("Error: lost at exit");
  });
  it("getting-started.md's handler that fails the process: the report is printed, and the exit code is 1", async () => {
    const guide = readFileSync(new URL("../docs/getting-started.md", import.meta.url), "utf8");
    const program = /```ts\n(\/\/ not run: it exits with code 1[\s\S]*?)```/.exec(guide)?.[1];
    expect(program).toContain("process.exitCode = 1");
    const exit = await runScript("exit-code-handler", program as string);
    expect(exit.code).toBe(1);
    expect(exit.stdout).toBe("");
    expect(exit.stderr).toContain(
      'Task exception was never retrieved\nfuture: <Task failed name="backup" exception=Error("disk full")>\nError: disk full',
    );
  });
});

describe("runSync and memory", () => {
  it("a failure left unretrieved by runSync is reported once it is collected", async () => {
    const { loop, reports } = recordingLoop();
    const error = new Error("dropped");
    loop.runSync(
      (function* () {
        getRunningLoop().createFuture().setException(error);
        yield;
      })(),
    );
    await collectUntilReported(reports);
    expect(reports.map((r) => [r.message, (r.exception as Error).message])).toEqual([
      ["Future exception was never retrieved", "dropped"],
    ]);
    loop.close();
    expect(reports).toHaveLength(1);
  });

  it("a runSync that reaps failing tasks in batches keeps a flat heap", { timeout: 60_000 }, () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const heapMb: number[] = [];
    new VirtualEventLoop().runSync(
      (function* () {
        for (let batch = 0; batch < 20; batch++) {
          const tasks = [];
          for (let i = 0; i < 5000; i++) tasks.push(createTask(failAfter(0, `${i}`)));
          yield* gather(tasks, { returnExceptions: true });
          gc();
          heapMb.push(process.memoryUsage().heapUsed / 2 ** 20);
        }
      })(),
    );
    // Each batch kept alive until runSync returns would add about 6 MB: 110 MB in all.
    expect(heapMb.at(-1)! - heapMb[1]!).toBeLessThan(24);
  });
});
