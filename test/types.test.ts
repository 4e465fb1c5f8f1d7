// biome-ignore-all lint/correctness/useYield: coroutines that finish without suspending are part of what is tested.
/**
 * The public signatures, checked by the type checker (expectTypeOf): what
 * users write against must keep inferring the types they expect.
 */
import { describe, expectTypeOf, it } from "vitest";
import {
  type Awaitable,
  type AwaitedResult,
  aiterSync,
  allTasks,
  asCompleted,
  type BaseEventLoop,
  type ChannelId,
  type ChannelMessage,
  type ChannelMessages,
  Condition,
  type Context,
  ContextVar,
  type Coro,
  copyContext,
  createTask,
  createTaskDescend,
  createTaskStart,
  currentTask,
  ensureFuture,
  Future,
  forAwait,
  fromAsyncIterable,
  fromPromise,
  GeneratorObject,
  gather,
  getEventLoop,
  getRunningLoop,
  type Handle,
  type HostEventLoop,
  isFuture,
  Monitor,
  type Op,
  run,
  type Suspend,
  sleep,
  Task,
  type TaskGroup,
  type TimerHandle,
  type Token,
  VirtualEventLoop,
  wait,
} from "../src/index.js";
import type { ExploreOptions } from "../src/testing/index.js";

function* answer(): Coro<number> {
  yield;
  return 42;
}

