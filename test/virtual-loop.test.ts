/**
 * VirtualEventLoop: a clock that jumps to the next timer, runSync with no
 * host at all (and its errors when the program cannot finish), and advance().
 */
// biome-ignore-all lint/correctness/useYield: coroutines that finish without suspending are part of what is tested.
import { describe, expect, it } from "vitest";
import {
  type Coro,
  createTask,
  currentTask,
  DeadlockError,
  fromPromise,
  getRunningLoop,
  run,
  sleep,
  timeout,
  VirtualEventLoop,
} from "../src/index.js";
import { thrown } from "./helpers.js";

describe("virtual time", () => {
  it("jumps to the next timer: a minute of sleeps takes no real time", () => {
    const loop = new VirtualEventLoop();
    const start = performance.now();
    const log: string[] = [];
    loop.runSync(
      (function* () {
        const worker = (name: string, ms: number) =>
          createTask(
            (function* () {
              yield* sleep(ms);
              log.push(`${name}@${loop.time()}`);
            })(),
          );
        const ts = [worker("slow", 60_000), worker("fast", 1_000), worker("mid", 30_000)];
        for (const t of ts) yield* t;
      })(),
    );
    expect(log).toEqual(["fast@1000", "mid@30000", "slow@60000"]);
    expect(loop.time()).toBe(60_000);
    expect(performance.now() - start).toBeLessThan(1000);
  });

  it("the clock starts at 0 and does not move while work is ready", () => {
    const loop = new VirtualEventLoop();
    expect(loop.time()).toBe(0);
    const times = loop.runSync(
      (function* () {
        const seen: number[] = [];
        for (let i = 0; i < 3; i++) {
          yield;
          seen.push(loop.time());
        }
        return seen;
      })(),
    );
    expect(times).toEqual([0, 0, 0]);
  });

  it("runs on the host too, through run() with a loopFactory, in virtual time", async () => {
    let loop!: VirtualEventLoop;
    const result = await run(
      function* () {
        yield* sleep(3_600_000);
        return getRunningLoop().time();
      },
      {
        loopFactory: () => {
          loop = new VirtualEventLoop();
          return loop;
        },
      },
    );
    expect(result).toBe(3_600_000);
    expect(loop.isClosed()).toBe(true);
  });
});

