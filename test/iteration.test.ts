/**
 * Async iteration across the border with native code: fromAsyncIterable()
 * (a native async iterable read by a coroutine), forAwait() (for await for
 * coroutines) and aiterSync() (a GeneratorObject read by synchronous code).
 */
import { Readable } from "node:stream";
import { describe, expect, test } from "vitest";
import {
  aiterSync,
  allTasks,
  CancelledError,
  type Coro,
  createTask,
  type ExceptionContext,
  Future,
  forAwait,
  fromAsyncIterable,
  GeneratorObject,
  HostEventLoop,
  Monitor,
  run,
  SynchronousError,
  sleep,
  VirtualEventLoop,
} from "../src/index.js";
import { catching, runV, thrown } from "./helpers.js";

/** Waits for the host to run its pending callbacks (a setTimeout round). */
const hostTurn = (ms = 0): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("fromAsyncIterable: a native async iterable read by a coroutine", () => {
  test("items, then the source's return value", async () => {
    async function* source(): AsyncGenerator<string, string> {
      yield "a";
      await hostTurn();
      yield "b";
      return "end";
    }
    const results = await run(function* () {
      const items = fromAsyncIterable(source());
      const seen: IteratorResult<string, string | undefined>[] = [];
      for (;;) {
        const r = yield* items.next();
        seen.push(r);
        if (r.done) return seen;
      }
    });
    expect(results).toEqual([
      { done: false, value: "a" },
      { done: false, value: "b" },
      { done: true, value: "end" },
    ]);
  });

  test("closing it closes the source, and waits for its finally block", async () => {
    const log: string[] = [];
    async function* source(): AsyncGenerator<number> {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        await hostTurn();
        log.push("source closed");
      }
    }
    await run(function* () {
      const items = fromAsyncIterable(source());
      log.push(`item ${(yield* items.next()).value}`);
      yield* items.close();
      log.push("closed");
    });
    expect(log).toEqual(["item 0", "source closed", "closed"]);
  });

  test("an error from the source comes out, and the source is not closed again", async () => {
    let returns = 0;
    const failing: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: () => Promise.reject(new Error("read failed")),
        return: () => {
          returns++;
          return Promise.resolve({ done: true, value: undefined });
        },
      }),
    };
    const error = await run(catching(fromAsyncIterable(failing).next()));
    expect((error as Error).message).toBe("read failed");
    expect(returns).toBe(0);
  });

  test("a consumer cancelled during a read asks the source to return, without waiting for the read", async () => {
    const log: string[] = [];
    let release: () => void = () => {};
    async function* source(): AsyncGenerator<number> {
      try {
        yield 1;
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        log.push("read went on");
        yield 2;
      } finally {
        log.push("source finally");
      }
    }
    await run(function* () {
      const items = fromAsyncIterable(source());
      yield* items.next();
      const consumer = createTask(items.next());
      yield* sleep(5);
      consumer.cancel();
      expect(yield* catching(consumer)).toBeInstanceOf(CancelledError);
      log.push("consumer cancelled");
    });
    // The source can take the return only once its read is over.
    release();
    await hostTurn();
    expect(log).toEqual(["consumer cancelled", "read went on", "source finally"]);
  });

  test("a source that fails to close after an abandoned read goes to the loop's exception handler", async () => {
    const failure = new Error("close failed");
    const stuck: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: () => new Promise<never>(() => {}),
        return: () => Promise.reject(failure),
      }),
    };
    const reported: ExceptionContext[] = [];
    const loop = new HostEventLoop();
    loop.setExceptionHandler((_loop, context) => reported.push(context));
    await loop.runUntilComplete(
      (function* () {
        const reader = createTask(fromAsyncIterable(stuck).next());
        yield* sleep(1);
        reader.cancel();
        yield* catching(reader);
      })(),
    );
    await hostTurn();
    expect(reported).toEqual([
      {
        message: "fromAsyncIterable(): the source failed to close after a read was abandoned",
        exception: failure,
      },
    ]);
  });
});

