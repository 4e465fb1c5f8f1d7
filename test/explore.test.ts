/**
 * explore() runs a program under many schedules and replay() runs one again:
 * the acceptance tests of issue 13 (a lost update and a lock-order deadlock
 * found, shrunk and replayed; dfs visiting every interleaving; guards for
 * asynkit's own primitives across 1,000 schedules each; determinism), and
 * the rules of the search.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { describe, expect, it, vi } from "vitest";
import {
  BoundedSemaphore,
  CancelledError,
  type Coro,
  createTask,
  currentTask,
  DeadlockError,
  Event,
  fromPromise,
  GeneratorObject,
  gather,
  getRunningLoop,
  type Handle,
  Lock,
  Queue,
  SchedulingVirtualEventLoop,
  Semaphore,
  sleep,
  TimeoutError,
  taskTimeout,
  timeout,
  VirtualEventLoop,
  waitFor,
} from "../src/index.js";
import {
  choose,
  type ExploreError,
  explore,
  HostWaitError,
  type Program,
  replay,
} from "../src/testing/index.js";
import { describeEntry, type Outcome, Runner } from "../src/testing/run.js";
import { makeStrategy } from "../src/testing/strategies.js";
import { refused, whenBlockedOnHost } from "./helpers.js";

/** The rejection of `promise`, which must reject. */
async function rejection(promise: Promise<unknown>): Promise<ExploreError> {
  try {
    await promise;
  } catch (error) {
    return error as ExploreError;
  }
  throw new Error("expected a rejection");
}

/**
 * A lost update FIFO order does not show: B's increment can fall between A's
 * read and A's write. A bystander task C, if asked for, adds departures that
 * the failure does not need.
 */
function lostUpdateProgram(bystander: boolean): () => Coro<void> {
  return function* main() {
    let n = 0;
    function* a(): Coro<void> {
      const v = n;
      yield* sleep(0);
      n = v + 1;
    }
    function* b(): Coro<void> {
      yield* sleep(0);
      yield* sleep(0);
      n += 1;
    }
    function* c(): Coro<void> {
      for (let i = 0; i < 3; i++) yield* sleep(0);
    }
    const tasks = [createTask(a(), { name: "A" })];
    if (bystander) tasks.push(createTask(c(), { name: "C" }));
    tasks.push(createTask(b(), { name: "B" }));
    for (const task of tasks) yield* task;
    if (n !== 2) throw new Error(`lost update: n is ${n}`);
  };
}

const lostUpdate = lostUpdateProgram(false);

/** The failures searches of at most 50 iterations with the seeds 0-99 find, one per seed at most. */
async function failuresWithin50(
  main: Program,
  strategy: "random" | "pct",
): Promise<ExploreError[]> {
  const found: ExploreError[] = [];
  for (let seed = 0; seed < 100; seed++) {
    const error = await rejection(explore(main, { strategy, seed, iterations: 50 })).catch(
      () => null,
    );
    if (error === null) continue;
    expect(error.seed).toBe(seed);
    found.push(error);
  }
  return found;
}

const RULES = { maxSteps: 100_000, failOnWarnings: false, asyncLocalStorage: false, debug: false };

/** The first failing run of a search, unshrunk, found by running the strategy as explore() does. */
async function firstFailure(
  strategy: "random" | "pct",
  seed: number,
  iteration: number,
): Promise<Outcome> {
  const search = makeStrategy({ strategy, seed, depth: 3, preemptionBound: Infinity });
  const runner = new Runner(lostUpdate, RULES, "explore()");
  let outcome: Outcome | null = null;
  for (let i = 0; i <= iteration; i++) {
    search.begin(i);
    outcome = await runner.run(search); // at once, unless the host's turn comes first
    search.end(outcome);
  }
  return outcome as Outcome;
}

