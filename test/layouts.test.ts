import { describe, expect, it } from "vitest";
import { allTasks, createTask, currentTask, HostEventLoop, run, Task } from "../src/index.js";
import { keptLayouts } from "../src/layouts.js";

describe("the objects kept for their layouts", () => {
  it("sit on a loop of their own that never runs, and leave the task numbering alone", async () => {
    const [loop, , , task] = keptLayouts;
    expect(loop).toBeInstanceOf(HostEventLoop);
    expect((loop as HostEventLoop).isRunning()).toBe(false);
    expect(task).toBeInstanceOf(Task);
    expect((task as Task).getName()).toBe("asynkit layouts");
    expect((task as Task).done()).toBe(false); // never stepped

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
});
