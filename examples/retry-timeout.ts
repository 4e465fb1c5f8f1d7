/**
 * A deterministic test of a retry-with-timeout policy. The policy gives each
 * attempt a deadline and backs off between attempts; the test drives it against
 * a fake service on a virtual clock, so it can assert exact times (a test of a
 * policy with second-long timeouts takes microseconds) and that a timed-out
 * attempt is really cancelled, not left running.
 *
 * Run it with `npx tsx examples/retry-timeout.ts`.
 */
import assert from "node:assert/strict";
import { CancelledError, type Coro, sleep, timeout, VirtualEventLoop } from "asynkit";

// The code under test: a retry policy.

interface RetryPolicy {
  attempts: number;
  /** Each attempt's deadline. */
  timeoutMs: number;
  /** The wait after the first failure; it doubles after each further one. */
  backoffMs: number;
}

/** Runs `operation` until it succeeds, giving each attempt `timeoutMs`; throws the last error after `attempts`. */
function* withRetry<T>(
  policy: RetryPolicy,
  operation: (attempt: number) => Coro<T>,
  onFailure: (attempt: number, error: unknown) => void = () => {},
): Coro<T> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    try {
      return yield* timeout(policy.timeoutMs, () => operation(attempt));
    } catch (error) {
      // The caller's cancellation is not a failure to retry: it ends the retries (an
      // attempt's own deadline comes out of timeout() as a TimeoutError instead).
      if (error instanceof CancelledError) throw error;
      lastError = error;
      onFailure(attempt, error);
      if (attempt < policy.attempts) yield* sleep(policy.backoffMs * 2 ** (attempt - 1));
    }
  }
  throw new Error(`gave up after ${policy.attempts} attempts`, { cause: lastError });
}

// The test: a fake service whose every attempt does what the script says.

type Behaviour = "hang" | "fail" | "ok";

const policy: RetryPolicy = { attempts: 3, timeoutMs: 1000, backoffMs: 200 };

/** Runs the policy against a service that behaves as `script` says, on a fresh virtual loop. */
function drive(script: Behaviour[]) {
  const loop = new VirtualEventLoop();
  const events: string[] = [];
  const note = (what: string) => events.push(`${loop.time()} ${what}`);
  function* service(attempt: number): Coro<string> {
    note(`attempt ${attempt}`);
    switch (script[attempt - 1]) {
      case "hang":
        try {
          yield* sleep(60_000);
        } catch (error) {
          if (error instanceof CancelledError) note(`attempt ${attempt} cancelled`);
          throw error;
        }
        return "too late";
      case "fail":
        yield* sleep(100);
        throw new Error("503 Service Unavailable");
      default:
        yield* sleep(50);
        return "ok";
    }
  }
  const failed = (attempt: number, error: unknown) =>
    note(`attempt ${attempt} failed: ${error instanceof Error ? error.name : String(error)}`);
  let outcome: string;
  try {
    outcome = `returned ${loop.runSync(withRetry(policy, service, failed))}`;
  } catch (error) {
    const cause = error instanceof Error ? (error.cause as Error | undefined)?.name : undefined;
    outcome = `threw "${(error as Error).message}" (cause: ${cause})`;
  }
  note(outcome);
  return events;
}

const tests: [string, () => void][] = [
  [
    "recovers from a hang and an error, with exact backoff",
    () => {
      assert.deepEqual(drive(["hang", "fail", "ok"]), [
        "0 attempt 1",
        "1000 attempt 1 cancelled",
        "1000 attempt 1 failed: TimeoutError",
        "1200 attempt 2", // backoff 200 ms
        "1300 attempt 2 failed: Error",
        "1700 attempt 3", // backoff doubled: 400 ms
        "1750 returned ok",
      ]);
    },
  ],
  [
    "gives up after three timeouts, with the TimeoutError as the cause",
    () => {
      const events = drive(["hang", "hang", "hang"]);
      assert.equal(events.at(-1), `3600 threw "gave up after 3 attempts" (cause: TimeoutError)`);
      assert.equal(events.filter((e) => e.endsWith("cancelled")).length, 3);
    },
  ],
  [
    "does not retry what succeeds at once",
    () => {
      assert.deepEqual(drive(["ok"]), ["0 attempt 1", "50 returned ok"]);
    },
  ],
];

let passed = 0;
for (const [name, test] of tests) {
  test();
  passed++;
  console.log(`ok ${passed} - ${name}`);
}
console.log(`${passed} passed`);
