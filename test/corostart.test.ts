/**
 * CoroStart and its functional forms, after asynkit's tests/test_coro.py
 * (TestCoroStart, TestCoroStartClose, TestCoroAwait, TestContext, TestCoroState),
 * plus exact forwarding of next/throw/return through a continuation.
 */
import { describe, expect, test } from "vitest";
import { isWaitStep } from "../src/futures.js";
import {
  CancelledError,
  ContextVar,
  type Coro,
  CoroStart,
  copyContext,
  coroAsFuture,
  coroAwait,
  coroContinue,
  coroIsBlocked,
  coroIsFinished,
  coroIsNew,
  coroIsSuspended,
  coroStart,
  createTask,
  eager,
  ensureFuture,
  Future,
  gather,
  HostEventLoop,
  InvalidStateError,
  run,
  type Suspend,
  sleep,
  Task,
  VirtualEventLoop,
} from "../src/index.js";
import { catching, runV } from "./helpers.js";

const runSync = <T>(main: Coro<T>): T => new VirtualEventLoop().runSync(main);
/** Runs `body` inside a running (virtual) loop, for coroutines that need one to start. */
const inLoop = (body: () => void): void =>
  runSync(
    // biome-ignore lint/correctness/useYield: only needs the loop to be running
    (function* () {
      body();
    })(),
  );

