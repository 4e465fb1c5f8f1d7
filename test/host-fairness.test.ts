/**
 * HostEventLoop is fair to the host whatever its steps cost: the host gets a
 * turn after every time slice (5 ms) plus the step running when it ends.
 * Timing tests with generous bounds; vitest.config.ts runs this file alone,
 * after the others, and its tests one at a time.
 */
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  burnCpu,
  countTicks,
  type Latencies,
  type Probes,
  percentile,
  startProbes,
  startSpinners,
} from "../bench/host-probes.js";
import { createTask, fromPromise, HostEventLoop, run, sleep } from "../src/index.js";

/** Logs "host" at each turn of the host (a chain of setImmediate) until the function it returns is called. */
function logHostTurns(log: string[]): () => void {
  let running = true;
  const host = () => {
    log.push("host");
    if (running) setImmediate(host);
  };
  setImmediate(host);
  return () => {
    running = false;
  };
}

/** The entries of `log` between its "host" entries: what each slice of the loop ran. */
function perSlice(log: string[]): string[][] {
  const slices: string[][] = [[]];
  for (const entry of log) {
    if (entry === "host") slices.push([]);
    else slices[slices.length - 1]?.push(entry);
  }
  return slices;
}

describe.sequential("HostEventLoop gives the host a turn every slice", () => {
  let probes: Probes;
  beforeAll(async () => {
    probes = await startProbes();
  });
  afterAll(() => probes.close());

  // The two measurements: a pause of the whole process (preempted by another process on a
  // shared machine, or a long garbage collection) can spoil one run, so each gets three tries.
  it("a 5 ms host setInterval keeps firing while 10 tasks run 100 steps of 1 ms CPU each", {
    retry: 2,
  }, async () => {
    function* worker() {
      for (let i = 0; i < 100; i++) {
        burnCpu(1);
        yield* sleep(0);
      }
    }
    const { ticks, elapsedMs, cpuMs } = await countTicks(5, () =>
      run(function* () {
        const tasks = Array.from({ length: 10 }, () => createTask(worker()));
        for (const task of tasks) yield* task;
      }),
    );
    expect(elapsedMs).toBeGreaterThanOrEqual(1000);
    // On a machine shared with other busy processes, slices end by the clock while the
    // process waits for the CPU: count only the time it ran.
    expect(ticks).toBeGreaterThanOrEqual((0.6 * Math.min(elapsedMs, cpuMs)) / 5);
  });

  // Its measurement may take up to 10 s (its maxMs): the test's timeout must be longer, or a
  // timed-out try leaves its 10,000 spinners running through the next tries and tests.
  it("host timers, immediates and HTTP requests wait under 20 ms (p99) while 10,000 tasks switch", {
    retry: 2,
    timeout: 30_000,
  }, async () => {
    const spinners = await startSpinners(10_000);
    let latencies: Latencies;
    let switches: number;
    try {
      latencies = await probes.measure(200, 10_000);
      switches = spinners.switches();
    } finally {
      await spinners.stop();
    }
    expect(switches).toBeGreaterThan(100_000);
    // Waits stretch when the process waits for a CPU that other processes hold: count only
    // the time it ran during each (a step that held the host back ran all that time).
    const { running } = latencies;
    for (const delays of [running.timeout, running.immediate, running.http]) {
      expect(delays).toHaveLength(200);
      expect(percentile(delays, 0.99)).toBeLessThan(20);
    }
  });

  it("a slice ends after the step that passes its deadline, in the middle of an iteration, which resumes in order", async () => {
    const loop = new HostEventLoop();
    const log: string[] = [];
    for (let i = 0; i < 5; i++) {
      loop.callSoon(() => {
        burnCpu(2);
        log.push(String(i));
      });
    }
    setImmediate(() => {
      log.push("host");
      loop.callSoon(() => {
        log.push("scheduled by the host");
        loop.stop();
      });
    });
    await loop.runForever();
    loop.close();
    // Each callback takes 2 ms: the 5 ms slice ends after the third at the latest.
    const host = log.indexOf("host");
    expect(host).toBeGreaterThanOrEqual(1);
    expect(host).toBeLessThanOrEqual(3);
    expect(log.filter((entry) => entry !== "host")).toEqual([
      "0",
      "1",
      "2",
      "3",
      "4",
      "scheduled by the host",
    ]);
  });

  it("tasks woken from microtasks again and again (awaits of settled promises) still let the host in", async () => {
    const started = performance.now();
    let firedAt = -1;
    let stop = false;
    await run(function* () {
      const spinners = [1, 2, 3].map(() =>
        createTask(
          (function* () {
            // Each wait parks the loop, and the promise's callback wakes it in a microtask.
            while (!stop && performance.now() - started < 500) {
              yield* sleep(0);
              yield* fromPromise(Promise.resolve());
            }
          })(),
        ),
      );
      setTimeout(() => {
        firedAt = performance.now() - started;
        stop = true;
      }, 10);
      for (const spinner of spinners) yield* spinner;
    });
    expect(firedAt).toBeGreaterThanOrEqual(9);
    expect(firedAt).toBeLessThan(100);
  });

  it.each([false, true])(
    "a native task awaiting fromPromise() of settled promises again and again lets the host and its neighbours in (asyncLocalStorage: %s)",
    async (asyncLocalStorage) => {
      const started = performance.now();
      let firedAt = -1;
      const log: string[] = [];
      await run(
        async () => {
          const neighbour = createTask(async () => {
            while (firedAt < 0 && performance.now() - started < 1000) {
              log.push("neighbour");
              await sleep(0);
            }
          });
          // Long enough for both to take turns however slow the first slice (under coverage).
          setTimeout(() => {
            firedAt = performance.now() - started;
          }, 50);
          // The promise's reaction runs before the await's then(): the task takes a turn, as a
          // generator task's yield* would find the future pending and wait.
          while (firedAt < 0 && performance.now() - started < 1000) {
            log.push("await");
            await fromPromise(Promise.resolve());
          }
          await neighbour;
        },
        { asyncLocalStorage },
      );
      expect(firedAt).toBeGreaterThanOrEqual(49);
      expect(firedAt).toBeLessThan(250);
      expect(log.length).toBeGreaterThanOrEqual(2);
      expect(log).toEqual(log.map((_, i) => (i % 2 === 0 ? "await" : "neighbour")));
    },
  );

  it("in debug mode too", async () => {
    const loop = new HostEventLoop();
    loop.setDebug(true);
    const log: string[] = [];
    for (let i = 0; i < 5; i++) {
      loop.callSoon(() => {
        burnCpu(2);
        log.push(String(i));
      });
    }
    setImmediate(() => log.push("host"));
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    loop.close();
    const host = log.indexOf("host");
    expect(host).toBeGreaterThanOrEqual(1);
    expect(host).toBeLessThanOrEqual(3);
    expect(log.filter((entry) => entry !== "host")).toEqual(["0", "1", "2", "3", "4"]);
  });

  it("watched (debug mode, a channel subscriber), one task yielding alone lets the host in every slice", async () => {
    for (const watch of ["debug", "channel"]) {
      const loop = new HostEventLoop();
      const listener = () => {};
      if (watch === "channel") subscribe("asynkit:task.done", listener);
      if (watch === "debug") loop.setDebug(true);
      let hostRan = false;
      setTimeout(() => {
        hostRan = true;
      }, 20);
      const start = performance.now();
      const steps = await loop.runUntilComplete(
        (function* () {
          let n = 0;
          while (!hostRan && performance.now() - start < 1000) {
            n++;
            yield;
          }
          return n;
        })(),
      );
      loop.close();
      if (watch === "channel") unsubscribe("asynkit:task.done", listener);
      expect([watch, hostRan]).toEqual([watch, true]);
      expect(steps).toBeGreaterThan(1);
    }
  });

  it("a stop() takes effect when the slice's deadline passes on the iteration's last step", async () => {
    const loop = new HostEventLoop();
    const log: string[] = [];
    loop.callSoon(() => {
      loop.stop();
      burnCpu(6);
      log.push("long step");
    });
    setImmediate(() => {
      if (!loop.isClosed()) loop.callSoon(() => log.push("next iteration"));
    });
    await loop.runForever();
    loop.close();
    expect(log).toEqual(["long step"]);
  });

  it("a stop() in a cut iteration still lets the iteration finish", async () => {
    const loop = new HostEventLoop();
    const log: string[] = [];
    loop.callSoon(() => loop.stop());
    for (let i = 0; i < 5; i++) {
      loop.callSoon(() => {
        burnCpu(2);
        log.push(String(i));
      });
    }
    setImmediate(() => {
      log.push("host");
      loop.callSoon(() => log.push("next iteration"));
    });
    await loop.runForever();
    loop.close();
    expect(log.filter((entry) => entry !== "host")).toEqual(["0", "1", "2", "3", "4"]);
    expect(log).toContain("host");
  });

  it("heavy steps queued behind cheap ones hold the host once, then get a slice each", async () => {
    const loop = new HostEventLoop();
    const log: string[] = [];
    const stopLogging = logHostTurns(log);
    await loop.runUntilComplete(function* () {
      function* cheap() {
        for (let i = 0; i < 10; i++) yield;
      }
      function* heavy() {
        for (let i = 0; i < 3; i++) {
          burnCpu(6);
          log.push("heavy");
          yield;
        }
      }
      // The cheap steps come first in each iteration: by the heavy ones, the loop reads the
      // clock only every 64 handles.
      const tasks = Array.from({ length: 100 }, () => createTask(cheap()));
      tasks.push(...Array.from({ length: 10 }, () => createTask(heavy())));
      for (const task of tasks) yield* task;
    });
    stopLogging();
    loop.close();
    const heavyPerSlice = perSlice(log).map((slice) => slice.filter((e) => e === "heavy").length);
    expect(heavyPerSlice.reduce((a, b) => a + b)).toBe(30);
    // The first stretch of heavy steps is found once they ran; from then on each has a slice.
    expect(heavyPerSlice.filter((n) => n > 1).length).toBeLessThanOrEqual(1);
  });

  // The loop reads the clock through the performance prototype's now(), at each call: here a
  // clock of the test's own, which a read moves on by 1 µs, so that the runs do not depend on
  // the machine's load (a slice is 5,000 reads), and a "heavy" step moves on by its length.
  async function readsPerStepAfterPauses(
    pauses: number,
  ): Promise<{ steps: number; reads: number }> {
    const prototype = Object.getPrototypeOf(performance) as { now(): number };
    const ownNow = Object.getOwnPropertyDescriptor(prototype, "now") as PropertyDescriptor;
    const start = performance.now();
    let reads = 0;
    let paused = 0;
    Object.defineProperty(prototype, "now", {
      ...ownNow,
      value: () => start + ++reads / 1000 + paused,
    });
    let steps = 0;
    let after = { reads: 0, steps: 0 };
    try {
      await new HostEventLoop().runUntilComplete(function* () {
        function* cheap() {
          for (let i = 0; i < 2_000; i++) {
            steps++;
            yield;
          }
        }
        function* pausing() {
          yield;
          paused += 12; // after cheap steps: a stretch of handles over 10 ms
          for (let i = 1; i < pauses; i++) {
            yield;
            paused += 2; // a step of 2 ms on its own
          }
          after = { reads, steps };
        }
        const tasks = Array.from({ length: 50 }, () => createTask(cheap()));
        tasks.push(createTask(pausing()));
        for (const task of tasks) yield* task;
      });
    } finally {
      Object.defineProperty(prototype, "now", ownNow);
    }
    return { steps: steps - after.steps, reads: reads - after.reads };
  }

  it("a handle heavy once (as a collector's pause makes one) has the clock read after every handle for a slice, not for the whole run", async () => {
    const { steps, reads } = await readsPerStepAfterPauses(1);
    // The pause ends its slice; the next slice reads after every handle (5,000 reads), and
    // from the one after, a read comes every 64 handles. Held for 100 ms, every handle of the
    // rest of the run would have had its read.
    expect(steps).toBeGreaterThan(90_000);
    expect(reads / steps).toBeGreaterThan(0.05);
    expect(reads / steps).toBeLessThan(0.08);
  });

  it("a task heavy again has the clock read after every handle for 100 ms after its last heavy step", async () => {
    const { steps, reads } = await readsPerStepAfterPauses(3);
    // 100 ms is 100,000 reads of this clock: the rest of the run.
    expect(steps).toBeGreaterThan(80_000);
    expect(reads / steps).toBeGreaterThan(0.99);
  });

  // A native step's function runs in the microtasks after its handle returned: its time
  // counts when the step ends, so a heavy one ends its slice as a generator task's does.
  for (const debug of [false, true]) {
    it(`heavy native (async function) steps get a slice each, as generator steps do${debug ? ", in debug mode" : ""}`, async () => {
      const loop = new HostEventLoop();
      loop.setDebug(debug);
      loop.setExceptionHandler(() => {}); // debug mode's slow-step lints
      const log: string[] = [];
      const stopLogging = logHostTurns(log);
      await loop.runUntilComplete(async () => {
        await createTask(async () => {
          for (let i = 0; i < 6; i++) {
            burnCpu(6);
            log.push("heavy");
            await sleep(0);
          }
        });
      });
      stopLogging();
      loop.close();
      const heavyPerSlice = perSlice(log).map((slice) => slice.length);
      expect(heavyPerSlice.reduce((a, b) => a + b)).toBe(6);
      // The first slice may hold a cheap step and a heavy one; from then on each has a slice.
      expect(heavyPerSlice.filter((n) => n > 1).length).toBeLessThanOrEqual(1);
    });
  }

  // A native step hands the host to the microtasks and the drive resumes after them:
  // the slice's deadline must still end the slice, in plain and in debug mode.
  for (const debug of [false, true]) {
    it(`a slice of native (async function) steps ends by its deadline too${debug ? ", in debug mode" : ""}`, async () => {
      const loop = new HostEventLoop();
      loop.setDebug(debug);
      const log: string[] = [];
      const stopLogging = logHostTurns(log);
      await loop.runUntilComplete(async () => {
        const worker = async (name: string) => {
          for (let i = 0; i < 10; i++) {
            burnCpu(1);
            log.push(`${name}${i}`);
            await sleep(0);
          }
        };
        const a = createTask(() => worker("a"));
        const b = createTask(() => worker("b"));
        await a;
        await b;
      });
      stopLogging();
      loop.close();
      const steps = log.filter((entry) => entry !== "host");
      expect(steps).toEqual(Array.from({ length: 10 }, (_, i) => [`a${i}`, `b${i}`]).flat());
      // Each step takes 1 ms: a 5 ms slice ends after its sixth step at the latest.
      const runs = perSlice(log).map((slice) => slice.length);
      expect(Math.max(...runs)).toBeLessThanOrEqual(6);
      expect(runs.filter((n) => n > 0).length).toBeGreaterThanOrEqual(3);
    });
  }
});
