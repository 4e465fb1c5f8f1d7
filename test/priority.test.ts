/**
 * Priority scheduling: the priority loops' order, the scheduling API on them,
 * priority locks with inheritance, and the starvation guard. After asynkit's
 * tests/experimental/test_priority.py and the web platform's
 * task-controller-setPriority1 test, written as coroutines.
 */
// biome-ignore-all lint/correctness/useYield: coroutines that finish without suspending are part of what is tested.
import { describe, expect, it } from "vitest";
import {
  awaitSync,
  type Condition,
  type Coro,
  coroContinue,
  coroStart,
  createTask,
  currentTask,
  Event,
  eager,
  type Future,
  fromPromise,
  getRunningLoop,
  type Handle,
  Lock,
  PRIORITIES,
  PriorityCondition,
  PriorityHostEventLoop,
  PriorityLock,
  PriorityMixin,
  PriorityVirtualEventLoop,
  run,
  STARVATION_BOUND,
  sleep,
  sleepInsert,
  type Task,
  type TaskPriority,
  taskReinsert,
  taskTimeout,
  timeout,
  VirtualEventLoop,
  waitFor,
} from "../src/index.js";
import { PriorityReadyQueue } from "../src/loops/priority.js";
import { catching, caught, thrown } from "./helpers.js";

/** Runs `main` on a new priority virtual loop. */
function runP<T>(main: () => Coro<T>): T {
  return new PriorityVirtualEventLoop().runSync(main());
}

/** A task that logs its name once it runs. */
function logs(log: string[], name: string, priority?: TaskPriority): Task {
  return createTask(
    (function* () {
      log.push(name);
    })(),
    priority === undefined ? { name } : { name, priority },
  );
}

