/**
 * Immediate interruption: taskThrow, taskInterrupt and taskTimeout, after
 * asynkit's tests/experimental/test_interrupt.py (translated: asyncio's Event,
 * Queue and sleep become asynkit's; pytest.raises becomes caught()), plus the
 * primitives the issue names (Lock, Queue.get, Event, sleep, a task) and the
 * AbortSignal bridge. Every test runs on both scheduling loops.
 */
// biome-ignore-all lint/correctness/useYield: coroutines that finish without suspending are part of what is tested.
import { describe, expect, it } from "vitest";
import {
  type Awaitable,
  type BaseEventLoop,
  createTask,
  currentTask,
  Event,
  eagerTaskFactory,
  gather,
  getRunningLoop,
  HostEventLoop,
  InterruptError,
  Lock,
  Queue,
  run,
  SchedulingVirtualEventLoop,
  schedulingLoopFactory,
  shield,
  sleep,
  type Task,
  type TaskTimeout,
  TimeoutError,
  TimeoutInterrupt,
  taskInterrupt,
  taskIsBlocked,
  taskIsRunnable,
  taskReinsert,
  taskThrow,
  taskTimeout,
  timeout,
  wait,
  waitFor,
} from "../src/index.js";
import { caught, thrown, whenBlockedOnHost } from "./helpers.js";
import { LOOP_KINDS, runOn } from "./scheduling-helpers.js";

class ZeroDivisionError extends Error {
  override name = "ZeroDivisionError";
}

/** A task that waits for `event` and logs how the wait ended: woken, or the error's name. */
function waitLogging(event: Event, log: string[]): Task {
  return createTask(
    (function* () {
      const outcome = yield* caught(() => event.wait()); // true, or the error
      log.push(outcome === true ? "task woken" : `task: ${(outcome as Error).name}`);
    })(),
  );
}

