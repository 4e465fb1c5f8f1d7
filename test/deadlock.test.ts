/**
 * A deadlock is an error, never a silent exit or a hang: runSync() throws a
 * DeadlockError, run() on a virtual loop rejects with one as soon as it is
 * idle with nothing pending on the host, and on the host loop a run still
 * waiting when the process is about to exit rejects with one. Each lists the
 * unfinished tasks and what they wait on.
 */
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  CancelledError,
  Condition,
  type Coro,
  createTask,
  currentTask,
  DeadlockError,
  Event,
  Future,
  fromPromise,
  gather,
  getRunningLoop,
  HostEventLoop,
  Lock,
  PriorityLock,
  PriorityVirtualEventLoop,
  Queue,
  run,
  Semaphore,
  sleep,
  type Task,
  VirtualEventLoop,
  waitAbort,
} from "../src/index.js";
import { removeScripts, root, runScript } from "./child.js";
import { collection, thrown } from "./helpers.js";

const virtual = { loopFactory: () => new VirtualEventLoop() };

/** A program in which every kind of primitive has a task stuck on it. */
function* stuckEverywhere(): Coro<void> {
  const lock = new Lock();
  const full = new Queue<number>(1);
  full.putNowait(1);
  const cond = new Condition();
  const spawn = (name: string, body: () => Coro<unknown>) => createTask(body(), { name });
  spawn("holder", function* () {
    yield* lock.acquire();
    yield* new Event().wait();
  });
  yield* sleep(1);
  spawn("locker", () => lock.acquire());
  spawn("getter", () => new Queue<number>().get());
  spawn("putter", () => full.put(2));
  spawn("waiter", function* () {
    yield* cond.acquire();
    yield* cond.wait();
  });
  spawn("semaphore", () => new Semaphore(0).acquire());
  const child = spawn("child", function* () {
    yield* new Future();
  });
  yield* child;
}

const stuckList = [
  '  Task "main" waits on Task "child" → <Future pending>',
  '  Task "holder" waits on Event.wait()',
  '  Task "locker" waits on Lock.acquire() (held by Task "holder")',
  '  Task "getter" waits on Queue.get()',
  '  Task "putter" waits on Queue.put()',
  '  Task "waiter" waits on Condition.wait()',
  '  Task "semaphore" waits on Semaphore.acquire()',
  '  Task "child" waits on <Future pending>',
].join("\n");

