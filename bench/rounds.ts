/**
 * One implementation's runs of one workload, one after another in one process,
 * with no collection forced between them, each run's ns/op printed: how many
 * runs the code takes to warm up, and where it settles.
 *
 *   npx tsx bench/rounds.ts <native|asynkit> <workload> <ops> [runs]
 *
 * On Linux, `setarch -R npx tsx bench/rounds.ts …` runs it with address-space
 * randomisation off (see "Warm-up and layout" in docs/benchmarks.md).
 */
import { loadAsynkit } from "./dist.js";
import { asynkitWorkloads } from "./impl/asynkit-workloads.js";
import native from "./impl/native.js";
import type { Impl } from "./workloads.js";

type Run = (n: number, reps: number) => Promise<unknown>;

const [who, workload, opsText, runsText] = process.argv.slice(2);
const impl: Impl | null =
  who === "native" ? native : who === "asynkit" ? asynkitWorkloads(await loadAsynkit()) : null;
const fn = impl?.[workload as keyof Impl] as Run | undefined;
const ops = Number(opsText);
const runs = Number(runsText ?? 10);
if (fn === undefined || workload === "memory" || !(ops >= 1) || !(runs >= 1)) {
  console.error("usage: npx tsx bench/rounds.ts <native|asynkit> <workload> <ops> [runs]");
  process.exit(2);
}
const figures: string[] = [];
for (let run = 0; run < runs; run++) {
  const start = process.hrtime.bigint();
  await fn(ops, 1);
  figures.push((Number(process.hrtime.bigint() - start) / ops).toFixed(0));
}
console.log(`${who} ${workload}@${ops} ns/op by run: ${figures.join(" ")}`);
