/**
 * What an item of a GeneratorObject costs, next to a native async generator
 * read with `for await` (the goal: at most 2x its cost per item). Each
 * workload reads ITEMS numbers and sums them; the rounds are interleaved in
 * one process, so a shared machine slows them alike. asynkit is the built
 * package (dist/, see dist.ts).
 *
 *   npm run build && npx tsx bench/generators.ts [rounds]
 */
import type { Coro, GeneratorObject as GeneratorObjectType } from "../src/index.js";
import { assertBuilt, loadAsynkit } from "./dist.js";

assertBuilt();
const { forAwait, fromPromise, GeneratorObject, run, sleep } = await loadAsynkit();

const ITEMS = 200_000;

function* numbers(g: GeneratorObjectType<number>, n: number): Coro<void> {
  for (let i = 0; i < n; i++) yield* g.yield(i);
}

function* numbersWithSwitch(g: GeneratorObjectType<number>, n: number): Coro<void> {
  for (let i = 0; i < n; i++) {
    yield* sleep(0);
    yield* g.yield(i);
  }
}

const total = { sum: 0 };

/** forAwait()'s function* body: it never suspends. */
// biome-ignore lint/correctness/useYield: a body that returns at once, as a plain function's would
function* addToTotal(n: number): Coro<void> {
  total.sum += n;
}

async function* nativeNumbers(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) yield i;
}

/** Each workload reads ITEMS items and resolves with their sum. */
const workloads: Record<string, () => Promise<number>> = {
  "native async generator, for await": async () => {
    let sum = 0;
    for await (const n of nativeNumbers(ITEMS)) sum += n;
    return sum;
  },
  "GeneratorObject, yield* gen.next()": () =>
    run(function* () {
      const gen = new GeneratorObject<number>((g) => numbers(g, ITEMS));
      let sum = 0;
      for (let r = yield* gen.next(); !r.done; r = yield* gen.next()) sum += r.value;
      return sum;
    }),
  "GeneratorObject, forAwait(function*)": () =>
    run(function* () {
      total.sum = 0;
      yield* forAwait(new GeneratorObject<number>((g) => numbers(g, ITEMS)), addToTotal);
      return total.sum;
    }),
  // A plain function may be an async one's wrapper: each call is ready for a native step.
  "GeneratorObject, forAwait(arrow)": () =>
    run(function* () {
      let sum = 0;
      yield* forAwait(new GeneratorObject<number>((g) => numbers(g, ITEMS)), (n) => {
        sum += n;
        return undefined;
      });
      return sum;
    }),
  // With no loop running, each call runs the policy's loop until it is done.
  "GeneratorObject, native for await": async () => {
    let sum = 0;
    for await (const n of new GeneratorObject<number>((g) => numbers(g, ITEMS))) sum += n;
    return sum;
  },
  // Inside run(), each call is a task of the running loop.
  "GeneratorObject, for await in run()": () =>
    run(function* () {
      const gen = new GeneratorObject<number>((g) => numbers(g, ITEMS));
      const native = (async () => {
        let sum = 0;
        for await (const n of gen) sum += n;
        return sum;
      })();
      return yield* fromPromise(native);
    }),
  "GeneratorObject + sleep(0) per item": () =>
    run(function* () {
      const gen = new GeneratorObject<number>((g) => numbersWithSwitch(g, ITEMS));
      let sum = 0;
      for (let r = yield* gen.next(); !r.done; r = yield* gen.next()) sum += r.value;
      return sum;
    }),
};

const rounds = Number(process.argv[2] ?? 7);
const names = Object.keys(workloads);
const samples = new Map<string, number[]>(names.map((name) => [name, []]));
const expected = (ITEMS * (ITEMS - 1)) / 2;
for (let round = 0; round < rounds; round++) {
  for (const name of names) {
    const start = performance.now();
    const sum = await (workloads[name] as () => Promise<number>)();
    const ns = ((performance.now() - start) * 1e6) / ITEMS;
    if (sum !== expected) throw new Error(`${name}: summed ${sum}, expected ${expected}`);
    samples.get(name)?.push(ns);
  }
}

const best = (name: string): number => Math.min(...(samples.get(name) ?? []));
const median = (name: string): number => {
  const sorted = [...(samples.get(name) ?? [])].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};
const native = best(names[0] as string);
console.log(
  `${ITEMS} items, ${rounds} interleaved rounds; ns per item (best, median), best / native`,
);
for (const name of names) {
  console.log(
    `${name.padEnd(38)} ${best(name).toFixed(1).padStart(7)} ${median(name).toFixed(1).padStart(7)}` +
      `   ${(best(name) / native).toFixed(2)}x`,
  );
}
