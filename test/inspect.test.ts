import { inspect } from "node:util";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import {
  Barrier,
  Condition,
  ContextVar,
  CoroStart,
  copyContext,
  createTask,
  Event,
  Future,
  getRunningLoop,
  Lock,
  PriorityCondition,
  PriorityLock,
  Queue,
  Semaphore,
  sleep,
  Task,
  TaskGroup,
  VirtualEventLoop,
} from "../src/index.js";
import { bundled } from "./child.js";

describe("console.log() and JSON.stringify() of asynkit's objects", () => {
  it("shows each as its String(), not its fields (a task's reach the whole loop), and what a task waits on", async () => {
    const loop = new VirtualEventLoop();
    const shown = await loop.runUntilComplete(async () => {
      const event = new Event();
      const task = createTask(() => event.wait(), { name: "waiter" });
      await sleep(0);
      const group = new TaskGroup();
      const objects = {
        task,
        event,
        lock: new Lock(),
        queue: new Queue<number>(2),
        semaphore: new Semaphore(2),
        condition: new Condition(),
        barrier: new Barrier(2),
        future: new Future(),
        start: new CoroStart(sleep(5)),
        variable: new ContextVar<number>("request"),
        group,
        loop: getRunningLoop(),
      };
      const text = inspect(objects);
      event.set();
      await task;
      return { text, after: inspect([task]) };
    });
    loop.close();
    expect(shown.text).toBe(
      [
        "{",
        '  task: <Task pending name="waiter" waits on Event.wait()>,',
        "  event: <Event [unset, waiters:1]>,",
        "  lock: <Lock [unlocked]>,",
        "  queue: <Queue maxsize=2>,",
        "  semaphore: <Semaphore [unlocked, value:2]>,",
        "  condition: <Condition [unlocked]>,",
        "  barrier: <Barrier [filling, waiters:0/2]>,",
        "  future: <Future pending>,",
        "  start: <CoroStart pending>,",
        '  variable: <ContextVar name="request">,',
        "  group: <TaskGroup tasks=0>,",
        "  loop: <VirtualEventLoop running ready=0 timers=1>", // the start's sleep
        "}",
      ].join("\n"),
    );
    expect(shown.after).toBe('[ <Task finished name="waiter" result=true> ]');
  });

  it("shows a task woken or cancelled, but not yet run, as ready, where the task tree does", () => {
    const loop = new VirtualEventLoop();
    const shown = loop.runSync(
      (function* () {
        const event = new Event();
        const woken = createTask(event.wait(), { name: "woken" });
        const cancelled = createTask(sleep(100), { name: "cancelled" });
        yield* sleep(1);
        const before = inspect({ woken, cancelled });
        event.set();
        cancelled.cancel();
        return [before, inspect({ woken, cancelled }), getRunningLoop().dumpTasks()];
      })(),
    );
    loop.close();
    expect(shown).toEqual([
      [
        "{",
        '  woken: <Task pending name="woken" waits on Event.wait()>,',
        '  cancelled: <Task pending name="cancelled" waits on sleep until t=100 ms>',
        "}",
      ].join("\n"),
      [
        "{",
        '  woken: <Task pending name="woken" ready at position 0>,',
        '  cancelled: <Task cancelling name="cancelled" ready at position 1>',
        "}",
      ].join("\n"),
      [
        'Task "Task-1" running',
        '├── Task "woken" ready at position 0',
        '└── Task "cancelled" ready at position 1',
      ].join("\n"),
    ]);
  });

  it("names the class of a priority primitive or a subclass (an anonymous one by its base), and shows a Context by its size", () => {
    class AuditedLock extends Lock {}
    const variable = new ContextVar<string>("request");
    const shown = copyContext().run(() => {
      variable.set("r1");
      const anonymous = new (class extends Lock {})();
      return [
        new PriorityLock(),
        new PriorityCondition(),
        new AuditedLock(),
        anonymous,
        copyContext(),
      ].map((object) => inspect(object));
    });
    expect(shown).toEqual([
      "<PriorityLock [unlocked]>",
      "<PriorityCondition [unlocked]>",
      "<AuditedLock [unlocked]>",
      "<Lock [unlocked]>", // an anonymous subclass: its nearest named class
      "<Context vars=1>",
    ]);
    expect(JSON.stringify({ context: copyContext() })).toBe('{"context":"<Context vars=0>"}');
    // A subclass of a Barrier, a TaskGroup or a Task (a task factory's) shows its own name.
    class Turnstile extends Barrier {}
    class Crew extends TaskGroup {}
    class Job<T> extends Task<T> {}
    const loop = new VirtualEventLoop();
    loop.setTaskFactory((of, coro, options) => new Job(coro, { ...options, loop: of }));
    const job = loop.createTask(sleep(0), { name: "nightly" });
    expect([String(new Turnstile(2)), String(new Crew()), String(job)]).toEqual([
      "<Turnstile [filling, waiters:0/2]>",
      "<Crew tasks=0>",
      '<Job pending name="nightly">',
    ]);
    loop.runSync(job);
    loop.close();
  });

  it("JSON.stringify() writes each as its String(), where it threw on a task or future (a circular structure)", async () => {
    const loop = new VirtualEventLoop();
    const json = await loop.runUntilComplete(async () => {
      const task = createTask(() => sleep(10, "done"), { name: "fetch" });
      const lock = new Lock();
      await lock.acquire();
      const record = {
        msg: "request",
        task,
        future: new Future(),
        lock,
        queue: new Queue<number>(2),
        variable: new ContextVar<number>("request"),
        loop: getRunningLoop(),
      };
      const before = JSON.stringify(record);
      await task;
      return { before, after: JSON.stringify([task]) };
    });
    loop.close();
    expect(JSON.parse(json.before)).toEqual({
      msg: "request",
      task: '<Task pending name="fetch">',
      future: "<Future pending>",
      lock: "<Lock [locked]>",
      queue: "<Queue maxsize=2>",
      variable: '<ContextVar name="request">',
      loop: "<VirtualEventLoop running ready=1 timers=0>",
    });
    expect(json.after).toBe('["<Task finished name=\\"fetch\\" result=\\"done\\">"]');
  });
});

describe("in a bundle", () => {
  it("a class that names itself, which the bundler renames, still prints its own name", async () => {
    const program = `
      import { copyContext, createTask, sleep, VirtualEventLoop } from "./src/index.ts";
      const loop = new VirtualEventLoop();
      const lines = [];
      loop.runSync(function* () {
        const task = createTask(sleep(1), { name: "x" });
        lines.push(String(task), String(copyContext()), String(loop));
        yield* task;
      });
      report(lines);
    `;
    const text = await bundled(program, "node");
    expect(text).toContain("= class _Task"); // what esbuild does to such a class, unminified
    let lines: string[] = [];
    runInNewContext(text, {
      setTimeout,
      clearTimeout,
      queueMicrotask,
      performance,
      report: (reported: string[]) => {
        lines = reported;
      },
    });
    expect(lines).toEqual([
      '<Task pending name="x">',
      "<Context vars=0>",
      "<VirtualEventLoop running ready=1 timers=0>",
    ]);
  });
});
