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

describe("on a host without Node (a browser)", () => {
  it("runs tasks, eager starts, virtual time and yields to the host's timers", async () => {
    const script = await bundled(program, "browser");
    const reported = new Promise<string[]>((resolve) => {
      const context = createContext({
        setTimeout,
        clearTimeout,
        queueMicrotask,
        MessageChannel,
        performance,
        report: resolve,
      });
      expect(runInContext("typeof process + typeof setImmediate", context)).toBe(
        "undefinedundefined",
      );
      runInContext(script, context);
    });
    expect(await reported).toEqual([
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
});