describe.each([
  ["block", true],
  ["noblock", false],
])("CoroStart (%s)", (_name, block) => {
  let closedEarly = false;
  function* coro1(log: unknown[]): Coro<unknown[]> {
    closedEarly = false;
    log.push(1);
    let finished = false;
    try {
      if (block) yield* sleep(10);
      finished = true;
    } finally {
      if (!finished) closedEarly = true;
    }
    log.push(2);
    return log;
  }
  const expected = block ? [1, "a", 2] : [1, 2, "a"];
  // biome-ignore lint/correctness/useYield: a coroutine that throws without suspending
  function* coro2(): Coro<never> {
    throw new RangeError("division by zero");
  }

  test("autostart false: start() runs it to its first suspension", () =>
    inLoop(() => {
      const log: unknown[] = [];
      const coro = coro1(log);
      const cs = new CoroStart(coro, { autostart: false });
      expect(log).toEqual([]);
      expect(coroIsNew(coro)).toBe(true);
      const done = cs.start();
      expect(done).toBe(!block);
      expect(coroIsSuspended(coro)).toBe(block);
      expect(coroIsFinished(coro)).toBe(!block);
      expect(log).toEqual(block ? [1] : [1, 2]);
      expect(() => cs.start()).toThrow(InvalidStateError);
      expect(() => cs.start()).toThrow(/already started/);
      cs.close();
    }));

  test("start() on an autostarted CoroStart is an error", () =>
    inLoop(() => {
      const cs = new CoroStart(coro1([]));
      expect(() => cs.start()).toThrow(/start\(\) runs once, and only after `autostart: false`/);
      cs.close();
    }));

  test("the context option is where the start runs", () => {
    const v = new ContextVar<string>("v", { default: "initial" });
    function* setIt(): Coro<void> {
      v.set("no_auto");
      if (block) yield;
    }
    const ctx = copyContext();
    const cs = new CoroStart(setIt(), { context: ctx, autostart: false });
    expect(v.get()).toBe("initial");
    cs.start();
    expect(v.get()).toBe("initial");
    expect(ctx.run(() => v.get())).toBe("no_auto");
    cs.close();
  });

  test("yield* start continues it", () => {
    const log: unknown[] = [];
    const result = runSync(
      (function* () {
        const cs = new CoroStart(coro1(log));
        log.push("a");
        return yield* cs;
      })(),
    );
    expect(result).toEqual(expected);
    expect(log).toEqual(expected);
  });

  test("a start is continued once: the second yield* is an error", () => {
    const log: unknown[] = [];
    runSync(
      (function* () {
        const cs = new CoroStart(coro1(log));
        log.push("a");
        expect(yield* cs).toEqual(expected);
        const caught = yield* catching(cs);
        expect(caught).toBeInstanceOf(InvalidStateError);
        expect(String(caught)).toMatch(/cannot reuse a start that is already continued or closed/);
      })(),
    );
  });

  test("close() twice, then continuing is an error; a pending coroutine runs its finally", () =>
    inLoop(() => {
      const log: unknown[] = [];
      const cs = new CoroStart(coro1(log));
      log.push("a");
      cs.close();
      cs.close();
      expect(closedEarly).toBe(block);
      expect(cs.continued()).toBe(true);
      expect(() => cs.asCoroutine().next()).toThrow(/cannot reuse/);
    }));

  test("an error at the start is thrown by the continuation", () => {
    const cs = new CoroStart(coro2());
    expect(cs.done()).toBe(true);
    expect(() => runSync(cs.asCoroutine())).toThrow(RangeError);
  });

  test("asCoroutine() continues it", () => {
    const log: unknown[] = [];
    runSync(
      (function* () {
        const cs = new CoroStart(coro1(log));
        const cr = cs.asCoroutine();
        log.push("a");
        yield* cr;
      })(),
    );
    expect(log).toEqual(expected);
  });

  test("asFuture() only when done", () => {
    const log: unknown[] = [];
    runSync(
      (function* () {
        const cs = new CoroStart(coro1(log));
        log.push("a");
        if (block) {
          expect(() => cs.asFuture()).toThrow(InvalidStateError);
          expect(() => cs.asFuture()).toThrow(/not done, it suspended/);
          expect(yield* cs).toEqual(expected);
        } else {
          const future = coroAsFuture(cs);
          expect(future).toBeInstanceOf(Future);
          expect(future.done()).toBe(true);
          expect(yield* future).toEqual(expected);
        }
      })(),
    );
  });

  test("asAwaitable(): a done Future, or the continuation", () => {
    const log: unknown[] = [];
    runSync(
      (function* () {
        const cs = new CoroStart(coro1(log));
        log.push("a");
        const awaitable = cs.asAwaitable();
        expect(awaitable instanceof Future).toBe(!block);
        expect(yield* awaitable).toEqual(expected);
      })(),
    );
  });

  test("result() and exception()", () =>
    inLoop(() => {
      const log: unknown[] = [];
      const cs = new CoroStart(coro1(log));
      expect(cs.done()).toBe(!block);
      if (block) {
        expect(() => cs.result()).toThrow(InvalidStateError);
        expect(() => cs.exception()).toThrow(InvalidStateError);
        cs.close();
      } else {
        expect(cs.result()).toBe(log);
        expect(cs.exception()).toBeUndefined();
      }
      const failed = new CoroStart(coro2());
      expect(failed.done()).toBe(true);
      expect(() => failed.result()).toThrow(RangeError);
      expect(failed.exception()).toBeInstanceOf(RangeError);
    }));

  test("low-level: the continuation's return() runs the coroutine's finally", () =>
    inLoop(() => {
      const log: unknown[] = [];
      const cs = new CoroStart(coro1(log));
      const cont = coroContinue(cs);
      if (!block) {
        expect(cont.next()).toEqual({ done: true, value: [1, 2] });
      } else {
        const first = cont.next();
        expect(first.done).toBe(false);
        expect(first.value).toBeInstanceOf(Future);
      }
      expect(cont.return([])).toEqual({ done: true, value: [] });
      expect(closedEarly).toBe(block);
    }));

  test("close() after a task took the coroutine on does nothing: the task owns it", () => {
    const log: string[] = [];
    const result = runV(
      (function* () {
        const gate = new Future<number>();
        const cs = new CoroStart(
          (function* () {
            try {
              return yield* gate;
            } finally {
              log.push("finally");
            }
          })(),
        );
        const task = createTask(cs.asCoroutine());
        yield* sleep(0); // the task waits on the gate now
        cs.close();
        log.push(`closed, task done: ${task.done()}`);
        gate.setResult(7);
        return yield* task;
      })(),
    );
    expect([result, log]).toEqual([7, ["closed, task done: false", "finally"]]);
  });

  test("aclose() after a normal await does nothing; before it, it ends the coroutine", () => {
    runSync(
      (function* () {
        const cs = new CoroStart(coro1([]));
        yield* cs.aclose();
        expect(closedEarly).toBe(block);
        const again = new CoroStart(coro1([]));
        yield* again;
        yield* again.aclose();
      })(),
    );
  });

  test("coroStart / coroIsBlocked / coroContinue", () => {
    const log: unknown[] = [];
    runSync(
      (function* () {
        const state = coroStart(coro1(log));
        expect(coroIsBlocked(state)).toBe(block);
        log.push("a");
        expect(yield* coroContinue(state)).toEqual(expected);
      })(),
    );
    expect(log).toEqual(expected);
  });
});

