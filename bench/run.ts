/**
 * Benchmark driver: the same workloads in asynkit (the built package, dist/),
 * native async/await, effection, effect and (when `python3` is on PATH)
 * CPython asyncio.
 *
 *   npm run bench -- [--mode fresh|single|both] [--rounds N] [--only switch,spawn-join@1M]
 *                    [--quick] [--markdown] [--json out.json] [--node-flags="--max-semi-space-size=64"]
 *
 * fresh: each round runs every implementation once, in turn, each in a fresh
 * child process so JIT and heap state never leak between them. single: native
 * and asynkit in one child process per workload and size, in interleaved rounds
 * after a warm-up of each. Either way it computes each round's ratio to native
 * and reports the median value and the median ratio. --node-flags are passed
 * to every JavaScript worker, native's and asynkit's alike (e.g. a larger
 * young generation: see docs/benchmarks.md, "The young generation").
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { assertBuilt } from "./dist.js";
import {
  type Case,
  casesOf,
  FLAT_MAX,
  FLAT_WORKLOADS,
  goalOf,
  type ImplName,
  JS_IMPLS,
  runsCase,
  WORKLOADS,
  type WorkerResult,
} from "./workloads.js";

const here = dirname(fileURLToPath(import.meta.url));
const CHILD_TIMEOUT_MS = 10 * 60_000;
const MODES = ["fresh", "single", "both"] as const;
type Mode = "fresh" | "single";

interface Row extends Case {
  impl: ImplName;
  unit: "ns/op" | "B/task";
  /** One value per successful round. */
  samples: number[];
  /** Value / native's value in the same round, for rounds where both succeeded. */
  ratios: number[];
  median: number | null;
  medianRatio: number | null;
  /** Why a round failed (the implementation is then not retried for this case). */
  error?: string;
}

function usage(message?: string): never {
  if (message) console.error(`error: ${message}`);
  console.error(
    "usage: tsx bench/run.ts [--mode fresh|single|both] [--rounds N] [--quick] [--markdown]\n" +
      `         [--json file] [--only workload[@size],…]   (workloads: ${WORKLOADS.join(", ")};\n` +
      "         sizes as the tables show them, e.g. spawn-join@1M, ping-pong@200k, depth@D=100)\n" +
      '         [--node-flags="<flags for every JavaScript worker>"]',
  );
  process.exit(2);
}

function parseCli() {
  let values: {
    rounds?: string;
    only?: string;
    quick?: boolean;
    json?: string;
    mode?: string;
    markdown?: boolean;
    "node-flags"?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      options: {
        rounds: { type: "string" },
        only: { type: "string" },
        quick: { type: "boolean" },
        json: { type: "string" },
        mode: { type: "string" },
        markdown: { type: "boolean" },
        "node-flags": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    usage((err as Error).message);
  }
  if (values.help) usage();
  const quick = values.quick ?? false;
  const rounds = values.rounds === undefined ? (quick ? 3 : 5) : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) usage("--rounds takes a positive integer");
  const mode = values.mode ?? "both";
  if (!(MODES as readonly string[]).includes(mode)) usage(`--mode takes ${MODES.join(", ")}`);
  return {
    rounds,
    cases: selectCases(values.only, quick),
    modes: (mode === "both" ? ["fresh", "single"] : [mode]) as Mode[],
    quick,
    markdown: values.markdown ?? false,
    json: values.json,
    nodeFlags: (values["node-flags"] ?? "").split(" ").filter((flag) => flag !== ""),
  };
}

/** The cases `--only` names (a workload: all its sizes; `workload@size`: that one). */
function selectCases(only: string | undefined, quick: boolean): Case[] {
  const all = WORKLOADS.flatMap((w) => casesOf(w, quick));
  if (!only) return all;
  const picked = new Set<Case>();
  for (const token of only.split(",").map((t) => t.trim())) {
    const [workload, size] = token.split("@");
    const matches = all.filter((c) => c.workload === workload && (!size || c.size === size));
    if (matches.length === 0) {
      const sizes = all.filter((c) => c.workload === workload).map((c) => c.size);
      usage(
        sizes.length === 0
          ? `unknown workload "${workload}"`
          : `${workload} has no size "${size}" (it has ${sizes.join(", ")})`,
      );
    }
    for (const c of matches) picked.add(c);
  }
  return all.filter((c) => picked.has(c));
}

function hasPython(): string | null {
  const r = spawnSync("python3", ["--version"], { encoding: "utf8" });
  return r.status === 0 ? (r.stdout || r.stderr).trim() : null;
}