describe("runSync", () => {
  it("throws a DeadlockError naming each task and what it waits on", () => {
    const loop = new VirtualEventLoop();
    const main = loop.createTask(stuckEverywhere(), { name: "main" });
    const error = thrown(() => loop.runSync(main));
    expect(error).toBeInstanceOf(DeadlockError);
    expect((error as Error).message).toBe(
      "runSync(): deadlock: the program waits for something that can never happen: nothing is ready and no timer is pending. Unfinished tasks:\n" +
        stuckList,
    );
    expect((error as DeadlockError).tasks.map((t) => t.getName())).toEqual([
      "main",
      "holder",
      "locker",
      "getter",
      "putter",
      "waiter",
      "semaphore",
      "child",
    ]);
  });

  it("lists twenty tasks and counts the rest", () => {
    const loop = new VirtualEventLoop();
    const main = loop.createTask(
      (function* () {
        for (let i = 1; i <= 24; i++) createTask(new Event().wait(), { name: `w${i}` });
        yield* new Future();
      })(),
      { name: "main" },
    );
    const error = thrown(() => loop.runSync(main));
    const lines = (error as Error).message.split("\n");
    expect(lines.slice(1, 3)).toEqual([
      '  Task "main" waits on <Future pending>',
      '  Task "w1" waits on Event.wait()',
    ]);
    expect(lines.slice(20)).toEqual(['  Task "w19" waits on Event.wait()', "  … and 5 more"]);
    expect((error as DeadlockError).tasks.length).toBe(25);
  });

  /** The lines of the DeadlockError a task named "main" running `body` on `loop` ends in, its tasks'. */
  function deadlockLines(loop: VirtualEventLoop, body: Coro<void>): string[] {
    const main = loop.createTask(body, { name: "main" });
    return thrown(() => loop.runSync(main))
      .message.split("\n")
      .slice(1);
  }

  it("names the task that holds the lock a task waits for", () => {
    const lock = new Lock();
    const lines = deadlockLines(
      new VirtualEventLoop(),
      (function* () {
        yield* lock.acquire();
        yield* createTask(lock.acquire(), { name: "child" });
      })(),
    );
    expect(lines).toEqual([
      '  Task "main" waits on Task "child" → Lock.acquire() (held by Task "main")',
      '  Task "child" waits on Lock.acquire() (held by Task "main")',
    ]);
  });

  it("names a PriorityLock as such, and a holder that ended without releasing it as done", () => {
    const lock = new PriorityLock();
    const lines = deadlockLines(
      new PriorityVirtualEventLoop(),
      (function* () {
        yield* createTask(lock.acquire(), { name: "forgetful" }); // takes it, never releases it
        yield* lock.acquire();
      })(),
    );
    expect(lines).toEqual([
      '  Task "main" waits on PriorityLock.acquire() (held by Task "forgetful", which is done)',
    ]);
  });

  it("names no task when code outside a task's step holds the lock", () => {
    const loop = new VirtualEventLoop();
    const lock = new Lock();
    const lines = deadlockLines(
      loop,
      (function* () {
        yield* lock.acquire();
        lock.release();
        loop.callSoon(() => void lock.acquire().next()); // a callback takes it
        yield* sleep(0);
        yield* lock.acquire();
      })(),
    );
    expect(lines).toEqual(['  Task "main" waits on Lock.acquire()']);
  });
});

