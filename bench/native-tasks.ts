/**
 * Native async functions as asynkit tasks, beside plain native async/await
 * and asynkit's generator tasks:
 *
 * - switch: two tasks taking turns 1M times, `await sleep(0)` in native tasks
 *   (goal: at most 10x two plain async functions taking turns with
 *   `await null`), `yield* sleep(0)` in generator tasks;
 * - spawn-join: 100k tasks that suspend once, then are joined (goal: at most
 *   3x 100k plain async functions).
 *
 *   npm run build && npx tsx bench/native-tasks.ts [--rounds N]
 *
 * Each (case, round) runs in a fresh child process (warm-up with a tenth of
 * the work, then the fastest of three timed runs); it reports medians and
 * ratios to plain async/await.
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type * as Asynkit from "../src/index.js";
import { assertBuilt, loadAsynkit } from "./dist.js";
import { median } from "./stats.js";

const SWITCHES = 1_000_000;
const TASKS = 100_000;
const here = dirname(fileURLToPath(import.meta.url));

type Case = (asynkit: typeof Asynkit, n: number) => Promise<void>;

const CASES: Record<string, { ops: number; run: Case }> = {
  "switch: plain async/await": {
    ops: SWITCHES,
    run: async (_, n) => {
      const turn = async () => {
        for (let i = 0; i < n / 2; i++) await null;
      };
      await Promise.all([turn(), turn()]);
    },
  },
  "switch: native asynkit tasks": {
    ops: SWITCHES,
    run: ({ createTask, run, sleep }, n) =>
      run(async () => {
        const turn = async () => {
          for (let i = 0; i < n / 2; i++) await sleep(0);
        };
        const a = createTask(turn);
        const b = createTask(turn);
        await a;
        await b;
      }),
  },
  "switch: generator asynkit tasks": {
    ops: SWITCHES,
    run: ({ createTask, run, sleep }, n) =>
      run(function* () {
        function* turn(): Asynkit.Coro<void> {
          for (let i = 0; i < n / 2; i++) yield* sleep(0);
        }
        const a = createTask(turn());
        const b = createTask(turn());
        yield* a;
        yield* b;
      }),
  },
  "spawn-join: plain async/await": {
    ops: TASKS,
    run: async (_, n) => {
      const child = async () => {
        await null;
      };
      const all: Promise<void>[] = [];
      for (let i = 0; i < n; i++) all.push(child());
      for (const p of all) await p;
    },
  },
  "spawn-join: native asynkit tasks": {
    ops: TASKS,
    run: ({ createTask, run, sleep }, n) =>
      run(async () => {
        const child = async () => {
          await sleep(0);
        };
        const tasks: Asynkit.Task<void>[] = [];
        for (let i = 0; i < n; i++) tasks.push(createTask(child));
        for (const t of tasks) await t;
      }),
  },
};

async function child(name: string): Promise<void> {
  const asynkit = await loadAsynkit();
  const c = CASES[name] as { ops: number; run: Case };
  await c.run(asynkit, c.ops / 10);
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    await c.run(asynkit, c.ops);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / c.ops);
  }
  console.log(best);
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { child: { type: "boolean" }, rounds: { type: "string" } },
  });
  if (values.child) {
    void child(positionals[0] as string);
    return;
  }
  assertBuilt();
  const rounds = values.rounds === undefined ? 3 : Number(values.rounds);
  const samples = new Map<string, number[]>();
  for (let round = 0; round < rounds; round++) {
    for (const name of Object.keys(CASES)) {
      const r = spawnSync(
        process.execPath,
        ["--import", "tsx", join(here, "native-tasks.ts"), "--child", name],
        { cwd: join(here, ".."), encoding: "utf8" },
      );
      const ns = Number(r.stdout.trim().split("\n").at(-1));
      if (Number.isNaN(ns)) throw new Error(`${name} failed: ${r.stderr}`);
      samples.set(name, [...(samples.get(name) ?? []), ns]);
    }
  }
  console.log("case                             | median ns/op | ratio to plain async/await");
  console.log("---------------------------------|--------------|---------------------------");
  for (const name of Object.keys(CASES)) {
    const plain = median(samples.get(`${name.split(":")[0]}: plain async/await`) ?? []);
    const m = median(samples.get(name) ?? []);
    console.log(`${name.padEnd(32)} | ${m.toFixed(1).padStart(12)} | ${(m / plain).toFixed(2)}x`);
  }
}

main();
