/**
 * asynkit/trace and the asynkit:* channels: what a recorder writes for known
 * programs, that it is the same byte for byte across processes, that begin/end
 * and flow events pair up, and what the channels publish.
 */
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it, onTestFinished } from "vitest";
import { observed } from "../src/channels.js";
import {
  type Coro,
  createTask,
  Event,
  Future,
  fromPromise,
  getRunningLoop,
  HostEventLoop,
  SchedulingVirtualEventLoop,
  sleep,
  sleepInsert,
  type Task,
  taskGroup,
  taskInterrupt,
  taskReinsert,
  taskSwitch,
  VirtualEventLoop,
} from "../src/index.js";
import { explore } from "../src/testing/index.js";
import { type ChromeTrace, type TraceEvent, traceRecorder } from "../src/trace/index.js";
import { removeScripts, root, runScript } from "./child.js";
import { caught, collection, whenBlockedOnHost } from "./helpers.js";

afterAll(removeScripts);

/** Throws unless every B has its E (same name) on its own track and every flow start one finish. */
function checkPairs(trace: ChromeTrace): { slices: number; flows: number } {
  const open = new Map<string, string[]>();
  const flows = new Map<number, string>();
  let slices = 0;
  for (const event of trace.traceEvents) {
    const key = `${event.pid}/${event.tid}`;
    const stack = open.get(key) ?? [];
    open.set(key, stack);
    if (event.ph === "B") stack.push(event.name);
    if (event.ph === "E") {
      expect(stack.pop()).toBe(event.name);
      slices++;
    }
    if (event.ph === "s") flows.set(event.id as number, "started");
    if (event.ph === "f") {
      expect(flows.get(event.id as number)).toBe("started");
      flows.set(event.id as number, "finished");
    }
  }
  for (const stack of open.values()) expect(stack).toEqual([]);
  expect([...flows.values()].every((state) => state === "finished")).toBe(true);
  return { slices, flows: flows.size };
}

/**
 * What each wakeup arrow into a task's steps starts from: the slice enclosing
 * the arrow's start, with its thread's name.
 */
function wakers(trace: ChromeTrace, name: string): string[] {
  const threads = new Map<string, string>();
  const open = new Map<string, string[]>();
  const starts = new Map<number, string>();
  for (const event of trace.traceEvents) {
    const key = `${event.pid}/${event.tid}`;
    if (event.name === "thread_name") threads.set(key, String(event.args?.name));
    const stack = open.get(key) ?? [];
    open.set(key, stack);
    if (event.ph === "B") stack.push(event.name);
    if (event.ph === "E") stack.pop();
    const thread = (threads.get(key) ?? "").replace(/ \(.*\)$/, "");
    if (event.ph === "s") starts.set(event.id as number, `${thread}: ${stack.at(-1)}`);
  }
  return trackOf(trace, name)
    .filter((e) => e.ph === "f" && e.name === "wakeup")
    .map((e) => starts.get(e.id as number) as string);
}

/** The events of one task's track, by name, with its thread found by task name. */
function trackOf(trace: ChromeTrace, name: string): TraceEvent[] {
  const thread = trace.traceEvents.find(
    (e) => e.name === "thread_name" && e.args?.name === `Task ${JSON.stringify(name)}`,
  );
  return trace.traceEvents.filter((e) => e.ph !== "M" && e.tid === thread?.tid);
}

const readmeEagerExample = `
import { type Awaitable, type Coro, createTask, eager, run, sleep, VirtualEventLoop } from "asynkit";
import { traceRecorder } from ${JSON.stringify(pathToFileURL(join(root, "src", "trace", "index.ts")).href)};
const rec = traceRecorder();
const log: (string | number)[] = [];
function* test(): Coro<void> {
  log.push(1);
  yield* sleep(20); // some long I/O
  log.push(2);
}
function* caller(convert: (coro: Coro<void>) => Awaitable<void>): Coro<void> {
  log.length = 0;
  log.push("a");
  const future = convert(test());
  log.push("b");
  yield* sleep(10); // some other I/O
  log.push("c");
  yield* future;
}
const virtual = { loopFactory: () => new VirtualEventLoop() };
await run(caller((c) => c), virtual);
await run(caller((c) => createTask(c)), virtual);
await run(caller((c) => eager(c)), virtual);
rec.stop();
console.log(JSON.stringify(rec.toChromeTrace()));
`;

