/**
 * gather, wait, waitFor, shield, asCompleted: ports of the corresponding parts
 * of CPython's test_tasks.py, on the virtual loop with exact event orders.
 */
import { describe, expect, expectTypeOf, it, vi } from "vitest";
import {
  asCompleted,
  awaitSync,
  CancelledError,
  type Coro,
  createTask,
  currentTask,
  eagerTaskFactory,
  ensureFuture,
  type Future,
  gather,
  getRunningLoop,
  run,
  type Suspend,
  shield,
  sleep,
  Task,
  TimeoutError,
  timeout,
  VirtualEventLoop,
  wait,
  waitFor,
} from "../src/index.js";
import { catching, collection, failAfter, runV } from "./helpers.js";

describe("gather", () => {
  it("returns the results in argument order, typed as a tuple (test_gather)", () => {
    const result = runV(function* () {
      const loop = getRunningLoop();
      const fut = loop.createFuture<boolean>();
      loop.callLater(5, () => fut.setResult(true));
      const r = yield* gather(sleep(30, "slow"), sleep(10, 42), fut);
      expectTypeOf(r).toEqualTypeOf<[string, number, boolean]>();
      return [r, loop.time()];
    });
    expect(result).toEqual([["slow", 42, true], 30]);
  });

  it("cancelled twice, raises the CancelledError its cancelled child gave it, not the later request's (as asyncio)", () => {
    const seen = runV(function* () {
      // biome-ignore lint/correctness/useYield: a child done at its first step
      function* quick(): Coro<string> {
        return "done";
      }
      const gathering = createTask(function* () {
        currentTask()?.cancel("first"); // passed on to gather()'s child when it waits
        try {
          yield* gather(quick());
          return "no error";
        } catch (error) {
          return `${(error as Error).name} ${(error as CancelledError).message}`;
        }
      });
      const canceller = createTask(function* () {
        yield* sleep(0); // the child is cancelled now, gather()'s callback not yet run
        gathering.cancel("second");
      });
      yield* canceller;
      return yield* gathering;
    });
    expect(seen).toBe("CancelledError first");
  });

  it("of nothing is an empty list; the same awaitable twice runs once", () => {
    runV(function* () {
      expect(yield* gather()).toEqual([]);
      let runs = 0;
      const loop = getRunningLoop();
      const fut = loop.createFuture<string>();
      const counted = createTask(
        (function* () {
          runs++;
          return yield* sleep(1, "once");
        })(),
      );
      loop.callSoon(() => fut.setResult("f"));
      expect(yield* gather(counted, fut, counted, fut)).toEqual(["once", "f", "once", "f"]);
      expect(runs).toBe(1);
    });
  });

  it("raises the first failure at once; the others keep running (test_one_exception)", () => {
    const log = runV(function* () {
      const log: string[] = [];
      const loop = getRunningLoop();
      const slow = createTask(sleep(50, "slow done"));
      const error = yield* catching(gather(sleep(10), failAfter(20, "boom"), slow));
      log.push(`${(error as Error).message} at ${loop.time()}`);
      log.push(`${yield* slow} at ${loop.time()}`);
      return log;
    });
    expect(log).toEqual(["boom at 20", "slow done at 50"]);
  });

  it("with returnExceptions puts errors and cancellations in the results (test_return_exceptions)", () => {
    const [results, childsOwn] = runV(function* () {
      const cancelledChild = createTask(sleep(1000));
      getRunningLoop().callLater(5, () => cancelledChild.cancel("stop it"));
      const results = yield* gather([sleep(10, "ok"), failAfter(20, "bad"), cancelledChild], {
        returnExceptions: true,
      });
      return [results, yield* catching(cancelledChild)];
    });
    expect(results[0]).toBe("ok");
    expect((results[1] as Error).message).toBe("bad");
    expect(results[2]).toBeInstanceOf(CancelledError);
    expect((results[2] as Error).message).toBe("stop it");
    // The task's own CancelledError, as its every reader gets.
    expect(results[2]).toBe(childsOwn);
  });

  it("a cancelled child makes the gather raise CancelledError (test_one_cancellation)", () => {
    runV(function* () {
      const child = createTask(sleep(100));
      getRunningLoop().callLater(10, () => child.cancel());
      const error = yield* catching(gather(sleep(50), child));
      expect(error).toBeInstanceOf(CancelledError);
    });
  });

  it("ensureFuture() gives gather()'s own future, as asyncio.gather returns one (test_cancel_gather_1, test_one_cancellation)", () => {
    runV(function* () {
      const loop = getRunningLoop();
      const input = loop.createFuture<number>();
      const gathered = ensureFuture(gather(ensureFuture(input)));
      expect(gathered).not.toBeInstanceOf(Task);
      yield* sleep(0);
      // The children are done: cancel() finds nothing to cancel, and the result is kept.
      const cancelled: boolean[] = [];
      input.addDoneCallback(() => cancelled.push(gathered.cancel()));
      input.setResult(42);
      expect(yield* gathered).toEqual([42]);
      expect(cancelled).toEqual([false]);

      // A child's cancellation is the gather's exception; the gather itself was not cancelled.
      const a = loop.createFuture();
      const b = loop.createFuture();
      const both = ensureFuture(gather(a, b));
      b.cancel("b went");
      yield* sleep(0);
      expect(both.cancelled()).toBe(false);
      expect(both.exception()).toBeInstanceOf(CancelledError);
      expect((both.exception() as Error).message).toBe("b went");
      expect(a.done()).toBe(false);
      a.cancel();
    });
  });

  it("cancelling the task that waits on gather cancels every child, with the message (test_cancel_gather_2)", () => {
    const log = runV(function* () {
      const log: string[] = [];
      function* child(name: string): Coro<void> {
        try {
          yield* sleep(1000);
        } catch (error) {
          log.push(`${name}: ${(error as Error).name} "${(error as Error).message}"`);
          throw error;
        }
      }
      const parent = createTask(gather(child("a"), child("b")));
      yield* sleep(10);
      parent.cancel("shutting down");
      const error = yield* catching(parent);
      log.push(`parent: ${(error as Error).name} "${(error as Error).message}"`);
      return log;
    });
    expect(log).toEqual([
      'a: CancelledError "shutting down"',
      'b: CancelledError "shutting down"',
      'parent: CancelledError "shutting down"',
    ]);
  });

  it("a cancelled gather stays cancelled even with returnExceptions (bpo-32684)", () => {
    runV(function* () {
      const parent = createTask(gather([sleep(1000), sleep(1000)], { returnExceptions: true }));
      yield* sleep(1);
      parent.cancel();
      expect(yield* catching(parent)).toBeInstanceOf(CancelledError);
    });
  });

  it("a gather cancelled while its last child fails instead ends with the cancel()'s message, as asyncio's", () => {
    // The child cancels the task that waits on the gather, then raises: no child ends
    // cancelled, and asyncio's gather takes the message its cancel() left on the child.
    const log = runV(function* () {
      const log: string[] = [];
      for (const returnExceptions of [true, false]) {
        // biome-ignore lint/correctness/useYield: a child that fails at its first step
        function* child(parent: Task<unknown>): Coro<never> {
          parent.cancel("stop");
          throw new RangeError("boom");
        }
        const parent = createTask(
          (function* () {
            return yield* gather([child(currentTask() as Task<unknown>)], { returnExceptions });
          })(),
        );
        const error = (yield* catching(parent)) as Error;
        log.push(
          `${returnExceptions}: ${error.name} "${error.message}", cancelled ${parent.cancelled()}`,
        );
      }
      return log;
    });
    expect(log).toEqual([
      'true: CancelledError "stop", cancelled true',
      'false: RangeError "boom", cancelled false',
    ]);
  });

  it("marks later failures as retrieved: nothing is reported as lost (test_exception_marking)", () => {
    const loop = new VirtualEventLoop();
    const reported: unknown[] = [];
    loop.setExceptionHandler((_, context) => reported.push(context.message));
    loop.runSync(
      (function* () {
        yield* catching(gather(failAfter(1, "first"), failAfter(2, "second")));
        yield* sleep(5);
      })(),
    );
    loop.close();
    expect(reported).toEqual([]);
  });

  it("rejects a list without options object misuse", () => {
    runV(function* () {
      expect(() => gather(42 as never, { returnExceptions: true })).toThrow(
        "gather() expects list to be an iterable of awaitables when options follow, got number 42: pass gather([a, b], { returnExceptions: true }); spread an iterable whose iterator is a generator into an array, gather([...iterable], options).",
      );
      expect(() => gather(sleep(1) as never, { returnExceptions: true })).toThrow(
        /^gather\(\) expects list to be an iterable of awaitables when options follow, got /,
      );
      const generated = { *[Symbol.iterator]() {} }; // looks like a CoroStart
      expect(() => gather(generated, { returnExceptions: true })).toThrow(
        /^gather\(\) expects list to be an iterable of awaitables when options follow, got /,
      );
    });
  });

  it("with options, takes any iterable as its list (a Map's values, an iterator)", () => {
    const got = runV(function* () {
      const byName = new Map([
        ["a", sleep(2, "a")],
        ["b", sleep(1, "b")],
      ]);
      const fromMap = yield* gather(byName.values(), { returnExceptions: true });
      const fromIterator = yield* gather([sleep(1, 1), sleep(1, 2)][Symbol.iterator](), {});
      return [fromMap, fromIterator];
    });
    expect(got).toEqual([
      ["a", "b"],
      [1, 2],
    ]);
  });

  it("starts its children at the call, as asyncio.gather, before it is waited for", () => {
    const log: string[] = [];
    function* child(name: string): Coro<string> {
      log.push(`${name} runs`);
      yield* sleep(10);
      return name;
    }
    runV(function* () {
      const both = gather(child("a"), child("b"));
      log.push("gather called");
      yield* sleep(20);
      log.push("main waits");
      log.push(`results ${(yield* both).join(" ")} at ${getRunningLoop().time()}`);
    });
    expect(log).toEqual(["gather called", "a runs", "b runs", "main waits", "results a b at 20"]);
  });

  it("with no loop running, starts its children when it first runs: run(gather(...))", async () => {
    const results = await run(gather(sleep(2, "a"), sleep(1, "b")), {
      loopFactory: () => new VirtualEventLoop(),
    });
    expect(results).toEqual(["a", "b"]);
  });

  it("a task over gather() cancelled before its first step cancels the children and waits for them, leaving nothing unretrieved", () => {
    const loop = new VirtualEventLoop();
    const events: string[] = [];
    loop.setExceptionHandler((_, context) => events.push(`reported: ${context.message}`));
    loop.runSync(
      (function* () {
        const child = createTask(function* () {
          yield* sleep(0);
          try {
            yield* sleep(100);
          } finally {
            events.push("child cleans up");
            yield* sleep(1);
            events.push("child cleaned up");
          }
        });
        yield* sleep(0); // the child waits in its try block
        const parent = createTask(gather(child));
        parent.cancel("early");
        const error = yield* catching(parent);
        events.push(`parent: ${(error as Error).message}`);
        expect(error).toBeInstanceOf(CancelledError);
        expect(child.cancelled()).toBe(true);
        yield* sleep(200);
      })(),
    );
    loop.close();
    // As a task that waited on the gather when cancelled: it ends once the children did.
    expect(events).toEqual(["child cleans up", "child cleaned up", "parent: early"]);
  });

  it("takes one array or Set as the list form, as Promise.all", () => {
    runV(function* () {
      const a = createTask(sleep(2, "a"));
      const pair = yield* gather([a, sleep(1, 2)]);
      expectTypeOf(pair).toEqualTypeOf<[string, number]>();
      expect(pair).toEqual(["a", 2]);
      const fromSet = yield* gather(new Set([a, createTask(sleep(1, "b"))]));
      expectTypeOf(fromSet).toEqualTypeOf<string[]>();
      expect(fromSet).toEqual(["a", "b"]);
      const none = yield* gather([]);
      expectTypeOf(none).toEqualTypeOf<[]>();
      expect(none).toEqual([]);
    });
  });

  it("counts children already done at once, as Python 3.12 does: a gather of eager tasks that finished is done with no loop turn", () => {
    const log: string[] = [];
    const loop = new VirtualEventLoop();
    loop.setTaskFactory(eagerTaskFactory);
    loop.runSync(
      (function* () {
        // biome-ignore lint/correctness/useYield: an eager task that finishes at once
        function* at(value: string): Coro<string> {
          return value;
        }
        // biome-ignore lint/correctness/useYield: an eager task that fails at once
        function* failing(): Coro<string> {
          throw new Error("boom");
        }
        getRunningLoop().callSoon(() => log.push("callback queued before"));
        log.push(`gather -> ${yield* gather(createTask(at("a")), createTask(at("b")))}`);
        const error = yield* catching(
          timeout(0, () => gather(createTask(failing()), createTask(at("c")))),
        );
        log.push(`gather of a failed child: ${(error as Error).message}`);
        yield* sleep(0);
      })(),
    );
    loop.close();
    expect(log).toEqual([
      "gather -> a,b",
      "gather of a failed child: boom",
      "callback queued before",
    ]);
  });

  it("an array among several arguments is not awaitable: a TypeError that says to gather it", () => {
    runV(function* () {
      const f = getRunningLoop().createFuture();
      expect(() => gather([f] as never, sleep(1))).toThrow(
        /^gather\(\) expects each awaitable to be an awaitable \(a coroutine or a Future\), got .*: a list is not awaitable: wait for all of them with yield\* gather\(list\)\.$/,
      );
    });
  });
});

