/**
 * Monitor: out-of-band messages from a coroutine to the one awaiting it,
 * after asynkit 0.20's tests/test_monitor.py (TestMonitor). asynkit raises
 * each message as an OOBData exception; here monitor.await() returns it as
 * `{ done: false, value }`, so `pytest.raises(OOBData)` becomes a check of
 * that result. test_monitor_raise_oob (a coroutine raising OOBData itself)
 * has no counterpart: there is no such exception to raise.
 */
import { describe, expect, test } from "vitest";
import {
  awaitSync,
  type Coro,
  createTask,
  Future,
  InvalidStateError,
  Monitor,
  SynchronousError,
  sleep,
} from "../src/index.js";
import { catching, runV, thrown } from "./helpers.js";

class EOFError extends Error {
  override name = "EOFError";
}

/** The helper most asynkit tests share: two messages, each answered, then a result. */
function* helper(m: Monitor<string, string>): Coro<string> {
  let back = yield* m.oob("foo");
  yield* sleep(0);
  back = yield* m.oob(`${back}foo`);
  yield* sleep(0);
  return `${back}foo`;
}

describe("Monitor (test_monitor.py TestMonitor)", () => {
  test("test_monitor: messages come out, replies go in, then the result", () => {
    runV(function* () {
      const m = new Monitor<string, string>();
      const c = helper(m);
      expect(yield* m.await(c)).toEqual({ done: false, value: "foo" });
      expect(yield* m.await(c, "hoo")).toEqual({ done: false, value: "hoofoo" });
      expect(yield* m.await(c, "how")).toEqual({ done: true, value: "howfoo" });
    });
  });

  test("test_bound_monitor_await: yield* bound is bound.await() with no reply", () => {
    runV(function* () {
      const m = new Monitor<string, string>();
      const b = m.bind(helper(m));
      expect(yield* b).toEqual({ done: false, value: "foo" });
      expect(yield* b).toEqual({ done: false, value: "undefinedfoo" });
      expect(yield* b).toEqual({ done: true, value: "undefinedfoo" });
      expect(b.monitor).toBe(m);
    });
  });

  test("a coroutine whose end was given is not awaited again (cannot reuse already awaited coroutine)", () => {
    runV(function* () {
      const m = new Monitor<string, string>();
      const b = m.bind(helper(m));
      yield* b;
      yield* b;
      expect(yield* b).toEqual({ done: true, value: "undefinedfoo" });
      const message =
        "the coroutine has already finished, and a monitor gave its end: a coroutine runs once, so make a new one to run it again.";
      for (const [where, again] of [
        ["await", () => b.await()],
        ["tryAwait", () => b.tryAwait()],
        ["start", () => b.start()],
        ["throw", () => b.throw(new Error("late"))],
      ] as const) {
        const error = thrown(again);
        expect(error).toBeInstanceOf(InvalidStateError);
        expect((error as Error).message).toBe(`Monitor.${where}(): ${message}`);
      }
      yield* b.close(); // closing a finished coroutine does nothing
      function* failing(): Coro<never> {
        yield* sleep(0);
        throw new EOFError("failed once");
      }
      const c = failing();
      expect(yield* catching(m.await(c))).toBeInstanceOf(EOFError);
      expect(thrown(() => m.await(c))).toBeInstanceOf(InvalidStateError);
    });
  });

  test("test_bound_monitor_aawait: a reply through the bound monitor", () => {
    runV(function* () {
      const m = new Monitor<string, string>();
      const b = m.bind(helper(m));
      expect(yield* b.await()).toEqual({ done: false, value: "foo" });
      expect(yield* b.await()).toEqual({ done: false, value: "undefinedfoo" });
      expect(yield* b.await("hello")).toEqual({ done: true, value: "hellofoo" });
    });
  });

  test("test_bound_monitor_athrow: an error thrown in at the message comes out", () => {
    runV(function* () {
      const m = new Monitor<string, string>();
      const b = m.bind(helper(m));
      yield* b.await();
      yield* b.await();
      const error = new EOFError("no more");
      expect(yield* catching(b.throw(error))).toBe(error);
    });
  });

  test("test_bound_monitor_aclose: close runs the coroutine's finally", () => {
    runV(function* () {
      let finished = false;
      function* closing(m: Monitor<string>): Coro<void> {
        try {
          yield* m.oob("foo");
        } finally {
          finished = true;
        }
      }
      const m = new Monitor<string>();
      const a = m.bind(closing(m));
      expect(yield* a).toEqual({ done: false, value: "foo" });
      expect(finished).toBe(false);
      yield* a.close();
      expect(finished).toBe(true);
    });
  });

  test("test_throw: an error thrown in after the first message can be caught", () => {
    runV(function* () {
      const m = new Monitor<string>();
      function* catcher(): Coro<string> {
        const e = yield* catching(m.oob("foo"));
        expect(e).toBeInstanceOf(EOFError);
        return "bar";
      }
      const c = catcher();
      expect(yield* m.await(c)).toEqual({ done: false, value: "foo" });
      expect(yield* m.throw(c, new EOFError())).toEqual({ done: true, value: "bar" });
    });
  });

  test("test_throw_new: an error thrown into a coroutine not started ends it unrun", () => {
    runV(function* () {
      let ran = false;
      // biome-ignore lint/correctness/useYield: it must never run
      function* never(): Coro<void> {
        ran = true;
      }
      const m = new Monitor();
      const error = new EOFError();
      expect(yield* catching(m.throw(never(), error))).toBe(error);
      expect(ran).toBe(false);
      expect(String(m)).toBe("<Monitor inactive>");
    });
  });

  test("test_monitor_detached: oob() with nobody awaiting is an InvalidStateError", () => {
    runV(function* () {
      const m = new Monitor<number>();
      const e = (yield* catching(m.oob(1))) as Error;
      expect(e).toBeInstanceOf(InvalidStateError);
      expect(e.message).toBe(
        "Monitor.oob(): <Monitor inactive> is not awaiting a coroutine, so nobody would get the message: drive the coroutine that calls oob() with yield* monitor.await(coro).",
      );
    });
  });

  test("test_monitor_re_enter: awaiting a second coroutine through a busy monitor fails", () => {
    runV(function* () {
      const m = new Monitor();
      function* inner(): Coro<number> {
        yield* sleep(0);
        return 2;
      }
      function* outer(): Coro<number> {
        const c = inner();
        const e = (yield* catching(m.await(c))) as Error;
        expect(e).toBeInstanceOf(InvalidStateError);
        expect(e.message).toBe(
          "Monitor.await(): <Monitor active> is already awaiting a coroutine and cannot be re-entered: use a Monitor per coroutine.",
        );
        return (yield* c) + 1;
      }
      expect(yield* m.await(outer())).toEqual({ done: true, value: 3 });
    });
  });

  test("nested monitors: a message passes the monitors it is not for", () => {
    runV(function* () {
      const outer = new Monitor<string>();
      const inner = new Monitor<string>();
      function* deep(): Coro<string> {
        yield* inner.oob("to inner");
        yield* outer.oob("to outer");
        return "deep done";
      }
      function* middle(): Coro<string[]> {
        const seen: string[] = [];
        const c = deep();
        for (;;) {
          const r = yield* inner.await(c);
          if (r.done) return [...seen, r.value];
          seen.push(r.value);
        }
      }
      const c = middle();
      expect(yield* outer.await(c)).toEqual({ done: false, value: "to outer" });
      expect(yield* outer.await(c)).toEqual({
        done: true,
        value: ["to inner", "deep done"],
      });
    });
  });

  test("test_monitor_close: closing the driver closes the coroutine", () => {
    const log: string[] = [];
    function* waiting(): Coro<void> {
      try {
        yield* sleep(0);
      } finally {
        log.push("closed");
      }
    }
    const m = new Monitor();
    const cc = m.await(waiting());
    expect(cc.next()).toEqual({ done: false, value: undefined });
    expect(String(m)).toBe("<Monitor active>");
    expect(cc.return(undefined as never)).toEqual({ done: true, value: undefined });
    expect(log).toEqual(["closed"]);
    expect(String(m)).toBe("<Monitor inactive>");
    // An ended driver only says so.
    expect(cc.next()).toEqual({ done: true, value: undefined });
    expect(cc.return(undefined as never)).toEqual({ done: true, value: undefined });
    expect(thrown(() => cc.throw(new EOFError("e"))).message).toBe("e");
  });

  test("test_monitor_throw: an error thrown into the driver goes into the coroutine", () => {
    function* waiting(): Coro<void> {
      yield* sleep(0);
    }
    const m = new Monitor();
    const cc = m.await(waiting());
    cc.next();
    expect(thrown(() => cc.throw(new EOFError()))).toBeInstanceOf(EOFError);
    expect(String(m)).toBe("<Monitor inactive>");
  });

  test("test_monitor_throw2: a coroutine that catches it returns through the driver", () => {
    function* waiting(): Coro<number> {
      try {
        yield* sleep(0);
      } catch (e) {
        if (e instanceof EOFError) return 1;
      }
      return 0;
    }
    const m = new Monitor();
    const cc = m.await(waiting());
    cc.next();
    expect(cc.throw(new EOFError())).toEqual({ done: true, value: { done: true, value: 1 } });
  });

  test("a driver closed before it starts never starts the coroutine", () => {
    const m = new Monitor();
    const cc = m.await(sleep(0));
    expect(cc.return(undefined as never)).toEqual({ done: true, value: undefined });
    expect(thrown(() => cc.throw(new EOFError("first"))).message).toBe("first");
    expect(String(m)).toBe("<Monitor inactive>");
  });

  test("closing a driver whose coroutine waits while it cleans up forwards the wait", () => {
    const log: string[] = [];
    function* slowCleanup(): Coro<void> {
      try {
        yield* sleep(0);
      } finally {
        yield* sleep(0);
        log.push("cleaned");
      }
    }
    const m = new Monitor();
    const cc = m.await(slowCleanup());
    cc.next();
    expect(cc.return(undefined as never)).toEqual({ done: false, value: undefined });
    expect(cc.next()).toEqual({ done: true, value: { done: true, value: undefined } });
    expect(log).toEqual(["cleaned"]);
  });

  test("test_monitor_aclose: close a coroutine suspended in oob()", () => {
    runV(function* () {
      let finished = false;
      const m = new Monitor();
      function* closing(): Coro<void> {
        try {
          yield* m.oob();
        } finally {
          finished = true;
        }
      }
      const c = closing();
      expect((yield* m.await(c)).done).toBe(false);
      expect(finished).toBe(false);
      yield* m.close(c);
      expect(finished).toBe(true);
    });
  });

  test("test_monitor_aclose_finished and test_monitor_aclosed_new: nothing to close", () => {
    runV(function* () {
      let runs = 0;
      // biome-ignore lint/correctness/useYield: it returns at once
      function* quick(): Coro<void> {
        runs++;
      }
      const m = new Monitor();
      const done = quick();
      yield* m.await(done);
      yield* m.close(done);
      yield* m.close(quick());
      expect(runs).toBe(1);
    });
  });

  test("closing a coroutine that has no return() leaves it be", () => {
    let steps = 0;
    const bare = {
      next: () => ({ done: steps++ > 0, value: undefined }),
      throw: (e: unknown) => {
        throw e;
      },
      [Symbol.iterator]() {
        return this;
      },
    } as unknown as Coro<void>;
    const m = new Monitor();
    expect(awaitSync(m.await(bare))).toEqual({ done: true, value: undefined });
    awaitSync(m.close(bare));
    expect(steps).toBe(2);
  });

  test("test_monitor_aclose_ignore: a message sent while closing is an Error", () => {
    runV(function* () {
      const m = new Monitor();
      function* stubborn(): Coro<void> {
        try {
          yield* m.oob();
        } finally {
          yield* m.oob();
        }
      }
      const b = m.bind(stubborn());
      yield* b;
      const e = (yield* catching(b.close())) as Error;
      expect(e.constructor).toBe(Error);
      expect(e.message).toBe(
        "Monitor.close(): the coroutine sent a message with oob() while it was being closed: it should only clean up (a finally block that calls oob() is the usual cause).",
      );
    });
  });

  test("test_start: start() runs the coroutine to its first message", () => {
    runV(function* () {
      let started = false;
      const m = new Monitor<string>();
      function* first(): Coro<number> {
        started = true;
        yield* m.oob("foo");
        return 1;
      }
      const b = m.bind(first());
      expect(started).toBe(false);
      expect(yield* b.start()).toBe("foo");
      expect(started).toBe(true);
      yield* b.close();
    });
  });

  test("test_failed_start: start() of a coroutine that returns at once is an Error", () => {
    runV(function* () {
      const m = new Monitor();
      const e = (yield* catching(m.bind(sleep(0, 1)).start())) as Error;
      expect(e.message).toBe(
        "Monitor.start(): the coroutine returned without sending a message with oob(): use monitor.await(), which gives either.",
      );
    });
  });

  test("test_try_await: the result, or the sentinel for a message", () => {
    runV(function* () {
      const m = new Monitor<undefined, number>();
      function* counting(): Coro<number> {
        expect(yield* m.oob()).toBe(1);
        expect(yield* m.oob()).toBe(2);
        return 3;
      }
      const b = m.bind(counting());
      expect(yield* b.tryAwait()).toBeUndefined();
      const sentinel = Symbol("sentinel");
      expect(yield* b.tryAwait(1, sentinel)).toBe(sentinel);
      expect(yield* b.tryAwait(2, "foo")).toBe(3);
    });
  });

  test("waits between messages are the caller's task's: other tasks run meanwhile", () => {
    const log: string[] = [];
    runV(function* () {
      const m = new Monitor<string>();
      function* talker(): Coro<void> {
        yield* m.oob("one");
        yield* sleep(10);
        log.push("talker woke");
        yield* m.oob("two");
      }
      createTask(
        (function* () {
          yield* sleep(5);
          log.push("other task");
        })(),
      );
      const c = talker();
      for (;;) {
        const r = yield* m.await(c);
        if (r.done) break;
        log.push(r.value);
      }
    });
    expect(log).toEqual(["one", "other task", "talker woke", "two"]);
  });
});