describe("coroutines and tasks", () => {
  it("Coro<T> is a generator of Suspend returning T", () => {
    expectTypeOf<Coro<string>>().toEqualTypeOf<Generator<Suspend, string, unknown>>();
    expectTypeOf<Coro>().toEqualTypeOf<Generator<Suspend, unknown, unknown>>();
  });

  it("createTask returns Task<T>; yield* task gives T", () => {
    expectTypeOf(createTask<number>).returns.toEqualTypeOf<Task<number>>();
    expectTypeOf<Task<number>>().toExtend<Future<number>>();
    function* main(): Coro<void> {
      const t = createTask(answer());
      expectTypeOf(t).toEqualTypeOf<Task<number>>();
      const n = yield* t;
      expectTypeOf(n).toEqualTypeOf<number>();
    }
    expectTypeOf(main).returns.toEqualTypeOf<Coro<void>>();
  });

  it("yield* future and yield* sleep give their value types", () => {
    function* main(): Coro<void> {
      const f = new Future<string>();
      const s = yield* f;
      expectTypeOf(s).toEqualTypeOf<string>();
      const v = yield* sleep(1, { a: 1 });
      expectTypeOf(v).toEqualTypeOf<{ a: number }>();
      const nothing = yield* sleep(0);
      expectTypeOf(nothing).toEqualTypeOf<void>();
      // @ts-expect-error: without a value, sleep() gives undefined, whatever T says
      yield* sleep<number>(1);
    }
    expectTypeOf(main).returns.toEqualTypeOf<Coro<void>>();
  });

  it("run returns Promise<T> for a coroutine or a function*", () => {
    expectTypeOf(run<number>).returns.toEqualTypeOf<Promise<number>>();
    expectTypeOf(run(answer)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(run(answer())).toEqualTypeOf<Promise<number>>();
    // @ts-expect-error: run() takes a coroutine, not a number
    expectTypeOf(() => run(42)).toBeFunction();
  });

  it("runSync and runUntilComplete give T", () => {
    const loop = new VirtualEventLoop();
    expectTypeOf(loop.runSync<number>).returns.toEqualTypeOf<number>();
    expectTypeOf(loop.runUntilComplete<string>).returns.toEqualTypeOf<Promise<string>>();
  });

  it("currentTask, allTasks, ensureFuture, isFuture", () => {
    expectTypeOf(currentTask).returns.toEqualTypeOf<Task | null>();
    expectTypeOf(allTasks).returns.toEqualTypeOf<Set<Task>>();
    expectTypeOf(ensureFuture(answer())).toEqualTypeOf<Future<number>>();
    expectTypeOf(ensureFuture(Promise.resolve("s"))).toEqualTypeOf<Future<string>>();
    const x: unknown = null;
    if (isFuture(x)) expectTypeOf(x).toEqualTypeOf<Future<unknown>>();
  });

  it("a Task and a Future are Awaitable of their type", () => {
    expectTypeOf<Task<number>>().toExtend<Awaitable<number>>();
    expectTypeOf<Future<string>>().toExtend<Awaitable<string>>();
    expectTypeOf<Coro<boolean>>().toExtend<Awaitable<boolean>>();
  });
});

describe("futures", () => {
  it("Future<T> is PromiseLike<T>: native await gives T", async () => {
    expectTypeOf<Future<number>>().toExtend<PromiseLike<number>>();
    const f = new Future<number>({ loop: new VirtualEventLoop() });
    f.setResult(1);
    const v = await f;
    expectTypeOf(v).toEqualTypeOf<number>();
  });

  it("then() takes the handlers a promise's then() takes, (e: Error) => … included", () => {
    const loop = new VirtualEventLoop();
    const future = loop.createFuture<string>();
    const chained = future.then(
      (value) => value.length,
      (error: Error) => error.message,
    );
    expectTypeOf(chained).toEqualTypeOf<Promise<number | string>>();
    const slept = () =>
      sleep(1, "a").then(
        (value) => value,
        (error: Error) => error.name,
      );
    expectTypeOf(slept).returns.toEqualTypeOf<Promise<string>>();
    void chained.catch(() => {});
    const caught = () =>
      sleep(1, 1)
        .then((value) => value + 1)
        .catch(() => 0);
    expectTypeOf(caught).returns.toEqualTypeOf<Promise<number>>();
    loop.close();
  });

  it("result, exception, setResult and callbacks are typed by T", () => {
    expectTypeOf<Future<number>["result"]>().returns.toEqualTypeOf<number>();
    expectTypeOf<Future<number>["exception"]>().returns.toEqualTypeOf<unknown>();
    expectTypeOf<Future<number>["setResult"]>().parameters.toEqualTypeOf<[number]>();
    const f = new Future<number>({ loop: new VirtualEventLoop() });
    f.addDoneCallback((fut) => expectTypeOf(fut).toEqualTypeOf<Future<number>>());
    // @ts-expect-error: a Future<number> does not take a string
    f.setResult("no");
  });

  it("fromPromise gives a Future of the promise's type", () => {
    expectTypeOf(fromPromise<string>).returns.toEqualTypeOf<Future<string>>();
  });
});

describe("loops", () => {
  it("callSoon/callLater/callAt check the callback's arguments", () => {
    const loop = new VirtualEventLoop();
    expectTypeOf(
      loop.callSoon((a: number, b: string) => void [a, b], 1, "x"),
    ).toEqualTypeOf<Handle>();
    expectTypeOf(loop.callLater(1, (a: number) => void a, 1)).toEqualTypeOf<TimerHandle>();
    expectTypeOf(loop.callAt(1, () => {})).toEqualTypeOf<TimerHandle>();
    // @ts-expect-error: the argument must be a number
    loop.callSoon((a: number) => void a, "x");
    loop.close();
  });

  it("getRunningLoop and getEventLoop return a BaseEventLoop; createFuture is typed", () => {
    expectTypeOf(getRunningLoop).returns.toEqualTypeOf<BaseEventLoop>();
    expectTypeOf(getEventLoop).returns.toEqualTypeOf<BaseEventLoop>();
    expectTypeOf<BaseEventLoop["createFuture"]>().returns.toEqualTypeOf<Future<unknown>>();
    expectTypeOf(new VirtualEventLoop().createFuture<number>()).toEqualTypeOf<Future<number>>();
  });
});

describe("context variables", () => {
  it("ContextVar<T> get/set are typed; Context.run returns what fn returns", () => {
    const v = new ContextVar<number>("v", { default: 0 });
    expectTypeOf(v.get()).toEqualTypeOf<number>();
    expectTypeOf(v.get(5)).toEqualTypeOf<number>();
    expectTypeOf(v.get(undefined)).toEqualTypeOf<number | undefined>();
    expectTypeOf(v.get("none")).toEqualTypeOf<number | string>();
    expectTypeOf(v.set).returns.toEqualTypeOf<Token<number>>();
    expectTypeOf<Context["get"]>().toBeFunction();
    expectTypeOf<ReturnType<Context["copy"]>>().toEqualTypeOf<Context>();
  });

  it("a ContextVar's default is of its type: one that may be undefined needs a type that admits it", () => {
    const maybe = (): string | undefined => undefined;
    // @ts-expect-error get() would be typed string and give undefined
    void new ContextVar<string>("a", { default: maybe() });
    const optional = new ContextVar("b", { default: maybe() });
    expectTypeOf(optional.get()).toEqualTypeOf<string | undefined>();
    void new ContextVar<string>("c", {});
    void new ContextVar<string>("d", undefined);
  });
});

describe("gather", () => {
  function* main(): Coro<void> {
    const n = createTask(answer());
    const s = new Future<string>();
    const tasks: Task<number>[] = [n];
    const iterable: Iterable<Task<number>> = tasks;
    expectTypeOf(yield* gather(n, s)).toEqualTypeOf<[number, string]>();
    expectTypeOf(yield* gather()).toEqualTypeOf<[]>();
    expectTypeOf(yield* gather([n, s])).toEqualTypeOf<[number, string]>();
    expectTypeOf(yield* gather([n, sleep(1, true)] as const)).toEqualTypeOf<[number, boolean]>();
    expectTypeOf(yield* gather([])).toEqualTypeOf<[]>();
    expectTypeOf(yield* gather(tasks)).toEqualTypeOf<number[]>();
    expectTypeOf(yield* gather(new Set([n, s]))).toEqualTypeOf<(number | string)[]>();
    // With options, any iterable is a list; without, only an array or a Set is.
    expectTypeOf(yield* gather(iterable, {})).toEqualTypeOf<number[]>();
    expectTypeOf(yield* gather(new Map([[1, n]]).values(), {})).toEqualTypeOf<number[]>();
    expectTypeOf(
      yield* gather(new Map([[1, n]]).values(), { returnExceptions: true }),
    ).toEqualTypeOf<unknown[]>();
    expectTypeOf(yield* gather([...iterable], {})).toEqualTypeOf<number[]>();
    expectTypeOf(yield* gather([n, s], { returnExceptions: undefined })).toEqualTypeOf<
      [number, string]
    >();
    // A list is not an awaitable: its iterator gives no coroutine.
    // @ts-expect-error
    gather([n], [s]);
    // @ts-expect-error
    ensureFuture([n, s]);
    expectTypeOf(yield* gather([n, s], { returnExceptions: true })).toEqualTypeOf<
      [unknown, unknown]
    >();
    expectTypeOf(yield* gather(tasks, { returnExceptions: false })).toEqualTypeOf<number[]>();
    const mixed = [n, s];
    for (const next of asCompleted(mixed))
      expectTypeOf(yield* next).toEqualTypeOf<number | string>();
    for (const next of asCompleted<number | string>(mixed)) {
      expectTypeOf(yield* next).toEqualTypeOf<number | string>();
    }
    // The first one done, without a loop: an Op while there is one, undefined after.
    expectTypeOf(asCompleted([n]).next().value).toEqualTypeOf<Op<number> | undefined>();
    expectTypeOf(copyContext().keys().next().value).toEqualTypeOf<
      ContextVar<unknown> | undefined
    >();
    const returnExceptions: boolean = tasks.length > 1;
    expectTypeOf(yield* gather(tasks, { returnExceptions })).toEqualTypeOf<unknown[]>();
  }

  it("gives a tuple for arguments or a tuple, an array for an array, a Set or an iterable", () => {
    expectTypeOf(main).returns.toEqualTypeOf<Coro<void>>();
  });

  it("AwaitedResult is what yield* gives", () => {
    expectTypeOf<AwaitedResult<Task<number>>>().toEqualTypeOf<number>();
    expectTypeOf<AwaitedResult<Coro<string>>>().toEqualTypeOf<string>();
  });
});

describe("monitors and generators", () => {
  function* asker(m: Monitor<string, number>): Coro<boolean> {
    const reply = yield* m.oob("question");
    expectTypeOf(reply).toEqualTypeOf<number>();
    return reply > 0;
  }

  function* numbers(g: GeneratorObject<number, string, boolean>): Coro<string> {
    expectTypeOf(yield* g.yield(1)).toEqualTypeOf<boolean>();
    return "end";
  }

  function* main(): Coro<void> {
    const m = new Monitor<string, number>();
    const c = asker(m);
    const r = yield* m.await(c, 1);
    expectTypeOf(r).toEqualTypeOf<IteratorResult<string, boolean>>();
    if (r.done) expectTypeOf(r.value).toEqualTypeOf<boolean>();
    else expectTypeOf(r.value).toEqualTypeOf<string>();
    expectTypeOf(yield* m.bind(c)).toEqualTypeOf<IteratorResult<string, boolean>>();
    expectTypeOf(yield* m.start(c)).toEqualTypeOf<string>();
    expectTypeOf(yield* m.tryAwait(c, 2, null)).toEqualTypeOf<boolean | null>();

    const gen = new GeneratorObject(numbers);
    expectTypeOf(gen).toEqualTypeOf<GeneratorObject<number, string, boolean>>();
    expectTypeOf(yield* gen.next(true)).toEqualTypeOf<IteratorResult<number, string>>();
    expectTypeOf(gen).toExtend<AsyncIterable<number, string, boolean>>();
    expectTypeOf(aiterSync(gen)).toEqualTypeOf<Generator<number, string | undefined, undefined>>();
    async function* native(): AsyncGenerator<number, string> {
      yield 1;
      return "end";
    }
    expectTypeOf(fromAsyncIterable(native())).toEqualTypeOf<
      GeneratorObject<number, string | undefined>
    >();
    yield* forAwait(native(), (n) => {
      expectTypeOf(n).toEqualTypeOf<number>();
      return undefined;
    });
    yield* forAwait(gen, function* (n) {
      expectTypeOf(n).toEqualTypeOf<number>();
      yield* sleep(1);
      return n < 3;
    });
    // Bodies that return nothing, as for-await loop bodies usually do.
    yield* forAwait(native(), (n) => {
      expectTypeOf(n).toEqualTypeOf<number>();
    });
    yield* forAwait(native(), function* (n) {
      yield* sleep(n);
    });
  }

  it("oob() replies, await() results and items are typed by the monitor's and generator's parameters", () => {
    expectTypeOf(main).returns.toEqualTypeOf<Coro<void>>();
  });

  it("oob() may leave out its message only when the message type allows undefined", () => {
    expectTypeOf<Monitor<undefined>["oob"]>().parameters.toEqualTypeOf<[data?: undefined]>();
    expectTypeOf<Monitor<string>["oob"]>().parameters.toEqualTypeOf<[data: string]>();
  });
});

describe("options", () => {
  // A caller that passes its own optional settings on (exactOptionalPropertyTypes, on in this
  // project's tsconfig) may give a field as undefined: it means the default, as leaving it out does.
  function passOn(signal?: AbortSignal, name?: string, timeout?: number): Coro<void> {
    return (function* () {
      const task = createTask(sleep(1), { name, signal, context: undefined, priority: undefined });
      yield* gather([task], { returnExceptions: undefined });
      yield* wait([task], { timeout, returnWhen: undefined });
      yield* fromPromise(Promise.resolve(), { loop: undefined });
    })();
  }

  it("take undefined for any field, under exactOptionalPropertyTypes", () => {
    expectTypeOf(run).toBeCallableWith(passOn(), {
      signal: undefined,
      debug: undefined,
      loopFactory: undefined,
      asyncLocalStorage: undefined,
    });
    expectTypeOf(Task<void>).toBeConstructibleWith(passOn(), { loop: undefined, name: undefined });
    expectTypeOf<HostEventLoop["submit"]>().toBeCallableWith(passOn(), {
      name: undefined,
      signal: undefined,
    });
  });
});

describe("wait", () => {
  it("gives sets of the futures given, or of futures of the results of the coroutines and futures given", () => {
    function* waiter() {
      const tasks = [createTask(answer()), createTask(answer())];
      expectTypeOf((yield* wait(tasks)).done).toEqualTypeOf<Set<Task<number>>>();
      expectTypeOf((yield* wait([answer(), tasks[0] as Task<number>])).pending).toEqualTypeOf<
        Set<Future<number>>
      >();
      const mixed = yield* wait([answer(), sleep(1, "s")]);
      expectTypeOf(mixed.done).toEqualTypeOf<Set<Future<number | string>>>();
      const both = yield* wait([createTask(answer()), sleep(1, "s")]);
      expectTypeOf(both.pending).toEqualTypeOf<Set<Future<number | string>>>();
      expectTypeOf(yield* wait<number>([answer()])).toEqualTypeOf<{
        done: Set<Future<number>>;
        pending: Set<Future<number>>;
      }>();
    }
    expectTypeOf(waiter).returns.toEqualTypeOf<Generator<Suspend, void, unknown>>();
  });
});

describe("conditions", () => {
  it("waitFor() gives the predicate's value once it is truthy: none of its falsy ones", () => {
    const condition = new Condition();
    const items: string[] = [];
    function* waiter() {
      const found = yield* condition.waitFor(() => items.length > 0 && items[0]);
      expectTypeOf(found).toEqualTypeOf<string>();
      const maybe = yield* condition.waitFor(() => (items.length > 0 ? items : null));
      expectTypeOf(maybe).toEqualTypeOf<string[]>();
    }
    expectTypeOf(waiter).returns.toEqualTypeOf<Generator<Suspend, void, unknown>>();
  });
});

describe("channels", () => {
  it("ChannelMessage types a message by the channel's own name; ChannelMessages keys are event names", () => {
    expectTypeOf<ChannelMessage<"asynkit:task.done">>().toEqualTypeOf<
      ChannelMessages["task.done"]
    >();
    expectTypeOf<ChannelMessage<"asynkit:task.done">["state"]>().toEqualTypeOf<
      "finished" | "failed" | "cancelled"
    >();
    expectTypeOf<"asynkit:task.done">().toExtend<ChannelId>();
    // An event name without the prefix is no channel anyone publishes on.
    expectTypeOf<"task.done">().not.toExtend<ChannelId>();
  });
});

describe("task options", () => {
  it("createTaskDescend() and createTaskStart() take createTask()'s options but eagerStart; tg.createTask() all of them", () => {
    function* uses(tg: TaskGroup): Coro<void> {
      yield* createTaskDescend(answer(), { name: "d", priority: "background", signal: undefined });
      yield* createTaskStart(answer(), { priority: -5 });
      // @ts-expect-error: eagerStart is what createTaskStart() does already
      yield* createTaskStart(answer(), { eagerStart: true });
      tg.createTask(answer(), { eagerStart: true, priority: 3 });
    }
    expectTypeOf(uses).returns.toEqualTypeOf<Coro<void>>();
  });
});

describe("explore() options", () => {
  it("depth is pct's and preemptionBound dfs's: the types refuse either with another strategy", () => {
    expectTypeOf<{ strategy: "pct"; depth: 2 }>().toExtend<ExploreOptions>();
    expectTypeOf<{ strategy: "dfs"; preemptionBound: 1 }>().toExtend<ExploreOptions>();
    expectTypeOf<{ iterations: 10; seed: 1 }>().toExtend<ExploreOptions>();
    // The default strategy is random: refused at run time too, with a TypeError.
    expectTypeOf<{ depth: 2 }>().not.toExtend<ExploreOptions>();
    expectTypeOf<{ strategy: "random"; depth: 2 }>().not.toExtend<ExploreOptions>();
    expectTypeOf<{ strategy: "pct"; preemptionBound: 1 }>().not.toExtend<ExploreOptions>();
    expectTypeOf<{ strategy: "dfs"; depth: 2 }>().not.toExtend<ExploreOptions>();
  });
});
