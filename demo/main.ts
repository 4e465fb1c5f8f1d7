/**
 * The first thing to run: `npm run demo`. Shows the order in which work runs
 * when a coroutine is called plainly and when it is started as a task.
 */
import { createTask, type Coro, run, sleep } from "../src/index.js";

const log: unknown[] = [];

function* work(): Coro<void> {
  log.push(1);
  yield* sleep(20); // some long I/O
  log.push(2);
}

function* caller(start: (coro: Coro<void>) => Coro<void> | Coro<unknown>): Coro<void> {
  log.length = 0;
  log.push("a");
  const pending = start(work());
  log.push("b");
  yield* sleep(10); // some other I/O
  log.push("c");
  yield* pending;
}

for (const [label, start, notice] of [
  ["plain coroutine", (c: Coro<void>) => c, "nothing runs until the caller waits for it"],
  [
    "createTask",
    (c: Coro<void>) => {
      const task = createTask(c);
      return task[Symbol.iterator]();
    },
    "the task starts when the caller first suspends",
  ],
] as const) {
  await run(caller(start));
  console.log(`${label.padEnd(16)} ${JSON.stringify(log).padEnd(24)} ${notice}`);
}
