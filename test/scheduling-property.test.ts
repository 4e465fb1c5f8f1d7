/**
 * Property test of the scheduling loops: random sequences of ready-queue
 * operations (callInsert, readyPop/readyInsert, readyRotate, queueRemove,
 * queueFind, taskReinsert), ended by a sleepInsert, a taskSwitch or a plain
 * yield, run in the same order as the same operations on a plain array.
 */
// biome-ignore-all lint/correctness/useYield: the tasks in the queue finish without suspending.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type BaseEventLoop,
  createTask,
  getRunningLoop,
  type Handle,
  isSchedulingLoop,
  type SchedulingLoop,
  sleepInsert,
  type Task,
  taskReinsert,
  taskSwitch,
} from "../src/index.js";
import { expectIdentity, LOOP_KINDS, runOn } from "./scheduling-helpers.js";

type Op =
  | { kind: "task" }
  | { kind: "callInsert"; pos: number }
  | { kind: "popInsert"; from: number; to: number }
  | { kind: "rotate"; n: number }
  | { kind: "removeInsert"; pick: number; pos: number }
  | { kind: "findAppend"; pick: number }
  | { kind: "reinsert"; pick: number; pos: number };

type Last =
  | { kind: "yield" }
  | { kind: "sleepInsert"; pos: number }
  | { kind: "switch"; pick: number; insertPos: number | undefined };

const position = fc.integer({ min: -12, max: 12 });
const pick = fc.nat({ max: 50 });

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.constant({ kind: "task" as const }),
  fc.record({ kind: fc.constant("callInsert" as const), pos: position }),
  fc.record({ kind: fc.constant("popInsert" as const), from: position, to: position }),
  fc.record({ kind: fc.constant("rotate" as const), n: position }),
  fc.record({ kind: fc.constant("removeInsert" as const), pick, pos: position }),
  fc.record({ kind: fc.constant("findAppend" as const), pick }),
  fc.record({ kind: fc.constant("reinsert" as const), pick, pos: position }),
);

const last: fc.Arbitrary<Last> = fc.oneof(
  fc.constant({ kind: "yield" as const }),
  fc.record({ kind: fc.constant("sleepInsert" as const), pos: position }),
  fc.record({
    kind: fc.constant("switch" as const),
    pick,
    insertPos: fc.option(position, { nil: undefined }),
  }),
);

/** Python's list.insert position. */
function insertIndex(pos: number, length: number): number {
  return pos < 0 ? Math.max(0, pos + length) : Math.min(pos, length);
}

function queue(): BaseEventLoop & SchedulingLoop {
  const loop = getRunningLoop();
  if (!isSchedulingLoop(loop)) throw new Error("the test is not running on a scheduling loop");
  return loop;
}

/** Runs the operations, checking the queue against the model after each; returns what ran, in order. */
async function play(
  kind: (typeof LOOP_KINDS)[number],
  ops: readonly Op[],
  end: Last,
): Promise<{ log: string[]; model: string[] }> {
  return runOn(kind, function* () {
    yield; // start with an empty queue
    const loop = queue();
    const log: string[] = [];
    const model: string[] = [];
    const callbacks = new Map<Handle, string>();
    const tasks = new Map<Task, string>();
    let next = 0;
    const label = (handle: Handle): string => {
      const task = loop.taskFromHandle(handle);
      return (task === null ? callbacks.get(handle) : tasks.get(task)) ?? "?";
    };
    const expectModel = (): void => {
      expect([...loop.queueItems()].map(label)).toEqual(model);
    };
    const spawn = (): void => {
      const name = `t${next++}`;
      tasks.set(
        createTask(
          (function* () {
            log.push(name);
          })(),
        ),
        name,
      );
      model.push(name);
    };
    spawn();
    for (const o of ops) {
      const length = model.length;
      switch (o.kind) {
        case "task":
          spawn();
          break;
        case "callInsert": {
          const name = `c${next++}`;
          callbacks.set(
            loop.callInsert(o.pos, () => log.push(name)),
            name,
          );
          model.splice(insertIndex(o.pos, length), 0, name);
          break;
        }
        case "popInsert": {
          const index = o.from < 0 ? o.from + length : o.from;
          if (index < 0 || index >= length) {
            expect(() => loop.readyPop(o.from)).toThrow(RangeError);
            break;
          }
          loop.readyInsert(o.to, loop.readyPop(o.from));
          const [name] = model.splice(index, 1);
          model.splice(insertIndex(o.to, length - 1), 0, name as string);
          break;
        }
        case "rotate": {
          loop.readyRotate(o.n);
          const k = length === 0 ? 0 : ((o.n % length) + length) % length;
          model.unshift(...model.splice(length - k, k));
          break;
        }
        case "removeInsert": {
          if (length === 0) break;
          const handle = [...loop.queueItems()][o.pick % length] as Handle;
          loop.queueRemove(handle);
          loop.queueInsertPos(handle, o.pos);
          const [name] = model.splice(o.pick % length, 1);
          model.splice(insertIndex(o.pos, length - 1), 0, name as string);
          break;
        }
        case "findAppend": {
          if (length === 0) break;
          const name = model[o.pick % length] as string;
          const handle = loop.queueFind((h) => label(h) === name, true);
          expect(handle).not.toBeNull();
          loop.queueInsert(handle as Handle);
          model.splice(o.pick % length, 1);
          model.push(name);
          break;
        }
        case "reinsert": {
          const names = model.filter((name) => name.startsWith("t"));
          const name = names[o.pick % names.length] as string;
          const task = [...tasks].find(([, n]) => n === name)?.[0] as Task;
          taskReinsert(task, o.pos);
          model.splice(model.indexOf(name), 1);
          model.splice(insertIndex(o.pos, length - 1), 0, name);
          break;
        }
      }
      expectModel();
    }
    expectIdentity();
    if (end.kind === "yield") {
      model.push("main");
      yield;
    } else if (end.kind === "sleepInsert") {
      model.splice(insertIndex(end.pos, model.length), 0, "main");
      yield* sleepInsert(end.pos);
    } else {
      const names = model.filter((name) => name.startsWith("t"));
      const name = names[end.pick % names.length] as string;
      const task = [...tasks].find(([, n]) => n === name)?.[0] as Task;
      model.splice(model.indexOf(name), 1);
      model.unshift(name);
      if (end.insertPos === undefined) model.push("main");
      else model.splice(insertIndex(end.insertPos, model.length), 0, "main");
      yield* taskSwitch(task, end.insertPos === undefined ? {} : { insertPos: end.insertPos });
    }
    log.push("main");
    expectIdentity();
    yield; // everything still queued runs before main's next turn
    return { log, model };
  });
}

describe.each(LOOP_KINDS)("on the %s scheduling loop", (kind) => {
  it("queue operations run in the order a plain array model predicts", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 30 }), last, async (ops, end) => {
        const { log, model } = await play(kind, ops, end);
        expect(log).toEqual(model);
      }),
      { numRuns: kind === "virtual" ? 300 : 60 },
    );
  });
});
