/**
 * Queue, LifoQueue, PriorityQueue: ports of CPython's test_queues.py on the
 * virtual loop, including the races where a getter or putter is cancelled at
 * the moment it is woken (no item may be lost or duplicated).
 */
import { describe, expect, it } from "vitest";
import {
  CancelledError,
  type Coro,
  createTask,
  eager,
  gather,
  getRunningLoop,
  LifoQueue,
  PriorityQueue,
  Queue,
  QueueEmpty,
  QueueFull,
  QueueShutDown,
  SchedulingVirtualEventLoop,
  sleep,
  type Task,
  taskThrow,
  VirtualEventLoop,
} from "../src/index.js";
import { Waiter, WaiterLine } from "../src/waiters.js";
import { catching, caught, runV } from "./helpers.js";

/** Runs `aw` in the current task and returns what it threw (undefined if nothing). */

describe("Queue basics", () => {
  it("is FIFO; qsize, empty, full and toString follow the contents", () => {
    const q = new Queue<number>(2);
    expect(String(q)).toBe("<Queue maxsize=2>");
    expect(q.empty()).toBe(true);
    q.putNowait(1);
    q.putNowait(2);
    expect(q.full()).toBe(true);
    expect(q.qsize()).toBe(2);
    expect(q.maxsize).toBe(2);
    expect(String(q)).toBe("<Queue maxsize=2 qsize=2 tasks=2>");
    expect(() => q.putNowait(3)).toThrow(QueueFull);
    expect([q.getNowait(), q.getNowait()]).toEqual([1, 2]);
    expect(() => q.getNowait()).toThrow(QueueEmpty);
    expect(new Queue().full()).toBe(false); // unbounded
  });

  it("rejects a negative or non-numeric maxsize", () => {
    expect(() => new Queue(-1)).toThrow(RangeError);
    expect(new Queue(1.5).maxsize).toBe(1.5); // as asyncio, a fraction is a bound too
    expect(() => new Queue(Number.NaN)).toThrow(
      /new Queue\(\) expects maxsize to be a number >= 0, got number NaN/,
    );
  });

  it("put() waits while full, get() while empty (test_maxsize, test_blocking_get)", () => {
    const log = runV(function* () {
      const q = new Queue<number>(2);
      const log: string[] = [];
      const putter = createTask(
        (function* () {
          for (let i = 0; i < 3; i++) {
            yield* q.put(i);
            log.push(`put ${i}`);
          }
        })(),
      );
      yield* sleep(0);
      log.push(`full with ${q.qsize()}`);
      log.push(`got ${yield* q.get()}`);
      yield* putter;
      const getter = createTask(
        (function* () {
          const items: number[] = [];
          for (let i = 0; i < 3; i++) items.push(yield* q.get());
          return items;
        })(),
      );
      yield* sleep(0);
      log.push(`getter waits: ${getter.done()}`);
      q.putNowait(9);
      log.push(`items ${(yield* getter).join(",")}`);
      return log;
    });
    expect(log).toEqual([
      "put 0",
      "put 1",
      "full with 2",
      "got 0",
      "put 2",
      "getter waits: false",
      "items 1,2,9",
    ]);
  });

  it("getters and putters are served first come, first served", () => {
    const got = runV(function* () {
      const q = new Queue<string>();
      const got: string[] = [];
      const getters = ["a", "b", "c"].map((name) =>
        createTask(
          (function* () {
            got.push(`${name}:${yield* q.get()}`);
          })(),
        ),
      );
      yield* sleep(0);
      for (const x of ["1", "2", "3"]) q.putNowait(x);
      yield* gather(...getters);
      return got;
    });
    expect(got).toEqual(["a:1", "b:2", "c:3"]);
  });

  it("LifoQueue is last in, first out; PriorityQueue smallest first", () => {
    const lifo = new LifoQueue<number>();
    for (const x of [1, 2, 3]) lifo.putNowait(x);
    expect([lifo.getNowait(), lifo.getNowait(), lifo.getNowait()]).toEqual([3, 2, 1]);

    const pq = new PriorityQueue<[number, string]>();
    for (const x of [
      [3, "c"],
      [1, "a"],
      [2, "b"],
      [1, "0"],
    ] as [number, string][]) {
      pq.putNowait(x);
    }
    const out: string[] = [];
    while (!pq.empty()) out.push(pq.getNowait().join(""));
    expect(out).toEqual(["10", "1a", "2b", "3c"]);

    const byDue = new PriorityQueue<{ due: number }>(0, (a, b) => b.due - a.due); // largest first
    for (const due of [5, 9, 1, 7, 3]) byDue.putNowait({ due });
    const dues: number[] = [];
    while (!byDue.empty()) dues.push(byDue.getNowait().due);
    expect(dues).toEqual([9, 7, 5, 3, 1]);
    expect(String(byDue)).toBe("<PriorityQueue maxsize=0 tasks=5>");
  });

  it("a PriorityQueue without compare refuses items it cannot order, as Python does, and stays as it was", () => {
    const jobs = new PriorityQueue<{ priority: number }>();
    jobs.putNowait({ priority: 2 });
    expect(() => jobs.putNowait({ priority: 1 })).toThrow(
      new TypeError(
        "PriorityQueue cannot order object { priority } and object { priority }: without a compare function it orders numbers, strings and arrays of them, as Python does. Pass one, e.g. new PriorityQueue(0, (a, b) => a.priority - b.priority).",
      ),
    );
    expect([jobs.qsize(), jobs.getNowait()]).toEqual([1, { priority: 2 }]);

    const mixed = new PriorityQueue<number | string | bigint>();
    for (const x of [5, 3n, 8]) mixed.putNowait(x);
    expect(() => mixed.putNowait("a")).toThrow(TypeError);
    const out: (number | string | bigint)[] = [];
    while (!mixed.empty()) out.push(mixed.getNowait());
    expect(out).toEqual([3n, 5, 8]);

    // NaN, which Python lets in to sit anywhere, is refused, first or inside an array too.
    const nan = new PriorityQueue<number | [number, number]>();
    expect(() => nan.putNowait(Number.NaN)).toThrow(
      new TypeError(
        "PriorityQueue cannot order number NaN: NaN has no place in an order (a priority computed from undefined?).",
      ),
    );
    nan.putNowait([0, 1]);
    expect(() => nan.putNowait([2, Number.NaN])).toThrow(/^PriorityQueue cannot order array /);
    expect([nan.qsize(), nan.getNowait()]).toEqual([1, [0, 1]]);
  });

  it("a PriorityQueue whose get() meets two items it cannot order keeps every item where it was", () => {
    // [2, "a"] and [2, 5] were each compared with [0, "x"] only, as they were put.
    const jobs = new PriorityQueue<[number, string | number]>();
    for (const item of [
      [0, "x"],
      [2, "a"],
      [2, 5],
      [3, "b"],
    ] as [number, string | number][]) {
      jobs.putNowait(item);
    }
    expect(() => jobs.getNowait()).toThrow(/^PriorityQueue cannot order number 5 and string "a"/);
    expect((jobs as unknown as { _heap: unknown[] })._heap).toEqual([
      [0, "x"],
      [2, "a"],
      [2, 5],
      [3, "b"],
    ]);
    expect(jobs.qsize()).toBe(4);
  });
});