describe("lists are not awaitables", () => {
  it("waitFor, ensureFuture and createTask refuse an array, a Set or a Map with a TypeError", async () => {
    runV(function* () {
      const f = getRunningLoop().createFuture();
      expect(() => waitFor([f] as never, 10)).toThrow(
        /^waitFor\(\) expects aw to be an awaitable \(a coroutine or a Future\), got .*: a list is not awaitable: wait for all of them with yield\* gather\(list\)\.$/,
      );
      expect(() => ensureFuture(new Map() as never)).toThrow(
        /^ensureFuture\(\) expects awaitable to be a coroutine, a Future or a promise, got .*: a collection is not awaitable\.$/,
      );
      expect(() => createTask(new Set([f]) as never)).toThrow(
        /^createTask\(\) expects coro to be a coroutine or an async function, got .*: a list is not awaitable: wait for all of them with yield\* gather\(list\)\.$/,
      );
      expect(() => ensureFuture("text" as never)).toThrow(/: a string is not awaitable\.$/);
    });
    expect(() => awaitSync([] as never)).toThrow(
      /^awaitSync\(\) expects awaitable to be a coroutine, a Future or another yield\*-able, got .*: a list is not awaitable: wait for all of them with yield\* gather\(list\)\.$/,
    );
    await expect(run([sleep(1)] as never)).rejects.toThrow(
      /^run\(\) expects main to be a coroutine, or a function\* or async function to call, got .*: a list is not awaitable: wait for all of them with yield\* gather\(list\)\.$/,
    );
  });

  it("a list's iterator is no awaitable either, and the error says to gather its items", () => {
    runV(function* () {
      const tasks = [createTask(sleep(1, 1)), createTask(sleep(1, 2))];
      for (const iterator of [tasks.values(), new Set(tasks).values(), new Map([[1, 1]]).keys()]) {
        expect(() => ensureFuture(iterator as never)).toThrow(
          /^ensureFuture\(\) expects awaitable to be a coroutine, a Future or a promise, got .*: the iterator of a list gives its items: wait for all of them with yield\* gather\(\[\.\.\.items\]\)\.$/,
        );
      }
      expect(() => ensureFuture({ [Symbol.iterator]: () => 5 } as never)).toThrow(
        /: its \[Symbol\.iterator\]\(\) gives no iterator \(an object with next\(\)\)\.$/,
      );
      const throwing = {
        [Symbol.iterator]() {
          throw new Error("its own error");
        },
      };
      expect(() => createTask(throwing as never)).toThrow(
        /: its \[Symbol\.iterator\]\(\) threw\.$/,
      );
      yield* gather(...tasks);
    });
  });

  it("an iterable of suspensions whose iterator is a plain one is driven everywhere, as by yield*", () => {
    // The types ask for a coroutine (so that a list's iterator fails to compile); at run
    // time a plain iterator of one's own is driven as yield* drives it.
    class Custom implements Iterable<Suspend, number, unknown> {
      constructor(private readonly value: number) {}
      [Symbol.iterator](): Iterator<Suspend, number, unknown> {
        const inner = sleep(5, this.value)[Symbol.iterator]();
        return { next: (sent?: unknown) => inner.next(sent) }; // no throw(): not a coroutine
      }
    }
    const custom = (value: number) => new Custom(value) as unknown as Coro<number>;
    const got = runV(function* () {
      const direct = yield* new Custom(1);
      const timed = yield* waitFor(custom(2), 100);
      const gathered = yield* gather(custom(3), custom(4));
      const future = ensureFuture(custom(5));
      return [direct, timed, gathered, yield* future, getRunningLoop().time()];
    });
    expect(got).toEqual([1, 2, [3, 4], 5, 20]);
  });

  it("a built-in iterator is a list of items wherever an awaitable is taken, not an awaitable", () => {
    runV(function* () {
      const tasks = [createTask(sleep(1, 1))];
      const lazy = { [Symbol.iterator]: () => "a=1".matchAll(/a/g) }; // a built-in iterator of its own
      for (const value of [new URLSearchParams("a=1").entries(), lazy]) {
        expect(() => ensureFuture(value as never)).toThrow(TypeError);
      }
      expect(() => ensureFuture(Promise.resolve(1).then() as never)).not.toThrow();
      yield* gather(...tasks);
    });
  });

  it("yield* of an array where a Future is expected is a TypeError that names the mistake", () => {
    const error = runV(function* () {
      const f = getRunningLoop().createFuture();
      const task = createTask(
        (function* () {
          yield* [f] as unknown as Coro<void>;
        })(),
      );
      return yield* catching(task);
    });
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(
      /got bad yield .*: `yield future` was used instead of `yield\* future`, or yield\* was given a list \(wait for several with yield\* gather\(list\)\)\.$/,
    );
  });
});