/** Runs one child process and parses the last JSON line it printed. */
function runChild<T>(cmd: string, args: string[]): T | { error: string } {
  const r = spawnSync(cmd, args, {
    cwd: join(here, ".."), // so `--import tsx` resolves from the project
    encoding: "utf8",
    timeout: CHILD_TIMEOUT_MS,
    maxBuffer: 16 << 20,
  });
  if (r.error) return { error: r.error.message };
  const line = r.stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(line) as T;
  } catch {
    const why = r.signal ? `killed by ${r.signal}` : `exit code ${r.status}`;
    const detail = (r.stderr.trim().split("\n").at(-1) ?? "").slice(0, 200);
    return { error: `${why}${detail ? `: ${detail}` : ""}` };
  }
}

/** `node [flags] --expose-gc --import tsx bench/worker.ts <mode> <who> <workload> <ops> <reps> [depth]`. */
function worker(c: Case, mode: Mode, who: string, flags: string[]): [string, string[]] {
  const depth = c.depth === undefined ? [] : [String(c.depth)];
  const job = [c.workload, String(c.ops), String(c.reps), ...depth];
  return [
    process.execPath,
    [...flags, "--expose-gc", "--import", "tsx", join(here, "worker.ts"), mode, who, ...job],
  ];
}

function runFreshChild(impl: ImplName, c: Case, flags: string[]): WorkerResult {
  if (impl === "asyncio") {
    const script = join(here, "python", "asyncio_bench.py");
    return runChild("python3", [script, c.workload, String(c.ops), String(c.reps)]);
  }
  return runChild(...worker(c, "fresh", impl, flags));
}

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function newRow(c: Case, impl: ImplName): Row {
  const unit = c.workload === "memory" ? "B/task" : "ns/op";
  return { ...c, impl, unit, samples: [], ratios: [], median: null, medianRatio: null };
}

function finish(rows: Iterable<Row>): void {
  for (const row of rows) {
    row.median = median(row.samples);
    row.medianRatio = median(row.ratios);
  }
}

function fmtValue(x: number | null): string {
  if (x === null) return "-";
  return x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(1);
}

function fmtRatio(x: number | null): string {
  if (x === null) return "-";
  return `${x >= 10 ? x.toFixed(0) : x.toFixed(2)}x`;
}

/** Every implementation in turn, each round, each run in a fresh process. */
function measureFresh(c: Case, impls: readonly ImplName[], rounds: number, flags: string[]): Row[] {
  const byImpl = new Map<ImplName, Row>();
  for (const impl of impls) if (runsCase(impl, c)) byImpl.set(impl, newRow(c, impl));
  const broken = new Set<ImplName>(); // failed once: not retried for this case
  for (let round = 1; round <= rounds; round++) {
    const values = new Map<ImplName, number>();
    process.stderr.write(`fresh ${c.workload}@${c.label} round ${round}/${rounds}:`);
    for (const [impl, row] of byImpl) {
      if (broken.has(impl)) continue;
      const res = runFreshChild(impl, c, flags);
      if ("error" in res) {
        row.error = res.error;
        broken.add(impl);
        process.stderr.write(` ${impl} failed (${res.error})`);
        continue;
      }
      const v = "nsPerOp" in res ? res.nsPerOp : res.bytesPerTask;
      values.set(impl, v);
      row.samples.push(v);
      process.stderr.write(` ${impl} ${fmtValue(v)}`);
    }
    process.stderr.write(` ${byImpl.get("native")?.unit}\n`);
    const base = values.get("native");
    if (base !== undefined && base > 0) {
      for (const [impl, v] of values) byImpl.get(impl)!.ratios.push(v / base);
    }
  }
  finish(byImpl.values());
  return [...byImpl.values()];
}

/** Native and asynkit in one process, interleaved rounds. */
function measureSingle(c: Case, rounds: number, flags: string[]): Row[] {
  const native = newRow(c, "native");
  const asynkit = newRow(c, "asynkit");
  process.stderr.write(`single ${c.workload}@${c.label}, ${rounds} rounds:`);
  const res = runChild<{ native: number[]; asynkit: number[] }>(
    ...worker(c, "single", String(rounds), flags),
  );
  if ("error" in res) {
    native.error = asynkit.error = res.error;
    process.stderr.write(` failed (${res.error})\n`);
  } else {
    native.samples = res.native;
    asynkit.samples = res.asynkit;
    native.ratios = res.native.map(() => 1);
    asynkit.ratios = res.asynkit.map((v, i) => v / res.native[i]!);
    process.stderr.write(
      ` native ${native.samples.map(fmtValue).join(" ")}; asynkit ${asynkit.samples.map(fmtValue).join(" ")}\n`,
    );
  }
  finish([native, asynkit]);
  return [native, asynkit];
}

