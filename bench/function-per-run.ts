/**
 * What V8 charges a function made anew for every run: a generator function
 * (or an async function) written as an expression inside the code that runs
 * it, against the same function defined once. Each run steps it STEPS times,
 * after a full collection, as the single-process mode times a workload; no
 * asynkit involved. `--trace-opt` shows why: a `function*` made anew is
 * optimised again in every run, while the run is already going.
 *
 *   node --expose-gc --import tsx bench/function-per-run.ts [runs]
 */
import { median } from "./stats.js";

const STEPS = 200_000;

function* definedOnce(n: number): Generator<number, number, number> {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += yield i;
  return sum;
}

async function definedOnceAsync(n: number): Promise<number> {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += await i;
  return sum;
}

function stepAll(g: Generator<number, number, number>): number {
  let step = g.next(0);
  while (step.done !== true) step = g.next(1);
  return step.value;
}

const VARIANTS: Record<string, (n: number) => unknown> = {
  "function* defined once": (n) => stepAll(definedOnce(n)),
  "function* made per run": (n) =>
    stepAll(
      (function* (k: number): Generator<number, number, number> {
        let sum = 0;
        for (let i = 0; i < k; i++) sum += yield i;
        return sum;
      })(n),
    ),
  "async function defined once": (n) => definedOnceAsync(n),
  "async function made per run": (n) =>
    (async (k: number) => {
      let sum = 0;
      for (let i = 0; i < k; i++) sum += await i;
      return sum;
    })(n),
};

const gc = globalThis.gc;
if (gc === undefined) throw new Error("run with node --expose-gc");
const runs = Number(process.argv[2] ?? 7);
const times: Record<string, number[]> = {};
for (let run = 0; run < runs; run++) {
  for (const [name, variant] of Object.entries(VARIANTS)) {
    gc();
    await variant(STEPS / 10);
    const start = performance.now();
    await variant(STEPS);
    (times[name] ??= []).push(performance.now() - start);
  }
}
for (const [name, list] of Object.entries(times)) {
  console.log(`${name.padEnd(28)} ${median(list.slice(1)).toFixed(2)} ms for ${STEPS} steps`);
}