describe("wait", () => {
  it("ALL_COMPLETED returns every future in done (test_wait)", () => {
    const result = runV(function* () {
      const a = createTask(sleep(10, "a"));
      const b = createTask(sleep(20, "b"));
      const { done, pending } = yield* wait([b, a]);
      return {
        done: [...done].map((f) => f.result()).sort(),
        pending: pending.size,
        now: getRunningLoop().time(),
      };
    });
    expect(result).toEqual({ done: ["a", "b"], pending: 0, now: 20 });
  });

  it("an awaitable given twice is waited for once, as asyncio's set(fs)", () => {
    const sizes = runV(function* () {
      const coro = sleep(5, "c");
      const task = createTask(sleep(10, "t"));
      const { done, pending } = yield* wait([coro, task, coro, task]);
      return [done.size, pending.size, getRunningLoop().time()];
    });
    expect(sizes).toEqual([2, 0, 10]);
  });

  it("timeout: null waits without a limit, as asyncio's timeout=None (wait, asCompleted)", () => {
    const seen = runV(function* () {
      const { done } = yield* wait([sleep(1e6, "w")], { timeout: null });
      const results: string[] = [...done].map((f) => f.result() as string);
      for (const next of asCompleted([sleep(1e6, "a")], { timeout: null })) {
        results.push(yield* next);
      }
      return [results, getRunningLoop().time()];
    });
    expect(seen).toEqual([["w", "a"], 2e6]);
  });

  it("FIRST_COMPLETED returns after the first (test_wait_first_completed)", () => {
    runV(function* () {
      const a = createTask(sleep(10, "a"));
      const b = createTask(sleep(20, "b"));
      const { done, pending } = yield* wait([b, a], { returnWhen: "FIRST_COMPLETED" });
      // (identity checks: deep equality would iterate a pending task, which never ends)
      expect(done.size === 1 && done.has(a)).toBe(true);
      expect(pending.size === 1 && pending.has(b)).toBe(true);
      expect(getRunningLoop().time()).toBe(10);
      yield* b;
    });
  });

  it("FIRST_EXCEPTION returns at the first failure, or when all are done (test_wait_first_exception)", () => {
    runV(function* () {
      const ok = createTask(sleep(5, "ok"));
      const bad = createTask(failAfter(10, "bad"));
      const slow = createTask(sleep(100));
      const r1 = yield* wait([ok, bad, slow], { returnWhen: "FIRST_EXCEPTION" });
      expect(getRunningLoop().time()).toBe(10);
      expect(r1.done).toEqual(new Set([ok, bad]));
      expect(r1.pending).toEqual(new Set([slow]));
      expect(bad.exception()).toBeInstanceOf(Error);
      const r2 = yield* wait([slow, ok], { returnWhen: "FIRST_EXCEPTION" });
      expect(r2.pending.size).toBe(0);
    });
  });

  it("timeout returns what is done by then and cancels nothing (test_wait_with_timeout)", () => {
    runV(function* () {
      const a = createTask(sleep(10));
      const b = createTask(sleep(100));
      const { done, pending } = yield* wait([a, b], { timeout: 50 });
      expect(getRunningLoop().time()).toBe(50);
      expect(done).toEqual(new Set([a]));
      expect(pending).toEqual(new Set([b]));
      expect(b.cancelled()).toBe(false);
      yield* b;
    });
  });

  it("wraps coroutines in tasks, and reports bad input", () => {
    runV(function* () {
      const { done } = yield* wait([sleep(1, "x")]);
      expect([...done].map((f) => f.result())).toEqual(["x"]);
      // A list is found empty at the call; an iterable read once, when the wait starts.
      for (const empty of [[], new Set<Future>()]) {
        expect(() => wait(empty)).toThrow(
          new RangeError("wait() needs at least one future: the set is empty."),
        );
      }
      const none = wait(new Map<string, Future>().values());
      expect(() => none.next()).toThrow("wait() needs at least one future: the set is empty.");
      expect(() => wait([sleep(1)], { returnWhen: "SOMETIMES" as never }).next()).toThrow(
        /wait\(\) expects options\.returnWhen to be one of the ReturnWhen names/,
      );
      const f = getRunningLoop().createFuture();
      expect(() => wait(f as never).next()).toThrow(TypeError);
    });
  });

  it("cancelling the waiter leaves the futures running", () => {
    runV(function* () {
      const a = createTask(sleep(100, "a"));
      const waiter = createTask(wait([a]));
      yield* sleep(10);
      waiter.cancel();
      expect(yield* catching(waiter)).toBeInstanceOf(CancelledError);
      expect(yield* a).toBe("a");
    });
  });
});