describe("CoroStart close, throw, aclose, athrow (TestCoroStartClose)", () => {
  const stage = [0];
  class Handled extends Error {}
  function* cleanupper(): Coro<string> {
    try {
      stage[0] = 1;
      yield* sleep(0);
    } catch (e) {
      if (!(e instanceof Handled)) throw e;
    } finally {
      stage[0] = 2;
      yield* sleep(0);
      stage[0] = 3;
    }
    stage[0] = 4;
    return "result";
  }
  // biome-ignore lint/correctness/useYield: a coroutine that returns without suspending
  function* simple(): Coro<string> {
    return "simple";
  }
  function* handler(): Coro<string> {
    try {
      yield* sleep(0);
    } catch (e) {
      if (!(e instanceof Handled)) throw e;
    }
    return "handler";
  }

  test("close(): a coroutine that waits in its finally is an error, and is unwound", () => {
    stage[0] = 0;
    const c = cleanupper();
    const starter = new CoroStart(c);
    expect(starter.done()).toBe(false);
    expect(stage[0]).toBe(1);
    expect(() => starter.close()).toThrow(
      /suspended in a finally block .* use yield\* start.aclose\(\)/,
    );
    expect(stage[0]).toBe(2);
    expect(coroIsFinished(c)).toBe(true);
    expect(c.next()).toEqual({ done: true, value: undefined });
  });

  test("aclose() lets the finally block wait", () => {
    stage[0] = 0;
    const starter = new CoroStart(cleanupper());
    expect(stage[0]).toBe(1);
    runSync(starter.aclose());
    expect(stage[0]).toBe(3);
  });

  test("athrow(): the error runs the cleanup, then is thrown", () => {
    stage[0] = 0;
    const starter = new CoroStart(cleanupper());
    expect(() => runSync(starter.athrow(new RangeError("slap face")))).toThrow("slap face");
    expect(stage[0]).toBe(3);
  });

  test("athrow(): a handled error lets it return", () => {
    stage[0] = 0;
    const starter = new CoroStart(cleanupper());
    expect(runSync(starter.athrow(new Handled()))).toBe("result");
    expect(stage[0]).toBe(4);
  });

  test("throw(): a coroutine that waits in its finally stays pending", () => {
    stage[0] = 0;
    const starter = new CoroStart(cleanupper());
    starter.throw(new CancelledError());
    expect(starter.pending()).toBe(true);
    expect(stage[0]).toBe(2);
    expect(() => runSync(starter.asCoroutine())).toThrow(CancelledError);
    expect(stage[0]).toBe(3);
  });

  test("throw() into a done start is an error", () => {
    const starter = new CoroStart(simple());
    expect(starter.done()).toBe(true);
    expect(() => starter.throw(new CancelledError())).toThrow(
      /throw\(\): cannot reuse a start that is already finished/,
    );
  });

  test("throw(): a handled error makes it done with its value", () => {
    const starter = new CoroStart(handler());
    expect(starter.done()).toBe(false);
    starter.throw(new Handled());
    expect(starter.done()).toBe(true);
    expect(starter.result()).toBe("handler");
  });

  test("close() and aclose() on a done or continued start do nothing", () => {
    runSync(
      (function* () {
        const a = new CoroStart(simple());
        a.close();
        const b = new CoroStart(simple());
        expect(yield* b).toBe("simple");
        b.close();
        const c = new CoroStart(simple());
        yield* c.aclose();
        expect(yield* c).toBe("simple");
        yield* c.aclose();
      })(),
    );
  });

  test("athrow() on a done or continued start is an error", () => {
    runSync(
      (function* () {
        const a = new CoroStart(simple());
        expect(() => a.athrow(new Handled()).next()).toThrow(/cannot reuse/);
        const b = new CoroStart(simple());
        expect(yield* b).toBe("simple");
        const caught = yield* catching(b.athrow(new Handled()));
        expect(String(caught)).toMatch(/cannot reuse/);
      })(),
    );
  });

  test("continuing a start that never started is an error", () => {
    const starter = new CoroStart(simple(), { autostart: false });
    expect(() => starter.asCoroutine().next()).toThrow(/never started: call start\(\) first/);
    expect(() => starter.asFuture()).toThrow(/never started/);
    // A task may be made before the start, as asynkit allows.
    const made = new CoroStart(simple(), { autostart: false });
    const result = runSync(
      (function* () {
        const task = createTask(made.asCoroutine());
        made.start();
        return yield* task;
      })(),
    );
    expect(result).toBe("simple");
  });
});

