/**
 * What a blocked task keeps alive, object by object: n native tasks of
 * asynkit's built package blocked on one Future, against n plain async
 * functions blocked on one promise, each in a heap snapshot of its own
 * process, summed by kind (the snapshot's node type and name) over the kinds
 * with at least n × 0.9 objects, in bytes per task. With --sleeping, what
 * the timers workload keeps alive instead: n tasks of asynkit's built
 * package made as `createTask(sleep(ms))`, against n of native's timers, each
 * a promise that a setTimeout() resolves.
 *
 *   npx tsx bench/blocked-objects.ts [n] [--sleeping]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { assertBuilt, loadAsynkit } from "./dist.js";

type Kind = "asynkit" | "native";
type Wait = "blocked" | "sleeping";

/** Delays the sleepers' snapshot is taken well within. */
const SLEEP_MS = 1_000;

/** In a child: blocks n tasks of `kind`, writes a heap snapshot to `file`, then lets them go. */
async function child(kind: Kind, wait: Wait, n: number, file: string): Promise<void> {
  const { writeHeapSnapshot } = await import("node:v8");
  const snapshot = () => {
    globalThis.gc?.();
    writeHeapSnapshot(file);
  };
  if (wait === "sleeping") return sleepers(kind, n, snapshot);
  if (kind === "native") {
    let release = (): void => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const blocked = async () => {
      await gate;
    };
    const all = Array.from({ length: n }, blocked);
    await new Promise((resolve) => setTimeout(resolve, 1));
    snapshot();
    release();
    await Promise.all(all);
    return;
  }
  const { Future, createTask, run, sleep } = await loadAsynkit();
  await run(async () => {
    const gate = new Future<void>();
    const blocked = async () => {
      await gate;
    };
    const tasks = Array.from({ length: n }, () => createTask(blocked));
    await sleep(1);
    snapshot();
    gate.setResult();
    for (const task of tasks) await task;
  });
}

/** n sleepers of `kind`, as the timers workload makes them, each due in about SLEEP_MS. */
async function sleepers(kind: Kind, n: number, snapshot: () => void): Promise<void> {
  const delay = (i: number) => SLEEP_MS + (i % 10);
  if (kind === "native") {
    const all = Array.from(
      { length: n },
      (_, i) => new Promise<void>((resolve) => setTimeout(resolve, delay(i))),
    );
    snapshot();
    await Promise.all(all);
    return;
  }
  const { createTask, run, sleep } = await loadAsynkit();
  await run(function* () {
    const tasks = Array.from({ length: n }, (_, i) => createTask(sleep(delay(i))));
    yield* sleep(1); // every sleeper's first step has run
    snapshot();
    for (const task of tasks) yield* task;
  });
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

/** Bytes per task by kind, for the kinds with at least n × 0.9 objects, largest first. */
function perTask(file: string, n: number): [string, number, number][] {
  const { snapshot, nodes, strings } = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  const fields = snapshot.meta.node_fields;
  const types = snapshot.meta.node_types[0];
  const [type, name, size] = ["type", "name", "self_size"].map((f) => fields.indexOf(f)) as [
    number,
    number,
    number,
  ];
  const kinds = new Map<string, [number, number]>();
  for (let i = 0; i < nodes.length; i += fields.length) {
    const kind = `${types[nodes[i + type] as number]} ${(strings[nodes[i + name] as number] ?? "").slice(0, 40)}`;
    const seen = kinds.get(kind) ?? [0, 0];
    seen[0]++;
    seen[1] += nodes[i + size] as number;
    kinds.set(kind, seen);
  }
  return [...kinds]
    .filter(([, [count]]) => count >= n * 0.9)
    .map(([kind, [count, bytes]]): [string, number, number] => [kind, count / n, bytes / n])
    .sort((a, b) => b[2] - a[2]);
}

function main(n: number, wait: Wait): void {
  assertBuilt();
  const dir = mkdtempSync(join(tmpdir(), "asynkit-blocked-"));
  const self = fileURLToPath(import.meta.url);
  try {
    for (const kind of ["asynkit", "native"] as const) {
      const file = join(dir, `${kind}.heapsnapshot`);
      const run = spawnSync(
        process.execPath,
        ["--expose-gc", "--import", "tsx", self, "--child", kind, wait, String(n), file],
        { encoding: "utf8" },
      );
      if (run.status !== 0) throw new Error(`${kind}: ${run.stderr}`);
      const rows = perTask(file, n);
      const total = rows.reduce((sum, [, , bytes]) => sum + bytes, 0);
      console.log(
        `${kind}: ${total.toFixed(0)} B a ${wait === "blocked" ? "blocked" : "sleeping"} task`,
      );
      for (const [what, count, bytes] of rows) {
        console.log(`  ${bytes.toFixed(1).padStart(7)} B  ${count.toFixed(2)} × ${what}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const args = process.argv.slice(2);
if (args[0] === "--child") {
  await child(args[1] as Kind, args[2] as Wait, Number(args[3]), args[4] as string);
} else {
  const sleeping = args.includes("--sleeping");
  const n = args.find((arg) => !arg.startsWith("--"));
  main(Number(n ?? 10_000), sleeping ? "sleeping" : "blocked");
}
