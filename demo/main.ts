/**
 * The first thing to run: `npm run demo`. Runs the seed's scenarios and shows,
 * for each way of starting work, the order of events, which task ran each one
 * and when (on a virtual clock, so it finishes at once and prints the same
 * every time), and what to notice.
 */
import { writeFileSync } from "node:fs";
import {
  type Awaitable,
  type Coro,
  createTask,
  createTaskDescend,
  currentTask,
  Event,
  eager,
  type Future,
  Lock,
  PriorityLock,
  PriorityVirtualEventLoop,
  SchedulingVirtualEventLoop,
  sleep,
  Task,
} from "../src/index.js";
import { traceRecorder } from "../src/trace/index.js";
import { Timeline } from "./timeline.js";

/** `npm run demo -- --trace out.json` also writes a Chrome/Perfetto trace: one process per run. */
const traceAt = process.argv.indexOf("--trace");
const traceFile = traceAt < 0 ? undefined : process.argv[traceAt + 1];
if (traceAt >= 0 && traceFile === undefined) {
  throw new Error("--trace needs a file to write, e.g. npm run demo -- --trace out.json");
}
const recorder = traceFile === undefined ? null : traceRecorder();

/** Runs `main` as a task named "main" on a fresh scheduling loop (by default) with a virtual clock. */
function runMain<T>(
  main: (timeline: Timeline) => Coro<T>,
  loop: SchedulingVirtualEventLoop = new SchedulingVirtualEventLoop(),
): Timeline {
  const timeline = new Timeline();
  loop.runSync(loop.createTask(main(timeline), { name: "main" }));
  loop.close();
  return timeline;
}

/** Names the Task eager() made when the coroutine suspended (a done Future has no name), for the timeline. */
function named<T>(started: Future<T>, name: string): Future<T> {
  if (started instanceof Task) started.setName(name);
  return started;
}

function show(label: string, timeline: Timeline, notice: string): void {
  const last = timeline.events.at(-1)?.time ?? 0;
  console.log(`  ${label.padEnd(18)} ${timeline.order().join(" ").padEnd(30)} done at ${last} ms`);
  for (const line of timeline.render("      ")) console.log(line);
  console.log(`      notice: ${notice}`);
  console.log();
}

// 1. The seed's example: a caller starts some slow work, does its own, then waits for it.

function* work(t: Timeline): Coro<void> {
  t.mark("1");
  yield* sleep(20); // some long I/O
  t.mark("2");
}

function* caller(t: Timeline, start: (coro: Coro<void>) => Awaitable<void>): Coro<void> {
  t.mark("a");
  const pending = start(work(t));
  t.mark("b");
  yield* sleep(10); // some other I/O
  t.mark("c");
  yield* pending;
}

console.log(
  "asynkit demo: who runs when (virtual clock: no real waiting, the same output every run)",
);
console.log();
console.log(
  "1. plain vs task vs eager: the caller logs a, starts work (logs 1, waits 20 ms, logs 2),",
);
console.log("   logs b, waits 10 ms itself, logs c, then waits for the work");
console.log();

show(
  "plain coroutine",
  runMain((t) => caller(t, (coro) => coro)),
  "nothing of the work runs until the caller waits for it, so the waits add up",
);
show(
  "createTask",
  runMain((t) => caller(t, (coro) => createTask(coro, { name: "work" }))),
  "the task starts only when the caller first suspends (after b)",
);
show(
  "eager",
  runMain((t) => caller(t, (coro) => named(eager(coro), "work"))),
  "1 runs at once, inside main's call to eager(), before b: the work's task starts in main's stack",
);

// 2. Depth-first descend: a request fans out into a tree of sub-requests.

const CHILDREN: Record<string, readonly string[]> = { A: ["B", "C"], B: ["D", "E"], C: ["F", "G"] };

/**
 * How a parent starts a child: a function that returns what to wait for later,
 * or "descend" for createTaskDescend, which is itself a coroutine to `yield*`.
 */