describe("CoroStart odds and ends", () => {
  // biome-ignore lint/correctness/useYield: a coroutine that throws without suspending
  function* fails(): Coro<never> {
    throw new RangeError("at once");
  }
  // biome-ignore lint/correctness/useYield: a coroutine that returns without suspending
  function* returns(): Coro<string> {
    return "value";
  }

  test("asFuture() of a failed start holds the error", () => {
    const future = runSync(
      // biome-ignore lint/correctness/useYield: only needs the loop to be running
      (function* () {
        return new CoroStart(fails()).asFuture();
      })(),
    );
    expect(future.done()).toBe(true);
    expect(future.exception()).toBeInstanceOf(RangeError);
  });

  test("a continuation of a finished start ends at once on throw() or return()", () => {
    const a = new CoroStart(returns()).asCoroutine();
    expect(() => a.throw(new RangeError("in"))).toThrow("in");
    const b = new CoroStart(returns()).asCoroutine();
    expect(b.return("early")).toEqual({ done: true, value: "early" });
    const never = new CoroStart(returns(), { autostart: false });
    expect(() => never.asCoroutine().throw(new RangeError("in"))).toThrow(/never started/);
    const twice = new CoroStart(returns());
    twice.asCoroutine().next();
    expect(() => twice.asCoroutine().return("x")).toThrow(/cannot reuse/);
  });

  test("toString() names the state", () => {
    const cs = new CoroStart(returns(), { autostart: false });
    expect(String(cs)).toBe("<CoroStart new>");
    cs.start();
    expect(String(cs)).toBe("<CoroStart returned>");
    expect(String(new CoroStart(fails()))).toBe("<CoroStart failed>");
    cs.close();
    expect(String(cs)).toBe("<CoroStart continued>");
  });
});

