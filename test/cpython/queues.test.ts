/**
 * Port of CPython Lib/test/test_asyncio/test_queues.py (3.13), on the virtual
 * loop. The join and shutdown mixins run for Queue, LifoQueue and
 * PriorityQueue, as in CPython. ValueError (taskDone() too often) is a
 * RangeError; the `_format()` checks read toString().
 *
 * Already ported in test/queues.test.ts: test_get_cancel_drop_one_pending_reader,
 * test_get_cancel_drop_many_pending_readers, test_put_cancel_drop.
 *
 * Not ported:
 * - test_repr: shows id(q), a Python object address (test_str covers the format).
 * - test_generic_alias: Python's typing GenericAlias.
 * - test_get_with_putters: appends a bare future to the private _putters deque.
 */
// biome-ignore-all lint/correctness/useYield: task group bodies that only start tasks are part of what is tested.
import { describe, expect, it } from "vitest";
import {
  CancelledError,
  type Coro,
  createTask,
  Event,
  getRunningLoop,
  LifoQueue,
  PriorityQueue,
  Queue,
  QueueEmpty,
  QueueFull,
  QueueShutDown,
  sleep,
  TimeoutError,
  taskGroup,
  waitFor,
} from "../../src/index.js";
import { catching, runV } from "../helpers.js";

describe("test_queues.QueueBasicTests", () => {
  it("test_str", () => {
    runV(function* () {
      expect(String(new Queue())).toMatch(/^<Queue/);
      const getting = new Queue<number>();
      yield* taskGroup(function* (tg) {
        const getter = tg.createTask(getting.get());
        yield* sleep(0);
        expect(String(getting)).toContain("getters[1]");
        getting.putNowait(0);
        expect(yield* getter).toBe(0);
      });
      const putting = new Queue<number>(1);
      yield* taskGroup(function* (tg) {
        putting.putNowait(1);
        const putter = tg.createTask(putting.put(2));
        yield* sleep(0);
        expect(String(putting)).toContain("putters[1]");
        putting.getNowait();
        yield* putter;
      });
      const q = new Queue<number>();
      q.putNowait(1);
      expect(String(q)).toBe("<Queue maxsize=0 qsize=1 tasks=1>");
    });
  });

  it("test_empty", () => {
    runV(function* () {
      const q = new Queue<number>();
      expect(q.empty()).toBe(true);
      yield* q.put(1);
      expect(q.empty()).toBe(false);
      expect(yield* q.get()).toBe(1);
      expect(q.empty()).toBe(true);
    });
  });

  it("test_full", () => {
    runV(function* () {
      expect(new Queue().full()).toBe(false);
      const q = new Queue<number>(1);
      yield* q.put(1);
      expect(q.full()).toBe(true);
    });
  });

  it("test_order", () => {
    runV(function* () {
      const q = new Queue<number>();
      for (const i of [1, 3, 2]) yield* q.put(i);
      const items = [yield* q.get(), yield* q.get(), yield* q.get()];
      expect(items).toEqual([1, 3, 2]);
    });
  });

  it("test_maxsize", () => {
    runV(function* () {
      const q = new Queue<number>(2);
      expect(q.maxsize).toBe(2);
      const haveBeenPut: number[] = [];
      const t = createTask(
        (function* () {
          for (let i = 0; i < 3; i++) {
            yield* q.put(i);
            haveBeenPut.push(i);
          }
          return true;
        })(),
      );
      yield* sleep(0);
      yield* sleep(0);
      // The putter is blocked after putting two items.
      expect(haveBeenPut).toEqual([0, 1]);
      expect(yield* q.get()).toBe(0);
      // Let the putter resume and put the last item.
      yield* sleep(0);
      expect(haveBeenPut).toEqual([0, 1, 2]);
      expect(yield* q.get()).toBe(1);
      expect(yield* q.get()).toBe(2);
      expect(t.done()).toBe(true);
      expect(t.result()).toBe(true);
    });
  });
});

