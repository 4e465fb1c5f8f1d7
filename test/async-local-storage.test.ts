/**
 * Node's AsyncLocalStorage follows tasks: every step of a task runs in the
 * context that was current when the task was created, and a callback in the
 * context of whoever scheduled it, as across native awaits.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { describe, expect, it } from "vitest";
import {
  type Coro,
  createTask,
  currentTask,
  eager,
  fromPromise,
  getRunningLoop,
  HostEventLoop,
  run,
  SchedulingVirtualEventLoop,
  sleep,
  type Task,
  taskGroup,
  timeout,
  VirtualEventLoop,
  waitFor,
} from "../src/index.js";

const als = new AsyncLocalStorage<string>();
const ON = { asyncLocalStorage: true };

/** The store after a sleep, in the coroutine of whoever drives it. */
function* storeAfterSleep(): Coro<string | undefined> {
  yield* sleep(1);
  return als.getStore();
}

/** What the store reads at the start of a coroutine, after a sleep and after a native promise. */
function* reader(seen: (string | undefined)[]): Coro<void> {
  seen.push(als.getStore());
  yield* sleep(1);
  seen.push(als.getStore());
  yield* fromPromise(new Promise((resolve) => setTimeout(resolve, 1)));
  seen.push(als.getStore());
}

