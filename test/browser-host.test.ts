/**
 * A host with no Node in it (a browser): no `process`, no `setImmediate`, no
 * builtin modules; only what getting-started.md names, queueMicrotask and
 * setTimeout, with MessageChannel and performance beside them. The package,
 * bundled for the browser as a user's bundler would, runs a program there.
 */
import { createContext, runInContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { bundled } from "./child.js";

/** The program: generator and native tasks, eager(), virtual time, and a host timer during a spin. */
const program = `
import { createTask, eager, gather, Lock, run, sleep, VirtualEventLoop } from "./src/index.ts";
(async () => {
  const log = [];
  function* child(name) { log.push(name + "1"); yield* sleep(1); log.push(name + "2"); return name; }
  log.push("gather " + (await run(function* () { return yield* gather(eager(child("a")), createTask(child("b"))); })));
  const loop = new VirtualEventLoop();
  await loop.runUntilComplete(async () => {
    const lock = new Lock();
    const worker = async (name) => {
      await lock.acquire();
      try { await sleep(60_000); log.push(name + "@" + loop.time()); } finally { lock.release(); }
    };
    await gather(createTask(() => worker("x")), createTask(() => worker("y")));
  });
  let fired = false;
  setTimeout(() => { fired = true; }, 5);
  await run(function* () {
    const end = performance.now() + 2000;
    while (!fired && performance.now() < end) yield* sleep(0);
  });
  log.push("host timer ran during a spin: " + fired);
  report(log);
})().catch((error) => report([String(error && error.stack || error)]));
`;

/** Runs `source`, bundled for the browser, in a context with only a browser's globals: what it reports. */
async function runInBrowserHost(
  source: string,
  clock: { now(): number } = performance,
): Promise<string[]> {
  const script = await bundled(source, "browser");
  return new Promise<string[]>((resolve) => {
    const context = createContext({
      setTimeout,
      clearTimeout,
      queueMicrotask,
      MessageChannel,
      performance: clock,
      report: resolve,
    });
    expect(runInContext("typeof process + typeof setImmediate", context)).toBe(
      "undefinedundefined",
    );
    runInContext(script, context);
  });
}

/** Debug mode's word on a native task's host await, on a loop given the asyncLocalStorage option. */
const hostAwaitLint = `
import { createTask, getRunningLoop, run } from "./src/index.ts";
(async () => {
  const said = [];
  await run(async () => {
    getRunningLoop().setExceptionHandler((_loop, context) => {
      if (context.message.includes("awaited a promise")) said.push(context.message); // not a slow step of a busy machine
    });
    await createTask(async () => {
      await new Promise((resolve) => setTimeout(resolve, 50)); // long enough for the loop to find it blocked
    });
  }, { debug: true, asyncLocalStorage: true });
  report(said);
})().catch((error) => report([String(error && error.stack || error)]));
`;

/** Debug mode's polling lint, on the clock the host gives. */
const pollingLint = `
import { getRunningLoop, run, sleep } from "./src/index.ts";
(async () => {
  const said = [];
  await run(function* () {
    getRunningLoop().setExceptionHandler((_loop, context) => {
      if (context.message.includes("polls")) said.push(context.message);
    });
    for (let polls = 0; said.length === 0 && polls < 20000; polls++) yield* sleep(0);
  }, { debug: true });
  report(said);
})().catch((error) => report([String(error && error.stack || error)]));
`;

/** A browser's performance.now() without cross-origin isolation: 100 µs ticks. */
const coarseClock = { now: () => Math.floor(performance.now() * 10) / 10 };

describe("on a host without Node (a browser)", () => {
  it("runs tasks, eager starts, virtual time and yields to the host's timers", async () => {
    expect(await runInBrowserHost(program)).toEqual([
      "a1",
      "b1",
      "a2",
      "b2",
      "gather a,b",
      "x@60000",
      "y@120000",
      "host timer ran during a spin: true",
    ]);
  }, 30_000);

  it("debug mode names a poller on a clock of 100 µs ticks, where steps of a microsecond sometimes span one", async () => {
    expect(await runInBrowserHost(pollingLint, coarseClock)).toEqual([
      '<Task pending name="Task-1"> was woken 1000 times in a row with nothing to wait for: it polls, where it could wait on an Event or a Future',
    ]);
  }, 30_000);

  it("debug mode still names a host await with the asyncLocalStorage option, which has no async context to follow", async () => {
    expect(await runInBrowserHost(hostAwaitLint)).toEqual([
      "<Task pending name=\"Task-2\"> awaited a promise the loop did not make (a host API, Promise.all() or Promise.race()) in its step 0: this host has no async context for the asyncLocalStorage option to follow, so the function's code after that await runs outside the task and the loop's order, where currentTask() and createTask() find no loop, or another task's step running, and a cancel() or a timeout reaches it only through taskSignal() until the function ends. Await host promises through fromPromise() and tasks through gather() or wait(). Said once a loop.",
    ]);
  }, 30_000);
});