describe("forAwait closes the source as for await does", () => {
  /** Items 1, 2, 3…, whose return() fails. */
  function failingToClose(log: string[]): AsyncIterable<number> {
    let n = 0;
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => Promise.resolve({ done: false, value: ++n }),
        return: () => {
          log.push("return");
          return Promise.reject(new Error("close failed"));
        },
      }),
    };
  }

  test("stopping early: the error from closing comes out", async () => {
    const log: string[] = [];
    const error = await run(catching(forAwait(failingToClose(log), () => false)));
    expect((error as Error).message).toBe("close failed");
    expect(log).toEqual(["return"]);
  });

  test("an error in the body wins over the error from closing", async () => {
    const log: string[] = [];
    const error = await run(
      catching(
        forAwait(failingToClose(log), () => {
          throw new Error("body failed");
        }),
      ),
    );
    expect((error as Error).message).toBe("body failed");
    expect(log).toEqual(["return"]);
  });

  test("so does a cancellation, and the same holds for native for await", async () => {
    const log: string[] = [];
    const error = await run(function* () {
      const reader = createTask(
        forAwait(failingToClose(log), function* () {
          yield* sleep(100);
          return undefined;
        }),
      );
      yield* sleep(1);
      reader.cancel();
      return yield* catching(reader);
    });
    expect(error).toBeInstanceOf(CancelledError);
    const native = await (async () => {
      try {
        for await (const _ of failingToClose(log)) throw new Error("native body failed");
      } catch (e) {
        return e;
      }
    })();
    expect((native as Error).message).toBe("native body failed");
    expect(log).toEqual(["return", "return"]);
  });
});

describe("a Node Readable consumed from a coroutine", () => {
  test("its chunks, in order, through forAwait", async () => {
    const stream = Readable.from(["alpha", "beta", "gamma"]);
    const chunks = await run(function* () {
      const chunks: string[] = [];
      yield* forAwait(stream, function* (chunk: string) {
        yield* sleep(1);
        chunks.push(chunk);
        return undefined;
      });
      return chunks;
    });
    expect(chunks).toEqual(["alpha", "beta", "gamma"]);
  });

  test("stopping early destroys the stream", async () => {
    const stream = Readable.from(["alpha", "beta", "gamma"]);
    const chunks: string[] = [];
    await run(
      forAwait(stream, (chunk: string) => {
        chunks.push(chunk);
        return false;
      }),
    );
    expect(chunks).toEqual(["alpha"]);
    expect(stream.destroyed).toBe(true);
  });

  test("cancelled while waiting for a chunk: the stream is destroyed at once", async () => {
    const stream = new Readable({ read() {} });
    stream.push("first");
    const log: string[] = [];
    await run(function* () {
      const reader = createTask(
        forAwait(stream, (chunk: Buffer) => {
          log.push(`chunk ${chunk}`);
          return undefined;
        }),
      );
      yield* sleep(5); // the stream has nothing more
      reader.cancel();
      expect(yield* catching(reader)).toBeInstanceOf(CancelledError);
      log.push(`destroyed: ${stream.destroyed}`);
    });
    await hostTurn();
    expect(log).toEqual(["chunk first", "destroyed: true"]);
  });
});

/** A fake paginated API that counts its open connections and requests in flight. */
class PagedApi {
  openConnections = 0;
  inFlight = 0;
  readonly log: string[] = [];

  constructor(private readonly pages: number[][]) {}

  *fetchPage(page: number): Coro<number[]> {
    this.inFlight++;
    try {
      yield* sleep(10);
      this.log.push(`page ${page}`);
      return this.pages[page] ?? [];
    } finally {
      this.inFlight--;
    }
  }

  /** Every item, as a GeneratorObject that holds a connection while it runs. */
  items(): GeneratorObject<number> {
    return new GeneratorObject((g) => this.walk(g));
  }

  private *walk(g: GeneratorObject<number>): Coro<void> {
    this.openConnections++;
    try {
      for (let page = 0; ; page++) {
        const items = yield* this.fetchPage(page);
        if (items.length === 0) return;
        for (const item of items) yield* g.yield(item);
      }
    } finally {
      this.openConnections--;
      this.log.push("connection closed");
    }
  }
}