describe("runSync", () => {
  it("returns the result of a coroutine, a task or a done future", () => {
    const loop = new VirtualEventLoop();
    expect(loop.runSync(sleep(5, "coro"))).toBe("coro");
    expect(loop.runSync(loop.createTask(sleep(5, "task")))).toBe("task");
    const f = loop.createFuture<string>();
    f.setResult("future");
    expect(loop.runSync(f)).toBe("future");
    expect(loop.time()).toBe(10);
  });

  it("runs a function that returns a coroutine, called in the main task as run() calls it", () => {
    const loop = new VirtualEventLoop();
    function* double(n: number): Coro<number> {
      yield* sleep(5);
      return n * 2;
    }
    let caller: unknown = null;
    const main = () => {
      caller = currentTask()?.getName();
      return double(21);
    };
    expect([loop.runSync(main), caller, loop.time()]).toEqual([42, "Task-1", 5]);
    expect(loop.runSync(() => sleep(1, "op"))).toBe("op");
    // One that returns a promise fails its task, which says why.
    expect(thrown(() => loop.runSync(() => Promise.resolve(1) as never)).message).toMatch(
      /^runSync\(\) cannot run <Task pending name="Task-3">, whose function returned a promise: .* Use `await loop.runUntilComplete\(main\)`/,
    );
  });

  it("throws the program's error", () => {
    const loop = new VirtualEventLoop();
    const error = new Error("inside");
    expect(() =>
      loop.runSync(
        (function* (): Coro<never> {
          yield* sleep(1);
          throw error;
        })(),
      ),
    ).toThrow(error);
    expect(loop.isRunning()).toBe(false);
  });

  it("can be called again on the same loop; leftover tasks go on", () => {
    const loop = new VirtualEventLoop();
    const log: string[] = [];
    const background = loop.runSync(
      (function* () {
        return createTask(
          (function* () {
            yield* sleep(10);
            log.push("background done");
            return 1;
          })(),
        );
      })(),
    );
    expect(background.done()).toBe(false);
    expect(loop.runSync(background)).toBe(1);
    expect(log).toEqual(["background done"]);
  });

  it("says what to do when the program waits on a native promise", () => {
    const loop = new VirtualEventLoop();
    let error: unknown;
    try {
      loop.runSync(
        (function* () {
          return yield* fromPromise(new Promise(() => {}));
        })(),
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(
      /^runSync\(\): the program waits on 1 thing\(s\) only the host can deliver/,
    );
    expect((error as Error).message).toContain("await loop.runUntilComplete(main)");
    expect(loop.isRunning()).toBe(false);
  });

  it("says it is a deadlock when the program waits on something that can never happen", () => {
    const loop = new VirtualEventLoop();
    const main = loop.createTask(
      (function* () {
        return yield* loop.createFuture<never>();
      })(),
      { name: "main" },
    );
    const error = thrown(() => loop.runSync(main));
    expect(error).toBeInstanceOf(DeadlockError);
    expect((error as DeadlockError).message).toBe(
      'runSync(): deadlock: the program waits for something that can never happen: nothing is ready and no timer is pending. Unfinished tasks:\n  Task "main" waits on <Future pending>',
    );
    expect((error as DeadlockError).tasks.length).toBe(1);
    expect((error as DeadlockError).tasks[0]).toBe(main);
  });

  it("a timer at Infinity never fires: waiting only on it is a deadlock, and the clock stays finite", async () => {
    const loop = new VirtualEventLoop();
    const error = thrown(() => loop.runSync(sleep(Number.POSITIVE_INFINITY)));
    expect(error).toBeInstanceOf(DeadlockError);
    expect(loop.time()).toBe(0);
    const native = await loop
      .runUntilComplete(async () => {
        await sleep(Number.POSITIVE_INFINITY);
      })
      .catch((e: unknown) => e);
    expect(native).toBeInstanceOf(DeadlockError);
    // The loop is still usable: a timeout around a short sleep is not expired at once.
    expect(loop.runSync(timeout(10, () => sleep(1, "ok")))).toBe("ok");
    expect(loop.time()).toBe(1);
  });

  it("cannot be called while the loop runs", () => {
    const loop = new VirtualEventLoop();
    const error = loop.runSync(
      (function* () {
        try {
          loop.runSync(sleep(0));
        } catch (e) {
          return e;
        }
      })(),
    );
    expect((error as Error).message).toMatch(/^runSync\(\): this event loop is already running/);
  });

  it("cannot be called from inside another running loop", () => {
    const outer = new VirtualEventLoop();
    const inner = new VirtualEventLoop();
    const error = outer.runSync(
      (function* () {
        try {
          inner.runSync(sleep(0));
        } catch (e) {
          return e;
        }
      })(),
    );
    expect((error as Error).message).toMatch(/another loop is running in this stack/);
  });

  it("says so when the program stops the loop before it is done", () => {
    const loop = new VirtualEventLoop();
    expect(() =>
      loop.runSync(
        (function* () {
          loop.stop();
          yield* sleep(10);
        })(),
      ),
    ).toThrow(
      "runSync(): the loop was stopped before the program completed: let main finish instead of calling loop.stop().",
    );
  });
});

describe("advance()", () => {
  it("moves the clock; timers that fall due run at the next iteration", () => {
    const loop = new VirtualEventLoop();
    const log: string[] = [];
    loop.callLater(10, () => log.push(`a@${loop.time()}`));
    loop.callLater(20, () => log.push(`b@${loop.time()}`));
    loop.advance(15);
    expect(loop.time()).toBe(15);
    expect(log).toEqual([]);
    loop.runSync(sleep(0));
    expect(log).toEqual(["a@15"]);
    loop.advance(0);
    loop.runSync(sleep(10));
    expect(log).toEqual(["a@15", "b@20"]);
    expect(loop.time()).toBe(25);
  });

  it("rejects a negative, NaN, infinite or non-number step", () => {
    const loop = new VirtualEventLoop();
    expect(() => loop.advance(-1)).toThrow(RangeError);
    expect(() => loop.advance(Number.NaN)).toThrow(
      "loop.advance() expects ms to be a finite number of milliseconds >= 0, got number NaN: the clock only moves forward, and never to Infinity.",
    );
    expect(() => loop.advance(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => loop.advance("5" as never)).toThrow(TypeError);
    expect(loop.time()).toBe(0);
  });
});
