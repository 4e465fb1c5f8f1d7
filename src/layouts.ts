/**
 * One object of each kind the loop's hot paths touch, kept for the life of
 * the process.
 *
 * V8 forgets an object layout (a hidden class) once no object has it, and
 * throws away the code it optimised for that layout. A program that drops
 * every task, future and loop at the end of a run() and meets a full garbage
 * collection before the next, as a test suite does, would start each run
 * from unoptimised code: ping-pong through futures ran 19% slower that way
 * (bench/collected-layouts.ts). These objects keep the layouts alive. They
 * sit on a loop of their own that never runs, and the task has a name, so
 * that the numbering of unnamed tasks ("Task-1", …) is left alone. The
 * Handle is there because a run() ends in one (the done callback that stops
 * the loop): without it the loop's iteration, optimised for a ready queue of
 * tasks alone, was deoptimised at the end of every run.
 */
import { HostEventLoop } from "./loops/host.js";
import { sleep } from "./sleep.js";

function* neverStepped(): Generator<undefined, void> {}

const loop = new HostEventLoop();
const future = loop.createFuture<void>();

/** @internal Referenced from this module, so never collected. */
export const keptLayouts: readonly unknown[] = [
  loop,
  future,
  future[Symbol.iterator](),
  loop.createTask(neverStepped(), { name: "asynkit layouts" }),
  sleep(0),
  sleep(1),
  loop.callSoon(() => {}), // never called: the loop never runs
];