describe("Monitor without a loop", () => {
  test("awaitSync drives a monitor whose coroutine never has to wait", () => {
    const m = new Monitor<string, string>();
    const c = helper(m);
    expect(awaitSync(m.await(c))).toEqual({ done: false, value: "foo" });
    expect(awaitSync(m.await(c, "a"))).toEqual({ done: false, value: "afoo" });
    expect(awaitSync(m.await(c, "b"))).toEqual({ done: true, value: "bfoo" });
  });

  test("a wait that cannot finish synchronously is a SynchronousError, and the monitor is free again", () => {
    const m = new Monitor();
    function* blocks(): Coro<void> {
      yield* new Future();
    }
    expect(thrown(() => awaitSync(m.await(blocks())))).toBeInstanceOf(SynchronousError);
    expect(String(m)).toBe("<Monitor inactive>");
  });
});

/** A buffer a line parser reads from, and the caller fills. */
class Buffer {
  private text = "";
  fill(more: string): void {
    this.text += more;
  }
  /** Up to and including the next newline, or all there is. */
  readline(): string {
    const end = this.text.indexOf("\n");
    const line = end === -1 ? this.text : this.text.slice(0, end + 1);
    this.text = this.text.slice(line.length);
    return line;
  }
}

describe("a line parser that asks for more data (asynkit's README)", () => {
  function* readline(m: Monitor<undefined>, buffer: Buffer): Coro<string> {
    let line = buffer.readline();
    while (!line.endsWith("\n")) {
      yield* m.oob(); // ask for more data in the buffer
      line += buffer.readline();
    }
    return line;
  }

  /** Reads `count` lines, filling the buffer from `chunks` whenever the parser asks. */
  function* manager(chunks: string[], count: number, log: string[]): Coro<string[]> {
    const buffer = new Buffer();
    const lines: string[] = [];
    for (let i = 0; i < count; i++) {
      const m = new Monitor<undefined>();
      const parser = m.bind(readline(m, buffer));
      for (;;) {
        const r = yield* parser;
        if (r.done) {
          lines.push(r.value);
          break;
        }
        yield* sleep(1); // the I/O
        const chunk = chunks.shift();
        log.push(`read ${JSON.stringify(chunk)}`);
        if (chunk === undefined) {
          yield* parser.throw(new EOFError("end of input"));
        }
        buffer.fill(chunk as string);
      }
    }
    return lines;
  }

  test("lines split across chunks come out whole, reading only when asked", () => {
    const log: string[] = [];
    const lines = runV(manager(["he", "llo\nwor", "ld\n", "!\n"], 2, log));
    expect(lines).toEqual(["hello\n", "world\n"]);
    expect(log).toEqual(['read "he"', 'read "llo\\nwor"', 'read "ld\\n"']);
  });

  test("the end of input is thrown into the parser", () => {
    const log: string[] = [];
    const error = runV(catching(manager(["abc"], 1, log)));
    expect(error).toBeInstanceOf(EOFError);
    expect(log).toEqual(['read "abc"', "read undefined"]);
  });

  test("the same parser runs without a loop", () => {
    const buffer = new Buffer();
    const m = new Monitor<undefined>();
    const parser = m.bind(readline(m, buffer));
    const chunks = ["ab", "c", "\nrest"];
    let r = awaitSync(parser.await());
    while (!r.done) {
      buffer.fill(chunks.shift() as string);
      r = awaitSync(parser.await());
    }
    expect(r.value).toBe("abc\n");
    expect(buffer.readline()).toBe("rest");
  });
});