describe("a priority loop", () => {
  it("reads the priority names from a table nobody can change", () => {
    expect(Object.isFrozen(PRIORITIES)).toBe(true);
    expect(() => {
      (PRIORITIES as Record<string, number>).background = -100;
    }).toThrow(TypeError);
    const loop = new PriorityVirtualEventLoop();
    const priority = loop.runSync(
      (function* () {
        return createTask(sleep(0), { priority: "background" }).getPriority();
      })(),
    );
    expect(priority).toBe(10);
  });

  it("runs the ready task of best priority first, first come first among equals", () => {
    const log = runP(function* () {
      const log: string[] = [];
      logs(log, "normal-1");
      logs(log, "low", "background");
      logs(log, "high-1", -10);
      logs(log, "normal-2", 0);
      logs(log, "high-2", "user-blocking");
      yield* sleep(1);
      return log;
    });
    expect(log).toEqual(["high-1", "high-2", "normal-1", "normal-2", "low"]);
  });

  it("orders many distinct priorities, fractions and negatives too", () => {
    const priorities = shuffled(50, 5).map((i) => (i - 25) / 4);
    const log = runP(function* () {
      const log: string[] = [];
      for (const p of priorities) logs(log, String(p), p);
      yield* sleep(1);
      return log;
    });
    expect(log).toEqual([...priorities].sort((a, b) => a - b).map(String));
  });

  it("orders as the web's task-controller-setPriority1 test: tasks moved to background before any runs", () => {
    const log = runP(function* () {
      const log: string[] = [];
      const controlled = [0, 1, 2, 3, 4].map((i) => logs(log, `${i}`, "user-visible"));
      logs(log, "5", "user-blocking");
      logs(log, "6", "user-visible");
      for (const task of controlled) task.setPriority("background");
      yield* sleep(1);
      return log;
    });
    expect(log).toEqual(["5", "6", "0", "1", "2", "3", "4"]);
  });

  it("keeps the scheduling API's positions: an entry put at a position runs after that many, whatever its priority", () => {
    const log = runP(function* () {
      const log: string[] = [];
      logs(log, "high", -10);
      logs(log, "normal");
      const low = logs(log, "low", 10);
      taskReinsert(low, 0); // first, though its priority is the worst
      yield* sleepInsert(1); // main comes back right after the first entry
      log.push("main");
      yield* sleep(1);
      return log;
    });
    expect(log).toEqual(["low", "main", "high", "normal"]);
  });

  it("finds an entry for the scheduling API in its priority's line, wherever in it the entry is", () => {
    const log = runP(function* () {
      const log: string[] = [];
      const loop = getRunningLoop() as PriorityVirtualEventLoop;
      const [, , c] = [-10, 0, 0, 0, 10].map((priority, i) =>
        logs(log, "abcde".charAt(i), priority),
      );
      const d = [...loop.queueItems()][3] as Handle;
      expect(loop.taskFromHandle(d)?.getName()).toBe("d");
      expect(() => loop.readyInsert(0, d)).toThrow(/in the ready queue already, at 3:/);
      taskReinsert(c as Task, -1); // from the middle of its line to before the last entry
      yield* sleep(1);
      return log;
    });
    expect(log).toEqual(["a", "b", "d", "c", "e"]);
  });

  it("callbacks have the default priority", () => {
    const log = runP(function* () {
      const log: string[] = [];
      logs(log, "low", 10);
      getRunningLoop().callSoon(() => log.push("callback"));
      logs(log, "high", -10);
      yield* sleep(1);
      return log;
    });
    expect(log).toEqual(["high", "callback", "low"]);
  });

  it("raises an entry passed over within twice STARVATION_BOUND picks", () => {
    const ran = runP(function* () {
      let lowRanAt = -1;
      let picks = 0;
      const low = createTask(
        (function* () {
          lowRanAt = picks;
        })(),
        { priority: 10 },
      );
      // A stream of better tasks, each making the next: without the guard, low would wait for all of them.
      const stream = createTask(
        (function* () {
          for (let i = 0; i < 10 * STARVATION_BOUND; i++) {
            picks++;
            yield* sleep(0);
          }
        })(),
        { priority: -10 },
      );
      yield* stream;
      yield* low;
      return lowRanAt;
    });
    expect(ran).toBeGreaterThanOrEqual(0);
    expect(ran).toBeLessThanOrEqual(2 * STARVATION_BOUND);
  });

  it("does not reorder a burst of entries, however long, that none waits a whole period behind", () => {
    const order = runP(function* () {
      const order: number[] = [];
      const tasks: Task[] = [];
      for (let i = 0; i < 3 * STARVATION_BOUND; i++) {
        const body = (function* () {
          order.push(i);
        })();
        tasks.push(createTask(body, { priority: -i })); // each better than the one before
      }
      for (const task of tasks) yield* task;
      return order;
    });
    expect(order).toEqual(
      Array.from({ length: 3 * STARVATION_BOUND }, (_, i) => 3 * STARVATION_BOUND - 1 - i),
    );
  });

  it("runs a starved entry within twice the queue's length of picks", () => {
    // One busy task of better priority, and 200 that yield for ever behind it: the longest any
    // of them waits between two runs, in picks.
    const LOW = 200;
    const maxGap = runP(function* () {
      let picks = 0;
      let maxGap = 0;
      createTask(
        (function* () {
          while (picks < 5000) {
            picks++;
            yield* sleep(0);
          }
        })(),
        { priority: -10 },
      );
      for (let j = 0; j < LOW; j++) {
        createTask(
          (function* () {
            let last = -1;
            while (picks < 5000) {
              picks++;
              if (last >= 0) maxGap = Math.max(maxGap, picks - last);
              last = picks;
              yield* sleep(0);
            }
          })(),
        );
      }
      yield* sleep(1);
      return maxGap;
    });
    expect(maxGap).toBeGreaterThan(LOW);
    expect(maxGap).toBeLessThanOrEqual(2 * (LOW + 1));
  });

  it("runs in the same order watched (debug mode) as not: due sleeps wait their turn as entries", () => {
    // At t=1 both sleeps are due, B's first. Their timers are entries of their tasks'
    // priority: B, woken by the first, queues behind the second, which wakes A; B runs
    // first, then A, then B runs on.
    const order = (debug: boolean): string[] => {
      const loop = new PriorityVirtualEventLoop();
      loop.setDebug(debug);
      loop.setExceptionHandler(() => {}); // debug lints are not what is tested
      const log: string[] = [];
      const lock = new Lock();
      loop.runSync(
        (function* () {
          createTask(
            (function* () {
              yield* sleep(0);
              yield* sleep(1);
              log.push("A slept");
            })(),
            { name: "A", priority: "user-blocking" },
          );
          createTask(
            (function* () {
              yield* sleep(1);
              log.push("B slept");
              using _ = yield* lock.hold();
              yield* sleep(0);
              log.push("B ran on");
            })(),
            { name: "B", priority: "user-blocking" },
          );
          yield* sleep(10);
        })(),
      );
      return log;
    };
    expect(order(false)).toEqual(["B slept", "A slept", "B ran on"]);
    expect(order(true)).toEqual(order(false));
  });

  it("runs the rest of an eager() start at the priority of the task that started it", () => {
    // A background task's eager work, past its first suspension, does not run ahead of
    // work of better priority (nor does an eager start whose coroutine asked for its task).
    const log = runP(function* () {
      const log: string[] = [];
      const background = createTask(
        (function* () {
          const rest = eager(
            (function* () {
              yield* sleep(0);
              log.push("eager rest");
            })(),
          );
          const asking = eager(
            (function* () {
              log.push(`asked: priority ${currentTask()?.getPriority()}`);
              yield* sleep(0);
              log.push("asking rest");
            })(),
          );
          createTask(
            (function* () {
              for (const round of [1, 2, 3]) {
                log.push(`normal ${round}`);
                yield* sleep(0);
              }
            })(),
          );
          yield* rest;
          yield* asking;
        })(),
        { priority: "background" },
      );
      yield* background;
      return log;
    });
    expect(log).toEqual([
      "asked: priority 10",
      "normal 1",
      "normal 2",
      "normal 3",
      "eager rest",
      "asking rest",
    ]);
  });

  it("an eager() start inside another takes the priority of the outer start's task, as it is then; a callback's, the default", () => {
    const log = runP(function* () {
      const log: string[] = [];
      const innerRest = function* (name: string) {
        yield* sleep(0);
        log.push(`${name}: priority ${currentTask()?.getPriority()}`);
      };
      const background = createTask(
        (function* () {
          const outer = eager(
            (function* () {
              currentTask()?.setPriority("user-blocking"); // the outer start's own task, made now
              yield* eager(innerRest("inner"));
            })(),
          );
          yield* outer;
        })(),
        { priority: "background" },
      );
      let fromCallback: Future<void> | null = null;
      getRunningLoop().callSoon(() => {
        fromCallback = eager(innerRest("callback's"));
      });
      yield* background;
      yield* sleep(1);
      yield* fromCallback as unknown as Future<void>;
      return log;
    });
    expect(log).toEqual(["callback's: priority 0", "inner: priority -10"]);
  });

  it("keeps a priority on a loop without priorities, and ignores it there", () => {
    const got = new VirtualEventLoop().runSync(
      (function* () {
        const log: string[] = [];
        const low = logs(log, "low", "background");
        logs(log, "high", "user-blocking");
        yield* sleep(0);
        return [log, low.getPriority()];
      })(),
    );
    expect(got).toEqual([["low", "high"], 10]);
  });

  it("setPriority() moves a waiting task's entry, and getPriority() reads it", () => {
    const log = runP(function* () {
      const log: string[] = [];
      const a = logs(log, "a");
      logs(log, "b");
      a.setPriority(5);
      expect(a.getPriority()).toBe(5);
      yield* sleep(1);
      return log;
    });
    expect(log).toEqual(["b", "a"]);
  });

  it("runs on the host too", async () => {
    const log = await run(
      function* () {
        const log: string[] = [];
        const low = logs(log, "low", "background");
        const high = logs(log, "high", "user-blocking");
        // Joined, not slept past: a timer of 1 ms could wake main (of better priority than
        // low) before low's turn on a slow machine.
        yield* low;
        yield* high;
        return log;
      },
      { loopFactory: () => new PriorityHostEventLoop() },
    );
    expect(log).toEqual(["high", "low"]);
  });

  it("refuses what is not a priority, and a mixin base that is not a loop class", () => {
    expect(thrown(() => createTask(sleep(0), { priority: "urgent" as never })).message).toMatch(
      /^createTask\(\) expects options\.priority to be a number or a priority name, got string "urgent"/,
    );
    // Names every object has are no priority names either.
    for (const name of ["toString", "__proto__", "constructor"]) {
      expect(thrown(() => createTask(sleep(0), { priority: name as never })).message).toMatch(
        new RegExp(
          `^createTask\\(\\) expects options\\.priority to be a number or a priority name, got string "${name}"`,
        ),
      );
    }
    expect(() => PriorityMixin(5 as never)).toThrow(TypeError);
  });
});

