/**
 * Runs one case (a workload at one size) in this process and prints one JSON line.
 *
 *   node --expose-gc --import tsx bench/worker.ts fresh <impl> <workload> <ops> <reps> [depth]
 *     one implementation, one timed run after a warm-up:
 *     `{"nsPerOp":…}`, `{"bytesPerTask":…}` or `{"error":…}`
 *   node --expose-gc --import tsx bench/worker.ts single <rounds> <workload> <ops> <reps> [depth]
 *     native and asynkit in this one process: a warm-up of each, then `rounds`
 *     interleaved timed runs (native, asynkit, native, asynkit, …), each after
 *     a full collection and an untimed run of a tenth of the work (see
 *     settle()): `{"native":[…],"asynkit":[…]}` or `{"error":…}`
 *
 * A timed run is `reps` batches of `ops` ops (see BATCHED_WORKLOADS). run.ts spawns
 * one fresh worker per (case, implementation, round) and one single worker per case.
 */
import {
  type Impl,
  JS_IMPLS,
  type JsImpl,
  WORKLOADS,
  type WorkerResult,
  type Workload,
} from "./workloads.js";

/** What one worker measures: the Case fields it needs. */
interface Job {
  workload: Workload;
  ops: number;
  reps: number;
  depth: number;
}

// Static imports would make one broken implementation take the others down.
const loaders: Record<JsImpl, () => Promise<{ default: Impl }>> = {
  native: () => import("./impl/native.js"),
  asynkit: () => import("./impl/asynkit.js"),
  effection: () => import("./impl/effection.js"),
  effect: () => import("./impl/effect.js"),
};

/** The workload's function: `reps` batches of `n` ops (reps is 1 but for batched workloads). */
function workloadFn(impl: Impl, job: Job): (n: number, reps: number) => Promise<unknown> {
  switch (job.workload) {
    case "memory":
      return impl.memory;
    case "depth": {
      const { depth } = impl;
      if (!depth) throw new Error("this implementation has no depth workload");
      return (n) => depth(n, job.depth);
    }
    default: {
      const fn = impl[job.workload]; // the batched ones take `reps`, the others run once
      if (!fn) throw new Error(`this implementation has no ${job.workload} workload`);
      return fn;
    }
  }
}

/** Now in ns: CPU time for timers (whose wall time is at least the sleeps' span), else wall time. */
function clock(workload: Workload): () => number {
  if (workload === "timers") {
    return () => {
      const { user, system } = process.cpuUsage();
      return (user + system) * 1000;
    };
  }
  return () => Number(process.hrtime.bigint());
}

/** One timed run: ns per op, or heap bytes per task for memory. */
async function timedRun(impl: Impl, job: Job): Promise<number> {
  const fn = workloadFn(impl, job);
  if (job.workload === "memory") return (await fn(job.ops, 1)) as number;
  const now = clock(job.workload);
  const t0 = now();
  await fn(job.ops, job.reps);
  return (now() - t0) / (job.ops * job.reps);
}

/** How many untimed runs of a tenth of the work come before the timed runs. */
const WARM_UP_RUNS = 3;

/**
 * Untimed runs, so that the code is compiled before it counts. Several short
 * runs rather than one: what a run does once (its first steps, its end) runs
 * once per run, and V8 collects type feedback for a function only after its
 * first calls, so after a single warm-up run that code was optimised without
 * it, deoptimised in the timed run and compiled again there (ping-pong: 20
 * compilations and deoptimisations in the timed run after one, 1 after three).
 */
async function warmUp(impl: Impl, job: Job): Promise<void> {
  for (let run = 0; run < WARM_UP_RUNS; run++) await tenth(impl, job);
}

/** An untimed run of a tenth of the work. */
async function tenth(impl: Impl, job: Job): Promise<void> {
  const fn = workloadFn(impl, job);
  if (job.reps >= 10) await fn(job.ops, Math.round(job.reps / 10));
  else await fn(Math.max(1, Math.round(job.ops / 10)), 1);
}

function result(workload: Workload, value: number): WorkerResult {
  return workload === "memory" ? { bytesPerTask: value } : { nsPerOp: value };
}

function collect(): void {
  globalThis.gc?.();
}

/**
 * Before each timed run of the single mode: a full collection, so that one
 * implementation's garbage is not collected on the other's time; then a run
 * of a tenth of the work, since the collection also drops optimised code
 * that embedded an object only the last run kept alive (for asynkit, the
 * layout a coroutine's generator objects take once eager() marks them: the
 * timed run would otherwise compile it again); then a minor collection, for
 * that run's garbage.
 */
async function settle(impl: Impl, job: Job): Promise<void> {
  collect();
  await tenth(impl, job);
  globalThis.gc?.({ type: "minor" });
}

type Output = WorkerResult | { native: number[]; asynkit: number[] };

async function fresh(implName: JsImpl, job: Job): Promise<Output> {
  const impl = (await loaders[implName]()).default;
  await warmUp(impl, job);
  return result(job.workload, await timedRun(impl, job));
}

async function single(rounds: number, job: Job): Promise<Output> {
  const native = (await loaders.native()).default;
  const asynkit = (await loaders.asynkit()).default;
  await warmUp(native, job);
  await warmUp(asynkit, job);
  const samples = { native: [] as number[], asynkit: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    await settle(native, job);
    samples.native.push(await timedRun(native, job));
    await settle(asynkit, job);
    samples.asynkit.push(await timedRun(asynkit, job));
  }
  return samples;
}

function isOneOf<T extends string>(list: readonly T[], x: string | undefined): x is T {
  return (list as readonly string[]).includes(x ?? "");
}

const USAGE =
  `usage: worker.ts fresh <${JS_IMPLS.join("|")}> <workload> <ops> <reps> [depth]` +
  ` | worker.ts single <rounds> <workload> <ops> <reps> [depth]; workloads: ${WORKLOADS.join(", ")}`;

async function main(): Promise<Output> {
  const [mode, who, workload, ops, reps, depth] = process.argv.slice(2);
  const job = {
    ops: Number(ops),
    reps: Number(reps),
    depth: depth === undefined ? 1 : Number(depth),
  };
  if (!isOneOf(WORKLOADS, workload) || !(job.ops >= 1 && job.reps >= 1 && job.depth >= 1)) {
    return { error: USAGE };
  }
  try {
    if (mode === "fresh" && isOneOf(JS_IMPLS, who)) return await fresh(who, { workload, ...job });
    if (mode === "single" && Number(who) >= 1)
      return await single(Number(who), { workload, ...job });
    return { error: USAGE };
  } catch (err) {
    const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return { error: msg.split("\n")[0] ?? msg };
  }
}

const output = await main();
// Exit explicitly: a failed implementation may leave timers or tasks behind.
process.stdout.write(`${JSON.stringify(output)}\n`, () => process.exit("error" in output ? 1 : 0));
