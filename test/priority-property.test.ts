/**
 * Property test of the priority loop's ready queue: random tasks of random
 * priorities (a few, or one each), random moves through the scheduling API
 * (readyPop/readyInsert, readyRotate) and random setPriority() calls, then
 * the tasks run in the order of a plain model: the placed entries first, then
 * the rest by priority, first come first among equals. Fewer picks than
 * STARVATION_BOUND, so the starvation guard never moves an entry.
 *
 * And a PriorityLock's waiters: random tasks of random priorities wait for a
 * held lock, random setPriority() calls move them and random cancel()s take
 * them out, then the lock goes to them in the model's order: by the priority
 * each has at the release, first come first among equals.
 */
// biome-ignore-all lint/correctness/useYield: the tasks in the queue finish without suspending.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  createTask,
  getRunningLoop,
  PriorityLock,
  PriorityVirtualEventLoop,
  type SchedulingLoop,
  STARVATION_BOUND,
  sleep,
  type Task,
} from "../src/index.js";

type Op =
  | { kind: "task"; priority: number }
  | { kind: "move"; from: number; to: number }
  | { kind: "rotate"; n: number }
  | { kind: "setPriority"; pick: number; priority: number }
  | { kind: "look" };

/** The queue as the model keeps it: placed names in order, the rest with priority and arrival. */
interface Model {
  placed: string[];
  bucketed: { name: string; priority: number; arrival: number }[];
  arrived: number;
}

function order(model: Model): string[] {
  const rest = [...model.bucketed].sort((a, b) => a.priority - b.priority || a.arrival - b.arrival);
  return [...model.placed, ...rest.map((entry) => entry.name)];
}

/** Takes the entry at `index` of the running order out of the model. */
function take(model: Model, index: number): string {
  if (index < model.placed.length) return model.placed.splice(index, 1)[0] as string;
  const name = order(model)[index] as string;
  model.bucketed = model.bucketed.filter((entry) => entry.name !== name);
  return name;
}

/** Puts `name` at `index`: the entries before it are placed too (PriorityReadyQueue.insert). */
function insert(model: Model, index: number, name: string): void {
  while (model.placed.length < index && model.bucketed.length > 0) {
    model.placed.push(take(model, model.placed.length));
  }
  model.placed.splice(Math.min(index, model.placed.length), 0, name);
}

function modelRun(ops: Op[]): string[] {
  const model: Model = { placed: [], bucketed: [], arrived: 0 };
  const looks: string[] = [];
  let made = 0;
  for (const op of ops) {
    const length = model.placed.length + model.bucketed.length;
    if (op.kind === "look") looks.push(order(model).join(" "));
    else if (op.kind === "task") {
      model.bucketed.push({ name: `t${made++}`, priority: op.priority, arrival: model.arrived++ });
    } else if (op.kind === "move" && length > 0) {
      const name = take(model, op.from % length);
      insert(model, op.to % length, name);
    } else if (op.kind === "rotate" && length > 0) {
      const all = order(model);
      const n = ((op.n % length) + length) % length;
      model.placed = [...all.slice(length - n), ...all.slice(0, length - n)];
      model.bucketed = [];
    } else if (op.kind === "setPriority" && made > 0) {
      const name = `t${op.pick % made}`;
      const entry = model.bucketed.find((e) => e.name === name);
      // Placed, or run already: it keeps its place; of the same priority, too.
      if (entry !== undefined && entry.priority !== op.priority) {
        entry.priority = op.priority;
        entry.arrival = model.arrived++;
      }
    }
  }
  return [...looks, ...order(model)];
}

function loopRun(ops: Op[]): string[] {
  return new PriorityVirtualEventLoop().runSync(
    (function* () {
      const loop = getRunningLoop() as unknown as SchedulingLoop;
      const log: string[] = [];
      const looks: string[] = [];
      const tasks: Task[] = [];
      for (const op of ops) {
        const length = loop.readyLen();
        if (op.kind === "look") {
          // Every position in turn, as queueTasks() reads them.
          looks.push(Array.from(loop.queueTasks(), (task) => task.getName()).join(" "));
        } else if (op.kind === "task") {
          const name = `t${tasks.length}`;
          const body = (function* () {
            log.push(name);
          })();
          tasks.push(createTask(body, { name, priority: op.priority }));
        } else if (op.kind === "move" && length > 0) {
          loop.readyInsert(op.to % length, loop.readyPop(op.from % length));
        } else if (op.kind === "rotate" && length > 0) {
          loop.readyRotate(op.n % length);
        } else if (op.kind === "setPriority" && tasks.length > 0) {
          (tasks[op.pick % tasks.length] as Task).setPriority(op.priority);
        }
      }
      yield* sleep(1); // every task runs meanwhile, in the queue's order
      return [...looks, ...log];
    })(),
  );
}

