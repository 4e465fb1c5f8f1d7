/**
 * The app loop behind a real node:http server on 127.0.0.1: handlers submit
 * coroutines to one long-lived loop, a module-level Semaphore bounds the work
 * in flight, a client that goes away cancels its task through an AbortSignal,
 * and shutdown() ends it all within its deadline.
 */
import { Agent, createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import {
  allTasks,
  CancelledError,
  type Coro,
  fromPromise,
  HostEventLoop,
  InvalidStateError,
  Semaphore,
  sleep,
  TimeoutError,
  timeout,
} from "../src/index.js";

let server: Server | null = null;
let app: HostEventLoop | null = null;

afterEach(async () => {
  server?.closeAllConnections();
  server?.close();
  server = null;
  if (app !== null && !app.isClosed()) await app.shutdown({ timeout: 100 });
  app = null;
});

/** Starts a server whose requests run `handler(path)` on `loop`, each within 5 s; resolves with its port. */
function serve(loop: HostEventLoop, handler: (path: string) => Coro<string>): Promise<number> {
  const started = createServer((req, res) => {
    const client = new AbortController();
    res.on("close", () => {
      if (!res.writableEnded) client.abort(new Error("client went away"));
    });
    const path = req.url ?? "/";
    const task = loop.submit(
      timeout(5000, () => handler(path)),
      { signal: client.signal, name: `GET ${path}` },
    );
    task.then(
      (body) => res.end(body),
      (error: unknown) => {
        res.statusCode =
          error instanceof TimeoutError ? 504 : error instanceof CancelledError ? 503 : 500;
        res.end(String(error));
      },
    );
  });
  server = started;
  return new Promise((ready) => {
    started.listen(0, "127.0.0.1", 2048, () => ready((started.address() as AddressInfo).port));
  });
}

const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });

/** GETs `path`; resolves with the status and body. */
function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = request({ host: "127.0.0.1", port, path, agent }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => done({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", fail);
    req.end();
  });
}

/** Polls `check` every few ms until it holds, for at most `ms`. */
async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  while (!check()) {
    if (performance.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((done) => setTimeout(done, 5));
  }
}

function hostTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
}

