/**
 * Scheduling loops, after asynkit's tests/test_loop.py: the ready queue read
 * and reordered through SchedulingMixin (readyRotate, readyPop/readyInsert,
 * callInsert, the queue* names), sleepInsert, taskReinsert, taskSwitch, which
 * tasks are runnable or blocked, and the policies. Every test runs on both
 * scheduling loops.
 */
// biome-ignore-all lint/correctness/useYield: coroutines that finish without suspending are part of what is tested.
import { describe, expect, it } from "vitest";
import {
  allTasks,
  type BaseEventLoop,
  blockedTasks,
  CancelledError,
  type Coro,
  createTask,
  createTaskDescend,
  currentTask,
  DefaultEventLoopPolicy,
  DefaultSchedulingEventLoop,
  eager,
  eventLoopPolicy,
  Future,
  getEventLoopPolicy,
  getRunningLoop,
  Handle,
  HostEventLoop,
  isSchedulingLoop,
  run,
  runnableTasks,
  SchedulingEventLoopPolicy,
  SchedulingHostEventLoop,
  type SchedulingLoop,
  SchedulingMixin,
  SchedulingVirtualEventLoop,
  schedulingLoopFactory,
  setEventLoopPolicy,
  sleep,
  sleepInsert,
  type Task,
  taskIsBlocked,
  taskIsRunnable,
  taskReinsert,
  taskSwitch,
  VirtualEventLoop,
} from "../src/index.js";
import { caught } from "./helpers.js";
import { expectIdentity, LOOP_KINDS, names, runOn } from "./scheduling-helpers.js";

/** The running loop, as the scheduling loop every test here runs on. */
function queue(): BaseEventLoop & SchedulingLoop {
  const loop = getRunningLoop();
  if (!isSchedulingLoop(loop)) throw new Error("the test is not running on a scheduling loop");
  return loop;
}

/** Python's deque.rotate on a copy. */
function rotated<T>(items: readonly T[], n: number): T[] {
  const out = [...items];
  const k = ((n % out.length) + out.length) % out.length;
  return [...out.slice(out.length - k), ...out.slice(0, out.length - k)];
}

/** Python's list.insert position. */
function insertAt<T>(items: T[], pos: number, item: T): void {
  const index = pos < 0 ? Math.max(0, items.length + pos) : Math.min(pos, items.length);
  items.splice(index, 0, item);
}

/** Python's list.pop position. */
function popAt<T>(items: T[], pos: number): T {
  const index = pos < 0 ? items.length + pos : pos;
  return items.splice(index, 1)[0] as T;
}

/** Creates `n` tasks that each log their number and finish. */
function loggers(log: unknown[], n: number): Task<void>[] {
  return Array.from({ length: n }, (_, k) =>
    createTask(
      (function* () {
        log.push(k);
      })(),
    ),
  );
}

function* joinAll(tasks: readonly Task<unknown>[]): Coro<void> {
  for (const task of tasks) yield* task;
}

/** Asserts that the ready queue holds exactly these handles, in this order (by identity). */
function expectQueue(handles: readonly Handle[]): void {
  const items = [...queue().queueItems()];
  expect(items).toHaveLength(handles.length);
  for (const [i, handle] of items.entries()) expect(handle).toBe(handles[i]);
}

/** The key that finds a task's entry in the queue. */
function taskKey(task: Task): (handle: Handle) => boolean {
  return (handle) => queue().taskFromHandle(handle) === task;
}

function* sleeper(ms: number): Coro<void> {
  yield* sleep(ms);
}