describe("a queue call awaited again (test_coroutines' cannot reuse already awaited coroutine)", () => {
  it("gives undefined and moves no item, as a finished generator gives undefined", async () => {
    runV(function* () {
      const queue = new Queue<string>();
      const put = queue.put("a");
      yield* put;
      expect(yield* put).toBeUndefined();
      expect(queue.qsize()).toBe(1);
      queue.putNowait("b");
      const get = queue.get();
      expect(yield* get).toBe("a");
      expect(yield* get).toBeUndefined();
      expect(queue.qsize()).toBe(1);
    });
    await new VirtualEventLoop().runUntilComplete(async () => {
      const queue = new Queue<string>(1);
      const put = queue.put("a");
      await put;
      expect(await put).toBeUndefined();
      const get = queue.get();
      expect(await get).toBe("a");
      expect(await get).toBeUndefined();
      expect(queue.qsize()).toBe(0);
    });
  });
});

describe("a queue call awaited by a second task while the first waits", () => {
  it("fails in the second task alone: the first keeps its place and gets the item", () => {
    runV(function* () {
      const queue = new Queue<number>();
      const get = queue.get();
      const first = createTask(
        (function* () {
          return yield* get;
        })(),
      );
      const second = createTask(
        (function* () {
          return yield* get;
        })(),
      );
      yield* sleep(1);
      queue.putNowait(1);
      expect(yield* first).toBe(1);
      expect(((yield* catching(second)) as Error).message).toBe(
        "Queue.get() is awaited already, by another task: a call is awaited once (to wait for it from several tasks, make it a task, createTask(call), and await that).",
      );
      expect(queue.qsize()).toBe(0);
    });
  });

  it("a wait begun in an eager start is the task's that continues it, not its creator's", () => {
    runV(function* () {
      const queue = new Queue<string>();
      const started = eager(
        (function* () {
          return yield* queue.get(); // waits in the start, resumes in its task
        })(),
      );
      const also = createTask(
        (function* () {
          return yield* queue.get();
        })(),
        { eagerStart: true },
      );
      yield* sleep(0);
      queue.putNowait("a");
      queue.putNowait("b");
      expect([yield* started, yield* also]).toEqual(["a", "b"]);
    });
  });

  it("fails in the second task alone when the first was woken, or cancelled, and has not resumed yet", () => {
    runV(function* () {
      const queue = new Queue<string>();
      for (const wakeFirst of [
        () => queue.putNowait("item"),
        (first: Task<unknown>) => first.cancel(),
      ]) {
        const get = queue.get();
        const first = createTask(
          (function* () {
            return yield* get;
          })(),
        );
        yield* sleep(0); // the first waits
        const second = createTask(
          (function* () {
            return yield* get;
          })(),
        );
        wakeFirst(first); // queued behind second
        expect(((yield* catching(second)) as Error).message).toMatch(
          /^Queue\.get\(\) is awaited already/,
        );
        const outcome = yield* catching(first);
        expect(outcome === undefined ? first.result() : (outcome as Error).name).toBe(
          first.cancelled() ? "CancelledError" : "item",
        );
      }
      expect(queue.qsize()).toBe(0);
    });
  });
});

