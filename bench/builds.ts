/**
 * Before/after check for a hot-path change: the same workload against two or
 * more builds of asynkit (their dist/ folders), in interleaved fresh processes
 * (A B A B …), reporting each build's min and median. Ratios to native (run.ts)
 * hide a change on a machine whose speed drifts; this compares builds directly.
 *
 *   npx tsx bench/builds.ts <workload> <rounds> <dist> <dist> …
 *
 * A build of an earlier commit: `git worktree add /tmp/old <rev> && cd /tmp/old
 * && npm ci && npm run build`, then pass /tmp/old/dist.
 */
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type * as Asynkit from "../src/index.js";

type Workload = (asynkit: typeof Asynkit) => Promise<number>;

/** Each returns ns per op, or bytes per task for memory; the fastest of 5 timed runs after a warm-up. */
const WORKLOADS: Record<string, Workload> = {
  switch: ({ run, sleep }) =>
    fastest(1_000_000, (n) =>
      run(function* () {
        for (let i = 0; i < n; i++) yield* sleep(0);
      }),
    ),
  "ping-pong": ({ run, createTask, getRunningLoop }) =>
    fastest(200_000, (n) =>
      run(function* () {
        const loop = getRunningLoop();
        let ping = loop.createFuture<void>();
        let pong = loop.createFuture<void>();
        const ponger = createTask(
          (function* () {
            for (let i = 0; i < n; i++) {
              yield* ping;
              ping = loop.createFuture();
              pong.setResult();
            }
          })(),
        );
        for (let i = 0; i < n; i++) {
          const reply = pong;
          ping.setResult();
          yield* reply;
          pong = loop.createFuture();
        }
        yield* ponger;
      }),
    ),
  "spawn-join": ({ run, createTask }) =>
    fastest(100_000, (n) =>
      run(function* () {
        function* child() {
          yield;
        }
        const tasks = [];
        for (let i = 0; i < n; i++) tasks.push(createTask(child()));
        for (const t of tasks) yield* t;
      }),
    ),
  eager: ({ run, eager }) =>
    fastest(1_000_000, (n) =>
      run(function* () {
        // biome-ignore lint/correctness/useYield: the workload is a coroutine that never suspends
        function* answer(i: number) {
          return i & 1;
        }
        let sum = 0;
        for (let i = 0; i < n; i++) sum += yield* eager(answer(i));
        return sum;
      }),
    ),
  memory: async ({ run, createTask, getRunningLoop }) => {
    const n = 100_000;
    let bytes = 0;
    await run(function* () {
      const never = getRunningLoop().createFuture<void>();
      function* blocked() {
        yield* never;
      }
      const before = heapUsed();
      const tasks = [];
      for (let i = 0; i < n; i++) tasks.push(createTask(blocked()));
      yield;
      bytes = (heapUsed() - before) / n;
      never.setResult();
      for (const t of tasks) yield* t;
    });
    return bytes;
  },
};

async function fastest(n: number, once: (n: number) => Promise<unknown>): Promise<number> {
  await once(n / 10);
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    await once(n);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / n);
  }
  return best;
}

function heapUsed(): number {
  (globalThis.gc as () => void)();
  (globalThis.gc as () => void)();
  return process.memoryUsage().heapUsed;
}

function usage(message: string): never {
  console.error(`error: ${message}`);
  console.error(
    `usage: npx tsx bench/builds.ts <${Object.keys(WORKLOADS).join("|")}> <rounds> <dist> <dist> …`,
  );
  process.exit(2);
}

/** In a child: runs one workload against one build and prints its figure. */
async function worker(dist: string, workload: string): Promise<void> {
  const asynkit = (await import(pathToFileURL(resolve(dist, "index.js")).href)) as typeof Asynkit;
  console.log((await (WORKLOADS[workload] as Workload)(asynkit)).toFixed(1));
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[(sorted.length - 1) >> 1] as number;
}

function main(args: string[]): void {
  const [workload, roundsText, ...dists] = args;
  if (workload === undefined || !(workload in WORKLOADS)) usage(`unknown workload "${workload}"`);
  const rounds = Number(roundsText);
  if (!Number.isInteger(rounds) || rounds < 1) usage("<rounds> takes a positive integer");
  if (dists.length === 0) usage("name at least one dist/ folder");
  const figures = new Map<string, number[]>(dists.map((d) => [d, []]));
  const self = fileURLToPath(import.meta.url);
  for (let round = 0; round < rounds; round++) {
    for (const dist of dists) {
      const child = spawnSync(
        process.execPath,
        ["--expose-gc", "--import", "tsx", self, "--worker", dist, workload],
        { encoding: "utf8" },
      );
      const figure = Number(child.stdout.trim());
      if (child.status !== 0 || Number.isNaN(figure)) {
        usage(`${dist}: ${child.stderr.trim().split("\n").at(-1) ?? `exit ${child.status}`}`);
      }
      figures.get(dist)?.push(figure);
    }
  }
  const unit = workload === "memory" ? "B/task" : "ns/op";
  for (const [dist, xs] of figures) {
    console.log(
      `${workload} ${dist}: min ${Math.min(...xs).toFixed(1)} median ${median(xs).toFixed(1)} ${unit} (${xs.length} processes)`,
    );
  }
}

const args = process.argv.slice(2);
if (args[0] === "--worker") await worker(args[1] as string, args[2] as string);
else main(args);