describe("run() on a virtual loop", () => {
  it("rejects with a DeadlockError instead of waiting for the host forever", async () => {
    let loop: VirtualEventLoop | undefined;
    const outcome = run(
      function* () {
        currentTask()?.setName("main");
        yield* stuckEverywhere();
      },
      {
        loopFactory: () => {
          loop = new VirtualEventLoop();
          return loop;
        },
      },
    );
    const error = await outcome.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlockError);
    expect((error as Error).message).toBe(
      "run(): deadlock: the program waits for something that can never happen: nothing is ready, no timer is pending, and it waits on nothing the host could deliver (a virtual loop waits only for the host work it knows of: a host timer or event that settles a future is known through fromPromise()). Unfinished tasks:\n" +
        stuckList,
    );
    // run() still cleans up: every stuck task was cancelled, and the loop is closed.
    expect((error as DeadlockError).tasks.every((t) => t.cancelled())).toBe(true);
    expect(loop?.isClosed()).toBe(true);
  });

  it("with native tasks, reports the deadlock once the microtasks have run", async () => {
    const log: string[] = [];
    const error = await run(async () => {
      currentTask()?.setName("main");
      const loop = getRunningLoop();
      const never = new Event();
      const waiter = createTask(
        async () => {
          log.push("waiting");
          // A microtask chain queued in the last step before the loop goes idle: it runs
          // before the verdict. (Queued by main before its await, it could run before this
          // step: under load the slice's 5 ms passed, and the loop's drive went to a macrotask.)
          void Promise.resolve()
            .then(() => undefined)
            .then(() => log.push(`microtasks ran, the loop still running: ${loop.isRunning()}`));
          await never.wait();
        },
        { name: "waiter" },
      );
      await waiter;
    }, virtual).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlockError);
    expect((error as Error).message.split("\n").slice(1)).toEqual([
      '  Task "main" waits on Task "waiter" → Event.wait()',
      '  Task "waiter" waits on Event.wait()',
    ]);
    expect(log).toEqual(["waiting", "microtasks ran, the loop still running: true"]);
  });

  it("tasks that await each other: the cycle is reported, and each ends cancelled", async () => {
    const tasks: Task<void>[] = [];
    const error = await run(function* () {
      currentTask()?.setName("main");
      const awaiting = (name: string, other: () => Task<void>) =>
        createTask(
          (function* () {
            yield* sleep(1);
            yield* other();
          })(),
          { name },
        );
      tasks.push(awaiting("alice", () => tasks[1] as Task<void>));
      tasks.push(awaiting("bob", () => tasks[0] as Task<void>));
      yield* tasks[0] as Task<void>;
    }, virtual).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlockError);
    expect((error as Error).message).toBe(
      "run(): deadlock: the program waits for something that can never happen: nothing is ready, no timer is pending, and it waits on nothing the host could deliver (a virtual loop waits only for the host work it knows of: a host timer or event that settles a future is known through fromPromise()). Unfinished tasks:\n" +
        '  Task "main" waits on Task "alice" → Task "bob" → Task "alice" → (a cycle)\n' +
        '  Task "alice" waits on Task "bob" → Task "alice" → (a cycle)\n' +
        '  Task "bob" waits on Task "alice" → Task "bob" → (a cycle)',
    );
    expect(tasks.map((task) => task.cancelled())).toEqual([true, true]);
  });

  it("a cancel() that comes round a cycle of tasks stops there: each ends cancelled, in order", () => {
    const log = new VirtualEventLoop().runSync(
      (function* () {
        const log: string[] = [];
        const tasks: Task<void>[] = [];
        const awaiting = (name: string, other: () => Task<void>) =>
          createTask(
            (function* () {
              try {
                yield* sleep(1);
                yield* other();
              } catch (error) {
                log.push(`${name}: ${(error as Error).name}`);
                throw error;
              }
            })(),
            { name },
          );
        tasks.push(awaiting("a", () => tasks[1] as Task<void>));
        tasks.push(awaiting("b", () => tasks[2] as Task<void>));
        tasks.push(awaiting("c", () => tasks[0] as Task<void>));
        yield* sleep(5);
        log.push(`cancel(): ${tasks[0]?.cancel()}`);
        yield* sleep(0);
        yield* sleep(0);
        yield* sleep(0);
        log.push(tasks.map((task) => task.cancelled()).join(" "));
        return log;
      })(),
    );
    expect(log).toEqual([
      "cancel(): true",
      "c: CancelledError",
      "b: CancelledError",
      "a: CancelledError",
      "true true true",
    ]);
  });

  // The task that closes the ring has a cancellation pending itself (the one it passed on came
  // back to it through the task it cancelled): the request comes round to it, and it takes it.
  for (const kind of ["generator", "native"] as const) {
    for (const through of ["directly", "through gather()"] as const) {
      it(`a ${kind} task that cancels the task awaiting it (${through}), then awaits that task, ends cancelled, and so does the other`, async () => {
        const loop = new VirtualEventLoop();
        const log: string[] = [];
        let a: Task<unknown> | undefined;
        function* closing(): Coro<void> {
          log.push(`cancel(): ${a?.cancel("m")}`);
          try {
            yield* a as Task<unknown>;
          } catch (error) {
            log.push(`c: ${(error as Error).name} ${(error as Error).message}`);
            throw error;
          }
        }
        async function closingNative(): Promise<void> {
          log.push(`cancel(): ${a?.cancel("m")}`);
          try {
            await a;
          } catch (error) {
            log.push(`c: ${(error as Error).name} ${(error as Error).message}`);
            throw error;
          }
        }
        let c: Task<void> | undefined;
        await loop.runUntilComplete(function* () {
          a = createTask(
            function* () {
              c = createTask(kind === "generator" ? closing : closingNative, { name: "c" });
              if (through === "directly") yield* c;
              else yield* gather([c, createTask(sleep(0))]);
            },
            { name: "a" },
          );
          yield* sleep(5);
        });
        loop.close();
        expect(log).toEqual(["cancel(): true", "c: CancelledError m"]);
        expect([a?.cancelled(), c?.cancelled()]).toEqual([true, true]);
      });
    }
  }

  it("says what it waits on when that is a plain future, not a task", async () => {
    const loop = new VirtualEventLoop();
    const error = await loop.runUntilComplete(loop.createFuture()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlockError);
    expect((error as Error).message).toBe(
      "runUntilComplete(): deadlock: the program waits for something that can never happen: nothing is ready, no timer is pending, and it waits on nothing the host could deliver (a virtual loop waits only for the host work it knows of: a host timer or event that settles a future is known through fromPromise()). It waits on <Future pending>.",
    );
    // The loop stopped cleanly and can run again.
    expect(loop.isRunning()).toBe(false);
    expect(await loop.runUntilComplete(sleep(5, "again"))).toBe("again");
    loop.close();
  });

  it("waits for the host while a native promise it awaits is pending", async () => {
    const value = await run(function* () {
      yield* sleep(60_000);
      return yield* fromPromise(new Promise((done) => setTimeout(done, 20, "from the host")));
    }, virtual);
    expect(value).toBe("from the host");
  });

  it("waits for the host while it listens to an AbortSignal, which the host may abort", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort("enough"), 20);
    expect(await run(waitAbort(controller.signal), virtual)).toBe("enough");

    const cancelling = new AbortController();
    setTimeout(() => cancelling.abort("stop"), 20);
    const outcome = run(new Event().wait(), { ...virtual, signal: cancelling.signal });
    await expect(outcome).rejects.toThrow(CancelledError);
    await expect(outcome).rejects.toThrow("stop");
  });

  it("stops waiting for a native promise once its wait is cancelled: a deadlock after it is reported", async () => {
    const never = new Promise<void>(() => {});
    function* main(): Coro<void> {
      const waiting = fromPromise(never);
      yield* sleep(10);
      waiting.cancel();
      yield* new Event().wait();
    }
    await expect(run(main(), virtual)).rejects.toThrow(DeadlockError);
    expect(() => new VirtualEventLoop().runSync(main())).toThrow(DeadlockError);
  });

  it("a loop that runs forever is not a run: it waits, and nothing is reported", async () => {
    const loop = new VirtualEventLoop();
    const stopped = loop.runForever();
    await new Promise((done) => setTimeout(done, 10));
    expect(loop.isRunning()).toBe(true);
    loop.stop();
    await stopped;
    loop.close();
  });
});