describe("Queue under cancellation", () => {
  it("a getter cancelled as it is woken leaves the item for the next get (test_get_cancel_drop_one_pending_reader)", () => {
    const result = runV(function* () {
      const q = new Queue<number>();
      let reader = createTask(q.get());
      yield* sleep(0);
      q.putNowait(1); // wakes the reader…
      q.putNowait(2);
      reader.cancel(); // …which is cancelled before it runs
      if ((yield* catching(reader)) instanceof CancelledError) {
        reader = createTask(q.get());
        yield* reader;
      }
      return reader.result();
    });
    expect(result).toBe(1); // 2 would mean 1 was dropped
  });

  it("of many pending readers, each item goes to exactly one (test_get_cancel_drop_many_pending_readers)", () => {
    const result = runV(function* () {
      const q = new Queue<number>();
      const readers = [createTask(q.get()), createTask(q.get()), createTask(q.get())];
      yield* sleep(0);
      q.putNowait(1);
      q.putNowait(2);
      readers[0]?.cancel(); // woken for item 1, cancelled before it runs
      const results = yield* gather(readers, { returnExceptions: true });
      return { results, left: q.qsize() };
    });
    expect(result.results[0]).toBeInstanceOf(CancelledError);
    expect(result.results.slice(1)).toEqual([1, 2]);
    expect(result.left).toBe(0);
  });

  it("a getter cancelled from a callback that runs right before it resumes hands the item on", () => {
    const log = runV(function* () {
      const loop = getRunningLoop();
      const q = new Queue<string>();
      const log: string[] = [];
      const getter = (name: string) =>
        createTask(
          (function* () {
            try {
              log.push(`${name} got ${yield* q.get()}`);
            } catch (error) {
              log.push(`${name} ${(error as Error).name}`);
            }
          })(),
        );
      const a = getter("a");
      const b = getter("b");
      yield* sleep(0);
      q.putNowait("x"); // a's wakeup is queued
      loop.callSoon(() => a.cancel());
      loop._ready.unshift(loop._ready.pop() as never); // the cancel runs just before a resumes
      yield* gather(a, b);
      return log;
    });
    expect(log).toEqual(["a CancelledError", "b got x"]);
  });

  it("a putter cancelled as it is woken does not put, and the space goes to the next (test_put_cancel_drop)", () => {
    const result = runV(function* () {
      const q = new Queue<number>(1);
      q.putNowait(1);
      let writer = createTask(q.put(2));
      yield* sleep(0);
      const value1 = q.getNowait(); // wakes the writer…
      writer.cancel(); // …which is cancelled before it runs
      if ((yield* catching(writer)) instanceof CancelledError) {
        writer = createTask(q.put(2));
        yield* writer;
      }
      const value2 = q.getNowait();
      return [value1, value2, q.qsize()];
    });
    expect(result).toEqual([1, 2, 0]);
  });

  it("a woken putter that is cancelled wakes the next putter", () => {
    const log = runV(function* () {
      const q = new Queue<string>(1);
      const log: string[] = [];
      q.putNowait("first");
      const p1 = createTask(q.put("p1"));
      const p2 = createTask(q.put("p2"));
      yield* sleep(0);
      log.push(q.getNowait()); // wakes p1
      p1.cancel();
      log.push(String(yield* catching(p1)));
      yield* p2;
      log.push(q.getNowait());
      return log;
    });
    expect(log).toEqual(["first", "CancelledError", "p2"]);
  });

  it("cancelled getters and putters do not stay registered", () => {
    runV(function* () {
      const q = new Queue<number>(1);
      const g = createTask(q.get());
      yield* sleep(0);
      g.cancel();
      yield* sleep(0);
      expect(q._getters.length).toBe(0);
      q.putNowait(1);
      const p = createTask(q.put(2));
      yield* sleep(0);
      p.cancel();
      yield* sleep(0);
      expect(q._putters.length).toBe(0);
      expect(q.getNowait()).toBe(1);
    });
  });
});