describe.each(LOOP_KINDS)("on the %s scheduling loop", (kind) => {
  describe("readyRotate", () => {
    it("three tasks run in creation order without rotation", async () => {
      const log = await runOn(kind, function* () {
        yield* sleep(0);
        expect(queue().readyLen()).toBe(0);
        const log: number[] = [];
        yield* joinAll(loggers(log, 3));
        return log;
      });
      expect(log).toEqual([0, 1, 2]);
    });

    it.each([-3, -2, -1, 0, 1, 2, 3])("rotating five tasks by %i", async (shift) => {
      const log = await runOn(kind, function* () {
        yield* sleep(0);
        const log: number[] = [];
        const tasks = loggers(log, 5);
        queue().readyRotate(shift);
        yield* joinAll(tasks);
        return log;
      });
      expect(log).toEqual(rotated([0, 1, 2, 3, 4], shift));
    });

    it("takes any integer, whole turns included, and refuses a fraction", async () => {
      const log = await runOn(kind, function* () {
        const log: number[] = [];
        const tasks = loggers(log, 3);
        queue().readyRotate(7); // 7 mod 3 = 1
        expect(() => queue().readyRotate(0.5)).toThrow(RangeError);
        yield* joinAll(tasks);
        return log;
      });
      expect(log).toEqual([2, 0, 1]);
    });
  });

  describe("callInsert", () => {
    function* inserted(perm: readonly number[]): Coro<{ log: number[]; expected: number[] }> {
      yield* sleep(0);
      expect(queue().readyLen()).toBe(0);
      const log: number[] = [];
      const expected: number[] = [];
      perm.forEach((pos, i) => {
        queue().callInsert(pos, () => log.push(i));
        insertAt(expected, pos, i);
      });
      yield* sleep(0);
      return { log, expected };
    }
    const range = (n: number) => Array.from({ length: n }, (_, i) => i);

    it.each([1, 2, 6])("in order, %i callbacks", async (count) => {
      const { log, expected } = await runOn(kind, () => inserted(range(count)));
      expect(log).toEqual(expected);
    });

    it.each([2, 6])("in reverse, %i callbacks", async (count) => {
      const { log, expected } = await runOn(kind, () => inserted(range(count).reverse()));
      expect(log).toEqual(expected);
    });

    it.each([2, 6])("cut and reversed, %i callbacks", async (count) => {
      const perm = range(count);
      const cut = [...perm.slice(count >> 1), ...perm.slice(0, count >> 1)].reverse();
      const { log, expected } = await runOn(kind, () => inserted(cut));
      expect(log).toEqual(expected);
    });

    it("passes arguments, clamps positions like list.insert, and callPos is the same", async () => {
      const log = await runOn(kind, function* () {
        const log: string[] = [];
        const loop = queue();
        loop.callSoon(() => log.push("soon"));
        loop.callInsert(99, (a: string, b: string) => log.push(a + b), "end", "!");
        loop.callInsert(-99, (a: string) => log.push(a), "front");
        loop.callPos(-1, () => log.push("before last"));
        expect(() => loop.callInsert(1.5, () => {})).toThrow(RangeError);
        expect(() => loop.callInsert(0, "notfn" as never)).toThrow(
          new TypeError(
            'loop.callInsert() expects callback to be a function, got string "notfn": pass the function to call, e.g. loop.callInsert(0, () => { ... }).',
          ),
        );
        expect(loop.readyLen()).toBe(4);
        yield* sleep(0);
        return log;
      });
      expect(log).toEqual(["front", "soon", "before last", "end!"]);
    });
  });

  describe.each([2, 6])("readyLen with %i tasks", (count) => {
    it("counts tasks and plain callbacks; only tasks are runnable", async () => {
      await runOn(kind, function* () {
        yield* sleep(0);
        expect(queue().readyLen()).toBe(0);
        for (let i = 0; i < count; i++) createTask((function* () {})());
        expect(queue().readyLen()).toBe(count);
        expect(queue().queueLen()).toBe(count);
        yield* sleep(0);
        getRunningLoop().callSoon(() => {});
        expect(queue().readyLen()).toBe(1);
        expect(runnableTasks().size).toBe(0);
        class Foo {
          cb(): void {}
        }
        const foo = new Foo();
        getRunningLoop().callSoon(() => foo.cb());
        expect(runnableTasks().size).toBe(0);
      });
    });
  });

  describe.each([0, 1, 3])("sleepInsert(%i)", (pos) => {
    it("wakes after that many of six ready tasks", async () => {
      const log = await runOn(kind, function* () {
        yield* sleep(0);
        expect(queue().readyLen()).toBe(0);
        const log: unknown[] = [];
        loggers(log, 6);
        expect(queue().readyLen()).toBe(6);
        yield* sleepInsert(pos);
        expect(queue().readyLen()).toBe(6 - pos);
        log.push("me");
        yield* sleep(0);
        return log;
      });
      const expected: unknown[] = [0, 1, 2, 3, 4, 5];
      expected.splice(pos, 0, "me");
      expect(log).toEqual(expected);
    });
  });

  describe.each([0, 1, 6])("taskReinsert at %i", (pos) => {
    const expected = (): number[] => {
      const order = [0, 1, 2, 3, 4, 5];
      insertAt(order, pos, popAt(order, -1));
      return order;
    };

    it("moves the last of six tasks", async () => {
      const log = await runOn(kind, function* () {
        yield* sleep(0);
        expect(queue().readyLen()).toBe(0);
        const log: number[] = [];
        const tasks = loggers(log, 6);
        taskReinsert(tasks[5]!, pos);
        yield* sleep(0);
        return log;
      });
      expect(log).toEqual(expected());
    });

    it("the seed's form moves the task created last", async () => {
      const log = await runOn(kind, function* () {
        yield* sleep(0);
        const log: number[] = [];
        loggers(log, 6);
        taskReinsert(pos);
        yield* sleep(0);
        return log;
      });
      expect(log).toEqual(expected());
    });
  });

  describe("taskReinsert refuses", () => {
    it("a blocked task, with an Error that says so, and leaves the queue as it was", async () => {
      await runOn(kind, function* () {
        const task = createTask(sleeper(100));
        yield* sleep(0);
        const log: number[] = [];
        loggers(log, 2);
        const before = [...queue().queueItems()];
        expect(() => taskReinsert(task, 0)).toThrow(
          /Task-\d+.* is not in the ready queue \(it is blocked waiting for <Future pending sleep until t=\d+ ms>\)/,
        );
        expectQueue(before);
        task.cancel();
        expect(yield* caught(() => task)).toBeInstanceOf(CancelledError);
      });
    });

    it("a done task and the running task", async () => {
      await runOn(kind, function* () {
        const task = createTask((function* () {})());
        yield* task;
        expect(() => taskReinsert(task, 0)).toThrow(/not in the ready queue \(it is done\)/);
        expect(() => taskReinsert(currentTask()!, 0)).toThrow(
          /not in the ready queue \(it is the task running now\)/,
        );
      });
    });

    it("the seed's form when the last entry resumes no task, leaving it in place", async () => {
      await runOn(kind, function* () {
        const log: string[] = [];
        createTask((function* () {})());
        const handle = getRunningLoop().callSoon(() => log.push("callback"));
        expect(() => taskReinsert(0)).toThrow(/the last entry of the ready queue resumes no task/);
        expect(queue().readyPop()).toBe(handle);
        queue().readyInsert(5, handle);
        yield* sleep(0);
        expect(log).toEqual(["callback"]);
        yield* sleep(0);
        expect(() => taskReinsert(0)).toThrow(
          "taskReinsert(0): the ready queue is empty: there is no task to move.",
        );
      });
    });

    it("positions that are not integers, and things that are not tasks", async () => {
      await runOn(kind, function* () {
        const task = createTask((function* () {})());
        expect(() => taskReinsert(task, 0.5)).toThrow(RangeError);
        expect(() => taskReinsert(Number.NaN)).toThrow(RangeError);
        expect(() => taskReinsert({} as Task, 0)).toThrow(
          /taskReinsert\(\) expects task to be a Task/,
        );
        expect(taskIsRunnable(task)).toBe(true);
        yield* task;
      });
    });
  });

  describe.each([0, 1, 3, 5])("taskSwitch to task %i of six", (pos) => {
    it("runs it first; the caller waits at the end", async () => {
      const log = await runOn(kind, function* () {
        yield* sleep(0);
        expect(queue().readyLen()).toBe(0);
        const log: unknown[] = [];
        const tasks = loggers(log, 6);
        expect(log).toHaveLength(0);
        yield* taskSwitch(tasks[pos]!);
        log.push("me");
        yield* sleep(0);
        expect(log).toHaveLength(7);
        return log;
      });
      const expected: unknown[] = [0, 1, 2, 3, 4, 5];
      expected.splice(pos, 1);
      expected.unshift(pos);
      expected.push("me");
      expect(log).toEqual(expected);
    });

    it("with insertPos 1 the caller runs right after it", async () => {
      const log = await runOn(kind, function* () {
        yield* sleep(0);
        const log: unknown[] = [];
        const tasks = loggers(log, 6);
        yield* taskSwitch(tasks[pos]!, { insertPos: 1 });
        log.push("me");
        yield* sleep(0);
        expect(log).toHaveLength(7);
        return log;
      });
      const expected: unknown[] = [0, 1, 2, 3, 4, 5];
      expected.splice(pos, 1);
      expected.unshift(pos, "me");
      expect(log).toEqual(expected);
    });
  });

  describe("taskSwitch refuses", () => {
    it("a task whose entry was taken out of the queue", async () => {
      await runOn(kind, function* () {
        const task = createTask((function* () {})());
        const handle = queue().queueFind(taskKey(task), true);
        expect(handle).toBeInstanceOf(Handle);
        const error = yield* caught(() => taskSwitch(task));
        expect(error).toBeInstanceOf(Error);
        expect((error as Error).message).toMatch(
          /^taskSwitch\(\): <Task pending name="Task-\d+"> is not in the ready queue \(its entry was taken out of the queue\)/,
        );
        queue().queueInsert(handle!);
        yield* task;
      });
    });

    it("a blocked task, leaving the queue as it was", async () => {
      await runOn(kind, function* () {
        const task = createTask(sleeper(10));
        yield* sleep(0);
        const other = createTask((function* () {})());
        const before = [...queue().queueItems()];
        const error = yield* caught(() => taskSwitch(task));
        expect((error as Error).message).toMatch(/it is blocked waiting for/);
        expectQueue(before);
        yield* task;
        yield* other;
      });
    });

    it("the current task, and a bad insertPos before touching the queue", async () => {
      await runOn(kind, function* () {
        const error = yield* caught(() => taskSwitch(currentTask()!));
        expect((error as Error).message).toMatch(/it is the task running now/);
        const task = createTask((function* () {})());
        expect(() => taskSwitch(task, { insertPos: 0.5 })).toThrow(RangeError);
        expect(() => taskSwitch("task" as unknown as Task)).toThrow(
          /taskSwitch\(\) expects task to be a Task/,
        );
        expect(names(runnableTasks())).toEqual(names([task]));
        yield* task;
      });
    });

    it("a task of another loop", async () => {
      const other = new SchedulingVirtualEventLoop();
      const foreign = other.createTask((function* () {})());
      await runOn(kind, function* () {
        const error = yield* caught(() => taskSwitch(foreign));
        expect((error as Error).message).toMatch(/it belongs to a different event loop/);
      });
      other.runSync(foreign);
    });
  });

  describe("readyPop and readyInsert", () => {
    it.each([
      [0, 4],
      [-1, 2],
      [3, 3],
      [-2, 2],
    ])("pop at %i, insert at %i", async (source, destination) => {
      const log = await runOn(kind, function* () {
        yield* sleep(0);
        const log: number[] = [];
        const tasks = loggers(log, 5);
        const loop = queue();
        const length = loop.readyLen();
        const handle = loop.readyPop(source);
        expect(loop.readyLen()).toBe(length - 1);
        loop.readyInsert(destination, handle);
        expect(loop.readyLen()).toBe(length);
        yield* joinAll(tasks);
        return log;
      });
      const expected = [0, 1, 2, 3, 4];
      insertAt(expected, destination, popAt(expected, source));
      expect(log).toEqual(expected);
    });

    it("readyPop() takes the last entry; out of range is a RangeError that changes nothing", async () => {
      await runOn(kind, function* () {
        yield* sleep(0);
        const loop = queue();
        expect(() => loop.readyPop()).toThrow(
          new RangeError("readyPop(): the ready queue is empty."),
        );
        const log: number[] = [];
        const tasks = loggers(log, 3);
        expect(() => loop.readyPop(3)).toThrow(
          new RangeError("readyPop(3): no such position in a ready queue of 3 entries."),
        );
        expect(() => loop.readyPop(-4)).toThrow(RangeError);
        expect(() => loop.readyPop(Number.NaN)).toThrow(RangeError);
        const last = loop.readyPop();
        expect(loop.taskFromHandle(last)).toBe(tasks[2]);
        expect(names(runnableTasks())).toEqual(names([tasks[0]!, tasks[1]!]));
        loop.readyInsert(-1, loop.readyPop(0)); // list.insert(-1, x) on [t1]: before t1
        loop.readyInsert(1, loop.readyPop(0));
        loop.queueInsert(last);
        yield* sleep(0);
        expect(log).toEqual([1, 0, 2]);
      });
    });

    it("readyInsert refuses what is not a handle, a foreign handle, and the entry of a done task", async () => {
      await runOn(kind, function* () {
        const loop = queue();
        const other = new SchedulingVirtualEventLoop();
        expect(() => loop.readyInsert(0, { a: 1 } as unknown as Handle)).toThrow(
          new TypeError(
            "loop.readyInsert() expects handle to be a Handle, got object { a }: insert one taken out with readyPop().",
          ),
        );
        expect(() =>
          loop.readyInsert(
            0,
            other.callSoon(() => {}),
          ),
        ).toThrow(/belongs to a different event loop/);
        const task = createTask((function* () {})());
        const handle = loop.queueFind(taskKey(task))!;
        loop.queueRemove(handle);
        yield* sleep(0);
        expect(task.done()).toBe(false);
        loop.queueInsertPos(handle, 0);
        yield* task;
        expect(() => loop.readyInsert(0, handle)).toThrow(/which is already done/);
        expect(loop.readyLen()).toBe(0);
      });
    });

    it("refuses an entry already in the queue: it would run twice", async () => {
      await runOn(kind, function* () {
        const loop = queue();
        const callback = loop.callSoon(() => {});
        const task = createTask((function* () {})(), { name: "queued" });
        // The Handle itself, and a Handle that shows the task's entry (the queue holds the task).
        expect(() => loop.readyInsert(0, callback)).toThrow(
          /^readyInsert\(\): <Handle .*> is in the ready queue already, at 0: take it out with readyPop\(0\) before inserting it elsewhere\.$/,
        );
        const shown = loop.queueFind(taskKey(task)) as Handle;
        expect(() => loop.readyInsert(0, shown)).toThrow(/is in the ready queue already, at 1/);
        expect(loop.readyLen()).toBe(2);
        // Popped and put back, it is in the queue again: a second insert is refused too.
        const popped = loop.readyPop(-1);
        loop.readyInsert(0, popped);
        expect(() => loop.readyInsert(0, popped)).toThrow(/is in the ready queue already, at 0/);
        expect(loop.readyLen()).toBe(2);
        yield* task;
      });
    });

    it("refuses an entry that ran, never taken out: it would run twice", async () => {
      await runOn(kind, function* () {
        const loop = queue();
        const calls: string[] = [];
        const callback = loop.callSoon(() => calls.push("callback"));
        const gate = new Future<string>();
        const task = createTask(
          (function* () {
            return yield* gate;
          })(),
          { name: "waiter" },
        );
        const entry = loop.queueFind(taskKey(task)) as Handle; // shown, never popped
        yield* sleep(0); // both ran: the callback once, the task up to its wait
        for (const ran of [callback, entry]) {
          expect(() => loop.readyInsert(0, ran)).toThrow(
            /^readyInsert\(\): <Handle .*> was not taken out with readyPop\(\): it ran already, or was never queued on this loop\. Only an entry readyPop\(\) took out goes back in; one put back twice would run twice\.$/,
          );
        }
        expect(loop.readyLen()).toBe(0);
        yield* sleep(0);
        gate.setResult("woken once");
        expect([calls, yield* task]).toEqual([["callback"], "woken once"]);
      });
    });
  });

  describe("tasks in the queue", () => {
    function fourTasks(ms = 0): Task<void>[] {
      return Array.from({ length: 4 }, () => createTask(sleeper(ms)));
    }

    it("queueTasks ends with the tasks just created; queueFind finds and removes", async () => {
      await runOn(kind, function* () {
        yield* sleep(0);
        const tasks = fourTasks();
        const inQueue = [...queue().queueTasks()];
        expect(inQueue.slice(-tasks.length).map(String)).toEqual(tasks.map(String));
        const task = createTask((function* () {})());
        const handle = queue().queueFind(taskKey(task), true);
        expect(handle).not.toBeNull();
        expect(queue().queueFind(taskKey(task))).toBeNull();
        expect(queue().queueFind(taskKey(task), true)).toBeNull();
        queue().queueInsert(handle!);
        expect(queue().queueFind(taskKey(task))).toBe(handle);
        yield* task;
        yield* joinAll(tasks);
      });
    });

    it("queueFind finds the last match", async () => {
      await runOn(kind, function* () {
        const loop = queue();
        const first = loop.callSoon(() => {});
        const second = loop.callSoon(() => {});
        expect(loop.queueFind((h) => h === first || h === second)).toBe(second);
        yield* sleep(0);
      });
    });

    it("runnableTasks is exactly the tasks waiting in the queue, plain callbacks aside", async () => {
      await runOn(kind, function* () {
        yield* sleep(0);
        const tasks = fourTasks();
        getRunningLoop().callSoon(() => {});
        expect(queue().readyLen()).toBe(tasks.length + 1);
        expect(names(runnableTasks())).toEqual(names(tasks));
        expectIdentity();
        yield* sleep(0); // they settle on their sleep(0)
        expect(names(runnableTasks())).toEqual(names(tasks));
        expectIdentity();
        yield* sleep(0); // they return from it
        expect(runnableTasks().size).toBe(0);
        expectIdentity();
      });
    });

    it("blockedTasks, with and without the loop given", async () => {
      await runOn(kind, function* () {
        const loop = getRunningLoop();
        expectIdentity(loop);
        const tasks = fourTasks(100);
        expectIdentity();
        yield* sleep(0); // they block on their sleep
        expect(names(blockedTasks())).toEqual(names(tasks));
        expect(names(blockedTasks(loop))).toEqual(names(tasks));
        expectIdentity();
        expect(runnableTasks().size).toBe(0);
        for (const task of tasks) task.cancel();
        expectIdentity();
        expect(names(runnableTasks())).toEqual(names(tasks));
        for (const task of tasks) yield* caught(() => task);
        expectIdentity();
        expect(names(allTasks())).toEqual(names([currentTask()!]));
      });
    });

    it("blockedTasks from a plain callback, where no task is current", async () => {
      let seen: Set<Task> | null = null;
      await runOn(kind, function* () {
        const task = createTask(sleeper(100));
        yield* sleep(0);
        getRunningLoop().callSoon(() => {
          expect(currentTask()).toBeNull();
          expectIdentity();
          seen = blockedTasks();
        });
        yield* sleep(0);
        task.cancel();
        yield* caught(() => task);
        expect(names(seen!)).toEqual(names([task])); // main waited in the queue behind the callback
      });
    });

    it("inside an eager start, the creator below it on the stack is not blocked, by the set or the predicate", async () => {
      const seen: string[][] = [];
      await runOn(kind, function* () {
        const main = currentTask()!;
        const waiting = createTask(sleeper(100), { name: "waiting" });
        yield* sleep(0);
        const look = (): void => {
          seen.push([
            `blocked: ${names(blockedTasks())}`,
            `queued: ${names(runnableTasks())}`,
            `main blocked: ${taskIsBlocked(main)}, runnable: ${taskIsRunnable(main)}`,
          ]);
        };
        const child = createTask(
          function* () {
            look();
            yield* sleep(1);
          },
          { eagerStart: true, name: "child" },
        );
        yield* eager(
          (function* () {
            look();
            yield* sleep(0);
          })(),
        );
        waiting.cancel();
        yield* caught(() => waiting);
        yield* child;
      });
      expect(seen).toEqual([
        ["blocked: waiting", "queued: ", "main blocked: false, runnable: true"],
        ["blocked: child,waiting", "queued: ", "main blocked: false, runnable: true"],
      ]);
    });

    it("taskFromHandle finds a new task's entry", async () => {
      await runOn(kind, function* () {
        const task = createTask((function* () {})());
        const loop = queue();
        expect([...loop.queueItems()].some((h) => loop.taskFromHandle(h) === task)).toBe(true);
        expect(loop.taskFromHandle(getRunningLoop().callSoon(() => {}))).toBeNull();
        yield* task;
      });
    });

    it("a task's entry keeps one Handle across queueItems() calls, and cancelling it cancels the entry", async () => {
      const log = await runOn(kind, function* () {
        const log: string[] = [];
        const loop = queue();
        const waiter = new Future<string>();
        const woken = createTask(
          (function* () {
            log.push(`woken with ${yield* waiter}`);
          })(),
        );
        yield* sleep(0); // woken now waits on the future
        waiter.setResult("x"); // its wakeup is queued
        const stepped = createTask(
          (function* () {
            log.push("stepped");
          })(),
        );
        const first = [...loop.queueItems()];
        const second = [...loop.queueItems()];
        expect(first.length).toBe(2);
        expect(loop.taskFromHandle(first[0] as Handle)).toBe(woken);
        expect(loop.taskFromHandle(first[1] as Handle)).toBe(stepped);
        expect(second.length).toBe(2);
        expect(second[0]).toBe(first[0]);
        expect(second[1]).toBe(first[1]);
        const [wakeup, step] = first as [Handle, Handle];
        expect(wakeup.args[0]).toBe(woken);
        expect(wakeup.args[1]).toBe(waiter);
        expect(loop.queueFind((h) => h === step)).toBe(step);
        const resend = [wakeup, step].map((h) => [h.callback, h.args] as const);
        wakeup.cancel();
        step.cancel();
        yield* sleep(0);
        log.push(`after the cancelled entries: ${woken.done()} ${stepped.done()}`);
        // The same calls, scheduled again, resume both.
        for (const [callback, args] of resend) {
          loop.callSoon(callback as (...a: unknown[]) => void, ...args);
        }
        yield* woken;
        yield* stepped;
        return log;
      });
      expect(log).toEqual(["after the cancelled entries: false false", "woken with x", "stepped"]);
    });

    it("the entry that throws a bad-yield TypeError into a task is the task's too", async () => {
      const log = await runOn(kind, function* () {
        const log: string[] = [];
        const task = createTask(
          (function* () {
            try {
              yield 42 as never; // a bad yield: the TypeError comes back at the next step
            } catch (e) {
              log.push((e as Error).name);
            }
          })(),
        );
        createTask(
          (function* () {
            log.push("other");
          })(),
        );
        yield* sleep(0); // the task yields 42 and "other" runs; the throw-in entry waits in the queue
        expect(names(runnableTasks())).toEqual(names([task]));
        const entry = queue().queueFind(taskKey(task));
        expect(entry?.callback?.name).toBe("throwIntoTask");
        expectIdentity();
        yield* taskSwitch(task, { insertPos: 1 });
        log.push("main");
        return log;
      });
      expect(log).toEqual(["other", "TypeError", "main"]);
    });

    it.each([1, 2, 6])("queueRemove of one of %i tasks, twice", async (count) => {
      await runOn(kind, function* () {
        const tasks = Array.from({ length: count }, () => createTask((function* () {})()));
        const task = tasks[0]!;
        const handle = queue().queueFind(taskKey(task));
        expect(handle).not.toBeNull();
        expect(taskIsRunnable(task)).toBe(true);
        queue().queueRemove(handle!);
        expect(() => queue().queueRemove(handle!)).toThrow(/is not in the ready queue/);
        expect(queue().queueFind(taskKey(task))).toBeNull();
        queue().queueInsert(handle!);
        yield* joinAll(tasks);
      });
    });
  });

  describe("taskIsBlocked", () => {
    it("a task sleeping", async () => {
      await runOn(kind, function* () {
        const task = createTask(sleeper(100));
        expect(taskIsBlocked(task)).toBe(false);
        expect(taskIsRunnable(task)).toBe(true);
        yield* sleep(0);
        expect(taskIsBlocked(task)).toBe(true);
        expect(taskIsRunnable(task)).toBe(false);
        task.cancel();
        expect(taskIsBlocked(task)).toBe(false);
        expect(yield* caught(() => task)).toBeInstanceOf(CancelledError);
        expect(task.done()).toBe(true);
        expect(taskIsBlocked(task)).toBe(false);
        expect(taskIsRunnable(task)).toBe(false);
      });
    });

    it.each(["result", "exception", "cancel", "task cancel"] as const)(
      "a task waiting for a future, woken by %s",
      async (how) => {
        await runOn(kind, function* () {
          const future = new Future<void>();
          const task = createTask(
            (function* () {
              yield* future;
            })(),
          );
          expect(taskIsBlocked(task)).toBe(false);
          yield* sleep(0);
          expect(queue().queueFind(taskKey(task))).toBeNull();
          expect(taskIsBlocked(task)).toBe(true);
          expectIdentity();
          if (how === "result") future.setResult();
          else if (how === "exception") future.setException(new RangeError("boom"));
          else if (how === "cancel") future.cancel();
          else task.cancel();
          expect(queue().queueFind(taskKey(task))).not.toBeNull();
          expect(taskIsBlocked(task)).toBe(false);
          expectIdentity();
          const outcome = yield* caught(() => task);
          if (how === "result") expect(outcome).toBeUndefined();
          else if (how === "exception") expect(outcome).toBeInstanceOf(RangeError);
          else expect(outcome).toBeInstanceOf(CancelledError);
        });
      },
    );

    it("a task waiting for a blocked task stays blocked until that one has finished", async () => {
      await runOn(kind, function* () {
        const task2 = createTask(sleeper(100));
        const task = createTask(
          (function* () {
            yield* task2;
          })(),
        );
        expect(taskIsBlocked(task)).toBe(false);
        yield* sleep(0);
        expect(taskIsBlocked(task)).toBe(true);
        expect(taskIsBlocked(task2)).toBe(true);
        task2.cancel();
        expect(taskIsBlocked(task2)).toBe(false);
        expect(task2.done()).toBe(false);
        expect(taskIsBlocked(task)).toBe(true);
        expect(queue().queueFind(taskKey(task))).toBeNull();
        expectIdentity();
        yield* sleep(0);
        expect(task2.done()).toBe(true);
        expect(task.done()).toBe(false);
        expect(taskIsBlocked(task)).toBe(false);
        expectIdentity();
        expect(yield* caught(() => task)).toBeInstanceOf(CancelledError);
        expect(taskIsBlocked(task)).toBe(false);
      });
    });
  });
});