describe("the beforeExit listener", () => {
  const listeners = () => process.listenerCount("beforeExit");

  it("is there only while a run is pending, once for any number of runs", async () => {
    const before = listeners();
    const runs = [1, 2, 3].map((n) => run(sleep(10, n)));
    expect(listeners()).toBe(before + 1);
    expect(await Promise.all(runs)).toEqual([1, 2, 3]);
    expect(listeners()).toBe(before);
  });

  it("lets go of an application loop dropped without shutdown() once it is collected", async () => {
    const before = listeners();
    const gone = collection();
    // In a function of its own: a loop left in the test's registers would stay reachable.
    const serveAndDrop = async (name: string) => {
      const app = new HostEventLoop();
      await app.submit(sleep(1)); // it runs for ever from here, idle
      gone.watch(app, name);
    };
    for (const name of ["app 0", "app 1", "app 2"]) await serveAndDrop(name);
    expect(listeners()).toBe(before + 1);
    expect(await gone.collected(3)).toEqual(["app 0", "app 1", "app 2"]);
    await new Promise((resolve) => setTimeout(resolve, 5)); // the watch's own finalizers
    expect(listeners()).toBe(before);
  });

  it("is removed when a run rejects too", async () => {
    const before = listeners();
    const outcome = run(function* () {
      yield* sleep(1);
      throw new Error("boom");
    });
    expect(listeners()).toBe(before + 1);
    await expect(outcome).rejects.toThrow("boom");
    expect(listeners()).toBe(before);
  });
});

afterAll(removeScripts);

const exiting =
  "run(): deadlock: the program waits for something that can never happen: the host has nothing left to run and the process is about to exit.";

