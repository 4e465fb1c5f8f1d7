/**
 * Before/after check for a hot-path change, in instructions rather than time:
 * each build runs the workload under valgrind's callgrind, which counts the
 * instructions the process executes. On a shared VM whose speed drifts by
 * ±15% between runs, a change of a few percent never shows in the wall clock
 * (builds.ts); the count moves by about 1–2% between runs of one build, and
 * now and then a run is several percent off (when the collector runs still
 * varies: one eager run of eight, +7%), so give each build three runs.
 *
 * The count includes start-up, compilation and garbage collection; what
 * differs between two builds is their own work. The loop's clock is made
 * deterministic (each read advances 10 µs), so that time slices end after
 * the same handles in every run; and V8 compiles on the main thread
 * (`--single-threaded`), so the count does not depend on thread timing.
 * Counts are not time: memory stalls cost nothing here, so measure changes
 * in what a task keeps alive with the memory workload instead.
 *
 *   npm run build && npx tsx bench/instructions.ts <workload> <ops> <dist> <dist> …
 *
 * e.g. `npx tsx bench/instructions.ts spawn-join 100000 /tmp/before/dist dist dist`.
 *
 * With `--by-function`, where the instructions of one op go, for asynkit
 * (dist/) and native async/await side by side: each runs the workload at
 * `ops` and at three times `ops`, and the difference between the two, per
 * op, is what an op costs without start-up and compilation. Functions are
 * named through the map of compiled code Node writes with `--perf-basic-prof`.
 *
 *   npx tsx bench/instructions.ts --by-function <workload> <ops> [rows] [--callers-of <name>] [--misses]
 *
 * With `--callers-of`, also the calls per op into the functions whose name
 * contains `name`, by calling function: e.g. `Builtins_RecordWriteSaveFP`,
 * the collector's write barrier, which V8 calls for a store of a new object
 * into an old one, and for every store of a pointer while it marks.
 *
 * With `--misses`, also the data misses per op of the first-level cache and
 * of the last-level one (reads and writes: D1mr + D1mw, DLmr + DLmw), by
 * function: callgrind simulates this machine's caches (`--cache-sim=yes`; two
 * levels, so the first-level misses stand for the traffic to L2), so a
 * workload whose instructions match native's but whose time does not shows
 * where it waits on memory. The simulation runs about twice as long.
 *
 * Needs valgrind (Debian: `apt-get install valgrind`); a run of spawn-join at
 * 100k takes about a minute and a half.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { difference, type Profile, readCallers, readProfile } from "./callgrind.js";
import { TIMED_WORKLOADS } from "./workloads.js";

const RUNS = 4;
/**
 * Not depth (it takes a second size). timers waits on the host for its delays,
 * which costs no instructions: its count is the loop's work, as for the rest.
 */
const HARNESS = TIMED_WORKLOADS.filter((w) => w !== "depth");
/**
 * Workloads of this tool alone, written into the worker below:
 * - async-spawn-join-no-await: native tasks whose functions never await
 *   (builds.ts's), against plain async functions that never await;
 * - mixed-futures, asynkit only: a program that makes futures of many kinds
 *   (a Semaphore's and an Event's waits, waitFor, gather, shield, sleeps),
 *   then ops sleeping tasks, each of a generator function of its own. Its
 *   count falls when the code that makes a future stops being megamorphic;
 * - task-subclass, asynkit only: spawn-join whose tasks a TaskFactory makes,
 *   of a Task subclass without fields of its own.
 */
const EXTRA = ["async-spawn-join-no-await", "mixed-futures", "task-subclass"] as const;
const ASYNKIT_ONLY: readonly string[] = ["mixed-futures", "task-subclass"];
const COUNTED = [...HARNESS, ...EXTRA];

/**
 * The process valgrind runs: plain JavaScript, since a TypeScript loader's
 * thread would add its own, varying count. It runs the workload RUNS times on
 * a clock that advances 10 µs a read. Arguments: the bundle of the
 * implementation's workloads, dist (asynkit) or "native", workload, ops.
 */