/**
 * The priority inversion scenario: a low task holds the lock a high task
 * wants, and is ready to go on, while a medium task would take every turn it
 * can. Main, of the best priority, only sets the scene.
 */
function inversion(lock: Lock): string[] {
  return runP(function* () {
    currentTask()?.setPriority(-20);
    const log: string[] = [];
    const held = new Event();
    const low = createTask(
      (function* () {
        yield* lock.acquire();
        log.push("low holds");
        held.set();
        yield* sleep(0); // ready to go on, holding the lock
        log.push("low releases");
        lock.release();
      })(),
      { priority: 10, name: "low" },
    );
    yield* held.wait();
    const medium = createTask(
      (function* () {
        log.push("medium step 1");
        yield* sleep(0);
        log.push("medium step 2");
      })(),
      { priority: 0, name: "medium" },
    );
    const high = createTask(
      (function* () {
        yield* lock.acquire();
        log.push("high holds");
        lock.release();
      })(),
      { priority: -10, name: "high" },
    );
    yield* low;
    yield* high;
    yield* medium;
    return log;
  });
}

describe("the priority ready queue", () => {
  it("finds an entry just queued behind entries a rotate placed, from the ends of both lines at once", () => {
    // The placed entries were searched whole first: sleepInsert(1) behind 100k of them, 3 ms.
    const queue = new PriorityReadyQueue();
    for (let i = 0; i < 10_000; i++) queue.push({} as Handle);
    queue.rotate(0); // places them all
    const fresh = {} as Handle;
    queue.push(fresh);
    let looked = 0;
    const at = queue.indexWhere((entry) => {
      looked++;
      return entry === fresh;
    }, 0);
    expect([at, looked]).toEqual([10_000, 3]);
  });
});