describe.concurrent("on the host loop, a run still waiting when the process is about to exit", () => {
  it("rejects with a DeadlockError: an awaited run fails the program with the list", async () => {
    const { code, stdout, stderr } = await runScript(
      "awaited",
      `import { Future, Lock, createTask, run, sleep } from "asynkit";
const lock = new Lock();
console.log("start");
await run(function* () {
  createTask((function* () { yield* lock.acquire(); yield* new Future(); })(), { name: "holder" });
  yield* sleep(1);
  yield* lock.acquire();
});
console.log("never printed");
`,
    );
    expect(code).toBe(1);
    expect(stdout).toBe("start\n");
    expect(stderr).toContain(
      `DeadlockError: ${exiting} Unfinished tasks:\n  Task "Task-1" waits on Lock.acquire() (held by Task "holder")\n  Task "holder" waits on <Future pending>\n`,
    );
  }, 30_000);

  it("on a virtual loop, a native task left on a host promise that never settles: run() rejects as the process exits", async () => {
    // run()'s shutdown report waits in real time while the clock waits with the host: its
    // timer, the loop's last, made the loop look as though a timer could still wake it.
    const { code, stdout, stderr } = await runScript(
      "virtual-host-forever",
      `import { createTask, run, VirtualEventLoop } from "asynkit";
try {
  await run(async () => {
    await createTask(async () => { await new Promise(() => {}); }, { name: "forever" });
  }, { loopFactory: () => new VirtualEventLoop() });
} catch (error) {
  console.log(error.name);
}
`,
    );
    expect({ code, stdout }).toEqual({ code: 0, stdout: "DeadlockError\n" });
    expect(stderr).not.toContain("Error");
  }, 30_000);

  it("a beforeExit listener of the program's that starts the host work a run awaits: the run goes on", async () => {
    // A flush on exit: the other listener's timer settles what the task awaits, after the
    // watch's own check, which must not take the run for deadlocked.
    const { code, stdout, stderr } = await runScript(
      "exit-flush",
      `import { run } from "asynkit";
const flushed = () => new Promise((resolve) => process.once("beforeExit", () => setTimeout(resolve, 50)));
console.log(await run(async () => { await flushed(); return "flushed"; }));
`,
    );
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: "flushed\n", stderr: "" });
  }, 30_000);

  it("a beforeExit listener that starts host work that keeps nothing alive, each time: the run is still found deadlocked", async () => {
    const { code, stdout, stderr } = await runScript(
      "exit-unref",
      `import { run } from "asynkit";
let exits = 0;
process.on("beforeExit", () => { exits++; setTimeout(() => {}, 1000).unref(); });
process.on("exit", () => console.log("beforeExit came", exits > 1 && exits <= 6 ? "a few times" : exits));
await run(async () => { await new Promise(() => {}); });
`,
    );
    expect(code).toBe(1);
    expect(stdout).toBe("beforeExit came a few times\n");
    expect(stderr).toContain(`DeadlockError: ${exiting} Unfinished tasks:`);
  }, 30_000);

  it("a sleep(Infinity), which never ends, keeps no host timer: the run and an app loop's task are reported", async () => {
    const { code, stdout, stderr } = await runScript(
      "infinity",
      `import { HostEventLoop, run, sleep } from "asynkit";
const app = new HostEventLoop();
app.submit(sleep(Infinity), { name: "parked" });
console.log(await app.submit(sleep(1, "app's work done")));
await run(function* () { yield* sleep(Infinity); });
console.log("never printed");
`,
    );
    expect(code).toBe(1);
    expect(stdout).toBe("app's work done\n");
    expect(stderr).toContain(
      'Task was destroyed but it is pending: the process is exiting, and nothing is left that could wake it: Task "parked" waits on sleep until t=Infinity ms\n',
    );
    expect(stderr).toContain(`DeadlockError: ${exiting} Unfinished tasks:\n  Task "Task-`);
    expect(stderr).toMatch(
      /Unfinished tasks:\n {2}Task "Task-\d+" waits on sleep until t=Infinity ms\n/,
    );
  }, 30_000);

  it("an unawaited run is an unhandled rejection, with the same message", async () => {
    const { code, stderr } = await runScript(
      "unawaited",
      `import { Future, run } from "asynkit";
run(function* () { yield* new Future(); });
`,
    );
    expect(code).toBe(1);
    expect(stderr).toContain(
      `DeadlockError: ${exiting} Unfinished tasks:\n  Task "Task-1" waits on <Future pending>\n`,
    );
  }, 30_000);

  it("a task main left, blocked on a host promise that ignores its cancellation: the error says main was done", async () => {
    const { code, stderr } = await runScript(
      "leftover",
      `import { createTask, run, sleep } from "asynkit";
await run(async () => {
  createTask(async () => { await new Promise(() => {}); }, { name: "leftover" });
  await sleep(1);
  return "main's result";
});
`,
    );
    expect(code).toBe(1);
    expect(stderr).toContain(
      'DeadlockError: run(), main being done, waiting for the tasks it left (cancelled): deadlock: the program waits for something that can never happen: the host has nothing left to run and the process is about to exit. Unfinished tasks:\n  Task "leftover" waits on a native promise only the host settles\n',
    );
    expect(stderr).not.toContain("Task was destroyed"); // the error names it: once is enough
    expect(stderr).not.toContain("was cancelled at run() shutdown");
  }, 30_000);

  it("main blocked on a host promise: the error names its tasks, and closing the loop does not again", async () => {
    const { code, stderr } = await runScript(
      "host-blocked",
      `import { createTask, run, sleep } from "asynkit";
await run(async () => {
  const stuck = createTask(async () => { await new Promise(() => {}); }, { name: "stuck" });
  await sleep(1);
  return await stuck;
});
`,
    );
    expect(code).toBe(1);
    expect(stderr).toContain(
      `DeadlockError: ${exiting} Unfinished tasks:\n  Task "Task-1" waits on Task "stuck" → a native promise only the host settles\n  Task "stuck" waits on a native promise only the host settles\n`,
    );
    expect(stderr).not.toContain("Task was destroyed");
  }, 30_000);

  it("an application loop's tasks still waiting as the process exits are reported, each once", async () => {
    const { code, stdout, stderr } = await runScript(
      "app-pending",
      `import { Event, HostEventLoop, sleep } from "asynkit";
const app = new HostEventLoop();
const never = new Event();
app.submit(async () => { try { await never.wait(); } finally { console.log("never printed"); } }, { name: "waiter" });
app.submit(async () => { await sleep(5); console.log("done"); }, { name: "quick" });
let exits = 0;
process.on("beforeExit", () => { if (exits++ === 0) setTimeout(() => {}, 1); }); // beforeExit comes twice
`,
    );
    expect(code).toBe(0);
    expect(stdout).toBe("done\n");
    expect(stderr).toBe(
      'Task was destroyed but it is pending: the process is exiting, and nothing is left that could wake it: Task "waiter" waits on Event.wait()\ntask: <Task pending name="waiter">\n',
    );
  }, 30_000);

  it("an awaited runForever() that nothing can stop rejects: a top-level await does not exit 13 without a word", async () => {
    const { code, stdout, stderr } = await runScript(
      "forever-awaited",
      `import { Event, HostEventLoop } from "asynkit";
const loop = new HostEventLoop();
loop.createTask(async () => { console.log("waiting"); await new Event().wait(); }, { name: "waiter" });
await loop.runForever();
console.log("never printed");
`,
    );
    expect(code).toBe(1);
    expect(stdout).toBe("waiting\n");
    expect(stderr).toContain(
      'DeadlockError: runForever(): deadlock: the program waits for something that can never happen: the host has nothing left to run and the process is about to exit. Unfinished tasks:\n  Task "waiter" waits on Event.wait()\n',
    );
    expect(stderr).not.toContain("Task was destroyed");
  }, 30_000);

  it("an awaited runForever() with no task left says only stop() ends it; one stopped, or not awaited, ends quietly", async () => {
    const { code, stdout, stderr } = await runScript(
      "forever-empty",
      `import { HostEventLoop, VirtualEventLoop } from "asynkit";
const app = new HostEventLoop();
app.createTask(async () => { console.log("app's task ran"); });
app.runForever(); // an application's loop, idle at exit: nothing to report
const stopped = new HostEventLoop();
stopped.callLater(5, () => stopped.stop());
await stopped.runForever();
console.log("stopped");
const loop = new VirtualEventLoop();
loop.runForever().then(() => console.log("never printed"), (error) => console.log(error.message));
`,
    );
    expect({ code, stdout, stderr }).toEqual({
      code: 0,
      stdout:
        "app's task ran\nstopped\nrunForever(): deadlock: the program waits for something that can never happen: the host has nothing left to run and the process is about to exit. No task is left, and only stop() ends runForever().\n",
      stderr: "",
    });
  }, 30_000);

  it("an async main stuck on a host promise: run() reports main's deadlock at once, not its leftovers'", async () => {
    const { code, stderr } = await runScript(
      "main-stuck",
      `import { run } from "asynkit";
await run(async () => { await new Promise(() => {}); });
`,
    );
    expect(code).toBe(1);
    // Cancelling main at run()'s end cannot reach it; its report, a second on, must not hold
    // the process: had it, it would have been printed before the error.
    expect(stderr).toContain(
      `DeadlockError: ${exiting} Unfinished tasks:\n  Task "Task-1" waits on a native promise only the host settles\n`,
    );
    expect(stderr).not.toContain("was cancelled at run() shutdown");
  }, 30_000);

  it("a native promise that can never settle is reported as what the task waits on", async () => {
    const { code, stderr } = await runScript(
      "never-settles",
      `import { fromPromise, run } from "asynkit";
await run(function* () { yield* fromPromise(new Promise(() => {})); });
`,
    );
    expect(code).toBe(1);
    expect(stderr).toContain(
      `DeadlockError: ${exiting} Unfinished tasks:\n  Task "Task-1" waits on fromPromise()\n`,
    );
  }, 30_000);

  it("each of several runs that deadlock one after the other is reported", async () => {
    const { code, stdout } = await runScript(
      "one-after-another",
      `import { Event, run } from "asynkit";
for (const job of ["job 1", "job 2", "job 3"]) {
  try {
    await run(function* () { yield* new Event().wait(); });
  } catch (error) {
    console.log(job, (error as Error).name);
  }
}
console.log("all jobs done");
`,
    );
    expect(stdout).toBe(
      "job 1 DeadlockError\njob 2 DeadlockError\njob 3 DeadlockError\nall jobs done\n",
    );
    expect(code).toBe(0);
  }, 30_000);

  it("a program can catch it, and then exits normally", async () => {
    const { code, stdout, stderr } = await runScript(
      "caught",
      `import { DeadlockError, Future, run } from "asynkit";
try {
  await run(function* () { yield* new Future(); });
} catch (error) {
  console.log(error instanceof DeadlockError, error.tasks.length);
}
`,
    );
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: "true 1\n", stderr: "" });
  }, 30_000);

  it("is not reported while the run waits on a host timer or host I/O", async () => {
    const { code, stdout, stderr } = await runScript(
      "host-work",
      `import { readFile } from "node:fs/promises";
import { setTimeout as delay } from "node:timers/promises";
import { HostEventLoop, fromPromise, run, sleep } from "asynkit";
const a = await run(function* () { return yield* fromPromise(delay(50, "timer")); });
const b = await run(function* () {
  const text = yield* fromPromise(readFile(${JSON.stringify(join(root, "package.json"))}, "utf8"));
  return JSON.parse(text).name;
});
const c = await run(function* () { yield* sleep(30); return "sleep"; });
console.log(a, b, c);
`,
    );
    expect({ code, stdout, stderr }).toEqual({
      code: 0,
      stdout: "timer asynkit sleep\n",
      stderr: "",
    });
  }, 30_000);
});
