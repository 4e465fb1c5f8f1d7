/**
 * HostEventLoop on Node, in real time: it never starves the host, wakes when
 * a native promise settles, and leaves no host timer behind when it stops.
 * These are the few tests that use the wall clock, with short waits.
 */
import { createHook } from "node:async_hooks";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, afterEach, describe, expect, it, onTestFinished, vi } from "vitest";
import {
  CancelledError,
  type Coro,
  createTask,
  fromPromise,
  getRunningLoop,
  HostEventLoop,
  run,
  sleep,
} from "../src/index.js";
import { removeScripts, root, runScript } from "./child.js";

afterAll(removeScripts);

/**
 * Watches the host timers (setTimeout/setInterval) that asynkit's own code arms from now on:
 * alive() counts those still alive that keep the process up. Not the process's count of
 * timers, which the test runner's own come and go in: it once fell by one during a test on a
 * loaded machine, and one of the runner's armed meanwhile would raise it.
 */
function watchAsynkitTimers(): { armed(): number; alive(): number; stop(): void } {
  const src = join(root, "src");
  // _destroyed is Node's own mark of a timer that fired or was cleared: the destroy hook
  // comes later, in a host turn of its own.
  type Timer = { hasRef(): boolean; _destroyed: boolean };
  const armed = new Map<number, Timer>();
  let count = 0;
  const hook = createHook({
    init(asyncId, type, _triggerAsyncId, resource) {
      if (type !== "Timeout") return;
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 50;
      const stack = new Error().stack ?? "";
      Error.stackTraceLimit = limit;
      if (stack.includes(src)) {
        armed.set(asyncId, resource as Timer);
        count++;
      }
    },
    destroy(asyncId) {
      armed.delete(asyncId);
    },
  }).enable();
  return {
    // So a test can check the watch saw asynkit's timers at all: alive() is 0 otherwise too.
    armed: () => count,
    alive: () => [...armed.values()].filter((t) => !t._destroyed && t.hasRef()).length,
    stop: () => void hook.disable(),
  };
}

/** A task that switches with sleep(0) until `until()` holds, or gives up after `maxMs` of real time. */
function* spinUntil(until: () => boolean, maxMs = 2000): Coro<number> {
  const start = performance.now();
  let switches = 0;
  while (!until() && performance.now() - start < maxMs) {
    yield* sleep(0);
    switches++;
  }
  return switches;
}

describe("HostEventLoop never starves the host", () => {
  it("a task that yields with sleep(0) forever does not block a host setTimeout callback", async () => {
    let fired = false;
    const switches = await run(function* () {
      // 50 ms, not 5: the switches are counted in real time, and on a loaded machine the
      // process may hold the CPU for a fraction of 5 ms (19 switches once). A sleep(0) that
      // waited for a host timer (1 ms or more) would still make fewer than 100 in 50 ms.
      setTimeout(() => {
        fired = true;
      }, 50);
      return yield* spinUntil(() => fired);
    });
    expect(fired).toBe(true);
    expect(switches).toBeGreaterThan(100);
  });

  it("nor a native promise callback", async () => {
    let resolved = false;
    await run(function* () {
      const spinner = createTask(spinUntil(() => resolved));
      void Promise.resolve()
        .then(() => undefined)
        .then(() => {
          resolved = true;
        });
      return yield* spinner;
    });
    expect(resolved).toBe(true);
  });

  it("nor host I/O-like macrotasks (setImmediate)", async () => {
    let ran = false;
    await run(function* () {
      setImmediate(() => {
        ran = true;
      });
      yield* spinUntil(() => ran);
    });
    expect(ran).toBe(true);
  });
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  vi.resetModules();
});

/** A host without Node's builtin modules (a browser): asynkit takes its timers from the globals. */
function withoutBuiltinModules(): void {
  vi.spyOn(process, "getBuiltinModule").mockReturnValue(undefined as never);
}

/**
 * With the host's globals as the test stubbed them: whether a host timer due
 * in 5 ms fires within 2 s while a freshly loaded asynkit spins `sleep(0)`.
 */
