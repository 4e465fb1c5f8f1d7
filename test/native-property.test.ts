/**
 * Random programs, each run as generator tasks and as native tasks: the two
 * event logs must be the same. Each task runs a seeded script of sleeps,
 * critical sections under a shared Lock, queue hand-offs, Event waits and
 * sets, child tasks it waits for, gather() of children, timeout() and
 * taskGroup() blocks around scripts of their own, and cancel() of another task.
 */
import { describe, expect, it } from "vitest";
import {
  type Coro,
  createTask,
  Event,
  gather,
  getRunningLoop,
  Lock,
  Queue,
  sleep,
  type Task,
  taskGroup,
  timeout,
  VirtualEventLoop,
} from "../src/index.js";

type Op =
  | { kind: "sleep"; ms: number }
  | { kind: "locked"; ms: number }
  | { kind: "put" }
  | { kind: "get" }
  | { kind: "set"; event: number }
  | { kind: "wait"; event: number }
  | { kind: "cancel"; task: number }
  | { kind: "child"; ops: Op[] }
  | { kind: "gather"; children: Op[][] }
  | { kind: "timeout"; ms: number; ops: Op[] }
  | { kind: "group"; children: Op[][] };

/** A small seeded generator (mulberry32): the same seed, the same programs. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EVENTS = 2;
const TOP_TASKS = 4;

/** A script of up to six operations; a program may get more than it has put, and deadlock. */
function script(next: () => number, depth: number, puts: { n: number }): Op[] {
  const ops: Op[] = [];
  const length = 1 + Math.floor(next() * 6);
  const nested = () => script(next, depth + 1, puts);
  const some = () => Array.from({ length: 1 + Math.floor(next() * 2) }, nested);
  for (let i = 0; i < length; i++) {
    const roll = next();
    if (roll < 0.2) ops.push({ kind: "sleep", ms: Math.floor(next() * 3) * 5 });
    else if (roll < 0.3) ops.push({ kind: "locked", ms: Math.floor(next() * 2) * 5 });
    else if (roll < 0.4) {
      ops.push({ kind: "put" });
      puts.n++;
    } else if (roll < 0.5 && puts.n > 0) {
      ops.push({ kind: "get" });
      puts.n--;
    } else if (roll < 0.56) ops.push({ kind: "set", event: Math.floor(next() * EVENTS) });
    else if (roll < 0.62) ops.push({ kind: "wait", event: Math.floor(next() * EVENTS) });
    else if (roll < 0.66) ops.push({ kind: "cancel", task: Math.floor(next() * TOP_TASKS) });
    else if (depth >= 2) ops.push({ kind: "sleep", ms: 0 });
    else if (roll < 0.76) ops.push({ kind: "child", ops: nested() });
    else if (roll < 0.84) ops.push({ kind: "gather", children: some() });
    else if (roll < 0.92)
      ops.push({ kind: "timeout", ms: 1 + Math.floor(next() * 12), ops: nested() });
    else ops.push({ kind: "group", children: some() });
  }
  return ops;
}

type Shared = {
  lock: Lock;
  queue: Queue<string>;
  events: Event[];
  tasks: Task<void>[];
  log: string[];
};

const at = () => getRunningLoop().time();

function* generatorOps(name: string, ops: Op[], shared: Shared): Coro<void> {
  const { lock, queue, events, tasks, log } = shared;
  for (const [i, op] of ops.entries()) {
    const child = (n: number, script: Op[]) => generatorOps(`${name}.${i}.${n}`, script, shared);
    if (op.kind === "sleep") yield* sleep(op.ms);
    else if (op.kind === "locked") {
      using _ = yield* lock.hold();
      log.push(`${name} locked at ${at()}`);
      yield* sleep(op.ms);
    } else if (op.kind === "put") yield* queue.put(`${name}.${i}`);
    else if (op.kind === "get") log.push(`${name} got ${yield* queue.get()}`);
    else if (op.kind === "set") events[op.event]?.set();
    else if (op.kind === "wait") yield* (events[op.event] as Event).wait();
    else if (op.kind === "cancel") log.push(`${name} cancel ${tasks[op.task]?.cancel()}`);
    else if (op.kind === "child") yield* createTask(child(0, op.ops)) as Task<void>;
    else if (op.kind === "gather") yield* gather(op.children.map((ops, n) => child(n, ops)));
    else if (op.kind === "timeout") {
      try {
        yield* timeout(op.ms, () => child(0, op.ops));
      } catch (error) {
        if ((error as Error).name !== "TimeoutError") throw error;
        log.push(`${name} timed out at ${at()}`);
      }
    } else {
      // biome-ignore lint/correctness/useYield: the group's body only makes its tasks
      yield* taskGroup(function* (group) {
        for (const [n, ops] of op.children.entries()) group.createTask(child(n, ops));
      });
    }
    log.push(`${name} ${op.kind} done at ${at()}`);
  }
}

