/**
 * The floor under generator tasks: what switch, ping-pong, spawn-join and
 * timers cost with only what a design of generator tasks needs, and nothing
 * asynkit adds.
 * A task is a generator stepped through %GeneratorPrototype%.next from a ready
 * queue (a ring that doubles when full, new for each run as a loop is); a
 * future is a state, a value and one waiting task; `yield* future` and the
 * switch's `yield* sleep(0)` each go through an iterator object. There are no
 * contexts, cancellation, handles, observers, timers, host slices or checks
 * for misuse. Beside it, asynkit's built package and native async/await run
 * the same workloads, each in fresh processes, interleaved (floor, asynkit,
 * native, floor, …); each process reports its best of five runs (timers in
 * CPU time, as the harness times it).
 *
 *   npm run build && npx tsx bench/generator-floor.ts [rounds] [workload]
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { assertBuilt, loadAsynkit } from "./dist.js";
import { asynkitWorkloads } from "./impl/asynkit-workloads.js";
import native from "./impl/native.js";
import { median } from "./stats.js";
import { type Impl, timerDelayMs } from "./workloads.js";

type Gen = Generator<unknown, unknown, unknown>;
const generatorNext = Object.getPrototypeOf(function* () {}).prototype.next as (
  this: Gen,
) => IteratorResult<unknown, unknown>;

/** A future with one waiting task at most. */
class FloorFuture {
  settled = false;
  value: unknown = undefined;
  waiter: FloorTask | null = null;

  set(value?: unknown): void {
    this.settled = true;
    this.value = value;
    if (this.waiter !== null) queue(this.waiter);
  }

  [Symbol.iterator](): FloorWait {
    return new FloorWait(this);
  }
}

/** A task of the floor: a future of its generator's result. */
class FloorTask extends FloorFuture {
  constructor(readonly gen: Gen | FloorSleep) {
    super();
    queue(this);
  }
}

/** The iterator of one `yield* future`: yields the future once while it is pending. */
class FloorWait {
  readonly done = false;
  constructor(readonly value: FloorFuture) {}
  next(): IteratorResult<unknown, unknown> {
    if (!this.value.settled) return this;
    const value = this.value.value;
    return value === undefined ? DONE_UNDEFINED : { done: true, value };
  }
}

const DONE_UNDEFINED: IteratorResult<unknown, unknown> = { done: true, value: undefined };
const BARE_YIELD: IteratorResult<unknown, unknown> = { done: false, value: undefined };

/** `yield* sleep(0)`: a bare yield through an iterator object, as asynkit's. */
class FloorYield {
  private yielded = false;
  next(): IteratorResult<unknown, unknown> {
    if (this.yielded) return DONE_UNDEFINED;
    this.yielded = true;
    return BARE_YIELD;
  }
  [Symbol.iterator](): this {
    return this;
  }
}

/** A sleep's timer: a future settled when the floor finds it due. */
class FloorTimer extends FloorFuture {
  constructor(readonly due: number) {
    super();
  }
}

/**
 * `sleep(ms)` as a task's whole coroutine: a plain iterator, as asynkit's,
 * whose first step reads the clock, files its timer and waits on it.
 */
class FloorSleep {
  private timer: FloorTimer | null = null;
  constructor(private readonly ms: number) {}
  next(): IteratorResult<unknown, unknown> {
    if (this.timer !== null) return DONE_UNDEFINED;
    const timer = new FloorTimer(performance.now() + this.ms);
    fileTimer(timer);
    this.timer = timer;
    return { done: false, value: timer };
  }
}

/** The timers, by the millisecond they fall in, from `firstBucket` on; `timers` in all. */
let buckets: FloorTimer[][] = [];
let firstBucket = 0;
let timers = 0;

function fileTimer(timer: FloorTimer): void {
  const at = Math.floor(timer.due);
  if (timers === 0) {
    buckets = [];
    firstBucket = at;
  } else if (at < firstBucket) {
    buckets = [...Array.from({ length: firstBucket - at }, () => []), ...buckets];
    firstBucket = at;
  }
  while (buckets.length <= at - firstBucket) buckets.push([]);
  (buckets[at - firstBucket] as FloorTimer[]).push(timer);
  timers++;
}

const byDue = (a: FloorTimer, b: FloorTimer): number => a.due - b.due;

/** Settles the timers due by `now`, in the order of their deadlines; the wait for the next, in ms, if none was. */
function fireDue(now: number): number {
  let fired = 0;
  let index = 0;
  for (; index < buckets.length; index++) {
    const bucket = buckets[index] as FloorTimer[];
    if (bucket.length === 0) continue;
    bucket.sort(byDue);
    if (firstBucket + index + 1 <= now) {
      // The whole millisecond is past: all of it is due.
      for (const timer of bucket) timer.set();
      fired += bucket.length;
      continue;
    }
    // The millisecond now: what is due by now fires, the rest waits.
    let taken = 0;
    while (taken < bucket.length && (bucket[taken] as FloorTimer).due <= now) {
      (bucket[taken++] as FloorTimer).set();
    }
    bucket.splice(0, taken);
    fired += taken;
    break;
  }
  buckets = buckets.slice(index);
  firstBucket += index;
  timers -= fired;
  if (fired > 0 || timers === 0) return 0;
  return ((buckets[0] as FloorTimer[])[0] as FloorTimer).due - now;
}