describe("test_queues.QueueGetTests", () => {
  it("test_blocking_get", () => {
    runV(function* () {
      const q = new Queue<number>();
      q.putNowait(1);
      expect(yield* q.get()).toBe(1);
    });
  });

  it("test_blocking_get_wait", () => {
    runV(function* () {
      const q = new Queue<number>();
      const started = new Event();
      let finished = false;
      const queueGetTask = createTask(
        (function* () {
          started.set();
          const res = yield* q.get();
          finished = true;
          return res;
        })(),
      );
      yield* started.wait();
      expect(finished).toBe(false);
      getRunningLoop().callLater(10, () => q.putNowait(1));
      expect(yield* queueGetTask).toBe(1);
      expect(finished).toBe(true);
      expect(getRunningLoop().time()).toBe(10);
    });
  });

  it("test_nonblocking_get", () => {
    const q = new Queue<number>();
    q.putNowait(1);
    expect(q.getNowait()).toBe(1);
  });

  it("test_nonblocking_get_exception", () => {
    expect(() => new Queue().getNowait()).toThrow(QueueEmpty);
  });

  it("test_get_cancelled_race", () => {
    runV(function* () {
      const q = new Queue<string>();
      const t1 = createTask(q.get());
      const t2 = createTask(q.get());
      yield* sleep(0);
      t1.cancel();
      yield* sleep(0);
      expect(t1.done()).toBe(true);
      yield* q.put("a");
      yield* sleep(0);
      expect(yield* t2).toBe("a");
    });
  });

  it("test_get_with_waiting_putters", () => {
    runV(function* () {
      const q = new Queue<string>(1);
      createTask(q.put("a"));
      createTask(q.put("b"));
      expect(yield* q.get()).toBe("a");
      expect(yield* q.get()).toBe("b");
    });
  });

  it("test_why_are_getters_waiting", () => {
    runV(function* () {
      const q = new Queue<number>(1);
      const got: number[] = [];
      yield* taskGroup(function* (tg) {
        tg.createTask(
          (function* () {
            for (let i = 0; i < 5; i++) yield* q.put(i);
          })(),
        );
        tg.createTask(
          (function* () {
            for (let i = 0; i < 5; i++) got.push(yield* q.get());
          })(),
        );
      });
      expect(got).toEqual([0, 1, 2, 3, 4]);
    });
  });

  it("test_cancelled_getters_not_being_held_in_self_getters", () => {
    runV(function* () {
      const queue = new Queue<number>(5);
      expect(yield* catching(waitFor(queue.get(), 100))).toBeInstanceOf(TimeoutError);
      expect(String(queue)).toBe("<Queue maxsize=5>");
    });
  });
});

