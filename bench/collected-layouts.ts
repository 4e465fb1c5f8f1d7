/**
 * What the single-process mode's full collection before each timed run costs
 * asynkit: V8 forgets an object layout (a hidden class) once no object of it
 * is left, and drops the code it optimised for that layout. When every task,
 * future and loop of one run() is garbage at a full collection, the next run
 * starts from unoptimised code. Native promises keep their layouts for good.
 *
 * Each child process times `rounds` runs of a workload, each after a full
 * collection; "kept" processes first keep a loop, its task, a future and a
 * wait iterator alive, so that their layouts outlive the collections. Since
 * src/layouts.ts does the same for every program, the two now measure alike.
 *
 *   node --expose-gc --import tsx bench/collected-layouts.ts [processes] [rounds]
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { loadAsynkit } from "./dist.js";
import { asynkitWorkloads } from "./impl/asynkit-workloads.js";
import { median } from "./stats.js";

const asynkit = await loadAsynkit();
const impl = asynkitWorkloads(asynkit);

const WORKLOADS = {
  "spawn-join@100k": { ops: 100_000, once: (n: number) => impl["spawn-join"](n, 1) },
  "ping-pong@200k": { ops: 200_000, once: (n: number) => impl["ping-pong"](n) },
};
type Name = keyof typeof WORKLOADS;

/** Objects of a run of their own, kept alive in "kept" processes. */
const kept: unknown[] = [];

/** Keeps a loop, its task, a future and the future's wait iterator. */
function keepObjects(): Promise<void> {
  const { currentTask, getRunningLoop, run, sleep } = asynkit;
  return run(function* () {
    yield* sleep(0);
    const future = getRunningLoop().createFuture<void>();
    kept.push(getRunningLoop(), currentTask(), future, future[Symbol.iterator]());
  });
}

/** In a child: a warm-up of two runs, then `rounds` timed runs each after a full collection; prints ns/op. */
async function worker(name: Name, keep: boolean, rounds: number): Promise<void> {
  const { ops, once } = WORKLOADS[name];
  if (keep) await keepObjects();
  await once(ops);
  await once(ops);
  const times: number[] = [];
  for (let round = 0; round < rounds; round++) {
    globalThis.gc?.();
    const start = process.hrtime.bigint();
    await once(ops);
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