describe("an urgent native task's await of a promise settled already", () => {
  it("takes its turn at its own priority, ahead of user-visible work", async () => {
    const loop = new PriorityVirtualEventLoop();
    const log: string[] = [];
    await loop.runUntilComplete(async () => {
      const urgent = createTask(
        async () => {
          await fromPromise(Promise.resolve());
          log.push("urgent after fromPromise");
          await sleep(0);
          log.push("urgent after sleep(0)");
        },
        { priority: "user-blocking" },
      );
      const normal = [1, 2].map((i) =>
        createTask(
          async () => {
            log.push(`normal ${i}`);
          },
          { priority: "user-visible" },
        ),
      );
      await urgent;
      for (const task of normal) await task;
    });
    loop.close();
    expect(log).toEqual([
      "urgent after fromPromise",
      "urgent after sleep(0)",
      "normal 1",
      "normal 2",
    ]);
  });
});

describe("timers of urgent tasks on a priority loop", () => {
  /**
   * When a user-blocking task waiting with a 5 ms deadline resumes, while another
   * user-blocking task works 1 ms at a time: its timer must not wait behind that work.
   */
  function resumedAt(kind: "sleep" | "timeout" | "taskTimeout", priority: TaskPriority): number {
    const loop = new PriorityVirtualEventLoop();
    let resumed = Number.NaN;
    loop.runSync(
      (function* (): Coro<void> {
        let done = false;
        const worker = createTask(
          (function* () {
            for (let i = 0; i < 300 && !done; i++) {
              loop.advance(1);
              yield* sleep(0);
            }
          })(),
          { priority },
        );
        const waiter = createTask(
          (function* () {
            const never = new Event();
            try {
              if (kind === "sleep") yield* sleep(5);
              else yield* (kind === "timeout" ? timeout : taskTimeout)(5, () => never.wait());
            } catch {
              // the deadline
            }
            resumed = loop.time();
            done = true;
          })(),
          { priority },
        );
        yield* waiter;
        yield* worker;
      })(),
    );
    return resumed;
  }

  it("a sleep, a timeout() and a taskTimeout() of an urgent task end on time beside urgent work", () => {
    for (const kind of ["sleep", "timeout", "taskTimeout"] as const) {
      expect([kind, resumedAt(kind, "user-blocking")]).toEqual([kind, resumedAt(kind, 0)]);
      expect([kind, resumedAt(kind, "user-blocking")]).toEqual([kind, 8]);
    }
  });

  it("a waiter's deadline is kept while the lock's holder runs at the priority the waiter lends it", () => {
    const loop = new PriorityVirtualEventLoop();
    const log: string[] = [];
    loop.runSync(
      (function* (): Coro<void> {
        currentTask()?.setPriority(-100);
        const lock = new PriorityLock();
        const holding = new Event();
        const holder = createTask(
          (function* () {
            using _ = yield* lock.hold();
            holding.set();
            for (let i = 0; i < 10; i++) {
              yield* sleep(0);
              loop.advance(1);
            }
          })(),
          { priority: "background" },
        );
        yield* holding.wait();
        const waiter = createTask(
          (function* () {
            try {
              yield* timeout(2, function* () {
                using _ = yield* lock.hold();
              });
              log.push(`got the lock at t=${loop.time()}`);
            } catch (error) {
              log.push(`${(error as Error).name} at t=${loop.time()}`);
            }
          })(),
          { priority: "user-blocking" },
        );
        yield* waiter;
        yield* holder;
      })(),
    );
    // The deadline joins the holder's priority: it runs after the holder's step already
    // queued, not after the holder's ten, nor after the starvation guard's 122 picks.
    expect(log).toEqual(["TimeoutError at t=4"]);
  });
});