async function hostTimerFiresWhileSpinning(): Promise<boolean> {
  vi.resetModules();
  const fresh = await import("../src/index.js");
  let fired = false;
  await fresh.run(function* () {
    setTimeout(() => {
      fired = true;
    }, 5);
    const start = performance.now();
    while (!fired && performance.now() - start < 2000) yield* fresh.sleep(0);
  });
  return fired;
}

describe("yielding to hosts without setImmediate (browsers)", () => {
  for (const missing of [["setImmediate"], ["setImmediate", "MessageChannel"]]) {
    it(`still lets a host timer run with no ${missing.join(" and no ")}`, async () => {
      withoutBuiltinModules();
      for (const name of missing) vi.stubGlobal(name, undefined);
      expect(await hostTimerFiresWhileSpinning()).toBe(true);
    });
  }
});

describe("a process-style host without setImmediate", () => {
  it("exits once the run is over: the port it yields through listens only while a yield is pending", async () => {
    const asynkit = pathToFileURL(join(root, "src", "index.ts")).href;
    const exit = await runScript(
      "port-keepalive",
      `(process as { getBuiltinModule?: unknown }).getBuiltinModule = undefined;
(globalThis as { setImmediate?: unknown }).setImmediate = undefined;
const { run, sleep } = await import(${JSON.stringify(asynkit)});
const steps = await run(function* () {
  let n = 0;
  const end = performance.now() + 30; // slices of 5 ms: the loop yields to the host through the port
  while (performance.now() < end) { n++; yield* sleep(0); }
  return n > 0;
});
console.log("run over", steps);
`,
    );
    expect(exit).toEqual({ code: 0, stdout: "run over true\n", stderr: "" });
  }, 30_000);
});

describe("yielding through a MessageChannel that delivers before the host's timers", () => {
  it("still lets a host timer run: every 16th yield goes through a timer", async () => {
    // A port that delivers its messages before any timer can run (as Node's
    // delivers up to 1,000 in a row): only the timers in between let one in.
    class EagerPort {
      onmessage: (() => void) | null = null;
      peer: EagerPort | null = null;
      postMessage(): void {
        const target = this.peer;
        queueMicrotask(() => target?.onmessage?.());
      }
    }
    class EagerChannel {
      port1 = new EagerPort();
      port2 = new EagerPort();
      constructor() {
        this.port2.peer = this.port1;
      }
    }
    withoutBuiltinModules();
    vi.stubGlobal("setImmediate", undefined);
    vi.stubGlobal("MessageChannel", EagerChannel);
    expect(await hostTimerFiresWhileSpinning()).toBe(true);
  });
});

describe("waking up", () => {
  it("fromPromise wakes an idle loop as soon as the promise settles", async () => {
    let settledAt = 0;
    const resumedAt = await run(function* () {
      yield* fromPromise(
        new Promise<void>((resolve) =>
          setTimeout(() => {
            settledAt = performance.now();
            resolve();
          }, 20),
        ),
      );
      return performance.now();
    });
    expect(settledAt).toBeGreaterThan(0);
    expect(resumedAt - settledAt).toBeLessThan(10);
  });

  it("a sleep that comes due while other entries are ready wakes its task after what they schedule", async () => {
    const log: string[] = [];
    await run(function* () {
      const loop = getRunningLoop();
      const sleeper = createTask(
        (function* (): Coro<void> {
          yield* sleep(1);
          log.push("sleeper");
        })(),
      );
      const spinner = createTask(
        (function* (): Coro<void> {
          const until = performance.now() + 5;
          while (performance.now() < until); // the sleep comes due while this step runs
          loop.callSoon(() => {
            log.push("X");
            loop.callSoon(() => log.push("Y"));
          });
          yield;
          log.push("spinner");
        })(),
      );
      yield* sleeper;
      yield* spinner;
    });
    // The sleep's timer runs in the iteration after X and the spinner, so its task steps
    // after Y, which X queued in that iteration.
    expect(log).toEqual(["X", "spinner", "Y", "sleeper"]);
  });

  it("a callback scheduled from host code wakes a parked loop", async () => {
    const loop = new HostEventLoop();
    const log: string[] = [];
    const done = loop.runForever();
    setTimeout(() => {
      loop.callSoon(() => {
        log.push("woken");
        loop.stop();
      });
    }, 5);
    await done;
    loop.close();
    expect(log).toEqual(["woken"]);
  });

  it("a wakeup from host code drops the host timer the parked loop armed for a far timer", async () => {
    const loop = new HostEventLoop();
    const hostTimer = () => (loop as unknown as { _hostTimer: unknown })._hostTimer;
    let far = false;
    loop.callLater(60_000, () => {
      far = true;
    });
    const done = loop.runForever();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(hostTimer()).not.toBeNull();
    setTimeout(() => loop.callSoon(() => loop.stop()), 1);
    await done;
    expect(hostTimer()).toBeNull();
    loop.close();
    expect(far).toBe(false);
  });

  it("a timer added from host code to a parked loop fires on time", async () => {
    const loop = new HostEventLoop();
    const done = loop.runForever();
    let firedAfter = -1;
    setTimeout(() => {
      const start = loop.time();
      loop.callLater(10, () => {
        firedAfter = loop.time() - start;
        loop.stop();
      });
    }, 1);
    await done;
    loop.close();
    expect(firedAfter).toBeGreaterThanOrEqual(9);
    expect(firedAfter).toBeLessThan(200);
  });

  it("sleep waits in real time on the host loop's monotonic clock", async () => {
    const loop = new HostEventLoop();
    const t0 = loop.time();
    const elapsed = await loop.runUntilComplete(
      (function* () {
        yield* sleep(15);
        return loop.time() - t0;
      })(),
    );
    loop.close();
    expect(elapsed).toBeGreaterThanOrEqual(14);
    expect(loop.time()).toBeGreaterThanOrEqual(t0);
  });
});