describe("loops that are not scheduling loops", () => {
  const plain = [
    ["HostEventLoop", () => new HostEventLoop()],
    ["VirtualEventLoop", () => new VirtualEventLoop()],
  ] as const;

  it.each(plain)(
    "on a %s every scheduling function throws a TypeError naming the loop to use",
    async (_, factory) => {
      const errors = await run(
        function* () {
          const task = createTask((function* () {})());
          const attempts: (() => unknown)[] = [
            () => taskReinsert(task, 0),
            () => taskReinsert(0),
            () => runnableTasks(),
            () => blockedTasks(),
          ];
          const errors = attempts.map((attempt) => {
            try {
              attempt();
              return null;
            } catch (e) {
              return e;
            }
          });
          errors.push(yield* caught(() => sleepInsert(0)));
          errors.push(yield* caught(() => taskSwitch(task)));
          errors.push(yield* caught(() => createTaskDescend((function* () {})())));
          return errors;
        },
        { loopFactory: factory },
      );
      expect(errors).toHaveLength(7);
      for (const error of errors) {
        expect(error).toBeInstanceOf(TypeError);
        expect((error as Error).message).toMatch(
          /needs a scheduling event loop, .* SchedulingHostEventLoop or SchedulingVirtualEventLoop/,
        );
      }
    },
  );

  it("isSchedulingLoop tells them apart", () => {
    expect(isSchedulingLoop(new HostEventLoop())).toBe(false);
    expect(isSchedulingLoop(new VirtualEventLoop())).toBe(false);
    expect(isSchedulingLoop(new SchedulingHostEventLoop())).toBe(true);
    expect(isSchedulingLoop(new SchedulingVirtualEventLoop())).toBe(true);
    class Custom extends SchedulingMixin(VirtualEventLoop) {}
    const custom = new Custom();
    expect(isSchedulingLoop(custom)).toBe(true);
    expect(custom).toBeInstanceOf(VirtualEventLoop);
    expect(
      custom.runSync(
        (function* () {
          return 1;
        })(),
      ),
    ).toBe(1);
  });
});