describe("PriorityLock", () => {
  it("lends its waiters' priority to its holder: low finishes its critical section before medium runs", () => {
    expect(inversion(new PriorityLock())).toEqual([
      "low holds",
      "low releases",
      "high holds",
      "medium step 1",
      "medium step 2",
    ]);
  });

  it("a plain Lock does not: medium runs first", () => {
    expect(inversion(new Lock())).toEqual([
      "low holds",
      "medium step 1",
      "medium step 2",
      "low releases",
      "high holds",
    ]);
  });

  it("passes inherited priority along a chain of locks", () => {
    const log = runP(function* () {
      currentTask()?.setPriority(-20);
      const log: string[] = [];
      const outer = new PriorityLock();
      const inner = new PriorityLock();
      const innerHeld = new Event();
      const outerHeld = new Event();
      // low holds inner; mid holds outer and waits for inner; high waits for outer.
      const low = createTask(
        (function* () {
          using _ = yield* inner.hold();
          innerHeld.set();
          yield* sleep(0);
          log.push("low done");
        })(),
        { priority: 10 },
      );
      yield* innerHeld.wait();
      const mid = createTask(
        (function* () {
          using _ = yield* outer.hold();
          outerHeld.set();
          using __ = yield* inner.hold();
          log.push("mid done");
        })(),
        { priority: 5 },
      );
      yield* outerHeld.wait();
      const busy = createTask(
        (function* () {
          log.push("busy");
        })(),
        { priority: 0 },
      );
      const high = createTask(
        (function* () {
          using _ = yield* outer.hold();
          log.push("high done");
        })(),
        { priority: -10 },
      );
      for (const t of [low, mid, busy, high]) yield* t;
      return log;
    });
    expect(log).toEqual(["low done", "mid done", "high done", "busy"]);
  });

  it("serves waiters by priority, first come first among equals", () => {
    const order = runP(function* () {
      const lock = new PriorityLock();
      const order: string[] = [];
      yield* lock.acquire();
      const tasks = (
        [
          ["a", 0],
          ["b", 5],
          ["c", -5],
          ["d", 0],
        ] as const
      ).map(([name, priority]) =>
        createTask(
          (function* () {
            using _ = yield* lock.hold();
            order.push(name);
          })(),
          { priority, name },
        ),
      );
      yield* sleepInsert(-1); // all of them wait now
      yield* sleep(0);
      lock.release();
      for (const t of tasks) yield* t;
      return order;
    });
    expect(order).toEqual(["c", "a", "d", "b"]);
  });

  it("only its holder may release it", () => {
    const message = runP(function* () {
      const lock = new PriorityLock();
      const holder = createTask(
        (function* () {
          yield* lock.acquire();
          yield* sleep(10);
          lock.release();
        })(),
        { name: "holder" },
      );
      yield* sleep(0);
      const error = thrown(() => lock.release());
      yield* holder;
      return error.message;
    });
    expect(message).toMatch(
      /^PriorityLock\.release\(\): the lock is held by <Task pending name="holder">, not by <Task pending name="Task-\d+">: only its holder may release it\.$/,
    );
  });

  it("a release of a free PriorityLock names the class", () => {
    expect(() => new PriorityLock().release()).toThrow(
      /^PriorityLock is not acquired: release\(\)/,
    );
  });

  it("its holder releases it after a host await in its critical section, with or without asyncLocalStorage", async () => {
    for (const asyncLocalStorage of [false, true]) {
      const loop = new PriorityHostEventLoop({ asyncLocalStorage });
      const lock = new PriorityLock();
      const log: string[] = [];
      await loop.runUntilComplete(async () => {
        const io = createTask(
          async () => {
            using _ = await lock.hold();
            await new Promise((done) => setTimeout(done, 5)); // host I/O, outside every step
            log.push("io releases");
          },
          { name: "io" },
        );
        const other = createTask(async () => {
          using _ = await lock.hold();
          log.push("other holds");
        });
        await io;
        await other;
        if (asyncLocalStorage) {
          // Another task's code after a host await is still refused: the host can tell whose it is.
          const gate = new Event();
          const holder = createTask(async () => {
            await lock.acquire();
            await gate.wait();
            lock.release();
          });
          const intruder = createTask(async () => {
            await new Promise((done) => setTimeout(done, 5));
            log.push(
              thrown(() => lock.release()).message.includes("only its holder") ? "refused" : "?",
            );
            gate.set();
          });
          await holder;
          await intruder;
        }
      });
      loop.close();
      expect(log).toEqual(
        asyncLocalStorage
          ? ["io releases", "other holds", "refused"]
          : ["io releases", "other holds"],
      );
    }
  });

  it("a waiter cancelled while waiting never holds it", () => {
    const got = runP(function* () {
      const lock = new PriorityLock();
      yield* lock.acquire();
      const waiter = createTask(lock.acquire(), { priority: -10 });
      yield* sleep(0);
      waiter.cancel();
      const error = yield* caught(() => waiter);
      lock.release();
      return [(error as Error).name, lock.locked()];
    });
    expect(got).toEqual(["CancelledError", false]);
  });
});

describe("PriorityLock among equals", () => {
  it("a waiter that lends no better priority leaves its holder's place among equals alone", () => {
    const orders = [PriorityVirtualEventLoop, VirtualEventLoop].flatMap((Loop) =>
      [PriorityLock, Lock].map((LockKind) => {
        const log: string[] = [];
        new Loop().runSync(
          (function* () {
            const lock = new LockKind();
            const holder = createTask(
              (function* () {
                yield* lock.acquire();
                yield; // ready again, ahead of other
                log.push("holder");
                lock.release();
              })(),
            );
            const other = createTask(
              (function* () {
                yield;
                log.push("other");
              })(),
            );
            const waiter = createTask(
              (function* () {
                yield* lock.acquire();
                log.push("waiter");
                lock.release();
              })(),
            );
            yield* holder;
            yield* other;
            yield* waiter;
          })(),
        );
        return log.join(" ");
      }),
    );
    expect(orders).toEqual([
      "holder other waiter",
      "holder other waiter",
      "holder other waiter",
      "holder other waiter",
    ]);
  });
});