describe("test_queues.QueuePutTests", () => {
  it("test_blocking_put", () => {
    runV(function* () {
      const q = new Queue<number>();
      yield* q.put(1); // no maxsize: does not block
      expect(yield* q.get()).toBe(1);
    });
  });

  it("test_blocking_put_wait", () => {
    runV(function* () {
      const q = new Queue<number>(1);
      const started = new Event();
      let finished = false;
      getRunningLoop().callLater(10, () => q.getNowait());
      const queuePutTask = createTask(
        (function* () {
          started.set();
          yield* q.put(1);
          yield* q.put(2);
          finished = true;
        })(),
      );
      yield* started.wait();
      expect(finished).toBe(false);
      yield* queuePutTask;
      expect(finished).toBe(true);
      expect(getRunningLoop().time()).toBe(10);
    });
  });

  it("test_nonblocking_put", () => {
    const q = new Queue<number>();
    q.putNowait(1);
    expect(q.getNowait()).toBe(1);
  });

  it("test_nonblocking_put_exception", () => {
    const q = new Queue<number>(1);
    q.putNowait(1);
    expect(() => q.putNowait(2)).toThrow(QueueFull);
  });

  it("test_float_maxsize", () => {
    runV(function* () {
      const q = new Queue<number>(1.3);
      q.putNowait(1);
      q.putNowait(2);
      expect(q.full()).toBe(true);
      expect(() => q.putNowait(3)).toThrow(QueueFull);
      const q2 = new Queue<number>(1.3);
      yield* q2.put(1);
      yield* q2.put(2);
      expect(q2.full()).toBe(true);
    });
  });

  it("test_put_cancelled", () => {
    runV(function* () {
      const q = new Queue<number>();
      const t = createTask(
        (function* () {
          yield* q.put(1);
          return true;
        })(),
      );
      expect(yield* q.get()).toBe(1);
      expect(t.done()).toBe(true);
      expect(t.result()).toBe(true);
    });
  });

  it("test_put_cancelled_race", () => {
    runV(function* () {
      const q = new Queue<string>(1);
      const putA = createTask(q.put("a"));
      const putB = createTask(q.put("b"));
      const putC = createTask(q.put("X"));
      yield* sleep(0);
      expect(putA.done()).toBe(true);
      expect(putB.done()).toBe(false);
      putC.cancel();
      yield* sleep(0);
      expect(putC.done()).toBe(true);
      expect(q.getNowait()).toBe("a");
      yield* sleep(0);
      expect(q.getNowait()).toBe("b");
      yield* putB;
    });
  });

  it("test_put_with_waiting_getters", () => {
    runV(function* () {
      const q = new Queue<string>();
      const t = createTask(q.get());
      yield* sleep(0);
      yield* q.put("a");
      expect(yield* t).toBe("a");
    });
  });

  it("test_why_are_putters_waiting", () => {
    runV(function* () {
      const queue = new Queue<number>(2);
      const got: number[] = [];
      yield* taskGroup(function* (tg) {
        tg.createTask(
          (function* () {
            yield* sleep(0);
            const num = queue.qsize();
            for (let i = 0; i < num; i++) got.push(queue.getNowait());
          })(),
        );
        for (const item of [0, 1, 2, 3]) tg.createTask(queue.put(item));
      });
      expect(got).toEqual([0, 1]);
      expect([queue.getNowait(), queue.getNowait()]).toEqual([2, 3]);
    });
  });

  it("test_cancelled_puts_not_being_held_in_self_putters", () => {
    runV(function* () {
      const queue = new Queue<number>(1);
      queue.putNowait(1);
      const putTask = createTask(queue.put(1));
      yield* sleep(0);
      expect(String(queue)).toContain("putters[1]");
      putTask.cancel();
      expect(yield* catching(putTask)).toBeInstanceOf(CancelledError);
      expect(String(queue)).not.toContain("putters");
    });
  });

  it("test_cancelled_put_silence_value_error_exception", () => {
    runV(function* () {
      const queue = new Queue<number>(1);
      queue.putNowait(1);
      const putTask = createTask(queue.put(1));
      yield* sleep(0);
      // getNowait() takes the putter off the waiting list, then it is cancelled.
      queue.getNowait();
      putTask.cancel();
      expect(yield* catching(putTask)).toBeInstanceOf(CancelledError);
    });
  });
});

describe("test_queues.LifoQueueTests", () => {
  it("test_order", () => {
    runV(function* () {
      const q = new LifoQueue<number>();
      for (const i of [1, 3, 2]) yield* q.put(i);
      expect([yield* q.get(), yield* q.get(), yield* q.get()]).toEqual([2, 3, 1]);
    });
  });
});

describe("test_queues.PriorityQueueTests", () => {
  it("test_order", () => {
    runV(function* () {
      const q = new PriorityQueue<number>();
      for (const i of [1, 3, 2]) yield* q.put(i);
      expect([yield* q.get(), yield* q.get(), yield* q.get()]).toEqual([1, 2, 3]);
    });
  });
});

const queueClasses: [string, new () => Queue<unknown>][] = [
  ["Queue", Queue],
  ["LifoQueue", LifoQueue],
  ["PriorityQueue", PriorityQueue],
];

describe.each(queueClasses)("test_queues.%sJoinTests", (name, QClass) => {
  it("test_task_done_underflow", () => {
    expect(() => new QClass().taskDone()).toThrow(RangeError);
  });

  it("test_task_done", () => {
    runV(function* () {
      const q = new QClass() as Queue<number>;
      for (let i = 0; i < 100; i++) q.putNowait(i);
      let accumulator = 0;
      let running = true;
      // Two workers get items and call taskDone() after each; join() waits for all.
      function* worker(): Coro<void> {
        while (running) {
          accumulator += yield* q.get();
          q.taskDone();
        }
      }
      yield* taskGroup(function* (tg) {
        const tasks = [tg.createTask(worker()), tg.createTask(worker())];
        yield* q.join();
        expect(accumulator).toBe(4950);
        running = false;
        for (const _ of tasks) q.putNowait(0);
      });
    });
  });

  it("test_join_empty_queue", () => {
    runV(function* () {
      const q = new QClass();
      // join() returns at once, twice for insurance.
      yield* q.join();
      yield* q.join();
      expect(getRunningLoop().time()).toBe(0);
    });
  });

  it("test_format", () => {
    const q = new QClass();
    expect(String(q)).toBe(`<${name} maxsize=0>`);
    q.putNowait(1);
    q.putNowait(2);
    q.getNowait();
    q.getNowait();
    expect(String(q)).toBe(`<${name} maxsize=0 tasks=2>`);
  });
});