describe("await of a CoroStart in an async function (TestCoroStart.test_await)", () => {
  function* worker(log: string[], name: string): Coro<string> {
    log.push(`${name}1`);
    yield* sleep(10);
    log.push(`${name}2`);
    return name;
  }

  // biome-ignore lint/correctness/useYield: returns without suspending
  function* atOnce(): Coro<string> {
    return "at once";
  }

  test("continues it, pending or done, in the loop's order, as yield* does", async () => {
    const log: string[] = [];
    const loop = new VirtualEventLoop();
    const result = await loop.runUntilComplete(async () => {
      const pending = new CoroStart(worker(log, "a"));
      const done = new CoroStart(atOnce());
      const other = createTask(worker(log, "b"));
      log.push("started");
      const values = [await pending, await done, await other];
      log.push(`t=${loop.time()}`);
      return values;
    });
    expect(result).toEqual(["a", "at once", "b"]);
    expect(log).toEqual(["a1", "started", "b1", "a2", "b2", "t=10"]);
  });

  test("the errors for a CoroStart where a coroutine belongs say to wait for it, not to wrap a promise", () => {
    const messages = runV(function* () {
      const caughtMessage = function* (body: () => Coro<unknown>): Coro<string> {
        try {
          yield* body();
          return "no error";
        } catch (error) {
          return (error as Error).message;
        }
      };
      return [
        // biome-ignore lint/correctness/useYield: throws at once
        yield* caughtMessage(function* () {
          createTask(new CoroStart(worker([], "a")) as never);
        }),
        // biome-ignore lint/correctness/useYield: throws at once
        yield* caughtMessage(function* () {
          eager(new CoroStart(worker([], "b")) as never);
        }),
        yield* caughtMessage(function* () {
          yield new CoroStart(worker([], "c")) as never;
        }),
      ];
    });
    expect(messages).toEqual([
      "createTask() expects coro to be a coroutine or an async function, got <CoroStart pending>: wait for it with yield* (in a task), or make it a task with ensureFuture().",
      "eager() expects x to be a coroutine or a function that returns one (function*), got <CoroStart pending>: it started already: wait for it with yield* start.",
      expect.stringMatching(
        /got bad yield <CoroStart pending>: `yield x` was used instead of `yield\* x`\.$/,
      ),
    ]);
  });

  test("ensureFuture() and gather() still drive it as a coroutine, not as a promise", async () => {
    const log: string[] = [];
    const loop = new VirtualEventLoop();
    const values = await loop.runUntilComplete(function* () {
      const starts = [new CoroStart(worker(log, "a")), new CoroStart(worker(log, "b"))];
      const first = ensureFuture(starts[0]!);
      expect(first).toBeInstanceOf(Task); // fromPromise() would make a Future its then() settles
      return yield* gather(first, starts[1]!);
    });
    expect(values).toEqual(["a", "b"]);
    expect(log).toEqual(["a1", "b1", "a2", "b2"]);
  });
});

describe("coroAwait (TestCoroAwait)", () => {
  test("a value and an error without suspending", () => {
    const d = ["foo"];
    // biome-ignore lint/correctness/useYield: a coroutine that returns without suspending
    function* func(a: string[]): Coro<string[]> {
      return a;
    }
    expect(runSync(coroAwait(func(d)))).toBe(d);
    // biome-ignore lint/correctness/useYield: a coroutine that throws without suspending
    function* fails(): Coro<never> {
      throw new RangeError("zero");
    }
    expect(() => runSync(coroAwait(fails()))).toThrow(RangeError);
  });

  test("cancelling the task that awaits it reaches the coroutine", () => {
    const log: string[] = [];
    function* func(): Coro<void> {
      try {
        yield* sleep(0);
      } finally {
        log.push("finally");
      }
    }
    runSync(
      (function* () {
        const task = createTask(coroAwait(func()));
        yield* sleep(0);
        task.cancel();
        const caught = yield* catching(task);
        expect(caught).toBeInstanceOf(CancelledError);
      })(),
    );
    expect(log).toEqual(["finally"]);
  });

  test("a coroutine that handles the cancellation returns its value", () => {
    const d = ["a"];
    function* func(a: string[]): Coro<string[] | undefined> {
      try {
        yield* sleep(10);
      } catch (e) {
        if (e instanceof CancelledError) return a;
        throw e;
      }
      return undefined;
    }
    const result = runSync(
      (function* () {
        const task = createTask(coroAwait(func(d)));
        yield* sleep(0);
        task.cancel();
        return yield* task;
      })(),
    );
    expect(result).toBe(d);
  });

  test("coroAwait starts only when awaited", () => {
    const log: string[] = [];
    // biome-ignore lint/correctness/useYield: a coroutine that returns without suspending
    function* func(): Coro<void> {
      log.push("ran");
    }
    const awaiting = coroAwait(func());
    expect(log).toEqual([]);
    runSync(awaiting);
    expect(log).toEqual(["ran"]);
    expect(() => coroAwait(42 as never)).toThrow(
      /coroAwait\(\) expects coro to be a coroutine, got number 42/,
    );
  });
});

