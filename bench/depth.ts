/**
 * How deep coroutines can nest before the default stack overflows: nested
 * `yield*`, nested `yield* eager()` (asynkit, the built package) and, for
 * reference, nested `await` of async functions (native).
 *
 *   npm run bench:depth          # = npm run build && tsx bench/depth.ts
 *
 * Each probe runs in a fresh child process (`node --import tsx bench/depth.ts
 * --probe <kind> <depth>`, default stack size, code not yet optimised, as in a
 * program's first call): a chain `depth` levels deep is started in a task, its
 * innermost level suspends once and is resumed, and the probe prints "ok" or
 * the error. The driver doubles the depth until a probe fails, then bisects to
 * within 0.5%.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Coro } from "../src/index.js";
import { assertBuilt, loadAsynkit } from "./dist.js";

const KINDS = {
  "yield*": "nested `yield* f()` (asynkit)",
  eager: "nested `yield* eager(f())` (asynkit)",
  await: "nested `await f()` (native async functions)",
} as const;
type Kind = keyof typeof KINDS;

const PROBE_TIMEOUT_MS = 60_000;

async function probe(kind: Kind, depth: number): Promise<void> {
  if (kind === "await") {
    const level = async (d: number): Promise<void> => {
      if (d > 1) await level(d - 1);
      else await undefined;
    };
    return level(depth);
  }
  const { eager, run, sleep } = await loadAsynkit();
  function* level(d: number): Coro<void> {
    if (d <= 1) yield* sleep(0);
    else if (kind === "eager") yield* eager(level(d - 1));
    else yield* level(d - 1);
  }
  await run(level(depth));
}

/** Runs one probe in a fresh process: true when the chain ran to its end. */
function fits(kind: Kind, depth: number): boolean {
  const script = fileURLToPath(import.meta.url);
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", script, "--probe", kind, String(depth)],
    {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      encoding: "utf8",
      timeout: PROBE_TIMEOUT_MS,
    },
  );
  const out = r.stdout.trim();
  if (out === "ok") return true;
  if (out.includes("RangeError")) return false;
  throw new Error(`probe ${kind} at depth ${depth} failed: ${out || r.stderr.trim() || r.signal}`);
}

/** The largest depth that fits: doubling, then bisection to within 0.5%. */
function maxDepth(kind: Kind): number {
  let lo = 1;
  let hi = 256;
  while (fits(kind, hi)) {
    lo = hi;
    hi *= 2;
  }
  while (hi - lo > Math.max(1, lo / 200)) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(kind, mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

async function main(): Promise<void> {
  const [flag, kind, depth] = process.argv.slice(2);
  if (flag === "--probe") {
    try {
      await probe(kind as Kind, Number(depth));
      console.log("ok");
    } catch (err) {
      console.log(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
    }
    process.exit(0);
  }
  assertBuilt();
  console.error(`node ${process.version}, default stack size; each probe a fresh process`);
  const rows = Object.entries(KINDS).map(([k, what]) => {
    const max = maxDepth(k as Kind);
    process.stderr.write(`${what}: ${max}\n`);
    return [what, max.toLocaleString("en-US")] as const;
  });
  const width = Math.max(...rows.map(([what]) => what.length));
  console.log(`\n${"nesting".padEnd(width)} | max depth`);
  console.log(`${"-".repeat(width)}-|----------`);
  for (const [what, max] of rows) console.log(`${what.padEnd(width)} | ${max.padStart(9)}`);
}

await main();
