/**
 * ContextVar, Context and copyContext, after Python's contextvars; and the
 * asyncio rule that every task runs in its own copy of the context current
 * when it was created.
 */
import { describe, expect, it } from "vitest";
import {
  Context,
  ContextVar,
  type Coro,
  copyContext,
  createTask,
  currentTask,
  eager,
  getRunningLoop,
  HostEventLoop,
  sleep,
  type Task,
  VirtualEventLoop,
} from "../src/index.js";
import { runV } from "./helpers.js";

describe("ContextVar", () => {
  it("get() gives the default, a fallback, or throws an error that says what to do", () => {
    const withDefault = new ContextVar("a", { default: 1 });
    const noDefault = new ContextVar<number>("b");
    const undefinedDefault = new ContextVar<number | undefined>("c", { default: undefined });
    expect(withDefault.get()).toBe(1);
    expect(withDefault.get(5)).toBe(5);
    expect(noDefault.get(7)).toBe(7);
    expect(undefinedDefault.get()).toBeUndefined();
    expect(() => noDefault.get()).toThrow(
      'ContextVar "b" has no value in this context and no default: set it first or pass a fallback to get().',
    );
    expect(withDefault.name).toBe("a");
    expect(() => {
      (withDefault as { name: string }).name = "b";
    }).toThrow(TypeError);
    expect(withDefault.name).toBe("a");
    expect(String(withDefault)).toBe('<ContextVar name="a" default=1>');
    expect(String(noDefault)).toBe('<ContextVar name="b">');
    expect(String(undefinedDefault)).toBe('<ContextVar name="c" default=undefined>');
    expect(String(new ContextVar("d", { default: "x" }))).toBe('<ContextVar name="d" default="x">');
    expect(String(new ContextVar("e", { default: [1, 2] }))).toBe(
      '<ContextVar name="e" default=array of length 2>',
    );
  });

  it("a token shows its variable, and that it was used (test_context_var_repr_1)", () => {
    const v = new ContextVar("v", { default: 0 });
    copyContext().run(() => {
      const token = v.set(1);
      expect(String(token)).toBe('<Token var=<ContextVar name="v" default=0>>');
      v.reset(token);
      expect(String(token)).toBe('<Token used var=<ContextVar name="v" default=0>>');
    });
  });

  it("a context's get() and has() take only a ContextVar (test_context_typerrors_1)", () => {
    const ctx = copyContext();
    for (const [where, call] of [
      ["context.get()", () => ctx.get(1 as never)],
      ["context.has()", () => ctx.has("v" as never)],
    ] as const) {
      expect(call).toThrow(TypeError);
      expect(call).toThrow(
        new RegExp(`^${where.replace(/[().]/g, "\\$&")} expects variable to be a ContextVar`),
      );
    }
  });

  it("set() and reset() with its token", () => {
    const v = new ContextVar("v", { default: "d" });
    copyContext().run(() => {
      const t1 = v.set("one");
      expect(t1.oldValue).toBeUndefined();
      expect(t1.variable).toBe(v);
      const t2 = v.set("two");
      expect(t2.oldValue).toBe("one");
      expect(v.get()).toBe("two");
      v.reset(t2);
      expect(v.get()).toBe("one");
      v.reset(t1);
      expect(v.get()).toBe("d");
      expect(() => v.reset(t1)).toThrow(
        "This Token has already been used once; a token resets only once.",
      );
    });
  });

  it("reset() refuses a token of another variable or another context", () => {
    const a = new ContextVar("a", { default: 0 });
    const b = new ContextVar("b", { default: 0 });
    copyContext().run(() => {
      const token = a.set(1);
      expect(() => b.reset(token as never)).toThrow(
        "This Token was created by a different ContextVar.",
      );
      copyContext().run(() => {
        expect(() => a.reset(token)).toThrow("This Token was created in a different Context.");
      });
    });
  });
});