describe.each([
  ["block", true],
  ["noblock", false],
])("coroAwait and contexts (TestContext, %s)", (_name, block) => {
  const contextvar1 = new ContextVar<string>("contextvar1");
  function* coro(v: ContextVar<string>, val: string): Coro<void> {
    v.set(val);
    if (block) yield* sleep(0);
    expect(v.get()).toBe(val);
  }

  test("without a context, it runs in the caller's", () => {
    runSync(
      (function* () {
        contextvar1.set("bar");
        yield* coroAwait(coro(contextvar1, "foo"));
        expect(contextvar1.get()).toBe("foo");
      })(),
    );
  });

  test("with a context, it runs in that one", () => {
    runSync(
      (function* () {
        contextvar1.set("bar");
        const context = copyContext();
        yield* coroAwait(coro(contextvar1, "foo"), { context });
        expect(contextvar1.get()).toBe("bar");
        expect(context.run(() => contextvar1.get())).toBe("foo");
      })(),
    );
  });
});

describe("coroIsNew, coroIsSuspended, coroIsFinished (TestCoroState)", () => {
  function* waits(f: Future<void>): Coro<void> {
    yield* f;
  }

  test("new, then suspended, then finished", () => {
    runSync(
      (function* () {
        const f = new Future<void>();
        const coro = waits(f);
        expect([coroIsNew(coro), coroIsSuspended(coro), coroIsFinished(coro)]).toEqual([
          true,
          false,
          false,
        ]);
        const cs = coroStart(coro);
        expect([coroIsNew(coro), coroIsSuspended(coro), coroIsFinished(coro)]).toEqual([
          false,
          true,
          false,
        ]);
        f.setResult();
        yield* cs;
        expect([coroIsNew(coro), coroIsSuspended(coro), coroIsFinished(coro)]).toEqual([
          false,
          false,
          true,
        ]);
      })(),
    );
  });

  test("a running coroutine is neither new, suspended nor finished", () => {
    const seen: boolean[][] = [];
    let self: Coro<void> | null = null;
    // biome-ignore lint/correctness/useYield: a coroutine that returns without suspending
    function* foo(): Coro<void> {
      const me = self as Coro<void>;
      seen.push([coroIsNew(me), coroIsSuspended(me), coroIsFinished(me)]);
    }
    self = foo();
    coroStart(self);
    expect(seen).toEqual([[false, false, false]]);
  });

  test("anything else is a TypeError", () => {
    expect(() => coroIsNew("string" as never)).toThrow(TypeError);
    expect(() => coroIsSuspended(42 as never)).toThrow(
      /coroIsSuspended\(\) expects coro to be a coroutine/,
    );
  });
});

/** A coroutine that records what reaches it. */
function* recorder(log: unknown[], waitInFinally = false): Generator<unknown, string, unknown> {
  try {
    log.push("start");
    let received = yield "first";
    log.push(["got", received]);
    try {
      received = yield "second";
      log.push(["got", received]);
    } catch (e) {
      log.push(["caught", (e as Error).message]);
      received = yield "after-catch";
      log.push(["got", received]);
    }
    return "end";
  } finally {
    log.push("finally");
    if (waitInFinally) log.push(["finally got", yield "in-finally"]);
  }
}

type Op = ["next", unknown] | ["throw", string] | ["return", unknown];

/** Applies `ops` to `gen` and records each outcome. */
function drive(gen: Generator<unknown, unknown, unknown>, ops: Op[]): unknown[] {
  const outcomes: unknown[] = [];
  for (const [kind, arg] of ops) {
    try {
      const step =
        kind === "next"
          ? gen.next(arg)
          : kind === "throw"
            ? gen.throw(new Error(arg as string))
            : gen.return(arg);
      outcomes.push(step);
    } catch (e) {
      outcomes.push(["threw", (e as Error).message]);
    }
  }
  return outcomes;
}