describe("AsyncLocalStorage follows tasks with the asyncLocalStorage option", () => {
  it("a task reads the store of where it was created: at its start, after sleep(), after fromPromise()", async () => {
    const seen: (string | undefined)[] = [];
    const unset: (string | undefined)[] = [];
    const loop = new HostEventLoop(ON);
    const madeOutside = loop.createTask(reader(unset));
    await als.run("outer", async () => {
      const child = als.run("req-A", () => loop.createTask(reader(seen)));
      await loop.runUntilComplete(child);
      expect(als.getStore()).toBe("outer");
    });
    await loop.runUntilComplete(madeOutside);
    loop.close();
    expect(seen).toEqual(["req-A", "req-A", "req-A"]);
    // Driving the loop from inside "outer" does not leak "outer" into a task made outside it.
    expect(unset).toEqual([undefined, undefined, undefined]);
  });

  it("tasks created in different contexts keep theirs while they interleave", async () => {
    const seen: string[] = [];
    function* worker(name: string): Coro<void> {
      for (let i = 0; i < 3; i++) {
        seen.push(`${name}:${als.getStore()}`);
        yield* sleep(0);
      }
    }
    await run(function* () {
      const a = als.run("A", () => createTask(worker("a")));
      const b = als.run("B", () => createTask(worker("b")));
      const plain = createTask(worker("main"));
      yield* a;
      yield* b;
      yield* plain;
    }, ON);
    expect(seen).toEqual([
      "a:A",
      "b:B",
      "main:undefined",
      "a:A",
      "b:B",
      "main:undefined",
      "a:A",
      "b:B",
      "main:undefined",
    ]);
  });

  it("nested tasks inherit their creator's store, or the one set around their creation", () => {
    const seen: string[] = [];
    function* leaf(name: string): Coro<void> {
      yield* sleep(1);
      seen.push(`${name}:${als.getStore()}`);
    }
    function* parent(): Coro<void> {
      const inherited = createTask(leaf("inherited"));
      const inner = als.run("inner", () => createTask(leaf("inner")));
      yield* sleep(2);
      seen.push(`parent:${als.getStore()}`);
      yield* inherited;
      yield* inner;
    }
    const loop = new VirtualEventLoop(ON);
    loop.runSync(als.run("outer", () => loop.createTask(parent())));
    expect(seen).toEqual(["inherited:outer", "inner:inner", "parent:outer"]);
  });

  it("a task awaited from another context: each side keeps its own store", () => {
    const seen: string[] = [];
    const loop = new VirtualEventLoop(ON);
    const task = als.run("made-in-A", () =>
      loop.createTask(
        (function* (): Coro<string> {
          yield* sleep(5);
          seen.push(`task:${als.getStore()}`);
          return "done";
        })(),
      ),
    );
    function* waiter(): Coro<void> {
      seen.push(`waiter before:${als.getStore()}`);
      const result = yield* task;
      seen.push(`waiter after ${result}:${als.getStore()}`);
    }
    loop.runSync(als.run("B", () => loop.createTask(waiter())));
    expect(seen).toEqual(["waiter before:B", "task:made-in-A", "waiter after done:B"]);
  });

  it("callSoon, callLater and callAt run in the context of whoever scheduled them", async () => {
    const seen: string[] = [];
    await run(function* () {
      const loop = getRunningLoop();
      const done = loop.createFuture<void>();
      als.run("soon", () => loop.callSoon(() => seen.push(`soon:${als.getStore()}`)));
      als.run("later", () => loop.callLater(2, () => seen.push(`later:${als.getStore()}`)));
      als.run("at", () =>
        loop.callAt(loop.time() + 4, () => {
          seen.push(`at:${als.getStore()}`);
          done.setResult();
        }),
      );
      loop.callSoon(() => seen.push(`plain:${als.getStore()}`));
      yield* done;
    }, ON);
    expect(seen).toEqual(["soon:soon", "plain:undefined", "later:later", "at:at"]);
  });

  it("a done-callback runs in the context of whoever added it", async () => {
    const seen: string[] = [];
    await run(function* () {
      const future = getRunningLoop().createFuture<number>();
      als.run("adder", () =>
        future.addDoneCallback((f) => seen.push(`${f.result()}:${als.getStore()}`)),
      );
      future.addDoneCallback(() => seen.push(`plain:${als.getStore()}`));
      als.run("setter", () => future.setResult(1));
      yield* sleep(1);
    }, ON);
    expect(seen).toEqual(["1:adder", "plain:undefined"]);
  });

  it("an eager() start runs in the caller's store, and so does the task that continues it", async () => {
    const seen: string[] = [];
    function* child(): Coro<string> {
      seen.push(`start:${als.getStore()}`);
      yield* sleep(1);
      seen.push(`resumed:${als.getStore()}`);
      return "child";
    }
    await run(function* () {
      const started = als.run("eager", () => eager(child()));
      seen.push(`caller:${als.getStore()}`);
      seen.push(`${yield* started}:${als.getStore()}`);
    }, ON);
    expect(seen).toEqual(["start:eager", "caller:undefined", "resumed:eager", "child:undefined"]);
  });

  it("a task started with eagerStart keeps its store after it suspends", async () => {
    const seen: (string | undefined)[] = [];
    await run(function* () {
      yield* als.run("eager-start", () => createTask(reader(seen), { eagerStart: true }));
    }, ON);
    expect(seen).toEqual(["eager-start", "eager-start", "eager-start"]);
  });

  it("native code that awaits a task keeps its own store after the await", async () => {
    const loop = new HostEventLoop(ON);
    let task: Task<string> | undefined;
    const seen: (string | undefined)[] = [];
    const running = loop.runForever();
    const awaited = als.run("native", async () => {
      task = als.run("task", () =>
        loop.createTask(
          (function* (): Coro<string> {
            yield* sleep(1);
            seen.push(als.getStore());
            return "result";
          })(),
        ),
      );
      const result = await task;
      seen.push(`${result}:${als.getStore()}`);
    });
    await awaited;
    loop.stop();
    await running;
    loop.close();
    expect(seen).toEqual(["task", "result:native"]);
  });

  it("a then() of the function's own, or Promise.resolve(task), is not taken for its await: cancel() reaches the function", async () => {
    for (const attach of [
      (task: Task<string>, log: string[]) =>
        void task.then(
          (value) => log.push(`then: ${value}`),
          (error: Error) => log.push(`then: ${error.name}`),
        ),
      (task: Task<string>, log: string[]) =>
        void Promise.resolve(task).then((value) => log.push(`then: ${value}`)),
    ]) {
      const log: string[] = [];
      await new VirtualEventLoop(ON).runUntilComplete(async () => {
        const worker = createTask(async () => {
          await sleep(50);
          return "w";
        });
        const watcher = createTask(async () => {
          attach(worker, log);
          try {
            await sleep(20);
            log.push("watcher slept");
          } catch (error) {
            log.push(`watcher: ${(error as Error).name}`);
          }
        });
        await sleep(5);
        watcher.cancel();
        await watcher;
        log.push(`worker: ${await worker}`);
      });
      // The then() callbacks are host promise reactions: their place among the awaits varies.
      expect(log[0]).toBe("watcher: CancelledError");
      expect(log.slice(1).sort()).toEqual(["then: w", "worker: w"]);
    }
  });

  it("a host callback that a generator task queues is no task's code, though a native task made that task", async () => {
    // Were it the native task's, its awaits would be taken for that task's, and its cancel() lost there.
    const log: string[] = [];
    const loop = new HostEventLoop(ON);
    await loop.runUntilComplete(async () => {
      await createTask(function* () {
        yield* fromPromise(
          new Promise<void>((resolve) =>
            setTimeout(() => {
              try {
                log.push(`callback in ${currentTask()?.getName()}`);
              } catch (error) {
                log.push(`callback: ${(error as Error).message.split(":")[0]}`);
              }
              resolve();
            }, 1),
          ),
        );
      });
    });
    loop.close();
    expect(log).toEqual(["callback: no running event loop"]);
  });

  it("what a native task awaits runs in the store current at the await: timeout(), taskGroup(), waitFor() bodies", async () => {
    const seen = await run(async () => {
      const got: Record<string, string | undefined> = {};
      got.timeout = await als.run(
        "X",
        async () => await timeout(1_000, async () => als.getStore()),
      );
      got.taskGroup = await als.run("X", async () => await taskGroup(async () => als.getStore()));
      got.child = await als.run(
        "X",
        async () => await taskGroup(async (tg) => await tg.createTask(storeAfterSleep())),
      );
      got.waitFor = await als.run("X", async () => await waitFor(storeAfterSleep(), 1_000));
      await sleep(0);
      als.enterWith("Y");
      got.afterEnterWith = await timeout(1_000, async () => als.getStore());
      return got;
    }, ON);
    expect(seen).toEqual({
      timeout: "X",
      taskGroup: "X",
      child: "X",
      waitFor: "X",
      afterEnterWith: "Y",
    });
  });

  it("enterWith() inside a task lasts for the task's later steps, not for other tasks", () => {
    const seen: string[] = [];
    function* setter(): Coro<void> {
      als.enterWith("entered");
      yield* sleep(1);
      seen.push(`setter:${als.getStore()}`);
    }
    function* other(): Coro<void> {
      yield* sleep(2);
      seen.push(`other:${als.getStore()}`);
    }
    new VirtualEventLoop(ON).runSync(
      (function* (): Coro<void> {
        const a = createTask(setter());
        const b = createTask(other());
        yield* a;
        yield* b;
        seen.push(`main:${als.getStore()}`);
      })(),
    );
    expect(seen).toEqual(["setter:entered", "other:undefined", "main:undefined"]);
  });
});

