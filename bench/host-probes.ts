/**
 * Probes of the host's responsiveness while a load runs: how late a host
 * setTimeout(0), a setImmediate and an HTTP request on 127.0.0.1 complete,
 * and how often a host setInterval fires. Used by bench/host-latency.ts and
 * test/host-fairness.test.ts.
 */
import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { createTask, run, sleep, type Task } from "../src/index.js";

/** Delays in milliseconds, one per sample. */
export interface Latencies {
  timeout: number[];
  immediate: number[];
  http: number[];
  /**
   * The same waits counted in the CPU time the process ran during each (at
   * most its wall time): a wait stretched while other processes held the CPU
   * counts only what this process did meanwhile, which is what the loop holds
   * the host back with.
   */
  running: { timeout: number[]; immediate: number[]; http: number[] };
  /** CPU time the process had over the elapsed time: below 1 when other processes compete for the CPU. */
  cpuShare: number;
}

/** One wait: its wall time, and the CPU time the process ran meanwhile (at most the wall time). */
interface Delay {
  wall: number;
  running: number;
}

/** Runs the CPU for `ms` milliseconds of wall time without yielding. */
export function burnCpu(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy: this is the load
  }
}

/** The `p` (0–1) percentile of `values`, by nearest rank: at least that share of them is at or below it. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
}

/** How long `start(done)` takes to call `done`, in milliseconds. */
function delayOf(start: (done: () => void) => void): Promise<Delay> {
  const begin = performance.now();
  const beginCpu = process.cpuUsage();
  return new Promise((resolve) =>
    start(() => {
      const wall = performance.now() - begin;
      resolve({ wall, running: Math.min(wall, cpuMsSince(beginCpu)) });
    }),
  );
}

/** `samples` delays from `probe`, one after another, stopping early once `maxMs` have passed. */
async function sample(probe: () => Promise<Delay>, samples: number, maxMs: number) {
  const delays: Delay[] = [];
  const end = performance.now() + maxMs;
  while (delays.length < samples && performance.now() < end) delays.push(await probe());
  return delays;
}

/** A local HTTP server and a keep-alive client, connected and warm before any load starts. */
export interface Probes {
  /** Samples the three host delays side by side while whatever else runs. */
  measure(samples: number, maxMs: number): Promise<Latencies>;
  close(): Promise<void>;
}

export async function startProbes(): Promise<Probes> {
  const server = createServer((_req, res) => res.end("ok"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const get = (done: () => void): void => {
    request({ host: "127.0.0.1", port, agent }, (res) => {
      res.resume();
      res.on("end", done);
    }).end();
  };
  await delayOf(get);
  return {
    async measure(samples, maxMs) {
      const start = performance.now();
      const startCpu = process.cpuUsage();
      const [timeout, immediate, http] = await Promise.all([
        sample(() => delayOf((done) => setTimeout(done, 0)), samples, maxMs),
        sample(() => delayOf((done) => setImmediate(done)), samples, maxMs),
        sample(() => delayOf(get), samples, maxMs),
      ]);
      const cpuShare = cpuMsSince(startCpu) / (performance.now() - start);
      const wall = (delays: Delay[]) => delays.map((d) => d.wall);
      const running = (delays: Delay[]) => delays.map((d) => d.running);
      return {
        timeout: wall(timeout),
        immediate: wall(immediate),
        http: wall(http),
        running: { timeout: running(timeout), immediate: running(immediate), http: running(http) },
        cpuShare,
      };
    },
    close() {
      agent.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * How many times a host setInterval of `periodMs` fires while `body` runs, for
 * how long it ran, and how much CPU time the process had meanwhile (less than
 * the elapsed time when other processes compete for the CPU).
 */
export async function countTicks(
  periodMs: number,
  body: () => Promise<unknown>,
): Promise<{ ticks: number; elapsedMs: number; cpuMs: number }> {
  let ticks = 0;
  const interval = setInterval(() => ticks++, periodMs);
  const start = performance.now();
  const startCpu = process.cpuUsage();
  try {
    await body();
  } finally {
    clearInterval(interval);
  }
  return { ticks, elapsedMs: performance.now() - start, cpuMs: cpuMsSince(startCpu) };
}

/** CPU time the process has used since `start`, in milliseconds. */
function cpuMsSince(start: NodeJS.CpuUsage): number {
  const cpu = process.cpuUsage(start);
  return (cpu.user + cpu.system) / 1000;
}

/** asynkit tasks that switch with `yield* sleep(0)` until stopped, on a loop of run()'s. */
export interface Spinners {
  /** How many switches they have made so far. */
  switches(): number;
  /** Stops them and waits for run() to end. */
  stop(): Promise<void>;
}

/**
 * Starts `count` spinners and resolves once each has switched at least once,
 * so that what is measured next is their switching, not the one long step
 * that creates them all.
 */
export async function startSpinners(count: number): Promise<Spinners> {
  let stopped = false;
  let switches = 0;
  function* spin() {
    while (!stopped) {
      yield* sleep(0);
      switches++;
    }
  }
  const done = run(function* () {
    const tasks: Task<void>[] = [];
    for (let i = 0; i < count; i++) tasks.push(createTask(spin()));
    for (const task of tasks) yield* task;
  });
  while (switches < count) await new Promise((resolve) => setImmediate(resolve));
  return {
    switches: () => switches,
    stop() {
      stopped = true;
      return done;
    },
  };
}
