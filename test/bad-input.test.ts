/**
 * Bad input gets a clear error: the right type, and a message that says what
 * went wrong and what to do instead.
 */
import { describe, expect, it } from "vitest";
import {
  createTask,
  Future,
  InvalidStateError,
  run,
  sleep,
  VirtualEventLoop,
} from "../src/index.js";

/** The error `fn` throws (fails the test if it throws nothing). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected an error, but none was thrown");
}

describe("creating tasks", () => {
  it("createTask with no running loop says to use run() or loop.createTask()", () => {
    function* work() {
      yield;
    }
    const e = thrown(() => createTask(work()));
    expect(e.constructor).toBe(Error);
    expect(e.message).toBe(
      "createTask() needs a running event loop: call it from a coroutine run by run(main()), or use loop.createTask(coro).",
    );
  });

  it("createTask(42) is a TypeError that says to pass a generator object", () => {
    const e = thrown(() => createTask(42 as never));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe(
      "createTask() expects a coroutine, got number 42: pass the generator object a function* returns, e.g. createTask(work()).",
    );
  });

  it("createTask with a function* not called says to call it", () => {
    function* work() {
      yield;
    }
    const e = thrown(() => createTask(work as never));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe(
      "createTask() expects a coroutine, got function work: call it first: createTask(work()).",
    );
  });

  it("createTask with a promise says to use fromPromise", () => {
    const e = thrown(() => createTask(Promise.resolve(1) as never));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(/wrap a promise with fromPromise\(promise\) to await it\.$/);
  });

  it("createTask with null or a string names what it got", () => {
    expect(thrown(() => createTask(null as never)).message).toMatch(/got null:/);
    expect(thrown(() => createTask("abc" as never)).message).toMatch(/got string "abc":/);
  });
});

describe("completing futures", () => {
  it("setResult twice is an InvalidStateError that says a future completes once", () => {
    const f = new Future<number>({ loop: new VirtualEventLoop() });
    f.setResult(1);
    const e = thrown(() => f.setResult(2));
    expect(e).toBeInstanceOf(InvalidStateError);
    expect(e.message).toBe(
      "setResult() on a finished Future: a future can be completed only once.",
    );
  });

  it("result() on a pending future is an InvalidStateError that says to wait first", () => {
    const f = new Future({ loop: new VirtualEventLoop() });
    const e = thrown(() => f.result());
    expect(e).toBeInstanceOf(InvalidStateError);
    expect(e.message).toBe(
      "Result is not set yet: wait for the future first (yield* future), or check done().",
    );
  });
});

describe("loops", () => {
  it("callSoon on a closed loop says to create a new loop or use run()", () => {
    const loop = new VirtualEventLoop();
    loop.close();
    const e = thrown(() => loop.callSoon(() => {}));
    expect(e.constructor).toBe(Error);
    expect(e.message).toBe(
      "This event loop is closed: create a new one (or use run()) to schedule work.",
    );
  });

  it("runUntilComplete on a running loop says to use yield* instead", () => {
    const loop = new VirtualEventLoop();
    const e = loop.runSync(
      (function* () {
        yield;
        return thrown(() => loop.runUntilComplete(sleep(0)));
      })(),
    );
    expect(e.message).toBe(
      "runUntilComplete(): this event loop is already running. Inside a coroutine, wait for work with yield* instead.",
    );
  });

  it("runForever on a running loop is refused the same way", async () => {
    const loop = new VirtualEventLoop();
    let e: Error | null = null;
    loop.callSoon(() => {
      e = thrown(() => loop.runForever());
      loop.stop();
    });
    await loop.runForever();
    expect(e!.message).toMatch(/^runForever\(\): this event loop is already running/);
  });

  it("a negative delay is a RangeError that says to use 0", () => {
    const loop = new VirtualEventLoop();
    const e = thrown(() => loop.callLater(-5, () => {}));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toBe(
      "callLater() delay must not be negative, got -5 ms: use 0 to run as soon as possible.",
    );
  });

  it("a NaN or non-number delay or time is a TypeError", () => {
    const loop = new VirtualEventLoop();
    const e = thrown(() => loop.callLater(Number.NaN, () => {}));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe("callLater() delay must be a number of milliseconds, got NaN.");
    expect(thrown(() => loop.callAt(Number.NaN, () => {})).message).toBe(
      "callAt() time must be a number of milliseconds, got NaN.",
    );
    expect(thrown(() => loop.callLater("10" as never, () => {}))).toBeInstanceOf(TypeError);
    expect(loop._scheduled.length).toBe(0);
  });

  it("sleep with a negative or NaN delay", () => {
    const negative = thrown(() => sleep(-1));
    expect(negative).toBeInstanceOf(RangeError);
    expect(negative.message).toBe(
      "sleep() needs a non-negative delay, got -1 ms: use sleep(0) to just yield.",
    );
    const nan = thrown(() => sleep(Number.NaN));
    expect(nan).toBeInstanceOf(TypeError);
    expect(nan.message).toBe("sleep() needs a number of milliseconds, got NaN.");
  });

  it("callLater with a callback that is not a function", () => {
    const loop = new VirtualEventLoop();
    const e = thrown(() => loop.callLater(1, "f" as never));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe("callLater() expects a function to call, got string.");
  });
});

describe("run()", () => {
  it("run() inside a running loop says to use yield* or createTask, and closes the coroutine", () => {
    const log: string[] = [];
    function* inner() {
      try {
        log.push("inner started");
        yield;
      } finally {
        log.push("inner finally");
      }
    }
    const loop = new VirtualEventLoop();
    const coro = inner();
    const e = loop.runSync(
      (function* () {
        yield;
        return thrown(() => run(coro));
      })(),
    );
    expect(e.constructor).toBe(Error);
    expect(e.message).toBe(
      "run() cannot be called from a running event loop: inside a coroutine, use yield* (or createTask) instead.",
    );
    expect(coro.next().done).toBe(true);
    expect(log).toEqual([]);
  });
});
