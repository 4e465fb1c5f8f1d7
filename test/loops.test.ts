/**
 * BaseEventLoop, seen through VirtualEventLoop: the ready queue, timers,
 * handles, the exception handler, debug mode, stop/runForever/runUntilComplete
 * and close.
 */

import { promiseHooks } from "node:v8";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  type BaseEventLoop,
  CancelledError,
  ContextVar,
  createTask,
  Event,
  type ExceptionContext,
  fromPromise,
  getRunningLoop,
  Handle,
  HostEventLoop,
  InvalidStateError,
  Queue,
  run,
  SchedulingVirtualEventLoop,
  SLOW_STEP_MS,
  type Suspend,
  sleep,
  sleepInsert,
  type Task,
  TimerHandle,
  VirtualEventLoop,
} from "../src/index.js";
import { ChunkDeque } from "../src/util/chunkdeque.js";
import { Deque, type ReadyQueue } from "../src/util/deque.js";
import { TimerQueue } from "../src/util/timerqueue.js";
import { collection } from "./helpers.js";

afterEach(() => {
  vi.restoreAllMocks();
});

/** Runs the loop until `ms` of virtual time have passed. */
function runFor(loop: VirtualEventLoop, ms: number): void {
  loop.runSync(sleep(ms));
}

describe("callSoon", () => {
  it("runs callbacks in the order they were scheduled, with their arguments", () => {
    const loop = new VirtualEventLoop();
    const log: unknown[] = [];
    loop.callSoon((...a: unknown[]) => log.push(a), 1);
    loop.callSoon(() => log.push("none"));
    loop.callSoon((a: number, b: number) => log.push(a + b), 2, 3);
    loop.callSoon((a: number, b: number, c: number) => log.push(a * b * c), 2, 3, 4);
    runFor(loop, 0);
    expect(log).toEqual([[1], "none", 5, 24]);
  });

  it("a callback scheduled by a callback runs in the next iteration, after what was ready", () => {
    const loop = new VirtualEventLoop();
    const log: string[] = [];
    loop.callSoon(() => {
      log.push("a");
      loop.callSoon(() => log.push("c"));
    });
    loop.callSoon(() => log.push("b"));
    runFor(loop, 0);
    expect(log).toEqual(["a", "b", "c"]);
  });

  it("returns a Handle that can be cancelled before it runs", () => {
    const loop = new VirtualEventLoop();
    const log: string[] = [];
    const h = loop.callSoon(() => log.push("cancelled one"));
    loop.callSoon(() => log.push("kept"));
    expect(h).toBeInstanceOf(Handle);
    expect(h.cancelled()).toBe(false);
    h.cancel();
    h.cancel();
    expect(h.cancelled()).toBe(true);
    expect(h.callback).toBeNull();
    runFor(loop, 0);
    expect(log).toEqual(["kept"]);
  });

  it("a Handle shows its callback and arguments", () => {
    const loop = new VirtualEventLoop();
    function named(_a: number, _b: string): void {}
    const h = loop.callSoon(named, 1, "x");
    expect(h.callback).toBe(named);
    expect(h.args).toEqual([1, "x"]);
    expect(String(h)).toBe('<Handle named(1, "x")>');
    expect(loop.callSoon(() => {}).args).toEqual([]);
    expect(loop.callSoon((_a: number) => {}, 7).args).toEqual([7]);
    expect(loop.callSoon((..._a: number[]) => {}, 1, 2, 3).args).toEqual([1, 2, 3]);
    h.cancel();
    expect(String(h)).toBe("<Handle cancelled>");
    expect(h.args).toEqual([]);
  });

  it("a cancelled handle shows no arguments, however many it had, and a timer shows when it is due", () => {
    const loop = new VirtualEventLoop();
    const callback = (..._a: number[]): void => {};
    const soon = loop.callSoon(callback, 1, 2, 3);
    const later = loop.callAt(100, function due(..._a: number[]) {}, 1, 2, 3);
    expect(String(later)).toBe("<TimerHandle when=100 due(1, 2, 3)>");
    const anyArgs = (..._a: unknown[]): void => {};
    const args = ["a".repeat(30), { id: 1 }, [1, 2], null, callback, new RangeError("too far")];
    expect(String(loop.callSoon(anyArgs, ...args))).toBe(
      '<Handle anyArgs("aaaaaaaaaaaaaaaaaaaa…", object { id }, array of length 2, null, callback, RangeError("too far"))>',
    );
    soon.cancel();
    later.cancel();
    expect([soon.args, later.args]).toEqual([[], []]);
    expect(String(later)).toBe("<TimerHandle cancelled when=100>");
  });

  it("rejects a callback that is not a function", () => {
    const loop = new VirtualEventLoop();
    expect(() => loop.callSoon(5 as never)).toThrow(TypeError);
    expect(() => loop.callSoon(5 as never)).toThrow(
      "loop.callSoon() expects callback to be a function",
    );
  });
});