describe("PriorityLock outside a task", () => {
  it("awaitSync() of a free PriorityLock's acquire() says a task must await it, not that a loop is needed", () => {
    expect(awaitSync(new Lock().acquire())).toBe(true);
    expect(thrown(() => awaitSync(new PriorityLock().acquire())).message).toBe(
      "PriorityLock.acquire() must be awaited by a task: its holder is a task.",
    );
  });
});

describe("PriorityLock: lending as waits change", () => {
  /** Two tasks that each take one lock, then wait for the other's: a deadlock, broken by `breaker`. */
  function lockOrderDeadlock(breaker: "timeout" | "cancel"): string[] {
    const log: string[] = [];
    runP(function* () {
      const first = new PriorityLock();
      const second = new PriorityLock();
      const taker = (name: string, mine: PriorityLock, theirs: PriorityLock, priority: number) =>
        createTask(
          (function* () {
            using _ = yield* mine.hold();
            yield* sleep(1);
            try {
              if (breaker === "timeout") yield* timeout(10, () => theirs.acquire());
              else yield* theirs.acquire();
              log.push(`${name} took both`);
              theirs.release();
            } catch (error) {
              log.push(`${name}: ${(error as Error).name}`);
            }
          })(),
          { name, priority },
        );
      const a = taker("A", first, second, -10);
      const b = taker("B", second, first, 10);
      yield* sleep(5);
      if (breaker === "cancel") b.cancel();
      yield* sleep(20);
      log.push(`A ${a.done()}, B ${b.done()}`);
    });
    return log;
  }

  it("a lock-order deadlock broken by a timeout or a cancel: the lending round the cycle ends, nothing overflows", () => {
    expect(lockOrderDeadlock("timeout")).toEqual([
      "A: TimeoutError",
      "B: TimeoutError",
      "A true, B true",
    ]);
    expect(lockOrderDeadlock("cancel")).toEqual([
      "B: CancelledError",
      "A took both",
      "A true, B true",
    ]);
  });

  it("round a lock-order deadlock, each holder runs at the best of the cycle's own priorities and its outside lenders', as they change", () => {
    const seen: string[] = [];
    runP(function* () {
      currentTask()?.setPriority(-100);
      const first = new PriorityLock();
      const second = new PriorityLock();
      // Each takes one lock, then waits for the other for 10 ms.
      const holding = (mine: PriorityLock, theirs: PriorityLock) =>
        function* () {
          using _ = yield* mine.hold();
          yield* sleep(1);
          try {
            yield* waitFor(theirs.acquire(), 10);
          } catch {}
        };
      const a = createTask(holding(first, second), { priority: 10 });
      const b = createTask(holding(second, first), { priority: 5 });
      const show = (when: string) =>
        seen.push(`${when}: ${a.getEffectivePriority()} ${b.getEffectivePriority()}`);
      yield* sleep(2);
      show("deadlocked");
      b.setPriority(20);
      show("b at 20");
      const lender = createTask(
        (function* () {
          yield* waitFor(first.acquire(), 3);
        })(),
        { priority: -10 },
      );
      yield* sleep(1); // it waits for the first lock now
      show("a lender waits");
      yield* catching(lender);
      show("the lender left");
      yield* sleep(20);
    });
    expect(seen).toEqual([
      "deadlocked: 5 5",
      "b at 20: 10 10",
      "a lender waits: -10 -10",
      "the lender left: 10 10",
    ]);
  });

  /**
   * A background task holds a lock, and a waiter of `priority` waits for it;
   * `change` is made to the waiter before or after the holder is made ready,
   * and a task of the default priority is created: the order in which the
   * holder and that task run.
   */
  function afterWaiterChange(
    priority: TaskPriority,
    change: (waiter: Task) => void,
    when: "before" | "after",
  ): string[] {
    const log: string[] = [];
    runP(function* () {
      currentTask()?.setPriority(-20);
      const lock = new PriorityLock();
      const go = new Event();
      createTask(
        (function* () {
          using _ = yield* lock.hold();
          yield* go.wait();
          log.push("holder runs");
        })(),
        { priority: "background" },
      );
      yield* sleep(1);
      const waiter = createTask(lock.acquire(), { priority });
      yield* sleep(1);
      if (when === "before") change(waiter);
      go.set(); // the holder is ready now
      createTask(
        (function* () {
          log.push("medium runs");
        })(),
      );
      if (when === "after") change(waiter);
      yield* sleep(5);
    });
    return log;
  }

  it("a waiter raised with setPriority() lends at once, to a holder already in the ready queue too", () => {
    expect(
      afterWaiterChange("background", (waiter) => waiter.setPriority("user-blocking"), "after"),
    ).toEqual(["holder runs", "medium runs"]);
  });

  it("a holder loses what its only better waiter lent once that waiter gives up", () => {
    expect(afterWaiterChange("user-blocking", (waiter) => waiter.cancel(), "before")).toEqual([
      "medium runs",
      "holder runs",
    ]);
  });
});