describe("the host clock", () => {
  it("falls back to Date.now() where the host has no performance.now()", async () => {
    withoutBuiltinModules();
    vi.stubGlobal("performance", undefined);
    vi.resetModules();
    const { now } = await import("../src/util/clock.js");
    const before = Date.now();
    const t = now();
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(Date.now());
  });
});

describe("no dangling host timer", () => {
  it("after run() whose leftover task had a long sleep, no host timer keeps the process alive", async () => {
    const timers = watchAsynkitTimers();
    onTestFinished(timers.stop);
    let cancelled = false;
    let loop: HostEventLoop | null = null;
    await run(function* () {
      loop = getRunningLoop() as HostEventLoop;
      createTask(
        (function* () {
          try {
            yield* sleep(60_000);
          } finally {
            cancelled = true;
          }
        })(),
      );
      yield* sleep(1);
    });
    expect(cancelled).toBe(true);
    expect((loop as unknown as { _hostTimer: unknown })._hostTimer).toBeNull();
    expect([timers.armed() > 0, timers.alive()]).toEqual([true, 0]);
  });

  it("after run() whose main was cancelled mid-sleep by its signal, no host timer is left", async () => {
    const timers = watchAsynkitTimers();
    onTestFinished(timers.stop);
    const controller = new AbortController();
    setTimeout(() => controller.abort("enough"), 5);
    let loop: HostEventLoop | null = null;
    await expect(
      run(
        function* () {
          loop = getRunningLoop() as HostEventLoop;
          yield* sleep(60_000);
        },
        { signal: controller.signal },
      ),
    ).rejects.toThrow(CancelledError);
    expect((loop as unknown as { _hostTimer: unknown })._hostTimer).toBeNull();
    expect(loop!.isClosed()).toBe(true);
    expect([timers.armed() > 0, timers.alive()]).toEqual([true, 0]);
  });

  it("after runUntilComplete with a far timer still scheduled, the loop holds no host timer", async () => {
    const timers = watchAsynkitTimers();
    onTestFinished(timers.stop);
    const loop = new HostEventLoop();
    await loop.runUntilComplete(
      (function* () {
        loop.callLater(60_000, () => {});
        yield* sleep(1);
      })(),
    );
    expect([timers.armed() > 0, timers.alive()]).toEqual([true, 0]);
    loop.close();
    expect([timers.armed() > 0, timers.alive()]).toEqual([true, 0]);
  });

  it("a timer further away than setTimeout allows does not fire early", async () => {
    const loop = new HostEventLoop();
    let fired = false;
    loop.callLater(2 ** 33, () => {
      fired = true;
    });
    loop.callLater(5, () => loop.stop());
    await loop.runForever();
    loop.close();
    expect(fired).toBe(false);
  });
});