describe("waitFor", () => {
  it("returns the result in time, else cancels the work and raises TimeoutError (test_wait_for)", () => {
    const log = runV(function* () {
      const loop = getRunningLoop();
      const log: string[] = [];
      log.push(yield* waitFor(sleep(10, "quick"), 100));
      function* slow(): Coro<string> {
        try {
          yield* sleep(60 * 60_000);
          return "never";
        } catch (error) {
          log.push(`slow saw ${(error as Error).name} at ${loop.time()}`);
          throw error;
        }
      }
      const error = yield* catching(waitFor(slow(), 100));
      log.push(`${(error as Error).name} at ${loop.time()}`);
      return log;
    });
    expect(log).toEqual(["quick", "slow saw CancelledError at 110", "TimeoutError at 110"]);
  });

  it("of a coroutine, in a generator task, makes no microtask: it is no native step", () => {
    // Its coroutine went through the loop's native steps once, each call queueing microtasks
    // that runSync() never runs: 100 bytes a call held until it returned.
    const thens = vi.spyOn(Promise.prototype, "then");
    try {
      const results = runV(function* () {
        const results: string[] = [];
        for (let i = 0; i < 3; i++) results.push(yield* waitFor(sleep(1, `in time ${i}`), 10));
        return results;
      });
      expect([results, thens.mock.calls.length]).toEqual([
        ["in time 0", "in time 1", "in time 2"],
        0,
      ]);
    } finally {
      thens.mockRestore();
    }
  });

  it("a task given to waitFor is cancelled at the timeout", () => {
    runV(function* () {
      const task = createTask(sleep(1000));
      expect(yield* catching(waitFor(task, 10))).toBeInstanceOf(TimeoutError);
      expect(task.cancelled()).toBe(true);
    });
  });

  it("with a timeout <= 0: a done future gives its result; other work is cancelled first (test_wait_for_timeout_less_then_0_or_0)", () => {
    runV(function* () {
      const loop = getRunningLoop();
      const done = loop.createFuture<string>();
      done.setResult("done");
      expect(yield* waitFor(done, 0)).toBe("done");
      let started = false;
      const error = yield* catching(
        waitFor(
          (function* () {
            started = true;
            yield* sleep(1);
          })(),
          -1,
        ),
      );
      expect(error).toBeInstanceOf(TimeoutError);
      expect(started).toBe(false); // cancelled before it ever ran
      expect(loop.time()).toBe(0);
    });
  });

  it("null waits without a deadline", () => {
    runV(function* () {
      expect(yield* waitFor(sleep(60_000, "eventually"), null)).toBe("eventually");
    });
  });

  it("cancelling the outer task cancels the inner work, not as a timeout (test_cancel_wait_for)", () => {
    runV(function* () {
      const inner = createTask(sleep(1000));
      const outer = createTask(waitFor(inner, 500));
      yield* sleep(10);
      outer.cancel();
      const error = yield* catching(outer);
      expect(error).toBeInstanceOf(CancelledError);
      expect(error).not.toBeInstanceOf(TimeoutError);
      expect(inner.cancelled()).toBe(true);
    });
  });

  it("work that finishes before the deadline keeps its result (test_wait_for_race_condition)", () => {
    runV(function* () {
      const loop = getRunningLoop();
      const fut = loop.createFuture<string>();
      loop.callLater(9, () => fut.setResult("made it"));
      expect(yield* waitFor(fut, 10)).toBe("made it");
      // A result that arrives in the very iteration of the deadline is too late, as in asyncio:
      // the timeout's cancel() is already requested when the task resumes.
      const late = loop.createFuture<string>();
      loop.callLater(10, () => late.setResult("too late"));
      expect(yield* catching(waitFor(late, 10))).toBeInstanceOf(TimeoutError);
    });
  });
});

