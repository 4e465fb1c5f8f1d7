/**
 * Debug mode remembers where each callback, future and task the user made was
 * made, as asyncio's source_traceback: reports through the exception handler
 * carry it (`sourceTraceback`), the default handler prints it, and String()
 * ends with "created at file:line:column".
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  type Coro,
  createTask,
  DeadlockError,
  type ExceptionContext,
  Future,
  getRunningLoop,
  sleep,
  VirtualEventLoop,
} from "../src/index.js";

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

function scheduleFailing(): void {
  getRunningLoop().callSoon(function failing() {
    throw new Error("boom");
  });
}

function* failsUnseen(): Coro<void> {
  yield* sleep(1);
  throw new Error("nobody looks");
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
    expect(String(reports[0]?.handle)).toMatch(/^<Handle failing created at /);
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
    expect(String(unseen?.future)).toBe('<Task failed name="unseen">'); // a task has its name
    expect(unseen?.sourceTraceback?.map((frame) => /^at (\w+)/.exec(frame)?.[1])).toEqual([
      "startUnseen",
      undefined, // the anonymous main coroutine
    ]);
  });

  it("the default handler prints the frames under 'created at:'", () => {
    const logged: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => logged.push(line));
    const loop = new VirtualEventLoop();
    loop.setDebug(true);
    loop.runSync(
      (function* () {
        scheduleFailing();
        yield* sleep(0);
      })(),
    );
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

  it("asynkit's own futures are not noted: a sleep's shows no place", () => {
    const loop = new VirtualEventLoop();
    loop.setDebug(true);
    let error: unknown;
    try {
      loop.runSync(
        (function* () {
          createTask(sleep(Number.POSITIVE_INFINITY), { name: "forever" });
          yield* new Future<void>();
        })(),
      );
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toMatch(
      /^ {2}Task "forever" waits on sleep until t=Infinity ms since t=0 ms$/m,
    );
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
    expect(String(reports[0]?.handle)).toBe("<Handle failing>");
  });
});
