/**
 * A lost update that an ordinary test never shows, found by explore(),
 * shrunk to the two decisions that matter, replayed from its token, and
 * shown fixed: the same token and a thousand other schedules pass once the
 * read-modify-write holds a lock.
 *
 * Run it with `npx tsx examples/explore-lost-update.ts`.
 */
import { type Coro, createTask, Lock, sleep, VirtualEventLoop } from "asynkit";
import { ExploreError, explore, replay } from "asynkit/testing";

/** A counter that two tasks increment; the increment awaits between read and write. */
function counterTest(locked: boolean): () => Coro<void> {
  return function* main() {
    let n = 0;
    const lock = new Lock();
    function* increment(delay: number): Coro<void> {
      for (let i = 0; i < delay; i++) yield* sleep(0); // B starts a little later
      using _ = locked ? yield* lock.hold() : undefined;
      const v = n;
      yield* sleep(0); // e.g. a write to a log, between the read and the write
      n = v + 1;
    }
    const a = createTask(increment(0), { name: "A" });
    const b = createTask(increment(2), { name: "B" });
    yield* a;
    yield* b;
    if (n !== 2) throw new Error(`lost update: n is ${n}`);
  };
}

const racy = counterTest(false);

// An ordinary test runs the FIFO schedule, and passes.
new VirtualEventLoop().runSync(racy());
console.log("the ordinary test passes");

let token = "";
try {
  await explore(racy, { strategy: "pct" });
} catch (error) {
  if (!(error instanceof ExploreError)) throw error;
  console.log(error.message);
  token = error.token;
}

for (let i = 0; i < 3; i++) {
  await replay(racy, token).catch((error: ExploreError) =>
    console.log(`replay ${i + 1}: ${(error.cause as Error).message}`),
  );
}

const fixed = counterTest(true);
await replay(fixed, token);
const report = await explore(fixed, { strategy: "pct" });
console.log(`fixed: the token passes, and so do ${report.iterations} pct schedules`);
