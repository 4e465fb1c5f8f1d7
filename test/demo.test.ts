/**
 * `npm run demo` is the first thing a newcomer runs: it must run quickly and
 * print the seed's orders, a timeline for each, and what to notice.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import type { ChromeTrace } from "../src/trace/index.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

let output = "";
let took = 0;

/** Runs the demo with `args`; resolves with what it printed. */
function demo(args: string[]): Promise<string> {
  return new Promise<string>((done, fail) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "demo/main.ts", ...args],
      { cwd: root, timeout: 30_000, env: { ...process.env, NODE_OPTIONS: "", FORCE_COLOR: "0" } },
      (error, stdout, stderr) => {
        if (error !== null || stderr !== "") fail(new Error(`demo failed: ${stderr || error}`));
        else done(stdout);
      },
    );
  });
}

beforeAll(async () => {
  const started = performance.now();
  output = await demo([]);
  took = performance.now() - started;
}, 40_000);

/** The lines of one run in the demo: its order line, its timeline rows, its notice. */
function section(scenario: string, label: string): string[] {
  const lines = output.split("\n");
  const start = lines.findIndex((line, i) => {
    if (!line.startsWith(`  ${label} `)) return false;
    const heading = lines.slice(0, i).findLast((l) => /^\d\. /.test(l)) ?? "";
    return heading.startsWith(scenario);
  });
  if (start < 0) throw new Error(`the demo printed no "${label}" run under "${scenario}"`);
  const end = lines.findIndex((line, i) => i > start && line.startsWith("      notice: "));
  return lines.slice(start, end + 1);
}

/** The order line's events and the time the run ended. */
function order(lines: string[]): { events: string; doneAt: string } {
  const match = /^ {2}\S+(?: \S+)? +((?:\S+ )*\S+) +done at (\d+) ms$/.exec(lines[0] ?? "");
  if (match === null) throw new Error(`not an order line: ${lines[0]}`);
  return { events: match[1] as string, doneAt: match[2] as string };
}

/** The timeline row of `task`, with its events in the columns where they happened. */
function row(lines: string[], task: string): string {
  const found = lines.find((line) => line.startsWith(`      ${task} `));
  if (found === undefined) throw new Error(`no timeline row for ${task} in:\n${lines.join("\n")}`);
  return found
    .slice(6 + task.length)
    .trim()
    .replace(/ +/g, " ");
}

describe("npm run demo", () => {
  it("runs in a few seconds", () => {
    expect(took).toBeLessThan(10_000);
  });

  it("1. plain vs task vs eager: the seed's three orders", () => {
    const plain = section("1.", "plain coroutine");
    expect(order(plain)).toEqual({ events: "a b c 1 2", doneAt: "30" });
    expect(row(plain, "main")).toBe("a b c 1 2");

    const task = section("1.", "createTask");
    expect(order(task)).toEqual({ events: "a b 1 c 2", doneAt: "20" });
    expect(row(task, "main")).toBe("a b c");
    expect(row(task, "work")).toBe("1 2");

    const eager = section("1.", "eager");
    expect(order(eager)).toEqual({ events: "a 1 b c 2", doneAt: "20" });
    expect(row(eager, "main")).toBe("a b c"); // 1 ran inside main's step, as the work's task
    expect(row(eager, "work")).toBe("1 2");
  });

  it("2. depth-first descend: natural order with plain calls, descend and eager; breadth-first with tasks", () => {
    const plain = section("2.", "plain coroutine");
    expect(order(plain)).toEqual({ events: "A B D d E e b C F f G g c a", doneAt: "40" });

    const task = section("2.", "createTask");
    expect(order(task)).toEqual({ events: "A B C D E F G d e f g b c a", doneAt: "10" });

    const descend = section("2.", "createTaskDescend");
    expect(order(descend)).toEqual({ events: "A B D E C F G d e f g b c a", doneAt: "10" });
    expect(row(descend, "D")).toBe("D d"); // a task of its own from the start

    const eager = section("2.", "eager");
    expect(order(eager)).toEqual({ events: "A B D E C F G d e f g b c a", doneAt: "10" });
    expect(row(eager, "main")).toBe("A a"); // every start ran in main's step, as its own task
    expect(row(eager, "B")).toBe("B b");
    expect(row(eager, "D")).toBe("D d");
  });

  it("3. priority inversion: a plain Lock lets medium run first; a PriorityLock lends high's priority to low", () => {
    const plain = section("3.", "Lock");
    expect(order(plain).events).toBe("L1 M1 M2 M3 L2 L3 H");
    const inheriting = section("3.", "PriorityLock");
    expect(order(inheriting).events).toBe("L1 L2 L3 H M1 M2 M3");
    expect(row(inheriting, "low")).toBe("L1 L2 L3");
  });

  it("says what to notice, once for each run", () => {
    const notices = output.split("\n").filter((line) => line.startsWith("      notice: "));
    expect(notices).toHaveLength(9);
    for (const notice of notices) expect(notice.length).toBeGreaterThan(30);
  });

  it("draws the timeline columns under the events they belong to", () => {
    const lines = section("1.", "createTask");
    const times = lines.find((line) => line.startsWith("      ms "));
    const work = lines.find((line) => line.startsWith("      work "));
    // "1" ran at 0 ms and "2" at 20 ms: each sits in the column of its time
    expect(times?.[work?.indexOf("1") ?? -1]).toBe("0");
    expect(times?.slice(work?.indexOf("2") ?? -1)).toMatch(/^20/);
  });

  it("writes a trace of every run with --trace, the same one each time", async () => {
    const dir = mkdtempSync(join(tmpdir(), "asynkit-demo-"));
    try {
      const files = [join(dir, "1.json"), join(dir, "2.json")];
      const outputs = await Promise.all(files.map((file) => demo(["--trace", file])));
      expect(outputs[0]?.split("\n").slice(0, -2).join("\n").trimEnd()).toBe(output.trimEnd());
      expect(outputs[0]?.trimEnd().split("\n").at(-1)).toBe(
        `Trace written to ${files[0]}: open it at https://ui.perfetto.dev`,
      );
      const [first, second] = files.map((file) => readFileSync(file, "utf8"));
      expect(second).toBe(first);
      const events = (JSON.parse(first as string) as ChromeTrace).traceEvents;
      const count = (ph: string) => events.filter((e) => e.ph === ph).length;
      expect(events.filter((e) => e.name === "process_name")).toHaveLength(9);
      expect(count("B")).toBe(count("E"));
      expect(count("s")).toBe(count("f"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 40_000);
});
