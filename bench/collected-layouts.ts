/**
 * What the single-process mode's full collection before each timed run costs
 * asynkit: V8 forgets an object layout (a hidden class) once no object of it
 * is left, and drops the code it optimised for that layout. When every task,
 * future and loop of one run() is garbage at a full collection, the next run
 * starts from unoptimised code. Native promises keep their layouts for good.
 *
 * Each child process times `rounds` runs of a workload, each after a full
 * collection; in "kept" processes the first run keeps its loop, a task and a
 * future iterator alive, so that their layouts outlive the collections.
 *
 *   node --expose-gc --import tsx bench/collected-layouts.ts [processes] [rounds]
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Coro, Task } from "../src/index.js";
import { loadAsynkit } from "./dist.js";
import { median } from "./stats.js";

const { createTask, getRunningLoop, run } = await loadAsynkit();

/** Objects a run made, kept alive in "kept" processes. */
const kept: unknown[] = [];

function* child(): Coro<void> {
  yield;
}

const WORKLOADS = {
  "spawn-join@100k": {
    ops: 100_000,
    run: (n: number, keep: boolean) =>
      run(function* () {
        const tasks: Task<void>[] = [];
        for (let i = 0; i < n; i++) tasks.push(createTask(child()));
        if (keep && kept.length === 0)
          kept.push(getRunningLoop(), tasks[0], tasks[1]?.[Symbol.iterator]());
        for (const t of tasks) yield* t;
      }),
  },
  "ping-pong@200k": {
    ops: 200_000,
    run: (n: number, keep: boolean) =>
      run(function* () {
        const loop = getRunningLoop();
        let ping = loop.createFuture<void>();
        let pong = loop.createFuture<void>();
        const ponger = createTask(
          (function* (): Coro<void> {
            for (let i = 0; i < n; i++) {
              yield* ping;
              ping = loop.createFuture();
              pong.setResult();
            }
          })(),
        );
        if (keep && kept.length === 0) kept.push(loop, ping, ponger, ping[Symbol.iterator]());
        for (let i = 0; i < n; i++) {
          const reply = pong;
          ping.setResult();
          yield* reply;
          pong = loop.createFuture();
        }
        yield* ponger;
      }),
  },
};
type Name = keyof typeof WORKLOADS;

/** In a child: a warm-up of two runs, then `rounds` timed runs each after a full collection; prints ns/op. */
async function worker(name: Name, keep: boolean, rounds: number): Promise<void> {
  const { ops, run: once } = WORKLOADS[name];
  await once(ops, keep);
  await once(ops, keep);
  const times: number[] = [];
  for (let round = 0; round < rounds; round++) {
    globalThis.gc?.();
    const start = process.hrtime.bigint();
    await once(ops, keep);
    times.push(Number(process.hrtime.bigint() - start) / ops);
  }
  console.log(JSON.stringify(times));
}

function main(processes: number, rounds: number): void {
  const self = fileURLToPath(import.meta.url);
  for (const name of Object.keys(WORKLOADS) as Name[]) {
    const figures = { dropped: [] as number[], kept: [] as number[] };
    for (let p = 0; p < processes; p++) {
      for (const mode of ["dropped", "kept"] as const) {
        const child = spawnSync(
          process.execPath,
          ["--expose-gc", "--import", "tsx", self, "--worker", name, mode, String(rounds)],
          { encoding: "utf8" },
        );
        if (child.status !== 0) throw new Error(child.stderr);
        figures[mode].push(...(JSON.parse(child.stdout) as number[]));
      }
    }
    const line = (mode: "dropped" | "kept") =>
      `${mode} ${median(figures[mode]).toFixed(0)} ns/op (min ${Math.min(...figures[mode]).toFixed(0)})`;
    console.log(`${name}: ${line("dropped")}, ${line("kept")}; ${figures.kept.length} runs each`);
  }
}

const args = process.argv.slice(2);
if (args[0] === "--worker") await worker(args[1] as Name, args[2] === "kept", Number(args[3]));
else main(Number(args[0] ?? 5), Number(args[1] ?? 5));
