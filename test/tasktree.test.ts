/**
 * The task tree: loop.dumpTasks() and formatTaskTree() show every live task
 * with its state and await chain, under the task that created it.
 */
import { describe, expect, it } from "vitest";
import {
  asCompleted,
  Barrier,
  type Coro,
  coroAwait,
  createTask,
  DeadlockError,
  Event,
  eager,
  type Future,
  formatTaskTree,
  fromPromise,
  gather,
  getRunningLoop,
  HostEventLoop,
  Lock,
  PriorityCondition,
  Queue,
  run,
  shield,
  sleep,
  type Task,
  taskGroup,
  timeout,
  VirtualEventLoop,
  wait,
  waitFor,
} from "../src/index.js";
import { collection, thrown } from "./helpers.js";

describe("formatTaskTree", () => {
  it("shows running, ready and waiting tasks, children under their creator", () => {
    const loop = new VirtualEventLoop();
    let tree = "";
    loop.runSync(
      (function* () {
        const go = new Event();
        const lock = new Lock();
        yield* lock.acquire();
        createTask(go.wait(), { name: "waiter" });
        const child = createTask(
          (function* () {
            createTask(lock.acquire(), { name: "grandchild" });
            yield* sleep(3);
          })(),
          { name: "child" },
        );
        createTask(
          (function* () {
            yield* child;
          })(),
          { name: "joiner" },
        );
        yield; // the children run their first steps; "child" makes "grandchild", ready after this task
        createTask(sleep(1), { name: "fresh" });
        tree = getRunningLoop().dumpTasks();
        go.set();
        lock.release();
      })(),
    );
    expect(tree.split("\n")).toEqual([
      'Task "Task-1" running',
      '├── Task "waiter" waits on Event.wait()',
      '├── Task "child" waits on sleep until t=3 ms',
      '│   └── Task "grandchild" ready at position 0',
      '├── Task "joiner" waits on Task "child" → sleep until t=3 ms',
      '└── Task "fresh" ready at position 1',
    ]);
  });

  it("names unnamed tasks by their loop's count: a program on a fresh loop gives one tree in every run", () => {
    const program = (): string => {
      const loop = new VirtualEventLoop();
      let tree = "";
      loop.runSync(
        (function* () {
          const sleeper = createTask(sleep(5));
          const waiter = createTask(new Event().wait());
          yield;
          tree = getRunningLoop().dumpTasks();
          waiter.cancel();
          yield* sleeper;
        })(),
      );
      loop.close();
      return tree;
    };
    const first = program();
    expect(first.split("\n")).toEqual([
      'Task "Task-1" running',
      '├── Task "Task-2" waits on sleep until t=5 ms',
      '└── Task "Task-3" waits on Event.wait()',
    ]);
    expect(program()).toBe(first);
  });

  it("in debug mode, says since when each waiting task waits", () => {
    const loop = new VirtualEventLoop();
    loop.setDebug(true);
    let tree = "";
    loop.runSync(
      (function* () {
        const go = new Event();
        createTask(go.wait(), { name: "early" });
        yield* sleep(5);
        createTask(go.wait(), { name: "late" });
        yield* sleep(2);
        tree = getRunningLoop().dumpTasks();
        go.set();
      })(),
    );
    expect(tree.split("\n").slice(1)).toEqual([
      '├── Task "early" waits on Event.wait() since t=0 ms',
      '└── Task "late" waits on Event.wait() since t=5 ms',
    ]);
  });

  it("says so of a native task whose await only the host settles, and at the end of a chain of tasks awaiting it", async () => {
    const loop = new HostEventLoop();
    let tree = "";
    let release = () => {};
    await loop.runUntilComplete(
      loop.createTask(
        (function* () {
          const hosted = createTask(
            async () => {
              await new Promise<void>((resolve) => {
                release = resolve;
              });
            },
            { name: "hosted" },
          );
          const chained = createTask(async () => await hosted, { name: "chained" });
          yield* sleep(5); // the loop sees, in a macrotask, that no microtask will resume it
          tree = formatTaskTree();
          release();
          yield* chained;
        })(),
        { name: "main" },
      ),
    );
    loop.close();
    expect(tree.split("\n")).toEqual([
      'Task "main" running',
      '├── Task "hosted" waits on a native promise only the host settles',
      '└── Task "chained" waits on Task "hosted" → a native promise only the host settles',
    ]);
  });

  it("in debug mode, says since when a native task waits on the host", async () => {
    const loop = new HostEventLoop();
    loop.setDebug(true);
    let tree = "";
    let release = () => {};
    await loop.runUntilComplete(async () => {
      const hosted = createTask(
        async () => {
          await new Promise<void>((resolve) => {
            release = resolve;
          });
        },
        { name: "hosted" },
      );
      await sleep(5); // the loop sees, in a macrotask, that no microtask will resume it
      tree = formatTaskTree();
      release();
      await hosted;
    });
    loop.close();
    expect(tree.split("\n")[1]).toMatch(
      /^└── Task "hosted" waits on a native promise only the host settles since t=\d+ ms$/,
    );
  });

  it.each([
    [
      false,
      [
        'Task "Task-1" running',
        '├── Task "A" waits on sleep until t=5 ms',
        '└── Task "B" waits on Event.wait()',
        'Task "Task-2" waits on sleep until t=5 ms',
      ],
    ],
    [
      true,
      [
        'Task "Task-1" running',
        '├── Task "A" waits on sleep until t=5 ms',
        '│   └── Task "Task-2" waits on sleep until t=5 ms',
        '└── Task "B" waits on Event.wait()',
      ],
    ],
  ])(
    "puts the task made for a Promise.all() element at the top (asyncLocalStorage: %s: under the task whose code awaits it), not under the task whose step runs",
    async (asyncLocalStorage, expected) => {
      let tree = "";
      await run(
        async () => {
          createTask(
            async () => {
              await Promise.all([sleep(1000), sleep(1000)]); // not due when main looks, however slow the host
            },
            { name: "A" },
          );
          // B's step is handed over to the microtasks when A's Promise.all() calls then().
          createTask(
            async () => {
              await new Event().wait();
            },
            { name: "B" },
          );
          await sleep(1);
          tree = formatTaskTree();
        },
        { asyncLocalStorage },
      );
      expect(tree.replace(/t=\d+ ms/g, "t=5 ms").split("\n")).toEqual(expected); // a host loop's time
    },
  );

  it("gives the position of each ready task, counting the callbacks before it", () => {
    const loop = new VirtualEventLoop();
    loop.callSoon(() => {});
    const a = loop.createTask(sleep(0), { name: "a" });
    loop.callSoon(() => {});
    loop.createTask(sleep(0), { name: "b" });
    expect(formatTaskTree(loop)).toBe('Task "a" ready at position 1\nTask "b" ready at position 3');
    a.cancel();
    loop.runSync(sleep(1));
  });

  it("puts TaskGroup members three levels deep under the tasks that made them", () => {
    const loop = new VirtualEventLoop();
    let tree = "";
    function* leaf(): Coro<void> {
      yield* sleep(10);
    }
    function* middle(): Coro<void> {
      yield* taskGroup(function* (tg) {
        tg.createTask(leaf(), { name: "leaf" });
        yield; // then waits for the group
      });
    }
    function* main(): Coro<void> {
      yield* taskGroup(function* (tg) {
        tg.createTask(middle(), { name: "middle" });
        yield* sleep(1);
        tree = formatTaskTree();
      });
    }
    loop.runSync(loop.createTask(main(), { name: "main" }));
    expect(tree.split("\n")).toEqual([
      'Task "main" running',
      '└── Task "middle" waits on its TaskGroup\'s tasks',
      '    └── Task "leaf" waits on sleep until t=10 ms',
    ]);
  });

  it("shows a line of 5,000 tasks each made by the one before (past 32 levels, by level), where recursion ran out of stack", () => {
    const loop = new VirtualEventLoop();
    const event = new Event();
    function* nest(depth: number): Coro<void> {
      if (depth > 1) createTask(nest(depth - 1), { name: `level ${depth - 1}` });
      yield* event.wait();
    }
    loop.runSync(
      (function* () {
        createTask(nest(5_000), { name: "level 5000" });
        yield* sleep(1);
      })(),
    );
    const lines = loop.dumpTasks().split("\n");
    expect(lines.length).toBe(5_000);
    expect(lines.slice(0, 3)).toEqual([
      'Task "level 5000" waits on Event.wait()',
      '└── Task "level 4999" waits on Event.wait()',
      '    └── Task "level 4998" waits on Event.wait()',
    ]);
    // 32 levels move right; the deeper ones stay there and say their level.
    const margin = " ".repeat(4 * 32);
    expect(lines.slice(32, 35)).toEqual([
      `${" ".repeat(4 * 31)}└── Task "level 4968" waits on Event.wait()`,
      `${margin}└── (level 33) Task "level 4967" waits on Event.wait()`,
      `${margin}└── (level 34) Task "level 4966" waits on Event.wait()`,
    ]);
    expect(lines.at(-1)).toBe(`${margin}└── (level 4999) Task "level 1" waits on Event.wait()`);
    event.set();
    loop.runSync(sleep(0));
    loop.close();
  });

  it("puts a task whose creator is done at the top level", () => {
    const loop = new VirtualEventLoop();
    let orphan: Task | undefined;
    loop.runSync(
      (function* () {
        yield* createTask(
          (function* () {
            yield;
            orphan = createTask(sleep(5), { name: "orphan" });
          })(),
          { name: "parent" },
        );
      })(),
    );
    expect(loop.dumpTasks()).toBe('Task "orphan" waits on sleep until t=5 ms');
    orphan?.cancel();
    loop.runSync(sleep(0));
    expect(loop.dumpTasks()).toBe("No live tasks.");
  });

  it("keeps no finished creator alive for its children: a handler's result goes while the task it left runs", async () => {
    const { watch, collected } = collection();
    const loop = new VirtualEventLoop();
    const stop = new Event();
    // A request's handler: it leaves a task behind, and returns a large result.
    const handle = async (i: number): Promise<void> => {
      const handler = createTask(async () => {
        createTask(stop.wait(), { name: `background ${i}` });
        return new Uint8Array(1 << 20);
      });
      watch(await handler, `result ${i}`);
    };
    await loop.runUntilComplete(async () => {
      for (let i = 0; i < 3; i++) await handle(i);
      // The handlers are done: the tasks they left stand at the top level, beside the main task.
      expect(loop.dumpTasks().split("\n").slice(1)).toEqual([
        'Task "background 0" waits on Event.wait()',
        'Task "background 1" waits on Event.wait()',
        'Task "background 2" waits on Event.wait()',
      ]);
      // While those tasks still run.
      expect(await fromPromise(collected(3))).toEqual(["result 0", "result 1", "result 2"]);
      stop.set();
    });
    loop.close();
  });

  it("marks a cycle of tasks waiting on each other", () => {
    const loop = new VirtualEventLoop();
    const tasks: Task[] = [];
    function* waitFor(i: number): Coro<void> {
      yield;
      yield* tasks[i] as Task;
    }
    const error = thrown(() =>
      loop.runSync(
        loop.createTask(
          (function* () {
            tasks.push(
              createTask(waitFor(1), { name: "a" }),
              createTask(waitFor(0), { name: "b" }),
            );
            yield* tasks[0] as Task;
          })(),
          { name: "main" },
        ),
      ),
    );
    expect(error).toBeInstanceOf(DeadlockError);
    expect(loop.dumpTasks().split("\n")).toEqual([
      'Task "main" waits on Task "a" → Task "b" → Task "a" → (a cycle)',
      '├── Task "a" waits on Task "b" → Task "a" → (a cycle)',
      '└── Task "b" waits on Task "a" → Task "b" → (a cycle)',
    ]);
  });

  it("shows a long chain's first and last four hops, so a chain d deep gives lines of bounded length", () => {
    const loop = new VirtualEventLoop();
    const never = new Event();
    function* level(depth: number): Coro<void> {
      if (depth === 0) yield* never.wait();
      else yield* createTask(level(depth - 1), { name: `L${depth - 1}` });
    }
    const lines = loop.runSync(
      (function* () {
        createTask(level(200), { name: "L200" });
        yield* sleep(1);
        return loop.dumpTasks().split("\n");
      })(),
    );
    expect(lines.slice(1, 3)).toEqual([
      '└── Task "L200" waits on Task "L199" → Task "L198" → Task "L197" → Task "L196" → … 193 more tasks … → Task "L2" → Task "L1" → Task "L0" → Event.wait()',
      '    └── Task "L199" waits on Task "L198" → Task "L197" → Task "L196" → Task "L195" → … 192 more tasks … → Task "L2" → Task "L1" → Task "L0" → Event.wait()',
    ]);
    // Nine hops are shown whole: leaving one out would say no less.
    expect(lines.slice(-10, -8)).toEqual([
      expect.stringMatching(
        /Task "L9" waits on Task "L8" → Task "L7" → Task "L6" → Task "L5" → … 2 more tasks … → Task "L2" → Task "L1" → Task "L0" → Event.wait\(\)$/,
      ),
      expect.stringMatching(
        /Task "L8" waits on Task "L7" → Task "L6" → Task "L5" → Task "L4" → Task "L3" → Task "L2" → Task "L1" → Task "L0" → Event.wait\(\)$/,
      ),
    ]);
    expect(Math.max(...lines.map((line) => line.trimStart().length))).toBeLessThan(250);
  });

  it("describes 20,000 tasks in one chain, and a chain into a ring, each line from the next one's", () => {
    const loop = new VirtualEventLoop();
    const never = new Event();
    const lines = loop.runSync(
      (function* () {
        let inner: Task<unknown> = createTask(never.wait(), { name: "C0" });
        for (let i = 1; i < 20_000; i++) {
          const awaited = inner;
          inner = createTask(
            (function* () {
              yield* awaited;
            })(),
            { name: `C${i}` },
          );
        }
        const ring: Task<void>[] = [];
        const member = (i: number) =>
          createTask(
            (function* () {
              yield* sleep(1);
              yield* ring[(i + 1) % 2] as Task<void>;
            })(),
            { name: `R${i}` },
          );
        ring.push(member(0), member(1));
        createTask(
          (function* () {
            yield* ring[0] as Task<void>;
          })(),
          { name: "into-ring" },
        );
        yield* sleep(2);
        const lines = loop.dumpTasks().split("\n");
        for (const task of [...ring, inner]) task.cancel();
        never.set();
        return lines;
      })(),
    );
    expect(lines).toHaveLength(20_004);
    expect(lines).toContain(
      '├── Task "C19999" waits on Task "C19998" → Task "C19997" → Task "C19996" → Task "C19995" → … 19992 more tasks … → Task "C2" → Task "C1" → Task "C0" → Event.wait()',
    );
    expect(lines.slice(-3)).toEqual([
      '├── Task "R0" waits on Task "R1" → Task "R0" → (a cycle)',
      '├── Task "R1" waits on Task "R0" → Task "R1" → (a cycle)',
      '└── Task "into-ring" waits on Task "R0" → Task "R1" → Task "R0" → (a cycle)',
    ]);
  });

  it("names every blocked task of a deadlocked pipeline and what it waits for", () => {
    const loop = new VirtualEventLoop();
    function* stage(input: Queue<number>, output: Queue<number>): Coro<void> {
      for (;;) yield* output.put((yield* input.get()) + 1);
    }
    const error = thrown(() => loop.runSync(loop.createTask(pipeline(), { name: "main" })));
    function* pipeline(): Coro<void> {
      const source = new Queue<number>();
      const middle = new Queue<number>(1);
      const sink = new Queue<number>(1);
      createTask(stage(source, middle), { name: "parse" });
      createTask(stage(middle, sink), { name: "enrich" });
      source.putNowait(1);
      source.putNowait(2);
      source.putNowait(3);
      yield* sleep(1); // nobody drains the sink: "enrich" fills it, "parse" empties the source
      yield* createTask(
        (function* () {
          yield* new Event().wait();
        })(),
        { name: "report" },
      );
    }
    expect(error).toBeInstanceOf(DeadlockError);
    expect(loop.dumpTasks().split("\n")).toEqual([
      'Task "main" waits on Task "report" → Event.wait()',
      '├── Task "parse" waits on Queue.get()',
      '├── Task "enrich" waits on Queue.put()',
      '└── Task "report" waits on Event.wait()',
    ]);
  });
});