describe("a lost update FIFO order does not show", () => {
  it("passes under the FIFO schedule, iteration 0", async () => {
    expect(await explore(lostUpdate, { iterations: 1 })).toEqual({
      strategy: "random",
      seed: 0,
      iterations: 1,
      schedules: 1,
      exhausted: false,
      timedOut: false,
      uncontrolledRuns: 0,
    });
  });

  it.each(["random", "pct"] as const)(
    "%s finds it within 50 iterations for at least 95 of the seeds 0-99, shrunk no longer than found",
    async (strategy) => {
      const found = await failuresWithin50(lostUpdate, strategy);
      expect(found.length).toBeGreaterThanOrEqual(95);
      for (const error of found) {
        expect(error.kind).toBe("main threw");
        const first = await firstFailure(strategy, error.seed as number, error.iteration as number);
        expect(first.failure?.kind).toBe("main threw");
        expect(error.schedule.length).toBeLessThanOrEqual(first.schedule.length);
      }
    },
  );

  it("shrinks only to schedules that fail with the same error, not another bug of the same kind", async () => {
    const thrown: string[] = [];
    function* main(): Coro<void> {
      yield* sleep(0);
      const mode = choose(3);
      if (mode === 1) {
        thrown.push("total");
        throw new Error("total is 99, expected 100");
      }
      yield* sleep(0);
      if (mode === 2) {
        thrown.push("TypeError");
        throw new TypeError("Cannot read properties of undefined (reading 'id')");
      }
    }
    for (const seed of [0, 1, 2]) {
      thrown.length = 0;
      const error = await rejection(explore(main, { seed }));
      const found = thrown[0];
      expect(error.message.split("\n")[0]).toContain(
        found === "TypeError" ? "main threw TypeError: Cannot read" : "main threw Error: total is",
      );
      expect((error.cause as Error).name).toBe(found === "TypeError" ? "TypeError" : "Error");
    }
  });

  it("names a sleep's timer by the task that sleeps, as it was when it ran", async () => {
    function* main(): Coro<void> {
      const log: string[] = [];
      function* worker(name: string): Coro<void> {
        yield* sleep(10);
        log.push(name);
      }
      const a = createTask(worker("reader"), { name: "reader" });
      const b = createTask(worker("writer"), { name: "writer" });
      yield* a;
      yield* b;
      if (log[0] !== "reader") throw new Error(`writer went first: ${log}`);
    }
    const error = await rejection(explore(main));
    expect(error.schedule).toEqual([
      'step 4: ran the timer of Task "writer" (sleep until t=10 ms) instead of the timer of Task "reader" (sleep until t=10 ms)',
    ]);
  });

  it("reports the shrunk schedule in words with a token that replays it, failing 20 times out of 20", async () => {
    const error = await rejection(explore(lostUpdate, { strategy: "pct" }));
    expect(error.name).toBe("ExploreError");
    expect(error.iteration).toBe(5);
    expect(error.token).toBe("1:2-1.3-1");
    expect(error.schedule).toEqual([
      'step 4: ran Task "B" instead of Task "A"',
      'step 5: ran Task "B" instead of Task "A"',
    ]);
    expect(error.cause).toBeInstanceOf(Error);
    expect((error.cause as Error).message).toBe("lost update: n is 1");
    expect(error.message).toBe(
      [
        "explore(): iteration 5 (seed 0) failed: main threw Error: lost update: n is 1",
        "Schedule: 2 departure(s) from FIFO order, 8 steps:",
        '  step 4: ran Task "B" instead of Task "A"',
        '  step 5: ran Task "B" instead of Task "A"',
        'Replay it with replay(main, "1:2-1.3-1").',
      ].join("\n"),
    );
    for (let i = 0; i < 20; i++) {
      const again = await rejection(replay(lostUpdate, error.token));
      expect(again.kind).toBe("main threw");
      expect((again.cause as Error).message).toBe("lost update: n is 1");
      expect(again.token).toBe(error.token);
      expect(again.schedule).toEqual(error.schedule);
      expect(again.iteration).toBe(null);
      expect(again.seed).toBe(null);
      expect(again.message.split("\n")[0]).toBe(
        "replay(): the schedule fails again: main threw Error: lost update: n is 1",
      );
    }
  });

  it("shrinks to the fewest departures from FIFO order, below the schedule that first failed", async () => {
    const noisy = lostUpdateProgram(true);
    const error = await rejection(explore(noisy));
    expect(error.iteration).toBe(2);
    expect(error.message).toContain("2 departure(s) from FIFO order, shrunk from 6, 13 steps");
    expect(error.schedule).toEqual([
      'step 5: ran Task "B" instead of Task "A", and ahead of Task "C"',
      'step 6: ran Task "B" instead of Task "A", and ahead of Task "C"',
    ]);
    expect(error.token).toBe("1:3-2.4-2");
    await expect(replay(noisy, error.token)).rejects.toThrow("lost update: n is 1");
  });

  it("names every entry a departure overtakes: the first three, then how many more", async () => {
    async function firstComeFirstServed() {
      const log: string[] = [];
      const tasks = ["t0", "t1", "t2", "t3", "t4", "t5"].map((name) =>
        createTask(
          async () => {
            log.push(name);
          },
          { name },
        ),
      );
      for (const task of tasks) await task;
      if (log[0] === "t5") throw new Error(`t5 ran first: ${log.join(" ")}`);
    }
    const error = await rejection(replay(firstComeFirstServed, "1:0-5"));
    expect(error.schedule).toEqual([
      'step 2: ran Task "t5" instead of Task "t0", and ahead of Task "t1", Task "t2", Task "t3" and 1 more',
    ]);
  });

  it("reports a schedule none of whose departures can be dropped alone, as the token numbers them", async () => {
    // A pool whose acquire and connect share one waitFor(): a timeout after the permit was
    // taken leaks it. Dropping one departure moves later entries, so a shrink that kept each
    // later departure on its task alone left some that the token's numbering could drop.
    async function pool(): Promise<void> {
      const permits = new BoundedSemaphore(2);
      const idle: number[] = [];
      let held = 0;
      let made = 0;
      const acquire = () =>
        waitFor(
          createTask(
            async () => {
              await permits.acquire();
              held++;
              const connection = idle.pop();
              if (connection !== undefined) return connection;
              await sleep(10);
              return ++made;
            },
            { name: "acquire" },
          ),
          30,
        );
      const clients = [0, 0, 0, 5].map((at, i) =>
        createTask(
          async () => {
            await sleep(at);
            try {
              const connection = await acquire();
              try {
                await sleep(20);
              } finally {
                idle.push(connection);
                held--;
                permits.release();
              }
            } catch (error) {
              if (!(error instanceof TimeoutError)) throw error;
            }
          },
          { name: `client${i}` },
        ),
      );
      await gather(...clients);
      if (held !== 0) throw new Error(`permits leaked: ${held}`);
    }
    const error = await rejection(explore(pool, { strategy: "pct" }));
    expect(error.schedule).toHaveLength(9);
    // Deadlines and done callbacks are named by their tasks, not as handles of internal callbacks.
    expect(error.schedule.join("\n")).not.toMatch(/<\w*Handle/);
    expect(error.schedule).toContain(
      'step 21: ran the timer of Task "client2" (sleep until t=30 ms) instead of the deadline of Task "client1" (t=30 ms)',
    );
    // Every entry a departure overtakes is named, not only FIFO's.
    expect(error.schedule).toContain(
      'step 23: ran the done callback onChildDone of Task "client2" instead of the deadline of Task "client1" (t=30 ms), and ahead of the timer of Task "client0" (sleep until t=30 ms) and Task "acquire" (the 3rd of that name)',
    );
    expect(error.schedule).toContain(
      'step 3: ran Task "client0" instead of Task "client1", and ahead of Task "client2" and Task "client3"',
    );
    const departures = error.token.slice(2).split(".");
    for (let i = 0; i < departures.length; i++) {
      const fewer = `1:${departures.filter((_, j) => j !== i).join(".")}`;
      const again = await replay(pool, fewer).then(
        () => null,
        (e: ExploreError) => e,
      );
      expect(
        again === null || again.kind !== error.kind || `${again.cause}` !== `${error.cause}`,
      ).toBe(true);
    }
  });

  /**
   * A lost update among `size` noise tasks of `size` switches each: the random schedule
   * that finds it departs from FIFO order hundreds of times.
   */
  function crowdedLostUpdate(size: number): () => Coro<void> {
    function* noise(): Coro<void> {
      for (let i = 0; i < size; i++) yield* sleep(0);
    }
    return function* crowded(): Coro<void> {
      let n = 0;
      const noisy = Array.from({ length: size }, () => createTask(noise()));
      const a = createTask(
        (function* () {
          yield* sleep(0);
          const seen = n;
          yield* sleep(0);
          n = seen + 1;
        })(),
      );
      const b = createTask(
        (function* () {
          for (let i = 0; i < 3; i++) yield* sleep(0);
          n += 1;
        })(),
      );
      yield* a;
      yield* b;
      for (const task of noisy) yield* task;
      if (n !== 2) throw new Error(`lost update: n is ${n}`);
    };
  }

  it("says when the shrink ran out of runs before it could drop no more", async () => {
    // More departures than 500 runs can take away.
    const crowded = crowdedLostUpdate(20);
    const error = await rejection(explore(crowded));
    expect(error.message.split("\n")[1]).toMatch(
      /^Schedule: \d+ departure\(s\) from FIFO order, shrunk from \d+ until its 500 runs or the time limit ran out \(some may go alone\), \d+ steps:$/,
    );
    await expect(replay(crowded, error.token)).rejects.toThrow("lost update");
  }, 30_000);

  it("stops shrinking at timeLimitMs, and says so", async () => {
    // A run of 60 tasks of 60 switches takes milliseconds: 500 of them take seconds.
    const crowded = crowdedLostUpdate(60);
    const start = performance.now();
    const error = await rejection(explore(crowded, { timeLimitMs: 100 }));
    expect(performance.now() - start).toBeLessThan(1_000);
    expect(error.message.split("\n")[1]).toMatch(/until its 500 runs or the time limit ran out/);
    await expect(replay(crowded, error.token)).rejects.toThrow("lost update");
  }, 30_000);

  it("names a deadline's entry by the task whose deadline it is", async () => {
    async function main(): Promise<void> {
      const a = createTask(
        async () => {
          try {
            await timeout(5, () => sleep(5));
            return "slept";
          } catch {
            return "timed out";
          }
        },
        { name: "A" },
      );
      const b = createTask(() => sleep(1), { name: "B" });
      const [outcome] = await gather(a, b);
      if (outcome === "slept") throw new Error("slept through its deadline");
    }
    const error = await rejection(explore(main, { strategy: "dfs" }));
    expect(error.schedule).toEqual([
      'step 7: ran the timer of Task "A" (sleep until t=5 ms) instead of the deadline of Task "A" (t=5 ms)',
      'step 8: ran Task "A" instead of the deadline of Task "A" (t=5 ms)',
    ]);
  });

  /** Three tasks named "worker" that lose an update off FIFO order; with `rename`, each renames itself after its waits. */
  function sameNamedWorkers(rename: boolean): () => Coro<void> {
    return function* main(): Coro<void> {
      let n = 0;
      function* worker(wait: number): Coro<void> {
        for (let i = 0; i < wait; i++) yield* sleep(0);
        if (rename) currentTask()?.setName(`renamed ${wait}`);
        const v = n;
        yield* sleep(0);
        n = v + 1;
      }
      const workers = [0, 2, 4].map((wait) => createTask(worker(wait), { name: "worker" }));
      for (const task of workers) yield* task;
      if (n !== 3) throw new Error(`lost update: n is ${n}`);
    };
  }

  it("tells apart tasks that share a name by which of that name each is", async () => {
    const lines = (await rejection(explore(sameNamedWorkers(false), { strategy: "dfs" }))).schedule;
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line).toMatch(
        /^step \d+: ran Task "worker"( \(the (2nd|3rd) of that name\))? instead of Task "worker"( \(the (2nd|3rd) of that name\))?$/,
      );
      const [ran, passedOver] = line.split(" instead of ");
      expect(ran?.replace(/^step \d+: ran /, "")).not.toBe(passedOver);
    }
  });

  it("counts which of its name a task is by the names the tasks have now, renamed ones too", async () => {
    function* renamed(): Coro<void> {
      let ended = 0;
      const tasks = [0, 1, 2, 3].map((i) =>
        createTask(
          (function* () {
            yield* sleep(0);
            currentTask()?.setName(i % 2 ? "w" : "v");
            yield* sleep(0);
            if (++ended === 4 && i === 0) throw new Error("bad order");
          })(),
          { name: "w" },
        ),
      );
      for (const task of tasks) task.setName(task === tasks[3] ? "v" : "w");
      for (const task of tasks) yield* task;
    }
    const error = await rejection(explore(renamed, { iterations: 300 }));
    expect(error.schedule).toEqual([
      'step 2: ran Task "v" (the 2nd of that name) instead of Task "v", and ahead of Task "w"',
      'step 3: ran Task "w" (the 2nd of that name) instead of Task "v", and ahead of Task "w"',
      'step 10: ran Task "w" instead of Task "v" (the 2nd of that name), and ahead of Task "w" (the 2nd of that name) and Task "v"',
    ]);
  });

  it("shrinks alike whatever the tasks are named, and whenever they are renamed", async () => {
    const [kept, renamed] = [
      await rejection(explore(sameNamedWorkers(false), { seed: 3 })),
      await rejection(explore(sameNamedWorkers(true), { seed: 3 })),
    ];
    expect(renamed.token).toBe(kept.token);
    expect(renamed.schedule).toHaveLength(kept.schedule.length);
  });

  it("names a taskTimeout() deadline's entry by its task too", async () => {
    // No failing schedule passes over this entry: the interrupt comes from a task the
    // deadline starts, which a report names instead (Task "taskTimeout(5)").
    let described = "";
    await new SchedulingVirtualEventLoop().runUntilComplete(function* () {
      using deadline = yield* taskTimeout(5);
      described = describeEntry((deadline as unknown as { _timer: Handle })._timer);
    });
    expect(described).toMatch(/^the deadline of Task "Task-\d+" \(t=5 ms\)$/);
  });

  it("names a user's callbacks by their names, and a timer's by its time too", async () => {
    function* main(): Coro<void> {
      const loop = getRunningLoop();
      const log: string[] = [];
      loop.callSoon(() => log.push("anonymous"));
      loop.callSoon(function named() {
        log.push("named");
      });
      loop.callLater(1, function tick() {
        log.push("tick");
      });
      loop.callLater(1, () => log.push("tock"));
      yield* sleep(2);
      if (log.join() === "named,anonymous,tock,tick") throw new Error("reversed");
    }
    const error = await rejection(explore(main, { strategy: "dfs" }));
    expect(error.schedule).toEqual([
      "step 2: ran the callback named instead of an anonymous callback",
      "step 4: ran an anonymous callback due at t=1 ms instead of the callback tick due at t=1 ms",
    ]);
  });

  it("shrinks away a departure that moved the later choose() calls to other decisions", async () => {
    // Run before A, B takes three more steps: more decisions come before the choose() calls.
    // Without that departure they come earlier, and are still the same calls.
    function* worker(steps: number): Coro<void> {
      for (let s = 0; s < steps; s++) yield* sleep(0);
    }
    function* program(): Coro<void> {
      let aStarted = false;
      const a = createTask(
        (function* () {
          aStarted = true;
          yield* sleep(0);
        })(),
        { name: "A" },
      );
      const b = createTask(
        (function* () {
          if (!aStarted) yield* worker(3);
        })(),
        { name: "B" },
      );
      const noise = Array.from({ length: 12 }, (_, i) => createTask(worker(1 + (i % 4))));
      yield* gather(a, b, ...noise);
      const first = choose(2);
      yield* sleep(0);
      const second = choose(2);
      if (first === 1 && second === 1) throw new Error("both faults");
    }
    const error = await rejection(explore(program, { seed: 2 }));
    expect(error.schedule).toEqual([
      "step 61: choose(2) returned 1",
      "step 62: choose(2) returned 1",
    ]);
    await expect(replay(program, error.token)).rejects.toThrow("both faults");
  });

  it("a replay of the FIFO token, or of the program with the race fixed, passes", async () => {
    await expect(replay(lostUpdate, "1:")).resolves.toBe(undefined);
    function* fixed(): Coro<void> {
      let n = 0;
      const lock = new Lock();
      function* add(steps: number): Coro<void> {
        for (let i = 0; i < steps; i++) yield* sleep(0);
        using _ = yield* lock.hold();
        const v = n;
        yield* sleep(0);
        n = v + 1;
      }
      const ta = createTask(add(0), { name: "A" });
      const tb = createTask(add(2), { name: "B" });
      yield* ta;
      yield* tb;
      if (n !== 2) throw new Error(`lost update: n is ${n}`);
    }
    // Its decisions differ: a choice the program no longer has falls back to FIFO order.
    await expect(replay(fixed, "1:2-1.3-1.9-5")).resolves.toBe(undefined);
    await expect(explore(fixed, { strategy: "pct", iterations: 200 })).resolves.toMatchObject({
      iterations: 200,
    });
  });
});

