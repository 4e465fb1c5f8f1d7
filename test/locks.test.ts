/**
 * Lock, Event, Condition, Semaphore, BoundedSemaphore and Barrier: ports of
 * CPython's test_locks.py on the virtual loop, with exact event orders, and
 * the cancellation races (a waiter cancelled between its wakeup and its
 * resumption) forced deterministically through the ready queue.
 */
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import {
  Barrier,
  BoundedSemaphore,
  BrokenBarrierError,
  CancelledError,
  Condition,
  type Coro,
  coroStart,
  createTask,
  currentTask,
  Event,
  type Future,
  gather,
  getRunningLoop,
  Lock,
  Semaphore,
  type Suspend,
  sleep,
  type Task,
  TimeoutError,
  timeout,
  VirtualEventLoop,
} from "../src/index.js";
import { provideDisposeSymbols } from "../src/util/dispose.js";
import { catching, runV } from "./helpers.js";

/** Expects the coroutine to raise CancelledError; returns nothing. */
function* expectCancelled(task: Task<unknown>): Coro<void> {
  try {
    yield* task;
  } catch (error) {
    expect(error).toBeInstanceOf(CancelledError);
    return;
  }
  throw new Error("expected CancelledError");
}

describe("Lock", () => {
  it("acquires at once when free; locked() and toString() show the state", () => {
    runV(function* () {
      const lock = new Lock();
      expect(lock.locked()).toBe(false);
      expect(String(lock)).toBe("<Lock [unlocked]>");
      expect(yield* lock.acquire()).toBe(true);
      expect(lock.locked()).toBe(true);
      const waiter = createTask(lock.acquire());
      yield* sleep(0);
      expect(String(lock)).toBe("<Lock [locked, waiters:1]>");
      lock.release();
      yield* waiter;
      expect(lock.locked()).toBe(true);
      lock.release();
    });
  });

  it("wakes waiters first in, first out (test_acquire)", () => {
    const log = runV(function* () {
      const lock = new Lock();
      const log: string[] = [];
      yield* lock.acquire();
      function* worker(name: string): Coro<void> {
        yield* lock.acquire();
        log.push(name);
      }
      const tasks = ["a", "b", "c"].map((n) => createTask(worker(n)));
      yield* sleep(0);
      expect(log).toEqual([]);
      for (let i = 0; i < 3; i++) {
        lock.release();
        yield* sleep(0);
        log.push(`released ${i}`);
      }
      yield* gather(...tasks);
      return log;
    });
    expect(log).toEqual(["a", "released 0", "b", "released 1", "c", "released 2"]);
  });

  it("a waiter cancelled while waiting never holds the lock (test_acquire_cancel)", () => {
    runV(function* () {
      const lock = new Lock();
      yield* lock.acquire();
      const task = createTask(lock.acquire());
      yield* sleep(0);
      task.cancel();
      yield* expectCancelled(task);
      expect(lock._waiters?.length).toBe(0);
      lock.release();
      expect(lock.locked()).toBe(false);
    });
  });

  it("release() wakes the next waiter when the first was cancelled at the same time (test_cancel_race)", () => {
    const log = runV(function* () {
      const lock = new Lock();
      const log: string[] = [];
      function* lockit(name: string, blocker: Coro<void> | null): Coro<void> {
        yield* lock.acquire();
        log.push(`${name} acquired`);
        try {
          if (blocker !== null) yield* blocker;
        } finally {
          lock.release();
          log.push(`${name} released`);
        }
      }
      const fa = getRunningLoop().createFuture<void>();
      const ta = createTask(lockit("A", fa[Symbol.iterator]()));
      yield* sleep(0);
      const tb = createTask(lockit("B", null));
      yield* sleep(0);
      const tc = createTask(lockit("C", null));
      yield* sleep(0);
      expect(lock._waiters?.length).toBe(2);
      fa.setResult();
      tb.cancel();
      expect(lock._waiters?.get(0).cancelled()).toBe(true);
      yield* sleep(0);
      expect(ta.done()).toBe(true);
      expect(tb.cancelled()).toBe(true);
      yield* tc;
      return log;
    });
    expect(log).toEqual(["A acquired", "A released", "C acquired", "C released"]);
  });

  it("cancel and release in one callback let exactly one waiter in (test_cancel_release_race)", () => {
    runV(function* () {
      const loop = getRunningLoop();
      const lock = new Lock();
      let lockCount = 0;
      let callCount = 0;
      function* lockit(): Coro<void> {
        callCount++;
        yield* lock.acquire();
        lockCount++;
      }
      yield* lock.acquire();
      const t1 = createTask(lockit());
      const t2 = createTask(lockit());
      const t3 = createTask(lockit());
      yield* sleep(0);
      loop.callSoon(() => {
        t1.cancel();
        lock.release();
      });
      yield* expectCancelled(t1);
      expect(lockCount).toBe(1);
      expect(callCount).toBe(3);
      expect(t1.cancelled() && t2.done()).toBe(true);
      t3.cancel();
      yield* sleep(0);
      expect(t3.cancelled()).toBe(true);
    });
  });

  it("a waiter cancelled after its wakeup, before it resumes, passes the lock on (test_finished_waiter_cancelled)", () => {
    const log = runV(function* () {
      const lock = new Lock();
      const log: string[] = [];
      yield* lock.acquire();
      const tb = createTask(lock.acquire());
      yield* sleep(0);
      const tc = createTask(
        (function* () {
          yield* lock.acquire();
          log.push("c acquired");
        })(),
      );
      // Wake B (its future gets its result), then cancel B before it runs.
      lock.release();
      log.push(`b woken: ${lock._waiters?.get(0).done()}`);
      tb.cancel();
      yield* sleep(0);
      log.push(`b cancelled: ${tb.cancelled()}, locked: ${lock.locked()}`);
      yield* tc;
      return log;
    });
    expect(log).toEqual(["b woken: true", "b cancelled: true, locked: false", "c acquired"]);
  });

  it("a waiter cancelled from a callback queued right after its wakeup does not keep the lock", () => {
    runV(function* () {
      const loop = getRunningLoop();
      const lock = new Lock();
      yield* lock.acquire();
      const tb = createTask(lock.acquire());
      const tc = createTask(lock.acquire());
      yield* sleep(0);
      lock.release(); // B's wakeup is now in the ready queue
      loop.callSoon(() => tb.cancel());
      loop._ready.unshift(loop._ready.pop() as never); // the cancel runs first, B resumes second
      yield* expectCancelled(tb);
      yield* tc;
      expect(lock.locked()).toBe(true);
      expect(lock._waiters?.length).toBe(0);
    });
  });

  it("a new acquirer does not barge ahead of a woken waiter (FIFO)", () => {
    const log = runV(function* () {
      const lock = new Lock();
      const log: string[] = [];
      yield* lock.acquire();
      const tb = createTask(
        (function* () {
          yield* lock.acquire();
          log.push("b");
          lock.release();
        })(),
      );
      yield* sleep(0);
      lock.release();
      // B is woken but has not run: a newcomer must queue behind it.
      expect(lock.locked()).toBe(false);
      const tc = createTask(
        (function* () {
          yield* lock.acquire();
          log.push("c");
          lock.release();
        })(),
      );
      yield* gather(tb, tc);
      return log;
    });
    expect(log).toEqual(["b", "c"]);
  });

  it("release() of an unlocked lock is an error (test_release_not_acquired)", () => {
    expect(() => new Lock().release()).toThrow(/Lock is not acquired/);
  });

  it("any task may release it, as asyncio's; the holder's own release then fails naming who did", () => {
    const failed = runV(function* () {
      const lock = new Lock();
      const holder = createTask(
        function* () {
          yield* lock.acquire();
          yield* sleep(10);
          lock.release();
        },
        { name: "holder" },
      );
      createTask(
        function* () {
          yield* sleep(1);
          lock.release(); // not the holder: allowed
        },
        { name: "meddler" },
      );
      return yield* catching(holder);
    });
    expect((failed as Error).message).toBe(
      'Lock is not acquired: release() must match a completed acquire(), `await lock.acquire()` in an async function or `yield* lock.acquire()` in a coroutine (called without either, it never runs); or hold the lock for a block: `using _ = await lock.hold()` (`yield* lock.hold()`). It was released last by Task "meddler", while Task "holder" held it.',
    );
  });

  it("hold() releases on every exit path of a using block", () => {
    runV(function* () {
      const lock = new Lock();
      {
        using _ = yield* lock.hold();
        expect(lock.locked()).toBe(true);
      }
      expect(lock.locked()).toBe(false);
      function* failing(): Coro<void> {
        using _ = yield* lock.hold();
        throw new Error("inside");
      }
      expect(((yield* catching(failing())) as Error).message).toBe("inside");
      expect(lock.locked()).toBe(false);
      const held = yield* lock.hold();
      held[Symbol.dispose]();
      held[Symbol.dispose](); // a second dispose does nothing
      expect(lock.locked()).toBe(false);
    });
  });

  it("a hold() awaited again acquires nothing and gives undefined, as a finished generator does", async () => {
    runV(function* () {
      const lock = new Lock();
      const hold = lock.hold();
      const held = yield* hold;
      expect(yield* hold).toBeUndefined();
      held[Symbol.dispose]();
      expect(lock.locked()).toBe(false);
    });
    await new VirtualEventLoop().runUntilComplete(async () => {
      const lock = new Lock();
      const hold = lock.hold();
      const held = await hold;
      expect(await hold).toBeUndefined();
      held[Symbol.dispose]();
      expect(lock.locked()).toBe(false);
    });
  });

  it("a hold() cancelled while it waits, awaited again, waits for the lock afresh", async () => {
    // The retry must not pass the lock by: c asks for it while b holds it, and waits.
    function* scenario(
      retrying: (lock: Lock, log: string[]) => Coro<void> | (() => Promise<void>),
    ): Coro<string[]> {
      const lock = new Lock();
      const log: string[] = [];
      yield* lock.acquire();
      const b = createTask(retrying(lock, log));
      const c = createTask(
        (function* () {
          yield* sleep(2);
          yield* lock.acquire();
          log.push("c: holds the lock");
          lock.release();
        })(),
      );
      yield* sleep(0);
      b.cancel();
      yield* sleep(0);
      lock.release();
      yield* b;
      yield* c;
      expect(lock.locked()).toBe(false);
      return log;
    }
    const cancelled = (log: string[], error: unknown) => {
      currentTask()?.uncancel();
      log.push(`b: ${(error as Error).name}`);
    };
    function* generatorRetry(lock: Lock, log: string[]): Coro<void> {
      const hold = lock.hold();
      try {
        yield* hold;
      } catch (error) {
        cancelled(log, error);
      }
      const held = yield* hold;
      log.push("b: holds the lock");
      yield* sleep(10);
      log.push("b: lets go");
      held[Symbol.dispose]();
    }
    const nativeRetry = (lock: Lock, log: string[]) => async () => {
      const hold = lock.hold();
      try {
        await hold;
      } catch (error) {
        cancelled(log, error);
      }
      const held = await hold;
      log.push("b: holds the lock");
      await sleep(10);
      log.push("b: lets go");
      held[Symbol.dispose]();
    };
    const expected = ["b: CancelledError", "b: holds the lock", "b: lets go", "c: holds the lock"];
    const loop = new VirtualEventLoop();
    expect(await loop.runUntilComplete(scenario(generatorRetry))).toEqual(expected);
    expect(await loop.runUntilComplete(scenario(nativeRetry))).toEqual(expected);
  });

  it("a hold() let go of before it acquired (its coroutine closed), awaited again, acquires", () => {
    runV(function* () {
      const lock = new Lock();
      yield* lock.acquire();
      const hold = lock.hold();
      const waiting = (function* () {
        return yield* hold;
      })();
      waiting.next(); // waits for the lock ...
      waiting.return(undefined as never); // ... and is closed
      lock.release();
      const held = yield* hold;
      expect(lock.locked()).toBe(true);
      held[Symbol.dispose]();
      expect(lock.locked()).toBe(false);
    });
  });

  it("an Event.wait() awaited again waits afresh: after it was woken, and after it was cancelled", async () => {
    await new VirtualEventLoop().runUntilComplete(function* () {
      const loop = getRunningLoop();
      const event = new Event();
      const wait = event.wait();
      loop.callLater(1, () => event.set());
      expect(yield* wait).toBe(true);
      event.clear();
      loop.callLater(50, () => event.set());
      expect(yield* wait).toBe(true);
      expect(loop.time()).toBe(51);
      event.clear();
      const first = createTask(
        (function* () {
          return yield* wait;
        })(),
      );
      yield* sleep(0);
      first.cancel();
      yield* expectCancelled(first);
      const second = createTask(async () => await wait);
      yield* sleep(5);
      expect(second.done()).toBe(false);
      event.set();
      expect(yield* second).toBe(true);
    });
  });

  it("a hold() or an Event.wait() awaited by a second task while the first waits fails there alone", () => {
    runV(function* () {
      const lock = new Lock();
      const event = new Event();
      yield* lock.acquire();
      const hold = lock.hold();
      const wait = event.wait();
      const awaiting = (call: Iterable<Suspend, unknown, unknown>) =>
        [0, 1].map(() =>
          createTask(
            (function* () {
              return yield* call;
            })(),
          ),
        );
      const [holder, late] = awaiting(hold);
      const [waiter, alsoLate] = awaiting(wait);
      yield* sleep(1);
      lock.release();
      event.set();
      const held = (yield* holder!) as Disposable;
      expect([lock.locked(), yield* waiter!]).toEqual([true, true]);
      held[Symbol.dispose]();
      expect([
        ((yield* catching(late!)) as Error).message,
        ((yield* catching(alsoLate!)) as Error).message,
      ]).toEqual([
        expect.stringMatching(/^lock\.hold\(\) is awaited already, by another task/),
        expect.stringMatching(/^Event\.wait\(\) is awaited already, by another task/),
      ]);
    });
  });

  it("a hold() awaited by a second task between the first's wakeup and its resumption fails there: one holder", () => {
    runV(function* () {
      const lock = new Lock();
      yield* lock.acquire();
      const hold = lock.hold();
      const inside: string[] = [];
      const enter = (name: string) =>
        createTask(
          (function* () {
            using _ = yield* hold;
            inside.push(`${name} in`);
            yield* sleep(1);
            inside.push(`${name} out`);
          })(),
        );
      const first = enter("first");
      yield* sleep(0); // first waits
      const second = enter("second");
      lock.release(); // wakes first, queued behind second
      expect(((yield* catching(second)) as Error).message).toMatch(
        /^lock\.hold\(\) is awaited already/,
      );
      yield* first;
      expect([inside, lock.locked()]).toEqual([["first in", "first out"], false]);
    });
  });

  it("refuses to be used from a second event loop", () => {
    const lock = new Lock();
    new VirtualEventLoop().runSync(
      (function* () {
        yield* lock.acquire();
        const t = createTask(lock.acquire());
        yield* sleep(0);
        lock.release();
        yield* t;
        lock.release();
      })(),
    );
    new VirtualEventLoop().runSync(
      (function* () {
        yield* lock.acquire(); // free: no loop needed
        expect(() => lock.acquire().next()).toThrow(/bound to a different event loop/);
        lock.release();
      })(),
    );
  });
});