describe("callLater and callAt", () => {
  it("timers run in time order, ties in the order they were scheduled", () => {
    const loop = new VirtualEventLoop();
    const log: string[] = [];
    const at = (name: string) => () => log.push(`${name}@${loop.time()}`);
    loop.callLater(30, at("c"));
    loop.callLater(10, at("a1"));
    loop.callAt(20, at("b"));
    loop.callLater(10, at("a2"));
    loop.callLater(0, at("zero"));
    loop.callAt(10, at("a3"));
    runFor(loop, 100);
    expect(log).toEqual(["zero@0", "a1@10", "a2@10", "a3@10", "b@20", "c@30"]);
  });

  it("a due timer runs after the callbacks already ready", () => {
    const loop = new VirtualEventLoop();
    const log: string[] = [];
    loop.callLater(0, () => log.push("timer"));
    loop.callSoon(() => log.push("soon"));
    runFor(loop, 0);
    expect(log).toEqual(["soon", "timer"]);
  });

  it("a timer callback due with sleeping tasks runs in their iteration, beside their timers", () => {
    // Sleep timers due alone fire as they are collected; a callback among them must still
    // see the iteration as it is: the sleeps' timers ready after it, their tasks not yet.
    const loop = new SchedulingVirtualEventLoop();
    const log: string[] = [];
    const dropped = loop.callLater(10, () => log.push("dropped"));
    dropped.cancel();
    dropped.cancel(); // counted once
    loop.callLater(10, () => log.push(`callback: ${loop.readyLen()} ready`));
    function* sleeper(name: string): Generator<Suspend, void> {
      yield* sleep(10);
      log.push(`${name}@${loop.time()}`);
      yield* sleep(10); // due alone
      log.push(`${name}@${loop.time()}`);
    }
    loop.createTask(sleeper("a"));
    loop.createTask(sleeper("b"));
    runFor(loop, 30);
    expect(log).toEqual(["callback: 2 ready", "a@10", "b@10", "a@20", "b@20"]);
  });

  it("sleep timers fired as they are collected keep the order of an iteration that runs them", () => {
    // Debug mode runs every due timer as a ready entry: the order to match.
    type Action = { sleep: number } | { callLater: number; cancelPrevious: boolean };
    const action = fc.oneof(
      fc.record({ sleep: fc.constantFrom(0, 1, 2, 5) }),
      fc.record({ callLater: fc.constantFrom(0, 1, 2, 5), cancelPrevious: fc.boolean() }),
    );
    const program = fc.array(fc.array(action, { maxLength: 6 }), { minLength: 1, maxLength: 6 });
    function runProgram(tasks: Action[][], debug: boolean): string[] {
      const loop = new SchedulingVirtualEventLoop();
      loop.setDebug(debug);
      loop.setExceptionHandler(() => {}); // debug mode's reports of slow steps are not the point
      const log: string[] = [];
      const note = (what: string) => log.push(`${what}@${loop.time()} ready=${loop.readyLen()}`);
      let previous: TimerHandle | null = null;
      function* worker(name: string, actions: Action[]): Generator<Suspend, void> {
        for (const [i, a] of actions.entries()) {
          if ("sleep" in a) {
            yield* sleep(a.sleep);
            note(`${name}${i} woke`);
          } else {
            if (a.cancelPrevious) previous?.cancel();
            previous = loop.callLater(a.callLater, () => note(`${name}${i} callback`));
          }
        }
      }
      for (const [i, actions] of tasks.entries()) loop.createTask(worker(`t${i}.`, actions));
      runFor(loop, 20);
      return log;
    }
    fc.assert(
      fc.property(program, (tasks) => {
        expect(runProgram(tasks, false)).toEqual(runProgram(tasks, true));
      }),
      { numRuns: 300 },
    );
  }, 30_000); // seconds of CPU: a loaded machine stretches them past the default 5 s

  it("callAt in the past runs as soon as possible", () => {
    const loop = new VirtualEventLoop();
    loop.advance(50);
    const log: number[] = [];
    loop.callAt(10, () => log.push(loop.time()));
    runFor(loop, 0);
    expect(log).toEqual([50]);
  });

  it("a cancelled timer never runs; when() tells when it was due", () => {
    const loop = new VirtualEventLoop();
    const log: string[] = [];
    const t = loop.callLater(10, () => log.push("cancelled"));
    loop.callLater(20, () => log.push("kept"));
    expect(t).toBeInstanceOf(TimerHandle);
    expect(t.when()).toBe(10);
    t.cancel();
    t.cancel();
    expect(t.cancelled()).toBe(true);
    runFor(loop, 30);
    expect(log).toEqual(["kept"]);
  });

  it("cancelling a timer that already ran changes nothing", () => {
    const loop = new VirtualEventLoop();
    let runs = 0;
    const t = loop.callLater(1, () => runs++);
    runFor(loop, 5);
    t.cancel();
    expect(runs).toBe(1);
    expect(t.cancelled()).toBe(true);
  });

  it("many cancelled timers are swept out of the heap", () => {
    const loop = new VirtualEventLoop();
    const log: number[] = [];
    const timers = Array.from({ length: 300 }, (_, i) => loop.callLater(i + 1, () => log.push(i)));
    for (let i = 0; i < 300; i++) if (i % 100 !== 0) timers[i]!.cancel();
    expect(loop._scheduled.length).toBeLessThan(300);
    runFor(loop, 400);
    expect(log).toEqual([0, 100, 200]);
  });

  it("passes arguments to timer callbacks", () => {
    const loop = new VirtualEventLoop();
    const log: unknown[] = [];
    loop.callLater(1, (a: string, b: number) => log.push(a, b), "x", 2);
    runFor(loop, 1);
    expect(log).toEqual(["x", 2]);
  });
});