const WORKER = `
let clock = 0;
// The class of the host's performance object, which asynkit reads the clock through; and the
// object itself, which builds before 5fa6f64 read.
const { performance } = process.getBuiltinModule("node:perf_hooks");
Object.getPrototypeOf(performance).now = performance.now = () => (clock += 0.01);
const [workloads, dist, workload, ops] = process.argv.slice(2);
const extra = {
  "async-spawn-join-no-await": {
    native: async (n) => {
      const all = [];
      for (let i = 0; i < n; i++) all.push((async () => {})());
      for (const p of all) await p;
    },
    asynkit: ({ createTask, run }) => (n) =>
      run(async () => {
        const tasks = [];
        for (let i = 0; i < n; i++) tasks.push(createTask(async () => {}));
        for (const t of tasks) await t;
      }),
  },
  "mixed-futures": {
    asynkit: (a) => (n) =>
      a.run(function* () {
        const loop = a.getRunningLoop();
        for (let r = 0; r < 50; r++) {
          const semaphore = new a.Semaphore(1);
          const event = new a.Event();
          const waiters = [];
          for (let i = 0; i < 20; i++) {
            waiters.push(a.createTask((function* () {
              yield* semaphore.acquire();
              yield* a.sleep(0);
              semaphore.release();
              yield* event.wait();
            })()));
          }
          const future = new a.Future();
          loop.callLater(1, () => future.setResult(1));
          yield* a.waitFor(future, 100);
          event.set();
          yield* a.gather(...waiters);
          yield* a.shield(a.createTask(a.sleep(0)));
        }
        const sleepers = [];
        for (let i = 0; i < n; i++) sleepers.push(a.createTask((function* () { yield* a.sleep(i % 10); })()));
        for (const t of sleepers) yield* t;
      }),
  },
  "task-subclass": {
    asynkit: (a) => {
      class NamedTask extends a.Task {}
      return (n) =>
        a.run(function* () {
          a.getRunningLoop().setTaskFactory((loop, coro, options) => new NamedTask(coro, { ...options, loop }));
          function* child() { yield; }
          const tasks = [];
          for (let i = 0; i < n; i++) tasks.push(a.createTask(child()));
          for (const t of tasks) yield* t;
        });
    },
  },
}[workload];
const run = extra !== undefined
  ? dist === "native" ? extra.native : extra.asynkit(await import(dist))
  : dist === "native"
    ? (await import(workloads)).default[workload]
    : (await import(workloads)).asynkitWorkloads(await import(dist))[workload];
for (let i = 0; i < ${RUNS}; i++) await run(Number(ops), 1);
`;

const USAGE =
  "usage: npx tsx bench/instructions.ts <workload> <ops> <dist> <dist> …\n" +
  "       npx tsx bench/instructions.ts --by-function <workload> <ops> [rows] [--callers-of <name>] [--misses]";

function usage(message: string): never {
  console.error(`error: ${message}`);
  console.error(USAGE);
  process.exit(2);
}

const byFunction = process.argv[2] === "--by-function";
const args = process.argv.slice(byFunction ? 3 : 2);
const callersAt = args.indexOf("--callers-of");
const callee = callersAt < 0 ? undefined : args.splice(callersAt, 2)[1];
if (callersAt >= 0 && (callee === undefined || !byFunction)) {
  usage("--callers-of takes a function's name, with --by-function");
}
const missesAt = args.indexOf("--misses");
const misses = missesAt >= 0;
if (misses) args.splice(missesAt, 1);
if (misses && !byFunction) usage("--misses goes with --by-function");
/** The cache misses --misses counts, of data read and written: the first level's, the last level's. */
const MISSES = { "first-level": ["D1mr", "D1mw"], "last-level": ["DLmr", "DLmw"] } as const;
type Level = keyof typeof MISSES;
const [workload, opsText, ...rest] = args;
const ops = Number(opsText);
if (workload === undefined || !(ops >= 1)) usage("name a workload and a number of ops");
if (!(COUNTED as readonly string[]).includes(workload)) {
  usage(`"${workload}" is not one of ${COUNTED.join(", ")}`);
}
if (!byFunction && rest.length === 0) usage("name at least one dist/ folder");

