/**
 * What picking the next entry costs on a priority loop, by how many entries
 * are ready: 100, 10k or 100k tasks of mixed priorities (-10 to 10) each
 * switching with `yield* sleep(0)` until 1M switches are done; the cost per
 * switch, beside the same tasks on a plain scheduling loop (FIFO). The goal:
 * within 3x of each other from 100 to 100k (O(log n) a pick). With
 * `--distinct`, every task has a priority of its own (as one computed from a
 * deadline would be), so a pick empties a priority and a switch makes one.
 *
 *   npm run build && npx tsx bench/priority.ts [--rounds N] [--distinct]
 *
 * Each (loop, size, round) runs in a fresh child process; it reports medians.
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type * as Asynkit from "../src/index.js";
import { assertBuilt, loadAsynkit } from "./dist.js";
import { median } from "./stats.js";

const SIZES = [100, 10_000, 100_000] as const;
const SWITCHES = 1_000_000;
const LOOPS = ["priority", "scheduling"] as const;
type Loop = (typeof LOOPS)[number];

const here = dirname(fileURLToPath(import.meta.url));

async function switches(
  asynkit: typeof Asynkit,
  loop: Loop,
  size: number,
  distinct: boolean,
): Promise<number> {
  const { createTask, PriorityHostEventLoop, run, schedulingLoopFactory, sleep } = asynkit;
  const each = Math.ceil(SWITCHES / size);
  function* worker(): Asynkit.Coro<void> {
    for (let i = 0; i < each; i++) yield* sleep(0);
  }
  return run(
    function* (): Asynkit.Coro<number> {
      const tasks = [];
      for (let i = 0; i < size; i++) {
        const priority = distinct ? (i * 7919) % size : ((i * 7919) % 21) - 10;
        tasks.push(createTask(worker(), { priority }));
      }
      const t0 = process.hrtime.bigint();
      for (const task of tasks) yield* task;
      return Number(process.hrtime.bigint() - t0) / (each * size);
    },
    {
      loopFactory: loop === "priority" ? () => new PriorityHostEventLoop() : schedulingLoopFactory,
    },
  );
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      child: { type: "boolean" },
      rounds: { type: "string" },
      distinct: { type: "boolean" },
    },
  });
  if (values.child) {
    void loadAsynkit().then(async (asynkit) => {
      const [loop, size] = [positionals[0] as Loop, Number(positionals[1])];
      const distinct = values.distinct === true;
      await switches(asynkit, loop, size, distinct); // warm up
      console.log(await switches(asynkit, loop, size, distinct));
    });
    return;
  }
  assertBuilt();
  const rounds = values.rounds === undefined ? 3 : Number(values.rounds);
  const samples = new Map<string, number[]>();
  for (let round = 0; round < rounds; round++) {
    for (const loop of LOOPS) {
      for (const size of SIZES) {
        const r = spawnSync(
          process.execPath,
          [
            "--import",
            "tsx",
            join(here, "priority.ts"),
            "--child",
            ...(values.distinct ? ["--distinct"] : []),
            loop,
            String(size),
          ],
          { cwd: join(here, ".."), encoding: "utf8" },
        );
        const ns = Number(r.stdout.trim().split("\n").at(-1));
        if (Number.isNaN(ns)) throw new Error(`child ${loop} ${size} failed: ${r.stderr}`);
        const key = `${loop} ${size}`;
        samples.set(key, [...(samples.get(key) ?? []), ns]);
      }
    }
  }
  console.log("loop       | ready tasks | median ns/switch | ratio to 100");
  console.log("-----------|-------------|------------------|-------------");
  for (const loop of LOOPS) {
    const base = median(samples.get(`${loop} 100`) ?? []);
    for (const size of SIZES) {
      const m = median(samples.get(`${loop} ${size}`) ?? []);
      console.log(
        `${loop.padEnd(10)} | ${size.toLocaleString("en-US").padStart(11)} | ${m.toFixed(1).padStart(16)} | ${(m / base).toFixed(2)}x`,
      );
    }
  }
}

main();
