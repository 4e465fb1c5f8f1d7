/**
 * What one op allocates, function by function: a workload of asynkit's built
 * package and of native async/await, each in a process of its own, after
 * three warm-up runs, under V8's sampling heap profiler with the objects the
 * collector already freed counted too. Where bench/blocked-objects.ts shows
 * what a blocked task keeps alive (what each scavenge copies), this shows what
 * a task makes in all (how often the young generation fills, so how often it
 * is scavenged). A sample stands for 64 bytes, so each figure is an estimate,
 * steady to a few bytes an op at 10k ops and more. Allocations are charged to
 * the JavaScript function running when they happen: a builtin's (a promise's
 * reaction, a microtask) to its caller, inlined functions to where they ran.
 *
 *   npx tsx bench/allocations.ts <workload> [ops] [rows]
 */
import { spawnSync } from "node:child_process";
import { Session } from "node:inspector/promises";
import { fileURLToPath } from "node:url";
import { assertBuilt } from "./dist.js";
import { type Impl, WORKLOADS, type Workload } from "./workloads.js";

type Kind = "asynkit" | "native";

const SAMPLING_INTERVAL = 64;

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

/** Bytes by allocating function, summed over the profile's tree. */
function bySite(head: ProfileNode): Map<string, number> {
  const sites = new Map<string, number>();
  const visit = (node: ProfileNode): void => {
    const { functionName, url, lineNumber } = node.callFrame;
    if (node.selfSize > 0) {
      const site = `${functionName || "(anonymous)"} ${url.split("/").pop() || ""}:${lineNumber + 1}`;
      sites.set(site, (sites.get(site) ?? 0) + node.selfSize);
    }
    for (const child of node.children) visit(child);
  };
  visit(head);
  return sites;
}

/** In a child: the workload's allocations, as JSON lines of [site, bytes per op]. */
async function child(kind: Kind, workload: Workload, ops: number): Promise<void> {
  const impl = (
    (await (kind === "native" ? import("./impl/native.js") : import("./impl/asynkit.js"))) as {
      default: Impl;
    }
  ).default;
  const fn = impl[workload as keyof Impl] as
    | ((n: number, reps: number) => Promise<void>)
    | undefined;
  if (typeof fn !== "function") throw new Error(`${kind} has no ${workload} workload`);
  for (let i = 0; i < 3; i++) await fn(ops, 1);
  const session = new Session();
  session.connect();
  await session.post("HeapProfiler.enable");
  await session.post("HeapProfiler.startSampling", {
    samplingInterval: SAMPLING_INTERVAL,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  await fn(ops, 1);
  const { profile } = (await session.post("HeapProfiler.stopSampling")) as {
    profile: { head: ProfileNode };
  };
  session.disconnect();
  const sites = [...bySite(profile.head)].map(([site, bytes]) => [site, bytes / ops]);
  console.log(JSON.stringify(sites));
}

function main(workload: Workload, ops: number, rows: number): void {
  assertBuilt();
  const self = fileURLToPath(import.meta.url);
  console.log(
    `${workload}: bytes allocated per op, ${ops} ops, sampled every ${SAMPLING_INTERVAL} B`,
  );
  for (const kind of ["asynkit", "native"] as const) {
    const run = spawnSync(
      process.execPath,
      ["--import", "tsx", self, "--child", kind, workload, String(ops)],
      { encoding: "utf8" },
    );
    if (run.status !== 0) throw new Error(`${kind}: ${run.stderr}`);
    const sites = (JSON.parse(run.stdout) as [string, number][]).sort((a, b) => b[1] - a[1]);
    const total = sites.reduce((sum, [, bytes]) => sum + bytes, 0);
    console.log(`\n${kind}${kind === "asynkit" ? " (dist/)" : ""}: ${total.toFixed(0)} B per op`);
    for (const [site, bytes] of sites.slice(0, rows)) {
      console.log(`  ${bytes.toFixed(1).padStart(8)} B  ${site}`);
    }
  }
}

const args = process.argv.slice(2);
if (args[0] === "--child") {
  await child(args[1] as Kind, args[2] as Workload, Number(args[3]));
} else {
  const [workload, ops, rows] = args;
  if (!workload || !(WORKLOADS as readonly string[]).includes(workload)) {
    console.error(
      `usage: npx tsx bench/allocations.ts <workload> [ops] [rows]; workloads: ${WORKLOADS.join(", ")}`,
    );
    process.exit(2);
  }
  main(workload as Workload, Number(ops ?? 20_000), Number(rows ?? 12));
}