const dir = mkdtempSync(join(tmpdir(), "asynkit-instructions-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const worker = join(dir, "worker.mjs");
writeFileSync(worker, WORKER);

/** The workloads of `impl/<name>.ts` as one plain JavaScript module. */
async function bundle(name: string): Promise<string> {
  const outfile = join(dir, `${name}.mjs`);
  await build({
    entryPoints: [fileURLToPath(new URL(`impl/${name}.ts`, import.meta.url))],
    bundle: true,
    format: "esm",
    platform: "node",
    outfile,
    logLevel: "error",
  });
  return pathToFileURL(outfile).href;
}

/** Runs the worker under callgrind; `extra` goes to valgrind, `nodeFlags` to node. */
function callgrind(
  args: string[],
  extra: string[],
  nodeFlags: string[],
): { count: number; pid: number } {
  const child = spawnSync(
    "valgrind",
    [
      "--tool=callgrind",
      ...extra,
      process.execPath,
      "--single-threaded",
      ...nodeFlags,
      worker,
      ...args,
    ],
    { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
  );
  if (child.error !== undefined) usage(`valgrind: ${child.error.message}`);
  const count = /Collected : (\d+)/.exec(child.stderr)?.[1];
  if (child.status !== 0 || count === undefined) {
    usage(`${args[1]}: ${child.stderr.trim().split("\n").at(-1) ?? `exit ${child.status}`}`);
  }
  return { count: Number(count), pid: child.pid as number };
}

/**
 * Instructions by function for `RUNS` runs of `n` ops, calls into `callee` by
 * caller, and with --misses the data misses of each cache level by function.
 */
function profileOf(
  workloads: string,
  dist: string,
  n: number,
): { profile: Profile; callers: Profile; misses: Partial<Record<Level, Profile>> } {
  const out = join(dir, `callgrind-${dist === "native" ? "native" : "asynkit"}-${n}.out`);
  const { pid } = callgrind(
    [workloads, dist, workload as string, String(n)],
    ["--dump-instr=yes", `--callgrind-out-file=${out}`, ...(misses ? ["--cache-sim=yes"] : [])],
    // --perf-basic-prof also writes V8's log, per isolate, in the working directory: keep it in dir.
    [
      "--perf-basic-prof",
      "--interpreted-frames-native-stack", // interpreted functions named too, not one trampoline
      "--no-logfile-per-isolate",
      `--logfile=${join(dir, "v8.log")}`,
    ],
  );
  const map = `/tmp/perf-${pid}.map`;
  if (!existsSync(map)) usage(`node wrote no ${map} for --perf-basic-prof`);
  try {
    return {
      profile: readProfile(out, map),
      callers: callee === undefined ? new Map() : readCallers(out, map, callee),
      misses: misses
        ? (Object.fromEntries(
            Object.entries(MISSES).map(([level, events]) => [level, readProfile(out, map, events)]),
          ) as Record<Level, Profile>)
        : {},
    };
  } finally {
    rmSync(map, { force: true });
    rmSync(out, { force: true });
  }
}

/** Prints the functions that count the most per op: instructions, or calls. */
function report(title: string, perOp: Profile, rows: number): void {
  const total = [...perOp.values()].reduce((sum, n) => sum + n, 0);
  console.log(`\n${title}: ${total.toFixed(total < 100 ? 2 : 0)} per op`);
  const top = [...perOp].sort((a, b) => b[1] - a[1]).slice(0, rows);
  for (const [fn, n] of top) {
    console.log(
      `${n.toFixed(n < 100 ? 2 : 0).padStart(8)} ${((100 * n) / total).toFixed(1).padStart(5)}%  ${fn}`,
    );
  }
}

/** `large` minus `small`, per op of the difference in ops between them. */
function perOpOf(large: Profile, small: Profile, ops: number): Profile {
  const perOp: Profile = new Map();
  for (const [fn, n] of difference(large, small)) perOp.set(fn, n / (RUNS * 2 * ops));
  return perOp;
}

if (byFunction) {
  const rows = Number(rest[0] ?? 20);
  const dist = pathToFileURL(resolve("dist", "index.js")).href;
  const impls: [string, string, string][] = [
    ["asynkit (dist/)", await bundle("asynkit-workloads"), dist],
  ];
  if (!ASYNKIT_ONLY.includes(workload)) impls.push(["native", await bundle("native"), "native"]);
  console.log(
    `${workload}: instructions per op, from ${RUNS} runs of ${ops} and of ${3 * ops} ops`,
  );
  for (const [name, workloads, which] of impls) {
    const small = profileOf(workloads, which, ops);
    const large = profileOf(workloads, which, 3 * ops);
    report(`${name}, instructions`, perOpOf(large.profile, small.profile, ops), rows);
    if (callee !== undefined) {
      report(`${name}, calls into ${callee}`, perOpOf(large.callers, small.callers, ops), rows);
    }
    for (const level of Object.keys(large.misses) as Level[]) {
      const perOp = perOpOf(large.misses[level] as Profile, small.misses[level] as Profile, ops);
      report(`${name}, ${level} data misses`, perOp, rows);
    }
  }
} else {
  const workloads = await bundle("asynkit-workloads");
  for (const dist of rest) {
    const href = pathToFileURL(resolve(dist, "index.js")).href;
    const { count } = callgrind(
      [workloads, href, workload, String(ops)],
      ["--callgrind-out-file=/dev/null"],
      [],
    );
    const millions = (count / 1e6).toFixed(0);
    console.log(`${workload} ${dist}: ${millions}M instructions (${RUNS} runs of ${ops})`);
  }
}
