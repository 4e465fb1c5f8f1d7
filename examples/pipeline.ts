/**
 * A producer/consumer pipeline with a bounded Queue: a reader produces lines
 * faster than two workers can process them, and the queue's bound (2) makes the
 * reader wait instead of piling up work in memory (backpressure).
 *
 * It runs on a virtual clock, so the printed times are exact: run it with
 * `npx tsx examples/pipeline.ts`.
 */
import {
  type Coro,
  createTask,
  getRunningLoop,
  Queue,
  QueueShutDown,
  sleep,
  VirtualEventLoop,
} from "asynkit";

function log(message: string): void {
  console.log(`t=${String(getRunningLoop().time()).padStart(3)} ms  ${message}`);
}

/** Reads six lines (4 ms each) and puts them on the queue; waits when the queue is full. */
function* reader(queue: Queue<string>): Coro<void> {
  for (let n = 1; n <= 6; n++) {
    yield* sleep(4); // reading a line takes 4 ms
    const line = `line ${n}`;
    if (queue.full()) log(`reader waits: the queue is full (${queue.qsize()} lines queued)`);
    yield* queue.put(line);
    log(`reader put ${line}`);
  }
}

/** Takes lines off the queue and processes each in 20 ms, until the queue is shut down. */
function* worker(name: string, queue: Queue<string>, done: string[]): Coro<void> {
  for (;;) {
    let line: string;
    try {
      line = yield* queue.get();
    } catch (error) {
      if (error instanceof QueueShutDown) return;
      throw error;
    }
    log(`${name} starts ${line}`);
    yield* sleep(20); // processing is slower than reading
    done.push(line);
    queue.taskDone();
  }
}

function* main(): Coro<string[]> {
  const queue = new Queue<string>(2);
  const done: string[] = [];
  const workers = [
    createTask(worker("worker 1", queue, done)),
    createTask(worker("worker 2", queue, done)),
  ];
  yield* reader(queue);
  yield* queue.join(); // every line put has been processed
  queue.shutdown(); // wakes the idle workers with QueueShutDown
  for (const w of workers) yield* w;
  log(`all done: ${done.join(", ")}`);
  return done;
}

new VirtualEventLoop().runSync(main());
