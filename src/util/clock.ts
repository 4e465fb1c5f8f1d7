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