describe("join and taskDone", () => {
  it("join() waits until every item is marked done (test_task_done)", () => {
    const log = runV(function* () {
      const q = new Queue<number>();
      const log: string[] = [];
      for (let i = 0; i < 4; i++) q.putNowait(i);
      let sum = 0;
      function* worker(name: string): Coro<void> {
        for (;;) {
          const item = yield* q.get();
          yield* sleep(10 * (item + 1));
          sum += item;
          log.push(`${name} did ${item}`);
          q.taskDone();
        }
      }
      const workers = [createTask(worker("w1")), createTask(worker("w2"))];
      yield* q.join();
      log.push(`joined with sum ${sum}`);
      for (const w of workers) w.cancel();
      yield* gather(workers, { returnExceptions: true });
      return log;
    });
    expect(log).toEqual(["w1 did 0", "w2 did 1", "w1 did 2", "w2 did 3", "joined with sum 6"]);
  });

  it("join() on a queue with nothing unfinished returns at once; too many taskDone() is an error", () => {
    runV(function* () {
      const q = new Queue<number>();
      yield* q.join();
      expect(() => q.taskDone()).toThrow(RangeError);
      q.putNowait(1);
      q.getNowait();
      q.taskDone();
      expect(() => q.taskDone()).toThrow(/called too many times/);
    });
  });
});

describe("shutdown", () => {
  it("wakes blocked getters with QueueShutDown; put() is refused, naming put(); items left can still be got", () => {
    const log = runV(function* () {
      const q = new Queue<number>(1);
      const log: string[] = [];
      const getter = createTask(q.get());
      yield* sleep(0);
      q.shutdown();
      log.push(String(yield* catching(getter)));
      expect(() => q.putNowait(1)).toThrow(QueueShutDown);
      log.push(String(yield* catching(q.put(1))));
      return log;
    });
    expect(log).toEqual([
      "QueueShutDown: get() on a queue that was shut down.",
      "QueueShutDown: put() on a queue that was shut down.",
    ]);
  });

  it("a non-immediate shutdown lets getters drain the queue first", () => {
    runV(function* () {
      const q = new Queue<number>(2);
      q.putNowait(1);
      q.putNowait(2);
      const putter = createTask(q.put(3));
      yield* sleep(0);
      q.shutdown();
      expect(yield* catching(putter)).toBeInstanceOf(QueueShutDown);
      expect(yield* q.get()).toBe(1);
      expect(q.getNowait()).toBe(2);
      expect(yield* catching(q.get())).toBeInstanceOf(QueueShutDown);
      expect(() => q.getNowait()).toThrow(QueueShutDown);
      expect(String(q)).toBe("<Queue maxsize=2 tasks=2 shutdown>");
    });
  });

  it("shutdown(true) drops the items, counts them done and releases join()", () => {
    const log = runV(function* () {
      const q = new Queue<number>();
      const log: string[] = [];
      q.putNowait(1);
      q.putNowait(2);
      const joiner = createTask(
        (function* () {
          yield* q.join();
          log.push("joined");
        })(),
      );
      yield* sleep(0);
      q.shutdown(true);
      expect(q.qsize()).toBe(0);
      yield* joiner;
      expect(yield* catching(q.get())).toBeInstanceOf(QueueShutDown);
      return log;
    });
    expect(log).toEqual(["joined"]);
  });

  it("shutdown(true) drops a PriorityQueue's items without ordering them, ones it cannot order included", () => {
    const jobs = new PriorityQueue<[number, string | number]>();
    for (const item of [
      [0, "x"],
      [2, "a"],
      [2, 5],
    ] as [number, string | number][]) {
      jobs.putNowait(item);
    }
    jobs.taskDone(); // one of the three was processed already
    jobs.shutdown(true);
    expect([jobs.qsize(), String(jobs)]).toEqual([0, "<PriorityQueue maxsize=0 shutdown>"]);
  });
});