describe("Event", () => {
  it("wakes every waiter in order; wait() on a set event returns at once (test_wait)", () => {
    const log = runV(function* () {
      const ev = new Event();
      const log: string[] = [];
      expect(String(ev)).toBe("<Event [unset]>");
      const tasks = [1, 2, 3].map((n) =>
        createTask(
          (function* () {
            if (yield* ev.wait()) log.push(`c${n}`);
          })(),
        ),
      );
      yield* sleep(0);
      expect(String(ev)).toBe("<Event [unset, waiters:3]>");
      log.push("set");
      ev.set();
      yield* gather(...tasks);
      expect(yield* ev.wait()).toBe(true);
      expect(ev._waiters.length).toBe(0);
      return log;
    });
    expect(log).toEqual(["set", "c1", "c2", "c3"]);
  });

  it("set() then clear() still wakes the waiters already there (test_clear_with_waiters)", () => {
    runV(function* () {
      const ev = new Event();
      const result: number[] = [];
      const t = createTask(
        (function* () {
          if (yield* ev.wait()) result.push(1);
        })(),
      );
      yield* sleep(0);
      ev.set();
      ev.clear();
      expect(ev.isSet()).toBe(false);
      ev.set();
      ev.set();
      expect(ev._waiters.length).toBe(1);
      yield* sleep(0);
      expect(result).toEqual([1]);
      expect(ev._waiters.length).toBe(0);
      yield* t;
    });
  });

  it("a wait() closed early (generator return) stops waiting", () => {
    runV(function* () {
      yield* sleep(0);
      const ev = new Event();
      const waiting = ev.wait();
      expect(waiting.next().done).toBe(false);
      expect(ev._waiters.length).toBe(1);
      expect(waiting.return(true)).toEqual({ done: true, value: true });
      expect(ev._waiters.length).toBe(0);
      ev.set();
      expect(ev.wait().next()).toEqual({ done: true, value: true });
    });
  });

  it("a cancelled waiter leaves no trace (test_wait_cancel)", () => {
    runV(function* () {
      const ev = new Event();
      const t = createTask(ev.wait());
      yield* sleep(0);
      t.cancel();
      yield* expectCancelled(t);
      expect(ev._waiters.length).toBe(0);
    });
  });
});