/** A task that waits on `condition` until notified, then logs its name. */
function waitsOn(condition: Condition, order: string[], name: string, priority: number): Task {
  return createTask(
    (function* () {
      using _ = yield* condition.hold();
      yield* condition.wait();
      order.push(name);
    })(),
    { priority, name },
  );
}

describe("PriorityCondition", () => {
  it("notifies waiters in priority order", () => {
    const order = runP(function* () {
      const condition = new PriorityCondition();
      const order: string[] = [];
      const tasks = (
        [
          ["low", 10],
          ["high", -10],
          ["normal", 0],
        ] as const
      ).map(([name, priority]) => waitsOn(condition, order, name, priority));
      yield* sleep(1); // all wait
      for (let i = 0; i < 3; i++) {
        using _ = yield* condition.hold();
        condition.notify(1);
      }
      for (const t of tasks) yield* t;
      return order;
    });
    expect(order).toEqual(["high", "normal", "low"]);
  });

  it("serves a waiter by the priority it has when notified: its own changed, or one it inherits", () => {
    const order = runP(function* () {
      const condition = new PriorityCondition();
      const resource = new PriorityLock();
      const order: string[] = [];
      const waiter = (name: string, priority: number) => waitsOn(condition, order, name, priority);
      const first = waiter("first", 0);
      const raised = waiter("raised", 10);
      const lender = waiter("lender", 10);
      const cancelled = waiter("cancelled", -20);
      const later = waiter("later", 0);
      const holder = createTask(
        (function* () {
          using _ = yield* resource.hold();
          using __ = yield* condition.hold();
          yield* condition.wait();
          order.push("holder");
        })(),
        { priority: 10, name: "holder" },
      );
      yield* sleep(1); // all wait
      raised.setPriority(-5); // better than the others now
      lender.setPriority(5);
      cancelled.cancel();
      // A task of priority -8 waits for the holder's lock: the holder waits at -8 too.
      const urgent = createTask(
        (function* () {
          using _ = yield* resource.hold();
          order.push("urgent");
        })(),
        { priority: -8, name: "urgent" },
      );
      yield* sleep(1);
      {
        using _ = yield* condition.hold();
        condition.notify(3);
      }
      yield* sleep(1);
      {
        using _ = yield* condition.hold();
        condition.notifyAll();
      }
      for (const task of [first, raised, lender, later, holder, urgent]) yield* task;
      yield* caught(() => cancelled);
      return order;
    });
    expect(order).toEqual(["holder", "urgent", "raised", "first", "later", "lender"]);
  });

  it("serves a wait begun in a start (coroStart) by the task that continues it", () => {
    const order = runP(function* () {
      const condition = new PriorityCondition();
      const order: string[] = [];
      const waits = (name: string) =>
        coroStart(
          (function* () {
            yield* condition.wait();
            order.push(name);
            condition.release();
          })(),
        );
      // Both waits begin in this task (priority 0); tasks of other priorities carry them on.
      yield* condition.acquire();
      const low = waits("low");
      yield* condition.acquire();
      const high = waits("high");
      createTask(coroContinue(low), { priority: 10 });
      createTask(coroContinue(high), { priority: -10 });
      // This task waits on the condition itself too, and is followed as it changes priority.
      const self = createTask(
        (function* () {
          using _ = yield* condition.hold();
          yield* condition.wait();
          order.push("self");
        })(),
      );
      yield* sleep(1);
      self.setPriority(-20);
      // One at a time, each woken task running before the next notify.
      for (let i = 0; i < 3; i++) {
        {
          using _ = yield* condition.hold();
          condition.notify(1);
        }
        yield* sleep(1);
      }
      return order;
    });
    expect(order).toEqual(["self", "high", "low"]);
  });
});

describe("PriorityCondition and starts continued elsewhere", () => {
  it("a task whose begun wait another took over is still followed while it waits itself", () => {
    const order = runP(function* () {
      const condition = new PriorityCondition();
      const order: string[] = [];
      const waitsAs = (name: string) =>
        function* () {
          using _ = yield* condition.hold();
          yield* condition.wait();
          order.push(name);
        };
      createTask(waitsAs("other")());
      yield* sleep(1);
      let carrier: Task | null = null;
      const starter = createTask(
        (function* () {
          yield* condition.acquire();
          const begun = coroStart(
            (function* () {
              try {
                yield* condition.wait();
              } finally {
                condition.release();
              }
            })(),
          );
          carrier = createTask(coroContinue(begun));
          yield* waitsAs("starter")(); // it waits on the condition itself
        })(),
      );
      yield* sleep(1);
      (carrier as Task | null)?.cancel(); // the wait it took over gives up
      yield* sleep(1);
      starter.setPriority(-10); // so the starter is notified first
      for (let i = 0; i < 2; i++) {
        {
          using _ = yield* condition.hold();
          condition.notify(1);
        }
        yield* sleep(1);
      }
      return order;
    });
    expect(order).toEqual(["starter", "other"]);
  });
});