describe("a lock-order deadlock", () => {
  function* lockOrder(): Coro<void> {
    const first = new Lock();
    const second = new Lock();
    function* a(): Coro<void> {
      using _1 = yield* first.hold();
      yield* sleep(0);
      using _2 = yield* second.hold();
    }
    function* b(): Coro<void> {
      yield* sleep(0);
      using _2 = yield* second.hold();
      yield* sleep(0);
      using _1 = yield* first.hold();
    }
    const ta = createTask(a(), { name: "A" });
    const tb = createTask(b(), { name: "B" });
    yield* ta;
    yield* tb;
  }

  it("does not show under FIFO order", async () => {
    await expect(explore(lockOrder, { iterations: 1 })).resolves.toMatchObject({ iterations: 1 });
  });

  it("is found and reported as a deadlock naming each blocked task and what it waits on", async () => {
    const error = await rejection(explore(lockOrder));
    expect(error.kind).toBe("deadlock");
    expect(error.cause).toBeInstanceOf(DeadlockError);
    const cause = error.cause as DeadlockError;
    expect(cause.tasks.map((task) => task.getName())).toEqual(["main", "A", "B"]);
    expect(cause.message).toBe(
      [
        "explore(): deadlock: the program waits for something that can never happen: nothing is ready and no timer is pending. Unfinished tasks:",
        '  Task "main" waits on Task "A" → Lock.acquire() (held by Task "B")',
        '  Task "A" waits on Lock.acquire() (held by Task "B")',
        '  Task "B" waits on Lock.acquire() (held by Task "A")',
      ].join("\n"),
    );
    expect(error.schedule).toEqual(['step 2: ran Task "B" instead of Task "A"']);
    expect(error.message.split("\n")[0]).toBe(
      `explore(): iteration ${error.iteration} (seed 0) failed: deadlock: the program waits for something that can never happen: nothing is ready and no timer is pending. Unfinished tasks:`,
    );
    await expect(replay(lockOrder, error.token)).rejects.toMatchObject({ kind: "deadlock" });
  });

  it("with the debug option, says where each task suspended, and the token replays without it", async () => {
    const error = await rejection(explore(lockOrder, { debug: true }));
    const lines = (error.cause as DeadlockError).message.split("\n");
    expect(lines.slice(1, 3)).toEqual([
      '  Task "main" waits on Task "A" → Lock.acquire() (held by Task "B") since t=0 ms',
      // The frame's name is lockOrder's (Object.next where yield* is emulated, as on JavaScriptCore).
      expect.stringMatching(/^ {8}at \S+ \(.*explore\.test\.ts:\d+:\d+\)$/),
    ]);
    // Each of the three tasks' lines is followed by where it suspended.
    const framed = lines.flatMap((line, i) =>
      line.startsWith("  Task") ? [lines[i + 1]?.startsWith("        at ") === true] : [],
    );
    expect(framed).toEqual([true, true, true]);
    // Debug mode's lints are warnings: with failOnWarnings the replay it offers keeps debug on.
    function* poller(): Coro<void> {
      const slow = createTask(sleep(5));
      // The lint counts polls shorter than 0.05 ms of the host's clock, and starts over after
      // too many slow ones (a collection, a busy machine): enough polls for it to come anyway.
      for (let i = 0; i < 5000; i++) yield* sleep(0);
      yield* slow;
    }
    const linted = await rejection(explore(poller, { debug: true, failOnWarnings: true }));
    expect(linted.message.split("\n").at(-1)).toBe(
      `Replay it with replay(poller, ${JSON.stringify(linted.token)}, { failOnWarnings: true, debug: true }).`,
    );
    await expect(
      replay(poller, linted.token, { failOnWarnings: true, debug: true }),
    ).rejects.toMatchObject({ kind: linted.kind });
    const plain = await rejection(explore(lockOrder));
    expect(plain.token).toBe(error.token);
    const replayed = await rejection(replay(lockOrder, error.token, { debug: true }));
    expect((replayed.cause as Error).message).toBe(
      (error.cause as Error).message.replace("explore()", "replay()"),
    );
    // Or main turns it on itself: from its next step on, as on any loop.
    function* debugged(): Coro<void> {
      getRunningLoop().setDebug(true);
      yield* sleep(0);
      yield* lockOrder();
    }
    const turnedOn = await rejection(explore(debugged));
    expect((turnedOn.cause as Error).message).toMatch(
      / since t=0 ms\n {8}at \S+ \(.*explore\.test\.ts/,
    );
  });
});

/** The 6 interleavings of [a1, a2] with [b1, b2]. */
const SIX_INTERLEAVINGS = [
  "a1 a2 b1 b2",
  "a1 b1 a2 b2",
  "a1 b1 b2 a2",
  "b1 a1 a2 b2",
  "b1 a1 b2 a2",
  "b1 b2 a1 a2",
];

describe('"dfs"', () => {
  /** Two tasks of two steps each; main records the order they ran in. */
  function interleavings(logs: Set<string>): () => Coro<void> {
    return function* main() {
      const log: string[] = [];
      function* worker(name: string): Coro<void> {
        log.push(`${name}1`);
        yield;
        log.push(`${name}2`);
      }
      const a = createTask(worker("a"), { name: "a" });
      const b = createTask(worker("b"), { name: "b" });
      yield* a;
      yield* b;
      logs.add(log.join(" "));
    };
  }

  it("visits every interleaving of two tasks of two steps, and says the space is exhausted", async () => {
    const logs = new Set<string>();
    const report = await explore(interleavings(logs), { strategy: "dfs" });
    expect([...logs].sort()).toEqual(SIX_INTERLEAVINGS);
    expect(report).toEqual({
      strategy: "dfs",
      seed: 0,
      iterations: report.schedules,
      schedules: report.schedules,
      exhausted: true,
      timedOut: false,
      uncontrolledRuns: 0,
    });
    expect(report.schedules).toBeGreaterThanOrEqual(6);
  });

  it("with preemptionBound 0 runs the FIFO schedule alone; with 1, the schedules one departure away", async () => {
    const none = new Set<string>();
    expect(
      await explore(interleavings(none), { strategy: "dfs", preemptionBound: 0 }),
    ).toMatchObject({
      iterations: 1,
      exhausted: true,
    });
    expect([...none]).toEqual(["a1 b1 a2 b2"]);
    const one = new Set<string>();
    await explore(interleavings(one), { strategy: "dfs", preemptionBound: 1 });
    // FIFO order alternates a and b: "b1 a1 a2 b2" departs from it twice.
    expect([...one].sort()).toEqual(["a1 a2 b1 b2", "a1 b1 a2 b2", "a1 b1 b2 a2", "b1 a1 b2 a2"]);
  });

  it("is cut short by iterations, and says it is not exhausted, in its report and on the console: its pass is no proof", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const logs = new Set<string>();
      expect(await explore(interleavings(logs), { strategy: "dfs", iterations: 2 })).toMatchObject({
        iterations: 2,
        exhausted: false,
      });
      expect(await explore(interleavings(logs), { strategy: "dfs" })).toMatchObject({
        exhausted: true,
      });
      expect(
        await explore(interleavings(logs), { strategy: "dfs", iterations: 2, preemptionBound: 1 }),
      ).toMatchObject({ iterations: 2, exhausted: false });
      expect(warn.mock.calls).toEqual([
        [
          "explore(): dfs ran its 2 iterations without running every schedule, so the search is not exhaustive (its report says exhausted: false). Bound the departures from FIFO order, where most bugs are (preemptionBound: 1 or 2), or raise iterations.",
        ],
        [
          "explore(): dfs ran its 2 iterations without running every schedule, so the search is not exhaustive (its report says exhausted: false). Raise iterations, or lower preemptionBound.",
        ],
      ]);
    } finally {
      warn.mockRestore();
    }
  });

  it("explores every value of choose() with the schedule", async () => {
    const seen: number[][] = [];
    function* main(): Coro<void> {
      seen.push([choose(3), choose(2)]);
      yield* sleep(choose(1));
    }
    const report = await explore(main, { strategy: "dfs" });
    expect(seen).toEqual([
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
      [2, 0],
      [2, 1],
    ]);
    expect(report).toMatchObject({ iterations: 6, schedules: 6, exhausted: true });
  });

  it("orders timers due at the same moment in every way", async () => {
    const logs = new Set<string>();
    function* main(): Coro<void> {
      const log: string[] = [];
      const loop = getRunningLoop();
      loop.callLater(5, () => log.push("x"));
      loop.callLater(5, () => log.push("y"));
      yield* sleep(10);
      logs.add(log.join(""));
    }
    await explore(main, { strategy: "dfs" });
    expect([...logs]).toEqual(["xy", "yx"]);
  });
});

