/**
 * Future semantics, after CPython's Lib/test/test_asyncio/test_futures.py:
 * states, done-callbacks through the ready queue, cancel messages, exception
 * retrieval, and awaiting from native code and from coroutines.
 */
// biome-ignore-all lint/correctness/useYield: coroutines that finish without suspending are part of what is tested.
import { describe, expect, it } from "vitest";
import { setYieldStarRewraps } from "../src/futures.js";
import {
  CancelledError,
  type Coro,
  CoroStart,
  coroStart,
  createTask,
  currentTask,
  eager,
  Future,
  fromPromise,
  getRunningLoop,
  InvalidStateError,
  isFuture,
  run,
  SchedulingVirtualEventLoop,
  type Suspend,
  shield,
  sleep,
  type Task,
  VirtualEventLoop,
} from "../src/index.js";
import { collection } from "./helpers.js";

function newLoop(): VirtualEventLoop {
  return new VirtualEventLoop();
}

/** Runs the loop until nothing else is ready. */
function drain(loop: VirtualEventLoop): void {
  loop.runSync(
    (function* () {
      while (loop._ready.length > 0) yield;
    })(),
  );
}

describe("Future states", () => {
  it("starts pending", () => {
    const f = new Future({ loop: newLoop() });
    expect(f.done()).toBe(false);
    expect(f.cancelled()).toBe(false);
    expect(String(f)).toBe("<Future pending>");
  });

  it("result() and exception() of a pending future throw InvalidStateError", () => {
    const f = new Future({ loop: newLoop() });
    expect(() => f.result()).toThrow(InvalidStateError);
    expect(() => f.result()).toThrow(/wait for the future first/);
    expect(() => f.exception()).toThrow(InvalidStateError);
  });

  it("setResult makes it done with that result", () => {
    const f = new Future<number>({ loop: newLoop() });
    f.setResult(42);
    expect(f.done()).toBe(true);
    expect(f.cancelled()).toBe(false);
    expect(f.result()).toBe(42);
    expect(f.exception()).toBeUndefined();
    expect(String(f)).toBe("<Future finished result=42>");
  });

  it("setResult or setException on a done future throws InvalidStateError", () => {
    const f = new Future<number>({ loop: newLoop() });
    f.setResult(1);
    expect(() => f.setResult(2)).toThrow(InvalidStateError);
    expect(() => f.setResult(2)).toThrow("setResult() on a finished Future");
    expect(() => f.setException(new Error("x"))).toThrow("setException() on a finished Future");
    expect(f.result()).toBe(1);
  });

  it("setException makes result() rethrow and exception() return it", () => {
    const f = new Future({ loop: newLoop() });
    const error = new RangeError("boom");
    f.setException(error);
    expect(f.done()).toBe(true);
    expect(f.exception()).toBe(error);
    expect(() => f.result()).toThrow(error);
    expect(String(f)).toBe('<Future failed exception=RangeError("boom")>');
  });

  it("String() shows any result short, and never throws for one that cannot be printed", () => {
    const loop = newLoop();
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    const results = [
      new (class Weird {
        toString(): string {
          throw new Error("no");
        }
      })(),
      revoked.proxy,
      Object.create(null),
      Symbol("s"),
      10n,
      "x".repeat(30),
      [1, 2, 3],
    ];
    expect(
      results.map((result) => {
        const f = new Future({ loop });
        f.setResult(result);
        return String(f).replace(/^<Future finished result=(.*)>$/, "$1");
      }),
    ).toEqual([
      "object (unprintable)",
      "object (unprintable)",
      "object {}",
      "Symbol(s)",
      "10n",
      '"xxxxxxxxxxxxxxxxxxxx…"',
      "array of length 3",
    ]);
  });

  it("cancel() makes it cancelled; result() and exception() throw CancelledError", () => {
    const f = new Future({ loop: newLoop() });
    expect(f.cancel()).toBe(true);
    expect(f.cancelled()).toBe(true);
    expect(f.done()).toBe(true);
    expect(() => f.result()).toThrow(CancelledError);
    expect(() => f.exception()).toThrow(CancelledError);
    expect(f.cancel()).toBe(false);
    expect(() => f.setResult(1)).toThrow("setResult() on a cancelled Future");
    expect(String(f)).toBe("<Future cancelled>");
  });

  it("cancel() of a done future returns false and changes nothing", () => {
    const f = new Future({ loop: newLoop() });
    f.setResult("x");
    expect(f.cancel()).toBe(false);
    expect(f.cancelled()).toBe(false);
    expect(f.result()).toBe("x");
  });

  it("the cancel message becomes the CancelledError's message", () => {
    const f = new Future({ loop: newLoop() });
    f.cancel("my message");
    let caught: unknown;
    try {
      f.result();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(CancelledError);
    expect((caught as Error).message).toBe("my message");
    expect(() => f.exception()).toThrow("my message");
  });

  it("each result() of a cancelled future throws a new CancelledError", () => {
    const f = new Future({ loop: newLoop() });
    f.cancel();
    const errors: unknown[] = [];
    for (let i = 0; i < 2; i++) {
      try {
        f.result();
      } catch (e) {
        errors.push(e);
      }
    }
    expect(errors[0]).not.toBe(errors[1]);
  });

  it("an undefined or null exception is still an exception", () => {
    const f = new Future({ loop: newLoop() });
    f.setException(undefined);
    expect(f.done()).toBe(true);
    expect(() => f.result()).toThrow();
    let thrown: unknown = "nothing";
    try {
      f.result();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeUndefined();
  });

  it("getLoop() is the loop it was made with; the default is the running loop", () => {
    const loop = newLoop();
    expect(new Future({ loop }).getLoop()).toBe(loop);
    expect(loop.createFuture().getLoop()).toBe(loop);
    const seen = loop.runSync(
      (function* () {
        return new Future().getLoop();
      })(),
    );
    expect(seen).toBe(loop);
  });

  it("isFuture is true for futures and tasks only", () => {
    const loop = newLoop();
    expect(isFuture(new Future({ loop }))).toBe(true);
    expect(isFuture(loop.createTask((function* () {})()))).toBe(true);
    expect(isFuture(Promise.resolve())).toBe(false);
    // biome-ignore lint/suspicious/noThenProperty: a thenable that is not a Future.
    expect(isFuture({ then() {} })).toBe(false);
    expect(isFuture(null)).toBe(false);
  });
});

describe("Future done-callbacks", () => {
  it("run through the ready queue, not at once, in registration order", () => {
    const loop = newLoop();
    const log: string[] = [];
    const f = new Future<number>({ loop });
    f.addDoneCallback((fut) => log.push(`a${fut.result()}`));
    f.addDoneCallback((fut) => log.push(`b${fut.result()}`));
    f.addDoneCallback((fut) => log.push(`c${fut.result()}`));
    loop.callSoon(() => log.push("before"));
    f.setResult(1);
    loop.callSoon(() => log.push("after"));
    expect(log).toEqual([]);
    drain(loop);
    expect(log).toEqual(["before", "a1", "b1", "c1", "after"]);
  });

  it("a callback added to a done future is scheduled with callSoon", () => {
    const loop = newLoop();
    const log: string[] = [];
    const f = new Future<number>({ loop });
    f.setResult(5);
    loop.callSoon(() => log.push("first"));
    f.addDoneCallback((fut) => log.push(`cb${fut.result()}`));
    expect(log).toEqual([]);
    drain(loop);
    expect(log).toEqual(["first", "cb5"]);
  });

  it("many waiters that leave in any order: the rest are woken in the order they came, each once", () => {
    const loop = newLoop();
    const woken = loop.runSync(
      (function* () {
        const shared = loop.createFuture<string>();
        const woken: number[] = [];
        const waiters = Array.from({ length: 200 }, (_, i) =>
          createTask(
            (function* () {
              yield* shield(shared); // leaving cancels its shield, not shared
              woken.push(i);
            })(),
          ),
        );
        const seen = loop.createFuture();
        const watcher = (): void => void woken.push(-1);
        shared.addDoneCallback(watcher);
        shared.addDoneCallback(() => seen.setResult(undefined));
        yield* sleep(0); // every waiter's shield waits on shared now
        // Two in three leave (past half: the callbacks are compacted, then indexed again),
        // from the front and the back in turn.
        const leaving = waiters.filter((_, i) => i % 3 !== 0);
        for (let k = 0; k < leaving.length; k++) {
          (leaving[k % 2 === 0 ? k / 2 : leaving.length - 1 - (k - 1) / 2] as Task<void>).cancel();
        }
        yield* sleep(0);
        expect(shared.removeDoneCallback(watcher)).toBe(1);
        shared.setResult("go");
        yield* seen;
        yield* sleep(0);
        expect(leaving.every((t) => t.cancelled())).toBe(true);
        return woken;
      })(),
    );
    expect(woken).toEqual(Array.from({ length: 200 }, (_, i) => i).filter((i) => i % 3 === 0));
  });

  it("a callback receives the future itself", () => {
    const loop = newLoop();
    const f = new Future({ loop });
    let got: unknown;
    f.addDoneCallback((fut) => {
      got = fut;
    });
    f.cancel();
    drain(loop);
    expect(got).toBe(f);
  });

  it("removeDoneCallback removes every registration and returns the count", () => {
    const loop = newLoop();
    const log: string[] = [];
    const f = new Future({ loop });
    const a = () => log.push("a");
    const b = () => log.push("b");
    const c = () => log.push("c");
    f.addDoneCallback(a);
    f.addDoneCallback(b);
    f.addDoneCallback(a);
    f.addDoneCallback(c);
    f.addDoneCallback(a);
    expect(f.removeDoneCallback(a)).toBe(3);
    expect(f.removeDoneCallback(a)).toBe(0);
    f.setResult(undefined);
    drain(loop);
    expect(log).toEqual(["b", "c"]);
  });

  it("removeDoneCallback keeps the order of the rest", () => {
    const loop = newLoop();
    const log: string[] = [];
    const f = new Future({ loop });
    const cbs = ["a", "b", "c", "d"].map((name) => () => log.push(name));
    for (const cb of cbs) f.addDoneCallback(cb);
    expect(f.removeDoneCallback(cbs[1]!)).toBe(1);
    expect(f.removeDoneCallback(cbs[0]!)).toBe(1);
    f.addDoneCallback(cbs[0]!);
    f.setResult(undefined);
    drain(loop);
    expect(log).toEqual(["c", "d", "a"]);
  });

  it("removeDoneCallback of the only callback leaves none", () => {
    const loop = newLoop();
    const log: string[] = [];
    const f = new Future({ loop });
    const a = () => log.push("a");
    f.addDoneCallback(a);
    expect(f.removeDoneCallback(a)).toBe(1);
    f.setResult(undefined);
    drain(loop);
    expect(log).toEqual([]);
  });

  it("a callback that throws goes to the exception handler; the others still run", () => {
    const loop = newLoop();
    const log: string[] = [];
    const errors: unknown[] = [];
    loop.setExceptionHandler((_loop, ctx) => errors.push(ctx.exception));
    const f = new Future({ loop });
    const boom = new Error("boom");
    f.addDoneCallback(() => {
      throw boom;
    });
    f.addDoneCallback(() => log.push("second"));
    f.setResult(undefined);
    drain(loop);
    expect(errors).toEqual([boom]);
    expect(log).toEqual(["second"]);
  });

  it("once done, its callbacks are scheduled: removing one then returns 0 and it still runs", () => {
    const loop = newLoop();
    const log: string[] = [];
    const f = new Future({ loop });
    const cb = () => log.push("ran");
    f.addDoneCallback(cb);
    f.setResult(undefined);
    expect(f.removeDoneCallback(cb)).toBe(0);
    drain(loop);
    expect(log).toEqual(["ran"]);
  });

  it("a callback that adds another callback to its done future: that one runs after", () => {
    const loop = newLoop();
    const log: string[] = [];
    const f = new Future({ loop });
    f.addDoneCallback((fut) => {
      log.push("first");
      fut.addDoneCallback(() => log.push("added later"));
    });
    f.addDoneCallback(() => log.push("second"));
    f.setResult(undefined);
    drain(loop);
    expect(log).toEqual(["first", "second", "added later"]);
  });

  it("addDoneCallback with a non-function throws a TypeError", () => {
    const f = new Future({ loop: newLoop() });
    expect(() => f.addDoneCallback(42 as never)).toThrow(TypeError);
    expect(() => f.addDoneCallback(42 as never)).toThrow(
      /addDoneCallback\(\) expects callback to be a function/,
    );
  });

  it("cancel schedules the callbacks too", () => {
    const loop = newLoop();
    const log: string[] = [];
    const f = new Future({ loop });
    f.addDoneCallback((fut) => log.push(`cancelled=${fut.cancelled()}`));
    f.cancel("why");
    drain(loop);
    expect(log).toEqual(["cancelled=true"]);
  });
});

describe("yield* future", () => {
  it("refuses to be iterated by hand while pending, so deep equality fails instead of hanging", () => {
    const f = newLoop().createFuture<number>();
    const iterator = f[Symbol.iterator]();
    const first = iterator.next();
    expect(first.done).toBe(false);
    expect(first.value).toBe(f);
    expect(() => iterator.next()).toThrow(InvalidStateError);
    expect(() => [...f]).toThrow(
      /iterated while pending: wait for a future only with `yield\* future`/,
    );
  });

  it("returns the result after the future is done", () => {
    const loop = newLoop();
    const log: string[] = [];
    const f = loop.createFuture<string>();
    function* waiter(): Coro<string> {
      log.push("wait");
      const v = yield* f;
      log.push(`got ${v}`);
      return v;
    }
    loop.callLater(10, () => {
      log.push("set");
      f.setResult("v");
    });
    expect(loop.runSync(waiter())).toBe("v");
    expect(log).toEqual(["wait", "set", "got v"]);
    expect(loop.time()).toBe(10);
  });

  it("returns at once, without suspending, when the future is already done", () => {
    const loop = newLoop();
    const log: string[] = [];
    const f = loop.createFuture<number>();
    f.setResult(3);
    loop.runSync(
      (function* () {
        loop.callSoon(() => log.push("other"));
        log.push(`got ${yield* f}`);
        yield;
        log.push("end");
      })(),
    );
    expect(log).toEqual(["got 3", "other", "end"]);
  });

  it("throws the future's exception into the coroutine", () => {
    const loop = newLoop();
    const f = loop.createFuture<number>();
    const error = new Error("failed");
    loop.callLater(1, () => f.setException(error));
    const result = loop.runSync(
      (function* () {
        try {
          yield* f;
          return "no";
        } catch (e) {
          return e;
        }
      })(),
    );
    expect(result).toBe(error);
  });

  it("throws CancelledError with the message when the future is cancelled", () => {
    const loop = newLoop();
    const f = loop.createFuture<number>();
    loop.callLater(1, () => f.cancel("stop it"));
    const result = loop.runSync(
      (function* () {
        try {
          yield* f;
          return null;
        } catch (e) {
          return e;
        }
      })(),
    );
    expect(result).toBeInstanceOf(CancelledError);
    expect((result as Error).message).toBe("stop it");
  });

  it("the iterator of a future is its own iterable and returns on return()", () => {
    const f = new Future<number>({ loop: newLoop() });
    const it = f[Symbol.iterator]();
    expect(it[Symbol.iterator]()).toBe(it);
    // (not toEqual: deep equality iterates a pending future forever)
    const first = it.next();
    expect(first.done).toBe(false);
    expect(first.value).toBe(f);
    expect(it.return(7)).toEqual({ done: true, value: 7 });
    expect(() => it.throw(new Error("in"))).toThrow("in");
    f.setResult(1);
    expect(it.next()).toEqual({ done: true, value: 1 });
  });
});

describe("yield* sleep(ms)", () => {
  it("stepped by hand, hands over its timer (a pending future), then returns its value", () => {
    const loop = newLoop();
    const log: string[] = [];
    loop.runSync(
      (function* () {
        const slept = sleep(5, "woke");
        const first = slept.next();
        const timer = first.value as Future<string>;
        expect(first.done).toBe(false);
        expect(isFuture(timer)).toBe(true);
        expect(timer.done()).toBe(false);
        expect(String(slept)).toBe("sleep until t=5 ms");
        expect(() => slept.next()).toThrow(InvalidStateError);
        yield* timer;
        log.push(`t=${loop.time()} ${timer.result()}`);
        // Until the sleep's end, the step handed over earlier still says what it said: a start
        // that keeps it can replay it.
        expect(first.done).toBe(false);
        expect(first.value).toBe(timer);
        expect(slept.next()).toEqual({ done: true, value: "woke" });
        // Over, it lets go of its timer: a task kept after it is done keeps no timer alive.
        expect(first.value).toBe(null);
        expect(slept.next()).toEqual({ done: true, value: "woke" });
      })(),
    );
    expect(log).toEqual(["t=5 woke"]);
  });

  it("cancelled after its timer fired but before its task resumed, ends the task cancelled", () => {
    const loop = newLoop();
    const log: string[] = [];
    loop.runSync(
      (function* () {
        const late: { sleeper?: Task<string> } = {};
        // The killer's timer, due at the same time but made first, fires first: its task runs
        // in the next iteration before the sleeper's, whose timer has fired by then.
        const killer = createTask(
          (function* () {
            yield* sleep(5);
            late.sleeper?.cancel("late");
            log.push("cancel sent");
          })(),
        );
        const sleeper = createTask(
          (function* () {
            const value = yield* sleep(5, "woke");
            log.push(`got ${value}`);
            return value;
          })(),
        );
        late.sleeper = sleeper;
        try {
          yield* sleeper;
        } catch (error) {
          log.push(`${error instanceof CancelledError} ${(error as Error).message}`);
        }
        yield* killer;
      })(),
    );
    expect(log).toEqual(["cancel sent", "true late"]);
    expect(loop.time()).toBe(5);
  });

  it("cut short (cancelled, or closed), awaited again, sleeps afresh", () => {
    const loop = newLoop();
    const log = loop.runSync(
      (function* () {
        const log: string[] = [];
        const cancelled = sleep(100, "woke");
        const first = createTask(
          (function* () {
            return yield* cancelled;
          })(),
        );
        yield* sleep(1);
        first.cancel();
        yield* sleep(1);
        const second = createTask(
          (function* () {
            return yield* cancelled;
          })(),
        );
        log.push(`${first.cancelled()} ${yield* second} at t=${loop.time()}`);
        const closed = sleep(10, "again");
        coroStart(closed).close();
        log.push(`${yield* closed} at t=${loop.time()}`);
        return log;
      })(),
    );
    expect(log).toEqual(["true woke at t=102", "again at t=112"]);
  });

  it("cancelled after its timer fired, awaited again, sleeps afresh too", () => {
    const loop = newLoop();
    const log = loop.runSync(
      (function* () {
        const log: string[] = [];
        const slept = sleep(100, "slept");
        const sleeper: { task?: Task<void> } = {};
        // Due with the sleep's timer, and made first: runs after it fired, before its task.
        createTask(
          (function* () {
            yield* sleep(100);
            sleeper.task?.cancel();
          })(),
        );
        sleeper.task = createTask(
          (function* () {
            try {
              yield* slept;
            } catch (error) {
              currentTask()?.uncancel();
              log.push(`${(error as Error).name} at t=${loop.time()}`);
            }
            log.push(`${yield* slept} at t=${loop.time()}`);
          })(),
        );
        yield* sleeper.task;
        return log;
      })(),
    );
    expect(log).toEqual(["CancelledError at t=100", "slept at t=200"]);
  });
});

describe("native await of a Future", () => {
  it("resolves with the result", async () => {
    const f = new Future<number>({ loop: newLoop() });
    f.setResult(9);
    await expect(f).resolves.toBe(9);
    expect(await f.then((v) => v * 2)).toBe(18);
  });

  it("rejects with the exception, which then counts as retrieved", async () => {
    const loop = newLoop();
    const errors: unknown[] = [];
    loop.setExceptionHandler((_l, ctx) => errors.push(ctx.message));
    const f = new Future<number>({ loop });
    const error = new Error("x");
    f.setException(error);
    await expect(f).rejects.toBe(error);
    loop.close();
    expect(errors).toEqual([]);
  });

  it("rejects with CancelledError when cancelled", async () => {
    const f = new Future<number>({ loop: newLoop() });
    f.cancel("gone");
    await expect(f).rejects.toThrow(CancelledError);
    await expect(f).rejects.toThrow("gone");
  });

  it("settles once the loop runs the done-callbacks", async () => {
    const loop = newLoop();
    const f = loop.createFuture<string>();
    const log: string[] = [];
    const awaited = (async () => {
      const v = await f;
      log.push(`native got ${v}`);
    })();
    await loop.runUntilComplete(
      (function* () {
        yield* sleep(5);
        f.setResult("late");
        log.push("set");
      })(),
    );
    await awaited;
    expect(log).toEqual(["set", "native got late"]);
  });

  it("settles when it is done while its loop is not running, which would never run a callback", async () => {
    const loop = newLoop();
    const results = loop.createFuture<number>();
    const failures = loop.createFuture<number>();
    const cancels = loop.createFuture<number>();
    const settled = Promise.allSettled([results, failures, cancels]);
    const error = new Error("x");
    setTimeout(() => {
      results.setResult(42);
      failures.setException(error);
      cancels.cancel("gone");
    }, 1);
    const [result, failure, cancel] = await settled;
    expect(result).toEqual({ status: "fulfilled", value: 42 });
    expect(failure).toEqual({ status: "rejected", reason: error });
    expect(cancel?.status).toBe("rejected");
    expect(((cancel as PromiseRejectedResult).reason as Error).message).toBe("gone");
    // The await retrieved the failure: closing the loop reports nothing.
    const reports: string[] = [];
    loop.setExceptionHandler((_loop, context) => reports.push(context.message));
    loop.close();
    expect(reports).toEqual([]);
  });

  it("onrejected receives the error", async () => {
    const f = new Future({ loop: newLoop() });
    f.setException(new Error("r"));
    expect(await f.then(undefined, (e) => (e as Error).message)).toBe("r");
  });
});

describe("fromPromise", () => {
  it("settles with the promise's value", async () => {
    const result = await run(
      function* () {
        return yield* fromPromise(Promise.resolve("host"));
      },
      { loopFactory: newLoop },
    );
    expect(result).toBe("host");
  });

  it("settles with the promise's rejection", async () => {
    const error = new Error("rejected");
    const result = await run(
      function* () {
        try {
          yield* fromPromise(Promise.reject(error));
        } catch (e) {
          return e;
        }
      },
      { loopFactory: newLoop },
    );
    expect(result).toBe(error);
  });

  it("returns a Future as it is", () => {
    const f = new Future({ loop: newLoop() });
    expect(fromPromise(f)).toBe(f);
  });

  it("rejects what is not a thenable with a TypeError", () => {
    expect(() => fromPromise(42 as never)).toThrow(TypeError);
    expect(() => fromPromise(42 as never)).toThrow(
      /fromPromise\(\) expects promise to be a promise or thenable/,
    );
  });

  it("a cancelled fromPromise future ignores the promise settling later", async () => {
    const loop = newLoop();
    let resolve!: (v: number) => void;
    const promise = new Promise<number>((r) => {
      resolve = r;
    });
    const f = fromPromise(promise, { loop });
    f.cancel();
    resolve(1);
    await promise;
    await Promise.resolve();
    expect(f.cancelled()).toBe(true);
    expect(loop._hostPending).toBe(0);
  });

  it("the task a fromPromise future wakes takes one ready-queue entry, and nothing else is queued", async () => {
    const loop = new SchedulingVirtualEventLoop();
    let resolve!: (v: number) => void;
    const promise = new Promise<number>((r) => {
      resolve = r;
    });
    const lengths: number[] = [];
    const result = await loop.runUntilComplete(function* () {
      const waiter = createTask(
        (function* () {
          return yield* fromPromise(promise);
        })(),
        { name: "waiter" },
      );
      yield* sleep(0); // the waiter waits on the future now
      const tick = fromPromise(Promise.resolve()); // wakes this task first
      resolve(7);
      yield* tick;
      lengths.push(loop.readyLen());
      return yield* waiter;
    });
    loop.close();
    // The waiter's wakeup alone: no entry to end the host wait besides it.
    expect([result, lengths]).toEqual([7, [1]]);
  });

  it("a promise that settles after the loop closed changes nothing", async () => {
    const loop = newLoop();
    let reject!: (e: unknown) => void;
    const promise = new Promise<number>((_r, j) => {
      reject = j;
    });
    const f = fromPromise(promise, { loop });
    loop.close();
    reject(new Error("late"));
    await promise.catch(() => {});
    await Promise.resolve();
    expect(f.done()).toBe(false);
  });
});

describe("futures and tasks together", () => {
  it("many tasks wait on one future and wake in the order they started waiting", () => {
    const loop = newLoop();
    const log: string[] = [];
    const result = loop.runSync(
      (function* () {
        const f = getRunningLoop().createFuture<number>();
        const tasks = [1, 2, 3].map((i) =>
          createTask(
            (function* () {
              const v = yield* f;
              log.push(`t${i}:${v}`);
            })(),
          ),
        );
        yield;
        f.setResult(7);
        for (const t of tasks) yield* t;
        return log.length;
      })(),
    );
    expect(result).toBe(3);
    expect(log).toEqual(["t1:7", "t2:7", "t3:7"]);
  });
});

describe("where yield* hands on result objects of its own (JavaScriptCore: Bun, Safari)", () => {
  /** A coroutine whose steps are copies, as such an engine's `yield*` makes them. */
  function rewrapped<T>(coro: Coro<T>): Coro<T> {
    const copy = (step: IteratorResult<Suspend, T>) => ({ done: step.done, value: step.value });
    const wrapper = {
      next: (value?: unknown) => copy(coro.next(value)),
      throw: (error: unknown) => copy(coro.throw(error)),
      return: (value: T) => copy(coro.return(value)),
      [Symbol.iterator]: () => wrapper,
    };
    return wrapper as unknown as Coro<T>;
  }

  function* waits(): Coro<string> {
    const slept = yield* sleep(5, "slept");
    const future = getRunningLoop().createFuture<string>();
    getRunningLoop().callLater(5, () => future.setResult("set"));
    return `${slept} ${yield* future} at ${getRunningLoop().time()}`;
  }

  it("a wait that reaches its task marked, with no yield* between, is not kept as the last wait: its loop can go", async () => {
    setYieldStarRewraps(true);
    try {
      const gone = collection();
      // In a function of its own: a loop left in the test's registers would stay reachable.
      await (async () => {
        const loop = new VirtualEventLoop();
        gone.watch(loop, "loop");
        await loop.runUntilComplete(sleep(10)); // the task's coroutine is the wait itself
        loop.close();
      })();
      expect(await gone.collected(1)).toEqual(["loop"]);
    } finally {
      setYieldStarRewraps(null);
    }
  });

  it("an eager() start or a CoroStart that suspends keeps its wait for the step that continues it, past the caller's own waits", () => {
    const loop = new VirtualEventLoop();
    setYieldStarRewraps(true);
    try {
      const result = loop.runSync(
        loop.createTask(
          rewrapped(
            (function* () {
              const eagerly = eager(rewrapped(waits())); // its task continues it
              const start = new CoroStart(rewrapped(waits())); // this task continues it
              const future = getRunningLoop().createFuture<string>();
              getRunningLoop().callLater(1, () => future.setResult("own"));
              const own = yield* future;
              const first = new CoroStart(rewrapped(waits())); // continued at once
              return [own, yield* eagerly, yield* start, yield* first];
            })(),
          ),
        ),
      );
      expect(result).toEqual(["own", "slept set at 10", "slept set at 15", "slept set at 20"]);
    } finally {
      setYieldStarRewraps(null);
    }
  });

  it("a wait's future is known as the last one a wait handed out, and a bare yield of one is still refused", () => {
    const loop = new VirtualEventLoop();
    // V8 passes steps on as they are: a copied step is not a wait there.
    expect(() => loop.runSync(loop.createTask(rewrapped(waits())))).toThrow(/got bad yield/);
    setYieldStarRewraps(true);
    try {
      expect(loop.runSync(loop.createTask(rewrapped(waits())))).toBe("slept set at 10");
      function* bare(): Coro<void> {
        const future = getRunningLoop().createFuture();
        yield future as never; // the star left out
      }
      expect(() => loop.runSync(loop.createTask(rewrapped(bare())))).toThrow(
        /`yield future` was used instead of `yield\* future`/,
      );
    } finally {
      setYieldStarRewraps(null);
    }
  });
});