function ops(priority: fc.Arbitrary<number>): fc.Arbitrary<Op[]> {
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant("task" as const), priority }) },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant("move" as const), from: fc.nat(), to: fc.nat() }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant("rotate" as const),
        n: fc.integer({ min: -9, max: 9 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant("setPriority" as const), pick: fc.nat(), priority }),
    },
    { weight: 1, arbitrary: fc.constant({ kind: "look" as const }) },
  );
  return fc.array(op, { maxLength: Math.floor(STARVATION_BOUND / 2) });
}

describe("a priority loop's ready queue", () => {
  it("runs tasks in the model's order, with a few priorities", () => {
    fc.assert(
      fc.property(ops(fc.integer({ min: -2, max: 2 })), (program) => {
        expect(loopRun(program)).toEqual(modelRun(program));
      }),
      { numRuns: 300 },
    );
  });

  it("runs tasks in the model's order, with a priority of their own each (fractions too)", () => {
    fc.assert(
      fc.property(ops(fc.double({ min: -1000, max: 1000, noNaN: true })), (program) => {
        expect(loopRun(program)).toEqual(modelRun(program));
      }),
      { numRuns: 300 },
    );
  });
});

type LockOp =
  | { kind: "wait"; priority: number }
  | { kind: "setPriority"; pick: number; priority: number }
  | { kind: "cancel"; pick: number };

function lockModel(program: LockOp[]): string[] {
  const waiting: { name: string; priority: number; arrival: number }[] = [];
  let made = 0;
  for (const op of program) {
    if (op.kind === "wait")
      waiting.push({ name: `w${made}`, priority: op.priority, arrival: made++ });
    else if (made > 0) {
      const name = `w${op.pick % made}`;
      const at = waiting.findIndex((w) => w.name === name);
      if (at < 0) continue; // cancelled already
      if (op.kind === "cancel") waiting.splice(at, 1);
      else (waiting[at] as (typeof waiting)[number]).priority = op.priority;
    }
  }
  waiting.sort((a, b) => a.priority - b.priority || a.arrival - b.arrival);
  return waiting.map((w) => w.name);
}

function lockRun(program: LockOp[]): string[] {
  return new PriorityVirtualEventLoop().runSync(function* () {
    const lock = new PriorityLock();
    const served: string[] = [];
    const tasks: Task[] = [];
    yield* lock.acquire();
    for (const op of program) {
      if (op.kind === "wait") {
        const name = `w${tasks.length}`;
        const waiter = function* () {
          yield* lock.acquire();
          served.push(name);
          lock.release();
        };
        tasks.push(createTask(waiter, { name, priority: op.priority }));
      } else if (tasks.length > 0) {
        const task = tasks[op.pick % tasks.length] as Task;
        if (op.kind === "cancel") task.cancel();
        else task.setPriority(op.priority);
      }
      yield* sleep(1); // each new task waits, each cancelled one leaves, before the next op
    }
    lock.release();
    yield* sleep(1);
    return served;
  });
}

function lockOps(): fc.Arbitrary<LockOp[]> {
  const priority = fc.integer({ min: -2, max: 2 }); // few: moved waiters come back to a key they had
  const op: fc.Arbitrary<LockOp> = fc.oneof(
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("wait" as const), priority }) },
    {
      weight: 5,
      arbitrary: fc.record({ kind: fc.constant("setPriority" as const), pick: fc.nat(), priority }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("cancel" as const), pick: fc.nat() }) },
  );
  // Long enough for a lock's stale entries to outnumber its waiters (more than 64 moves).
  return fc.array(op, { minLength: 150, maxLength: 250 });
}

describe("a PriorityLock's waiters", () => {
  it("take the lock in the model's order, through moves and cancellations", () => {
    fc.assert(
      fc.property(lockOps(), (program) => {
        expect(lockRun(program)).toEqual(lockModel(program));
      }),
      { numRuns: 200 },
    );
  });
});