describe("the exception handler", () => {
  it("gets the error of a throwing callback, and the loop keeps running", () => {
    const loop = new VirtualEventLoop();
    const log: string[] = [];
    const contexts: ExceptionContext[] = [];
    loop.setExceptionHandler((l, ctx) => {
      expect(l).toBe(loop);
      contexts.push(ctx);
    });
    const error = new Error("boom");
    function thrower(): void {
      throw error;
    }
    const h = loop.callSoon(thrower);
    loop.callSoon(() => log.push("next"));
    loop.callLater(5, () => log.push("timer"));
    runFor(loop, 10);
    expect(log).toEqual(["next", "timer"]);
    expect(contexts).toHaveLength(1);
    expect(contexts[0]!.message).toBe("Exception in callback thrower");
    expect(contexts[0]!.exception).toBe(error);
    expect(contexts[0]!.handle).toBe(h);
  });

  it("getExceptionHandler returns the handler; null restores the default", () => {
    const loop = new VirtualEventLoop();
    const handler = () => {};
    expect(loop.getExceptionHandler()).toBeNull();
    loop.setExceptionHandler(handler);
    expect(loop.getExceptionHandler()).toBe(handler);
    loop.setExceptionHandler(null);
    expect(loop.getExceptionHandler()).toBeNull();
    expect(() => loop.setExceptionHandler("x" as never)).toThrow(TypeError);
  });

  it("the default handler logs with console.error", () => {
    const loop = new VirtualEventLoop();
    const logged: string[] = [];
    vi.spyOn(console, "error").mockImplementation((msg: string) => logged.push(msg));
    loop.callSoon(function failing() {
      throw new Error("logged error");
    });
    loop.callSoon(() => {
      throw "a string";
    });
    runFor(loop, 0);
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatch(
      /^Exception in callback failing\nhandle: <Handle failing\(\)>\nError: logged error/,
    );
    expect(logged[1]).toMatch(/a string$/);
  });

  it("the default handler shows an error's cause, a task group's errors and a thrown object", () => {
    const loop = new VirtualEventLoop();
    const logged: string[] = [];
    vi.spyOn(console, "error").mockImplementation((msg: string) => logged.push(msg));
    loop.callSoon(function saving() {
      throw new Error("could not save order 17", { cause: new Error("ECONNRESET") });
    });
    loop.callSoon(function syncing() {
      throw new AggregateError([new Error("A: refused"), new TypeError("B: no id")], "2 failed");
    });
    loop.callSoon(function quota() {
      throw { code: "E_QUOTA", detail: { used: 5, limit: 3 } };
    });
    runFor(loop, 0);
    expect(logged).toHaveLength(3);
    expect(logged[0]).toMatch(
      /Error: could not save order 17\n[\s\S]*\[cause\]: Error: ECONNRESET\n/,
    );
    expect(logged[1]).toMatch(
      /AggregateError: 2 failed\n[\s\S]*\[errors\]: \[\n\s+Error: A: refused\n[\s\S]*TypeError: B: no id\n/,
    );
    expect(logged[2]).toMatch(/\n\{ code: 'E_QUOTA', detail: \{ used: 5, limit: 3 \} \}$/);
  });

  it("the default handler logs a context without message or exception", () => {
    const loop = new VirtualEventLoop();
    const logged: string[] = [];
    vi.spyOn(console, "error").mockImplementation((msg: string) => logged.push(msg));
    loop.callExceptionHandler({ message: "", extra: 1 });
    // A field given as undefined is one left out, as in every options object.
    loop.callExceptionHandler({ message: "custom", task: undefined, extra: undefined });
    expect(logged).toEqual(["Unhandled exception in event loop\nextra: 1", "custom"]);
  });

  it("an error in the handler itself is logged, never thrown", () => {
    const loop = new VirtualEventLoop();
    const logged: string[] = [];
    vi.spyOn(console, "error").mockImplementation((msg: string) => logged.push(msg));
    loop.setExceptionHandler(() => {
      throw new Error("handler broke");
    });
    const log: string[] = [];
    loop.callSoon(() => {
      throw new Error("first");
    });
    loop.callSoon(() => log.push("still running"));
    runFor(loop, 0);
    expect(log).toEqual(["still running"]);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/^Unhandled error in exception handler/);
    expect(logged[0]).toMatch(/handler broke/);
  });

  it("a default handler that throws (a subclass's) is logged as asyncio logs it, and the loop goes on", () => {
    class Strict extends VirtualEventLoop {
      override defaultExceptionHandler(context: ExceptionContext): void {
        throw new Error(`default broke on: ${context.message}`);
      }
    }
    const logged: unknown[][] = [];
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => logged.push(args));
    for (const custom of [false, true]) {
      const loop = new Strict();
      if (custom) {
        loop.setExceptionHandler(() => {
          throw new Error("handler broke");
        });
      }
      const log: string[] = [];
      loop.callSoon(function failing() {
        throw new Error("first");
      });
      loop.callSoon(() => log.push("still running"));
      runFor(loop, 0);
      expect(log).toEqual(["still running"]);
    }
    expect(logged.map(([what, error]) => [what, (error as Error).message])).toEqual([
      ["Exception in default exception handler", "default broke on: Exception in callback failing"],
      [
        "Exception in default exception handler while handling an unexpected error in custom exception handler",
        "default broke on: Unhandled error in exception handler",
      ],
    ]);
  });

  it("a handler that throws: the error it was given is logged whole beside its own", () => {
    const loop = new VirtualEventLoop();
    const logged: string[] = [];
    vi.spyOn(console, "error").mockImplementation((msg: string) => logged.push(msg));
    loop.setExceptionHandler(() => {
      throw new Error("handler broke");
    });
    loop.callSoon(function failing() {
      throw new Error("first");
    });
    runFor(loop, 0);
    const lines = (logged[0] as string).split("\n");
    expect(lines.slice(0, 4)).toEqual([
      "Unhandled error in exception handler",
      "context:",
      "  Exception in callback failing",
      "  handle: <Handle failing()>",
    ]);
    expect(lines[4]).toBe("  Error: first");
    expect(lines.some((line) => line.startsWith("  ") && line.includes("at failing"))).toBe(true);
    expect(lines).toContain("Error: handler broke");
  });

  it("an async handler's rejection is logged with the context it was given, never thrown", async () => {
    const loop = new VirtualEventLoop();
    const logged: string[] = [];
    vi.spyOn(console, "error").mockImplementation((msg: string) => logged.push(msg));
    loop.setExceptionHandler(async () => {
      await null;
      throw new Error("async handler broke");
    });
    loop.callSoon(function failing() {
      throw new Error("first");
    });
    runFor(loop, 0);
    await new Promise((resolve) => setTimeout(resolve, 0));
    const lines = (logged[0] as string).split("\n");
    expect(lines.slice(0, 3)).toEqual([
      "Unhandled error in exception handler",
      "context:",
      "  Exception in callback failing",
    ]);
    expect(lines).toContain("Error: async handler broke");
  });

  it("a generator function is refused as a callback: its coroutine would never run", () => {
    const loop = new VirtualEventLoop();
    function* work() {
      yield;
    }
    for (const [where, call] of [
      ["loop.callSoon()", () => loop.callSoon(work)],
      ["loop.callLater()", () => loop.callLater(10, work)],
      ["loop.callAt()", () => loop.callAt(10, work)],
      ["future.addDoneCallback()", () => loop.createFuture().addDoneCallback(work as never)],
    ] as const) {
      expect(call).toThrow(
        new TypeError(
          `${where} expects callback to be a function to call, got generator function work: calling a function* only makes a coroutine, which a callback would drop: run it as a task, () => loop.createTask(work()).`,
        ),
      );
    }
  });

  it("an async callback's rejection goes to the handler, as a throw does", async () => {
    const loop = new VirtualEventLoop();
    const contexts: ExceptionContext[] = [];
    loop.setExceptionHandler((_l, ctx) => contexts.push(ctx));
    const error = new Error("later");
    const future = loop.createFuture<number>();
    future.addDoneCallback(async function afterDone() {
      await null;
      throw error;
    });
    const handle = loop.callSoon(async function soon() {
      throw new TypeError("at once");
    });
    const fine = loop.callSoon(async () => "a value is no failure");
    future.setResult(1);
    runFor(loop, 0);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(contexts.map((c) => [c.message, String(c.exception)])).toEqual([
      ["Exception in callback soon", "TypeError: at once"],
      ["Exception in callback afterDone", "Error: later"],
    ]);
    expect(contexts[0]!.handle).toBe(handle);
    expect(contexts[1]!.exception).toBe(error);
    expect(fine.cancelled()).toBe(false);
  });

  it("an async callback's rejection is handled in the callback's context, as a throw is (gh-96704)", async () => {
    const name = new ContextVar("name", { default: "foo" });
    const loop = new VirtualEventLoop();
    const seen: string[] = [];
    loop.setExceptionHandler(() => seen.push(name.get()));
    loop.callSoon(() => {
      name.set("bar");
      throw new Error("at once");
    });
    loop.callSoon(async () => {
      name.set("baz");
      throw new Error("in its promise");
    });
    runFor(loop, 0);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect([seen, name.get()]).toEqual([["bar", "baz"], "foo"]);
  });
});

