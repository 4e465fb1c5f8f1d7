/**
 * Two tasks take two locks in opposite orders. Under FIFO order one finishes
 * before the other takes its second lock, so an ordinary test passes;
 * explore() finds the schedule where each holds one lock and waits for the
 * other, and reports the deadlock task by task.
 *
 * Run it with `npx tsx examples/explore-deadlock.ts`.
 */
import { type Coro, createTask, Lock, sleep } from "asynkit";
import { ExploreError, explore } from "asynkit/testing";

function* transfer(): Coro<void> {
  const accounts = new Lock();
  const audit = new Lock();
  function* pay(): Coro<void> {
    using _accounts = yield* accounts.hold();
    yield* sleep(0);
    using _audit = yield* audit.hold();
  }
  function* report(): Coro<void> {
    yield* sleep(0);
    using _audit = yield* audit.hold();
    yield* sleep(0);
    using _accounts = yield* accounts.hold();
  }
  const payer = createTask(pay(), { name: "pay" });
  const reporter = createTask(report(), { name: "report" });
  yield* payer;
  yield* reporter;
}

const fifo = await explore(transfer, { iterations: 1 });
console.log(`FIFO order alone: ${fifo.iterations} schedule, no failure`);
try {
  await explore(transfer, { strategy: "dfs", preemptionBound: 2 });
} catch (error) {
  if (!(error instanceof ExploreError)) throw error;
  console.log(error.message);
}
