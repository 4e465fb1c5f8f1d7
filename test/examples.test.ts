/**
 * Every program in examples/ runs as a user runs it (`tsx examples/<name>.ts`)
 * and prints what it should. The ones on a virtual clock print exactly the
 * same every time; the crawler talks to a real local server, so its timing
 * lines are checked by shape.
 */
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function runExample(
  name: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ["--import", "tsx", join("examples", name)],
      { cwd: root, timeout: 30_000, env: { ...process.env, NODE_OPTIONS: "", FORCE_COLOR: "0" } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** What each example must print: the whole output, or a check of it. */
const expectations: Record<string, (stdout: string) => void> = {
  "pipeline.ts": (stdout) => {
    expect(stdout).toBe(
      [
        "t=  4 ms  reader put line 1",
        "t=  4 ms  worker 1 starts line 1",
        "t=  8 ms  reader put line 2",
        "t=  8 ms  worker 2 starts line 2",
        "t= 12 ms  reader put line 3",
        "t= 16 ms  reader put line 4",
        "t= 20 ms  reader waits: the queue is full (2 lines queued)",
        "t= 24 ms  worker 1 starts line 3",
        "t= 24 ms  reader put line 5",
        "t= 28 ms  worker 2 starts line 4",
        "t= 28 ms  reader put line 6",
        "t= 44 ms  worker 1 starts line 5",
        "t= 48 ms  worker 2 starts line 6",
        "t= 68 ms  all done: line 1, line 2, line 3, line 4, line 5, line 6",
        "",
      ].join("\n"),
    );
  },

  "retry-timeout.ts": (stdout) => {
    expect(stdout).toBe(
      [
        "ok 1 - recovers from a hang and an error, with exact backoff",
        "ok 2 - gives up after three timeouts, with the TimeoutError as the cause",
        "ok 3 - does not retry what succeeds at once",
        "3 passed",
        "",
      ].join("\n"),
    );
  },

  "explore-lost-update.ts": (stdout) => {
    expect(stdout).toBe(
      [
        "the ordinary test passes",
        "explore(): iteration 5 (seed 0) failed: main threw Error: lost update: n is 1",
        "Schedule: 2 departure(s) from FIFO order, shrunk from 3, 9 steps:",
        '  step 4: ran Task "B" instead of Task "A"',
        '  step 5: ran Task "B" instead of Task "A"',
        'Replay it with replay(main, "1:2-1.3-1").',
        "replay 1: lost update: n is 1",
        "replay 2: lost update: n is 1",
        "replay 3: lost update: n is 1",
        "fixed: the token passes, and so do 1000 pct schedules",
        "",
      ].join("\n"),
    );
  },

  "explore-async.ts": (stdout) => {
    expect(stdout).toBe(
      [
        "explore(): iteration 5 (seed 0) failed: main threw Error: lost update: n is 1",
        "Schedule: 2 departure(s) from FIFO order, shrunk from 3, 9 steps:",
        '  step 4: ran Task "B" instead of Task "A"',
        '  step 5: ran Task "B" instead of Task "A"',
        'Replay it with replay(main, "1:2-1.3-1").',
        "replayed: lost update: n is 1",
        "fixed: the token passes, and so do 1000 pct schedules",
        "5 of 5 runs awaited a promise the loop did not make",
        'failOnWarnings: exception report: <Task pending name="main"> awaited a promise the loop did not make, in its step 1',
        "",
      ].join("\n"),
    );
  },

  "explore-deadlock.ts": (stdout) => {
    expect(stdout).toBe(
      [
        "FIFO order alone: 1 schedule, no failure",
        "explore(): iteration 3 (seed 0) failed: deadlock: the program waits for something that can never happen: nothing is ready and no timer is pending. Unfinished tasks:",
        '  Task "main" waits on Task "pay" → Lock.acquire() (held by Task "report")',
        '  Task "pay" waits on Lock.acquire() (held by Task "report")',
        '  Task "report" waits on Lock.acquire() (held by Task "pay")',
        "Schedule: 1 departure(s) from FIFO order, 6 steps:",
        '  step 4: ran Task "report" instead of Task "pay"',
        'Replay it with replay(transfer, "1:2-1").',
        "",
      ].join("\n"),
    );
  },

  "priority.ts": (stdout) => {
    expect(stdout).toBe(
      [
        "fair (no taskSwitch)",
        "  ready queue when the request arrives: a b c d request",
        "  order: a1 b1 c1 d1 [request arrives] dispatcher a2 b2 c2 d2 REPLY a3 b3 c3 d3",
        "  the reply waited for 4 batch chunks",
        "with taskSwitch(request, { insertPos: 1 })",
        "  ready queue when the request arrives: a b c d request",
        "  order: a1 b1 c1 d1 [request arrives] REPLY dispatcher a2 b2 c2 d2 a3 b3 c3 d3",
        "  the reply waited for 0 batch chunks",
        "",
      ].join("\n"),
    );
  },

  "crawler.ts": (stdout) => {
    const lines = stdout.split("\n");
    expect(lines[0]).toBe("sequential 9 requests, at most 1 in flight at once");
    const eagerLine = /^eager {6}9 requests, at most (\d) in flight at once$/.exec(lines[1] ?? "");
    expect(eagerLine, lines[1]).not.toBeNull();
    // the links of a page are fetched together (three sections under "/"; at least two
    // overlap even on a machine too busy to accept all three connections at once)
    expect(Number(eagerLine?.[1])).toBeGreaterThanOrEqual(2);
    expect(lines.slice(2, 16)).toEqual([
      "same tree both ways: true",
      "eager was faster: true",
      "",
      "/                Home",
      "  /docs          Docs",
      "    /docs/intro  Introduction",
      "    /docs/api    API",
      "  /blog          Blog",
      "    /blog/1      First post",
      "    /blog/2      Second post",
      "  /shop          Shop",
      "    /shop/cart   Cart",
      "",
      expect.stringMatching(
        /^took about \d+\.\d round trips sequentially, \d+\.\d eagerly$/,
      ) as unknown as string,
    ]);
  },
};

/** What an example writes to stderr, where it should write anything: the warnings it shows. */
const warnings: Record<string, string> = {
  "explore-async.ts": [
    'explore(): 5 of 5 runs awaited a promise the loop did not make (the first, <Task pending name="main"> in its step 1): past it their order was the host\'s, which no schedule varies, so the search did not cover it. Await what the loop makes instead (a task, not the promise of an async function; sleep(), not a host timer; gather(), not Promise.all(); a Future or an Event, not a promise of your own that another task resolves), and give host I/O a stand-in on the loop, or pass failOnWarnings: true to fail at such an await.',
    "",
  ].join("\n"),
};

describe("examples", () => {
  it("every example has its expected output written down here", () => {
    const examples = readdirSync(join(root, "examples")).filter((name) => name.endsWith(".ts"));
    expect(examples.sort()).toEqual(Object.keys(expectations).sort());
  });

  for (const [name, check] of Object.entries(expectations)) {
    it(`examples/${name} runs and prints what it should`, async () => {
      const { code, stdout, stderr } = await runExample(name);
      expect(stderr).toBe(warnings[name] ?? "");
      expect(code).toBe(0);
      check(stdout);
    }, 40_000);
  }
});