describe.each(queueClasses)("test_queues.%sShutdownTests", (name, QClass) => {
  /** Every put and get of `q` raises QueueShutDown. */
  function* expectAllRefused(q: Queue<unknown>): Coro<void> {
    expect(yield* catching(q.put("data"))).toBeInstanceOf(QueueShutDown);
    expect(() => q.putNowait("data")).toThrow(QueueShutDown);
    expect(yield* catching(q.get())).toBeInstanceOf(QueueShutDown);
    expect(() => q.getNowait()).toThrow(QueueShutDown);
  }

  it("test_format", () => {
    const q = new QClass();
    q.shutdown();
    expect(String(q)).toBe(`<${name} maxsize=0 shutdown>`);
  });

  it("test_shutdown_empty", () => {
    runV(function* () {
      const q = new QClass();
      const getTask = createTask(q.get());
      yield* sleep(0); // the get task waits before the shutdown
      q.shutdown(false); // unfinished tasks: 0 -> 0
      expect(q.qsize()).toBe(0);
      yield* q.join();
      yield* sleep(0);
      expect(getTask.done()).toBe(true);
      expect(yield* catching(getTask)).toBeInstanceOf(QueueShutDown);
      yield* expectAllRefused(q);
    });
  });

  it("test_shutdown_nonempty", () => {
    runV(function* () {
      const q = new (QClass as new (maxsize: number) => Queue<string>)(1);
      q.putNowait("data");
      const joinTask = createTask(q.join());
      const putTask = createTask(q.put("data2"));
      yield* sleep(0);
      expect(putTask.done()).toBe(false);
      q.shutdown(false); // unfinished tasks: 1 -> 1
      expect(q.qsize()).toBe(1);
      yield* sleep(0);
      expect(putTask.done()).toBe(true);
      expect(yield* catching(putTask)).toBeInstanceOf(QueueShutDown);
      // The item already queued can still be got.
      expect(yield* q.get()).toBe("data");
      yield* sleep(0);
      expect(joinTask.done()).toBe(false);
      yield* expectAllRefused(q as Queue<unknown>);
      q.taskDone();
      yield* sleep(0);
      expect(joinTask.done()).toBe(true);
      yield* joinTask;
      expect(() => q.taskDone()).toThrow(RangeError);
    });
  });

  it("test_shutdown_immediate", () => {
    runV(function* () {
      const q = new QClass();
      q.putNowait("data");
      const joinTask = createTask(q.join());
      q.shutdown(true); // unfinished tasks: 1 -> 0
      expect(q.qsize()).toBe(0);
      yield* sleep(0);
      expect(joinTask.done()).toBe(true);
      yield* joinTask;
      yield* expectAllRefused(q);
      expect(() => q.taskDone()).toThrow(RangeError);
    });
  });

  it("test_shutdown_immediate_with_unfinished", () => {
    runV(function* () {
      const q = new QClass();
      q.putNowait("data");
      q.putNowait("data");
      const joinTask = createTask(q.join());
      expect(yield* q.get()).toBe("data");
      q.shutdown(true); // unfinished tasks: 2 -> 1
      expect(q.qsize()).toBe(0);
      yield* sleep(0);
      expect(joinTask.done()).toBe(false);
      yield* expectAllRefused(q);
      q.taskDone();
      expect(() => q.taskDone()).toThrow(RangeError);
      yield* sleep(0);
      expect(joinTask.done()).toBe(true);
      yield* joinTask;
    });
  });
});