describe("traceRecorder", () => {
  it("gives the README's eager example the same trace in two processes, every pair matched", async () => {
    const [first, second] = await Promise.all([
      runScript("trace-1", readmeEagerExample),
      runScript("trace-2", readmeEagerExample),
    ]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    const trace = JSON.parse(first.stdout) as ChromeTrace;
    const processes = trace.traceEvents.filter((e) => e.name === "process_name");
    expect(processes.map((e) => e.args?.name)).toEqual([
      "VirtualEventLoop 1",
      "VirtualEventLoop 2",
      "VirtualEventLoop 3",
    ]);
    const { slices, flows } = checkPairs(trace);
    expect(slices).toBeGreaterThan(10);
    expect(flows).toBeGreaterThan(2);
  }, 30_000);

  it("records each step, each wait and the arrows between tasks, in virtual time", () => {
    const loop = new VirtualEventLoop();
    const rec = traceRecorder(loop);
    loop.runSync(
      loop.createTask(
        (function* () {
          const child = createTask(sleep(10), { name: "child" });
          yield* child;
        })(),
        { name: "main" },
      ),
    );
    rec.stop();
    const trace = rec.toChromeTrace();
    checkPairs(trace);
    const brief = (e: TraceEvent) => `${e.ts} ${e.ph} ${e.name}`;
    expect(trackOf(trace, "main").map(brief)).toEqual([
      "0 i created",
      "0.003 B step",
      "0.005 s spawn",
      "0.007 E step",
      '0.008 B waiting for Task "child"',
      '10000.008 E waiting for Task "child"',
      "10000.014 B step",
      "10000.015 f wakeup",
      "10000.016 i finished",
      "10000.018 E step",
    ]);
    expect(trackOf(trace, "child").map(brief)).toEqual([
      "0.004 i created",
      "0.01 B step",
      "0.011 f spawn",
      "0.013 E step",
      "0.014 B waiting for sleep until t=10 ms",
      "10000.002 E waiting for sleep until t=10 ms",
      "10000.006 B step",
      "10000.007 f wakeup",
      "10000.009 s wakeup",
      "10000.01 i finished",
      "10000.012 E step",
    ]);
    // The loop's own track: timers, and the callbacks it ran (the sleep's deadline, runSync's stop).
    expect(
      trace.traceEvents.filter((e) => e.tid === 0 && e.ph !== "M" && e.ph !== "C").map(brief),
    ).toEqual([
      "0.012 i timer scheduled",
      "10000 i timer fired",
      "10000.001 B timer sleep until t=10 ms",
      "10000.003 s wakeup",
      "10000.004 E timer sleep until t=10 ms",
      "10000.019 B callback stop",
      "10000.02 E callback stop",
    ]);
    expect(wakers(trace, "main")).toEqual(['Task "child": step']);
    expect(wakers(trace, "child")).toEqual(["loop: timer sleep until t=10 ms"]);
    const counters = trace.traceEvents.filter((e) => e.name === "live tasks");
    expect(counters.map((e) => e.args?.tasks)).toEqual([1, 2, 1, 0]);
  });

  it("draws wakeups from the timer or callback that completed the future", () => {
    const loop = new VirtualEventLoop();
    const rec = traceRecorder(loop);
    const wait = (future: Future<number>): Coro<number> => future[Symbol.iterator]();
    loop.runSync(
      loop.createTask(
        (function* () {
          const late = new Future<number>();
          const soon = new Future<number>();
          const gate = new Event();
          createTask(wait(late), { name: "late" });
          createTask(wait(soon), { name: "soon" });
          const gated = [1, 2].map((n) => createTask(gate.wait(), { name: `gated ${n}` }));
          yield* sleep(1);
          loop.callLater(5, function settleLate() {
            late.setResult(1);
          });
          loop.callSoon(function settleSoon() {
            soon.setResult(2);
            gate.set();
          });
          yield* sleep(10);
          yield* gated[1] as Task;
        })(),
        { name: "main" },
      ),
    );
    rec.stop();
    const trace = rec.toChromeTrace();
    checkPairs(trace);
    expect(wakers(trace, "late")).toEqual(["loop: timer settleLate"]);
    expect(wakers(trace, "soon")).toEqual(["loop: callback settleSoon"]);
    // One callback, two arrows out of its one slice.
    expect(wakers(trace, "gated 1")).toEqual(["loop: callback settleSoon"]);
    expect(wakers(trace, "gated 2")).toEqual(["loop: callback settleSoon"]);
    expect(wakers(trace, "main")).toEqual([
      "loop: timer sleep until t=1 ms",
      "loop: timer sleep until t=11 ms",
    ]);
    const slices = trace.traceEvents.filter((e) => e.tid === 0 && e.ph === "B");
    expect(slices.map((e) => [e.ts, e.name, e.args])).toEqual([
      [1000.001, "timer sleep until t=1 ms", { when: 1 }],
      [1000.012, "callback settleSoon", undefined],
      [6000.001, "timer settleLate", { when: 6 }],
      [11000.001, "timer sleep until t=11 ms", { when: 11 }],
      [11000.011, "callback stop", undefined],
    ]);
  });

  it("draws a wakeup from outside the loop when host code completed the future", async () => {
    const loop = new HostEventLoop();
    const rec = traceRecorder(loop);
    let settle = (_: number) => {};
    const hosted = new Promise<number>((resolve) => {
      settle = resolve;
    });
    await loop.runUntilComplete(
      loop.createTask(
        (function* () {
          const future = fromPromise(hosted);
          setTimeout(() => settle(1), 1);
          yield* future;
        })(),
        { name: "main" },
      ),
    );
    rec.stop();
    loop.close();
    const trace = rec.toChromeTrace();
    checkPairs(trace);
    expect(wakers(trace, "main")).toEqual(["loop: outside the loop"]);
  });

  it("shows a native task blocked on a host promise as waiting for it, from when the loop finds it blocked", async () => {
    const loop = new HostEventLoop();
    const rec = traceRecorder(loop);
    const heard: { name: string; future: unknown; what: string }[] = [];
    // The host promise settles once the loop has found the task blocked on it (or, should it
    // never, after a second): a timer of its own could fire before the loop looks.
    let fallback: ReturnType<typeof setTimeout> | undefined;
    const hosted = new Promise<void>((resolve) => {
      fallback = setTimeout(resolve, 1000);
      onTestFinished(whenBlockedOnHost("fetcher", resolve));
    });
    onTestFinished(() => clearTimeout(fallback));
    const onSuspended = (message: unknown) => {
      const { task, future, what } = message as { task: Task; future: unknown; what: string };
      heard.push({ name: task.getName(), future, what });
    };
    subscribe("asynkit:task.suspended", onSuspended);
    try {
      await loop.runUntilComplete(
        loop.createTask(
          async () => {
            await hosted;
            await sleep(0);
          },
          { name: "fetcher" },
        ),
      );
    } finally {
      unsubscribe("asynkit:task.suspended", onSuspended);
      rec.stop();
      loop.close();
    }
    expect(heard).toEqual([
      { name: "fetcher", future: null, what: "a native promise only the host settles" },
    ]);
    const trace = rec.toChromeTrace();
    checkPairs(trace);
    expect(
      trackOf(trace, "fetcher")
        .filter((e) => e.ph === "B" || e.ph === "E")
        .map((e) => `${e.ph} ${e.name}`),
    ).toEqual([
      "B step",
      "E step",
      "B waiting for a native promise only the host settles",
      "E waiting for a native promise only the host settles",
      // Its function's end; the sleep(0) after the host await ran as a task of its own
      // (without the asyncLocalStorage option the loop cannot tell whose await it is).
      "B step",
      "E step",
    ]);
  });

  it("draws a wakeup from a callback of explore()'s loop, which runs its entries itself", async () => {
    const rec = traceRecorder();
    await explore(function* () {
      const settled = new Future<number>();
      getRunningLoop().callSoon(() => settled.setResult(1));
      yield* settled;
    });
    rec.stop();
    const trace = rec.toChromeTrace();
    checkPairs(trace);
    const woken = trace.traceEvents.filter((e) => e.ph === "f" && e.name === "wakeup");
    expect(woken.length).toBeGreaterThan(0);
    const thread = trace.traceEvents.find((e) => e.ph === "M" && e.tid === woken[0]?.tid);
    expect(wakers(trace, String(thread?.args?.name).replace(/^Task "(.*)"$/, "$1"))).toEqual([
      "loop: callback",
    ]);
  });

  it("shows the parent of each task of a three-level TaskGroup", () => {
    const loop = new VirtualEventLoop();
    const rec = traceRecorder(loop);
    function* level(depth: number): Coro<void> {
      if (depth === 3) return yield* sleep(1);
      yield* taskGroup(function* (tg) {
        tg.createTask(level(depth + 1), { name: `level ${depth + 1}` });
        yield;
      });
    }
    loop.runSync(loop.createTask(level(1), { name: "level 1" }));
    rec.stop();
    const trace = rec.toChromeTrace();
    checkPairs(trace);
    const parents = trace.traceEvents
      .filter((e) => e.name === "created")
      .map((e) => [e.tid, e.args?.parent]);
    expect(parents).toEqual([
      [1, undefined],
      [2, 'Task "level 1"'],
      [3, 'Task "level 2"'],
    ]);
    expect(
      trace.traceEvents.filter((e) => e.name === "spawn").map((e) => `${e.ph} ${e.tid}`),
    ).toEqual(["s 1", "f 2", "s 2", "f 3"]);
  });

  it("marks moves of the ready queue on the moved task's track", () => {
    const loop = new SchedulingVirtualEventLoop();
    const rec = traceRecorder(loop);
    loop.runSync(
      (function* () {
        const tasks = ["a", "b"].map((name) => createTask(sleep(0), { name }));
        taskReinsert(tasks[1] as Task, 0);
        yield* tasks[0] as Task;
      })(),
    );
    rec.stop();
    const moves = trackOf(rec.toChromeTrace(), "b").filter((e) => e.ph === "i");
    expect(moves.map((e) => [e.name, e.args])).toEqual([
      ["created", { parent: expect.stringMatching(/^Task "Task-\d+"$/) }],
      ["taskReinsert", { position: 0 }],
      ["finished", undefined],
    ]);
  });

  it("marks an interrupt on the interrupted task's track", () => {
    const loop = new SchedulingVirtualEventLoop();
    const rec = traceRecorder(loop);
    loop.runSync(
      (function* () {
        const sleeper = createTask(sleep(1000), { name: "sleeper" });
        yield* sleep(0);
        yield* taskInterrupt(sleeper, "wake up");
        yield* caught(() => sleeper);
      })(),
    );
    rec.stop();
    const instants = trackOf(rec.toChromeTrace(), "sleeper").filter((e) => e.ph === "i");
    expect(instants.map((e) => [e.name, e.args])).toContainEqual([
      "interrupted",
      { error: "wake up" },
    ]);
  });

  it("records nothing once stopped, and nothing of other loops", () => {
    const loop = new VirtualEventLoop();
    const other = new VirtualEventLoop();
    const rec = traceRecorder(loop);
    other.runSync(sleep(1));
    expect(rec.toChromeTrace().traceEvents).toEqual([]);
    rec[Symbol.dispose]();
    loop.runSync(sleep(1));
    expect(rec.toChromeTrace()).toEqual({ traceEvents: [], displayTimeUnit: "ms" });
  });

  it("refuses a loop that is closed already, which would leave it empty", () => {
    const loop = new VirtualEventLoop();
    loop.runSync(sleep(1));
    loop.close();
    expect(() => traceRecorder(loop)).toThrow(
      "traceRecorder(): the loop is closed and runs nothing more: attach the recorder before its run, or to the loop that runs next.",
    );
  });

  it("of one loop, stops when that loop is closed: it hears no later loop", () => {
    const loop = new VirtualEventLoop();
    const rec = traceRecorder(loop);
    loop.runSync(sleep(1));
    const recorded = rec.toChromeTrace();
    expect(observed).toBe(true);
    loop.close();
    // Nobody listens any more: later loops publish nothing, and the recorder keeps what it had.
    expect(observed).toBe(false);
    new VirtualEventLoop().runSync(sleep(1));
    expect(rec.toChromeTrace()).toEqual(recorded);
  });

  it("stopped mid-run, or by its loop's close(), it ends each slice still open at that moment", () => {
    /** Each slice still open at the trace's end, as "thread: name". */
    const openAtEnd = (trace: ChromeTrace): string[] => {
      const open = new Map<number, string[]>();
      for (const e of trace.traceEvents) {
        const names = open.get(e.tid) ?? [];
        if (e.ph === "B") names.push(e.name);
        if (e.ph === "E") names.pop();
        open.set(e.tid, names);
      }
      return [...open].flatMap(([tid, names]) => names.map((name) => `${tid}: ${name}`));
    };
    const ends = (trace: ChromeTrace, tid: number) =>
      trace.traceEvents
        .filter((e) => e.tid === tid && e.ph === "E")
        .map((e) => `${e.name} ${e.ts}`);

    // Stopped by leaving a `using` scope inside main's step, while "w" sleeps.
    const first = new VirtualEventLoop();
    let scoped: { toChromeTrace(): ChromeTrace } | null = null;
    first.runSync(
      first.createTask(
        (function* () {
          const w = createTask(sleep(10), { name: "w" });
          {
            using rec = traceRecorder(first);
            scoped = rec;
            yield* sleep(1);
          }
          yield* w;
        })(),
        { name: "main" },
      ),
    );
    first.close();
    const stopped = (scoped as unknown as { toChromeTrace(): ChromeTrace }).toChromeTrace();
    expect(openAtEnd(stopped)).toEqual([]);
    // Both end at t=1 ms, as the scope is left: w's sleep (seen first), and main's step.
    expect([ends(stopped, 1).at(-1), ends(stopped, 2).at(-1)]).toEqual([
      "waiting for sleep until t=10 ms 1000.007",
      "step 1000.008",
    ]);

    // Stopped by its loop's close(), with a task still waiting.
    const second = new VirtualEventLoop();
    const rec = traceRecorder(second);
    second.createTask(new Event().wait(), { name: "forgotten" });
    second.runSync(sleep(1));
    second.close();
    const closed = rec.toChromeTrace();
    expect(openAtEnd(closed)).toEqual([]);
    const forgotten = closed.traceEvents.find(
      (e) => e.ph === "M" && e.name === "thread_name" && e.args?.name === 'Task "forgotten"',
    )?.tid as number;
    expect(ends(closed, forgotten)).toEqual(["step 0.006", "waiting for Event.wait() 1000.013"]);
  });

  it("stops at maxEvents, and the trace says so", () => {
    const run = (maxEvents?: number) => {
      const loop = new VirtualEventLoop();
      const rec = traceRecorder(loop, maxEvents === undefined ? undefined : { maxEvents });
      loop.runSync(function* () {
        for (let i = 0; i < 100; i++) yield* createTask(sleep(1), { name: `t${i}` });
      });
      rec.stop();
      return rec;
    };
    const whole = run().toChromeTrace().traceEvents;
    expect(whole.length).toBeGreaterThan(500);
    const rec = run(100);
    const trace = rec.toChromeTrace();
    expect(rec.truncated).toBe(true);
    // The first 100 events the whole recording made (its metadata apart), in its order, but
    // for the starts of flows whose finish was not kept; then an end for each slice still
    // open, innermost first, a nanosecond apart after its loop's last event.
    const isMeta = (e: TraceEvent) => e.ph === "M";
    const events = trace.traceEvents.filter((e) => !isMeta(e));
    const metadata = trace.traceEvents.length - events.length;
    const first = whole.filter((e) => !isMeta(e)).slice(0, 100 - metadata);
    const finished = new Set(first.filter((e) => e.ph === "f").map((e) => e.id));
    const kept = first.filter((e) => e.ph !== "s" || finished.has(e.id));
    expect(kept.length).toBe(first.length - 1); // the flow to the task created last was cut
    // Task names differ between the runs (each run's tasks are numbered on): compared without args.
    const key = (e: TraceEvent) => `${e.ph} ${e.name} ${e.ts} ${e.tid} ${e.id}`;
    expect(events.slice(0, kept.length).map(key)).toEqual(kept.map(key));
    const closing = events.slice(kept.length);
    expect(closing.length).toBeGreaterThan(0);
    const open = new Map<number, string[]>();
    for (const e of first.filter((e) => e.ph === "B" || e.ph === "E")) {
      const names = open.get(e.tid) ?? [];
      if (e.ph === "B") names.push(e.name);
      else names.pop();
      open.set(e.tid, names);
    }
    const lastTs = Math.max(...first.map((e) => e.ts));
    expect(closing).toEqual(
      [...open]
        .flatMap(([tid, names]) =>
          names.reverse().map((name) => ({ name, ph: "E", pid: first[0]?.pid, tid })),
        )
        .map((e, i) => ({ ...e, ts: (Math.round(lastTs * 1000) + i + 1) / 1000 })),
    );
    expect(trace.otherData).toEqual({
      truncated: "recording stopped at 100 events (traceRecorder()'s maxEvents)",
    });
    expect(run(Number.POSITIVE_INFINITY).truncated).toBe(false);
    expect(() => traceRecorder(null, { maxEvents: 0 })).toThrow(RangeError);
    expect(() => traceRecorder(null, { maxEvnts: 5 } as never)).toThrow(
      'traceRecorder() has no option "maxEvnts": its options are maxEvents.',
    );
  });

  it("cut short at any event, keeps the wakeup flow from outside the loop whole", async () => {
    const record = async (maxEvents: number) => {
      const loop = new HostEventLoop();
      const rec = traceRecorder(loop, { maxEvents });
      await loop.runUntilComplete(function* () {
        yield* fromPromise(new Promise((resolve) => setTimeout(resolve, 1)));
      });
      loop.close();
      return rec.toChromeTrace().traceEvents;
    };
    const all = await record(Number.POSITIVE_INFINITY);
    // The path under test: a wakeup flow drawn from a slice of the loop's own track.
    expect(all.filter((e) => e.tid === 0).map((e) => `${e.ph} ${e.name}`)).toContain("s wakeup");
    expect(all.map((e) => `${e.ph} ${e.name}`)).toContain("B outside the loop");
    const whole = all.length;
    for (let maxEvents = 1; maxEvents <= whole; maxEvents++) {
      const events = await record(maxEvents);
      const finished = new Set(events.filter((e) => e.ph === "f").map((e) => e.id));
      const unfinished = events.filter((e) => e.ph === "s" && !finished.has(e.id));
      expect({ maxEvents, unfinished }).toEqual({ maxEvents, unfinished: [] });
    }
  });

  it("cut short at any event, keeps each flow whole and each slice ended, and records nothing after", () => {
    for (let maxEvents = 10; maxEvents <= 120; maxEvents++) {
      const loop = new VirtualEventLoop();
      const rec = traceRecorder(loop, { maxEvents });
      loop.runSync(function* () {
        for (let i = 0; i < 10; i++) createTask(sleep(1), { name: `c${i}` }); // spawns in one step
        yield* sleep(5);
      });
      const events = rec.toChromeTrace().traceEvents;
      const ids = (ph: string) =>
        events
          .filter((e) => e.ph === ph)
          .map((e) => e.id as number)
          .sort((a, b) => a - b);
      expect({ maxEvents, starts: ids("s") }).toEqual({ maxEvents, starts: ids("f") });
      const depth = new Map<number, number>();
      for (const e of events) {
        if (e.ph === "B") depth.set(e.tid, (depth.get(e.tid) ?? 0) + 1);
        if (e.ph === "E") depth.set(e.tid, (depth.get(e.tid) ?? 0) - 1);
      }
      expect([...depth.values()].every((open) => open === 0)).toBe(true);
      // After the ends that close the recording, nothing: they are its last events.
      const last = events.filter((e) => e.ph !== "M").at(-1);
      expect(last?.ph).toBe("E");
    }
  });
});

describe("taskStats", () => {
  it("counts each task's steps, busy time, longest step, waits and scheduling delay", () => {
    const loop = new VirtualEventLoop();
    const rec = traceRecorder(loop);
    function* worker(): Coro<void> {
      loop.advance(3); // a step that computes for 3 ms
      yield;
      loop.advance(1);
      yield* sleep(10);
    }
    loop.runSync(
      loop.createTask(
        (function* () {
          const a = createTask(worker(), { name: "a" });
          const b = createTask(worker(), { name: "b" });
          yield* a;
          yield* b;
        })(),
        { name: "main" },
      ),
    );
    rec.stop();
    const stat = (
      name: string,
      steps: number,
      busy: number,
      longest: number,
      waiting: number,
      ready: number,
    ) => ({
      name,
      steps,
      busyMs: busy,
      longestStepMs: longest,
      waitingMs: waiting,
      readyMs: ready,
    });
    expect(rec.taskStats()).toEqual([
      // main waits for a from 0 to 17, then for b until 18
      stat("main", 3, 0, 0, 18, 0),
      // a runs at 0 and 6 (ready from 3, when its first step yielded), sleeps from 7 to 17
      stat("a", 3, 4, 3, 10, 3),
      // b waits behind a: ready from 0 to 3, then from 6 to 7; sleeps from 8 to 18
      stat("b", 3, 4, 3, 10, 4),
    ]);
  });

  it("counts a wait still open up to the time asked, and up to the stop once stopped", () => {
    const loop = new VirtualEventLoop();
    const rec = traceRecorder(loop);
    const waited = (): number[] => rec.taskStats().map((stats) => stats.waitingMs);
    const seen = loop.runSync(
      loop.createTask(
        (function* () {
          createTask(new Event().wait(), { name: "waiter" });
          yield* sleep(4);
          const midway = waited();
          yield* sleep(6);
          return midway;
        })(),
        { name: "main" },
      ),
    );
    loop.advance(5); // still recorded: counted
    rec.stop();
    loop.advance(5); // after the stop: not counted
    // main slept 4, then 10 in all; the waiter waits from t=0 (its step) to the stop at t=15.
    expect([seen, waited()]).toEqual([
      [4, 4],
      [10, 15],
    ]);
  });
});

describe("a recorder left on", () => {
  it("keeps what the trace needs, not the tasks it saw (nor their results)", async () => {
    const loop = new VirtualEventLoop();
    const rec = traceRecorder(loop);
    const gone = collection();
    loop.runSync(
      loop.createTask(
        (function* () {
          for (const name of ["a", "b", "c"]) {
            const task = createTask(sleep(1, new Array(1000).fill(name)), { name });
            gone.watch(task, name);
            yield* task;
          }
        })(),
        { name: "main" },
      ),
    );
    expect(await gone.collected(3)).toEqual(["a", "b", "c"]);
    expect(rec.taskStats().map((stat) => stat.name)).toEqual(["main", "a", "b", "c"]);
    rec.stop();
    loop.close();
  });
});

describe("native tasks in a trace", () => {
  it("count one step per await, with the function's own code inside it, as a generator task's", async () => {
    const loop = new VirtualEventLoop();
    const rec = traceRecorder(loop);
    const ev = new Event();
    await loop.runUntilComplete(async () => {
      const waiter = createTask(ev.wait(), { name: "waiter" });
      const crunch = createTask(
        async () => {
          await sleep(10);
          loop.advance(3); // computes for 3 ms, then wakes the waiter
          ev.set();
          await sleep(10);
        },
        { name: "crunch" },
      );
      await crunch;
      await waiter;
    });
    rec.stop();
    loop.close();
    const trace = rec.toChromeTrace();
    checkPairs(trace);
    expect(rec.taskStats().find((s) => s.name === "crunch")).toEqual({
      name: "crunch",
      steps: 3,
      busyMs: 3,
      longestStepMs: 3,
      waitingMs: 20,
      readyMs: 0,
    });
    // The arrow to the waiter starts inside crunch's step, where ev.set() ran.
    expect(wakers(trace, "waiter")).toEqual(['Task "crunch": step']);
  });
});

describe("asynkit:* channels", () => {
  it("publish a task's life to diagnostics_channel subscribers, in order", () => {
    const heard: string[] = [];
    // Every channel but ready.move (a plain loop moves nothing).
    const tasks = ["created", "step.start", "step.end", "suspended", "woken", "cancelled", "done"];
    const names = [
      ...tasks.map((name) => `task.${name}`),
      "timer.scheduled",
      "timer.fired",
      "callback.start",
      "callback.end",
    ];
    const listeners = names.map((name) => {
      const listener = (message: unknown) => {
        const { task, what, state, when, name: callback } = message as Record<string, unknown>;
        const who = task === undefined ? "" : ` ${(task as Task).getName()}`;
        heard.push(
          `${name}${who}${[what, state, task === undefined ? callback : undefined, when]
            .filter((x) => x !== undefined && x !== null)
            .map((x) => ` ${x}`)
            .join("")}`,
        );
      };
      subscribe(`asynkit:${name}`, listener);
      return () => unsubscribe(`asynkit:${name}`, listener);
    });
    const loop = new VirtualEventLoop();
    try {
      loop.runSync(
        loop.createTask(
          (function* () {
            const go = new Event();
            const waiter = createTask(go.wait(), { name: "waiter" });
            yield* sleep(5);
            waiter.cancel();
            yield* sleep(0);
          })(),
          { name: "main" },
        ),
      );
    } finally {
      for (const stop of listeners) stop();
    }
    // "main" was made before the run began, on a loop not running: subscribers are looked for then.
    expect(heard).toEqual([
      "task.created main",
      "task.step.start main",
      "task.created waiter",
      "timer.scheduled 5",
      "task.suspended main sleep until t=5 ms",
      "task.step.end main",
      "task.step.start waiter",
      "task.suspended waiter Event.wait()",
      "task.step.end waiter",
      "timer.fired 5",
      "callback.start sleep until t=5 ms 5",
      "task.woken main",
      "callback.end",
      "task.step.start main",
      "task.cancelled waiter",
      "task.woken waiter",
      "task.step.end main",
      "task.step.start waiter",
      "task.done waiter cancelled",
      "task.step.end waiter",
      "task.step.start main",
      "task.done main finished",
      "task.step.end main",
      "callback.start stop",
      "callback.end",
    ]);
  });

  it("are heard from the process's first run() on, its main task's creation included", async () => {
    const { code, stdout, stderr } = await runScript(
      "first-run",
      `
import { subscribe } from "node:diagnostics_channel";
import { createTask, run, sleep } from "asynkit";
const heard = [];
for (const name of ["task.created", "task.done"]) {
  subscribe(\`asynkit:\${name}\`, (m) => heard.push(\`\${name} \${m.task.getName()}\`));
}
await run(function* () { yield* createTask(sleep(1), { name: "child" }); });
console.log(heard.join(", "));
`,
    );
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(
      "task.created Task-1, task.created child, task.done child, task.done Task-1",
    );
  }, 30_000);

  it("leave a host without diagnostics_channel working, and a recorder hears them there", async () => {
    const src = (file: string) => JSON.stringify(pathToFileURL(join(root, "src", file)).href);
    const { code, stdout, stderr } = await runScript(
      "no-diagnostics",
      `
import { subscribe } from "node:diagnostics_channel";
let heard = 0;
subscribe("asynkit:task.created", () => heard++);
delete (process as { getBuiltinModule?: unknown }).getBuiltinModule; // as a browser has none
const { createTask, sleep, VirtualEventLoop } = await import(${src("index.ts")});
const { traceRecorder } = await import(${src("trace/index.ts")});
const loop = new VirtualEventLoop();
const rec = traceRecorder(loop);
loop.runSync(loop.createTask((function* () { yield* createTask(sleep(5), { name: "nap" }); })(), { name: "main" }));
rec.stop();
const events = rec.toChromeTrace().traceEvents;
console.log(events.filter((e) => e.ph === "f").map((e) => e.name).join(" "), heard);
`,
    );
    expect(stderr).toBe("");
    expect(code).toBe(0);
    // The recorder heard the run; the channels, which asynkit could not reach, did not.
    expect(stdout.trim()).toBe("spawn wakeup wakeup 0");
  }, 30_000);

  it("publish each move of the scheduling API once, as the call the program made", () => {
    const heard: string[] = [];
    const listener = (message: unknown) => {
      const { op, task, position } = message as { op: string; task: Task | null; position: number };
      heard.push(`${op} ${task?.getName()} ${position}`);
    };
    subscribe("asynkit:ready.move", listener);
    try {
      new SchedulingVirtualEventLoop().runSync(
        (function* () {
          const [a, b, c] = ["a", "b", "c"].map((name) => createTask(sleep(0), { name })) as Task[];
          taskReinsert(b as Task, 0);
          taskReinsert(0); // the last entry: c
          yield* taskSwitch(a as Task);
          yield* sleepInsert(1);
          (getRunningLoop() as SchedulingVirtualEventLoop).readyRotate(-1);
          yield* c as Task;
        })(),
      );
    } finally {
      unsubscribe("asynkit:ready.move", listener);
    }
    expect(heard.map((line) => line.replace(/Task-\d+/, "main"))).toEqual([
      "taskReinsert b 0",
      "taskReinsert c 0",
      "taskSwitch a 0",
      "sleepInsert main 1",
      "readyRotate undefined -1",
    ]);
  });

  it("tell a subscriber that came after the loop last ran that the loop closed", () => {
    const loop = new VirtualEventLoop();
    loop.runSync(sleep(1));
    const closed: unknown[] = [];
    const listener = (message: unknown) => closed.push((message as { loop: unknown }).loop);
    subscribe("asynkit:loop.closed", listener);
    try {
      loop.close();
    } finally {
      unsubscribe("asynkit:loop.closed", listener);
    }
    expect(closed).toEqual([loop]);
  });

  it("are silent when nobody subscribes", () => {
    const heard: unknown[] = [];
    const listener = (message: unknown) => heard.push(message);
    subscribe("asynkit:task.step.start", listener);
    unsubscribe("asynkit:task.step.start", listener);
    new VirtualEventLoop().runSync(sleep(1));
    expect(heard).toEqual([]);
  });
});
