import { setFlagsFromString } from "node:v8";
import { describe, expect, it, vi } from "vitest";
import {
  allTasks,
  createTask,
  currentTask,
  HostEventLoop,
  run,
  Task,
  taskIsBlocked,
} from "../src/index.js";
import { keptLayouts } from "../src/layouts.js";

describe("the objects kept for their layouts", () => {
  it("sit on a loop of their own that never runs, and leave the task numbering alone", async () => {
    const [loop] = keptLayouts;
    expect(loop).toBeInstanceOf(HostEventLoop);
    expect((loop as HostEventLoop).isRunning()).toBe(false);
    const tasks = keptLayouts.filter((x): x is Task => x instanceof Task);
    expect(
      tasks.map((t) => [t.getName(), t.getLoop() === loop, t.done(), taskIsBlocked(t)]),
    ).toEqual([
      ["asynkit layouts", true, false, false], // never stepped
      ["asynkit layouts: native", true, false, false], // never started
      ["asynkit layouts: asleep", true, false, true], // waits on its sleep's timer for good
    ]);
    const task = tasks[0] as Task;

    const seen = await run(function* () {
      const child = createTask((function* () {})());
      yield* child;
      return { tasks: allTasks(), names: [currentTask()?.getName(), child.getName()] };
    });
    expect(seen.tasks.has(task as Task)).toBe(false);
    // Each test file has modules of its own: this file's first unnamed task is
    // Task-1, as the kept task, made when the module loaded, took no number.
    expect(seen.names).toEqual(["Task-1", "Task-2"]);
    expect((loop as HostEventLoop).isRunning()).toBe(false);
  });

  it("include a loop with the layout of one that has run: a run's loop shares the kept loop's hidden class", async () => {
    setFlagsFromString("--allow-natives-syntax");
    const haveSameMap = new Function("a", "b", "return %HaveSameMap(a, b)") as (
      a: unknown,
      b: unknown,
    ) => boolean;
    // Fresh modules: a kept loop read since a run (as above) has been moved to the new layout already.
    vi.resetModules();
    const fresh = await import("../src/index.js");
    const [kept] = (await import("../src/layouts.js")).keptLayouts;
    let ran: unknown;
    await fresh.run(function* () {
      ran = fresh.getRunningLoop();
      yield* fresh.createTask((function* () {})());
    });
    expect(haveSameMap(kept, ran)).toBe(true);
  });
});