describe("a paginated API consumed as a GeneratorObject", () => {
  const pages = [
    [1, 2],
    [3, 4],
    [5, 6],
  ];

  test("all items, page by page, then the connection closes", () => {
    const api = new PagedApi(pages);
    const items: number[] = [];
    runV(forAwait(api.items(), (item) => void items.push(item)));
    expect(items).toEqual([1, 2, 3, 4, 5, 6]);
    expect(api.log).toEqual(["page 0", "page 1", "page 2", "page 3", "connection closed"]);
    expect(api.openConnections).toBe(0);
  });

  test("cancelled mid-way during a page fetch: the fetch and the connection end, no task is left", () => {
    const api = new PagedApi(pages);
    const items: number[] = [];
    runV(function* () {
      const consumer = createTask(forAwait(api.items(), (item) => void items.push(item)));
      yield* sleep(15); // page 0 came at 10, page 1 is on its way
      expect(api.inFlight).toBe(1);
      consumer.cancel();
      expect(yield* catching(consumer)).toBeInstanceOf(CancelledError);
      expect(allTasks().size).toBe(1);
    });
    expect(items).toEqual([1, 2]);
    expect(api.inFlight).toBe(0);
    expect(api.openConnections).toBe(0);
    expect(api.log).toEqual(["page 0", "connection closed"]);
  });

  test("cancelled while the consumer handles an item: forAwait closes the generator", () => {
    const api = new PagedApi(pages);
    const items: number[] = [];
    runV(function* () {
      const consumer = createTask(
        forAwait(api.items(), function* (item) {
          items.push(item);
          yield* sleep(100); // slow handling
          return undefined;
        }),
      );
      yield* sleep(50);
      consumer.cancel();
      expect(yield* catching(consumer)).toBeInstanceOf(CancelledError);
    });
    expect(items).toEqual([1]);
    expect(api.openConnections).toBe(0);
    expect(api.log).toEqual(["page 0", "connection closed"]);
  });

  test("an error in the consumer's body closes the generator and comes out", () => {
    const api = new PagedApi(pages);
    const error = runV(
      catching(
        forAwait(api.items(), (item) => {
          if (item === 3) throw new Error("bad item");
          return undefined;
        }),
      ),
    );
    expect((error as Error).message).toBe("bad item");
    expect(api.openConnections).toBe(0);
  });
});

describe("aiterSync: a GeneratorObject read by synchronous code", () => {
  function numbers(log: string[]): GeneratorObject<number, string> {
    return new GeneratorObject(function* (g) {
      try {
        for (let i = 0; i < 3; i++) {
          yield* sleep(0);
          yield* g.yield(i);
        }
        return "end";
      } finally {
        log.push("finally");
      }
    });
  }

  test("every item, with no loop", () => {
    const log: string[] = [];
    expect([...aiterSync(numbers(log))]).toEqual([0, 1, 2]);
    expect(log).toEqual(["finally"]);
  });

  test("the generator's return value is the iterator's", () => {
    const iterator = aiterSync(numbers([]));
    let step = iterator.next();
    while (step.done !== true) step = iterator.next();
    expect(step.value).toBe("end");
  });

  test("leaving early closes the generator", () => {
    const log: string[] = [];
    for (const n of aiterSync(numbers(log))) if (n === 1) break;
    expect(log).toEqual(["finally"]);
  });

  test("a body that has to wait raises SynchronousError, after its finally block", () => {
    const log: string[] = [];
    const blocked = new Future({ loop: new VirtualEventLoop() });
    const gen = new GeneratorObject<number>(function* (g) {
      try {
        yield* g.yield(1);
        yield* blocked;
      } finally {
        log.push("finally");
      }
    });
    const e = thrown(() => [...aiterSync(gen)]);
    expect(e).toBeInstanceOf(SynchronousError);
    expect(log).toEqual(["finally"]);
  });
});

