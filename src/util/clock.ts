import { builtinModule } from "./host.js";

/** The host's performance object, as it was (see host.ts: fake timers replace the global one). */
const performance =
  builtinModule<{ performance: Performance }>("node:perf_hooks")?.performance ??
  (globalThis as { performance?: Performance }).performance;

/** The host's monotonic clock in milliseconds (performance.now where the host has it). */
export const now: () => number =
  typeof performance === "object" && performance !== null
    ? () => performance.now()
    : () => Date.now();
