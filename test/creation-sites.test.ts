/**
 * Debug mode remembers where each callback, future and task the user made was
 * made, as asyncio's source_traceback: reports through the exception handler
 * carry it (`sourceTraceback`), the default handler prints it, and String()
 * ends with "created at file:line:column".
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  type Coro,
  createTask,
  DeadlockError,
  Event,
  type ExceptionContext,
  eager,
  Future,
  getRunningLoop,
  HostEventLoop,
  Lock,
  sleep,
  VirtualEventLoop,
} from "../src/index.js";
import { creationFrames } from "../src/suspendsite.js";

const HERE = /test\/creation-sites\.test\.ts:\d+:\d+/;
const CREATED_HERE = /created at \S*test\/creation-sites\.test\.ts:\d+:\d+>$/;

/** A loop whose reports are kept, in debug mode or not. */
function reportingLoop(debug: boolean): { loop: VirtualEventLoop; reports: ExceptionContext[] } {
  const loop = new VirtualEventLoop();
  loop.setDebug(debug);
  const reports: ExceptionContext[] = [];
  loop.setExceptionHandler((_loop, context) => reports.push(context));
  return { loop, reports };
}

/** Runs the coroutine `main` makes on a new virtual loop in debug mode: its result. */
function runInDebugMode<T>(main: () => Coro<T>): T {
  const loop = new VirtualEventLoop();
  loop.setDebug(true);
  return loop.runSync(main());
}

function scheduleFailing(): void {
  getRunningLoop().callSoon(function failing() {
    throw new Error("boom");
  });
}

function* failsUnseen(): Coro<void> {
  yield* sleep(1);
  throw new Error("nobody looks");
}

function startEagerly(gate: Event): Future<void> {
  return eager(
    (function* () {
      yield* gate.wait();
    })(),
  );
}

/** A full collection, twice, after the current turn (a WeakRef holds its target until then). */
async function collectGarbage(): Promise<void> {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  for (let i = 0; i < 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
  }
}

