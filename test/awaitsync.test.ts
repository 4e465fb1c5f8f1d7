/**
 * awaitSync(): driving a coroutine with no event loop, after asynkit's
 * tests/test_coro.py (TestCoroRun).
 */
import { describe, expect, test } from "vitest";
import {
  awaitSync,
  CancelledError,
  type Coro,
  Event,
  Future,
  forAwait,
  GeneratorObject,
  Lock,
  SynchronousError,
  sleep,
  timeout,
  VirtualEventLoop,
} from "../src/index.js";

/** A future nobody will complete: waiting on it can never finish synchronously. */
const never = (): Future<void> => new Future<void>({ loop: new VirtualEventLoop() });

// biome-ignore lint/correctness/useYield: a coroutine that returns without suspending
function* simple(): Coro<string> {
  return "simple";
}

function* nullsleep(): Coro<string> {
  yield* sleep(0);
  yield;
  return "nullsleep";
}

describe("awaitSync", () => {
  test("a coroutine that never waits", () => {
    expect(awaitSync(simple())).toBe("simple");
  });

  test("bare yields (sleep(0)) are skipped", () => {
    expect(awaitSync(nullsleep())).toBe("nullsleep");
  });

  test("nested coroutines", () => {
    function* outer(): Coro<string> {
      const a = yield* simple();
      const b = yield* nullsleep();
      return `${a}+${b}`;
    }
    expect(awaitSync(outer())).toBe("simple+nullsleep");
  });

  test("an error from the coroutine is thrown as it is", () => {
    // biome-ignore lint/correctness/useYield: a coroutine that throws without suspending
    function* fails(): Coro<never> {
      throw new RangeError("bad");
    }
    expect(() => awaitSync(fails())).toThrow(RangeError);
  });

  test("a wait on something only a loop gives (a timer, a lock's turn, an event) is a SynchronousError, with no loop running too", () => {
    const lock = new Lock();
    const waits: [string, () => Coro<unknown>][] = [
      ["sleep(5)", () => sleep(5)],
      ["timeout()", () => timeout(10, () => sleep(0, 1))],
      ["event.wait()", () => new Event().wait()],
      [
        "a held lock",
        function* () {
          yield* lock.acquire();
          yield* lock.acquire();
        },
      ],
    ];
    const thrownBy = waits.map(([what, wait]) => {
      try {
        awaitSync(wait());
        return `${what}: returned`;
      } catch (error) {
        return `${what}: ${(error as Error).name}`;
      }
    });
    expect(thrownBy).toEqual([
      "sleep(5): SynchronousError",
      "timeout(): SynchronousError",
      "event.wait(): SynchronousError",
      "a held lock: SynchronousError",
    ]);
    // Outside awaitSync(), the same call says that no loop runs.
    expect(() => sleep(5).next()).toThrow(/^no running event loop/);
  });

  test("a done Future gives its result; a pending one is a SynchronousError", () => {
    const loop = new VirtualEventLoop();
    const done = new Future<number>({ loop });
    done.setResult(3);
    expect(awaitSync(done)).toBe(3);
    const pending = new Future<number>({ loop });
    expect(() => awaitSync(pending)).toThrow(SynchronousError);
  });

  test("waiting on a pending future: the error is thrown in, finally blocks run, then it is raised", () => {
    const log: unknown[] = [];
    const gate = never();
    function* blocks(): Coro<void> {
      try {
        log.push("before");
        yield* gate;
        log.push("after");
      } catch (e) {
        log.push(["caught", (e as Error).name]);
        throw e;
      } finally {
        log.push("finally");
      }
    }
    let caught: unknown;
    try {
      awaitSync(blocks());
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(SynchronousError);
    expect(String(caught)).toMatch(
      /awaitSync\(\): the coroutine waited on <Future pending>, which is not done, so it cannot finish synchronously/,
    );
    expect(log).toEqual(["before", ["caught", "SynchronousError"], "finally"]);
  });

  test("cleanup that only yields bare is completed (asynkit's test_cleanup)", () => {
    const log: string[] = [];
    function* cleanupper(): Coro<void> {
      try {
        yield* sleep(0);
      } finally {
        yield* sleep(0);
        log.push("cleaned");
      }
    }
    expect(awaitSync(cleanupper())).toBeUndefined();
    expect(log).toEqual(["cleaned"]);
  });

  test("cleanup after the abort may yield bare before it finishes", () => {
    const log: string[] = [];
    function* cleansUp(): Coro<string> {
      try {
        yield* never();
      } catch {
        yield* sleep(0);
        log.push("cleaned");
        return "recovered";
      }
      return "waited";
    }
    expect(awaitSync(cleansUp())).toBe("recovered");
    expect(log).toEqual(["cleaned"]);
  });

  test("a coroutine that handles the abort and returns decided not to wait (test_handled_abort)", () => {
    function* handledAbort(): Coro<string> {
      try {
        yield* never();
      } catch (e) {
        if (e instanceof SynchronousError) return "handled";
        throw e;
      }
      return "blocked";
    }
    expect(awaitSync(handledAbort())).toBe("handled");
  });

  test("a coroutine that swallows errors (test_genexit)", () => {
    function* genexit(): Coro<void> {
      try {
        yield* never();
      } catch {
        // ignores every error
      }
    }
    expect(awaitSync(genexit())).toBeUndefined();
  });

  test("a coroutine that keeps waiting is ended, and the error raised (test_noexit)", () => {
    const log: string[] = [];
    function* noexit(): Coro<void> {
      try {
        for (;;) {
          try {
            yield* never();
          } catch {
            log.push("ignored");
          }
        }
      } finally {
        log.push("finally");
      }
    }
    expect(() => awaitSync(noexit())).toThrow(SynchronousError);
    expect(log).toEqual(["ignored", "finally"]);
  });

  test("a coroutine that turns the abort into another error raises that one", () => {
    function* converts(): Coro<void> {
      try {
        yield* never();
      } catch {
        throw new CancelledError("gave up");
      }
    }
    expect(() => awaitSync(converts())).toThrow(CancelledError);
  });

  test("a coroutine that needs a running loop says so, as a SynchronousError", () => {
    expect(() => awaitSync(sleep(10))).toThrow(
      new SynchronousError(
        "awaitSync(): the coroutine needs a running event loop (to sleep, or to wait for a lock, an event or a task), so it cannot finish synchronously. Run it on an event loop (run(), createTask) instead.",
      ),
    );
  });

  test("forAwait() over a GeneratorObject needs no loop, with a plain body as with a function* one; an async body does", () => {
    function* numbers(g: GeneratorObject<number>): Coro<void> {
      for (let i = 1; i <= 3; i++) yield* g.yield(i);
    }
    const seen: string[] = [];
    awaitSync(
      // biome-ignore lint/correctness/useYield: a body that waits for nothing
      forAwait(new GeneratorObject(numbers), function* (n: number) {
        seen.push(`function* ${n}`);
      }),
    );
    awaitSync(
      forAwait(new GeneratorObject(numbers), (n: number) => {
        seen.push(`plain ${n}`);
      }),
    );
    expect(seen).toEqual([
      "function* 1",
      "function* 2",
      "function* 3",
      "plain 1",
      "plain 2",
      "plain 3",
    ]);
    expect(() =>
      awaitSync(
        forAwait(new GeneratorObject(numbers), async (n: number) => {
          seen.push(`async ${n}`);
        }),
      ),
    ).toThrow(SynchronousError);
    expect(seen).toHaveLength(6); // refused before its call
  });

  test("anything not awaitable is a TypeError", () => {
    expect(() => awaitSync(42 as never)).toThrow(
      /awaitSync\(\) expects awaitable to be a coroutine, a Future or another yield\*-able, got number 42/,
    );
  });
});
