/**
 * Priority of work with taskSwitch: a service busy with background batch jobs
 * gets an interactive request. Fair scheduling makes the request wait its turn
 * behind every batch job; `taskSwitch(request)` moves it to the front of the
 * ready queue and runs it at once, and `insertPos: 1` brings the dispatcher
 * back right after it.
 *
 * It runs on a virtual clock, so the output is exactly the same every time:
 * run it with `npx tsx examples/priority.ts`.
 */
import {
  type Coro,
  createTask,
  getRunningLoop,
  isSchedulingLoop,
  Lock,
  SchedulingVirtualEventLoop,
  sleep,
  taskSwitch,
} from "asynkit";

/** How many batch chunks have run so far. */
let chunksDone = 0;

/** A batch job: three chunks of work, letting others run between chunks. */
function* batch(name: string, log: string[]): Coro<void> {
  for (let chunk = 1; chunk <= 3; chunk++) {
    log.push(`${name}${chunk}`);
    chunksDone++;
    yield* sleep(0); // be fair: every other ready task runs before the next chunk
  }
}

/**
 * The interactive request: it reads the session under its lock (free here, so
 * taking it does not wait), answers, and tells how many chunks it waited for.
 */
function* request(log: string[], session: Lock, arrivedAt: number): Coro<number> {
  using _session = yield* session.hold();
  log.push("REPLY");
  return chunksDone - arrivedAt;
}

/** The names of the tasks in the ready queue, in the order they will run. */
function readyQueue(): string {
  const loop = getRunningLoop();
  if (!isSchedulingLoop(loop)) throw new TypeError("this example needs a scheduling loop");
  return [...loop.queueTasks()].map((task) => task.getName()).join(" ");
}

function* service(prioritize: boolean): Coro<{ queue: string; order: string; waited: number }> {
  const log: string[] = [];
  const jobs = ["a", "b", "c", "d"].map((name) => createTask(batch(name, log), { name }));
  yield* sleep(0); // the batch jobs get going: each does its first chunk
  log.push("[request arrives]");
  const reply = createTask(request(log, new Lock(), chunksDone), { name: "request" });
  const queue = readyQueue();
  if (prioritize) yield* taskSwitch(reply, { insertPos: 1 });
  log.push("dispatcher");
  const waited = yield* reply;
  for (const job of jobs) yield* job;
  return { queue, order: log.join(" "), waited };
}

for (const prioritize of [false, true]) {
  const { queue, order, waited } = new SchedulingVirtualEventLoop().runSync(service(prioritize));
  console.log(prioritize ? "with taskSwitch(request, { insertPos: 1 })" : "fair (no taskSwitch)");
  console.log(`  ready queue when the request arrives: ${queue}`);
  console.log(`  order: ${order}`);
  console.log(`  the reply waited for ${waited} batch chunks`);
}