describe("loop binding", () => {
  it("a queue waited on in one loop refuses another", () => {
    const q = new Queue<number>();
    runV(function* () {
      const t = createTask(q.get());
      yield* sleep(0);
      q.putNowait(1);
      yield* t;
    });
    runV(function* () {
      q.putNowait(2); // no wait: works anywhere
      expect(yield* q.get()).toBe(2);
      const error = yield* catching(q.get());
      expect(String(error)).toMatch(/is bound to a different event loop/);
    });
  });
});

describe("the line of waiters", () => {
  it("keeps first-in, first-out order among those left when waiters leave from anywhere", async () => {
    const order = await new VirtualEventLoop().runUntilComplete(function* () {
      const queue = new Queue<number>();
      const got: number[] = [];
      const getters = Array.from({ length: 1000 }, (_, i) =>
        createTask(
          (function* () {
            got.push(i * 10_000 + (yield* queue.get()));
          })(),
        ),
      );
      yield* sleep(0);
      // Every third leaves, from the middle of the line as often as from its ends.
      let seed = 7;
      const leaving = getters.filter(() => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed % 3 === 0;
      });
      for (const task of leaving) task.cancel();
      yield* sleep(0);
      const staying = getters.length - leaving.length;
      for (let item = 0; item < staying; item++) queue.putNowait(item);
      for (const task of getters) yield* caught(() => task);
      return { got, staying, waiting: queue._getters.waiting, line: queue._getters.length };
    });
    // Each getter that stayed took the next item, in the order they joined.
    expect(order.got).toHaveLength(order.staying);
    const joined = order.got.map((g) => Math.floor(g / 10_000));
    expect(joined).toEqual([...joined].sort((a, b) => a - b));
    expect(order.got.map((g) => g % 10_000)).toEqual([...Array(order.staying).keys()]);
    expect([order.waiting, order.line]).toEqual([0, 0]);
  });

  it("counts in toString() the waiters still in the line, not the places the departed left", async () => {
    const shown = await new VirtualEventLoop().runUntilComplete(function* () {
      const queue = new Queue<number>();
      const getters = Array.from({ length: 4 }, () => createTask(queue.get()));
      yield* sleep(0);
      getters[1]?.cancel();
      getters[2]?.cancel();
      yield* sleep(0);
      const shown = String(queue);
      for (const task of getters) task.cancel();
      for (const task of getters) yield* caught(() => task);
      return shown;
    });
    expect(shown).toBe("<Queue maxsize=0 getters[2]>");
  });

  it("a getter interrupted while it waits passes no wakeup on: the next keeps its place", async () => {
    const got = await new SchedulingVirtualEventLoop().runUntilComplete(function* () {
      const queue = new Queue<string>();
      const got: string[] = [];
      const getter = (name: string) =>
        createTask(
          (function* () {
            try {
              got.push(`${name} got ${yield* queue.get()}`);
            } catch (error) {
              got.push(`${name}: ${(error as Error).message}`);
            }
          })(),
        );
      const [, b, c, d] = ["a", "b", "c", "d"].map(getter);
      yield* sleep(0);
      queue.putNowait("first"); // wakes a
      taskThrow(b!, new Error("interrupted")); // b had not been woken
      yield* sleep(0);
      got.push(String(queue)); // c and d still wait: neither was woken for nothing
      queue.putNowait("second");
      yield* sleep(0);
      d!.cancel();
      yield* caught(() => c!);
      return got;
    });
    expect(got).toEqual([
      "b: interrupted",
      "a got first",
      "<Queue maxsize=0 getters[2] tasks=1>",
      "c got second",
      "d: ", // cancelled at the end
    ]);
  });

  it("firstPending() passes over the woken and the cancelled, as waiters leave from either end", () => {
    const loop = new VirtualEventLoop();
    const line = new WaiterLine<void>();
    const w = Array.from({ length: 6 }, (_, i) => new Waiter<void>(loop, `w${i}`));
    for (const waiter of w) line.push(waiter);
    const first = () => w.indexOf(line.firstPending() as Waiter<void>);
    line.firstPending()?._resolve(undefined); // w0 woken, still in the line until it resumes
    line.firstPending()?._resolve(undefined); // w1
    w[2]?.cancel();
    expect(first()).toBe(3);
    line.remove(w[0]!); // w0 resumes and leaves from the front
    line.remove(w[5]!); // w5 leaves from the back
    line.remove(w[3]!); // w3 from the middle: a tombstone
    expect(first()).toBe(4);
    line.remove(w[1]!);
    line.remove(w[2]!);
    expect(first()).toBe(4);
    line.remove(w[4]!);
    expect([line.firstPending(), line.length]).toEqual([undefined, 0]);
    loop.close();
  });

  it("allCancelled() and firstPending() agree with the line, through 20,000 random moves", () => {
    const loop = new VirtualEventLoop();
    const line = new WaiterLine<void>();
    const inLine: Waiter<void>[] = []; // the model: the line without its tombstones
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor((seed / 2147483648) * n);
    };
    const seen = { cancelledLines: 0, emptyLines: 0, mostTombstones: 0 };
    for (let step = 0; step < 20_000; step++) {
      // By turns the line grows long (tombstones are closed up) and shrinks to nothing.
      const joins = Math.floor(step / 2_000) % 2 === 0 ? 4 : 1;
      const move = next(7 + joins) - joins;
      const pick = inLine[next(inLine.length)];
      if (move < 0) {
        const waiter = new Waiter<void>(loop, "test");
        line.push(waiter);
        inLine.push(waiter);
      } else if (move < 3) pick?.cancel();
      else if (move === 3) {
        if (pick !== undefined && !pick.done()) pick._resolve(undefined);
      } else if (move < 6) {
        if (pick !== undefined) {
          line.remove(pick);
          inLine.splice(inLine.indexOf(pick), 1);
        }
      } else if (inLine.length > 0) expect(line.shift()).toBe(inLine.shift());
      const allCancelled = inLine.every((waiter) => waiter.cancelled());
      expect(line.allCancelled()).toBe(allCancelled);
      expect(line.firstPending()).toBe(inLine.find((waiter) => !waiter.done()));
      expect(line.waiting).toBe(inLine.length);
      if (allCancelled) seen[inLine.length === 0 ? "emptyLines" : "cancelledLines"]++;
      seen.mostTombstones = Math.max(seen.mostTombstones, line.length - line.waiting);
    }
    // The moves reached both kinds of line in which every waiter is cancelled, many times,
    // and lines with tombstones enough to be closed up.
    expect(seen.cancelledLines).toBeGreaterThan(100);
    expect(seen.emptyLines).toBeGreaterThan(100);
    expect(seen.mostTombstones).toBeGreaterThan(16);
    loop.close();
  });

  it("a waiter taken out and one that left are not found again; tombstones are closed up", () => {
    const loop = new VirtualEventLoop();
    const line = new WaiterLine<void>();
    const waiters = Array.from({ length: 100 }, () => new Waiter<void>(loop, "test"));
    for (const waiter of waiters) line.push(waiter);
    expect(line.shift()).toBe(waiters[0]);
    line.remove(waiters[0]!); // taken out already: nothing happens
    line.remove(waiters[99]!); // the last: popped
    const late = new Waiter<void>(loop, "late");
    line.push(late); // takes the place the last had
    line.remove(waiters[99]!); // not the waiter in that place now
    expect(line.waiting).toBe(99);
    expect(line.get(line.length - 1)).toBe(late);
    // 57 leave from the middle: the line closes up at the 50th, and the rest leave from the
    // places it numbered again.
    const leaves = (i: number) => i >= 2 && i <= 97 && (i % 2 === 0 || i % 5 === 1);
    let mostTombstones = 0;
    for (let i = 2; i <= 97; i++) {
      if (!leaves(i)) continue;
      line.remove(waiters[i]!);
      mostTombstones = Math.max(mostTombstones, line.length - line.waiting);
    }
    expect([line.waiting, mostTombstones]).toEqual([42, 49]); // the 50th closed it up
    expect(line.length).toBeLessThan(50);
    // Futures compared by place, not by deep equality (which would iterate them).
    const left: number[] = [];
    for (let w = line.shift(); w !== undefined; w = line.shift()) left.push(waiters.indexOf(w));
    const stayed = [...Array(98).keys()].map((i) => i + 1).filter((i) => !leaves(i));
    expect(left).toEqual([...stayed, -1]);
  });
});
