/**
 * The lost update of explore-lost-update.ts written with async/await: an
 * async main and native tasks are explored, shrunk and replayed as
 * generators are, and the same schedule finds the race. Then a task that
 * awaits a host timer, which no strategy can order: explore() says so.
 *
 * Run it with `npx tsx examples/explore-async.ts`.
 */
import { createTask, Lock, sleep } from "asynkit";
import { ExploreError, explore, replay } from "asynkit/testing";

/** A counter that two tasks increment; the increment awaits between read and write. */
function counterTest(locked: boolean): () => Promise<void> {
  return async function main() {
    let n = 0;
    const lock = new Lock();
    async function increment(delay: number): Promise<void> {
      for (let i = 0; i < delay; i++) await sleep(0); // B starts a little later
      using _ = locked ? await lock.hold() : undefined;
      const v = n;
      await sleep(0); // e.g. a write to a log, between the read and the write
      n = v + 1;
    }
    const a = createTask(() => increment(0), { name: "A" });
    const b = createTask(() => increment(2), { name: "B" });
    await a;
    await b;
    if (n !== 2) throw new Error(`lost update: n is ${n}`);
  };
}

const racy = counterTest(false);
const error = await explore(racy, { strategy: "pct" }).catch((e: unknown) => e);
if (!(error instanceof ExploreError)) throw new Error("the race was not found");
console.log(error.message);
await replay(racy, error.token).catch((again: ExploreError) =>
  console.log(`replayed: ${(again.cause as Error).message}`),
);
const fixed = counterTest(true);
await replay(fixed, error.token);
const report = await explore(fixed, { strategy: "pct" });
console.log(`fixed: the token passes, and so do ${report.iterations} pct schedules`);

// A host macrotask is outside the loop's order: a warning (explore() counts the runs and says
// so once, on stderr), and with failOnWarnings a failure.
async function hostMacrotask(): Promise<void> {
  await sleep(1);
  await new Promise((resolve) => setImmediate(resolve));
}
const { uncontrolledRuns } = await explore(hostMacrotask, { iterations: 5 });
console.log(`${uncontrolledRuns} of 5 runs awaited a promise the loop did not make`);
await explore(hostMacrotask, { failOnWarnings: true }).catch((e: ExploreError) =>
  console.log(`failOnWarnings: ${e.kind}: ${(e.cause as Error).message.split(":")[0]}`),
);
