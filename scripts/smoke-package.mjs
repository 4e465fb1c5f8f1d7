// Imports the built package by its name, from a folder outside the project, through
// package.json "exports": what a user gets after `npm install asynkit`. Both from an ES
// module and from CommonJS (require() of the ES module, one instance for both), and
// type-checked from a TypeScript ES module and a TypeScript CommonJS module. require()
// refuses a module graph with top-level await, so this also keeps it out of src/.
import { execFileSync, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { SourceMap } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dir = mkdtempSync(join(tmpdir(), "asynkit-smoke-"));
try {
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(root, join(dir, "node_modules", "asynkit"), "dir");
  writeFileSync(
    join(dir, "main.mjs"),
    `import { createRequire } from "node:module";
import { run, sleep, createTask, Event, VirtualEventLoop } from "asynkit";
import { explore, choose } from "asynkit/testing";
import { traceRecorder } from "asynkit/trace";
const log = [];
function* child() { log.push("child"); yield* sleep(5); return 2; }
const value = await run(function* () { const t = createTask(child()); log.push("main"); return (yield* t) * 21; });
const virtual = new VirtualEventLoop().runSync(sleep(60000, "virtual"));
// require() must give this very module, not a second copy with its own classes and loop slot.
const required = createRequire(import.meta.url)("asynkit");
if (required.VirtualEventLoop !== VirtualEventLoop) throw new Error("require() loaded a second copy");
// The testing entry point shares the main one's classes: its loops run the main entry's tasks.
const explored = await explore(function* () { yield* sleep(choose(2)); }, { strategy: "dfs" });
if (createRequire(import.meta.url)("asynkit/testing").explore !== explore) throw new Error("require() loaded a second asynkit/testing");
// The trace entry point hears the main entry's loops.
const loop = new VirtualEventLoop();
const rec = traceRecorder(loop);
loop.runSync(sleep(5));
rec.stop();
if (createRequire(import.meta.url)("asynkit/trace").traceRecorder !== traceRecorder) throw new Error("require() loaded a second asynkit/trace");
// Slices: the two steps of the sleep's task, its wait, and on the loop's track the sleep's timer and the run's stop.
const traced = rec.toChromeTrace().traceEvents.filter((e) => e.ph === "B").length;
// In debug mode the task tree shows where a task suspended: this file's frame, none of the package's.
const debugged = new VirtualEventLoop();
debugged.setDebug(true);
function* stuck(gate) { yield* gate.wait(); }
let tree = "";
debugged.runSync((function* () { const gate = new Event(); createTask(stuck(gate)); yield* sleep(1); tree = debugged.dumpTasks(); gate.set(); })());
const frames = tree.split("\\n").filter((line) => line.trim().startsWith("at "));
const suspendedAt = frames.map((line) => line.trim().replace(/ \\(.*\\/(main\\.mjs):\\d+:\\d+\\)$/, " $1"));
console.log(JSON.stringify({ value, log, virtual, schedules: explored.schedules, traced, suspendedAt }));
`,
  );
  writeFileSync(
    join(dir, "main.cjs"),
    `const { run, sleep, createTask } = require("asynkit");
const log = [];
function* child() { log.push("child"); yield* sleep(5); return 2; }
run(function* () { const t = createTask(child()); log.push("main"); return (yield* t) * 21; }).then(
  (value) => console.log(JSON.stringify({ value, log })),
);
`,
  );
  // The published declarations must stand on their own: type-check a consumer against them.
  writeFileSync(
    join(dir, "consumer.ts"),
    `import { run, createTask, sleep, type Coro, type Task, BoundMonitor, DeadlockError, Handle, TaskGroup, TaskTimeout, TimerHandle, Token } from "asynkit";
import { explore, ExploreError, type ExploreReport } from "asynkit/testing";
import { traceRecorder, type ChromeTrace } from "asynkit/trace";
export const trace: ChromeTrace = traceRecorder().toChromeTrace();
// Made only by the library: the declarations refuse new, whose object would be broken.
export const made = [
  // @ts-expect-error
  new Handle(),
  // @ts-expect-error
  new TimerHandle(),
  // @ts-expect-error
  new TaskTimeout(),
  // @ts-expect-error
  new Token(),
  // @ts-expect-error
  new BoundMonitor(),
  // @ts-expect-error
  new DeadlockError("m"),
  // @ts-expect-error
  new ExploreError("m"),
  // @ts-expect-error
  new TaskGroup(),
];
export const narrowed = (e: unknown): boolean => e instanceof DeadlockError || e instanceof ExploreError;
function* child(): Coro<number> { yield* sleep(1); return 1; }
export const result: Promise<number> = run(function* () { const t: Task<number> = createTask(child()); return yield* t; });
export const report: Promise<ExploreReport> = explore(child, { strategy: "pct", depth: 2 });
`,
  );
  // A CommonJS module compiled by TypeScript: its import becomes require() of the ES module,
  // which TypeScript accepts from 5.8 on with "module": "nodenext" (or "node20").
  writeFileSync(
    join(dir, "consumer-cjs.cts"),
    `import { run, sleep, type Coro } from "asynkit";
function* main(): Coro<number> { yield* sleep(1); return 42; }
run(main()).then((value: number) => console.log(JSON.stringify({ value })));
`,
  );
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: "NodeNext",
        moduleResolution: "NodeNext",
        target: "ES2022",
        lib: ["ES2023", "ESNext.Disposable", "DOM"],
        types: [],
        skipLibCheck: false,
        outDir: "out",
      },
      files: ["consumer.ts", "consumer-cjs.cts"],
    }),
  );
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", dir], {
    stdio: "inherit",
  });
  checkTooOldCompiler(dir);
  const runs = [
    [
      "main.mjs",
      {
        value: 42,
        log: ["main", "child"],
        virtual: "virtual",
        schedules: 2,
        traced: 5,
        suspendedAt: ["at stuck main.mjs"],
      },
    ],
    ["main.cjs", { value: 42, log: ["main", "child"] }],
    ["out/consumer-cjs.cjs", { value: 42 }],
  ];
  for (const [file, expected] of runs) {
    const out = execFileSync(process.execPath, [file], { cwd: dir, encoding: "utf8" }).trim();
    if (out !== JSON.stringify(expected))
      throw new Error(
        `package smoke test, ${file}: expected ${JSON.stringify(expected)}, got ${out}`,
      );
  }
  // The protected constructors scripts/internal-constructors.mjs adds keep the declaration
  // maps right: go-to-definition on a member below one lands on that member in src/.
  const declared = readFileSync(join(root, "dist/errors.d.ts"), "utf8").split("\n");
  const at = declared.findIndex((line) => line.includes("readonly tasks:"));
  const map = new SourceMap(JSON.parse(readFileSync(join(root, "dist/errors.d.ts.map"), "utf8")));
  const found = map.findEntry(at, declared[at].indexOf("readonly"));
  const source = readFileSync(join(root, "src/errors.ts"), "utf8").split("\n")[found.originalLine];
  if (!source?.includes("readonly tasks:"))
    throw new Error(
      `package smoke test: dist/errors.d.ts.map maps DeadlockError.tasks to "${source}"`,
    );
  console.log(
    "package smoke test: asynkit, asynkit/testing and asynkit/trace import, require and type-check by name from another folder",
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * A compiler older than the declarations need takes compat/'s stand-in, so
 * every import fails. TypeScript 5.5 is fetched from the registry once, into
 * node_modules/.cache (not a dev dependency: its `tsc` would take the place of
 * the project's); offline, the check says it was skipped.
 */
function checkTooOldCompiler(dir) {
  const cache = join(root, "node_modules/.cache/typescript-5.5");
  const tsc = join(cache, "node_modules/typescript/bin/tsc");
  if (!existsSync(tsc)) {
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const install = spawnSync(
      npm,
      ["install", "--prefix", cache, "--no-save", "--no-audit", "--no-fund", "typescript@5.5.4"],
      { encoding: "utf8" },
    );
    if (install.status !== 0 || !existsSync(tsc)) {
      console.log(
        "package smoke test: TypeScript 5.5 could not be installed, so its check was skipped",
      );
      return;
    }
  }
  const tooOld = spawnSync(process.execPath, [tsc, "-p", dir, "--noEmit"], { encoding: "utf8" });
  if (
    !tooOld.stdout.includes("consumer.ts(1,") ||
    !tooOld.stdout.includes("has no exported member")
  ) {
    throw new Error(
      `package smoke test: TypeScript 5.5 did not refuse asynkit's imports:\n${tooOld.stdout}`,
    );
  }
}
