/**
 * What debug mode's promise hooks cost the rest of the process: a plain async
 * function awaits null 1M times (one promise job each) with no loop about,
 * beside a HostEventLoop with the asyncLocalStorage option (whose host
 * context tracking every job pays for), and beside such a loop in debug mode,
 * which times each job with v8.promiseHooks once it has run a native step
 * (see src/hostruns.ts). Each in a round of its own, interleaved:
 *
 *   npm run build && npx tsx bench/debug-hooks.ts [rounds]
 *
 * Prints the median of each, in ms.
 */
import { assertBuilt, loadAsynkit } from "./dist.js";
import { median } from "./stats.js";

assertBuilt();
const { HostEventLoop } = await loadAsynkit();

const AWAITS = 1_000_000;
const rounds = Number(process.argv[2] ?? 5);

async function awaitNulls(): Promise<number> {
  const began = performance.now();
  for (let i = 0; i < AWAITS; i++) await null;
  return performance.now() - began;
}

/** The awaits timed while a loop with the option (in debug mode or not) is open. */
async function besideLoop(debug: boolean): Promise<number> {
  const loop = new HostEventLoop({ asyncLocalStorage: true });
  loop.setDebug(debug);
  await loop.runUntilComplete(async () => {
    await null; // a native step: a debug loop adds its hooks here
  });
  const took = await awaitNulls();
  loop.close(); // and removes them here
  return took;
}

// The first case runs before any loop has made the host track async context.
const none: number[] = [await awaitNulls()];
const plain: number[] = [];
const debug: number[] = [];
for (let round = 0; round < rounds; round++) {
  plain.push(await besideLoop(false));
  debug.push(await besideLoop(true));
}
console.log(`1M awaits of null, ms (median of ${rounds}; no loop: 1 run, before any)`);
console.log(`  no loop:                       ${none[0]?.toFixed(0)}`);
console.log(`  beside an ALS loop:            ${median(plain).toFixed(0)}`);
console.log(`  beside an ALS loop in debug:   ${median(debug).toFixed(0)}`);
