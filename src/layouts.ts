/**
 * One object of each kind the loop's hot paths touch, kept for the life of
 * the process.
 *
 * V8 forgets an object layout (a hidden class) once no object has it, and
 * throws away the code it optimised for that layout. A program that drops
 * every task, future and loop at the end of a run() and meets a full garbage
 * collection before the next, as a test suite does, would start each run
 * from unoptimised code: ping-pong through futures ran 19% slower that way
 * (bench/collected-layouts.ts); 100k sleeping tasks, Event, Queue and Lock
 * hand-offs and 100k native tasks took 12–44% less time once theirs were
 * kept (`bench/builds.ts <workload> 5 <before> <after> --collect`).
 *
 * These objects keep the layouts alive. They sit on a loop of their own that
 * never runs, and the tasks have names, so that the numbering of unnamed
 * tasks ("Task-1", …) is left alone. The Handle is there because a run() ends
 * in one (the done callback that stops the loop): without it the loop's
 * iteration, optimised for a ready queue of tasks alone, was deoptimised at
 * the end of every run. The waits were begun by hand, and the sleeping task
 * set waiting on its timer, so that what a wait makes (a sleep's timer in the
 * timer queue, a primitive's waiter) exists with the layout it has in a
 * running program, but no task's step ran: its call sites would have learnt
 * these objects' layouts (ping-pong, whose steps see only futures, then ran
 * 2% more instructions a round trip).
 */
import type { Coro, Suspend } from "./coro.js";
import { setRunningLoop } from "./events.js";
import { waitStep } from "./futures.js";
import { Event, Lock } from "./locks.js";
import { HostEventLoop } from "./loops/host.js";
import { Queue } from "./queues.js";
import { sleep } from "./sleep.js";
import type { Task } from "./tasks.js";

function* neverStepped(): Generator<undefined, void> {}

const loop = new HostEventLoop();
// The fields a running loop gives fractional times, stored as doubles: a loop
// that has run has a layout of its own from its first time slice on (V8 boxes
// a field that held only small integers until then), and without an object
// of that layout left, a full collection between two run()s threw away the
// code of the loop's hot paths (timers at 10k in one process: 1.6x native's
// time, 1.0x with it).
loop._sliceStart = loop._sliceDeadline = loop._keptLastCheck = loop._hostTurnAt = 0.5;
const future = loop.createFuture<void>();

/** Runs `begin` as a step of the kept loop would run it. */
function inStep<T>(begin: () => T): T {
  const previous = setRunningLoop(loop);
  try {
    return begin();
  } finally {
    setRunningLoop(previous);
  }
}

/** A wait begun by hand, as a task's first step would begin it: it waits for good. */
function waiting(op: Coro<unknown>): Coro<unknown> {
  inStep(() => op.next());
  return op;
}

/** A task asleep: its sleep begun by hand, and the task waiting on the sleep's timer. */
function sleepingTask(): Task<unknown> {
  const op = sleep(1);
  const task = loop.createTask(op, { name: "asynkit layouts: asleep" });
  inStep(() => task._suspend(op.next() as IteratorYieldResult<Suspend>));
  return task;
}

const lock = new Lock();
const fullQueue = new Queue<number>(1);
fullQueue.putNowait(0);
waiting(lock.acquire()); // taken: the wait kept below queues for it

/** @internal Referenced from this module, so never collected. */
export const keptLayouts: readonly unknown[] = [
  loop,
  future,
  future[Symbol.iterator](),
  waitStep(future, false), // the pending step of a wait whose iterator is not its own
  loop.createTask(neverStepped(), { name: "asynkit layouts" }),
  loop.createTask(async () => {}, { name: "asynkit layouts: native" }), // never started
  sleep(0),
  sleep(1),
  loop.callSoon(() => {}), // never called: the loop never runs
  sleepingTask(),
  waiting(new Event().wait()),
  waiting(new Queue<number>().get()),
  waiting(fullQueue.put(1)),
  waiting(lock.acquire()),
];