describe("choose()", () => {
  it("is 0 outside explore() and replay()", () => {
    expect(choose(5)).toBe(0);
    expect(
      new VirtualEventLoop().runSync(
        // biome-ignore lint/correctness/useYield: a coroutine that chooses without suspending
        (function* () {
          return choose(3);
        })(),
      ),
    ).toBe(0);
  });

  it("is part of the schedule: shrunk, described and replayed", async () => {
    function* main(): Coro<void> {
      yield* sleep(0);
      if (choose(4) === 3) throw new Error("the fault was injected");
    }
    const error = await rejection(explore(main));
    expect(error.schedule).toEqual(["step 2: choose(4) returned 3"]);
    expect(error.token).toBe("1:0-3");
    await expect(replay(main, error.token)).rejects.toThrow("the fault was injected");
  });

  it("draws from every bit of the seed: seeds 2^32 apart search differently", async () => {
    async function draws(seed: number): Promise<string> {
      const drawn: number[] = [];
      await explore(
        async () => {
          drawn.push(choose(1_000_000));
        },
        { seed, iterations: 20 },
      );
      return drawn.join(" ");
    }
    const [zero, one, high, highOne] = [
      await draws(0),
      await draws(1),
      await draws(2 ** 32),
      await draws(2 ** 32 + 1),
    ];
    expect(new Set([zero, one, high, highOne]).size).toBe(4);
    expect(await draws(2 ** 32)).toBe(high);
  });
});

