/**
 * Native `await` of what asynkit returns as a coroutine: the same call serves
 * `yield*` in a coroutine and `await` in an async function. Here the awaiting
 * code is a plain async function the loop did not start: each await runs the
 * operation as a task on the running loop.
 */
import { describe, expect, it } from "vitest";
import {
  Barrier,
  Condition,
  createTask,
  Event,
  Future,
  gather,
  Lock,
  Queue,
  Semaphore,
  sleep,
  VirtualEventLoop,
  waitFor,
} from "../src/index.js";

/** Runs `body` (started before the loop runs, as a promise) on a new virtual loop. */
async function onVirtualLoop<T>(body: (loop: VirtualEventLoop) => Promise<T>): Promise<T> {
  const loop = new VirtualEventLoop();
  try {
    return await loop.runUntilComplete(body(loop));
  } finally {
    loop.close();
  }
}

describe("await of an asynkit operation outside a task", () => {
  it("await sleep(ms, value) waits on the loop's clock and gives the value, never the coroutine", async () => {
    const result = await onVirtualLoop(async (loop) => {
      const value = await sleep(60_000, "a minute later");
      return [value, loop.time()];
    });
    expect(result).toEqual(["a minute later", 60_000]);
  });

  it("rejects with the no-running-loop error when no loop runs", async () => {
    await expect(sleep(10)).rejects.toThrow(/^no running event loop: /);
  });

  it("locks, events, conditions, semaphores, queues and barriers are awaitable", async () => {
    const log = await onVirtualLoop(async (loop) => {
      const log: unknown[] = [];
      const lock = new Lock();
      log.push(await lock.acquire(), lock.locked());
      lock.release();
      {
        using _ = await lock.hold();
        log.push(lock.locked());
      }
      log.push(lock.locked());
      const event = new Event();
      loop.callLater(5, () => event.set());
      log.push(await event.wait());
      const condition = new Condition();
      await condition.acquire();
      loop.callLater(5, () => {
        createTask(
          (function* () {
            yield* condition.acquire();
            condition.notifyAll();
            condition.release();
          })(),
        );
      });
      log.push(await condition.wait());
      log.push(await condition.waitFor(() => "ready"));
      condition.release();
      const semaphore = new Semaphore(1);
      log.push(await semaphore.acquire(), semaphore.locked());
      const queue = new Queue<string>();
      await queue.put("item");
      log.push(await queue.get());
      queue.taskDone();
      await queue.join();
      const barrier = new Barrier(1);
      log.push(await barrier.wait());
      await barrier.reset();
      await barrier.abort();
      log.push(barrier.broken);
      return log;
    });
    expect(log).toEqual([
      true,
      true,
      true,
      false,
      true,
      true,
      "ready",
      true,
      true,
      "item",
      0,
      true,
    ]);
  });

  it("gather and waitFor are awaitable", async () => {
    const log = await onVirtualLoop(async (loop) => {
      const log: unknown[] = [];
      log.push(await gather(sleep(20, "a"), sleep(10, "b")));
      log.push(await waitFor(sleep(5, "in time"), 10));
      return [log, loop.time()];
    });
    expect(log).toEqual([[["a", "b"], "in time"], 25]);
  });

  it("futures stay as they were: await future settles with it", async () => {
    const result = await onVirtualLoop(async (loop) => {
      const future = new Future<string>({ loop });
      loop.callLater(5, () => future.setResult("set"));
      return await future;
    });
    expect(result).toBe("set");
  });
});