for (const kind of LOOP_KINDS) {
  describe(`on the ${kind} scheduling loop`, () => {
    describe("taskThrow (TestThrow)", () => {
      it("throws into a task waiting on an event, which runs before anything else", async () => {
        const log = await runOn(kind, function* () {
          const log: string[] = [];
          const e = new Event();
          const w = new Event();
          let state = "starting";
          const task = createTask(
            (function* () {
              state = "waiting";
              w.set();
              const error = yield* caught(() => e.wait());
              log.push(`${(error as Error).name} while ${state}`);
              state = "interrupted";
            })(),
          );
          yield* w.wait();
          const other = createTask(
            (function* () {
              log.push(`other sees ${state}`);
            })(),
          );
          taskThrow(task, new ZeroDivisionError());
          expect(taskIsRunnable(task)).toBe(true);
          state = "interrupting";
          yield* task;
          yield* other;
          log.push(`${task.done()} ${e.isSet()}`);
          return log;
        });
        expect(log).toEqual([
          "ZeroDivisionError while interrupting",
          "other sees interrupted",
          "true false",
        ]);
      });
    });

    describe("taskInterrupt (TestInterrupt)", () => {
      it("interrupts a task waiting on an event; the event is not touched", async () => {
        const log = await runOn(kind, function* () {
          const log: string[] = [];
          const e = new Event();
          const task = waitLogging(e, log);
          yield* sleep(0);
          expect(taskIsRunnable(task)).toBe(false);
          yield* taskInterrupt(task, new ZeroDivisionError());
          log.push(`main: ${task.done()}`);
          e.set();
          return log;
        });
        expect(log).toEqual(["task: ZeroDivisionError", "main: true"]);
      });

      it("interrupts a sleeping task, and the sleep's timer later does nothing", async () => {
        const log = await runOn(kind, function* () {
          const log: string[] = [];
          const task = createTask(
            (function* () {
              const error = yield* caught(() => sleep(10));
              log.push(`task: ${(error as Error).name}`);
            })(),
          );
          yield* sleep(0);
          yield* taskInterrupt(task, new ZeroDivisionError());
          log.push("main");
          yield* sleep(20); // past the sleep's deadline
          log.push(`after: ${task.done()}`);
          return log;
        });
        expect(log).toEqual(["task: ZeroDivisionError", "main", "after: true"]);
      });

      // Blocked or already woken (its wakeup queued after task2), an interrupted task runs first.
      for (const when of ["while blocked", "once woken", "never"] as const) {
        it(`runs the interrupted task before any other ready task (interrupted: ${when})`, async () => {
          const log = await runOn(kind, function* () {
            const log: string[] = [];
            const e = new Event();
            const task = waitLogging(e, log);
            yield* sleep(0);
            createTask(
              (function* () {
                log.push("task2");
              })(),
            );
            expect(taskIsRunnable(task)).toBe(false);
            if (when !== "while blocked") e.set();
            expect(taskIsRunnable(task)).toBe(when !== "while blocked");
            if (when === "never") yield* sleep(0);
            else yield* taskInterrupt(task, new ZeroDivisionError());
            log.push("main");
            yield* task;
            return log;
          });
          expect(log).toEqual(
            when === "never"
              ? ["task2", "task woken", "main"]
              : ["task: ZeroDivisionError", "task2", "main"],
          );
        });
      }

      it("interrupts a task waiting on another task, which goes on", async () => {
        const got = await runOn(kind, function* () {
          const task1 = createTask(sleep(100, "ok"));
          const task2 = createTask(
            (function* () {
              return yield* caught(() => task1);
            })(),
          );
          yield* sleep(0);
          expect(taskIsBlocked(task2)).toBe(true);
          yield* taskInterrupt(task2, new ZeroDivisionError());
          expect(task2.done()).toBe(true);
          expect(taskIsBlocked(task1)).toBe(true);
          return [((yield* task2) as Error).name, yield* task1];
        });
        expect(got).toEqual(["ZeroDivisionError", "ok"]);
      });

      it("refuses to interrupt the current task, a done task, or one with a cancellation pending", async () => {
        const messages = await runOn(kind, function* () {
          const messages: string[] = [];
          const self = currentTask() as Task;
          messages.push(((yield* caught(() => taskInterrupt(self, 1))) as Error).message);
          const done = createTask(sleep(0));
          yield* done;
          messages.push(((yield* caught(() => taskInterrupt(done, 1))) as Error).message);
          const blocked = createTask(new Event().wait(), { name: "blocked" });
          yield* sleep(0);
          blocked.cancel(); // cancels the future it waits on: runnable, cancellation pending
          expect(taskIsRunnable(blocked)).toBe(true);
          messages.push(((yield* caught(() => taskInterrupt(blocked, 1))) as Error).message);
          const ready = createTask(sleep(0), { name: "ready" });
          yield* sleep(0);
          ready.cancel(); // in the ready queue: the cancellation waits for its next step
          messages.push(thrown(() => taskThrow(ready, 1)).message);
          messages.push(((yield* caught(() => blocked)) as Error).name);
          messages.push(((yield* caught(() => ready)) as Error).name);
          return messages.map((m) => m.replace(/Task-\d+/, "Task-N"));
        });
        expect(messages).toEqual([
          'taskInterrupt(): cannot interrupt <Task pending name="Task-N">: it is the task running now (to stop yourself, throw the error).',
          'taskInterrupt(): cannot interrupt <Task finished name="Task-N" result=undefined>: it is done.',
          'taskInterrupt(): cannot interrupt <Task cancelling name="blocked">: it has a cancellation pending, which it must take first.',
          'taskThrow(): cannot interrupt <Task cancelling name="ready">: it has a cancellation pending, which it must take first.',
          "CancelledError",
          "CancelledError",
        ]);
      });

      it("refuses a second interrupt while one is pending; a cancel() after one comes after it", async () => {
        const log = await runOn(kind, function* () {
          const log: string[] = [];
          const task = createTask(
            (function* () {
              for (;;) {
                try {
                  yield* sleep(1000);
                } catch (error) {
                  log.push(`caught ${(error as Error).name}: ${(error as Error).message}`);
                  if ((error as Error).name === "CancelledError") throw error;
                }
              }
            })(),
            { name: "t" },
          );
          yield* sleep(0);
          taskThrow(task, new Error("first"));
          log.push(thrown(() => taskThrow(task, new Error("second"))).message);
          yield* sleep(0);
          taskThrow(task, new Error("third"));
          log.push(`cancel(): ${task.cancel("stop")}`);
          log.push(`task: ${((yield* caught(() => task)) as Error).name}`);
          return log;
        });
        expect(log).toEqual([
          'taskThrow(): cannot interrupt <Task pending name="t">: it has an interrupt pending (Error: first), which it must take first.',
          "caught Error: first",
          "cancel(): true",
          "caught Error: third", // the interrupt first,
          "caught CancelledError: stop", // then the cancellation, where the task waits again
          "task: CancelledError",
        ]);
      });

      it("interrupts a task that has not started: it fails with the error", async () => {
        const error = await runOn(kind, function* () {
          const task = createTask(sleep(0));
          yield* taskInterrupt(task, new ZeroDivisionError());
          return yield* caught(() => task);
        });
        expect((error as Error).name).toBe("ZeroDivisionError");
      });

      it("a task interrupted after a put() woke it still gets the item on its next try", async () => {
        const got = await runOn(kind, function* () {
          const q = new Queue<number>();
          const task = createTask(
            (function* () {
              const error = yield* caught(() => q.get());
              return [(error as Error).name, yield* q.get()];
            })(),
          );
          yield* sleep(0);
          expect(taskIsBlocked(task)).toBe(true);
          q.putNowait(1);
          expect(taskIsRunnable(task)).toBe(true);
          yield* taskInterrupt(task, new ZeroDivisionError());
          return yield* task;
        });
        expect(got).toEqual(["ZeroDivisionError", 1]);
      });

      it("a task interrupted while it waits for a lock never holds it, and the lock goes on", async () => {
        const log = await runOn(kind, function* () {
          const log: string[] = [];
          const lock = new Lock();
          yield* lock.acquire();
          const waiter = createTask(
            (function* () {
              const error = yield* caught(() => lock.acquire());
              log.push(`waiter: ${(error as Error).name}, locked by main: ${lock.locked()}`);
            })(),
          );
          const next = createTask(
            (function* () {
              yield* lock.acquire();
              log.push("next has the lock");
              lock.release();
            })(),
          );
          yield* sleep(0);
          yield* taskInterrupt(waiter, new ZeroDivisionError());
          lock.release();
          yield* next;
          log.push(`locked at the end: ${lock.locked()}`);
          return log;
        });
        expect(log).toEqual([
          "waiter: ZeroDivisionError, locked by main: true",
          "next has the lock",
          "locked at the end: false",
        ]);
      });

      it("any value arrives as it is: an AbortSignal's reason is that very object", async () => {
        const same = await runOn(kind, function* () {
          const controller = new AbortController();
          controller.abort();
          const task = createTask(
            (function* () {
              try {
                yield* sleep(1000);
                return false;
              } catch (e) {
                return e === controller.signal.reason;
              }
            })(),
          );
          yield* sleep(0);
          yield* taskInterrupt(task, controller.signal.reason);
          return yield* task;
        });
        expect(same).toBe(true);
      });

      it("insertPos: the caller resumes right after the interrupted task", async () => {
        const log = await runOn(kind, function* () {
          const log: string[] = [];
          const task = createTask(
            (function* () {
              yield* caught(() => sleep(1000));
              log.push("task");
            })(),
          );
          const other = createTask(
            (function* () {
              yield* sleep(0);
              log.push("other");
            })(),
          );
          yield* sleep(0);
          yield* taskInterrupt(task, 1, { insertPos: 1 });
          log.push("main");
          yield* other;
          return log;
        });
        expect(log).toEqual(["task", "main", "other"]);
      });
    });

    describe("taskTimeout (TestTimeout)", () => {
      it("null is no deadline, with a body and without (test_sleep_none)", async () => {
        const got = await runOn(kind, function* () {
          const start = getRunningLoop().time();
          const result = yield* taskTimeout(null, function* () {
            yield* sleep(10);
            return "finished";
          });
          using deadline = yield* taskTimeout(null);
          yield* sleep(10);
          return [result, deadline.expired(), getRunningLoop().time() - start >= 20];
        });
        expect(got).toEqual(["finished", false, true]);
      });

      it("disposed without its yield*, it says so", async () => {
        const got = await runOn(kind, function* () {
          try {
            // biome-ignore lint/correctness/noUnusedVariables: the mistake under test
            using forgotten = taskTimeout(10) as unknown as Disposable;
          } catch (error) {
            return (error as Error).message;
          }
          return "no error";
        });
        expect(got).toBe(
          "taskTimeout() was disposed without being awaited, so it never armed its deadline: write `using _ = yield* taskTimeout(ms);` in a coroutine, `using _ = await taskTimeout(ms);` in an async function.",
        );
      });

      it("interrupts a sleep at the deadline: TimeoutError out of the body", async () => {
        const got = await runOn(kind, function* () {
          const error = yield* caught(() =>
            taskTimeout(5, function* () {
              yield* sleep(100);
            }),
          );
          return [(error as Error).name, ((error as Error).cause as Error).name];
        });
        expect(got).toEqual(["TimeoutError", "TimeoutInterrupt"]);
      });

      it("a deadline already passed interrupts the body at its first suspension, as timeout()'s does", async () => {
        const got = await runOn(kind, function* () {
          const outcomes: string[] = [];
          for (const ms of [-5, 0]) {
            for (const guard of [timeout, taskTimeout]) {
              const error = yield* caught(() =>
                guard(ms, function* () {
                  yield* sleep(0); // one suspension
                  return "finished";
                }),
              );
              outcomes.push(`${guard.name}(${ms}): ${(error as Error).name}`);
            }
          }
          const unsuspended = yield* taskTimeout(0, function* () {
            return "never suspended";
          });
          return [...outcomes, unsuspended];
        });
        expect(got).toEqual([
          "timeout(-5): TimeoutError",
          "taskTimeout(-5): TimeoutError",
          "timeout(0): TimeoutError",
          "taskTimeout(0): TimeoutError",
          "never suspended",
        ]);
      });

      it("a deadline due while another interrupt waits to be thrown in comes after it", async () => {
        const got = await runOn(kind, function* () {
          const loop = getRunningLoop() as SchedulingVirtualEventLoop;
          const log: string[] = [];
          const reports: string[] = [];
          loop.setExceptionHandler((_loop, context) => reports.push(context.message));
          const guarded = (held: boolean) =>
            createTask(
              (function* () {
                try {
                  yield* taskTimeout(5, function* () {
                    try {
                      yield* sleep(50);
                    } catch (error) {
                      log.push(`${held ? "held" : "queued"}: caught ${(error as Error).message}`);
                    }
                    yield* sleep(50);
                    log.push("went on");
                  });
                } catch (error) {
                  log.push(`${held ? "held" : "queued"}: ${(error as Error).name}`);
                }
              })(),
            );
          // Moved behind the deadline's task: thrown in first all the same, the deadline after.
          const queued = guarded(false);
          yield* sleep(5);
          taskThrow(queued, new Error("thrown"));
          taskReinsert(queued, loop.readyLen()); // after the deadline's task
          yield* queued;
          // Held out of the queue past the deadline: the block's end delivers the deadline.
          const held = guarded(true);
          yield* sleep(4);
          taskThrow(held, new Error("thrown"));
          const entry = loop.readyPop(0);
          yield* sleep(5);
          loop.readyInsert(0, entry);
          yield* held;
          return [log, reports];
        });
        expect(got).toEqual([
          [
            "queued: caught thrown",
            "queued: TimeoutError",
            "held: caught thrown",
            "went on",
            "held: TimeoutError",
          ],
          [],
        ]);
      });

      it("a deadline already passed interrupts under the eager task factory too", async () => {
        const got = await runOn(kind, function* () {
          const loop = getRunningLoop();
          loop.setTaskFactory(eagerTaskFactory);
          const outcomes: string[] = [];
          for (const ms of [-5, 0]) {
            const start = loop.time();
            const error = yield* caught(() =>
              taskTimeout(ms, function* () {
                yield* sleep(50);
              }),
            );
            const early =
              loop.time() - start < 50 ? "before the sleep's end" : "at the sleep's end";
            outcomes.push(`taskTimeout(${ms}): ${(error as Error).name} ${early}`);
          }
          return outcomes;
        });
        expect(got).toEqual([
          "taskTimeout(-5): TimeoutError before the sleep's end",
          "taskTimeout(0): TimeoutError before the sleep's end",
        ]);
      });

      it("interrupts the wait for a task, which goes on", async () => {
        const got = await runOn(kind, function* () {
          const t = createTask(sleep(100, "ok"), { name: "task1" });
          const error = yield* caught(() =>
            taskTimeout(5, function* () {
              return yield* t;
            }),
          );
          expect(error).toBeInstanceOf(TimeoutError);
          expect(taskIsBlocked(t)).toBe(true);
          return yield* t;
        });
        expect(got).toBe("ok");
      });

      it("nested: the outer deadline passes through the inner block as it is", async () => {
        const got = await runOn(kind, function* () {
          let seenInside: unknown;
          const error = yield* caught(() =>
            taskTimeout(1, function* () {
              try {
                yield* taskTimeout(100, function* () {
                  yield* sleep(200);
                });
              } catch (e) {
                seenInside = e;
                throw e;
              }
            }),
          );
          return [(seenInside as Error).name, (error as Error).name];
        });
        expect(got).toEqual(["TimeoutInterrupt", "TimeoutError"]);
      });

      it("a deadline due as the task is cancelled gives way to the cancellation, unreported", async () => {
        const reports: string[] = [];
        let loop: BaseEventLoop | undefined;
        const got = await runOn(kind, function* () {
          loop = getRunningLoop();
          loop.setExceptionHandler((_loop, context) => reports.push(context.message));
          // The same deadline twice: timeout()'s callback cancels the task after taskTimeout()'s
          // timer fired, before the task that delivers its interrupt runs.
          const nested = yield* caught(() => taskTimeout(50, () => timeout(50, () => sleep(1000))));
          if (kind !== "virtual") return [(nested as Error).name];
          // A cancel() of its own, made in the iteration the deadline's timer fired in (on
          // virtual time, where two timers are due at the same instant).
          const worker = createTask(
            (function* () {
              yield* taskTimeout(5, () => sleep(100));
            })(),
          );
          yield* sleep(5);
          worker.cancel();
          const cancelled = yield* caught(() => worker);
          return [(nested as Error).name, (cancelled as Error).name];
        });
        loop!.close(); // reports a failure nobody retrieved, if there is one (run() closed it already)
        expect(got).toEqual(
          kind === "virtual" ? ["TimeoutError", "CancelledError"] : ["TimeoutError"],
        );
        expect(reports).toEqual([]);
      });

      it("returns the body's result when it finishes in time, and the deadline is disarmed", async () => {
        const got = await runOn(kind, function* () {
          const value = yield* taskTimeout(50, function* () {
            return yield* sleep(10, "in time");
          });
          yield* sleep(100); // past the deadline: nothing is interrupted
          return value;
        });
        expect(got).toBe("in time");
      });

      it("the using form: the interrupt comes out as a TimeoutInterrupt; expired() says so", async () => {
        const got = await runOn(kind, function* () {
          let deadline: TaskTimeout | undefined;
          const error = yield* caught(function* () {
            using d = yield* taskTimeout(5);
            deadline = d;
            yield* sleep(100);
          });
          return [error instanceof TimeoutInterrupt, deadline?.expired(), getRunningLoop().time()];
        });
        expect(got[0]).toBe(true);
        expect(got[1]).toBe(true);
        if (kind === "virtual") expect(got[2]).toBe(5);
      });

      it("a negative timeout means now", async () => {
        const got = await runOn(kind, function* () {
          const error = yield* caught(() =>
            taskTimeout(-5, function* () {
              yield* sleep(1);
            }),
          );
          return (error as Error).name;
        });
        expect(got).toBe("TimeoutError");
      });
    });
  });
}

