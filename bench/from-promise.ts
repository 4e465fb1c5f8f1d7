/**
 * What a task pays to wait for host I/O, the path of a server's handlers:
 * 64 tasks each wait 2,000 times for a host promise (a setImmediate()
 * promise, which settles in the host's next turn), on one HostEventLoop;
 * in CPU time per wait, beside plain async functions doing the same awaits,
 * interleaved in one process:
 *
 *   npm run build && npx tsx bench/from-promise.ts [rounds]
 *
 * - generator: `yield* fromPromise(p)` in a generator task, each wait a
 *   Future that wakes its task through the loop;
 * - native task: `await p` in an async function task, which the loop leaves
 *   to the host (the task counts as blocked on the host until it settles);
 * - plain: `await p` in plain async functions, no loop.
 *
 * Prints the best and the median round of each, and their ratio to plain.
 */
import { setImmediate as hostTurn } from "node:timers/promises";
import { assertBuilt, loadAsynkit } from "./dist.js";
import { median } from "./stats.js";

assertBuilt();
const { HostEventLoop, fromPromise } = await loadAsynkit();

const TASKS = 64;
const WAITS = 2000;
const rounds = Number(process.argv[2] ?? 9);

const loop = new HostEventLoop();

function generatorTasks(): Promise<unknown> {
  return Promise.all(
    Array.from({ length: TASKS }, () =>
      loop.submit(
        (function* () {
          for (let i = 0; i < WAITS; i++) yield* fromPromise(hostTurn());
        })(),
      ),
    ),
  );
}

function nativeTasks(): Promise<unknown> {
  return Promise.all(
    Array.from({ length: TASKS }, () =>
      loop.submit(async () => {
        for (let i = 0; i < WAITS; i++) await hostTurn();
      }),
    ),
  );
}

function plain(): Promise<unknown> {
  return Promise.all(
    Array.from({ length: TASKS }, async () => {
      for (let i = 0; i < WAITS; i++) await hostTurn();
    }),
  );
}

const cases: [string, () => Promise<unknown>][] = [
  ["plain", plain],
  ["generator", generatorTasks],
  ["native task", nativeTasks],
];

/** CPU time of one run, in ns per wait (the process's, all threads). */
async function timed(body: () => Promise<unknown>): Promise<number> {
  const start = process.cpuUsage();
  await body();
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / (TASKS * WAITS);
}

const times = new Map<string, number[]>(cases.map(([name]) => [name, []]));
for (let round = -2; round < rounds; round++) {
  for (const [name, body] of cases) {
    const ns = await timed(body);
    if (round >= 0) times.get(name)?.push(ns); // two warm-up rounds
  }
}
await loop.shutdown();

const plainMedian = median(times.get("plain") as number[]);
console.log(
  `${TASKS} tasks x ${WAITS} waits for a host promise, ${rounds} rounds, CPU ns per wait`,
);
for (const [name, xs] of times) {
  const m = median(xs);
  console.log(
    `${name.padEnd(12)} best ${Math.min(...xs).toFixed(0)}  median ${m.toFixed(0)}  median/plain ${(m / plainMedian).toFixed(2)}x`,
  );
}
