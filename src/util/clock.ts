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

/** The steps clockTick() measures: their median stands, so that one pause (a collection) does not. */
const TICKS_MEASURED = 5;

/**
 * The host clock's tick, measured once when first asked: the median of a few
 * steps between readings that differ (a browser coarsens performance.now()
 * to 100 µs; Node's moves by fractions of a microsecond). A clock that does
 * not move within a million readings counts as ticking 0.
 */
export function clockTick(): number {
  if (tick === undefined) {
    const steps: number[] = [];
    let last = now();
    let changes = 0;
    for (let reads = 0; steps.length < TICKS_MEASURED && reads < 1_000_000; reads++) {
      const time = now();
      if (time === last) continue;
      if (changes++ > 0) steps.push(time - last); // the first step began mid-tick
      last = time;
    }
    steps.sort((a, b) => a - b);
    tick = steps.length === 0 ? 0 : (steps[steps.length >> 1] as number);
  }
  return tick;
}