describe("failures besides a throw", () => {
  it("a deadlock, or main's throw, comes with the failures nobody retrieved, often their cause", async () => {
    // A fails holding the semaphore: B then waits for it for good.
    async function failsHolding(): Promise<void> {
      const slot = new Semaphore(1);
      const a = createTask(
        async () => {
          await slot.acquire();
          await sleep(0);
          throw new Error("validation failed");
        },
        { name: "A" },
      );
      const b = createTask(
        async () => {
          await sleep(0);
          await slot.acquire();
        },
        { name: "B" },
      );
      await b;
      await a;
    }
    const also =
      'Also reported in that run: Task exception was never retrieved: <Task failed name="A" exception=Error("validation failed")>';
    const deadlock = await rejection(explore(failsHolding));
    expect([
      deadlock.kind,
      deadlock.message.split("\n").filter((line) => line.startsWith("Also")),
    ]).toEqual(["deadlock", [also]]);
    function* timesOut(): Coro<void> {
      const a = createTask(
        (function* () {
          yield* sleep(0);
          throw new Error("validation failed");
        })(),
        { name: "A" },
      );
      yield* waitFor(new Event().wait(), 100);
      yield* a;
    }
    const thrown = await rejection(explore(timesOut));
    expect([thrown.kind, thrown.message.split("\n")[1]]).toEqual(["main threw", also]);
  });

  it("a livelock stops at maxSteps, naming the tasks that spin", async () => {
    function* main(): Coro<void> {
      createTask(
        (function* () {
          for (;;) yield* sleep(1000);
        })(),
        { name: "heartbeat" },
      );
      for (;;) yield* sleep(0);
    }
    const error = await rejection(explore(main, { maxSteps: 50 }));
    expect(error.kind).toBe("step limit");
    expect(error.iteration).toBe(0);
    expect(error.steps).toBe(50);
    expect((error.cause as Error).message).toBe(
      "explore(): main did not finish within 50 steps (options.maxSteps): a livelock (time is virtual here: sleeps take no real time, so code that sleeps until Date.now() or performance.now() reaches a moment spins; read getRunningLoop().time()), or a program that needs a higher maxSteps. Unfinished tasks:\n" +
        '  Task "main" ready at position 0\n' +
        '  Task "heartbeat" waits on sleep until t=1000 ms',
    );
    expect(error.message.split("\n").at(-1)).toBe(
      'Replay it with replay(main, "1:", { maxSteps: 50 }).',
    );
    const again = await rejection(replay(main, error.token, { maxSteps: 50 }));
    expect([again.kind, again.steps]).toEqual(["step limit", 50]);
  });

  it("a run whose tasks all ended within maxSteps, but not the run itself, says so", async () => {
    function* main(): Coro<void> {
      yield; // two steps: main's end is the second, the run's own end a third
    }
    const error = await rejection(explore(main, { maxSteps: 2 }));
    expect([error.kind, error.steps]).toEqual(["step limit", 2]);
    expect((error.cause as Error).message).toBe(
      "explore(): the run did not end within 2 steps (options.maxSteps), though no task was left unfinished: the steps at the limit were callbacks (callSoon(), a timer's: a livelock if they schedule each other for ever) or the run's own end, a step after main's: raise maxSteps if the program needs it",
    );
    await expect(explore(main, { maxSteps: 3 })).resolves.toMatchObject({ iterations: 1000 });
  });

  it("an error nobody retrieved fails the run, with the error as the cause", async () => {
    const lost = new Error("nobody looked");
    function* main(): Coro<void> {
      createTask(
        // biome-ignore lint/correctness/useYield: a task that fails at its first step
        (function* () {
          throw lost;
        })(),
        { name: "uploader" },
      );
      yield* sleep(1);
    }
    const error = await rejection(explore(main));
    expect(error.kind).toBe("exception report");
    expect(error.cause).toBe(lost);
    expect(error.message.split("\n")[0]).toBe(
      'explore(): iteration 0 (seed 0) failed: exception report: Task exception was never retrieved: <Task failed name="uploader" exception=Error("nobody looked")>: Error: nobody looked',
    );
  });

  it("a failure of undefined nobody retrieved fails the run too", async () => {
    function* main(): Coro<void> {
      createTask(
        // biome-ignore lint/correctness/useYield: a task that fails at its first step
        (function* () {
          throw undefined; // as a promise rejected with no reason does
        })(),
        { name: "uploader" },
      );
      yield* sleep(1);
    }
    const error = await rejection(explore(main));
    expect([error.kind, error.message.split("\n")[0]]).toEqual([
      "exception report",
      'explore(): iteration 0 (seed 0) failed: exception report: Task exception was never retrieved: <Task failed name="uploader" exception=undefined>: Error: Task exception was never retrieved',
    ]);
  });

  /**
   * explore() of the program `leaving` makes with `cleanup` in a finally block
   * main leaves to the loop's cleanup: three runs pass, each running it once;
   * with the cleanup failing, the search reports that failure.
   */
  async function cleansUpAsRunDoes(
    leaving: (cleanup: () => void) => () => Coro<void>,
  ): Promise<void> {
    let cleanups = 0;
    let fail = false;
    const cleanupFailed = new Error("cleanup failed");
    const cleanup = (): void => {
      cleanups++;
      if (fail) throw cleanupFailed;
    };
    await expect(explore(leaving(cleanup), { iterations: 3 })).resolves.toMatchObject({
      iterations: 3,
    });
    expect(cleanups).toBe(3);
    fail = true;
    const error = await rejection(explore(leaving(cleanup)));
    expect(error.kind).toBe("exception report");
    expect(error.cause).toBe(cleanupFailed);
  }

  it("tasks main left running are cancelled and waited for, as run() does: a cleanup that fails fails the run", async () => {
    await cleansUpAsRunDoes(
      (cleanup) =>
        function* main(): Coro<void> {
          createTask(
            (function* () {
              try {
                yield* sleep(5);
              } finally {
                cleanup();
              }
            })(),
            { name: "forgotten" },
          );
          yield* sleep(1);
        },
    );
  });

  it("GeneratorObjects main left suspended are closed, as run() does: a cleanup that fails fails the run", async () => {
    await cleansUpAsRunDoes(
      (cleanup) =>
        function* main(): Coro<void> {
          const rows = new GeneratorObject<number>(function* (g) {
            try {
              for (let i = 0; ; i++) yield* g.yield(i);
            } finally {
              cleanup();
            }
          });
          yield* rows.next();
        },
    );
  });

  it("a warning (a report without an exception) fails the run only with failOnWarnings", async () => {
    function* main(): Coro<void> {
      yield* sleep(0);
      getRunningLoop().callExceptionHandler({ message: "something looks wrong" });
    }
    await expect(explore(main, { iterations: 3 })).resolves.toMatchObject({ iterations: 3 });
    const error = await rejection(explore(main, { failOnWarnings: true }));
    expect(error.kind).toBe("exception report");
    expect((error.cause as Error).message).toBe("something looks wrong");
    expect(error.message.split("\n").at(-1)).toBe(
      'Replay it with replay(main, "1:", { failOnWarnings: true }).',
    );
    await expect(replay(main, error.token)).resolves.toBe(undefined);
    await expect(replay(main, error.token, { failOnWarnings: true })).rejects.toMatchObject({
      kind: "exception report",
    });
  });

  it("a run that fails with its function awaiting its tasks through a host promise lets that function end, and the next search is not troubled by it", async () => {
    // Promise.all over tasks fails the run (failOnWarnings) with main waiting on it: the run's
    // loop closes with the tasks pending, and the promise of each then() rejects. Else the
    // function waited for ever, counted as on the host, and the next search's own
    // Promise.all of sleeps was taken for an await of that function's.
    let resumed = "never";
    async function failing(): Promise<void> {
      const a = createTask(() => sleep(1), { name: "a" });
      const b = createTask(() => sleep(2), { name: "b" });
      try {
        await Promise.all([a, b]);
        resumed = "resolved";
      } catch (error) {
        resumed = `rejected: ${(error as Error).name}`;
      }
    }
    async function correct(): Promise<void> {
      await Promise.all([sleep(2), sleep(1)]);
      await sleep(1);
    }
    const error = await rejection(explore(failing, { iterations: 1, failOnWarnings: true }));
    expect([error.kind, resumed]).toEqual(["exception report", "rejected: InvalidStateError"]);
    await expect(explore(correct, { iterations: 5, failOnWarnings: true })).resolves.toMatchObject({
      iterations: 5,
      uncontrolledRuns: 0,
    });
  });

  it("asyncLocalStorage: each run's loop has the option, for a program that reads a store across its awaits", async () => {
    const store = new AsyncLocalStorage<string>();
    async function main(): Promise<void> {
      const requests = ["a", "b"].map((id) =>
        store.run(id, () =>
          createTask(async () => {
            await sleep(0);
            if (store.getStore() !== id) throw new Error(`request ${id} sees ${store.getStore()}`);
          }),
        ),
      );
      for (const request of requests) await request;
    }
    const without = await rejection(explore(main, { iterations: 3 }));
    expect((without.cause as Error).message).toBe("request a sees undefined");
    await expect(explore(main, { iterations: 20, asyncLocalStorage: true })).resolves.toMatchObject(
      { iterations: 20 },
    );
    // A failure's replay() call carries the option.
    async function racy(): Promise<void> {
      await main();
      throw new Error("after the requests");
    }
    const error = await rejection(explore(racy, { asyncLocalStorage: true }));
    expect(error.message.split("\n").at(-1)).toBe(
      'Replay it with replay(racy, "1:", { asyncLocalStorage: true }).',
    );
    await expect(replay(racy, error.token, { asyncLocalStorage: true })).rejects.toMatchObject({
      cause: new Error("after the requests"),
    });
    await expect(explore(main, { asyncLocalStorage: "yes" as never })).rejects.toThrow(
      /^explore\(\) expects options\.asyncLocalStorage to be a boolean/,
    );
  });

  it("explore() and replay() cannot run inside a running loop: they say to call them from the test", async () => {
    const loop = new VirtualEventLoop();
    const refusals = loop.runSync(
      (function* () {
        yield;
        return [refused(() => explore(lostUpdate)), refused(() => replay(lostUpdate, "1:"))];
      })(),
    );
    const errors = (await Promise.all(refusals)).map((error) => error.message);
    expect(errors).toEqual(
      ["explore()", "replay()"].map(
        (where) =>
          `${where}: an event loop is running in this stack: call it from the test itself, not from inside a coroutine.`,
      ),
    );
  });

  it("a program that waits on the host cannot be explored, and is told what to do instead", async () => {
    function* main(): Coro<void> {
      yield* sleep(1);
      yield* fromPromise(new Promise<void>(() => {}));
    }
    for (const [where, search] of [
      ["explore()", () => explore(main)],
      ["replay()", () => replay(main, "1:")],
    ] as const) {
      const error = await search().then(
        () => null,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(HostWaitError);
      expect(error).toMatchObject({
        name: "HostWaitError",
        message: `${where}: the program waits on a native promise (through fromPromise) or an AbortSignal, which only the host settles, so no schedule can order it: give the program a stand-in on the loop (a Future the test resolves, a sleep()) instead`,
      });
    }
  });

  it("main that returns neither a coroutine nor a promise is a TypeError, not a failure of the program", async () => {
    // @ts-expect-error main must return a coroutine or a promise: the type says so first
    await expect(explore(() => 1)).rejects.toThrow(
      new TypeError(
        "explore() expects main to be a function that returns a coroutine or a promise (it returned number 1), got function (anonymous): pass a generator function or an async function that makes the program afresh on each call.",
      ),
    );
  });
});

describe("the search", () => {
  /** The order in which three tasks ran, one entry per schedule. */
  function recorder(orders: string[]): () => Coro<void> {
    return function* main() {
      let order = "";
      function* worker(name: string): Coro<void> {
        yield* sleep(0);
        order += name;
      }
      const tasks = ["a", "b", "c"].map((name) => createTask(worker(name), { name }));
      for (const task of tasks) yield* task;
      orders.push(order);
    };
  }

  /** A program with many schedules and no bug: a search of it runs all its iterations. */
  function* busy(): Coro<void> {
    const tasks = Array.from({ length: 4 }, () =>
      createTask(
        (function* () {
          for (let i = 0; i < 5; i++) yield* sleep(0);
        })(),
      ),
    );
    for (const task of tasks) yield* task;
  }

  it("says so when the FIFO schedule, run again after a failure, fails too: main keeps state between runs", async () => {
    let runs = 0;
    function* main(): Coro<void> {
      runs++; // state outside main: every run after the first fails, whatever its schedule
      yield* sleep(0);
      if (runs > 1) throw new Error(`run ${runs}`);
    }
    const error = await rejection(explore(main, { iterations: 5 }));
    expect(error.iteration).toBe(1);
    expect(error.message).toMatch(
      /\nThe FIFO schedule, which passed as iteration 0, fails when run again \(main threw Error: run \d+\): main does not make the program afresh\. .* Make that state inside main\.\nReplay it with/,
    );
    // A race that main makes afresh each run: the FIFO schedule passes again, and nothing is said.
    const race = await rejection(explore(lostUpdate, { seed: 0 }));
    expect(race.message).not.toContain("The FIFO schedule");
  });

  it("says so when the failing schedule passes when run again: the failure is not the schedule's alone", async () => {
    const passedAgain =
      /\nThis schedule passed when run again: the failure is not the schedule's doing alone, .* Make main deterministic: its state made inside it, its randomness from choose\(\)\.\nReplay it with/;
    // No concurrency at all, one run in a hundred fails: reported as the FIFO schedule, which
    // passed as iteration 0 and passes again.
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    async function flaky(): Promise<void> {
      await sleep(10);
      if (random() < 0.01) throw new Error("flaky failure");
    }
    const error = await rejection(explore(flaky));
    expect([error.iteration, error.token, error.message]).toEqual([
      63,
      "1:",
      expect.stringMatching(passedAgain),
    ]);
    expect(error.message).not.toContain("The FIFO schedule");
    // A schedule with departures that fails once, in the run that found it: it passes again.
    let runs = 0;
    function* once(): Coro<void> {
      runs++;
      const tasks = Array.from({ length: 3 }, () => createTask(sleep(0)));
      for (const task of tasks) yield* task;
      if (runs === 4) throw new Error("run 4 fails");
    }
    const departing = await rejection(explore(once, { seed: 1 }));
    expect([departing.iteration, departing.schedule.length > 0, departing.message]).toEqual([
      3,
      true,
      expect.stringMatching(passedAgain),
    ]);
    // A race that fails whenever its schedule comes: nothing is said.
    const race = await rejection(explore(lostUpdate, { seed: 0 }));
    expect(race.message).not.toContain("This schedule passed");
  });

  it("does not run again a failing schedule past an await of the host's: its report says a replay may differ", async () => {
    let runs = 0;
    async function main(): Promise<void> {
      runs++;
      await sleep(0);
      await new Promise((resolve) => setTimeout(resolve, 5));
      throw new Error("always fails");
    }
    // With the option the loop sees the host await itself, however soon the host settles it.
    const error = await rejection(explore(main, { iterations: 5, asyncLocalStorage: true }));
    expect([runs, error.iteration]).toEqual([1, 0]);
    expect(error.message).toContain("This run awaited 1 promise(s) the loop did not make");
    expect(error.message).not.toContain("This schedule passed");
  });

  it("reports the failure it found when the FIFO schedule, run again, waits on the host for ever", async () => {
    let runs = 0;
    async function main(): Promise<void> {
      runs++;
      if (runs === 2) throw new Error("run 2 fails");
      if (runs === 3) await new Promise(() => {}); // the second FIFO run: no answer
    }
    const error = await rejection(explore(main, { iterations: 5 }));
    expect([runs, error.iteration, error.message.split("\n")[0]]).toEqual([
      3,
      1,
      "explore(): iteration 1 (seed 0) failed: main threw Error: run 2 fails",
    ]);
    expect(error.message).not.toContain("The FIFO schedule");
  });

  it("lets the host in while it searches a generator program, which needs no host: its timers fire", async () => {
    let ticks = 0;
    const interval = setInterval(() => ticks++, 1);
    try {
      const start = performance.now();
      const startCpu = process.cpuUsage();
      const report = await explore(busy, { iterations: 100_000, timeLimitMs: 200 });
      const elapsed = performance.now() - start;
      const { user, system } = process.cpuUsage(startCpu);
      expect(report.timedOut).toBe(true);
      // A host turn every 10 ms of runs, whatever the machine's speed; a tick at most each turn.
      // Counted over the time the process ran: while another process holds the CPU, real time
      // passes with neither runs nor host turns (2 ticks in 320 ms once, on a loaded machine).
      const ran = Math.min(elapsed, (user + system) / 1000);
      expect(ticks).toBeGreaterThanOrEqual(Math.floor(ran / 40));
    } finally {
      clearInterval(interval);
    }
  });

  it("takes iterations: Infinity for a search that only its time limit ends", async () => {
    const report = await explore(busy, { iterations: Number.POSITIVE_INFINITY, timeLimitMs: 50 });
    expect([report.timedOut, report.iterations > 1]).toEqual([true, true]);
  });

  it("stops when its signal aborts, rejecting with the reason; the next search need not wait", async () => {
    const controller = new AbortController();
    const reason = new Error("the test timed out");
    setTimeout(() => controller.abort(reason), 30);
    const start = performance.now();
    await expect(explore(busy, { iterations: 1e9, signal: controller.signal })).rejects.toBe(
      reason,
    );
    expect(performance.now() - start).toBeLessThan(1000);
    expect(await explore(busy, { iterations: 3 })).toMatchObject({ iterations: 3 });
  });

  it("an abort in the host's turn between two runs stops the search before the next run begins", async () => {
    // Two runs of 15 ms of CPU each, then runs that wait on the host forever: the abort,
    // due at 5 ms, comes in the host's turn after the first or second run.
    let runs = 0;
    let runsAfterAbort = 0;
    const controller = new AbortController();
    const reason = new Error("the test timed out");
    setTimeout(() => controller.abort(reason), 5);
    function* busy(): Coro<void> {
      if (controller.signal.aborted) runsAfterAbort++;
      if (runs++ < 2) {
        const end = performance.now() + 15;
        while (performance.now() < end) {
          // one long step
        }
        return;
      }
      yield* fromPromise(new Promise(() => {}));
    }
    await expect(explore(busy, { iterations: 5, signal: controller.signal })).rejects.toBe(reason);
    expect(runsAfterAbort).toBe(0);
  });

  it("stops a run that waits on the host when its signal aborts, and refuses to begin once aborted", async () => {
    const controller = new AbortController();
    const forever = async () => {
      await new Promise(() => {}); // a host promise that never settles
    };
    const search = explore(forever, { signal: controller.signal });
    setTimeout(() => controller.abort(), 30);
    const aborted = await search.catch((error: unknown) => error);
    expect(aborted).toBeInstanceOf(DOMException);
    expect((aborted as DOMException).name).toBe("AbortError");
    await expect(replay(forever, "1:", { signal: controller.signal })).rejects.toBe(
      controller.signal.reason,
    );
    await expect(
      replay(lostUpdate, "1:2-1.3-1", { signal: new AbortController().signal }),
    ).rejects.toThrow("lost update: n is 1");
  });

  it("is deterministic: the same seed runs the same schedules and gives the same report", async () => {
    for (const strategy of ["random", "pct"] as const) {
      const first: string[] = [];
      const second: string[] = [];
      const other: string[] = [];
      const report = await explore(recorder(first), { strategy, seed: 7, iterations: 40 });
      expect(await explore(recorder(second), { strategy, seed: 7, iterations: 40 })).toEqual(
        report,
      );
      await explore(recorder(other), { strategy, seed: 8, iterations: 40 });
      expect(second).toEqual(first);
      expect(other).not.toEqual(first);
      expect(first[0]).toBe("abc"); // iteration 0: FIFO
      expect(report.schedules).toBeGreaterThan(1);
    }
    const failures = await Promise.all(
      [1, 2].map(() => rejection(explore(lostUpdate, { seed: 11 }))),
    );
    expect(failures[1]?.message).toBe(failures[0]?.message);
  });

  it("timeLimitMs cuts the search short after the FIFO run, and the report says so", async () => {
    const orders: string[] = [];
    expect(await explore(recorder(orders), { timeLimitMs: 0 })).toMatchObject({
      iterations: 1,
      timedOut: true,
    });
  });

  it("a run stopped at a host await leaves nothing running into the next: replays back to back fail alike", async () => {
    // B's host timer is armed once the loop has found B waiting on the host: armed at the
    // await, it could fire before the loop's look on a loaded machine (a 1 ms timer did, once
    // in CI), and then B was never seen waiting on the host.
    let armHostTimer = (): void => {};
    async function main() {
      let n = 0;
      const a = createTask(
        async () => {
          const seen = n;
          await sleep(0);
          n = seen + 1;
        },
        { name: "A" },
      );
      const b = createTask(
        async () => {
          // Stopped here (failOnWarnings).
          await new Promise((resolve) => {
            armHostTimer = () => setTimeout(resolve, 20);
          });
          await sleep(0); // after the host timer: must not run as a step of the next replay
          await sleep(0);
          n += 1;
        },
        { name: "B" },
      );
      await a;
      await b;
      if (n !== 2) throw new Error(`n is ${n}`);
    }
    const outcomes = new Set<string>();
    let armed = 0;
    const stopListening = whenBlockedOnHost("B", () => {
      armed++;
      armHostTimer();
    });
    try {
      for (let i = 0; i < 20; i++) {
        const error = await rejection(replay(main, "1:", { failOnWarnings: true }));
        outcomes.add(`${error.kind}, ${error.steps} steps: ${error.message.split("\n")[0]}`);
      }
    } finally {
      stopListening();
    }
    expect(armed).toBe(20); // each replay's B was found waiting on the host, and went on later
    expect([...outcomes]).toEqual([
      expect.stringMatching(
        /^exception report, 3 steps: replay\(\): the schedule fails again: exception report: <Task pending name="B"> awaited a promise the loop did not make, in its step 0/,
      ),
    ]);
  });

  it("a run still waiting on the host when timeLimitMs passes fails the search, naming what waits", async () => {
    // Past a host await the loop cannot tell this deadlock (nobody sets the event) from a wait
    // for the host: without the limit the search would wait forever.
    // The host promise settles once the loop has found "stuck" blocked on it: a host timer of
    // its own could fire before the loop looks, on a loaded machine, or after the time limit.
    let settle = (): void => {};
    const stopListening = whenBlockedOnHost("stuck", () => settle());
    const start = performance.now();
    const error = await rejection(
      explore(
        async () => {
          const never = new Event();
          const stuck = createTask(
            async () => {
              await new Promise<void>((resolve) => {
                settle = resolve;
              });
              await never.wait();
            },
            { name: "stuck" },
          );
          await stuck;
        },
        { timeLimitMs: 100 },
      ),
    ).finally(stopListening);
    expect(performance.now() - start).toBeLessThan(5000);
    expect(error.kind).toBe("time limit");
    expect(error.iteration).toBe(0);
    expect(error.message).toBe(
      "explore(): iteration 0 (seed 0) failed: time limit: the run still waited on the host when timeLimitMs (100 ms) passed: " +
        "past an await of a promise the loop did not make, the loop cannot tell a deadlock from a wait for the host. Unfinished tasks:\n" +
        '  Task "main" waits on Task "stuck" → a native promise only the host settles\n' +
        '  Task "stuck" waits on a native promise only the host settles\n' +
        '  Task "Task-1" waits on Event.wait()\n' +
        `Schedule: 0 departure(s) from FIFO order, ${error.steps} steps.\n` +
        "This run awaited 1 promise(s) the loop did not make: past them its order was the host's, so a replay may not fail the same way. Await what the loop makes instead (a task, not the promise of an async function; sleep(), not a host timer; gather(), not Promise.all(); a Future or an Event, not a promise of your own that another task resolves), and give host I/O a stand-in on the loop, or pass failOnWarnings: true to fail at such an await.",
    );
  });
});

describe("guards for asynkit's own primitives, across 1,000 schedules each", () => {
  it("a cancelled waitFor never returns a value, and loses nothing", async () => {
    function* main(): Coro<void> {
      const queue = new Queue<string>();
      const waiter = createTask(waitFor(queue.get(), 1), { name: "waiter" });
      const producer = createTask(
        (function* () {
          yield* sleep(1);
          queue.putNowait("item");
        })(),
        { name: "producer" },
      );
      yield* sleep(1);
      const cancelled = waiter.cancel();
      yield* producer;
      let got: string | null = null;
      try {
        got = yield* waiter;
      } catch (error) {
        if (!(error instanceof CancelledError || error instanceof TimeoutError)) throw error;
      }
      if (cancelled && got !== null) throw new Error("a cancelled waitFor returned a value");
      const left = queue.qsize();
      if ((got === null ? 1 : 0) !== left) throw new Error(`item lost: got ${got}, ${left} left`);
    }
    const report = await explore(main, { iterations: 1000 });
    expect(report.iterations).toBe(1000);
    expect(report.schedules).toBeGreaterThan(5);
  });

  it("a cancelled queue.get() never loses an item, nor the wakeup that came with it", async () => {
    // asyncio's bug: a getter woken by put() and cancelled before it ran kept
    // the wakeup, and the next getter waited with an item in the queue.
    function* main(): Coro<void> {
      const queue = new Queue<number>();
      const getters = [0, 1].map((i) => createTask(queue.get(), { name: `getter ${i}` }));
      const producer = createTask(
        (function* () {
          yield* sleep(0);
          queue.putNowait(1);
        })(),
        { name: "producer" },
      );
      const canceller = createTask(
        (function* () {
          yield* sleep(0);
          getters[choose(2)]?.cancel();
        })(),
        { name: "canceller" },
      );
      yield* producer;
      yield* canceller;
      yield* sleep(1); // a timer: everything ready has run by then
      const waiting = getters.filter((getter) => !getter.done());
      if (waiting.length > 0 && !queue.empty()) {
        throw new Error("a getter waits while an item sits in the queue");
      }
      let got = queue.qsize();
      for (const getter of getters) {
        getter.cancel();
        try {
          got += yield* getter;
        } catch (error) {
          if (!(error instanceof CancelledError)) throw error;
        }
      }
      if (got !== 1) throw new Error(`${got} items instead of 1`);
    }
    const report = await explore(main, { iterations: 1000 });
    expect(report.iterations).toBe(1000);
    expect(report.schedules).toBeGreaterThan(5);
  });

  it("a Semaphore never lets more than its bound in", async () => {
    function* main(): Coro<void> {
      const semaphore = new Semaphore(2);
      let inside = 0;
      function* worker(): Coro<void> {
        using _ = yield* semaphore.hold();
        inside++;
        try {
          if (inside > 2) throw new Error(`${inside} tasks inside a Semaphore(2)`);
          yield* sleep(choose(2));
        } finally {
          inside--;
        }
      }
      const workers = [0, 1, 2, 3].map((i) => createTask(worker(), { name: `worker ${i}` }));
      yield* sleep(0);
      workers[choose(4)]?.cancel();
      for (const task of workers) {
        try {
          yield* task;
        } catch (error) {
          if (!(error instanceof CancelledError)) throw error;
        }
      }
    }
    const report = await explore(main, { iterations: 1000 });
    expect(report.iterations).toBe(1000);
    expect(report.schedules).toBeGreaterThan(5);
  });
});

describe("async functions: main and its tasks written with async/await", () => {
  /** A of the lost update, with await: reads, awaits once, writes what it read plus one. */
  function readAwaitWrite(counter: { n: number }): () => Promise<void> {
    return async () => {
      const v = counter.n;
      await sleep(0);
      counter.n = v + 1;
    };
  }

  /** The lost update of the generator tests, with await: the same schedules find it. */
  async function lostUpdateAsync(): Promise<void> {
    const counter = { n: 0 };
    const a = createTask(readAwaitWrite(counter), { name: "A" });
    const b = createTask(
      async () => {
        await sleep(0);
        await sleep(0);
        counter.n += 1;
      },
      { name: "B" },
    );
    await a;
    await b;
    if (counter.n !== 2) throw new Error(`lost update: n is ${counter.n}`);
  }

  it("the replay() call in the message names the function, so that it runs when pasted", async () => {
    const error = await rejection(explore(lostUpdateAsync, { strategy: "pct" }));
    const lines = error.message.split("\n");
    expect(lines.at(-1)).toBe(
      `Replay it with replay(lostUpdateAsync, ${JSON.stringify(error.token)}).`,
    );
    const anonymous = await rejection(explore(() => lostUpdateAsync(), { strategy: "pct" }));
    expect(anonymous.message.split("\n").at(-1)).toMatch(/^Replay it with replay\(main, "/);
  });

  it("a lost update: passes under FIFO, found by random and pct within 50 iterations for at least 95 of the seeds 0-99", async () => {
    expect(await explore(lostUpdateAsync, { iterations: 1 })).toMatchObject({ iterations: 1 });
    for (const strategy of ["random", "pct"] as const) {
      const found = await failuresWithin50(lostUpdateAsync, strategy);
      expect(found.length).toBeGreaterThanOrEqual(95);
      for (const error of found) expect(error.kind).toBe("main threw");
    }
  });

  it("a long search lets the host in between runs: the host checks the runs left armed do not pile up", async () => {
    const pendingImmediates = () =>
      process.getActiveResourcesInfo().filter((resource) => resource === "Immediate").length;
    const before = pendingImmediates();
    const report = await explore(
      async () => {
        await createTask(async () => await sleep(0));
      },
      { iterations: 300 },
    );
    expect(report.iterations).toBe(300);
    // Read in the search's own host job: each run armed one check, and at most 64 runs ran since the host's last turn.
    expect(pendingImmediates() - before).toBeLessThanOrEqual(64);
  });

  it("a lost update: the same schedule as the generators' is found, shrunk, and replayed 20 times out of 20", async () => {
    const error = await rejection(explore(lostUpdateAsync, { strategy: "pct" }));
    expect(error.iteration).toBe(5);
    expect(error.token).toBe("1:2-1.3-1");
    expect(error.schedule).toEqual([
      'step 4: ran Task "B" instead of Task "A"',
      'step 5: ran Task "B" instead of Task "A"',
    ]);
    for (let i = 0; i < 20; i++) {
      const again = await rejection(replay(lostUpdateAsync, error.token));
      expect((again.cause as Error).message).toBe("lost update: n is 1");
    }
    await expect(replay(lostUpdateAsync, "1:")).resolves.toBe(undefined);
  });

  it("a lock-order deadlock is found and reported naming both tasks and the lock each waits for", async () => {
    /** Waits `wait` turns, takes `one`, then, a turn later, `two`. */
    const takeBoth = (one: Lock, two: Lock, wait: number) => async () => {
      for (let i = 0; i < wait; i++) await sleep(0);
      await one.acquire();
      await sleep(0);
      await two.acquire();
      two.release();
      one.release();
    };
    async function lockOrder(): Promise<void> {
      const first = new Lock();
      const second = new Lock();
      const a = createTask(takeBoth(first, second, 0), { name: "A" });
      const b = createTask(takeBoth(second, first, 1), { name: "B" });
      await a;
      await b;
    }
    await expect(explore(lockOrder, { iterations: 1 })).resolves.toMatchObject({ iterations: 1 });
    const error = await rejection(explore(lockOrder));
    expect(error.kind).toBe("deadlock");
    expect((error.cause as DeadlockError).message).toBe(
      [
        "explore(): deadlock: the program waits for something that can never happen: nothing is ready, no timer is pending, and it waits on nothing the host could deliver (a virtual loop waits only for the host work it knows of: a host timer or event that settles a future is known through fromPromise()). Unfinished tasks:",
        '  Task "main" waits on Task "A" → Lock.acquire() (held by Task "B")',
        '  Task "A" waits on Lock.acquire() (held by Task "B")',
        '  Task "B" waits on Lock.acquire() (held by Task "A")',
      ].join("\n"),
    );
    await expect(replay(lockOrder, error.token)).rejects.toMatchObject({ kind: "deadlock" });
  });

  it('"dfs" visits every interleaving of two async tasks of two steps, and says the space is exhausted', async () => {
    const logs = new Set<string>();
    const report = await explore(
      async () => {
        const log: string[] = [];
        const worker = (name: string) => async () => {
          log.push(`${name}1`);
          await sleep(0);
          log.push(`${name}2`);
        };
        const a = createTask(worker("a"), { name: "a" });
        const b = createTask(worker("b"), { name: "b" });
        await a;
        await b;
        logs.add(log.join(" "));
      },
      { strategy: "dfs" },
    );
    expect([...logs].sort()).toEqual(SIX_INTERLEAVINGS);
    expect(report).toMatchObject({ exhausted: true, uncontrolledRuns: 0 });
  });

  it("a generator main whose program starts a native task runs on the host from then on", async () => {
    function* main(): Coro<void> {
      const counter = { n: 0 };
      const a = createTask(readAwaitWrite(counter), { name: "A" });
      const b = createTask(
        (function* () {
          yield* sleep(0);
          yield* sleep(0);
          counter.n += 1;
        })(),
        { name: "B" },
      );
      yield* a;
      yield* b;
      if (counter.n !== 2) throw new Error(`lost update: n is ${counter.n}`);
    }
    const error = await rejection(explore(main, { strategy: "pct" }));
    expect(error.token).toBe("1:2-1.3-1");
    await expect(replay(main, error.token)).rejects.toMatchObject({ kind: "main threw" });
  });

  it("a plain function that returns a coroutine runs on the host, and finds what the generator function finds", async () => {
    const error = await rejection(explore(() => lostUpdate(), { strategy: "pct" }));
    expect(error.iteration).toBe(5);
    expect(error.token).toBe("1:2-1.3-1");
    await expect(replay(() => lostUpdate(), error.token)).rejects.toMatchObject({
      kind: "main threw",
    });
  });

  it("choose() in an async program is explored with the schedule", async () => {
    const seen: number[][] = [];
    const report = await explore(
      async () => {
        const first = choose(2);
        await sleep(0);
        seen.push([first, choose(3)]);
      },
      { strategy: "dfs" },
    );
    expect(seen).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 0],
      [1, 1],
      [1, 2],
    ]);
    expect(report).toMatchObject({ iterations: 6, exhausted: true });
  });

  it("an async program that waits on fromPromise cannot be explored either, and is told so", async () => {
    await expect(
      explore(async () => {
        await sleep(1);
        await fromPromise(new Promise<void>(() => {}));
      }),
    ).rejects.toThrow(
      "explore(): the program waits on a native promise (through fromPromise) or an AbortSignal",
    );
  });

  /**
   * A task that awaits a host promise, which no strategy orders, then fails when
   * `fails`. It settles in a host macrotask queued after the loop's check for such
   * awaits, so the check always sees it pending: a timer already due when the host
   * next runs timers may settle first and go unnoticed (docs/async-functions.md).
   */
  function hostAwait(fails: boolean): () => Promise<void> {
    return async () => {
      const careless = createTask(
        async () => {
          await sleep(0);
          await new Promise((resolve) => setImmediate(resolve));
          if (fails) throw new Error("late");
        },
        { name: "careless" },
      );
      await careless;
    };
  }

  it("an await of a promise the loop did not make is a warning: the runs go on, the report counts them, and explore() says so once", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      expect(await explore(hostAwait(false), { iterations: 3 })).toMatchObject({
        iterations: 3,
        uncontrolledRuns: 3,
      });
      expect(warn.mock.calls).toEqual([
        [
          'explore(): 3 of 3 runs awaited a promise the loop did not make (the first, <Task pending name="careless"> in its step 1): past it their order was the host\'s, which no schedule varies, so the search did not cover it. Await what the loop makes instead (a task, not the promise of an async function; sleep(), not a host timer; gather(), not Promise.all(); a Future or an Event, not a promise of your own that another task resolves), and give host I/O a stand-in on the loop, or pass failOnWarnings: true to fail at such an await.',
        ],
      ]);
    } finally {
      warn.mockRestore();
    }
  });

  it("a Promise.race of asynkit awaitables that another element wins counts as such an await", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const racing = async (): Promise<void> => {
        const racer = createTask(async () => {
          const work = createTask(() => sleep(50));
          await Promise.race([work, sleep(20)]);
          await sleep(1); // runs on past the race, as no task's code
        });
        await racer;
        await sleep(100); // the race's loser ends
      };
      expect(await explore(racing, { iterations: 2 })).toMatchObject({
        iterations: 2,
        uncontrolledRuns: 2,
      });
      expect(warn.mock.calls.length).toBe(1);
    } finally {
      warn.mockRestore();
    }
  });

  it("dfs does not call a space exhausted when its runs left the loop's order: their host order was not searched", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      async function shared(): Promise<void> {
        let n = 0;
        const inc = async () => {
          const seen = n;
          await sleep(0);
          n = seen + 1;
        };
        await Promise.all([inc(), inc()]); // a lost update, in an order no schedule varies
      }
      expect(await explore(shared, { strategy: "dfs" })).toMatchObject({
        iterations: 1,
        exhausted: false,
        uncontrolledRuns: 1,
      });
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      warn.mockRestore();
    }
  });

  it("with failOnWarnings it fails the run at once, saying which task awaited what", async () => {
    const error = await rejection(explore(hostAwait(true), { failOnWarnings: true }));
    expect(error.kind).toBe("exception report");
    expect((error.cause as Error).message).toBe(
      "<Task pending name=\"careless\"> awaited a promise the loop did not make, in its step 1: its continuation is not ordered by the loop, so the run is no longer deterministic. That promise is the host's, or that of an async function the task called without await, whose first asynkit await the loop took for the task's. Await what the loop makes instead (a task, not the promise of an async function; sleep(), not a host timer; gather(), not Promise.all(); a Future or an Event, not a promise of your own that another task resolves), and give host I/O a stand-in on the loop.",
    );
    // It was passed already: the message does not ask for it.
    expect(error.message.split("\n").at(-2)).toBe(
      "This run awaited 1 promise(s) the loop did not make: past them its order was the host's, so a replay may not fail the same way. Await what the loop makes instead (a task, not the promise of an async function; sleep(), not a host timer; gather(), not Promise.all(); a Future or an Event, not a promise of your own that another task resolves), and give host I/O a stand-in on the loop.",
    );
  });

  it("a failure in a run with such an await says its replay may not fail the same way", async () => {
    const error = await rejection(explore(hostAwait(true)));
    expect(error.kind).toBe("main threw");
    expect(error.message.split("\n").at(-2)).toBe(
      "This run awaited 1 promise(s) the loop did not make: past them its order was the host's, so a replay may not fail the same way. Await what the loop makes instead (a task, not the promise of an async function; sleep(), not a host timer; gather(), not Promise.all(); a Future or an Event, not a promise of your own that another task resolves), and give host I/O a stand-in on the loop, or pass failOnWarnings: true to fail at such an await.",
    );
  });
});