function printTable(title: string, rows: readonly Row[]): void {
  const header = ["workload", "size", "impl", "median", "unit", "ratio to native", "rounds"];
  const body = rows.map((r) => [
    r.workload,
    r.label,
    r.impl,
    fmtValue(r.median),
    r.unit,
    fmtRatio(r.medianRatio),
    !r.error
      ? `${r.samples.length}`
      : r.samples.length === 0
        ? `error: ${r.error}`
        : `${r.samples.length}, then error: ${r.error}`,
  ]);
  const last = header.length - 1;
  const widths = header.map((h, i) =>
    Math.max(h.length, ...body.map((b) => (i === last ? 0 : (b[i] ?? "").length))),
  );
  const right = new Set([3, 5]);
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join(" | ")
      .trimEnd();
  console.log(`\n${title}\n`);
  console.log(fmt(header));
  console.log(widths.map((w) => "-".repeat(w)).join("-|-"));
  for (const b of body) console.log(fmt(b));
}

/** A median at this size over the best size of the same workload and implementation (flat workloads). */
function vsBestSize(row: Row, rows: readonly Row[]): number | null {
  if (!FLAT_WORKLOADS.includes(row.workload) || row.median === null) return null;
  const medians = rows
    .filter((r) => r.impl === row.impl && r.workload === row.workload && r.median !== null)
    .map((r) => r.median!);
  return row.median / Math.min(...medians);
}

/** The goals table: asynkit against native, per case, with the goal and whether it is met. */
function printMarkdown(title: string, rows: readonly Row[]): void {
  const header = ["workload", "size", "unit", "asynkit", "native", "ratio", "goal", "met?"];
  // Native's own growth beside asynkit's: the collector's work on many live tasks grows both.
  header.push(`per task vs best size (≤ ${FLAT_MAX}x)`, "native's, per task vs best size");
  const right = new Set([3, 4, 5, 8, 9]);
  const asynkitRows = rows.filter((r) => r.impl === "asynkit");
  const body = asynkitRows.map((a) => {
    const native = rows.find(
      (r) => r.impl === "native" && r.workload === a.workload && r.size === a.size,
    );
    const goal = goalOf(a);
    const ratio = a.medianRatio;
    const flat = vsBestSize(a, rows);
    const nativeFlat = native === undefined ? null : vsBestSize(native, rows);
    return [
      a.workload,
      a.label,
      a.unit,
      fmtValue(a.median),
      fmtValue(native?.median ?? null),
      fmtRatio(ratio),
      goal ? `≤ ${goal.maxRatio.toFixed(1)}x` : "",
      goal && ratio !== null ? (ratio <= goal.maxRatio ? "yes" : "no") : "",
      flat === null ? "" : `${fmtRatio(flat)} ${flat <= FLAT_MAX ? "yes" : "no"}`,
      nativeFlat === null ? "" : fmtRatio(nativeFlat),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(" | ")} |`;
  const rule = widths.map((w, i) => (right.has(i) ? `${"-".repeat(w - 1)}:` : "-".repeat(w)));
  console.log(`\n${title}\n`);
  console.log(line(header));
  console.log(`| ${rule.join(" | ")} |`);
  for (const b of body) console.log(line(b));
}

const TITLES: Record<Mode, string> = {
  fresh: "Fresh processes (one child process per implementation and round)",
  single: "Single process (native and asynkit interleaved in one process per case)",
};

function main(): void {
  assertBuilt();
  const opts = parseCli();
  const python = opts.modes.includes("fresh") ? hasPython() : null;
  const impls: ImplName[] = [...JS_IMPLS, ...(python ? (["asyncio"] as const) : [])];
  console.error(
    `node ${process.version}, ${python ?? "python3 not found or not needed: asyncio skipped"}; ` +
      `${opts.rounds} round(s)${opts.quick ? ", quick (ops / 10)" : ""}; mode ${opts.modes.join(" + ")}` +
      (opts.nodeFlags.length > 0 ? `; node flags ${opts.nodeFlags.join(" ")}` : ""),
  );

  const results: Partial<Record<Mode, Row[]>> = {};
  for (const mode of opts.modes) {
    results[mode] = opts.cases.flatMap((c) =>
      mode === "fresh"
        ? measureFresh(c, impls, opts.rounds, opts.nodeFlags)
        : measureSingle(c, opts.rounds, opts.nodeFlags),
    );
  }
  for (const mode of opts.modes) printTable(TITLES[mode], results[mode]!);
  if (opts.markdown) {
    for (const mode of opts.modes) printMarkdown(`${TITLES[mode]}: goals`, results[mode]!);
  }
  if (opts.json) {
    const report = {
      date: new Date().toISOString(),
      node: process.version,
      python,
      platform: `${process.platform} ${process.arch}`,
      rounds: opts.rounds,
      quick: opts.quick,
      nodeFlags: opts.nodeFlags,
      results,
    };
    writeFileSync(opts.json, `${JSON.stringify(report, null, 2)}\n`);
    console.error(`wrote ${opts.json}`);
  }
}

main();
