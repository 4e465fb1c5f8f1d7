/**
 * The seed README's "Coroutine Tools" section, translated: every example runs
 * here, on the host loop (real time, through run()) and on the virtual loop.
 */
import { describe, expect, test } from "vitest";
import {
  type Awaitable,
  asyncEager,
  type BaseEventLoop,
  type Coro,
  coroAsFuture,
  coroContinue,
  coroEager,
  coroIsBlocked,
  coroStart,
  createTask,
  eager,
  type Future,
  HostEventLoop,
  run,
  sleep,
  Task,
  VirtualEventLoop,
} from "../src/index.js";

/** Applies a standard (TypeScript 5) method decorator the way compiled `@decorator` syntax does. */
function decorateMethod(
  cls: { prototype: object },
  name: string,
  decorator: (method: never, context: ClassMethodDecoratorContext) => unknown,
): void {
  const proto = cls.prototype as Record<string, unknown>;
  const context = {
    kind: "method",
    name,
    static: false,
    private: false,
    metadata: {},
    access: { has: (o: object) => name in o, get: (o: Record<string, unknown>) => o[name] },
    addInitializer: () => {},
  } as unknown as ClassMethodDecoratorContext;
  proto[name] = decorator(proto[name] as never, context);
}

const loops: [string, () => BaseEventLoop][] = [
  ["HostEventLoop", () => new HostEventLoop()],
  ["VirtualEventLoop", () => new VirtualEventLoop()],
];

describe.each(loops)("seed Coroutine Tools on %s", (_name, loopFactory) => {
  const runOn = <T>(main: Coro<T>): Promise<T> => run(main, { loopFactory });

  // The seed's `test()` / `caller(convert)` example, with asyncio.sleep(0.2) / (0.1).
  const log: unknown[] = [];
  function* work(): Coro<void> {
    log.push(1);
    yield* sleep(200); // some long IO
    log.push(2);
  }
  function* caller(convert: (c: Coro<void>) => Awaitable<void>): Coro<void> {
    log.length = 0;
    log.push("a");
    const future = convert(work());
    log.push("b");
    yield* sleep(100); // some other IO
    log.push("c");
    yield* future;
  }

  test("do nothing: the coroutine runs only when awaited", async () => {
    await runOn(caller((c) => c));
    expect(log).toEqual(["a", "b", "c", 1, 2]);
  });

  test("create a Task: it starts at the next loop round", async () => {
    await runOn(caller((c) => createTask(c)));
    expect(log).toEqual(["a", "b", 1, "c", 2]);
  });

  test("eager: it runs at once until it blocks", async () => {
    await runOn(caller(eager));
    expect(log).toEqual(["a", 1, "b", "c", 2]);
  });

  test("coroEager gives the same order, and returns a Task when it blocks", async () => {
    let made: unknown;
    await runOn(
      caller((c) => {
        made = coroEager(c);
        return made as Future<void>;
      }),
    );
    expect(log).toEqual(["a", 1, "b", "c", 2]);
    expect(made).toBeInstanceOf(Task);
  });

  test("the decorator form: an eager generator method", async () => {
    const events: unknown[] = [];
    // TypeScript 5's emit for `@eager *getSlowRemoteData()` (vitest's transform keeps
    // decorator syntax as is, so the decorator is applied as TypeScript applies it).
    class Remote {
      *getSlowRemoteData(): Awaitable<string> {
        events.push("request sent");
        const result = yield* sleep(50, { importantData: "data" }); // execute_remote_request()
        events.push("reply");
        return result.importantData;
      }
    }
    decorateMethod(Remote, "getSlowRemoteData", eager);
    function* someLocalComputation(): Coro<number> {
      events.push("local work");
      yield* sleep(20);
      return 2;
    }
    function* myComplexThing(remote: Remote): Coro<string> {
      // kick off the request as soon as possible
      const future = remote.getSlowRemoteData();
      // the remote execution is already in flight: do some work taking time
      const intermediate = yield* someLocalComputation();
      // wait for the result of the request
      return `${intermediate}:${yield* future}`;
    }
    expect(await runOn(myComplexThing(new Remote()))).toBe("2:data");
    expect(events).toEqual(["request sent", "local work", "reply"]);
  });

  test("asyncEager (the seed's async_eager) decorates a generator function", async () => {
    const eagerWork = asyncEager(work);
    await runOn(caller(() => eagerWork()));
    expect(log).toEqual(["a", 1, "b", "c", 2]);
  });

  test("coroEager is coroStart, coroIsBlocked, coroAsFuture / coroContinue in a Task", async () => {
    function byHand(coro: Coro<void>): Awaitable<void> {
      const state = coroStart(coro);
      if (!coroIsBlocked(state)) return coroAsFuture(state);
      return createTask(coroContinue(state));
    }
    await runOn(
      (function* () {
        log.length = 0;
        log.push("a");
        const future = byHand(work());
        log.push("b");
        yield* sleep(100);
        log.push("c");
        yield* future;
      })(),
    );
    expect(log).toEqual(["a", 1, "b", "c", 2]);
  });

  test("a coroutine that does not block: eager returns a done Future, no Task", async () => {
    // biome-ignore lint/correctness/useYield: a coroutine that returns without suspending
    function* quick(): Coro<number> {
      log.push(1);
      return 42;
    }
    const result = await runOn(
      (function* () {
        log.length = 0;
        log.push("a");
        const future = eager(quick());
        log.push("b");
        expect(future).not.toBeInstanceOf(Task);
        expect(future.done()).toBe(true);
        return yield* future;
      })(),
    );
    expect(result).toBe(42);
    expect(log).toEqual(["a", 1, "b"]);
  });
});