describe("shield", () => {
  it("passes the result and the error through (test_shield_result, test_shield_exception)", () => {
    runV(function* () {
      expect(yield* shield(sleep(5, "value"))).toBe("value");
      expect(((yield* catching(shield(failAfter(5, "inner")))) as Error).message).toBe("inner");
      const done = getRunningLoop().createFuture<number>();
      done.setResult(1);
      expect(shield(done)).toBe(done);
    });
  });

  it("cancelling the waiter does not cancel the shielded work (test_shield_cancel_outer)", () => {
    const log = runV(function* () {
      const log: string[] = [];
      const inner = createTask(sleep(100, "saved"));
      const outer = createTask(
        (function* () {
          return yield* shield(inner);
        })(),
      );
      yield* sleep(10);
      outer.cancel();
      log.push(`outer: ${String(yield* catching(outer))}`);
      log.push(`inner: ${yield* inner}`);
      return log;
    });
    expect(log).toEqual(["outer: CancelledError", "inner: saved"]);
  });

  it("a cancelled inner cancels the shield (test_shield_cancel_inner)", () => {
    runV(function* () {
      const inner = createTask(sleep(100));
      const outer = shield(inner);
      inner.cancel();
      expect(yield* catching(outer)).toBeInstanceOf(CancelledError);
      expect(outer.cancelled()).toBe(true);
    });
  });

  it("a shielded gather survives cancellation of its waiter (test_shield_gather)", () => {
    runV(function* () {
      const a = createTask(sleep(10, 1));
      const b = createTask(sleep(20, 2));
      const gathered = createTask(gather(a, b));
      const outer = shield(gathered);
      outer.cancel();
      expect(yield* gathered).toEqual([1, 2]);
    });
  });
});

