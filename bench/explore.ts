/**
 * explore() next to fast-check's fc.scheduler() on the same lost update: A
 * reads n, awaits once and writes n + 1; B awaits twice and increments; the
 * test asserts n === 2, which FIFO order satisfies. It reports, over seeds
 * 0-99, the median number of runs until the first failure (the run that fails
 * counts), and the runs per second of CPU time of a search of the same
 * program that never fails (A's write before its await).
 *
 *   npm run build && npx tsx bench/explore.ts [--seeds N] [--runs N]
 *
 * fast-check's scheduler orders only the promises the test hands to it
 * (`s.schedule(...)`), picks uniformly among them, and runs each property in
 * native promises; explore() orders every entry of its loop's ready queue.
 *
 * The program declares A and B inside main, as a test would; the row
 * "declared once" runs the same program with its generator functions declared
 * at module level. The difference is V8's, not the search's: each call of
 * main makes new generator functions, each with a new prototype, so the
 * generator objects of every run have shapes no inline cache has seen.
 */
import { parseArgs } from "node:util";
import fc from "fast-check";
import type * as Testing from "../src/testing/index.js";
import { assertBuilt, loadAsynkit } from "./dist.js";
import { median } from "./stats.js";

const { values } = parseArgs({
  options: {
    seeds: { type: "string", default: "100" },
    runs: { type: "string", default: "20000" },
  },
});
const SEEDS = Number(values.seeds);
const RUNS = Number(values.runs);
/** A search that has not failed by then counts as this many runs. */
const CAP = 1000;

assertBuilt();
const { createTask, sleep } = await loadAsynkit();
const { explore } = (await import(
  new URL("../dist/testing/index.js", import.meta.url).href
)) as typeof Testing;

/** The asynkit program; `racy` false moves A's write before its await. */
function asynkitProgram(racy: boolean) {
  return function* main() {
    let n = 0;
    function* a() {
      const v = n;
      if (!racy) n = v + 1;
      yield* sleep(0);
      if (racy) n = v + 1;
    }
    function* b() {
      yield* sleep(0);
      yield* sleep(0);
      n += 1;
    }
    const ta = createTask(a(), { name: "A" });
    const tb = createTask(b(), { name: "B" });
    yield* ta;
    yield* tb;
    if (n !== 2) throw new Error(`lost update: n is ${n}`);
  };
}

/** A of the program declared once: reads, awaits, writes (`racy`), or reads and writes, then awaits. */
function* readWrite(counter: { n: number }, racy: boolean) {
  const v = counter.n;
  if (!racy) counter.n = v + 1;
  yield* sleep(0);
  if (racy) counter.n = v + 1;
}

/** B of the program declared once. */
function* incrementLater(counter: { n: number }) {
  yield* sleep(0);
  yield* sleep(0);
  counter.n += 1;
}

/** The asynkit program with its generator functions declared once. */
function declaredOnceProgram(racy: boolean) {
  return function* main() {
    const counter = { n: 0 };
    const ta = createTask(readWrite(counter, racy), { name: "A" });
    const tb = createTask(incrementLater(counter), { name: "B" });
    yield* ta;
    yield* tb;
    if (counter.n !== 2) throw new Error(`lost update: n is ${counter.n}`);
  };
}

/** The same program as a fast-check property over a scheduler. */
function fastCheckProperty(racy: boolean) {
  return fc.asyncProperty(fc.scheduler(), async (s) => {
    let n = 0;
    const tick = () => s.schedule(Promise.resolve());
    const a = async () => {
      const v = n;
      if (!racy) n = v + 1;
      await tick();
      if (racy) n = v + 1;
    };
    const b = async () => {
      await tick();
      await tick();
      n += 1;
    };
    const done = Promise.all([a(), b()]);
    await s.waitAll();
    await done;
    if (n !== 2) throw new Error(`lost update: n is ${n}`);
  });
}

async function asynkitRunsToFailure(
  program: (racy: boolean) => Testing.Program,
  strategy: "random" | "pct",
  seed: number,
): Promise<number> {
  try {
    await explore(program(true), { strategy, seed, iterations: CAP });
    return CAP;
  } catch (error) {
    return ((error as Testing.ExploreError).iteration as number) + 1;
  }
}

async function fastCheckRunsToFailure(seed: number): Promise<number> {
  const out = await fc.check(fastCheckProperty(true), { seed, numRuns: CAP, endOnFailure: true });
  return out.failed ? out.numRuns : CAP;
}

/** Repetitions of each timed search: the quickest counts. */
const REPEATS = 5;

/**
 * Runs per second of the process's CPU time (user and system), the best of
 * REPEATS searches after a warm-up: on a shared machine, wall-clock time
 * measures the other processes as much as this one.
 */
async function runsPerSecond(search: () => Promise<unknown>): Promise<number> {
  await search(); // warm up
  let best = 0;
  for (let i = 0; i < REPEATS; i++) {
    const start = process.cpuUsage();
    await search();
    const { user, system } = process.cpuUsage(start);
    best = Math.max(best, RUNS / ((user + system) / 1e6));
  }
  return best;
}

const seeds = Array.from({ length: SEEDS }, (_, seed) => seed);
const rows: [string, number, number][] = [];
const programs = [
  ["", asynkitProgram],
  [", declared once", declaredOnceProgram],
] as const;
for (const [variant, program] of programs) {
  for (const strategy of ["random", "pct"] as const) {
    const found: number[] = [];
    for (const seed of seeds) found.push(await asynkitRunsToFailure(program, strategy, seed));
    const rate = await runsPerSecond(() => explore(program(false), { strategy, iterations: RUNS }));
    rows.push([`explore() "${strategy}"${variant}`, median(found), rate]);
  }
}
const found: number[] = [];
for (const seed of seeds) found.push(await fastCheckRunsToFailure(seed));
const rate = await runsPerSecond(() =>
  fc.assert(fastCheckProperty(false), { seed: 0, numRuns: RUNS }),
);
rows.push(["fast-check fc.scheduler()", median(found), rate]);

console.log(
  `lost update, seeds 0-${SEEDS - 1}; runs per CPU second, best of ${REPEATS} searches of ${RUNS} runs of the passing variant`,
);
console.log("search                                   median runs to failure   runs/s");
for (const [name, runs, perSecond] of rows) {
  console.log(
    `${name.padEnd(40)} ${String(runs).padStart(22)}   ${Math.round(perSecond).toString().padStart(6)}`,
  );
}