describe("debug mode", () => {
  it("is off by default and can be set", () => {
    const loop = new VirtualEventLoop();
    expect(loop.getDebug()).toBe(false);
    loop.setDebug(true);
    expect(loop.getDebug()).toBe(true);
    loop.setDebug(false);
    expect(loop.getDebug()).toBe(false);
    expect(() => loop.setDebug(undefined as never)).toThrow(/got undefined/);
    expect(() => loop.setDebug("yes" as never)).toThrow(
      new TypeError(
        'loop.setDebug() expects enabled to be a boolean, got string "yes": pass true or false.',
      ),
    );
  });

  it("cancel() takes a string message, or none", () => {
    const loop = new VirtualEventLoop();
    const future = loop.createFuture();
    expect(() => future.cancel(42 as never)).toThrow(
      new TypeError(
        'future.cancel() expects message to be a string, got number 42: pass a message, e.g. cancel("shutting down"), or String(reason).',
      ),
    );
    expect(future.cancelled()).toBe(false);
    loop.runSync(function* () {
      const task = createTask(sleep(10));
      expect(() => task.cancel({ reason: 1 } as never)).toThrow(
        /^task\.cancel\(\) expects message to be a string/,
      );
      expect(task.cancel("stop")).toBe(true);
      yield* sleep(0);
      expect(task.cancelled()).toBe(true);
    });
  });

  /**
   * A virtual loop in debug mode whose exception handler collects the lint
   * messages, and the other reports into `others` if given (else there must be none).
   */
  function linted(loop: BaseEventLoop, others?: string[]): string[] {
    const lints: string[] = [];
    loop.setDebug(true);
    loop.setExceptionHandler((_, context) => {
      if (context.lint === true) lints.push(context.message);
      else if (others !== undefined) others.push(context.message);
      else expect.unreachable(`not a lint: ${context.message}`);
    });
    return lints;
  }

  /** A linted loop whose clock only `work(ms)` moves on, and its lints. */
  function timedLoop<L extends BaseEventLoop = VirtualEventLoop>(
    loop: L = new VirtualEventLoop() as BaseEventLoop as L,
    others?: string[],
  ): { loop: L; lints: string[]; work: (ms: number) => void } {
    const lints = linted(loop, others);
    let clock = 0;
    vi.spyOn(Performance.prototype, "now").mockImplementation(() => clock);
    return { loop, lints, work: (ms) => void (clock += ms) };
  }

  it("reports callbacks slower than 100 ms to the exception handler, as a lint", () => {
    const loop = new VirtualEventLoop();
    const lints = linted(loop);
    let clock = 0;
    vi.spyOn(Performance.prototype, "now").mockImplementation(() => clock);
    const log: string[] = [];
    loop.callSoon(function slow() {
      clock += 150;
      log.push("slow");
    });
    loop.callSoon(function fast() {
      clock += 1;
      log.push("fast");
    });
    runFor(loop, 0);
    expect(log).toEqual(["slow", "fast"]);
    // As asyncio's: in debug mode a callback says where it was scheduled.
    expect(lints).toEqual([
      expect.stringMatching(
        /^Executing <Handle slow\(\) created at \S*test\/loops\.test\.ts:\d+:\d+> took 150\.0 ms: a step this long holds up every other task$/,
      ),
    ]);
  });

  it("reports callbacks as slow from loop.slowCallbackDuration, which checks what it is set to", () => {
    const loop = new VirtualEventLoop();
    const lints = linted(loop);
    expect(loop.slowCallbackDuration).toBe(SLOW_STEP_MS);
    loop.slowCallbackDuration = 10;
    let clock = 0;
    vi.spyOn(Performance.prototype, "now").mockImplementation(() => clock);
    for (const [name, took] of [
      ["nine", 9],
      ["ten", 10],
    ] as const) {
      loop.callSoon((_named: string) => {
        clock += took;
      }, name);
    }
    runFor(loop, 0);
    expect(lints).toEqual([expect.stringMatching(/^Executing <Handle .*"ten".*> took 10\.0 ms: /)]);
    expect(() => {
      loop.slowCallbackDuration = -1;
    }).toThrow(
      "loop.slowCallbackDuration expects ms to be a number >= 0, got number -1: set it to a duration in milliseconds, such as 100.",
    );
    expect(() => {
      loop.slowCallbackDuration = "5" as never;
    }).toThrow(TypeError);
    expect(loop.slowCallbackDuration).toBe(10);
  });

  it("reports a slow task step with the task, what it resumed after and where", () => {
    const loop = new VirtualEventLoop();
    const lints = linted(loop);
    let clock = 0;
    vi.spyOn(Performance.prototype, "now").mockImplementation(() => clock);
    const queue = new Queue<number>();
    loop.runSync(
      (function* () {
        const consumer = loop.createTask(
          (function* consume() {
            yield* queue.get();
            clock += 120; // a long computation once the item came
          })(),
          { name: "consumer" },
        );
        yield* sleep(0);
        queue.putNowait(1);
        yield* consumer;
      })(),
    );
    expect(lints).toHaveLength(1);
    // Where: the yield* it suspended at, the frame the stack taken in debug mode gives.
    expect(lints[0]).toMatch(
      /^Executing <Task finished name="consumer" result=undefined> took 120\.0 ms \(resumed after Queue\.get\(\) at consume \(.*test\/loops\.test\.ts:\d+:\d+\)\): a step this long holds up every other task$/,
    );
  });

  it("says where a slow step resumed after a sleep(0), and only that after a bare yield", () => {
    const { loop, lints, work } = timedLoop();
    loop.runSync(
      loop.createTask(
        (function* crunch() {
          yield* sleep(0);
          work(120); // a chunk of work between two turns
          yield;
          work(120);
          yield* sleep(0);
        })(),
        { name: "cruncher" },
      ),
    );
    // (crunch's frame, or where test:jsc's emulated yield* steps it)
    expect(lints).toEqual([
      expect.stringMatching(
        /^Executing <Task pending name="cruncher"> took 120\.0 ms \(resumed after sleep\(0\) at \S+ \(.*test\/loops\.test\.ts:\d+:\d+\)\): a step this long holds up every other task$/,
      ),
      'Executing <Task pending name="cruncher"> took 120.0 ms (resumed after a bare yield): a step this long holds up every other task',
    ]);
  });

  it("reports a slow step of a native task, its own code after an await included", async () => {
    const loop = new VirtualEventLoop();
    const lints = linted(loop);
    let clock = 0;
    vi.spyOn(Performance.prototype, "now").mockImplementation(() => clock);
    await loop.runUntilComplete(
      loop.createTask(
        async () => {
          await sleep(1);
          clock += 120; // a long computation in the microtasks after the await
          await sleep(1);
        },
        { name: "cruncher" },
      ),
    );
    loop.close();
    expect(lints).toEqual([
      expect.stringMatching(
        /^Executing <Task pending name="cruncher"> took 120\.0 ms \(resumed after sleep until t=1 ms\): a step this long holds up every other task$/,
      ),
    ]);
  });

  it("with asyncLocalStorage, reports a native task's slow code after a host await, which is no step", async () => {
    const removed = hookRemovals();
    const { loop, lints, work } = timedLoop(new HostEventLoop({ asyncLocalStorage: true }));
    // Long enough for the loop to find the task blocked first, in the host turn after its step.
    const hostDelay = () => new Promise((resolve) => setTimeout(resolve, 20));
    await loop.runUntilComplete(
      loop.createTask(
        async () => {
          await hostDelay();
          work(120); // computes in the job the host resumed it in
          await hostDelay();
          work(20); // a short one
          await fromPromise(hostDelay());
          work(110); // a step of the task's: the ordinary lint
          await sleep(0);
        },
        { name: "handler" },
      ),
    );
    expect(lints).toEqual([
      `Executing <Task pending name="handler"> took 120.0 ms in code the host resumed after an await of a host promise, outside the loop's steps (await the promise through fromPromise() to make that code a step): a run this long holds up every other task`,
      expect.stringMatching(
        /^Executing <Task pending name="handler"> took 110\.0 ms \(resumed after fromPromise\(.*\)\): a step this long holds up every other task$/,
      ),
    ]);
    expect(removed).toEqual([]);
    loop.close();
    expect(removed).toEqual(["onBefore", "onAfter"]); // the last debug loop to close removes the hooks
  });

  /** Each removal of a promise hook asynkit added, by the hook's name, while the test runs. */
  function hookRemovals(): string[] {
    const removed: string[] = [];
    for (const hook of ["onBefore", "onAfter"] as const) {
      const add = promiseHooks[hook].bind(promiseHooks);
      vi.spyOn(promiseHooks, hook).mockImplementation((fn) => {
        const remove = add(fn);
        return () => {
          removed.push(hook);
          remove();
        };
      });
    }
    return removed;
  }

  it.each(["submit()", "eagerStart"] as const)(
    "with asyncLocalStorage, times a native step begun by %s by its code's jobs, not by host callbacks run before the loop finds its end",
    async (start) => {
      const { loop: app, lints, work } = timedLoop(new HostEventLoop({ asyncLocalStorage: true }));
      const hostDelay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      const handler = async () => {
        await null;
        await hostDelay(30);
        return "done";
      };
      const running = app.submit(() => hostDelay(60)); // the loop runs from here on
      let fast: Task<string> | undefined;
      // The step begins in the first timer's callback (or the microtasks after it), and ends
      // at a host await: the loop finds that in its next host turn, after the second
      // callback's 150 ms.
      setTimeout(() => {
        fast =
          start === "submit()"
            ? app.submit(handler, { name: "fast" })
            : app.createTask(handler, { name: "fast", eagerStart: true });
      }, 10);
      setTimeout(() => work(150), 10);
      await running;
      expect(await fast).toBe("done");
      await app.shutdown();
      expect(lints).toEqual([]);
    },
  );

  it("with asyncLocalStorage, reports slow code after a Promise.race() the host settled, while the task waits on its loser", async () => {
    const others: string[] = [];
    const { loop, lints, work } = timedLoop(new HostEventLoop({ asyncLocalStorage: true }), others);
    await loop.runUntilComplete(
      loop.createTask(
        async () => {
          await Promise.race([new Promise((resolve) => setTimeout(resolve, 20)), sleep(10_000)]);
          work(130); // no step's: the task still waits on the sleep
          await sleep(0);
        },
        { name: "racer" },
      ),
    );
    loop.close();
    expect(lints.filter((lint) => lint.startsWith("Executing"))).toEqual([
      `Executing <Task pending name="racer"> took 130.0 ms in code the host resumed after an await of a host promise, outside the loop's steps (await the promise through fromPromise() to make that code a step): a run this long holds up every other task`,
    ]);
    // The sleep, let go into a task of its own (the racer's child), is pending at close().
    expect(others).toEqual([
      expect.stringMatching(
        /^Task was destroyed but it is pending: .* waits on sleep until t=10000 ms/,
      ),
    ]);
  });

  it("on a virtual loop with asyncLocalStorage, reports slow code after a host await too", async () => {
    const reports: string[] = [];
    const { loop, lints, work } = timedLoop(
      new VirtualEventLoop({ asyncLocalStorage: true }),
      reports,
    );
    await loop.runUntilComplete(
      loop.createTask(
        async () => {
          await new Promise((resolve) => setTimeout(resolve, 20));
          work(120);
          await sleep(0);
        },
        { name: "v" },
      ),
    );
    loop.close();
    expect(reports).toEqual([
      expect.stringMatching(/^<Task pending name="v"> awaited a promise the loop did not make/),
    ]);
    expect(lints).toEqual([
      expect.stringMatching(
        /^Executing <Task pending name="v"> took 120\.0 ms in code the host resumed after an await of a host promise/,
      ),
    ]);
  });

  it("a debug loop dropped unclosed is collected, and takes the promise hooks with it", async () => {
    const removed = hookRemovals();
    const { watch, collected } = collection();
    await (async () => {
      const loop = new HostEventLoop({ asyncLocalStorage: true });
      loop.setDebug(true);
      watch(loop, "loop");
      await loop.runUntilComplete(async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
      });
    })();
    expect(await collected(1)).toEqual(["loop"]);
    // The linter's registry may speak a collection or two after the loop's.
    for (let i = 0; i < 10 && removed.length === 0; i++) await collected(2);
    expect(removed).toEqual(["onBefore", "onAfter"]);
  });

  it("on a host whose promise hooks refuse to be added, runs on without that lint, and asks once", async () => {
    const onBefore = vi.spyOn(promiseHooks, "onBefore").mockImplementation(() => {
      throw new Error("not implemented");
    });
    const loop = new HostEventLoop({ asyncLocalStorage: true });
    const lints = linted(loop);
    const hostDelay = () => new Promise((resolve) => setTimeout(resolve, 20));
    const result = await loop.runUntilComplete(async () => {
      await hostDelay();
      await hostDelay(); // asks no more
      return "done";
    });
    loop.close();
    expect([result, lints, onBefore.mock.calls.length]).toEqual(["done", [], 1]);
  });

  it("says of a slow first step that it is the task's first, not that it resumed after anything", () => {
    const { loop, lints, work } = timedLoop();
    loop.runSync(
      loop.createTask(
        (function* () {
          work(130); // computes before it ever suspends
          yield;
        })(),
        { name: "eager beaver" },
      ),
    );
    expect(lints).toEqual([
      'Executing <Task pending name="eager beaver"> took 130.0 ms (its first step): a step this long holds up every other task',
    ]);
  });

  it("does not take a native task's awaits for polling", async () => {
    const loop = new VirtualEventLoop();
    const lints = linted(loop);
    loop.slowCallbackDuration = 60_000; // a loaded machine's slow step is not what this asks
    await loop.runUntilComplete(
      loop.createTask(async () => {
        for (let i = 0; i < 1500; i++) await sleep(1);
      }),
    );
    loop.close();
    expect(lints).toEqual([]);
  });

  it("reports a task kept ready for more than 100 iterations, once", () => {
    const loop = new SchedulingVirtualEventLoop();
    const lints = linted(loop);
    loop.runSync(
      (function* () {
        const starved = loop.createTask(
          (function* () {
            yield;
          })(),
          { name: "starved" },
        );
        // Main goes back to the front of the queue 300 times, ahead of it.
        for (let i = 0; i < 300; i++) yield* sleepInsert(0);
        yield* starved;
      })(),
    );
    expect(lints).toEqual([
      '<Task pending name="starved"> has been ready for 101 iterations without running: it is starved (the ready queue was reordered ahead of it ever since)',
    ]);
  });

  it("reports a task woken again and again with nothing to wait for (polling), once", () => {
    const loop = new VirtualEventLoop();
    const lints = linted(loop);
    vi.spyOn(Performance.prototype, "now").mockImplementation(() => 0); // every step takes no time
    loop.runSync(
      (function* () {
        const poller = loop.createTask(
          (function* () {
            for (let i = 0; i < 1500; i++) yield* sleep(0);
          })(),
          { name: "poller" },
        );
        // A task that waits for real between its steps is not polling.
        const waiter = loop.createTask(
          (function* () {
            for (let i = 0; i < 1500; i++) yield* sleep(0.001);
          })(),
          { name: "waiter" },
        );
        // One that polls on after a wait now and then is reported once, not at each run of polls.
        const again = loop.createTask(
          (function* () {
            for (let i = 1; i <= 4000; i++) yield* sleep(i % 1100 === 0 ? 0.001 : 0);
          })(),
          { name: "again" },
        );
        yield* poller;
        yield* waiter;
        yield* again;
      })(),
    );
    expect(lints).toEqual([
      '<Task pending name="poller"> was woken 1000 times in a row with nothing to wait for: it polls, where it could wait on an Event or a Future',
      '<Task pending name="again"> was woken 1000 times in a row with nothing to wait for: it polls, where it could wait on an Event or a Future',
    ]);
  });

  it("measures the host clock's tick by the median of its steps, so that a pause then does not count", async () => {
    // A browser's 100 µs clock, paused 3 ms once while the tick was measured: the largest step
    // was taken, and 0.3 ms of work between sleep(0)s was reported as polling.
    const readings = [0, 0, 0.1, 0.1, 0.2, 3.2, 3.3, 3.4, 3.4, 3.5, 3.6];
    let read = 0;
    vi.spyOn(Performance.prototype, "now").mockImplementation(
      () => readings[Math.min(read++, readings.length - 1)] as number,
    );
    vi.resetModules();
    const { clockTick } = await import("../src/util/clock.js");
    expect(clockTick()).toBeCloseTo(0.1, 9);
  });

  it("a poll whose steps are slowed now and then (a collection) is reported; steps of work are not", () => {
    const loop = new VirtualEventLoop();
    const lints = linted(loop);
    let clock = 0; // the host's clock, as the linter reads it: each task's steps move it
    vi.spyOn(Performance.prototype, "now").mockImplementation(() => clock);
    loop.runSync(
      (function* () {
        // One step in 200 takes 0.2 ms: below the one in 100 a poll may have.
        const paused = loop.createTask(
          (function* () {
            for (let i = 1; i <= 1500; i++) {
              if (i % 200 === 0) clock += 0.2;
              yield* sleep(0);
            }
          })(),
          { name: "paused" },
        );
        // Every step does 0.1 ms of work, or one in 50 does: work between the yields.
        const worker = loop.createTask(
          (function* () {
            for (let i = 0; i < 1500; i++) {
              clock += 0.1;
              yield* sleep(0);
            }
          })(),
          { name: "worker" },
        );
        const chunked = loop.createTask(
          (function* () {
            for (let i = 1; i <= 1500; i++) {
              if (i % 50 === 0) clock += 0.2;
              yield* sleep(0);
            }
          })(),
          { name: "chunked" },
        );
        yield* paused;
        yield* worker;
        yield* chunked;
      })(),
    );
    expect(lints).toEqual([
      '<Task pending name="paused"> was woken 1000 times in a row with nothing to wait for: it polls, where it could wait on an Event or a Future',
    ]);
  });

  it("close() reports each task still pending, in debug mode or not, once", () => {
    const loop = new VirtualEventLoop();
    const reports: string[] = [];
    loop.setExceptionHandler((_loop, context) => reports.push(context.message));
    const finallies: string[] = [];
    loop.createTask(
      (function* () {
        try {
          yield* new Event().wait();
        } finally {
          finallies.push("never");
        }
      })(),
      { name: "forgotten" },
    );
    loop.createTask(sleep(5), { name: "ended" });
    loop.runSync(sleep(10));
    loop.close();
    loop.close();
    expect([reports, finallies]).toEqual([
      [
        'Task was destroyed but it is pending: its loop was closed: Task "forgotten" waits on Event.wait()',
      ],
      [],
    ]);
  });

  it("close() rejects what code outside the loop awaits of a task still pending: it will never finish", async () => {
    const loop = new VirtualEventLoop();
    loop.setExceptionHandler(() => {});
    const forgotten = loop.createTask(new Event().wait(), { name: "forgotten" });
    loop.runSync(sleep(1));
    const awaited = (async () => {
      try {
        return await forgotten;
      } catch (error) {
        return `${(error as Error).name}: ${(error as Error).message}`;
      }
    })();
    const thenned = forgotten.then(
      () => "fulfilled",
      (error: Error) => error.name,
    );
    loop.close();
    expect([await awaited, await thenned, forgotten.done()]).toEqual([
      'InvalidStateError: <Task pending name="forgotten"> will never finish: its loop was closed while it was pending.',
      "InvalidStateError",
      false,
    ]);
  });

  it("reports, as the loop closes, the futures tasks still wait on", () => {
    const loop = new VirtualEventLoop();
    const pending: string[] = [];
    const lints = linted(loop, pending);
    const event = new Event();
    const waiters = ["a", "b"].map((name) => loop.createTask(event.wait(), { name }));
    runFor(loop, 0);
    expect(waiters.every((t) => !t.done())).toBe(true);
    loop.close();
    expect(lints).toEqual([
      'Event.wait() was never completed, and <Task pending name="a"> still waits on it as the loop closes',
      'Event.wait() was never completed, and <Task pending name="b"> still waits on it as the loop closes',
    ]);
    // Besides the lints, the loop reports each task still pending, as in any mode.
    expect(pending).toEqual([
      'Task was destroyed but it is pending: its loop was closed: Task "a" waits on Event.wait() since t=0 ms',
      'Task was destroyed but it is pending: its loop was closed: Task "b" waits on Event.wait() since t=0 ms',
    ]);
  });
});

