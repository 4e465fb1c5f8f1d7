/**
 * Before/after check for a hot-path change, in instructions rather than time:
 * each build runs the workload under valgrind's callgrind, which counts the
 * instructions the process executes. On a shared VM whose speed drifts by
 * ±15% between runs, a change of a few percent never shows in the wall clock
 * (builds.ts); the count moves by about 1–2% between runs of one build, and
 * now and then a run is several percent off (when the collector runs still
 * varies: one eager run of eight, +7%), so give each build three runs.
 *
 * The count includes start-up, compilation and garbage collection; what
 * differs between two builds is their own work. The loop's clock is made
 * deterministic (each read advances 10 µs), so that time slices end after
 * the same handles in every run; and V8 compiles on the main thread
 * (`--single-threaded`), so the count does not depend on thread timing.
 * Counts are not time: memory stalls cost nothing here, so measure changes
 * in what a task keeps alive with the memory workload instead.
 *
 *   npm run build && npx tsx bench/instructions.ts <workload> <ops> <dist> <dist> …
 *
 * e.g. `npx tsx bench/instructions.ts spawn-join 100000 /tmp/before/dist dist dist`.
 * Needs valgrind (Debian: `apt-get install valgrind`); a run of spawn-join at
 * 100k takes about a minute and a half.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { TIMED_WORKLOADS } from "./workloads.js";

const RUNS = 4;
/** Not timers (they wait on the host for their delays) nor depth (it takes a second size). */
const COUNTED = TIMED_WORKLOADS.filter((w) => w !== "timers" && w !== "depth");

/**
 * The process valgrind runs: plain JavaScript, since a TypeScript loader's
 * thread would add its own, varying count. It runs the workload RUNS times on
 * a clock that advances 10 µs a read. Arguments: workloads module, dist, workload, ops.
 */
const WORKER = `
let clock = 0;
Object.defineProperty(globalThis, "performance", {
  value: { now: () => (clock += 0.01), timeOrigin: 0 },
  configurable: true,
  writable: true,
});
const [workloads, dist, workload, ops] = process.argv.slice(2);
const { asynkitWorkloads } = await import(workloads);
const asynkit = await import(dist);
const run = asynkitWorkloads(asynkit)[workload];
for (let i = 0; i < ${RUNS}; i++) await run(Number(ops), 1);
`;

function usage(message: string): never {
  console.error(`error: ${message}`);
  console.error("usage: npx tsx bench/instructions.ts <workload> <ops> <dist> <dist> …");
  process.exit(2);
}

const [workload, opsText, ...dists] = process.argv.slice(2);
const ops = Number(opsText);
if (workload === undefined || !(ops >= 1)) usage("name a workload and a number of ops");
if (!(COUNTED as readonly string[]).includes(workload)) {
  usage(`"${workload}" is not one of ${COUNTED.join(", ")}`);
}
if (dists.length === 0) usage("name at least one dist/ folder");

const dir = mkdtempSync(join(tmpdir(), "asynkit-instructions-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const worker = join(dir, "worker.mjs");
const workloads = join(dir, "workloads.mjs");
writeFileSync(worker, WORKER);
await build({
  entryPoints: [fileURLToPath(new URL("impl/asynkit-workloads.ts", import.meta.url))],
  bundle: true,
  format: "esm",
  platform: "node",
  outfile: workloads,
  logLevel: "error",
});
for (const dist of dists) {
  const child = spawnSync(
    "valgrind",
    [
      "--tool=callgrind",
      "--callgrind-out-file=/dev/null",
      process.execPath,
      "--single-threaded",
      worker,
      pathToFileURL(workloads).href,
      pathToFileURL(resolve(dist, "index.js")).href,
      workload,
      String(ops),
    ],
    { encoding: "utf8" },
  );
  if (child.error !== undefined) usage(`valgrind: ${child.error.message}`);
  const count = /Collected : (\d+)/.exec(child.stderr)?.[1];
  if (child.status !== 0 || count === undefined) {
    usage(`${dist}: ${child.stderr.trim().split("\n").at(-1) ?? `exit ${child.status}`}`);
  }
  const millions = (Number(count) / 1e6).toFixed(0);
  console.log(`${workload} ${dist}: ${millions}M instructions (${RUNS} runs of ${ops})`);
}