function startUnseen(): void {
  createTask(failsUnseen(), { name: "unseen" });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("debug mode: where a callback, future or task was made", () => {
  it("a callback that throws is reported with the user's frames where it was scheduled, innermost first", () => {
    const { loop, reports } = reportingLoop(true);
    loop.runSync(
      (function* scheduling() {
        scheduleFailing();
        yield* sleep(0);
      })(),
    );
    expect(reports).toHaveLength(1);
    const frames = reports[0]?.sourceTraceback ?? [];
    expect(frames.map((frame) => /^at (\w+)/.exec(frame)?.[1])).toEqual([
      "scheduleFailing",
      "scheduling",
    ]);
    expect(frames[0]).toMatch(HERE);
    expect(String(reports[0]?.handle)).toMatch(/^<Handle failing\(\) created at /);
    expect(String(reports[0]?.handle)).toMatch(CREATED_HERE);
  });

  it("a timer's callback too, and a task's failure nobody retrieved names where the task was made", () => {
    const { loop, reports } = reportingLoop(true);
    loop.runSync(
      (function* () {
        getRunningLoop().callLater(1, function late() {
          throw new Error("late");
        });
        startUnseen();
        yield* sleep(5);
      })(),
    );
    loop.close();
    const callback = reports.find((r) => r.handle !== undefined);
    expect(callback?.sourceTraceback?.[0]).toMatch(HERE);
    const unseen = reports.find((r) => r.future !== undefined);
    expect(String(unseen?.future)).toMatch(/^<Task failed name="unseen" exception=/); // a task has its name
    expect(unseen?.sourceTraceback?.map((frame) => /^at (\w+)/.exec(frame)?.[1])).toEqual([
      "startUnseen",
      undefined, // the anonymous main coroutine
    ]);
  });

  it("the default handler prints the frames under 'created at:'", () => {
    const logged: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => logged.push(line));
    runInDebugMode(function* () {
      scheduleFailing();
      yield* sleep(0);
    });
    const lines = (logged[0] ?? "").split("\n");
    const at = lines.indexOf("created at:");
    expect(lines[0]).toBe("Exception in callback failing");
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toMatch(
      /^ {4}at scheduleFailing \(.*test\/creation-sites\.test\.ts:\d+:\d+\)$/,
    );
  });

  it("a future the user made says where in String() and in a deadlock's report", () => {
    const loop = new VirtualEventLoop();
    loop.setDebug(true);
    const made: string[] = [];
    let error: unknown;
    try {
      loop.runSync(
        (function* () {
          const never = new Future<void>();
          const alsoNever = getRunningLoop().createFuture<void>();
          const task = createTask(
            (function* () {
              yield* alsoNever;
            })(),
            { name: "waiter" },
          );
          made.push(String(never), String(alsoNever), String(task));
          yield* never;
        })(),
      );
    } catch (e) {
      error = e;
    }
    expect(made[0]).toMatch(/^<Future pending created at /);
    expect(made[0]).toMatch(CREATED_HERE);
    expect(made[1]).toMatch(CREATED_HERE);
    expect(made[2]).toBe('<Task pending name="waiter">');
    expect(error).toBeInstanceOf(DeadlockError);
    expect((error as Error).message).toMatch(
      /Task "waiter" waits on <Future pending created at \S*creation-sites\.test\.ts:\d+:\d+>/,
    );
  });

  it("asynkit's own futures are not noted: a sleep's, a lock waiter's", () => {
    const noted = runInDebugMode(function* () {
      const lock = new Lock();
      yield* lock.acquire();
      const sleeper = createTask(sleep(10), { name: "sleeper" });
      const waiter = createTask(lock.acquire(), { name: "waiter" });
      const mine = new Future<void>();
      yield* sleep(0);
      const noted = [sleeper._futWaiter, waiter._futWaiter, mine].map(
        (future) => creationFrames(future).length > 0,
      );
      lock.release();
      yield* sleeper;
      yield* waiter;
      return noted;
    });
    expect(noted).toEqual([false, false, true]);
  });

  it("a task made by eager() says where eager() was called", () => {
    const frames = runInDebugMode(function* () {
      const gate = new Event();
      const started = startEagerly(gate);
      const frames = creationFrames(started);
      gate.set();
      yield* started;
      return frames;
    });
    // The task is made when the coroutine first needs it, in its eager start: its own
    // frame first, then the code that called eager().
    expect(frames[0]).toMatch(HERE);
    expect(frames.map((frame) => /^at (\w+)/.exec(frame)?.[1])).toContain("startEagerly");
  });

  it("shows none of the host's own frames (node:…), as under AsyncLocalStorage.run()", async () => {
    const loop = new HostEventLoop({ asyncLocalStorage: true });
    loop.setDebug(true);
    const frames = await loop.runUntilComplete(async () => {
      const made = createTask(sleep(0), { name: "made here" });
      await made;
      return creationFrames(made);
    });
    loop.close();
    expect(frames.length).toBeGreaterThan(0);
    expect(frames.filter((frame) => frame.includes("(node:"))).toEqual([]);
  });

  it("where a live task was made keeps none of the finished tasks that made it alive", async () => {
    const loop = new VirtualEventLoop();
    loop.setDebug(true);
    const made: WeakRef<object>[] = [];
    function* link(n: number): Coro<void> {
      yield* sleep(1);
      if (n === 0)
        yield* sleep(1e9); // the last of the chain lives on
      else made.push(new WeakRef(createTask(link(n - 1))));
    }
    loop.runSync(
      (function* () {
        made.push(new WeakRef(createTask(link(100))));
        yield* sleep(200);
      })(),
    );
    // A few rounds at most, as collection() gives: a busy worker's collector may leave one for the next.
    const alive = () => made.filter((ref) => ref.deref() !== undefined).length;
    for (let round = 0; round < 5 && alive() > 1; round++) await collectGarbage();
    expect(alive()).toBe(1);
  });

  it("nothing is noted without debug mode", () => {
    const { loop, reports } = reportingLoop(false);
    let future = "";
    loop.runSync(
      (function* () {
        future = String(new Future());
        scheduleFailing();
        yield* sleep(0);
      })(),
    );
    expect(future).toBe("<Future pending>");
    expect(reports).toHaveLength(1);
    expect(reports[0]?.sourceTraceback).toBeUndefined();
    expect(String(reports[0]?.handle)).toBe("<Handle failing()>");
  });
});