describe("runForever, stop and runUntilComplete", () => {
  it("runForever runs until stop(); callbacks ready in the same iteration still run", async () => {
    const loop = new VirtualEventLoop();
    const log: string[] = [];
    loop.callSoon(() => {
      log.push("a");
      loop.stop();
      loop.callSoon(() => log.push("next iteration"));
    });
    loop.callSoon(() => log.push("b"));
    expect(loop.isRunning()).toBe(false);
    const done = loop.runForever();
    expect(loop.isRunning()).toBe(true);
    await done;
    expect(loop.isRunning()).toBe(false);
    expect(log).toEqual(["a", "b"]);
  });

  it("stop() before runForever() makes it run one iteration, then stop (as asyncio)", async () => {
    const loop = new VirtualEventLoop();
    const log: string[] = [];
    loop.callSoon(() => {
      log.push("ready before");
      loop.callSoon(() => log.push("next iteration"));
    });
    loop.stop();
    await loop.runForever();
    expect(log).toEqual(["ready before"]);
    expect(loop.isRunning()).toBe(false);
  });

  it("runForever can run again after a stop, and picks up what is left", async () => {
    const loop = new VirtualEventLoop();
    const log: string[] = [];
    loop.callSoon(() => {
      log.push("first run");
      loop.stop();
      loop.callSoon(() => {
        log.push("second run");
        loop.stop();
      });
    });
    await loop.runForever();
    await loop.runForever();
    expect(log).toEqual(["first run", "second run"]);
  });

  it("runForever waits for timers on the virtual clock", async () => {
    const loop = new VirtualEventLoop();
    loop.callLater(5000, () => loop.stop());
    await loop.runForever();
    expect(loop.time()).toBe(5000);
  });

  it("a stopped loop that waits (nothing ready, no timer) is stopped by stop()", async () => {
    const loop = new VirtualEventLoop();
    const done = loop.runForever();
    await Promise.resolve();
    await Promise.resolve();
    expect(loop.isRunning()).toBe(true);
    loop.stop();
    await done;
    expect(loop.isRunning()).toBe(false);
  });

  it("runUntilComplete resolves with the result, or rejects with the error", async () => {
    const loop = new VirtualEventLoop();
    await expect(loop.runUntilComplete(sleep(10, "ok"))).resolves.toBe("ok");
    const error = new Error("bad");
    await expect(
      loop.runUntilComplete(
        (function* (): Generator<undefined, never> {
          yield;
          throw error;
        })(),
      ),
    ).rejects.toBe(error);
    expect(loop.time()).toBe(10);
  });

  it("runUntilComplete refuses a pending future of its loop as main's result, which only the loop's next run could finish", async () => {
    const loop = new VirtualEventLoop();
    const pending = loop.createFuture<number>();
    loop.callLater(10, () => pending.setResult(5));
    // biome-ignore lint/correctness/useYield: main returns the future rather than wait for it
    const refused = loop.runUntilComplete(function* () {
      return pending;
    });
    await expect(refused).rejects.toThrow(InvalidStateError);
    await expect(refused).rejects.toThrow(
      "runUntilComplete(): main returned <Future pending>, which could finish only on the loop runUntilComplete() ran, stopped as main ends: return (yield* it) to return its result instead.",
    );
    expect([loop.time(), pending.done()]).toEqual([0, false]);
    // Returned through yield*, the future's result is main's; a done one is read at once.
    await expect(
      loop.runUntilComplete(function* () {
        return yield* pending;
      }),
    ).resolves.toBe(5);
    await expect(
      // biome-ignore lint/correctness/useYield: main returns the future, done by now
      loop.runUntilComplete(function* () {
        return pending;
      }),
    ).resolves.toBe(5);
  });

  it("runUntilComplete rejects when the loop is stopped before the future is done", async () => {
    const loop = new VirtualEventLoop();
    loop.callLater(1, () => loop.stop());
    await expect(loop.runUntilComplete(sleep(100))).rejects.toThrow(
      "The event loop was stopped before the awaited future completed.",
    );
  });

  it("a task that stops the loop makes runUntilComplete reject; the task can be resumed later (test_stop_while_run_in_complete)", async () => {
    const loop = new VirtualEventLoop();
    let x = 0;
    const task = loop.createTask(
      (function* () {
        while (x < 10) {
          yield* sleep(100);
          x++;
          if (x === 2) loop.stop();
        }
      })(),
    );
    await expect(loop.runUntilComplete(task)).rejects.toThrow(
      "The event loop was stopped before the awaited future completed.",
    );
    expect(task.done()).toBe(false);
    expect(x).toBe(2);
    expect(loop.time()).toBe(200);
    task.cancel();
    await expect(loop.runUntilComplete(task)).rejects.toThrow(CancelledError);
    expect(x).toBe(2);
  });

  it("runUntilComplete takes a future and a native promise", async () => {
    const loop = new VirtualEventLoop();
    const f = loop.createFuture<number>();
    loop.callLater(3, () => f.setResult(3));
    await expect(loop.runUntilComplete(f)).resolves.toBe(3);
    await expect(loop.runUntilComplete(Promise.resolve("p"))).resolves.toBe("p");
  });

  it("keeps nothing of a loop that has stopped: each of many run() calls can be collected", async () => {
    const { watch, collected } = collection();
    for (let i = 0; i < 3; i++) {
      await run(function* () {
        watch(getRunningLoop(), `run ${i}`);
        yield* sleep(0);
      });
    }
    // In a function of its own, so that no variable of this test keeps the loop.
    await (async () => {
      const virtual = new VirtualEventLoop();
      watch(virtual, "virtual");
      await virtual.runUntilComplete(sleep(10));
      virtual.close();
    })();
    expect(await collected(4)).toEqual(["run 0", "run 1", "run 2", "virtual"]);
  });
});