describe("asCompleted", () => {
  it("yields results in completion order (test_as_completed)", () => {
    const log = runV(function* () {
      const loop = getRunningLoop();
      const log: string[] = [];
      for (const next of asCompleted([sleep(30, "c"), sleep(10, "a"), sleep(20, "b")])) {
        log.push(`${yield* next}@${loop.time()}`);
      }
      return log;
    });
    expect(log).toEqual(["a@10", "b@20", "c@30"]);
  });

  it("raises a failure in its turn; duplicates count once", () => {
    runV(function* () {
      const t = createTask(sleep(5, "t"));
      const results: unknown[] = [];
      for (const next of asCompleted([failAfter(10, "bad"), t, t])) {
        results.push(yield* catching(next));
      }
      expect(results.length).toBe(2);
      expect(results[0]).toBeUndefined();
      expect((results[1] as Error).message).toBe("bad");
    });
  });

  it("after the timeout the ones left raise TimeoutError (test_as_completed_with_timeout)", () => {
    const log = runV(function* () {
      const log: string[] = [];
      const slow = createTask(sleep(1000, "slow"));
      for (const next of asCompleted([sleep(10, "fast"), slow], { timeout: 100 })) {
        try {
          log.push(yield* next);
        } catch (error) {
          log.push(`${(error as Error).name}@${getRunningLoop().time()}`);
        }
      }
      slow.cancel();
      return log;
    });
    expect(log).toEqual(["fast", "TimeoutError@100"]);
  });

  it("an unused timeout does nothing (test_as_completed_with_unused_timeout)", () => {
    runV(function* () {
      for (const next of asCompleted([sleep(1, "x")], { timeout: 10 })) {
        expect(yield* next).toBe("x");
      }
      yield* sleep(20);
    });
  });

  it("the coroutines can be awaited concurrently (test_as_completed_concurrent)", () => {
    runV(function* () {
      const it = asCompleted([sleep(20, "b"), sleep(10, "a")]);
      const waiters: Task<string>[] = [...it].map((c) => createTask(c));
      expect(yield* gather(...waiters)).toEqual(["a", "b"]);
    });
  });

  it("rejects a single future or coroutine instead of a list", () => {
    runV(function* () {
      const f: Future<number> = getRunningLoop().createFuture();
      expect(() => asCompleted(f as never)).toThrow(TypeError);
    });
  });

  it("left for good (a break, a throw, a cancelled reader), it is not kept by an awaitable still running", async () => {
    const { watch, collected } = collection();
    const loop = new VirtualEventLoop();
    const longLived = loop.createFuture<string>();
    const log = loop.runSync(
      (function* () {
        const log: string[] = [];
        const broken = asCompleted([longLived, sleep(1, "a")]);
        watch(broken, "break");
        for (const next of broken) {
          log.push(yield* next);
          break;
        }
        const thrown = asCompleted([longLived, sleep(1, "b")]);
        watch(thrown, "throw");
        try {
          for (const next of thrown) throw new Error(`after ${yield* next}`);
        } catch (error) {
          log.push((error as Error).message);
        }
        const read = asCompleted([longLived]);
        watch(read, "cancelled reader");
        const reader = createTask(
          timeout(5, function* () {
            for (const next of read) yield* next;
          }),
        );
        log.push((yield* catching(reader)) instanceof TimeoutError ? "timed out" : "?");
        return log;
      })(),
    );
    expect(log).toEqual(["a", "after b", "timed out"]);
    expect(await collected(3)).toEqual(["break", "cancelled reader", "throw"]);
    await new Promise((resolve) => setTimeout(resolve, 10)); // their finalizers' turn
    // Their callbacks came off the future too (its internal list of them).
    expect((longLived as unknown as { _callbacks: unknown })._callbacks).toBeNull();
    longLived.setResult("late");
    loop.close();
  });
});

