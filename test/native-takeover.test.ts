/**
 * A native task that returns while its task drives a helper's await, whose
 * async body waits on the host: the task that takes that await over waits for
 * the host too. In a file of its own: the helpers it leaves behind on closed
 * loops stay counted as native code on the host (see "run on after its loop
 * closed" in native-tasks.test.ts), which the reports of later tests would see.
 */
import { describe, expect, it } from "vitest";
import {
  createTask,
  HostEventLoop,
  Lock,
  sleep,
  type Task,
  taskGroup,
  timeout,
} from "../src/index.js";

describe("Promise.all over helpers in a native task", () => {
  it("of helpers whose timeout() bodies await the host, when the function returns first: the task that takes the await over waits for the host too", async () => {
    // Unordered code (the outcome varies from run to run, as the docs say), but never an
    // internal error: the function returned while its task drove a helper's timeout(),
    // whose body waited on the host, and the task that took that await over stepped the
    // body as if the loop could run it ("a native task was stepped with nothing to run",
    // in about one run in three before).
    const hostDelay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
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