describe("close", () => {
  it("drops what is scheduled and refuses new work", () => {
    const loop = new VirtualEventLoop();
    const log: string[] = [];
    loop.callSoon(() => log.push("never"));
    loop.callLater(10, () => log.push("never either"));
    expect(loop.isClosed()).toBe(false);
    loop.close();
    expect(loop.isClosed()).toBe(true);
    expect(loop._ready.length).toBe(0);
    expect(loop._scheduled.length).toBe(0);
    loop.close();
    expect(() => loop.callSoon(() => {})).toThrow(/event loop is closed/);
    expect(() => loop.callLater(1, () => {})).toThrow(/event loop is closed/);
    expect(() => loop.createTask(sleep(0))).toThrow(/event loop is closed/);
    expect(() => loop.runSync(sleep(0))).toThrow(/event loop is closed/);
    expect(log).toEqual([]);
  });

  it("a running loop cannot be closed", async () => {
    const loop = new VirtualEventLoop();
    let error: unknown;
    loop.callSoon(() => {
      try {
        loop.close();
      } catch (e) {
        error = e;
      }
      loop.stop();
    });
    await loop.runForever();
    expect((error as Error).message).toBe(
      "Cannot close a running event loop: stop it first (loop.stop()).",
    );
  });

  it("toString tells the loop's state", () => {
    const loop = new VirtualEventLoop();
    loop.callSoon(() => {});
    expect(String(loop)).toBe("<VirtualEventLoop idle ready=1 timers=0>");
    loop.close();
    expect(String(loop)).toBe("<VirtualEventLoop closed ready=0 timers=0>");
  });
});