describe("forwarding through a continuation is exactly yield*'s", () => {
  const scripts: [string, Op[], boolean][] = [
    [
      "values sent in",
      [
        ["next", undefined],
        ["next", 1],
        ["next", 2],
        ["next", 3],
      ],
      false,
    ],
    [
      "an error thrown in and caught",
      [
        ["next", undefined],
        ["next", 1],
        ["throw", "boom"],
        ["next", 3],
        ["next", 4],
      ],
      false,
    ],
    [
      "an error thrown in at the first suspension",
      [
        ["next", undefined],
        ["throw", "boom"],
        ["next", 1],
      ],
      false,
    ],
    [
      "return() at the first suspension",
      [
        ["next", undefined],
        ["return", "r"],
        ["next", 1],
      ],
      false,
    ],
    [
      "return() whose finally waits",
      [
        ["next", undefined],
        ["next", 1],
        ["return", "r"],
        ["next", "x"],
        ["next", "y"],
      ],
      true,
    ],
    [
      "an error after it finished",
      [
        ["next", undefined],
        ["next", 1],
        ["next", 2],
        ["next", 3],
        ["throw", "late"],
        ["return", "late"],
      ],
      false,
    ],
  ];

  test.each(scripts)("%s", (_name, ops, waitInFinally) => {
    const reference: unknown[] = [];
    const viaYieldStar = drive(
      (function* () {
        return yield* recorder(reference, waitInFinally);
      })(),
      ops,
    );
    // The start runs recorder up to "first" at once; yield* start yields "first" again.
    const started: unknown[] = [];
    const cs = new CoroStart(recorder(started, waitInFinally) as unknown as Coro<string>);
    expect(started).toEqual(["start"]);
    const viaStart = drive(
      (function* () {
        return yield* cs;
      })() as Generator<unknown, unknown, unknown>,
      ops,
    );
    expect(viaStart).toEqual(viaYieldStar);
    expect(started).toEqual(reference);
    expect(reference.filter((x) => x === "finally")).toHaveLength(1);
  });

  test("the continuation driven directly, as a task drives it", () => {
    const reference: unknown[] = [];
    const ops: Op[] = [
      ["next", undefined],
      ["next", 1],
      ["throw", "boom"],
      ["next", 3],
    ];
    const direct = drive(recorder(reference), ops);
    const started: unknown[] = [];
    const cs = new CoroStart(recorder(started) as unknown as Coro<string>);
    const viaContinuation = drive(
      cs.asCoroutine() as unknown as Generator<unknown, unknown, unknown>,
      ops,
    );
    expect(viaContinuation).toEqual(direct);
    expect(started).toEqual(reference);
  });

  test("throw() or return() before the continuation's first step go to the coroutine", () => {
    for (const op of [
      ["throw", "early"],
      ["return", "early"],
    ] as Op[]) {
      const log: unknown[] = [];
      const cs = new CoroStart(recorder(log) as unknown as Coro<string>);
      const outcome = drive(cs.asCoroutine() as unknown as Generator<unknown, unknown, unknown>, [
        op,
      ]);
      expect(outcome).toEqual(
        op[0] === "throw" ? [["threw", "early"]] : [{ done: true, value: "early" }],
      );
      expect(log).toEqual(["start", "finally"]);
    }
  });

  test("the future yielded at the start is yielded again, so the task waits on it", async () => {
    const log: unknown[] = [];
    const result = await run(
      function* () {
        const f = new Future<string>();
        function* inner(): Coro<string> {
          log.push("inner start");
          const v = yield* f;
          log.push(["inner got", v]);
          return v;
        }
        const cs = new CoroStart(inner());
        const task = createTask(cs.asCoroutine());
        yield* sleep(5);
        log.push("resolving");
        f.setResult("value");
        return yield* task;
      },
      { loopFactory: () => new HostEventLoop() },
    );
    expect(result).toBe("value");
    expect(log).toEqual(["inner start", "resolving", ["inner got", "value"]]);
  });

  test("Suspend values pass through unchanged", () => {
    const f = new Future<void>({ loop: new VirtualEventLoop() });
    function* inner(): Coro<void> {
      yield* f;
    }
    const cont = new CoroStart(inner()).asCoroutine();
    const step = cont.next();
    expect(step.done).toBe(false);
    expect(step.value as Suspend).toBe(f);
    expect(isWaitStep(step)).toBe(true); // still the wait's own step, which a task waits on
  });
});