/** The ready queue: `count` tasks from `head` on. */
let ring: (FloorTask | undefined)[] = [];
let head = 0;
let count = 0;

function queue(task: FloorTask): void {
  if (count === ring.length) {
    ring = [...ring.slice(head), ...ring.slice(0, head), ...new Array(ring.length)];
    head = 0;
  }
  ring[(head + count++) & (ring.length - 1)] = task;
}

/** Steps ready tasks until none is left. */
function runFloor(main: Gen): void {
  startFloor(main);
  stepReady();
}

/** Steps ready tasks, waiting on a host timer whenever only sleeping tasks are left. */
async function runFloorTimed(main: Gen): Promise<void> {
  startFloor(main);
  stepReady();
  while (timers > 0) {
    const wait = fireDue(performance.now());
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    stepReady();
  }
}

function startFloor(main: Gen): void {
  ring = new Array(16).fill(undefined);
  head = count = 0;
  buckets = [];
  timers = 0;
  new FloorTask(main);
}

function stepReady(): void {
  while (count > 0) {
    const task = ring[head] as FloorTask;
    ring[head] = undefined;
    head = (head + 1) & (ring.length - 1);
    count--;
    const gen = task.gen;
    const step = gen instanceof FloorSleep ? gen.next() : generatorNext.call(gen);
    if (step.done === true) task.set(step.value);
    else if (step.value instanceof FloorFuture) step.value.waiter = task;
    else queue(task);
  }
}

const floor: Partial<Impl> = {
  async switch(n) {
    runFloor(
      (function* () {
        for (let i = 0; i < n; i++) yield* new FloorYield();
      })(),
    );
  },

  async "ping-pong"(n) {
    let ping = new FloorFuture();
    let pong = new FloorFuture();
    runFloor(
      (function* () {
        const ponger = new FloorTask(
          (function* () {
            for (let i = 0; i < n; i++) {
              yield* ping;
              ping = new FloorFuture();
              pong.set();
            }
          })(),
        );
        for (let i = 0; i < n; i++) {
          const reply = pong;
          ping.set();
          yield* reply;
          pong = new FloorFuture();
        }
        yield* ponger;
      })(),
    );
  },

  async "spawn-join"(n) {
    runFloor(
      (function* () {
        function* child() {
          yield;
        }
        const tasks: FloorTask[] = [];
        for (let i = 0; i < n; i++) tasks.push(new FloorTask(child()));
        for (const t of tasks) yield* t;
      })(),
    );
  },

  async timers(n) {
    await runFloorTimed(
      (function* () {
        const tasks: FloorTask[] = [];
        for (let i = 0; i < n; i++) tasks.push(new FloorTask(new FloorSleep(timerDelayMs())));
        for (const t of tasks) yield* t;
      })(),
    );
  },
};

const SIZES = {
  switch: 1_000_000,
  "ping-pong": 200_000,
  "spawn-join": 100_000,
  timers: 100_000,
} as const;
type Workload = keyof typeof SIZES;
const IMPLS = ["floor", "asynkit", "native"] as const;

/** ns of CPU time, the process's threads' all. */
function cpuTime(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1000;
}

function wallTime(): number {
  return Number(process.hrtime.bigint());
}

/** Best ns/op of five runs after a warm-up of a tenth, in this process. */
async function measure(impl: (typeof IMPLS)[number], workload: Workload): Promise<number> {
  const run = (
    impl === "floor"
      ? floor[workload]
      : impl === "native"
        ? native[workload]
        : asynkitWorkloads(await loadAsynkit())[workload]
  ) as (n: number, reps: number) => Promise<unknown>;
  const n = SIZES[workload];
  for (let i = 0; i < 3; i++) await run(n / 10, 1);
  let best = Number.POSITIVE_INFINITY;
  const clock = workload === "timers" ? cpuTime : wallTime;
  for (let round = 0; round < 5; round++) {
    const start = clock();
    await run(n, 1);
    best = Math.min(best, (clock() - start) / n);
  }
  return best;
}

const [mode, impl, workload] = process.argv.slice(2);
if (mode === "--worker") {
  console.log((await measure(impl as (typeof IMPLS)[number], workload as Workload)).toFixed(1));
} else {
  assertBuilt();
  const rounds = Number(mode ?? 5);
  const self = fileURLToPath(import.meta.url);
  const only = process.argv[3] as Workload | undefined;
  if (only !== undefined && !(only in SIZES))
    throw new Error(`no workload ${only}: ${Object.keys(SIZES)}`);
  for (const w of only === undefined ? (Object.keys(SIZES) as Workload[]) : [only]) {
    const figures = new Map<string, number[]>(IMPLS.map((i) => [i, []]));
    for (let round = 0; round < rounds; round++) {
      for (const i of IMPLS) {
        const child = spawnSync(process.execPath, ["--import", "tsx", self, "--worker", i, w], {
          encoding: "utf8",
        });
        if (child.status !== 0) throw new Error(`${i} ${w}: ${child.stderr}`);
        figures.get(i)?.push(Number(child.stdout.trim()));
      }
    }
    const nativeMedian = median(figures.get("native") ?? []);
    const cells = IMPLS.map((i) => {
      const m = median(figures.get(i) ?? []);
      return `${i} ${m.toFixed(0)} ns/op (${(m / nativeMedian).toFixed(2)}x)`;
    });
    console.log(`${w}@${SIZES[w]}: ${cells.join(", ")}`);
  }
}