describe("the ring-buffer Deque's search", () => {
  it("finds items as an array's indexOf() and lastIndexOf() do, across wrap-around", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5 })), fc.nat(20), (items, front) => {
        const deque = new Deque<number>(4);
        const model: number[] = [];
        // Some items put in at the front, so that the ring wraps round its buffer.
        for (const item of items.slice(0, front).reverse()) {
          deque.unshift(item);
          model.unshift(item);
        }
        for (const item of items.slice(front)) {
          deque.push(item);
          model.push(item);
        }
        for (let item = 0; item <= 6; item++) {
          expect([deque.indexOf(item), deque.lastIndexOf(item)]).toEqual([
            model.indexOf(item),
            model.lastIndexOf(item),
          ]);
        }
      }),
    );
  });
});

/** A deque under test, and the slots it holds items in (every chunk, for a ChunkDeque). */
interface DequeCase {
  make: () => ReadyQueue<number>;
  slots: (deque: ReadyQueue<number>) => unknown[];
}

describe.each<[string, DequeCase]>([
  [
    "ring-buffer Deque (locks' waiters)",
    {
      make: () => new Deque<number>(4),
      slots: (deque) => (deque as unknown as { buffer: unknown[] }).buffer,
    },
  ],
  [
    "chunked ChunkDeque (the ready queue)",
    {
      make: () => new ChunkDeque<number>(),
      slots: (deque) => (deque as unknown as { chunks: unknown[][] }).chunks.flat(),
    },
  ],
])("the %s", (_, { make, slots }) => {
  type Op =
    | { op: "push" | "unshift"; value: number }
    | { op: "shift" | "pop" | "clear" }
    | { op: "insert" | "removeAt" | "rotate"; index: number }
    // Enough items at once to cross a chunk's end (256 slots) either way.
    | { op: "pushMany" | "shiftMany" | "unshiftMany" | "popMany"; count: number };
  const ops: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ op: fc.constantFrom("push" as const, "unshift" as const), value: fc.integer() }),
    fc.record({ op: fc.constantFrom("shift" as const, "pop" as const, "clear" as const) }),
    fc.record({
      op: fc.constantFrom("insert" as const, "removeAt" as const, "rotate" as const),
      index: fc.integer({ min: -600, max: 600 }),
    }),
    fc.record({
      op: fc.constantFrom(
        "pushMany" as const,
        "shiftMany" as const,
        "unshiftMany" as const,
        "popMany" as const,
      ),
      count: fc.integer({ min: 0, max: 300 }),
    }),
  );

  it("behaves as an array under any sequence of operations, across growth and wrap-around", () => {
    fc.assert(
      fc.property(fc.nat(600), fc.array(ops, { maxLength: 200 }), (prefill, sequence) => {
        const deque = make();
        const model: number[] = [];
        let next = 0;
        for (let i = 0; i < prefill; i++) {
          deque.push(-i);
          model.push(-i);
        }
        for (const step of sequence) {
          switch (step.op) {
            case "push":
              deque.push(step.value);
              model.push(step.value);
              break;
            case "unshift":
              deque.unshift(step.value);
              model.unshift(step.value);
              break;
            case "shift":
              expect(deque.shift()).toBe(model.shift());
              break;
            case "pop":
              expect(deque.pop()).toBe(model.pop());
              break;
            case "clear":
              deque.clear();
              model.length = 0;
              break;
            case "insert": {
              const index = Math.max(0, Math.min(model.length, step.index));
              deque.insert(step.index, next);
              model.splice(index, 0, next++);
              break;
            }
            case "removeAt":
              if (model.length > 0) {
                const index = Math.abs(step.index) % model.length;
                expect(deque.removeAt(index)).toBe(model.splice(index, 1)[0]);
              }
              break;
            case "rotate": {
              deque.rotate(step.index);
              const n = model.length;
              if (n > 1) {
                const k = ((step.index % n) + n) % n;
                model.unshift(...model.splice(n - k, k));
              }
              break;
            }
            case "pushMany":
            case "unshiftMany":
              for (let i = 0; i < step.count; i++) {
                if (step.op === "pushMany") deque.push(next);
                else deque.unshift(next);
                if (step.op === "pushMany") model.push(next++);
                else model.unshift(next++);
              }
              break;
            case "shiftMany":
            case "popMany":
              for (let i = 0; i < step.count; i++) {
                if (step.op === "shiftMany") expect(deque.shift()).toBe(model.shift());
                else expect(deque.pop()).toBe(model.pop());
              }
              break;
          }
          expect(deque.length).toBe(model.length);
        }
        expect(deque.toArray()).toEqual(model);
        expect([...(deque as unknown as Iterable<number>)]).toEqual(model);
        // Slots outside the items hold nothing: a removed or moved item is not kept alive.
        expect(slots(deque).filter((slot) => slot !== undefined)).toHaveLength(model.length);
        for (let i = 0; i < model.length; i++) expect(deque.get(i)).toBe(model[i]);
      }),
      { numRuns: 300 },
    );
  }, 30_000); // seconds of CPU: a loaded machine stretches them past the default 5 s
});