describe("an interrupt cancels nothing the task waits for", () => {
  const waits: Record<string, (task: Task<string>) => Awaitable<unknown>> = {
    "yield* task": (task) => task,
    "gather(task)": (task) => gather(task),
    "wait([task])": (task) => wait([task]),
    "waitFor(task, 100)": (task) => waitFor(task, 100),
    "shield(task)": (task) => shield(task),
  };
  for (const [name, waitOn] of Object.entries(waits)) {
    it(`${name}: the task waited for goes on, and nothing is reported`, () => {
      const loop = new SchedulingVirtualEventLoop();
      const reports: string[] = [];
      loop.setExceptionHandler((_loop, context) => reports.push(context.message));
      const [caughtThere, result] = loop.runSync(
        (function* () {
          const slow = createTask(sleep(10, "done"), { name: "slow" });
          const waiter = createTask(
            (function* () {
              try {
                yield* waitOn(slow);
              } catch (error) {
                return (error as Error).message;
              }
            })(),
          );
          yield* sleep(5);
          yield* taskInterrupt(waiter, new InterruptError("stop"));
          return [yield* waiter, yield* slow];
        })(),
      );
      loop.close();
      expect([caughtThere, result, reports]).toEqual(["stop", "done", []]);
    });
  }
});

describe("interruption needs a scheduling loop", () => {
  it("says which loop to use", async () => {
    const message = await run(
      function* () {
        const task = createTask(sleep(10));
        yield* sleep(0);
        return thrown(() => taskThrow(task, 1)).message;
      },
      { loopFactory: () => new HostEventLoop() },
    );
    expect(message).toMatch(/^taskThrow\(\) needs a scheduling event loop/);
  });
});