describe("Condition", () => {
  it("notify(n) wakes n waiters, each re-acquiring the lock in turn (test_wait)", () => {
    const log = runV(function* () {
      const cond = new Condition();
      const log: string[] = [];
      function* waiter(n: number): Coro<void> {
        yield* cond.acquire();
        if (yield* cond.wait()) log.push(`c${n}`);
        cond.release();
      }
      const tasks = [1, 2, 3].map((n) => createTask(waiter(n)));
      yield* sleep(0);
      expect(cond.locked()).toBe(false);
      yield* cond.acquire();
      cond.notify();
      cond.release();
      yield* sleep(0);
      log.push("after notify(1)");
      yield* cond.acquire();
      cond.notify(2);
      cond.release();
      yield* gather(...tasks);
      return log;
    });
    expect(log).toEqual(["c1", "after notify(1)", "c2", "c3"]);
  });

  it("wait() and notify() need the lock (test_wait_unacquired, test_notify_unacquired)", () => {
    runV(function* () {
      const cond = new Condition();
      expect(() => cond.wait().next()).toThrow(/un-acquired lock/);
      expect(() => cond.notify()).toThrow(/un-acquired lock/);
      expect(() => cond.notifyAll()).toThrow(/un-acquired lock/);
    });
  });

  it("a cancelled wait() re-acquires the lock before it raises (test_wait_cancel_contested)", () => {
    runV(function* () {
      const cond = new Condition();
      yield* cond.acquire();
      const waitTask = createTask(
        (function* () {
          yield* cond.acquire();
          yield* cond.wait();
        })(),
      );
      cond.release();
      yield* sleep(0);
      yield* cond.acquire(); // the waiter waits on the condition: we hold the lock
      waitTask.cancel();
      yield* sleep(0);
      expect(waitTask.done()).toBe(false); // it needs the lock to finish
      cond.release();
      yield* expectCancelled(waitTask);
      expect(cond.locked()).toBe(true); // the cancelled waiter holds it again
    });
  });

  it("a waiter cancelled as it is notified does not lose the notification (test_cancelled_wakeup)", () => {
    const state = runV(function* () {
      const cond = new Condition();
      let state = 0;
      function* consumer(): Coro<void> {
        using _ = yield* cond.hold();
        for (;;) {
          yield* cond.waitFor(() => state !== 0);
          if (state < 0) return;
          state--;
        }
      }
      const c = [createTask(consumer()), createTask(consumer())];
      yield* sleep(0);
      {
        using _ = yield* cond.hold();
        state++;
        cond.notify(1);
        c[0]?.cancel(); // notified, then cancelled before it runs
        try {
          yield* timeout(10, function* () {
            yield* cond.waitFor(() => state === 0);
          });
        } catch (error) {
          if (!(error instanceof TimeoutError)) throw error;
        }
        expect(state).toBe(0); // the other consumer took the item
        state = -1;
        cond.notifyAll();
      }
      yield* c[1] as Task<void>;
      return state;
    });
    expect(state).toBe(-1);
  });

  it("a waiter cancelled before any notify passes nothing on: the others are not woken for nothing", () => {
    const log = runV(function* () {
      const cond = new Condition();
      const log: string[] = [];
      const waiter = (name: string) =>
        createTask(
          (function* () {
            using _ = yield* cond.hold();
            try {
              yield* cond.wait();
              log.push(`${name} woken`);
            } catch (error) {
              log.push(`${name}: ${(error as Error).name}`);
            }
          })(),
        );
      const [a, b] = [waiter("a"), waiter("b")];
      yield* sleep(0);
      a.cancel();
      yield* sleep(1);
      log.push(`b still waits: ${!b.done()}`);
      {
        using _ = yield* cond.hold();
        cond.notify(1);
      }
      yield* b;
      return log;
    });
    expect(log).toEqual(["a: CancelledError", "b still waits: true", "b woken"]);
  });

  it("waitFor() refuses an async or function* predicate, whose answer is always truthy", () => {
    const outcome = runV(function* () {
      const cond = new Condition();
      using _ = yield* cond.hold();
      async function ready(): Promise<boolean> {
        return false;
      }
      function* check(): Coro<boolean> {
        yield* sleep(0);
        return false;
      }
      const refused = [ready, check].map((predicate) => {
        try {
          cond.waitFor(predicate as unknown as () => boolean);
          return "accepted";
        } catch (error) {
          return `${(error as Error).name}: ${(error as Error).message}`;
        }
      });
      // A plain predicate may answer with a future or a task it found: that is its value.
      const jobs = new Map<string, Future<number>>([["a", getRunningLoop().createFuture()]]);
      const found = yield* cond.waitFor(() => jobs.get("a"));
      return [refused, found === jobs.get("a")];
    });
    expect(outcome).toEqual([
      [
        "TypeError: condition.waitFor() expects predicate to be a plain function, got function ready: it is called synchronously, and what an async function or a function* returns is always truthy: pass a function that says whether to stop waiting, e.g. () => items.length > 0.",
        "TypeError: condition.waitFor() expects predicate to be a plain function, got generator function check: it is called synchronously, and what an async function or a function* returns is always truthy: pass a function that says whether to stop waiting, e.g. () => items.length > 0.",
      ],
      true,
    ]);
  });

  it("waitFor() returns the predicate's value once it holds", () => {
    const log = runV(function* () {
      const cond = new Condition();
      let presses = 0;
      const log: string[] = [];
      const t = createTask(
        (function* () {
          using _ = yield* cond.hold();
          const value = yield* cond.waitFor(() => (presses >= 2 ? `pressed ${presses}` : ""));
          log.push(value);
        })(),
      );
      for (let i = 0; i < 3; i++) {
        yield* sleep(0);
        using _ = yield* cond.hold();
        presses++;
        log.push(`press ${presses}`);
        cond.notifyAll();
      }
      yield* t;
      return log;
    });
    expect(log).toEqual(["press 1", "press 2", "pressed 2", "press 3"]);
  });

  it("shares a given lock", () => {
    runV(function* () {
      const lock = new Lock();
      const cond = new Condition(lock);
      yield* lock.acquire();
      expect(cond.locked()).toBe(true);
      expect(String(cond)).toBe("<Condition [locked]>");
      cond.release();
      expect(lock.locked()).toBe(false);
    });
  });
});

