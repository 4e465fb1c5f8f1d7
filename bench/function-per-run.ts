/**
 * What V8 charges a function made anew each time it is used: a generator
 * function (or an async function) written as an expression inside the code
 * that calls it, against the same function defined once; first in plain
 * JavaScript, then as the body of asynkit's timeout() (the built package).
 *
 * - long: one call a run that steps 200k times, as a benchmark's main loop;
 *   a `function*` made anew is optimised again in every run, while the run
 *   is already going (`--trace-opt` shows the compiles).
 * - short: 20k calls a run of 10 steps each, as a handler per request; a
 *   `function*` made anew per call gives its generators a layout (map) of
 *   their own, so every property access on them goes megamorphic.
 *
 * - timeout body: 20k `yield* timeout(1000, body)` in a loop, the body
 *   defined once, a `function*` made per call, or an async function made per
 *   call.
 *
 * Each variant runs in a process of its own (what one variant makes
 * megamorphic would slow the next), in interleaved rounds; a process times
 * five runs, each after a full collection and an untimed run of a tenth, and
 * reports its median; the table gives the median over the rounds.
 *
 *   npm run build && npx tsx bench/function-per-run.ts [rounds]
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Coro } from "../src/index.js";
import { assertBuilt, loadAsynkit } from "./dist.js";
import { median } from "./stats.js";

assertBuilt();
const { run, sleep, timeout } = await loadAsynkit();

const LONG_STEPS = 200_000;
const SHORT_CALLS = 20_000;
const SHORT_STEPS = 10;

type Gen = Generator<number, number, number>;

function* definedOnce(n: number): Gen {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += yield i;
  return sum;
}

async function definedOnceAsync(n: number): Promise<number> {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += await i;
  return sum;
}

function stepAll(g: Gen): number {
  let step = g.next(0);
  while (step.done !== true) step = g.next(1);
  return step.value;
}

/** A generator function made anew by each call of this function. */
function madeAnew(): (n: number) => Gen {
  return function* (n: number): Gen {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += yield i;
    return sum;
  };
}

/** An async function made anew by each call of this function. */
function madeAnewAsync(): (n: number) => Promise<number> {
  return async (n: number) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += await i;
    return sum;
  };
}

function calls(k: number, call: () => number): number {
  let sum = 0;
  for (let j = 0; j < k; j++) sum += call();
  return sum;
}

async function asyncCalls(k: number, call: () => Promise<number>): Promise<number> {
  let sum = 0;
  for (let j = 0; j < k; j++) sum += await call();
  return sum;
}

function* timeoutBody(): Coro<number> {
  yield* sleep(0);
  return 1;
}

/** A loop of `yield* timeout(1000, body())` on a loop of its own. */
function timeouts(k: number, body: () => () => Coro<number> | Promise<number>): Promise<number> {
  return run(function* () {
    let sum = 0;
    for (let j = 0; j < k; j++) sum += yield* timeout(1000, body());
    return sum;
  });
}

/** Each takes a scale (1, or a tenth for the untimed run). */
const VARIANTS: Record<string, (scale: number) => unknown> = {
  "long, function* defined once": (s) => stepAll(definedOnce(LONG_STEPS * s)),
  "long, function* made per run": (s) => stepAll(madeAnew()(LONG_STEPS * s)),
  "long, async defined once": (s) => definedOnceAsync(LONG_STEPS * s),
  "long, async made per run": (s) => madeAnewAsync()(LONG_STEPS * s),
  "short, function* defined once": (s) =>
    calls(SHORT_CALLS * s, () => stepAll(definedOnce(SHORT_STEPS))),
  "short, function* made per call": (s) =>
    calls(SHORT_CALLS * s, () => stepAll(madeAnew()(SHORT_STEPS))),
  "short, async defined once": (s) =>
    asyncCalls(SHORT_CALLS * s, () => definedOnceAsync(SHORT_STEPS)),
  "short, async made per call": (s) =>
    asyncCalls(SHORT_CALLS * s, () => madeAnewAsync()(SHORT_STEPS)),
  "timeout body defined once": (s) => timeouts(SHORT_CALLS * s, () => timeoutBody),
  "timeout body function* per call": (s) =>
    timeouts(
      SHORT_CALLS * s,
      () =>
        function* () {
          yield* sleep(0);
          return 1;
        },
    ),
  "timeout body async per call": (s) =>
    timeouts(SHORT_CALLS * s, () => async () => {
      await sleep(0);
      return 1;
    }),
};

/** In a child: times `name`'s runs and prints their median, in ms. */
async function child(name: string): Promise<void> {
  const variant = VARIANTS[name];
  const gc = globalThis.gc;
  if (variant === undefined || gc === undefined) throw new Error(`no variant ${name}, or no gc`);
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    gc();
    await variant(0.1);
    const start = performance.now();
    await variant(1);
    times.push(performance.now() - start);
  }
  console.log(median(times));
}

function main(rounds: number): void {
  const self = fileURLToPath(import.meta.url);
  const times: Record<string, number[]> = {};
  for (let round = 0; round < rounds; round++) {
    for (const name of Object.keys(VARIANTS)) {
      const out = spawnSync(
        process.execPath,
        ["--expose-gc", "--import", "tsx", self, "--child", name],
        { encoding: "utf8" },
      );
      if (out.status !== 0) throw new Error(`${name}: ${out.stderr}`);
      (times[name] ??= []).push(Number(out.stdout));
    }
  }
  console.log(`ms a run, median of ${rounds} processes each`);
  for (const [name, list] of Object.entries(times)) {
    console.log(`${name.padEnd(32)} ${median(list).toFixed(2)}`);
  }
}

const args = process.argv.slice(2);
if (args[0] === "--child") await child(args[1] as string);
else main(Number(args[0] ?? 5));
