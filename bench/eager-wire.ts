/**
 * When does a request started in a coroutine reach the server: with eager()
 * or with createTask(), behind a queue of ready CPU-bound tasks? Run with
 * `npx tsx bench/eager-wire.ts`.
 *
 * A local server on 127.0.0.1 notes when each request arrives. The client
 * runs on asynkit's host loop: it makes READY_TASKS tasks that each compute
 * for 1 ms, then starts a coroutine that sends a request, and measures from
 * that call to the request's arrival at the server.
 */
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { type Coro, createTask, eager, fromPromise, run } from "../src/index.js";
import { burnCpu, percentile } from "./host-probes.js";

const READY_TASKS = [0, 200];
const ROUNDS = 15;

const arrivals = new Map<string, number>();
const server = createServer((req, res) => {
  arrivals.set(req.url ?? "", performance.now());
  res.end("ok");
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const { port } = server.address() as AddressInfo;

function get(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    request({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      res.resume();
      res.on("end", resolve);
    })
      .on("error", reject)
      .end();
  });
}

function* send(path: string): Coro<void> {
  yield* fromPromise(get(path));
}

// biome-ignore lint/correctness/useYield: a ready task that computes and ends without waiting
function* compute(): Coro<void> {
  burnCpu(1);
}

let sequence = 0;

/** Milliseconds from starting the sending coroutine to the request's arrival at the server. */
function* oneRequest(start: "eager" | "createTask", readyTasks: number): Coro<number> {
  const busy = Array.from({ length: readyTasks }, () => createTask(compute()));
  const path = `/${sequence++}`;
  const sent = performance.now();
  const sending = start === "eager" ? eager(send(path)) : createTask(send(path));
  yield* sending;
  for (const task of busy) yield* task;
  return (arrivals.get(path) ?? Number.NaN) - sent;
}

console.log(
  "| ready CPU-bound tasks (1 ms each) | started with | arrival at the server, ms (p50 / max) |",
);
console.log("| --- | --- | --- |");
for (const readyTasks of READY_TASKS) {
  const delays = { eager: [] as number[], createTask: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const start of ["eager", "createTask"] as const) {
      delays[start].push(await run(oneRequest(start, readyTasks)));
    }
  }
  for (const start of ["eager", "createTask"] as const) {
    const d = delays[start];
    console.log(
      `| ${readyTasks} | \`${start}()\` | ${percentile(d, 0.5).toFixed(1)} / ${Math.max(...d).toFixed(1)} |`,
    );
  }
}
server.close();
