/**
 * What the asyncLocalStorage option costs: the switch and spawn-join workloads
 * with propagation off and on, interleaved in one process (a shared machine
 * slows both alike), first with no AsyncLocalStorage in use, then inside an
 * als.run() (async hooks on, as in a server that uses one); and the heap per
 * blocked task.
 *
 *   node --expose-gc --import tsx bench/als.ts [rounds]
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { type Coro, createTask, getRunningLoop, run, sleep, type Task } from "../src/index.js";
import { heapUsed } from "./workloads.js";

type Options = { asyncLocalStorage: boolean };
const SETTINGS: Options[] = [{ asyncLocalStorage: false }, { asyncLocalStorage: true }];

const workloads = {
  /** 200k `yield* sleep(0)` of one task. */
  switch: (options: Options) =>
    run(function* () {
      for (let i = 0; i < 200_000; i++) yield* sleep(0);
    }, options).then(() => 200_000),
  /** 20k tasks that yield once, all joined. */
  "spawn-join": (options: Options) =>
    run(function* () {
      function* child(): Coro<void> {
        yield;
      }
      const tasks: Task<void>[] = [];
      for (let i = 0; i < 20_000; i++) tasks.push(createTask(child()));
      for (const t of tasks) yield* t;
    }, options).then(() => 20_000),
};

/** The fastest and the median ns per op of each setting over `rounds` interleaved rounds. */
async function measure(rounds: number, label: string): Promise<void> {
  for (const [name, workload] of Object.entries(workloads)) {
    const samples: number[][] = SETTINGS.map(() => []);
    for (let round = 0; round < rounds; round++) {
      for (const [i, options] of SETTINGS.entries()) {
        const start = performance.now();
        const ops = await workload(options);
        samples[i]?.push(((performance.now() - start) * 1e6) / ops);
      }
    }
    const [off, on] = samples.map((s) => ({ min: Math.min(...s), median: median(s) }));
    if (off === undefined || on === undefined) continue;
    console.log(
      `${label} ${name.padEnd(10)} off ${fmt(off.min)} (median ${fmt(off.median)})` +
        `  on ${fmt(on.min)} (median ${fmt(on.median)})  on/off ${(on.min / off.min).toFixed(2)}x`,
    );
  }
}

/** Heap bytes per task blocked on one future. */
function bytesPerTask(options: Options): Promise<number> {
  return run(function* () {
    const gate = getRunningLoop().createFuture<void>();
    function* child(): Coro<void> {
      yield* gate;
    }
    const before = heapUsed();
    const tasks: Task<void>[] = [];
    for (let i = 0; i < 50_000; i++) tasks.push(createTask(child()));
    yield* sleep(0);
    const after = heapUsed();
    gate.setResult();
    for (const t of tasks) yield* t;
    return (after - before) / 50_000;
  }, options);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] ?? Number.NaN;
}

function fmt(ns: number): string {
  return `${ns.toFixed(1).padStart(6)} ns/op`;
}

const rounds = Number(process.argv[2] ?? 30);
await measure(rounds, "no ALS in use  ");
const als = new AsyncLocalStorage<string>();
await als.run("request", () => measure(rounds, "inside als.run "));
if (globalThis.gc !== undefined) {
  for (const options of SETTINGS) {
    const label = options.asyncLocalStorage ? "on " : "off";
    console.log(`heap per blocked task, ${label}: ${(await bytesPerTask(options)).toFixed(0)} B`);
  }
}
