/**
 * Benchmark driver: the same workloads in asynkit, native async/await,
 * effection, effect and (when `python3` is on PATH) CPython asyncio.
 *
 *   npm run bench -- [--rounds N] [--only switch,ping-pong] [--quick] [--json out.json]
 *
 * Each round runs every implementation once, in turn, each in a fresh child
 * process so JIT and heap state never leak between them. Per round it computes
 * the ratio to native; it reports the median value and the median ratio.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DEFAULT_OPS, JS_IMPLS, WORKLOADS, type WorkerResult, type Workload } from "./workloads.js";

const here = dirname(fileURLToPath(import.meta.url));
const CHILD_TIMEOUT_MS = 10 * 60_000;

type ImplName = (typeof JS_IMPLS)[number] | "asyncio";

interface Row {
  workload: Workload;
  impl: ImplName;
  unit: "ns/op" | "B/task";
  ops: number;
  /** One value per successful round. */
  samples: number[];
  /** Value / native's value in the same round, for rounds where both succeeded. */
  ratios: number[];
  median: number | null;
  medianRatio: number | null;
  /** Why a round failed (the implementation is then not retried for this workload). */
  error?: string;
}

function usage(message?: string): never {
  if (message) console.error(`error: ${message}`);
  console.error(
    `usage: tsx bench/run.ts [--rounds N] [--only ${WORKLOADS.join(",")}] [--quick] [--json file]`,
  );
  process.exit(2);
}

function parseCli() {
  let values: { rounds?: string; only?: string; quick?: boolean; json?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        rounds: { type: "string" },
        only: { type: "string" },
        quick: { type: "boolean" },
        json: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    usage((err as Error).message);
  }
  if (values.help) usage();
  const rounds = values.rounds === undefined ? 5 : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) usage("--rounds takes a positive integer");
  const workloads = values.only
    ? values.only.split(",").map((w) => w.trim())
    : ([...WORKLOADS] as string[]);
  for (const w of workloads) {
    if (!(WORKLOADS as readonly string[]).includes(w)) usage(`unknown workload "${w}"`);
  }
  return {
    rounds,
    workloads: workloads as Workload[],
    quick: values.quick ?? false,
    json: values.json,
  };
}

function hasPython(): string | null {
  const r = spawnSync("python3", ["--version"], { encoding: "utf8" });
  return r.status === 0 ? (r.stdout || r.stderr).trim() : null;
}

/** Runs one child process and parses the last JSON line it printed. */
function runChild(impl: ImplName, workload: Workload, ops: number): WorkerResult {
  const [cmd, args] =
    impl === "asyncio"
      ? ["python3", [join(here, "python", "asyncio_bench.py"), workload, String(ops)]]
      : [
          process.execPath,
          ["--expose-gc", "--import", "tsx", join(here, "worker.ts"), workload, impl, String(ops)],
        ];
  const r = spawnSync(cmd, args, {
    cwd: join(here, ".."), // so `--import tsx` resolves from the project
    encoding: "utf8",
    timeout: CHILD_TIMEOUT_MS,
    maxBuffer: 16 << 20,
  });
  if (r.error) return { error: r.error.message };
  const line = r.stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(line) as WorkerResult;
  } catch {
    const why = r.signal ? `killed by ${r.signal}` : `exit code ${r.status}`;
    const detail = (r.stderr.trim().split("\n").at(-1) ?? "").slice(0, 200);
    return { error: `${why}${detail ? `: ${detail}` : ""}` };
  }
}

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function fmtValue(x: number | null): string {
  if (x === null) return "-";
  return x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(1);
}

function fmtRatio(x: number | null): string {
  if (x === null) return "-";
  return `${x >= 10 ? x.toFixed(0) : x.toFixed(2)}x`;
}

function printTable(rows: readonly Row[]): void {
  const header = ["workload", "impl", "median", "unit", "ratio to native", "rounds"];
  const body = rows.map((r) => [
    r.workload,
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
  const widths = header.map((h, i) =>
    Math.max(h.length, ...body.map((b) => (i === 5 ? 0 : (b[i] ?? "").length))),
  );
  const right = new Set([2, 4]);
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join(" | ")
      .trimEnd();
  console.log(fmt(header));
  console.log(widths.map((w) => "-".repeat(w)).join("-|-"));
  for (const b of body) console.log(fmt(b));
}

function main(): void {
  const opts = parseCli();
  const python = hasPython();
  const impls: ImplName[] = [...JS_IMPLS, ...(python ? (["asyncio"] as const) : [])];
  console.error(
    `node ${process.version}, ${python ?? "python3 not found: asyncio skipped"}; ` +
      `${opts.rounds} round(s)${opts.quick ? ", quick (ops / 10)" : ""}`,
  );

  const rows: Row[] = [];
  for (const workload of opts.workloads) {
    const ops = opts.quick ? Math.max(1, DEFAULT_OPS[workload] / 10) : DEFAULT_OPS[workload];
    const unit = workload === "memory" ? "B/task" : "ns/op";
    const byImpl = new Map<ImplName, Row>();
    for (const impl of impls) {
      const row: Row = {
        workload,
        impl,
        unit,
        ops,
        samples: [],
        ratios: [],
        median: null,
        medianRatio: null,
      };
      byImpl.set(impl, row);
      rows.push(row);
    }
    const broken = new Set<ImplName>(); // failed once: not retried in this workload
    for (let round = 1; round <= opts.rounds; round++) {
      const values = new Map<ImplName, number>();
      process.stderr.write(`${workload} round ${round}/${opts.rounds}:`);
      for (const impl of impls) {
        if (broken.has(impl)) continue;
        const res = runChild(impl, workload, ops);
        const row = byImpl.get(impl)!;
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
      process.stderr.write(` ${unit}\n`);
      const base = values.get("native");
      if (base !== undefined && base > 0) {
        for (const [impl, v] of values) byImpl.get(impl)!.ratios.push(v / base);
      }
    }
    for (const row of byImpl.values()) {
      row.median = median(row.samples);
      row.medianRatio = median(row.ratios);
    }
  }

  console.log();
  printTable(rows);
  if (opts.json) {
    const report = {
      date: new Date().toISOString(),
      node: process.version,
      python,
      platform: `${process.platform} ${process.arch}`,
      rounds: opts.rounds,
      quick: opts.quick,
      results: rows,
    };
    writeFileSync(opts.json, `${JSON.stringify(report, null, 2)}\n`);
    console.error(`wrote ${opts.json}`);
  }
}

main();
