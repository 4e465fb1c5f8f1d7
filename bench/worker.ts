/**
 * Runs one workload of one JS implementation in this (fresh) process and prints
 * one JSON line: `{"nsPerOp":…}`, `{"bytesPerTask":…}` or `{"error":…}`.
 *
 *   node --expose-gc --import tsx bench/worker.ts <workload> <impl> <ops>
 *
 * run.ts spawns one of these per (workload, implementation, round).
 */
import {
  type Impl,
  JS_IMPLS,
  type JsImpl,
  WORKLOADS,
  type WorkerResult,
  type Workload,
} from "./workloads.js";

// Static imports would make one broken implementation take the others down.
const loaders: Record<JsImpl, () => Promise<{ default: Impl }>> = {
  native: () => import("./impl/native.js"),
  asynkit: () => import("./impl/asynkit.js"),
  effection: () => import("./impl/effection.js"),
  effect: () => import("./impl/effect.js"),
};

function isOneOf<T extends string>(list: readonly T[], x: string | undefined): x is T {
  return (list as readonly string[]).includes(x ?? "");
}

async function measure(impl: Impl, workload: Workload, n: number): Promise<WorkerResult> {
  const warmup = Math.max(1, Math.round(n / 10));
  if (workload === "memory") {
    await impl.memory(warmup); // compile the code paths so their feedback is not counted
    return { bytesPerTask: await impl.memory(n) };
  }
  const fn = impl[workload];
  await fn(warmup);
  const t0 = process.hrtime.bigint();
  await fn(n);
  const elapsed = process.hrtime.bigint() - t0;
  return { nsPerOp: Number(elapsed) / n };
}

async function main(): Promise<WorkerResult> {
  const [workload, implName, ops] = process.argv.slice(2);
  const n = Number(ops);
  if (!isOneOf(WORKLOADS, workload) || !isOneOf(JS_IMPLS, implName) || !(n >= 1)) {
    return {
      error: `usage: worker.ts <${WORKLOADS.join("|")}> <${JS_IMPLS.join("|")}> <ops>`,
    };
  }
  try {
    const impl = (await loaders[implName]()).default;
    return await measure(impl, workload, n);
  } catch (err) {
    const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return { error: msg.split("\n")[0] ?? msg };
  }
}

const result = await main();
// Exit explicitly: a failed implementation may leave timers or tasks behind.
process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit("error" in result ? 1 : 0));