describe("policies", () => {
  it("eventLoopPolicy() installs a SchedulingEventLoopPolicy and puts the previous one back", async () => {
    const before = getEventLoopPolicy();
    {
      using policy = eventLoopPolicy();
      expect(policy).toBeInstanceOf(SchedulingEventLoopPolicy);
      expect(getEventLoopPolicy()).toBe(policy);
      const loop = await run(function* () {
        return getRunningLoop();
      });
      expect(loop).toBeInstanceOf(DefaultSchedulingEventLoop);
      expect(isSchedulingLoop(loop)).toBe(true);
    }
    expect(getEventLoopPolicy()).toBe(before);
  });

  it("eventLoopPolicy(policy) installs that policy; nested scopes unwind in order", () => {
    const before = getEventLoopPolicy();
    const outer = new DefaultEventLoopPolicy();
    {
      using a = eventLoopPolicy(outer);
      expect(a).toBe(outer);
      {
        using b = eventLoopPolicy(outer);
        expect(b).toBe(outer);
        {
          using _ = eventLoopPolicy();
          expect(getEventLoopPolicy()).toBeInstanceOf(SchedulingEventLoopPolicy);
        }
        expect(getEventLoopPolicy()).toBe(outer);
      }
      expect(getEventLoopPolicy()).toBe(outer);
    }
    expect(getEventLoopPolicy()).toBe(before);
  });

  it("eventLoopPolicy() disposed out of order still puts back the policy from before both", () => {
    const before = getEventLoopPolicy();
    const first = eventLoopPolicy();
    const second = eventLoopPolicy();
    first[Symbol.dispose](); // the second still holds
    expect(getEventLoopPolicy()).toBe(second);
    second[Symbol.dispose]();
    expect(getEventLoopPolicy()).toBe(before);
    first[Symbol.dispose](); // disposed already: nothing to put back
    expect(getEventLoopPolicy()).toBe(before);
  });

  it("setEventLoopPolicy(new SchedulingEventLoopPolicy()) makes run() use scheduling loops", async () => {
    const before = getEventLoopPolicy();
    setEventLoopPolicy(new SchedulingEventLoopPolicy());
    try {
      expect(getEventLoopPolicy().newEventLoop()).toBeInstanceOf(SchedulingHostEventLoop);
      expect(
        await run(function* () {
          return isSchedulingLoop(getRunningLoop());
        }),
      ).toBe(true);
    } finally {
      setEventLoopPolicy(before);
    }
  });

  it("schedulingLoopFactory makes a DefaultSchedulingEventLoop", () => {
    const loop = schedulingLoopFactory();
    expect(loop).toBeInstanceOf(SchedulingHostEventLoop);
    expect(DefaultSchedulingEventLoop).toBe(SchedulingHostEventLoop);
    loop.close();
  });
});
