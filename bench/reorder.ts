/**
 * The "reorder" workload: taskSwitch round trips between two tasks while
 * 100, 10k or 100k other entries wait in the ready queue. asynkit alone can
 * reorder its ready queue, so there are no peers to compare with; what counts
 * is that the cost per round trip does not grow with the queue.
 *
 *   npm run build && npx tsx bench/reorder.ts [--rounds N] [--quick] [--json file] [--priority]
 *
 * `--priority` runs it on a priority loop (PriorityHostEventLoop), all tasks
 * at the default priority: there, a positional insert reorders the heap.
 *
 * As run.ts does, every (size, round) runs in a fresh child process
 * (`node --import tsx bench/reorder.ts --child <size> <ops>`), sizes
 * interleaved within a round; it reports the median ns/op per size and its
 * ratio to the smallest size.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type * as Asynkit from "../src/index.js";
import { assertBuilt, loadAsynkit } from "./dist.js";
import { median } from "./stats.js";

/** Other ready entries in the queue during the round trips. */
const SIZES = [100, 10_000, 100_000] as const;
/** Round trips per run at full size (`--quick` divides by 10). */
const OPS = 200_000;

const here = dirname(fileURLToPath(import.meta.url));

/**
 * One op is a round trip: main switches to the partner (which waits at the end
 * of the queue) and waits right after it; the partner switches back to main
 * (at the front) and waits at the end. So each round trip finds a task at
 * either end and inserts at both; the `size` filler tasks stay in between and
 * run only once the round trips are over.
 */
async function reorder(
  asynkit: typeof Asynkit,
  size: number,
  n: number,
  priority: boolean,
): Promise<number> {
  const { createTask, PriorityHostEventLoop, run, schedulingLoopFactory, taskSwitch } = asynkit;
  return run(
    function* (): Asynkit.Coro<number> {
      let done = false;
      let main = null as Asynkit.Task<number> | null;
      const partner = createTask(
        (function* (): Asynkit.Coro<void> {
          while (!done) yield* taskSwitch(main as Asynkit.Task<number>);
        })(),
      );
      for (let i = 0; i < size; i++) createTask((function* (): Asynkit.Coro<void> {})());
      main = createTask(
        (function* (): Asynkit.Coro<number> {
          const t0 = process.hrtime.bigint();
          for (let i = 0; i < n; i++) yield* taskSwitch(partner, { insertPos: 1 });
          const elapsed = process.hrtime.bigint() - t0;
          done = true;
          return Number(elapsed) / n;
        })(),
      );
      const nsPerOp = yield* main;
      yield* partner;
      return nsPerOp;
    },
    { loopFactory: priority ? () => new PriorityHostEventLoop() : schedulingLoopFactory },
  );
}

async function child(size: number, ops: number, priority: boolean): Promise<void> {
  const asynkit = await loadAsynkit(); // the built package, dist/
  await reorder(asynkit, size, Math.max(1, Math.round(ops / 10)), priority); // warm up
  const nsPerOp = await reorder(asynkit, size, ops, priority);
  process.stdout.write(`${JSON.stringify({ nsPerOp })}\n`);
}

function runChild(size: number, ops: number, priority: boolean): number {
  const args = ["--import", "tsx", join(here, "reorder.ts"), "--child", String(size), String(ops)];
  const r = spawnSync(process.execPath, priority ? [...args, "--priority"] : args, {
    cwd: join(here, ".."),
    encoding: "utf8",
    maxBuffer: 16 << 20,
  });
  const line = r.stdout.trim().split("\n").at(-1) ?? "";
  try {
    return (JSON.parse(line) as { nsPerOp: number }).nsPerOp;
  } catch {
    throw new Error(`reorder child (size ${size}) failed: ${r.stderr.trim().split("\n").at(-1)}`);
  }
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      child: { type: "boolean" },
      rounds: { type: "string" },
      quick: { type: "boolean" },
      json: { type: "string" },
      priority: { type: "boolean" },
    },
  });
  const priority = values.priority === true;
  if (values.child) {
    void child(Number(positionals[0]), Number(positionals[1]), priority);
    return;
  }
  assertBuilt();
  const rounds = values.rounds === undefined ? 5 : Number(values.rounds);
  const ops = values.quick ? OPS / 10 : OPS;
  const samples = new Map<number, number[]>(SIZES.map((size) => [size, []]));
  const loop = priority ? "a priority loop" : "a scheduling loop";
  console.error(`node ${process.version}; ${rounds} round(s) of ${ops} round trips on ${loop}`);
  for (let round = 1; round <= rounds; round++) {
    process.stderr.write(`reorder round ${round}/${rounds}:`);
    for (const size of SIZES) {
      const ns = runChild(size, ops, priority);
      samples.get(size)?.push(ns);
      process.stderr.write(` ${size} ${ns.toFixed(1)}`);
    }
    process.stderr.write(" ns/op\n");
  }
  const base = median(samples.get(SIZES[0]) ?? []);
  console.log("other ready entries | median ns/op | ratio to 100");
  console.log("--------------------|--------------|-------------");
  for (const size of SIZES) {
    const m = median(samples.get(size) ?? []);
    console.log(
      `${size.toLocaleString("en-US").padStart(19)} | ${m.toFixed(1).padStart(12)} | ${(m / base).toFixed(2)}x`,
    );
  }
  if (values.json) {
    const report = { date: new Date().toISOString(), node: process.version, rounds, ops };
    const results = SIZES.map((size) => ({ size, samples: samples.get(size) }));
    writeFileSync(values.json, `${JSON.stringify({ ...report, results }, null, 2)}\n`);
  }
}

main();
