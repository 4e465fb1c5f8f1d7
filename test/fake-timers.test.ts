/**
 * Fake timers (vitest's, and @sinonjs/fake-timers, which jest's are) leave
 * asynkit's loops on their own time. In a file of their own: installing them
 * replaces timers for the rest of the file. asynkit is imported here first,
 * so that vitest has transformed its modules before a test installs vitest's
 * fakes (its own module loading waits on timers); sinon's run in a process
 * of their own.
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import * as loaded from "../src/index.js";
import { type Exit, removeScripts, root, runScript } from "./child.js";
import { underFakeTimers } from "./fake-timer-program.js";

describe("vi.useFakeTimers()", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("installed before asynkit loads (a setup file), leave its loops on their own time", async () => {
    vi.useFakeTimers();
    vi.resetModules();
    const fresh = await import("../src/index.js");
    // Date is faked too: it stands still while the host loop sleeps 20 ms in real time.
    expect(await underFakeTimers(fresh)).toEqual([60_000, "host", true]);
  });

  it("installed after, the same", async () => {
    vi.useFakeTimers({
      toFake: [
        "setTimeout",
        "clearTimeout",
        "setImmediate",
        "queueMicrotask",
        "performance",
        "Date",
      ],
    });
    expect(await underFakeTimers(loaded)).toEqual([60_000, "host", true]);
  });
});

const require = createRequire(import.meta.url);

describe("@sinonjs/fake-timers", () => {
  afterAll(removeScripts);

  /**
   * A program of its own, in a process of its own: installing these fakes
   * replaces node:timers' functions, which the test runner's own worker uses.
   */
  async function underSinon(installed: "before" | "after"): Promise<Exit> {
    const asynkit = JSON.stringify(pathToFileURL(join(root, "src", "index.ts")).href);
    const sinon = JSON.stringify(pathToFileURL(require.resolve("@sinonjs/fake-timers")).href);
    const program = JSON.stringify(pathToFileURL(join(root, "test", "fake-timer-program.ts")).href);
    return runScript(
      `sinon-${installed}`,
      `import FakeTimers from ${sinon};
      const load = () => import(${asynkit});
      const loaded = ${installed === "after" ? "await load()" : "null"};
      const clock = FakeTimers.install();
      const asynkit = loaded ?? (await load());
      const { underFakeTimers } = await import(${program});
      const outcome = await underFakeTimers(asynkit);
      clock.uninstall();
      console.log(JSON.stringify(outcome));`,
    );
  }

  // Recent versions replace node:timers' and node:perf_hooks' functions too.
  it("installed before asynkit loads, leave its loops on their own time", async () => {
    const exit = await underSinon("before");
    expect(exit).toMatchObject({ code: 0, stdout: '[60000,"host",true]\n' });
  }, 30_000); // a node process of its own, as the other runScript() tests

  it("installed after, the same", async () => {
    const exit = await underSinon("after");
    expect(exit).toMatchObject({ code: 0, stdout: '[60000,"host",true]\n' });
  }, 30_000);
});

describe("node:test's mock.timers", () => {
  afterAll(removeScripts);

  it("enabled before asynkit loads, leave a VirtualEventLoop on virtual time, native tasks and all", async () => {
    // It keeps no way back to the host's setImmediate: the loops take their host turns
    // through a MessageChannel instead, which it does not fake.
    const exit = await runScript(
      "node-test-mock-before",
      `import { mock } from "node:test";
      process.removeAllListeners("warning"); // MockTimers is experimental on Node 20
      mock.timers.enable();
      const { VirtualEventLoop, createTask, sleep } = await import("asynkit");
      const loop = new VirtualEventLoop();
      const log = [];
      const result = await loop.runUntilComplete(async () => {
        const worker = createTask(async () => {
          await sleep(60_000);
          log.push(\`worker at \${loop.time()}\`);
          await new Promise((resolve) => setImmediate(resolve)); // faked: the mock's, never run
          return "never";
        });
        await sleep(60_001);
        log.push(\`main at \${loop.time()}, worker \${worker.done() ? "done" : "blocked"}\`);
        worker.cancel();
        return loop.time();
      });
      mock.timers.reset();
      console.log(JSON.stringify([...log, result]));`,
    );
    expect(exit).toMatchObject({
      code: 0,
      stdout: '["worker at 60000","main at 60001, worker blocked",60001]\n',
    });
  }, 30_000); // a node process of its own, as the other runScript() tests

  it("enabled before asynkit loads: run()'s report of a task it cannot cancel holds nothing open", async () => {
    // Its wait on the host's time looks at the clock in host turns (no timer is left to it):
    // turns through a port never ref'd, so the exit's deadlock check still comes at once.
    const exit = await runScript(
      "node-test-mock-unreached",
      `import { mock } from "node:test";
      process.removeAllListeners("warning");
      mock.timers.enable({ apis: ["setTimeout", "setImmediate"] });
      const { run } = await import("asynkit");
      await run(async () => { await new Promise(() => {}); });`,
    );
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain("DeadlockError: run(): deadlock:");
    expect(exit.stderr).not.toContain("was cancelled at run() shutdown");
  }, 30_000); // a node process of its own, as the other runScript() tests

  it("with every timer faked: thousands of host turns, a deadlock at exit, explore()'s time limit", async () => {
    // Every 16th turn went through a (faked) timer once; the watches of real time used one too.
    const exit = await runScript(
      "node-test-mock-all",
      `import { mock } from "node:test";
      process.removeAllListeners("warning");
      mock.timers.enable();
      const { VirtualEventLoop, createTask, sleep } = await import("asynkit");
      const { explore } = await import(${JSON.stringify(pathToFileURL(join(root, "src", "testing", "index.ts")).href)});
      const loop = new VirtualEventLoop();
      console.log(await loop.runUntilComplete(async () => {
        const tasks = [1, 2, 3, 4].map(() => createTask(async () => { for (let i = 0; i < 2000; i++) await sleep(1); }));
        for (const task of tasks) await task;
        return \`done at \${loop.time()}\`;
      }));
      try {
        await explore(async () => { await new Promise(() => {}); }, { timeLimitMs: 50, iterations: 3 });
      } catch (error) {
        console.log(error.message.split(":").slice(0, 3).join(":"));
      }
      try {
        await new VirtualEventLoop().runUntilComplete(async () => { await new Promise(() => {}); });
      } catch (error) {
        console.log(error.name);
      }`,
    );
    expect(exit).toMatchObject({
      code: 0,
      stdout: "done at 2000\nexplore(): iteration 0 (seed 0) failed: time limit\nDeadlockError\n",
    });
  }, 30_000); // a node process of its own, as the other runScript() tests
});