describe("PriorityLock and starts continued elsewhere", () => {
  it("a wait begun in coroStart lends, and is served by, the continuing task's priority, which then holds the lock", () => {
    const log = runP(function* () {
      const lock = new PriorityLock();
      const log: string[] = [];
      createTask(
        (function* () {
          using _ = yield* lock.hold();
          yield* sleep(5);
          log.push(`holder runs at ${currentTask()?.getEffectivePriority()}`);
        })(),
        { priority: 5 },
      );
      yield* sleep(1);
      const acquires = (name: string) =>
        coroStart(
          (function* () {
            using _ = yield* lock.hold();
            log.push(`${name} holds it`);
          })(),
        );
      const low = acquires("low");
      const high = acquires("high");
      createTask(coroContinue(low), { priority: 10 });
      createTask(coroContinue(high), { priority: -10 });
      yield* sleep(10);
      return log;
    });
    expect(log).toEqual(["holder runs at -10", "high holds it", "low holds it"]);
  });
});

/** The numbers 0 … n-1 in a fixed shuffled order (a seeded LCG: the same order every run). */
function shuffled(n: number, seed: number): number[] {
  const values = Array.from({ length: n }, (_, i) => i);
  let state = seed;
  for (let i = n - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const j = state % (i + 1);
    [values[i], values[j]] = [values[j] as number, values[i] as number];
  }
  return values;
}

describe("test_priority.py", () => {
  it("TestPriorityLock.test_lock_effective_priority / test_priority_inheritance: the holder runs at its waiters' best", () => {
    const seen = runP(function* () {
      const seen: number[] = [];
      const me = currentTask() as Task;
      me.setPriority(1);
      const lock = new PriorityLock();
      function* doSomething(): Coro<void> {
        yield* lock.acquire();
        yield* sleep(100);
        lock.release();
      }
      seen.push(me.getEffectivePriority());
      yield* lock.acquire();
      const tasks: Task[] = [];
      for (const priority of [0, -1, -2, 2]) {
        tasks.push(createTask(doSomething(), { priority }));
        yield* sleep(0);
        seen.push(me.getEffectivePriority());
      }
      lock.release();
      for (const t of tasks) yield* t;
      seen.push(me.getEffectivePriority());
      return seen;
    });
    expect(seen).toEqual([1, 0, -1, -2, -2, 1]);
  });

  for (const prioritized of [true, false]) {
    it(`TestPriorityLock.test_lock_scheduling: waiters take the lock in priority order (priorities: ${prioritized})`, () => {
      const results = runP(function* () {
        const lock = new PriorityLock();
        const results: number[] = [];
        yield* lock.acquire();
        const tasks = shuffled(20, 7).map((i) =>
          createTask(
            (function* () {
              using _ = yield* lock.hold();
              results.push(i);
            })(),
            prioritized ? { priority: i } : {},
          ),
        );
        yield* sleep(1);
        expect(results).toEqual([]);
        lock.release();
        for (const t of tasks) yield* t;
        return results;
      });
      if (prioritized) expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i));
      else expect(results).toEqual(shuffled(20, 7));
    });
  }

  it("TestPriorityLock.test_lock_cancel: cancelled waiters drop out, the rest keep their order", () => {
    const results = runP(function* () {
      const lock = new PriorityLock();
      const results: number[] = [];
      yield* lock.acquire();
      const order = shuffled(20, 11);
      const tasks = order.map((i) =>
        createTask(
          (function* () {
            try {
              using _ = yield* lock.hold();
              results.push(i);
            } catch {}
          })(),
          { priority: i },
        ),
      );
      yield* sleep(1);
      (tasks[8] as Task).cancel();
      yield* sleep(1);
      (tasks[12] as Task).cancel();
      lock.release();
      for (const t of tasks) yield* t;
      return [results, order[8], order[12]];
    });
    const [got, i, j] = results as [number[], number, number];
    expect(got).toEqual(Array.from({ length: 20 }, (_, k) => k).filter((k) => k !== i && k !== j));
  });

  for (const lockType of ["PriorityLock", "Lock"] as const) {
    it(`TestPriorityCondition.test_notify_scheduling: notified in priority order (over a ${lockType})`, () => {
      const results = runP(function* () {
        const cond = new PriorityCondition(lockType === "Lock" ? new Lock() : new PriorityLock());
        const results: number[] = [];
        let wake = false;
        const tasks = shuffled(20, 3).map((i) =>
          createTask(
            (function* () {
              using _ = yield* cond.hold();
              yield* cond.waitFor(() => wake);
              results.push(i);
              cond.notify(1);
            })(),
            { priority: i },
          ),
        );
        yield* sleep(1);
        {
          using _ = yield* cond.hold();
          wake = true;
          cond.notify(1);
        }
        for (const t of tasks) yield* t;
        return results;
      });
      expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i));
    });
  }
});