describe("formatTaskTree in debug mode: where each waiting task suspended", () => {
  function* fetchRows(gate: Event): Coro<void> {
    yield* gate.wait(); // the frame the tree shows first
  }
  function* report(gate: Event): Coro<void> {
    yield* fetchRows(gate);
  }
  function treeOf(debug: boolean): string {
    const loop = new VirtualEventLoop();
    loop.setDebug(debug);
    let tree = "";
    loop.runSync(
      loop.createTask(
        (function* () {
          const gate = new Event();
          createTask(report(gate), { name: "report" });
          createTask(gate.wait(), { name: "bare" }); // asynkit's own coroutine: no frame of the user's
          yield* sleep(5);
          tree = formatTaskTree();
          gate.set();
        })(),
        { name: "main" },
      ),
    );
    return tree;
  }

  /**
   * The debug-mode tree while the tasks `start` makes wait on a gate, 5 ms
   * into a main task's run; main then opens the gate and waits for what
   * `start` returned.
   */
  function debugTreeWhileWaiting(start: (gate: Event) => Future<unknown>[]): string {
    const loop = new VirtualEventLoop();
    loop.setDebug(true);
    let tree = "";
    loop.runSync(
      loop.createTask(
        (function* () {
          const gate = new Event();
          const started = start(gate);
          yield* sleep(5);
          tree = formatTaskTree();
          gate.set();
          for (const future of started) yield* future;
        })(),
        { name: "main" },
      ),
    );
    return tree;
  }

  it("shows the stack taken at the yield*, innermost first, without asynkit's frames", () => {
    const lines = treeOf(true).split("\n");
    expect(lines[0]).toBe('Task "main" running');
    expect(lines[1]).toBe('├── Task "report" waits on Event.wait() since t=0 ms');
    expect(lines[2]).toMatch(/^│ {9}at fetchRows \(.*test\/tasktree\.test\.ts:\d+:\d+\)$/);
    expect(lines[3]).toMatch(/^│ {9}at report \(.*test\/tasktree\.test\.ts:\d+:\d+\)$/);
    expect(lines.slice(4)).toEqual(['└── Task "bare" waits on Event.wait() since t=0 ms']);
  });

  it("shows the frames of the coroutines that wait through coroAwait(), timeout() and waitFor(), below asynkit's", () => {
    function* viaCoroAwait(gate: Event): Coro<void> {
      yield* coroAwait(fetchRows(gate));
    }
    function* viaTimeout(gate: Event): Coro<void> {
      yield* timeout(1_000, function* body() {
        yield* fetchRows(gate);
      });
    }
    function* viaWaitFor(gate: Event): Coro<void> {
      yield* waitFor(fetchRows(gate), 1_000);
    }
    function* viaNested(gate: Event): Coro<void> {
      yield* coroAwait(
        (function* outer() {
          yield* coroAwait(
            (function* inner() {
              yield* coroAwait(fetchRows(gate));
            })(),
          );
        })(),
      );
    }
    const tree = debugTreeWhileWaiting((gate) => {
      for (const via of [viaCoroAwait, viaTimeout, viaWaitFor, viaNested]) {
        createTask(via(gate), { name: via.name });
      }
      return [];
    });
    const functions = tree
      .split("\n")
      .map((line) => /^\W*(?:Task "(\w+)"|at (\w+) )/.exec(line))
      .map((found) => found?.[1] ?? found?.[2]);
    expect(functions).toEqual([
      "main",
      "viaCoroAwait",
      "fetchRows",
      "viaCoroAwait",
      "viaTimeout",
      "fetchRows",
      "body",
      "viaTimeout",
      "viaWaitFor",
      "fetchRows",
      "viaWaitFor",
      "viaNested",
      "fetchRows",
      "inner",
      "outer",
      "viaNested",
    ]);
  });

  it("shows where a task started eagerly suspended in its start, as for one started lazily", () => {
    const tree = debugTreeWhileWaiting((gate) => {
      createTask(report(gate), { name: "lazy" });
      createTask(report(gate), { name: "eagerStart", eagerStart: true });
      return [eager(report(gate))];
    });
    const lines = tree.split("\n");
    expect(
      lines.filter((line) => line.includes("Task ")).map((line) => line.replace(/^\W+/, "")),
    ).toEqual([
      'Task "main" running',
      'Task "lazy" waits on Event.wait() since t=0 ms',
      'Task "eagerStart" waits on Event.wait() since t=0 ms',
      expect.stringMatching(/^Task "Task-\d+" waits on Event\.wait\(\) since t=0 ms$/),
    ]);
    const frames = lines
      .filter((line) => line.includes(" at "))
      .map((line) => /at (\w+)/.exec(line)?.[1]);
    expect(frames).toEqual(["fetchRows", "report", "fetchRows", "report", "fetchRows", "report"]);
  });

  it("captures nothing without debug mode", () => {
    expect(treeOf(false).split("\n")).toEqual([
      'Task "main" running',
      '├── Task "report" waits on Event.wait()',
      '└── Task "bare" waits on Event.wait()',
    ]);
  });

  it("keeps the line down to a task's children beside its frames, and drops them once it is ready", () => {
    const loop = new VirtualEventLoop();
    loop.setDebug(true);
    const trees: string[] = [];
    function* parent(gate: Event): Coro<void> {
      createTask(sleep(10), { name: "child" });
      yield* fetchRows(gate);
    }
    loop.runSync(
      loop.createTask(
        (function* () {
          const gate = new Event();
          createTask(parent(gate), { name: "parent" });
          yield* sleep(1);
          trees.push(formatTaskTree());
          gate.set(); // "parent" is ready now
          trees.push(formatTaskTree());
        })(),
        { name: "main" },
      ),
    );
    const waiting = (trees[0] as string).split("\n");
    expect(waiting[1]).toBe('└── Task "parent" waits on Event.wait() since t=0 ms');
    expect(waiting[2]).toMatch(/^ {4}│ {5}at fetchRows \(/);
    expect(waiting[3]).toMatch(/^ {4}│ {5}at parent \(/);
    expect(waiting[4]).toBe('    └── Task "child" waits on sleep until t=10 ms since t=0 ms');
    expect(waiting).toHaveLength(5);
    expect((trees[1] as string).split("\n")).toEqual([
      'Task "main" running',
      '└── Task "parent" ready at position 0',
      '    └── Task "child" waits on sleep until t=10 ms since t=0 ms',
    ]);
  });

  it("shows the frames in a deadlock's error in debug mode, and only then", () => {
    function deadlock(debug: boolean): string {
      const loop = new VirtualEventLoop();
      loop.setDebug(debug);
      const error = thrown(() =>
        loop.runSync(loop.createTask(report(new Event()), { name: "stuck" })),
      );
      expect(error).toBeInstanceOf(DeadlockError);
      return (error as DeadlockError).message;
    }
    const [, list] = deadlock(true).split("Unfinished tasks:\n");
    const lines = (list as string).split("\n");
    expect(lines[0]).toBe('  Task "stuck" waits on Event.wait() since t=0 ms');
    expect(lines[1]).toMatch(/^ {8}at fetchRows \(.*test\/tasktree\.test\.ts:\d+:\d+\)$/);
    expect(lines[2]).toMatch(/^ {8}at report \(.*test\/tasktree\.test\.ts:\d+:\d+\)$/);
    expect(lines).toHaveLength(3);
    expect(deadlock(false)).toMatch(
      /Unfinished tasks:\n {2}Task "stuck" waits on Event\.wait\(\)$/,
    );
  });
});

describe("formatTaskTree names what a task waits on", () => {
  it("says in words what a gather() or a shield() stands for", () => {
    const loop = new VirtualEventLoop();
    let tree = "";
    loop.runSync(
      (function* () {
        const go = new Event();
        const a = createTask(go.wait(), { name: "a" });
        const b = createTask(sleep(5), { name: "b" });
        const gatherer = createTask(
          (function* () {
            yield* gather(a, b);
          })(),
          { name: "gatherer" },
        );
        const shielder = createTask(
          (function* () {
            yield* shield(b);
          })(),
          { name: "shielder" },
        );
        yield* sleep(1);
        tree = getRunningLoop().dumpTasks();
        go.set();
        yield* gatherer;
        yield* shielder;
      })(),
    );
    expect(tree.split("\n").slice(3)).toEqual([
      '├── Task "gatherer" waits on gather() of 2, 2 pending',
      '└── Task "shielder" waits on shield() of Task "b"',
    ]);
  });

  it("names the waits of wait(), a Barrier, a Queue's join() and a PriorityCondition as theirs, not by what they are built on", () => {
    const loop = new VirtualEventLoop();
    let tree = "";
    loop.runSync(
      (function* () {
        const barrier = new Barrier(2);
        const queue = new Queue<number>();
        queue.putNowait(1);
        const condition = new PriorityCondition();
        const never = new Event();
        createTask(wait([never.wait(), sleep(1_000)]), { name: "wait" });
        const [first] = asCompleted([never.wait()]);
        createTask(first as Coro<true>, { name: "asCompleted" });
        createTask(barrier.wait(), { name: "barrier" });
        createTask(queue.join(), { name: "join" });
        createTask(
          (function* () {
            yield* condition.acquire();
            yield* condition.wait();
            condition.release();
          })(),
          { name: "condition" },
        );
        yield* sleep(1);
        tree = getRunningLoop().dumpTasks();
        yield* barrier.wait();
        queue.getNowait();
        queue.taskDone();
        yield* condition.acquire();
        condition.notify();
        condition.release();
      })(),
    );
    const lines = tree.split("\n");
    expect(lines.filter((line) => /"(wait|asCompleted)"/.test(line))).toEqual([
      '├── Task "wait" waits on wait() of 2',
      '├── Task "asCompleted" waits on asCompleted()',
    ]);
    expect(tree.split("\n").slice(-3)).toEqual([
      '├── Task "barrier" waits on Barrier.wait()',
      '├── Task "join" waits on Queue.join()',
      '└── Task "condition" waits on PriorityCondition.wait()',
    ]);
  });
});