describe("Condition.wait() closed with return() (asyncio: close() of the coroutine)", () => {
  it("takes the lock back: at once when it is free", () => {
    runV(function* () {
      const cond = new Condition();
      yield* cond.acquire();
      coroStart(cond.wait()).close();
      expect(cond.locked()).toBe(true);
      cond.release();
      const barrier = new Barrier(2);
      coroStart(barrier.wait()).close(); // its condition's lock is free: nothing to wait for
      expect(String(barrier)).toBe("<Barrier [filling, waiters:0/2]>");
    });
  });

  it("and once its holder lets it go, for aclose() (a close() that must wait is an error)", () => {
    const log = runV(function* () {
      const cond = new Condition();
      const log: string[] = [];
      function* waitWithin(): Coro<void> {
        yield* cond.acquire();
        try {
          yield* cond.wait();
        } finally {
          log.push(`leaves, the lock held: ${cond.locked()}`);
          cond.release();
        }
      }
      const mustWait = coroStart(
        (function* () {
          yield* cond.acquire();
          yield* cond.wait();
        })(),
      );
      const waiting = coroStart(waitWithin());
      const holder = createTask(
        (function* () {
          yield* cond.acquire();
          yield* sleep(10);
          log.push("holder lets go");
          cond.release();
        })(),
      );
      yield* sleep(1); // the holder has the lock now
      expect(() => mustWait.close()).toThrow(/suspended in a finally block/);
      expect(cond.locked()).toBe(true); // still the holder's
      yield* waiting.aclose();
      log.push(`aclose() done at ${getRunningLoop().time()}`);
      yield* holder;
      expect(cond.locked()).toBe(false);
      return log;
    });
    expect(log).toEqual(["holder lets go", "leaves, the lock held: true", "aclose() done at 10"]);
  });

  it("a notified wait closed before it resumes passes the notification on", () => {
    const second = runV(function* () {
      const cond = new Condition();
      yield* cond.acquire();
      const first = coroStart(cond.wait());
      const second = createTask(
        (function* () {
          yield* cond.acquire();
          try {
            yield* cond.wait();
            return "notified";
          } finally {
            cond.release();
          }
        })(),
      );
      yield* sleep(1);
      yield* cond.acquire();
      cond.notify(1); // wakes the first in line
      cond.release();
      first.close();
      cond.release(); // the first's lock, taken back
      return yield* second;
    });
    expect(second).toBe("notified");
  });
});