describe("the timer queue", () => {
  type Op =
    | { op: "push"; time: number; delay: number }
    | { op: "popDue"; time: number }
    | { op: "pop" | "peek" | "filter" | "clear" };
  // Few distinct times, so that ties (ordered by sequence number) and pushes into the
  // millisecond being served are common; times past the 64 ms of buckets; and the far
  // ends a timer can be set for.
  const time = fc.oneof(
    fc.integer({ min: -3, max: 12 }).map((ms) => ms / 2),
    fc.integer({ min: 0, max: 400 }).map((ms) => ms / 2),
    fc.constantFrom(Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 1e12 + 0.5),
  );
  const ops: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: 3,
      // How far ahead it was set decides between a bucket and the far heap, not its place.
      arbitrary: fc.record({
        op: fc.constant("push" as const),
        time,
        delay: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.constant(Number.POSITIVE_INFINITY)),
      }),
    },
    { weight: 2, arbitrary: fc.record({ op: fc.constantFrom("pop" as const, "peek" as const) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant("popDue" as const), time }) },
    {
      weight: 1,
      arbitrary: fc.record({ op: fc.constantFrom("filter" as const, "clear" as const) }),
    },
  );

  it("serves items in (time, sequence) order under any sequence of operations", () => {
    fc.assert(
      fc.property(fc.array(ops, { maxLength: 200 }), (sequence) => {
        type Entry = { time: number; seq: number };
        const queue = new TimerQueue<Entry>();
        const model: Entry[] = []; // kept sorted by (time, seq)
        let seq = 0;
        for (const step of sequence) {
          switch (step.op) {
            case "push": {
              const entry = { time: step.time, seq: seq++ };
              queue.push(entry, entry.time, entry.seq, step.delay);
              let at = model.length;
              while (at > 0 && (model[at - 1] as Entry).time > entry.time) at--;
              model.splice(at, 0, entry);
              break;
            }
            case "pop":
              expect(queue.pop()).toBe(model.shift());
              break;
            case "peek":
              expect(queue.peek()).toBe(model[0]);
              break;
            case "popDue": {
              const first = model[0];
              const due = first !== undefined && first.time <= step.time;
              expect(queue.popDue(step.time)).toBe(due ? model.shift() : undefined);
              break;
            }
            case "filter": {
              const keep = (entry: Entry) => entry.seq % 3 !== 0;
              queue.filter(keep);
              model.splice(0, model.length, ...model.filter(keep));
              break;
            }
            case "clear":
              queue.clear();
              model.length = 0;
              break;
          }
          expect(queue.length).toBe(model.length);
        }
        const rest: (Entry | undefined)[] = [];
        while (queue.length > 0) rest.push(queue.pop());
        expect(rest).toEqual(model);
        expect(queue.pop()).toBeUndefined();
      }),
      { numRuns: 1000 },
    );
  }, 30_000); // seconds of CPU: a loaded machine stretches them past the default 5 s

  it("sorts a millisecond of thousands of timers exactly, with those pushed into it while it is served", () => {
    // Fractions on a coarse grid make ties (ordered by sequence number); doubles make
    // times that differ in their last bits, up to just below the next millisecond.
    const fraction = fc.oneof(
      fc.integer({ min: 0, max: 255 }).map((k) => k / 256),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    );
    fc.assert(
      fc.property(
        fc.array(fraction, { minLength: 32, maxLength: 3000 }),
        fc.array(fraction, { maxLength: 50 }),
        (first, later) => {
          type Entry = { time: number; seq: number };
          const queue = new TimerQueue<Entry>();
          const entries: Entry[] = [];
          const push = (f: number) => {
            const entry = { time: 7 + f, seq: entries.length };
            entries.push(entry);
            queue.push(entry, entry.time, entry.seq, 5);
          };
          first.forEach(push);
          const served: (Entry | undefined)[] = [queue.pop()]; // the millisecond is sorted now
          later.forEach(push); // below the horizon: they join the millisecond being served
          while (queue.length > 0) served.push(queue.pop());
          const expected = [...entries].sort((a, b) => a.time - b.time || a.seq - b.seq);
          expect(served).toEqual(expected);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("serves a timer set far ahead before a later one of its millisecond that came in a bucket", () => {
    const queue = new TimerQueue<string>();
    queue.push("first", 0.5, 0, 0.5);
    queue.push("far", 100.1, 1, 100.1); // set more than 64 ms ahead: the far heap
    expect(queue.pop()).toBe("first");
    queue.push("bucketed", 100.9, 2, 50); // set 50 ms ahead, at 50.9: a bucket
    expect([queue.pop(), queue.pop(), queue.pop()]).toEqual(["far", "bucketed", undefined]);
  });

  it("gives timers set far ahead no bucket of their own", () => {
    const queue = new TimerQueue<number>();
    for (let i = 0; i < 10_000; i++) queue.push(i, 30_000 + i * 3.5, i, 30_000); // timeouts
    queue.push(10_000, 100_000, 10_000, 10); // and a short sleep, much later
    expect((queue as unknown as { buckets: Map<number, unknown> }).buckets.size).toBe(1);
    const order: (number | undefined)[] = [];
    while (queue.length > 0) order.push(queue.pop());
    expect(order).toEqual(Array.from({ length: 10_001 }, (_, i) => i));
  });
});