describe("another loop's task", () => {
  it("taskInterrupt() refuses it; taskThrow() queues the error on the task's own loop", () => {
    const own = new SchedulingVirtualEventLoop();
    const other = new SchedulingVirtualEventLoop();
    const log: string[] = [];
    let task!: Task;
    own.runSync(function* () {
      task = createTask(
        (function* () {
          try {
            yield* new Event().wait();
          } catch (error) {
            log.push(`${error} on ${getRunningLoop() === own ? "its own loop" : "another loop"}`);
          }
        })(),
      );
      yield;
    });
    other.runSync(function* () {
      log.push(((yield* caught(() => taskInterrupt(task, "stop"))) as Error).message);
      taskThrow(task, "thrown");
    });
    own.runSync(task);
    expect(log.map((entry) => entry.replace(/Task-\d+/, "Task-N"))).toEqual([
      'taskInterrupt(): cannot interrupt <Task pending name="Task-N">: it belongs to a different event loop (taskThrow() queues it on its own).',
      "thrown on its own loop",
    ]);
  });
});

describe("taskTimeout() with an async body", () => {
  it("interrupts the body where it waits, and the block ends with a TimeoutError", async () => {
    const log: string[] = [];
    await run(
      async () => {
        try {
          await taskTimeout(50, async () => {
            try {
              await sleep(1000);
            } catch (error) {
              log.push(`body: ${(error as Error).name}`);
              throw error;
            }
          });
        } catch (error) {
          log.push(`block: ${String(error)}`);
        }
        log.push(`${await taskTimeout(50, async () => "in time")}`);
      },
      { loopFactory: schedulingLoopFactory },
    );
    expect(log).toEqual([
      "body: TimeoutInterrupt",
      "block: TimeoutError: taskTimeout(): the block did not finish within 50 ms.",
      "in time",
    ]);
  });

  it("whose deadline passes while it awaits a host promise ends with the TimeoutError when the body ends, not with the late result", async () => {
    const reports: string[] = [];
    const log: string[] = [];
    // Each host timer runs from when the loop has found the task blocked on it: armed at the
    // await, it could fire before the loop looks (its next host macrotask) on a loaded
    // machine, and the body would end in its step, before its deadline.
    let armHostTimer = (): void => {};
    const hostTimer = () =>
      new Promise((resolve) => {
        armHostTimer = () => setTimeout(resolve, 30);
      });
    const stopListening = whenBlockedOnHost(null, () => armHostTimer());
    await run(
      async () => {
        getRunningLoop().setExceptionHandler((_loop, context) => reports.push(context.message));
        try {
          log.push(
            await taskTimeout(5, async () => {
              await hostTimer();
              return "late";
            }),
          );
        } catch (error) {
          log.push(`block: ${String(error)}, cause: ${(error as Error).cause}`);
        }
        try {
          using deadline = await taskTimeout(5);
          await hostTimer();
          log.push(`scope: expired ${deadline.expired()}`);
        } catch (error) {
          log.push(`scope: ${(error as Error).name}`);
        }
      },
      { loopFactory: schedulingLoopFactory },
    ).finally(stopListening);
    expect(log).toEqual([
      "block: TimeoutError: taskTimeout(): the block did not finish within 5 ms., cause: TimeoutInterrupt: taskTimeout(5): the deadline passed",
      "scope: expired true",
      "scope: TimeoutInterrupt",
    ]);
    expect(reports).toEqual([]);
  });
});

