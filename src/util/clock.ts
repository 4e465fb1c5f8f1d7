import { builtinModule } from "./host.js";

/** The host's performance object, as it was (see host.ts: fake timers replace the global one). */
const performance =
  builtinModule<{ performance: Performance }>("node:perf_hooks")?.performance ??
  (globalThis as { performance?: Performance }).performance;

/**
 * Where the clock is read: the performance object's class, which
 * @sinonjs/fake-timers leaves alone (it gives Node's performance object a
 * now() of its own, before asynkit loads or after). Read at each call, so
 * that a test or a benchmark can put the class's now() on a clock of its own.
 */
const clockSource: { now(): number } | null =
  typeof performance === "object" && performance !== null
    ? typeof Object.getPrototypeOf(performance)?.now === "function"
      ? Object.getPrototypeOf(performance)
      : performance
    : null;

/** The host's monotonic clock in milliseconds (performance.now where the host has it). */
export const now: () => number =
  clockSource !== null ? () => clockSource.now.call(performance) : () => Date.now();

let tick: number | undefined;

/**
 * The host clock's tick, measured once when first asked: the largest of a
 * few steps between readings that differ (a browser coarsens performance.now()
 * to 100 µs, with jitter; Node's moves by fractions of a microsecond). A
 * clock that does not move within a million readings counts as ticking 0.
 */
export function clockTick(): number {
  if (tick === undefined) {
    tick = 0;
    let last = now();
    for (let changes = 0, reads = 0; changes < 4 && reads < 1_000_000; reads++) {
      const time = now();
      if (time === last) continue;
      if (changes > 0) tick = Math.max(tick, time - last); // the first step began mid-tick
      last = time;
      changes++;
    }
  }
  return tick;
}