describe("from async functions: forAwait(), a GeneratorObject's calls and Monitor's are awaited as they are yield*ed", () => {
  test("forAwait() with an async body, a generator body and a plain one, each item in turn", async () => {
    const loop = new VirtualEventLoop();
    const log: string[] = [];
    const numbers = () =>
      new GeneratorObject<number>(function* (g) {
        for (let i = 1; i <= 3; i++) yield* g.yield(i);
      });
    await loop.runUntilComplete(async () => {
      const other = createTask(async () => {
        for (let i = 0; i < 3; i++) {
          log.push(`other ${i}`);
          await sleep(1);
        }
      });
      await forAwait(numbers(), async (n) => {
        await sleep(1);
        log.push(`async ${n} at ${loop.time()}`);
        return n < 2;
      });
      await forAwait(numbers(), function* (n) {
        yield* sleep(1);
        log.push(`generator ${n} at ${loop.time()}`);
      });
      await forAwait(Readable.from(["a", "b"]), (chunk: string) => {
        log.push(`plain ${chunk}`);
      });
      await other;
    });
    // The body's first sleep starts before `other` first runs: at each tie, the body's timer is first.
    expect(log).toEqual([
      "other 0",
      "async 1 at 1",
      "other 1",
      "async 2 at 2",
      "other 2",
      "generator 1 at 3",
      "generator 2 at 4",
      "generator 3 at 5",
      "plain a",
      "plain b",
    ]);
  });

  test.each([false, true])(
    "forAwait() over an async generator that awaits asynkit, in an async task (asyncLocalStorage: %s), in the loop's order",
    async (asyncLocalStorage) => {
      const loop = new VirtualEventLoop({ hostAwaits: "error", asyncLocalStorage });
      const reports: string[] = [];
      loop.setExceptionHandler((_l, context) => reports.push(context.message));
      const log: string[] = [];
      async function* ticks(): AsyncGenerator<number> {
        try {
          for (let i = 1; ; i++) {
            await sleep(10);
            yield i;
          }
        } finally {
          await sleep(5); // its close awaits too
          log.push(`ticks closed at ${loop.time()}`);
        }
      }
      await loop.runUntilComplete(async () => {
        await forAwait(ticks(), (n: number) => {
          log.push(`tick ${n} at ${loop.time()}`);
          return n < 2;
        });
        log.push(`done at ${loop.time()}`);
      });
      expect([log, reports]).toEqual([
        ["tick 1 at 10", "tick 2 at 20", "ticks closed at 25", "done at 25"],
        [],
      ]);
    },
  );

  test("an async body that fails ends forAwait() with its error, and closes the source", async () => {
    const log: string[] = [];
    const source = new GeneratorObject<number>(function* (g) {
      try {
        yield* g.yield(1);
        yield* g.yield(2);
      } finally {
        log.push("source closed");
      }
    });
    const error = await run(async () => {
      try {
        await forAwait(source, async () => {
          await sleep(1);
          throw new Error("body failed");
        });
      } catch (caught) {
        return String(caught);
      }
    });
    expect([error, ...log]).toEqual(["Error: body failed", "source closed"]);
  });

  test("a GeneratorObject's next(), throw(), return() and close()", async () => {
    const log: string[] = [];
    const got = await run(async () => {
      const gen = new GeneratorObject<number, string, string>(function* (g) {
        try {
          log.push(`sent ${yield* g.yield(1)}`);
          yield* g.yield(2);
        } catch (error) {
          log.push(`caught ${error}`);
          yield* g.yield(3);
        } finally {
          log.push("finally");
        }
        return "end";
      });
      const first = await gen.next();
      const second = await gen.next("hello");
      const third = await gen.throw("oops");
      const last = await gen.return("early");
      await gen.close();
      return [first, second, third, last];
    });
    expect(got).toEqual([
      { done: false, value: 1 },
      { done: false, value: 2 },
      { done: false, value: 3 },
      { done: true, value: "early" },
    ]);
    expect(log).toEqual(["sent hello", "caught oops", "finally"]);
  });

  test("Monitor's await(), start(), tryAwait() and close()", async () => {
    const got = await run(async () => {
      const m = new Monitor<string, number>();
      function* ask(): Coro<number> {
        const a = yield* m.oob("a?");
        const b = yield* m.oob("b?");
        return a + b;
      }
      const coro = ask();
      const first = await m.start(coro);
      const second = await m.await(coro, 1);
      const result = await m.tryAwait(coro, 2, "sent a message");
      const other = ask();
      await m.start(other);
      await m.close(other);
      return [first, second, result];
    });
    expect(got).toEqual(["a?", { done: false, value: "b?" }, 3]);
  });
});