describe("a native task blocked on a host promise", () => {
  it("cannot be interrupted: the error says how to make its wait interruptible", async () => {
    let release = (): void => {};
    const message = await run(
      async () => {
        const onHost = createTask(
          async () => {
            await new Promise<void>((resolve) => {
              release = resolve;
            });
            return "released";
          },
          { name: "onHost" },
        );
        await sleep(0);
        await new Promise((resolve) => setTimeout(resolve, 0)); // the loop found it blocked on the host
        const message = thrown(() => taskThrow(onHost, 1)).message;
        release();
        expect(await onHost).toBe("released");
        return message;
      },
      { loopFactory: schedulingLoopFactory },
    );
    expect(message).toBe(
      'taskThrow(): cannot interrupt <Task pending name="onHost">: it awaits a native promise only the host settles, which the loop cannot interrupt: await it through fromPromise() to make the wait interruptible, or cancel() the task (its taskSignal() aborts at once).',
    );
  });

  it("started eagerly, on its way past a promise in the microtasks, cannot be interrupted either, and is told so", async () => {
    const seen = await run(
      async () => {
        const started = createTask(
          async () => {
            await Promise.resolve();
            await sleep(0);
            return "ended";
          },
          { eagerStart: true, name: "started" },
        );
        const message = thrown(() => taskThrow(started, 1)).message;
        return [taskIsBlocked(started), message, await started];
      },
      { loopFactory: schedulingLoopFactory },
    );
    expect(seen).toEqual([
      true,
      'taskThrow(): cannot interrupt <Task pending name="started">: its function runs on in microtasks, past an await of a promise in its eager start, and takes no interrupt until it awaits something of the loop\'s: cancel() it, or interrupt it once it waits.',
      "ended",
    ]);
  });
});