describe("a task that fails with undefined", () => {
  // `throw undefined`, or a promise rejected with no reason (`reject()`), is a failure
  // that exception() cannot tell from a success: each combinator must see it as one.
  function* failsWithUndefined(ms: number): Coro<never> {
    yield* sleep(ms);
    throw undefined;
  }

  /** Whether `aw` threw, and what: told apart from a success when the error is undefined. */
  function* outcomeOf(aw: Iterable<Suspend, unknown, unknown>): Coro<string> {
    try {
      return `returned ${String(yield* aw)}`;
    } catch (error) {
      return `threw ${String(error)} at ${getRunningLoop().time()}`;
    }
  }

  it("fails gather at once, and is returned by gather with returnExceptions", () => {
    const log = runV(function* () {
      const slow = createTask(sleep(50, "slow"));
      const first = yield* outcomeOf(gather(createTask(failsWithUndefined(5)), slow));
      const all = yield* gather([createTask(failsWithUndefined(5)), sleep(10, "ok")], {
        returnExceptions: true,
      });
      return [first, slow.cancelled(), all];
    });
    expect(log).toEqual(["threw undefined at 5", false, [undefined, "ok"]]);
  });

  it("ends wait() with FIRST_EXCEPTION", () => {
    const log = runV(function* () {
      const bad = createTask(failsWithUndefined(1));
      const slow = createTask(sleep(1000));
      const { done, pending } = yield* wait([bad, slow], { returnWhen: "FIRST_EXCEPTION" });
      slow.cancel();
      return [getRunningLoop().time(), done.has(bad), pending.has(slow)];
    });
    expect(log).toEqual([1, true, true]);
  });

  it("passes through shield()", () => {
    const log = runV(function* () {
      return yield* outcomeOf(shield(createTask(failsWithUndefined(5))));
    });
    expect(log).toBe("threw undefined at 5");
  });
});