describe("Semaphore", () => {
  it("waiters that leave from either end or the middle leave the rest served in order", () => {
    const served = runV(function* () {
      const sem = new Semaphore(0);
      const served: number[] = [];
      function* waiter(n: number): Coro<void> {
        yield* sem.acquire();
        served.push(n);
      }
      const tasks = Array.from({ length: 10 }, (_, n) => createTask(waiter(n)));
      yield* sleep(0);
      for (const n of [9, 8, 0, 5, 1, 7]) (tasks[n] as Task<void>).cancel(); // back, front, middle
      yield* sleep(0);
      expect(String(sem)).toBe("<Semaphore [locked, waiters:4]>");
      for (let i = 0; i < 4; i++) sem.release();
      yield* sleep(0);
      return served;
    });
    expect(served).toEqual([2, 3, 4, 6]);
  });

  it("counts, and serves waiters FIFO (test_acquire)", () => {
    const log = runV(function* () {
      const sem = new Semaphore(3);
      const log: string[] = [];
      expect(String(sem)).toBe("<Semaphore [unlocked, value:3]>");
      expect(yield* sem.acquire()).toBe(true);
      expect(yield* sem.acquire()).toBe(true);
      expect(sem.locked()).toBe(false);
      function* c(n: number): Coro<void> {
        yield* sem.acquire();
        log.push(`c${n}`);
      }
      const tasks = [1, 2, 3, 4].map((n) => createTask(c(n)));
      yield* sleep(0);
      expect(log).toEqual(["c1"]);
      expect(sem.locked()).toBe(true);
      expect(String(sem)).toBe("<Semaphore [locked, waiters:3]>");
      sem.release();
      sem.release();
      yield* sleep(0);
      log.push("released 2");
      sem.release();
      yield* gather(...tasks);
      return log;
    });
    expect(log).toEqual(["c1", "c2", "c3", "released 2", "c4"]);
  });

  it("a waiter cancelled before it is woken does not take a slot (test_acquire_cancel_before_awoken)", () => {
    runV(function* () {
      const sem = new Semaphore(0);
      const [t1, t2, t3, t4] = [1, 2, 3, 4].map(() => createTask(sem.acquire())) as Task<true>[];
      yield* sleep(0);
      t1?.cancel();
      t2?.cancel();
      sem.release();
      yield* sleep(0);
      yield* sleep(0);
      expect(t3?.done()).toBe(true);
      expect(t4?.done()).toBe(false);
      t4?.cancel();
      yield* sleep(0);
    });
  });

  it("a waiter cancelled after its wakeup gives the slot to the next (test_acquire_hang)", () => {
    runV(function* () {
      const sem = new Semaphore(0);
      const t1 = createTask(sem.acquire());
      const t2 = createTask(sem.acquire());
      yield* sleep(0);
      sem.release(); // wakes t1…
      t1.cancel(); // …which is cancelled before it runs
      yield* sleep(0);
      yield* sleep(0);
      expect(t1.cancelled()).toBe(true);
      expect(t2.done()).toBe(true);
      expect(sem.locked()).toBe(true);
      expect(sem._value).toBe(0);
    });
  });

  it("a task cancelled while it waits to enter does not hang the others (test_acquire_no_hang)", () => {
    runV(function* () {
      const sem = new Semaphore(1);
      const later: { t2: Task<void> | null } = { t2: null };
      const t1 = createTask(
        (function* () {
          using _ = yield* sem.hold();
          yield* sleep(0);
          later.t2?.cancel();
        })(),
      );
      const t2 = createTask(
        (function* () {
          using _ = yield* sem.hold();
          throw new Error("never gets in");
        })(),
      );
      later.t2 = t2;
      const [r1, r2] = yield* gather([t1, t2], { returnExceptions: true });
      expect(r1).toBeUndefined();
      expect(r2).toBeInstanceOf(CancelledError);
      yield* timeout(1000, () => sem.acquire());
    });
  });

  it("rejects a negative value; BoundedSemaphore refuses an extra release", () => {
    expect(() => new Semaphore(-1)).toThrow(RangeError);
    runV(function* () {
      const sem = new BoundedSemaphore(1);
      expect(() => sem.release()).toThrow(/released too many times/);
      yield* sem.acquire();
      sem.release();
      expect(() => sem.release()).toThrow(RangeError);
      const plain = new Semaphore(1);
      plain.release(); // an unbounded one just counts up
      expect(plain._value).toBe(2);
    });
  });
});