describe("the asyncLocalStorage option", () => {
  it("is off by default: tasks read the store of whatever drives the loop, as before", async () => {
    const seen: (string | undefined)[] = [];
    const loop = new HostEventLoop();
    await als.run("outer", () =>
      loop.runUntilComplete(als.run("req-A", () => loop.createTask(reader(seen)))),
    );
    loop.close();
    expect(seen).toEqual(["outer", "outer", "outer"]);
  });

  it("is off when false is given, on every kind of loop and in run()", async () => {
    const seen: (string | undefined)[] = [];
    await als.run("outer", () =>
      run(
        function* () {
          yield* als.run("req-A", () => createTask(reader(seen)));
        },
        { asyncLocalStorage: false },
      ),
    );
    const scheduling = new SchedulingVirtualEventLoop(ON);
    scheduling.runSync(
      als.run("scheduled", () =>
        scheduling.createTask(
          (function* (): Coro<void> {
            yield* sleep(1);
            seen.push(als.getStore());
          })(),
        ),
      ),
    );
    expect(seen).toEqual(["outer", "outer", "outer", "scheduled"]);
  });

  it("must be a boolean", async () => {
    expect(() => new HostEventLoop({ asyncLocalStorage: "yes" as never })).toThrow(
      new TypeError(
        'new HostEventLoop() expects options.asyncLocalStorage to be a boolean, got string "yes": pass true or false.',
      ),
    );
    await expect(run(function* () {}, { asyncLocalStorage: 1 as never })).rejects.toThrow(
      new TypeError(
        "run() expects options.asyncLocalStorage to be a boolean, got number 1: pass true or false.",
      ),
    );
  });
});