type Start = ((coro: Coro<string[]>, name: string) => Awaitable<string[]>) | "descend";

/** A node logs its name, starts its children (leaves wait 10 ms for I/O), then logs its name in lower case. */
function* request(t: Timeline, name: string, start: Start): Coro<string[]> {
  t.mark(name);
  const children = CHILDREN[name] ?? [];
  const results: string[] = [];
  if (children.length === 0) {
    yield* sleep(10); // the leaf's I/O
    results.push(name);
  } else {
    const pending: Awaitable<string[]>[] = [];
    for (const child of children) {
      const coro = request(t, child, start);
      pending.push(
        start === "descend" ? yield* createTaskDescend(coro, { name: child }) : start(coro, child),
      );
    }
    for (const p of pending) results.push(...(yield* p));
  }
  t.mark(name.toLowerCase());
  return results;
}

console.log(
  "2. depth-first descend: request A starts B and C, B starts D and E, C starts F and G;",
);
console.log(
  "   the leaves D E F G each wait 10 ms. Capitals: a request starts; lower case: it ends",
);
console.log();

show(
  "plain coroutine",
  runMain((t) => request(t, "A", (coro) => coro)),
  "the natural order (A B D E C F G), but one leaf at a time: 40 ms",
);
show(
  "createTask",
  runMain((t) => request(t, "A", (coro, name) => createTask(coro, { name }))),
  "all leaves wait at once (10 ms), but the tree starts breadth-first: A B C D E F G",
);
show(
  "createTaskDescend",
  runMain((t) => request(t, "A", "descend")),
  "each child runs first until it waits, then its parent goes on: the natural order, in 10 ms",
);
show(
  "eager",
  runMain((t) => request(t, "A", (coro, name) => named(eager(coro), name))),
  "descend's order and timing, without a yield*: each start ran inside its parent's call to eager(), as its own task",
);

// 3. Priority inversion: a low-priority task holds a lock that a high-priority one wants.

/**
 * Low (background) takes the lock and has two more steps to go (L2, L3)
 * before it releases it; then medium (three steps, M1 to M3) and high (wants
 * the lock, then H) arrive. Main, of the best priority, only sets the scene.
 */
function* inversion(t: Timeline, lock: Lock): Coro<void> {
  currentTask()?.setPriority(-20);
  const held = new Event();
  const low = createTask(
    (function* () {
      using _ = yield* lock.hold();
      t.mark("L1");
      held.set();
      yield* sleep(0);
      t.mark("L2");
      yield* sleep(0);
      t.mark("L3");
    })(),
    { name: "low", priority: "background" },
  );
  yield* held.wait();
  const medium = createTask(
    (function* () {
      for (let step = 1; step <= 3; step++) {
        t.mark(`M${step}`);
        yield* sleep(0);
      }
    })(),
    { name: "medium" },
  );
  const high = createTask(
    (function* () {
      using _ = yield* lock.hold();
      t.mark("H");
    })(),
    { name: "high", priority: "user-blocking" },
  );
  for (const task of [low, medium, high]) yield* task;
}

console.log("3. priority inversion on a priority loop: low holds a lock and has two steps left,");
console.log("   medium has three steps, high wants the lock");
console.log();

show(
  "Lock",
  runMain((t) => inversion(t, new Lock()), new PriorityVirtualEventLoop()),
  "medium outranks low, so high waits for all of medium: inverted",
);
show(
  "PriorityLock",
  runMain((t) => inversion(t, new PriorityLock()), new PriorityVirtualEventLoop()),
  "high waiting lends low its priority: low finishes, high runs, medium comes last",
);

if (recorder !== null && traceFile !== undefined) {
  recorder.stop();
  writeFileSync(traceFile, JSON.stringify(recorder.toChromeTrace()));
  console.log(`Trace written to ${traceFile}: open it at https://ui.perfetto.dev`);
}