describe("Barrier", () => {
  it("releases all parties together, with their arrival index", () => {
    const log = runV(function* () {
      const barrier = new Barrier(3);
      const log: string[] = [];
      expect(() => new Barrier(0)).toThrow(RangeError);
      function* party(name: string): Coro<void> {
        log.push(`${name} arrives`);
        const index = yield* barrier.wait();
        log.push(`${name} passes as ${index}`);
      }
      const tasks = ["a", "b"].map((n) => createTask(party(n)));
      yield* sleep(0);
      expect(barrier.nWaiting).toBe(2);
      expect(barrier.parties).toBe(3);
      yield* party("c");
      yield* gather(...tasks);
      expect(barrier.nWaiting).toBe(0);
      // and it is reusable
      const again = [createTask(barrier.wait()), createTask(barrier.wait())];
      expect(yield* barrier.wait()).toBe(0); // this task arrives before the new ones start
      expect(yield* gather(...again)).toEqual([1, 2]);
      return log;
    });
    expect(log).toEqual([
      "a arrives",
      "b arrives",
      "c arrives",
      "c passes as 2",
      "a passes as 0",
      "b passes as 1",
    ]);
  });

  it("abort() breaks current and later waits; reset() mends it", () => {
    runV(function* () {
      const barrier = new Barrier(2);
      const waiting = createTask(barrier.wait());
      yield* sleep(0);
      yield* barrier.abort();
      expect(barrier.broken).toBe(true);
      expect(yield* catching(waiting)).toBeInstanceOf(BrokenBarrierError);
      expect(yield* catching(barrier.wait())).toBeInstanceOf(BrokenBarrierError);
      yield* barrier.reset();
      expect(barrier.broken).toBe(false);
      const other = createTask(barrier.wait());
      expect(yield* barrier.wait()).toBe(0);
      expect(yield* other).toBe(1);
    });
  });

  it("reset() while tasks wait breaks their wait", () => {
    runV(function* () {
      const barrier = new Barrier(3);
      const waiting = [createTask(barrier.wait()), createTask(barrier.wait())];
      yield* sleep(0);
      yield* barrier.reset();
      for (const t of waiting) expect(yield* catching(t)).toBeInstanceOf(BrokenBarrierError);
      expect(barrier.broken).toBe(false);
      expect(barrier.nWaiting).toBe(0);
    });
  });

  it("a cancelled party leaves the count right", () => {
    runV(function* () {
      const barrier = new Barrier(2);
      const t = createTask(barrier.wait());
      yield* sleep(0);
      expect(barrier.nWaiting).toBe(1);
      t.cancel();
      yield* expectCancelled(t);
      expect(barrier.nWaiting).toBe(0);
      const other = createTask(barrier.wait());
      expect(yield* barrier.wait()).toBe(0);
      expect(yield* other).toBe(1);
    });
  });
});

describe("Symbol.dispose in a realm without it (a vm context, where jest 29 runs test files)", () => {
  it("is given Node's, so that the realm's `using` and asynkit's disposables agree", () => {
    const realm = runInNewContext("Symbol") as SymbolConstructor;
    expect(typeof realm.dispose).toBe("undefined");
    provideDisposeSymbols(realm);
    expect(realm.dispose).toBe(Symbol.for("nodejs.dispose"));
    expect(realm.asyncDispose).toBe(Symbol.for("nodejs.asyncDispose"));
    // Node's own realm has the same ones, which asynkit's classes are keyed by.
    expect(Symbol.dispose).toBe(realm.dispose);
    expect(typeof (Lock.prototype as unknown as Record<symbol, unknown>)[realm.dispose]).toBe(
      "undefined", // a Lock is not itself disposable: what hold() gives is
    );
    const loop = new VirtualEventLoop();
    const held = loop.runSync(
      (function* () {
        return yield* new Lock().hold();
      })(),
    );
    expect(typeof (held as unknown as Record<symbol, unknown>)[realm.dispose]).toBe("function");
  });
});