async function nativeOps(name: string, ops: Op[], shared: Shared): Promise<void> {
  const { lock, queue, events, tasks, log } = shared;
  for (const [i, op] of ops.entries()) {
    const child = (n: number, script: Op[]) => () => nativeOps(`${name}.${i}.${n}`, script, shared);
    if (op.kind === "sleep") await sleep(op.ms);
    else if (op.kind === "locked") {
      using _ = await lock.hold();
      log.push(`${name} locked at ${at()}`);
      await sleep(op.ms);
    } else if (op.kind === "put") await queue.put(`${name}.${i}`);
    else if (op.kind === "get") log.push(`${name} got ${await queue.get()}`);
    else if (op.kind === "set") events[op.event]?.set();
    else if (op.kind === "wait") await (events[op.event] as Event).wait();
    else if (op.kind === "cancel") log.push(`${name} cancel ${tasks[op.task]?.cancel()}`);
    else if (op.kind === "child") await createTask(child(0, op.ops));
    else if (op.kind === "gather")
      await gather(op.children.map((ops, n) => createTask(child(n, ops))));
    else if (op.kind === "timeout") {
      try {
        await timeout(op.ms, child(0, op.ops));
      } catch (error) {
        if ((error as Error).name !== "TimeoutError") throw error;
        log.push(`${name} timed out at ${at()}`);
      }
    } else {
      await taskGroup(async (group) => {
        for (const [n, ops] of op.children.entries()) group.createTask(child(n, ops));
      });
    }
    log.push(`${name} ${op.kind} done at ${at()}`);
  }
}

async function logOf(programs: Op[][], native: boolean): Promise<string[]> {
  const loop = new VirtualEventLoop();
  const events = Array.from({ length: EVENTS }, () => new Event());
  const shared: Shared = {
    lock: new Lock(),
    queue: new Queue<string>(),
    events,
    tasks: [],
    log: [],
  };
  // What a deadlocked program leaves pending is reported as the loop closes: in the log too.
  loop.setExceptionHandler((_, context) => shared.log.push(`report: ${context.message}`));
  try {
    await loop.runUntilComplete(async () => {
      for (const [n, ops] of programs.entries()) {
        shared.tasks.push(
          native
            ? createTask(() => nativeOps(`t${n}`, ops, shared))
            : createTask(generatorOps(`t${n}`, ops, shared)),
        );
      }
      for (const [n, task] of shared.tasks.entries()) {
        try {
          await task;
        } catch (error) {
          shared.log.push(`t${n} ended with ${(error as Error).name} at ${loop.time()}`);
        }
      }
    });
  } catch (error) {
    // A program that waits for what never comes (a get, an event) deadlocks, in either form.
    shared.log.push(`ends with ${(error as Error).name}`);
  } finally {
    loop.close();
  }
  return shared.log;
}

describe("random programs", () => {
  it("give the same log as generator tasks and as native tasks (300 seeds)", async () => {
    // What the programs did, over all seeds: each kind of event must occur, or the test proves little.
    const seen = new Map<string, number>();
    const kinds = [
      "timed out",
      "cancel true",
      "gather done",
      "group done",
      "wait done",
      "ended with CancelledError",
      "ends with DeadlockError",
    ];
    for (let seed = 1; seed <= 300; seed++) {
      const next = random(seed);
      // Gets only up to the puts made so far in the whole program: most programs finish.
      const puts = { n: 0 };
      const programs = Array.from({ length: 2 + Math.floor(next() * (TOP_TASKS - 1)) }, () =>
        script(next, 0, puts),
      );
      const generator = await logOf(programs, false);
      const native = await logOf(programs, true);
      expect({ seed, native }).toEqual({ seed, native: generator });
      for (const kind of kinds) {
        const count = generator.filter((line) => line.includes(kind)).length;
        seen.set(kind, (seen.get(kind) ?? 0) + count);
      }
    }
    for (const kind of kinds) expect(seen.get(kind), kind).toBeGreaterThanOrEqual(10);
  });
});
