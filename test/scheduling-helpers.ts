/**
 * What the scheduling tests share: running a program on either scheduling
 * loop, and the identity allTasks() == runnable ∪ blocked ∪ {current}.
 */
import { expect } from "vitest";
import {
  allTasks,
  type BaseEventLoop,
  blockedTasks,
  type Coro,
  currentTask,
  run,
  runnableTasks,
  SchedulingHostEventLoop,
  SchedulingVirtualEventLoop,
  type Task,
} from "../src/index.js";

export type LoopKind = "virtual" | "host";
export const LOOP_KINDS: readonly LoopKind[] = ["virtual", "host"];

/** Runs `main` to completion on a new scheduling loop of the given kind. */
export async function runOn<T>(kind: LoopKind, main: () => Coro<T>): Promise<T> {
  if (kind === "virtual") return new SchedulingVirtualEventLoop().runSync(main());
  return run(main, { loopFactory: () => new SchedulingHostEventLoop() });
}

/** Task names, sorted: tasks compared by identity, not by deep equality of their object graphs. */
export function names(tasks: Iterable<Task>): string[] {
  return [...tasks].map((task) => task.getName()).sort();
}

/** Asserts allTasks() == runnableTasks() ∪ blockedTasks() ∪ {currentTask()}, with no overlap. */
export function expectIdentity(loop?: BaseEventLoop): void {
  const runnable = runnableTasks(loop);
  const blocked = blockedTasks(loop);
  const current = currentTask(loop);
  const union = new Set<Task>([...runnable, ...blocked]);
  expect(union.size).toBe(runnable.size + blocked.size);
  if (current !== null) {
    expect(union.has(current)).toBe(false);
    union.add(current);
  }
  expect(names(union)).toEqual(names(allTasks(loop)));
}
