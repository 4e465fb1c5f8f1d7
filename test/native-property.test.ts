/**
 * Random programs, each run as generator tasks and as native tasks: the two
 * event logs must be the same. Each task runs a seeded script of sleeps,
 * critical sections under a shared Lock, queue hand-offs and child tasks it
 * waits for.
 */
import { describe, expect, it } from "vitest";
import {
  type Coro,
  createTask,
  getRunningLoop,
  Lock,
  Queue,
  sleep,
  type Task,
  VirtualEventLoop,
} from "../src/index.js";

type Op =
  | { kind: "sleep"; ms: number }
  | { kind: "locked"; ms: number }
  | { kind: "put" }
  | { kind: "get" }
  | { kind: "child"; ops: Op[] };

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

/** A script of up to six operations; a program may get more than it has put, and deadlock. */
function script(next: () => number, depth: number, puts: { n: number }): Op[] {
  const ops: Op[] = [];
  const length = 1 + Math.floor(next() * 6);
  for (let i = 0; i < length; i++) {
    const roll = next();
    if (roll < 0.3) ops.push({ kind: "sleep", ms: Math.floor(next() * 3) * 5 });
    else if (roll < 0.5) ops.push({ kind: "locked", ms: Math.floor(next() * 2) * 5 });
    else if (roll < 0.65) {
      ops.push({ kind: "put" });
      puts.n++;
    } else if (roll < 0.8 && puts.n > 0) {
      ops.push({ kind: "get" });
      puts.n--;
    } else if (depth < 2) ops.push({ kind: "child", ops: script(next, depth + 1, puts) });
    else ops.push({ kind: "sleep", ms: 0 });
  }
  return ops;
}

type Shared = { lock: Lock; queue: Queue<string>; log: string[] };

function* generatorTask(name: string, ops: Op[], shared: Shared): Coro<void> {
  const { lock, queue, log } = shared;
  for (const [i, op] of ops.entries()) {
    const at = () => getRunningLoop().time();
    if (op.kind === "sleep") yield* sleep(op.ms);
    else if (op.kind === "locked") {
      using _ = yield* lock.hold();
      log.push(`${name} locked at ${at()}`);
      yield* sleep(op.ms);
    } else if (op.kind === "put") yield* queue.put(`${name}.${i}`);
    else if (op.kind === "get") log.push(`${name} got ${yield* queue.get()}`);
    else yield* createTask(generatorTask(`${name}.${i}`, op.ops, shared)) as Task<void>;
    log.push(`${name} ${op.kind} done at ${at()}`);
  }
}

async function nativeTask(name: string, ops: Op[], shared: Shared): Promise<void> {
  const { lock, queue, log } = shared;
  for (const [i, op] of ops.entries()) {
    const at = () => getRunningLoop().time();
    if (op.kind === "sleep") await sleep(op.ms);
    else if (op.kind === "locked") {
      using _ = await lock.hold();
      log.push(`${name} locked at ${at()}`);
      await sleep(op.ms);
    } else if (op.kind === "put") await queue.put(`${name}.${i}`);
    else if (op.kind === "get") log.push(`${name} got ${await queue.get()}`);
    else await createTask(() => nativeTask(`${name}.${i}`, op.ops, shared));
    log.push(`${name} ${op.kind} done at ${at()}`);
  }
}

async function logOf(programs: Op[][], native: boolean): Promise<string[]> {
  const loop = new VirtualEventLoop();
  const shared: Shared = { lock: new Lock(), queue: new Queue<string>(), log: [] };
  try {
    await loop.runUntilComplete(async () => {
      const tasks = programs.map((ops, n) =>
        native
          ? createTask(() => nativeTask(`t${n}`, ops, shared))
          : createTask(generatorTask(`t${n}`, ops, shared)),
      );
      for (const task of tasks) await task;
    });
  } catch (error) {
    // A program whose gets outnumber the puts before them deadlocks, in either form.
    shared.log.push(`ends with ${(error as Error).name}`);
  } finally {
    loop.close();
  }
  return shared.log;
}

describe("random programs", () => {
  it("give the same log as generator tasks and as native tasks (100 seeds)", async () => {
    for (let seed = 1; seed <= 100; seed++) {
      const next = random(seed);
      // Gets only up to the puts made so far in the whole program: most programs finish.
      const puts = { n: 0 };
      const programs = Array.from({ length: 2 + Math.floor(next() * 3) }, () =>
        script(next, 0, puts),
      );
      const generator = await logOf(programs, false);
      const native = await logOf(programs, true);
      expect({ seed, native }).toEqual({ seed, native: generator });
    }
  });
});