describe("an HTTP server on one app loop", () => {
  it("answers the requests whose tasks shutdown() abandons before it resolves, whether the handler awaits the task or gives it then()", async () => {
    for (const asyncLocalStorage of [false, true]) {
      const loop = new HostEventLoop({ asyncLocalStorage });
      app = loop;
      loop.setExceptionHandler(() => {}); // each abandoned task is reported: see the test below
      let arrived = 0;
      const started = createServer((req, res) => {
        arrived++;
        // A host promise settling long after the close (by then on a loaded machine too),
        // keeping nothing alive, that the handler waits for through any cancellation. Native
        // handlers get the loop that servers.md asks for them; a coroutine needs no option.
        const host = delay(5000, undefined, { ref: false });
        const task = loop.submit(
          asyncLocalStorage
            ? async () => {
                await host; // ignores taskSignal()
              }
            : (function* () {
                for (;;) {
                  try {
                    return yield* fromPromise(host);
                  } catch (error) {
                    if (!(error instanceof CancelledError)) throw error;
                  }
                }
              })(),
          { name: `GET ${req.url}` },
        );
        const answer = (error: unknown): void => {
          res.statusCode = error instanceof InvalidStateError ? 500 : 503;
          res.end(String(error));
        };
        if (req.url === "/then") task.then(() => res.end(), answer);
        else {
          (async () => {
            try {
              await task;
              res.end();
            } catch (error) {
              answer(error);
            }
          })();
        }
      });
      server = started;
      const port = await new Promise<number>((ready) => {
        started.listen(0, "127.0.0.1", () => ready((started.address() as AddressInfo).port));
      });
      const replies = ["/then", "/await", "/then", "/await"].map((path) => get(port, path));
      await until(() => arrived === 4);
      started.close();
      await loop.shutdown({ timeout: 50 });
      started.closeAllConnections(); // servers.md: every request has had its answer
      const answered = await Promise.all(replies);
      expect([asyncLocalStorage, answered.map(({ status }) => status)]).toEqual([
        asyncLocalStorage,
        [500, 500, 500, 500],
      ]);
      expect(answered[0]?.body).toMatch(
        /^InvalidStateError: <Task cancelling name="GET \/then"> will never finish: its loop was closed while it was pending\.$/,
      );
    }
  }, 30_000);

  it("1,000 concurrent requests through a Semaphore(10) never have more than 10 in flight", async () => {
    const loop = new HostEventLoop();
    app = loop;
    const slots = new Semaphore(10);
    let inFlight = 0;
    let most = 0;
    const port = await serve(loop, function* (path) {
      using _ = yield* slots.hold();
      inFlight++;
      most = Math.max(most, inFlight);
      yield* sleep(2);
      inFlight--;
      return `done ${path}`;
    });
    const paths = Array.from({ length: 1000 }, (_, i) => `/${i}`);
    const responses = await Promise.all(paths.map((path) => get(port, path)));
    expect(responses.every((r, i) => r.status === 200 && r.body === `done /${i}`)).toBe(true);
    // At most 10, with requests running side by side (how close to 10 the peak comes
    // depends on how fast the client's requests arrive, which a loaded machine slows).
    expect(most).toBeLessThanOrEqual(10);
    expect(most).toBeGreaterThan(1);
    expect(String(slots)).toBe("<Semaphore [unlocked, value:10]>");
  }, 30_000);

  it("100 clients that go away early leave no task, timer or permit behind", async () => {
    const loop = new HostEventLoop();
    app = loop;
    const slots = new Semaphore(10);
    const timersBefore = hostTimers();
    let arrived = 0;
    const cleanedUp: string[] = [];
    const port = await serve(loop, function* (path) {
      arrived++;
      try {
        using _ = yield* slots.hold();
        yield* sleep(60_000);
        return "never";
      } finally {
        cleanedUp.push(path);
      }
    });
    const requests = Array.from({ length: 100 }, (_, i) => {
      const req = request({ host: "127.0.0.1", port, path: `/${i}`, agent });
      req.on("error", () => {}); // the client itself hangs up
      req.end();
      return req;
    });
    await until(() => arrived === 100);
    expect(allTasks(loop).size).toBe(100); // 10 hold a permit and sleep, 90 wait for one
    for (const req of requests) req.destroy();
    await until(() => allTasks(loop).size === 0);
    expect(cleanedUp.length).toBe(100);
    expect(String(slots)).toBe("<Semaphore [unlocked, value:10]>");
    await until(() => loop.toString() === "<HostEventLoop running ready=0 timers=0>");
    expect(hostTimers()).toBeLessThanOrEqual(timersBefore); // the loop armed no host timer either
  }, 30_000);

  it("shutdown() ends the requests in flight and finishes within its deadline", async () => {
    const loop = new HostEventLoop();
    app = loop;
    const reports: string[] = [];
    loop.setExceptionHandler((_loop, context) => reports.push(context.message));
    let arrived = 0;
    const port = await serve(loop, function* (path) {
      arrived++;
      if (path !== "/stubborn") return yield* sleep(60_000, "never");
      for (;;) {
        try {
          yield* sleep(60_000);
        } catch {
          // ignores the cancellation
        }
      }
    });
    const polite = Array.from({ length: 10 }, (_, i) => get(port, `/${i}`));
    void get(port, "/stubborn").catch(() => {});
    await until(() => arrived === 11);
    const start = performance.now();
    server?.close();
    await loop.shutdown({ timeout: 200 });
    const took = performance.now() - start;
    expect(took).toBeGreaterThanOrEqual(199);
    expect(took).toBeLessThan(700);
    expect(loop.isClosed()).toBe(true);
    const statuses = (await Promise.all(polite)).map((r) => r.status);
    expect(statuses).toEqual(Array(10).fill(503));
    expect(reports).toEqual([
      'loop.shutdown(): Task "GET /stubborn" was still running 200 ms after its cancellation (it waits on sleep until t=' +
        reports[0]?.match(/t=(\d+) ms/)?.[1] +
        " ms): it caught the CancelledError, or its cleanup takes that long; it is abandoned as the loop closes.",
    ]);
  }, 30_000);
});
