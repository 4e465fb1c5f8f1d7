/**
 * A task that takes over an await a native function lets go of (the function
 * returned first, or its task's await was retaken for another line of code),
 * with the async bodies begun inside it: it waits for the host where they do,
 * and steps them, as the task they left no longer does. In a file of its own:
 * the helpers the first test leaves behind on closed loops stay counted as
 * native code on the host (see "run on after its loop closed" in
 * native-tasks.test.ts), which the reports of later tests would see.
 */
import { describe, expect, it } from "vitest";
import {
  createTask,
  Event,
  HostEventLoop,
  Lock,
  sleep,
  type Task,
  taskGroup,
  timeout,
} from "../src/index.js";

const hostDelay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("Promise.all over helpers in a native task", () => {
  it("of helpers whose timeout() bodies await the host, when the function returns first: the task that takes the await over waits for the host too", async () => {
    // Unordered code (the outcome varies from run to run, as the docs say), but never an
    // internal error: the function returned while its task drove a helper's timeout(),
    // whose body waited on the host, and the task that took that await over stepped the
    // body as if the loop could run it ("a native task was stepped with nothing to run",
    // in about one run in three before).
    const internal = /stepped with nothing to run|iterated while pending|stepped after it finished/;
    async function once(): Promise<string[]> {
      const lock = new Lock();
      const tasks: Task<void>[] = [];
      async function helper(): Promise<void> {
        await Promise.race([sleep(2), hostDelay(3)]);
        await timeout(5, async () => {
          await hostDelay(2);
          await lock.acquire();
          lock.release();
        });
        await lock.acquire();
        lock.release();
      }
      async function twoHelpers(): Promise<void> {
        await Promise.allSettled([helper(), helper()]);
        await taskGroup(async () => {});
        const task = createTask(helper);
        tasks.push(task);
        await task;
      }
      const seen: string[] = [];
      const loop = new HostEventLoop();
      loop.setExceptionHandler((_loop, context) =>
        seen.push(`${context.message} ${context.exception}`),
      );
      const main = async () => {
        createTask(async () => {
          await sleep(11);
          tasks.find((task) => !task.done())?.cancel();
        });
        try {
          await timeout(8, async () => {
            await Promise.all([twoHelpers(), helper()]);
          });
        } catch (error) {
          seen.push(String(error));
        }
        const last = createTask(helper);
        tasks.push(last);
        await last;
      };
      await loop.runUntilComplete(main).catch((error) => seen.push(String(error)));
      await hostDelay(20); // code the host resumes after the run
      loop.close();
      return seen;
    }
    for (let run = 0; run < 20; run++) {
      expect((await once()).filter((line) => internal.test(line))).toEqual([]);
    }
  });
});

describe("an async body inside an await its function lets go of", () => {
  // Two lines of code in one task, on a loop with the asyncLocalStorage option: the host's
  // async context finds lineB's `await timeout(...)` to be the task's while lineA's
  // timeout() body runs alone, so A's body drives it (and lets go of its own sleep(), which
  // goes on in a task of its own). When A's body returns, the await it drives goes on in a
  // task of its own too, and B's body, begun inside it, must go with it at once. Each case
  // failed every run before, on one of the timings the host's microtasks give.
  async function twoLines(
    ticksAfterOpen: number,
    bodyOfB: (gate: Promise<void>) => Promise<void>,
    afterBoth = () => {},
  ) {
    const log: string[] = [];
    const loop = new HostEventLoop({ asyncLocalStorage: true });
    loop.setExceptionHandler((_loop, context) =>
      log.push(`report: ${context.message} ${context.exception}`),
    );
    let open = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    async function lineA() {
      await timeout(100, async () => {
        await sleep(1);
        open();
        for (let tick = 0; tick < ticksAfterOpen; tick++) await null;
        log.push("A's body done");
      });
      log.push("A done");
    }
    async function lineB() {
      await null;
      await timeout(100, async () => {
        await bodyOfB(gate);
        log.push("B's body done");
      });
      log.push("B done");
    }
    const result = await loop
      .runUntilComplete(async () => {
        await Promise.all([lineA(), lineB()]);
        afterBoth();
        return "ok";
      })
      .catch((error) => `error: ${error}`);
    loop.close();
    return { result, log };
  }

  /** Each line ran to its end, in its own order, and nothing else was said. */
  function expectBothLinesDone({ result, log }: { result: string; log: string[] }) {
    expect(result).toBe("ok");
    expect(log.filter((line) => line.startsWith("A"))).toEqual(["A's body done", "A done"]);
    expect(log.filter((line) => line.startsWith("B"))).toEqual(["B's body done", "B done"]);
    expect(log).toHaveLength(4);
  }

  it("that returns before the task it went to has stepped: the end waits for that task's first step", async () => {
    // Before: its end stepped the old task, whose function had moved on ("a native task was
    // stepped with nothing to run"); then, gone with the await, it stepped the new task at
    // once and again from the ready queue.
    expectBothLinesDone(await twoLines(0, (gate) => gate));
  });

  it("that awaits again before the task it went to has stepped: that task's first step drives the await", async () => {
    // Guards a first version of the fix, which moved the body alone: the await queued a
    // second step of the new task, which ran after the task had ended.
    expectBothLinesDone(
      await twoLines(0, async (gate) => {
        await gate;
        await sleep(0);
      }),
    );
  });

  it("whose task waited inside it on a future still pending: the task that took it over goes on when it ends", async () => {
    // Before: its end stepped that task while it waited on the future for the await it took
    // over ("iterated while pending"); before that fix, the run stopped with a false
    // DeadlockError.
    const event = new Event();
    expectBothLinesDone(
      await twoLines(
        0,
        async () => {
          await null;
          await Promise.race([event.wait(), hostDelay(10)]);
        },
        () => event.set(), // the race's loser, which went on in a task of its own, ends
      ),
    );
  });

  it("that returns while it waits on a future, before the task it went to has stepped: that task's first step goes on at once", async () => {
    // B's body drives the race's event.wait() and returns when the gate wins. Before: at one of
    // these timings, the task B's body went to waited in its first step on the event, which
    // only the end of both lines sets: a hang. Its await, gone to a task of its own, was
    // stepped at once while the event was pending ("iterated while pending").
    for (let ticks = 0; ticks <= 3; ticks++) {
      const event = new Event();
      expectBothLinesDone(
        await twoLines(
          ticks,
          async (gate) => {
            await null;
            await Promise.race([event.wait(), gate]);
          },
          () => event.set(), // the race's loser, which went on in a task of its own, ends
        ),
      );
    }
  });

  it("whose await had queued a step of the old task: that step is the old task's own", async () => {
    // Before: the old task ran its function's end at once and then the step it had queued
    // for B's body, with nothing left to run.
    expectBothLinesDone(
      await twoLines(1, async (gate) => {
        await gate;
        await sleep(0);
      }),
    );
  });
});
