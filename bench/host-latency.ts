/**
 * How the host fares next to a busy asynkit loop, beside the same load in
 * native async/await: `npx tsx bench/host-latency.ts`.
 *
 * 1. 10,000 tasks switching with `yield* sleep(0)` (native: `await null`):
 *    how late a host setTimeout(0), a setImmediate and a keep-alive HTTP
 *    request on 127.0.0.1 complete.
 * 2. 10 tasks × 100 steps of 1 ms CPU work, each step followed by a switch:
 *    how often a host setInterval of 5 ms fires.
 * 3. 100 tasks of cheap steps queued before 20 tasks of 10 ms steps, for
 *    2 s: the gaps between the ticks of a host setInterval of 1 ms (asynkit
 *    only: native async functions that never wait for I/O starve the host).
 *
 * The native spinners stop after SPIN_LIMIT_MS, so the run ends even though
 * they starve the host. The CPU column is the share of one core the process
 * had: under 100% the machine was busy and every delay stretches.
 */
import { createTask, run, sleep } from "../src/index.js";
import {
  burnCpu,
  countTicks,
  type Latencies,
  percentile,
  startProbes,
  startSpinners,
} from "./host-probes.js";

const SPINNERS = 10_000;
const SAMPLES = 200;
const SPIN_LIMIT_MS = 2000;
const CPU_TASKS = 10;
const CPU_STEPS = 100;
const TICK_MS = 5;
const CHEAP_TASKS = 100;
const HEAVY_TASKS = 20;
const HEAVY_STEP_MS = 10;
const MIXED_MS = 2000;

const probes = await startProbes();

/** The CPU the process had, as a percentage of one core: below 100 when other processes compete. */
function share(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

function row(name: string, latencies: Latencies): string {
  const cells = [latencies.timeout, latencies.immediate, latencies.http].map(
    (d) =>
      `${percentile(d, 0.5).toFixed(1)} / ${percentile(d, 0.99).toFixed(1)} / ${Math.max(...d).toFixed(1)}`,
  );
  return `| ${name} | ${cells.join(" | ")} | ${share(latencies.cpuShare)} |`;
}

async function asynkitSpinners(): Promise<Latencies> {
  const spinners = await startSpinners(SPINNERS);
  const latencies = await probes.measure(SAMPLES, 10_000);
  await spinners.stop();
  return latencies;
}

/** Native spinners never let the host in, so each probe gets one sample: the one that waited them out. */
async function nativeSpinners(): Promise<Latencies> {
  const end = performance.now() + SPIN_LIMIT_MS;
  async function spin() {
    while (performance.now() < end) await null;
  }
  const load = Promise.all(Array.from({ length: SPINNERS }, spin));
  const latencies = await probes.measure(1, 10_000);
  await load;
  return latencies;
}

function asynkitCpuSteps() {
  function* worker() {
    for (let i = 0; i < CPU_STEPS; i++) {
      burnCpu(1);
      yield* sleep(0);
    }
  }
  return countTicks(TICK_MS, () =>
    run(function* () {
      const tasks = Array.from({ length: CPU_TASKS }, () => createTask(worker()));
      for (const task of tasks) yield* task;
    }),
  );
}

function nativeCpuSteps() {
  async function worker() {
    for (let i = 0; i < CPU_STEPS; i++) {
      burnCpu(1);
      await null;
    }
  }
  return countTicks(TICK_MS, () => Promise.all(Array.from({ length: CPU_TASKS }, worker)));
}

/** Gaps between the ticks of a 1 ms host setInterval while cheap steps are queued before heavy ones. */
async function mixedStepGaps(): Promise<number[]> {
  const gaps: number[] = [];
  let last = performance.now();
  const interval = setInterval(() => {
    const now = performance.now();
    gaps.push(now - last);
    last = now;
  }, 1);
  let stop = false;
  function* cheap() {
    while (!stop) yield;
  }
  function* heavy() {
    while (!stop) {
      burnCpu(HEAVY_STEP_MS);
      yield;
    }
  }
  await run(function* () {
    const tasks = Array.from({ length: CHEAP_TASKS }, () => createTask(cheap()));
    tasks.push(...Array.from({ length: HEAVY_TASKS }, () => createTask(heavy())));
    yield* sleep(MIXED_MS);
    stop = true;
    for (const task of tasks) yield* task;
  });
  clearInterval(interval);
  return gaps;
}

console.log(
  `Host delays (ms, p50 / p99 / max) while ${SPINNERS.toLocaleString("en")} tasks switch:\n`,
);
console.log("| load | setTimeout(0) | setImmediate | HTTP request | CPU |");
console.log("| --- | --- | --- | --- | --- |");
console.log(row("asynkit, `yield* sleep(0)`", await asynkitSpinners()));
console.log(
  row(`native, \`await null\` (stops after ${SPIN_LIMIT_MS} ms)`, await nativeSpinners()),
);
await probes.close();

console.log(
  `\nA ${TICK_MS} ms host setInterval while ${CPU_TASKS} tasks run ${CPU_STEPS} steps of 1 ms CPU each:\n`,
);
console.log("| load | elapsed ms | ticks | ticks a free host would get | CPU |");
console.log("| --- | --- | --- | --- | --- |");
for (const [name, measure] of [
  ["asynkit, `yield* sleep(0)` between steps", asynkitCpuSteps],
  ["native, `await null` between steps", nativeCpuSteps],
] as const) {
  const { ticks, elapsedMs, cpuMs } = await measure();
  console.log(
    `| ${name} | ${elapsedMs.toFixed(0)} | ${ticks} | ${Math.floor(elapsedMs / TICK_MS)} | ${share(cpuMs / elapsedMs)} |`,
  );
}

const gaps = await mixedStepGaps();
console.log(
  `\nGaps between the ticks of a 1 ms host setInterval while ${CHEAP_TASKS} tasks of cheap steps come before ${HEAVY_TASKS} of ${HEAVY_STEP_MS} ms steps, for ${MIXED_MS} ms (ms):\n`,
);
console.log("| ticks | p50 | p99 | max | over 20 ms |");
console.log("| --- | --- | --- | --- | --- |");
console.log(
  `| ${gaps.length} | ${percentile(gaps, 0.5).toFixed(1)} | ${percentile(gaps, 0.99).toFixed(1)} | ${Math.max(...gaps).toFixed(1)} | ${gaps.filter((gap) => gap > 20).length} |`,
);