describe("Context", () => {
  it("writes to a context's own values change nothing a copy, a snapshot or a keys() iterator has", () => {
    const [a, b, c] = ["a", "b", "c"].map((name) => new ContextVar(name, { default: 0 }));
    const ctx = new Context();
    const seen = ctx.run(() => {
      (a as ContextVar<number>).set(1);
      (b as ContextVar<number>).set(1); // the context's own values from here: written in place
      const copy = copyContext();
      const keys = ctx.keys();
      (c as ContextVar<number>).set(1);
      (a as ContextVar<number>).set(2);
      return [
        copy.get(a as ContextVar<number>),
        copy.has(c as ContextVar<number>),
        [...keys].length,
      ];
    });
    expect(seen).toEqual([1, false, 2]);
    expect([ctx.get(a as ContextVar<number>), ctx.size]).toEqual([2, 3]);
    const parent = runV(function* () {
      (a as ContextVar<number>).set(10);
      (b as ContextVar<number>).set(10);
      const child = createTask(
        (function* () {
          yield* sleep(1);
          (c as ContextVar<number>).set(30);
          return [(a as ContextVar<number>).get(), (b as ContextVar<number>).get()];
        })(),
      );
      (b as ContextVar<number>).set(20); // after the child was made: not the child's
      return [yield* child, (c as ContextVar<number>).get()];
    });
    expect(parent).toEqual([[10, 10], 0]);
  });

  it("setting many variables in one context costs each set O(1), not a copy of them all", () => {
    const vars = Array.from({ length: 20_000 }, (_, i) => new ContextVar(`v${i}`, { default: 0 }));
    const started = performance.now();
    new Context().run(() => {
      for (const v of vars) v.set(1);
    });
    // Copying every value at each set took seconds for 20k variables; in place, milliseconds.
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("run() makes changes inside the context, and none outside", () => {
    const v = new ContextVar("v", { default: "outer" });
    const ctx = copyContext();
    const result = ctx.run(
      (x: number, y: number) => {
        v.set("inner");
        return x + y;
      },
      2,
      3,
    );
    expect(result).toBe(5);
    expect(v.get()).toBe("outer");
    expect(ctx.get(v)).toBe("inner");
    expect(ctx.has(v)).toBe(true);
    expect([...ctx.keys()]).toEqual([v]);
    expect(ctx.size).toBe(1);
    expect(ctx.run(() => v.get())).toBe("inner");
  });

  it("a new Context is empty; get() of a missing variable is undefined", () => {
    const v = new ContextVar("v", { default: 1 });
    const ctx = new Context();
    expect(ctx.size).toBe(0);
    expect(ctx.has(v)).toBe(false);
    expect(ctx.get(v)).toBeUndefined();
    expect(ctx.run(() => v.get())).toBe(1);
  });

  it("copy() is independent of the original", () => {
    const v = new ContextVar<number>("v");
    const ctx = new Context();
    ctx.run(() => v.set(1));
    const copy = ctx.copy();
    copy.run(() => v.set(2));
    expect(ctx.get(v)).toBe(1);
    expect(copy.get(v)).toBe(2);
  });

  it("a context cannot be entered while it is entered", () => {
    const ctx = new Context();
    expect(() => ctx.run(() => ctx.run(() => 1))).toThrow(
      "Cannot enter a Context that is already entered: run a copy of it instead (context.copy().run(...)).",
    );
    expect(ctx.run(() => 2)).toBe(2);
  });

  it("run() restores the previous context when the function throws", () => {
    const v = new ContextVar("v", { default: "outer" });
    const ctx = new Context();
    expect(() =>
      ctx.run(() => {
        v.set("inner");
        throw new Error("x");
      }),
    ).toThrow("x");
    expect(v.get()).toBe("outer");
    expect(ctx.get(v)).toBe("inner");
  });
});

describe("tasks and contexts", () => {
  it("each task runs in a copy of the context current when it was created", () => {
    const v = new ContextVar("v", { default: "unset" });
    const log: string[] = [];
    runV(
      (function* () {
        v.set("at creation");
        const t = createTask(
          (function* () {
            log.push(`task sees ${v.get()}`);
            v.set("set by task");
            yield;
            log.push(`task still sees ${v.get()}`);
          })(),
        );
        v.set("changed after");
        yield* t;
        log.push(`main sees ${v.get()}`);
      })(),
    );
    expect(log).toEqual([
      "task sees at creation",
      "task still sees set by task",
      "main sees changed after",
    ]);
    expect(v.get()).toBe("unset");
  });

  it("interleaved tasks each keep their own values", () => {
    const v = new ContextVar<number>("v", { default: 0 });
    const log: string[] = [];
    runV(
      (function* () {
        const make = (n: number) =>
          createTask(
            (function* () {
              v.set(n);
              for (let i = 0; i < 2; i++) {
                yield* sleep(n);
                log.push(`${n}:${v.get()}`);
              }
            })(),
          );
        const a = make(1);
        const b = make(2);
        yield* a;
        yield* b;
        log.push(`main:${v.get()}`);
      })(),
    );
    expect(log).toEqual(["1:1", "2:2", "1:1", "2:2", "main:0"]);
  });

  it("a task given a context runs in that very context", () => {
    const v = new ContextVar<string>("v");
    const ctx = new Context();
    runV(
      (function* () {
        const t = createTask(
          (function* () {
            v.set("written");
            yield;
          })(),
          { context: ctx },
        );
        yield* t;
        expect(v.get("none")).toBe("none");
      })(),
    );
    expect(ctx.get(v)).toBe("written");
  });

  it("callSoon and callLater callbacks run in the context current when scheduled", () => {
    const v = new ContextVar("v", { default: "default" });
    const log: string[] = [];
    runV(
      (function* () {
        const loop = getRunningLoop();
        v.set("scheduled");
        loop.callSoon(() => log.push(`soon ${v.get()}`));
        loop.callLater(1, () => log.push(`later ${v.get()}`));
        v.set("after");
        yield* sleep(2);
      })(),
    );
    expect(log).toEqual(["soon scheduled", "later scheduled"]);
  });

  it("a done-callback runs in a copy of the context current when it was added, as asyncio's", () => {
    const v = new ContextVar("v", { default: "default" });
    const log: string[] = [];
    runV(
      (function* () {
        const f = getRunningLoop().createFuture<void>();
        v.set("adder");
        f.addDoneCallback(() => {
          log.push(`callback sees ${v.get()}`);
          v.set("set by the callback");
        });
        v.set("after adding");
        f.setResult();
        yield;
        log.push(`adder sees ${v.get()}`);
      })(),
    );
    expect(log).toEqual(["callback sees adder", "adder sees after adding"]);
  });

  it("a ContextVar set in a done-callback does not leak into later runs", () => {
    const v = new ContextVar("v", { default: "default" });
    runV(
      (function* () {
        const f = getRunningLoop().createFuture<void>();
        f.addDoneCallback(() => v.set("leaked"));
        f.setResult();
        yield;
      })(),
    );
    expect(v.get()).toBe("default");
    expect(
      runV(
        (function* () {
          yield;
          return v.get();
        })(),
      ),
    ).toBe("default");
  });

  it("addDoneCallback({ context }) runs the callback in that very context", () => {
    const v = new ContextVar("v", { default: "default" });
    const ctx = new Context();
    const log: string[] = [];
    runV(
      (function* () {
        const f = getRunningLoop().createFuture<void>();
        ctx.run(() => v.set("in ctx"));
        f.addDoneCallback(
          () => {
            log.push(v.get());
            v.set("written by the callback");
          },
          { context: ctx },
        );
        f.setResult();
        yield;
      })(),
    );
    expect(log).toEqual(["in ctx"]);
    expect(ctx.get(v)).toBe("written by the callback");
  });

  it("Context.run inside a task does not change the task's context", () => {
    const v = new ContextVar("v", { default: "d" });
    const result = runV(
      (function* () {
        v.set("task");
        const inner = copyContext().run(() => {
          v.set("inner");
          return v.get();
        });
        yield;
        return [inner, v.get()];
      })(),
    );
    expect(result).toEqual(["inner", "task"]);
  });
});

/**
 * Tasks made from the same values share one frozen snapshot of them until a
 * task writes or its context is asked for: none of that may show.
 */
describe("tasks that share the snapshot they were made with", () => {
  it("getContext() asked by the task itself inside a context.run() or an eager start stays its context", () => {
    const v = new ContextVar("v", { default: 0 });
    const got = runV(function* () {
      const inRun = createTask(
        (function* () {
          const me = currentTask() as Task;
          const held = copyContext().run(() => me.getContext());
          yield; // a step that writes nothing keeps it
          const again = me.getContext();
          v.set(1);
          yield;
          v.set(2);
          return [held === again, held === me.getContext(), held.get(v), v.get()];
        })(),
      );
      const inEager = createTask(
        (function* () {
          const me = currentTask() as Task;
          let held: Context | undefined;
          yield* eager(
            // biome-ignore lint/correctness/useYield: a start that ends without suspending
            (function* () {
              held = me.getContext();
            })(),
          );
          v.set(3);
          yield;
          return [held === me.getContext(), held?.get(v)];
        })(),
      );
      return [yield* inRun, yield* inEager];
    });
    expect(got).toEqual([
      [true, true, 2, 2],
      [true, 3],
    ]);
  });

  /** A ContextVar whose default is "default", and what `main` logged running on a virtual loop. */
  function logged(main: (v: ContextVar<string>, log: string[]) => Coro<void>): string[] {
    const v = new ContextVar<string>("v", { default: "default" });
    const log: string[] = [];
    runV(main(v, log));
    return log;
  }

  it("siblings made from the same values write only to their own copies", () => {
    const v = new ContextVar<string>("v", { default: "root" });
    const log: string[] = [];
    runV(
      (function* () {
        v.set("parent");
        const child = (name: string) =>
          createTask(
            (function* () {
              log.push(`${name} sees ${v.get()}`);
              v.set(name);
              yield;
              log.push(`${name} still sees ${v.get()}`);
            })(),
          );
        const tasks = [child("a"), child("b"), child("c")];
        v.set("parent, later");
        for (const t of tasks) yield* t;
        log.push(`parent sees ${v.get()}`);
      })(),
    );
    expect(log).toEqual([
      "a sees parent",
      "b sees parent",
      "c sees parent",
      "a still sees a",
      "b still sees b",
      "c still sees c",
      "parent sees parent, later",
    ]);
  });

  it("task.getContext() is the task's own, the same object every time, and shows the task's later writes", () => {
    const v = new ContextVar<string>("v", { default: "unset" });
    runV(
      (function* () {
        const made = (function* () {
          yield;
          v.set("written by the task");
          yield;
        })();
        const a = createTask(made);
        const b = createTask((function* () {})());
        const context = a.getContext();
        expect(a.getContext()).toBe(context);
        expect(context).not.toBe(b.getContext());
        expect(context.get(v)).toBeUndefined();
        yield* a;
        expect(context.get(v)).toBe("written by the task");
        expect(a.getContext()).toBe(context);
      })(),
    );
  });

  it("a running task that asks for its own context goes on writing to that object", () => {
    const v = new ContextVar<number>("v", { default: 0 });
    runV(
      (function* () {
        const t = createTask(
          (function* () {
            const mine = (currentTask() as Task<void>).getContext();
            v.set(1);
            expect(mine.get(v)).toBe(1);
            yield;
            v.set(2);
            expect(mine.get(v)).toBe(2);
            expect(currentTask()?.getContext()).toBe(mine);
          })(),
        );
        yield* t;
        expect(v.get()).toBe(0);
      })(),
    );
  });

  it("a value written into a waiting task's context from outside reaches the task", () => {
    const v = new ContextVar<string>("v", { default: "unset" });
    const seen = runV(
      (function* () {
        const t = createTask(
          (function* () {
            yield;
            return v.get();
          })(),
        );
        t.getContext().run(() => v.set("from outside"));
        return yield* t;
      })(),
    );
    expect(seen).toBe("from outside");
  });

  it("a token set in one step of a task resets in a later one", () => {
    const lines = logged(function* (v, log) {
      yield* createTask(
        (function* () {
          const token = v.set("temporary");
          yield;
          log.push(v.get());
          v.reset(token);
          yield;
          log.push(v.get());
        })(),
      );
    });
    expect(lines).toEqual(["temporary", "default"]);
  });

  it("a parent's token still resets after it made tasks from its values", () => {
    const lines = logged(function* (v, log) {
      const token = v.set("parent");
      const t = createTask(
        (function* () {
          yield;
          log.push(`child: ${v.get()}`);
        })(),
      );
      v.reset(token);
      log.push(`parent: ${v.get()}`);
      yield* t;
    });
    expect(lines).toEqual(["parent: default", "child: parent"]);
  });

  it("an eager start inside a task on the snapshot writes to a copy, not to the task", () => {
    const lines = logged(function* (v, log) {
      yield* createTask(
        (function* () {
          function* start() {
            v.set("in the start");
            yield;
            log.push(`start: ${v.get()}`);
          }
          yield* eager(start());
          log.push(`task: ${v.get()}`);
        })(),
      );
    });
    expect(lines).toEqual(["start: in the start", "task: default"]);
  });

  it("the task an eager start asks for hands out the context the start goes on writing to", () => {
    const lines = logged(function* (v, log) {
      v.set("parent");
      function* start() {
        const task = currentTask() as Task<void>;
        const context = task.getContext();
        v.set("in the start");
        yield* sleep(1);
        log.push(`${context.get(v)} ${v.get()} ${context === task.getContext()}`);
        context.run(() => v.set("through the context"));
        yield* sleep(1);
        log.push(v.get());
      }
      yield* eager(start());
      log.push(`parent: ${v.get()}`);
    });
    expect(lines).toEqual([
      "in the start in the start true",
      "through the context",
      "parent: parent",
    ]);
  });

  it("a native task's writes after its awaits stay its own", async () => {
    const v = new ContextVar<string>("v", { default: "default" });
    const log: string[] = [];
    const loop = new VirtualEventLoop();
    await loop.runUntilComplete(async () => {
      const worker = async (name: string) => {
        await sleep(0);
        v.set(name);
        await sleep(1);
        log.push(`${name}: ${v.get()}`);
      };
      const a = createTask(() => worker("a"));
      const b = createTask(() => worker("b"));
      await a;
      await b;
      log.push(`main: ${v.get()}`);
    });
    loop.close();
    expect(log).toEqual(["a: a", "b: b", "main: default"]);
  });

  it("a native task keeps a write made before it starts an eager native task", async () => {
    const v = new ContextVar<string>("v", { default: "default" });
    const log: string[] = [];
    const loop = new VirtualEventLoop();
    await loop.runUntilComplete(async () => {
      const a = createTask(async () => {
        await sleep(0);
        v.set("a");
        // b's first step runs now, and its then() comes before a's next one.
        const b = createTask(
          async () => {
            await sleep(0);
            log.push(`b: ${v.get()}`);
          },
          { eagerStart: true },
        );
        await sleep(0);
        log.push(`a: ${v.get()}`);
        await b;
      });
      await a;
    });
    loop.close();
    expect(log).toEqual(["b: a", "a: a"]);
  });

  it("a native task keeps a write after an await when it then ends, or awaits the host", async () => {
    const v = new ContextVar<string>("v", { default: "default" });
    const loop = new HostEventLoop();
    const [ends, host, sibling] = await loop.runUntilComplete(async () => {
      const ends = createTask(async () => {
        await sleep(0);
        v.set("ends");
      });
      const host = createTask(async () => {
        await sleep(0);
        v.set("host");
        await new Promise((resolve) => setImmediate(resolve)); // settles after the host check
      });
      const sibling = createTask(async () => {
        await sleep(0);
      });
      await ends;
      await host;
      await sibling;
      return [ends, host, sibling];
    });
    loop.close();
    expect(ends.getContext().get(v)).toBe("ends");
    expect(host.getContext().get(v)).toBe("host");
    // The three shared one snapshot: the writes made copies.
    expect(sibling.getContext().get(v)).toBeUndefined();
  });
});
