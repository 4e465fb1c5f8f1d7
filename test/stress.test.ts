/**
 * Seeded randomized stress test of the primitives under random cancellation.
 *
 * Thousands of tasks per seed (a quarter started eagerly) work on shared
 * locks, semaphores, queues, events, two conditions (one over the shared lock)
 * and a barrier, through timeout(), waitFor(), shield(), gather() and task
 * groups whose members fail at random, while other tasks cancel them at random
 * virtual times, and right after waking them. On the scheduling loop a chaos
 * callback and a chaos task also reorder the ready queue at random
 * (readyRotate, readyPop/readyInsert, taskReinsert, taskSwitch, sleepInsert).
 *
 * Checked: at most one lock holder; no semaphore above its bound; every item
 * put is got exactly once, and no cancelled put() landed; whenever the loop is
 * idle, nobody waits for something that is available (a lost wakeup) and no
 * combinator waits for tasks that are all done; timeouts fire no earlier than
 * their deadline; every task ends; no exception-handler report but the one
 * provoked on purpose; no unhandled rejection.
 *
 * A failure names its seed: rerun it with STRESS_SEED=<seed>, or a
 * comma-separated list of seeds to run more. STRESS_TASKS sets how many tasks
 * a seed starts (default 3000).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  allTasks,
  Barrier,
  BoundedSemaphore,
  BrokenBarrierError,
  CancelledError,
  Condition,
  type Coro,
  createTask,
  currentTask,
  Event,
  type ExceptionContext,
  gather,
  getRunningLoop,
  isSchedulingLoop,
  LifoQueue,
  Lock,
  PriorityQueue,
  Queue,
  SchedulingVirtualEventLoop,
  Semaphore,
  shield,
  sleep,
  sleepInsert,
  type Task,
  type TaskGroup,
  type Timeout,
  TimeoutError,
  taskGroup,
  taskReinsert,
  taskSwitch,
  timeout,
  VirtualEventLoop,
  wait,
  waitFor,
} from "../src/index.js";
import { prng } from "../src/testing/strategies.js";

const SEEDS = process.env.STRESS_SEED
  ? process.env.STRESS_SEED.split(",").map(Number)
  : [1, 2, 3, 4, 5, 6, 7, 8];
const TASKS = Number(process.env.STRESS_TASKS ?? 3000);
/** Generous: a shared machine may run a seed several times slower than its usual ~0.5 s. */
const RUN_TIMEOUT_MS = Math.max(30_000, TASKS * 10);
/** Enough to see what went wrong without drowning in it. */
const MAX_VIOLATIONS = 20;

/** The error a task group child throws on purpose. */
class Boom extends Error {}

/** The error a callback throws on purpose, for the exception handler. */
class Provoked extends Error {}

/** What every put and get of one queue did. */
interface QueueLog {
  readonly queue: Queue<number>;
  readonly landed: Set<number>;
  readonly raised: Set<number>;
  readonly got: Set<number>;
}

interface Sem {
  readonly sem: Semaphore;
  readonly bound: number;
  held: number;
}

/** A lock and how many tasks believe they hold it. */
interface Held {
  readonly lock: Lock;
  holders: number;
}

/** A condition over `held` with a count of items its waiters wait for. */
interface Cond {
  readonly cond: Condition;
  readonly held: Held;
  available: number;
}

interface Flag {
  readonly event: Event;
  sets: number;
}

type LoopKind = "virtual" | "scheduling";

/** One seeded run: the shared primitives, the books kept on them, and the random operations. */
class Stress {
  readonly random: () => number;
  readonly violations: string[] = [];
  readonly tasks: Task[] = [];

  readonly lock: Held = { lock: new Lock(), holders: 0 };
  readonly sems: Sem[] = [
    { sem: new Semaphore(3), bound: 3, held: 0 },
    { sem: new BoundedSemaphore(2), bound: 2, held: 0 },
  ];
  readonly queues: QueueLog[] = [
    new Queue<number>(3),
    new LifoQueue<number>(),
    new PriorityQueue<number>(2),
  ].map((queue) => ({ queue, landed: new Set(), raised: new Set(), got: new Set() }));
  readonly flags: Flag[] = [
    { event: new Event(), sets: 0 },
    { event: new Event(), sets: 0 },
  ];
  /** One condition with a lock of its own, one over the lock the lock operations take. */
  readonly conds: Cond[] = [this.condOver(new Lock()), this.condOver(this.lock.lock)];
  readonly barrier = new Barrier(3);

  nextItem = 0;
  nextResult = 0;
  stopped = false;
  /** The tasks waiting on each primitive, to cancel one right after waking it: the narrowest window. */
  readonly waiting = new Map<object, Set<Task>>();
  /** The tasks the test cancelled itself: any other task that ends cancelled was cancelled by a primitive. */
  readonly cancelledByTest = new WeakSet<Task>();
  /** The gather(), shield() and taskGroup() waits in progress, with the tasks each waits for. */
  readonly joining = new Set<{ readonly what: string; readonly tasks: readonly Task[] }>();

  private condOver(lock: Lock): Cond {
    const held = lock === this.lock.lock ? this.lock : { lock, holders: 0 };
    return { cond: new Condition(lock), held, available: 0 };
  }

  constructor(readonly seed: number) {
    this.random = prng(seed);
  }

  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  violation(message: string): void {
    if (this.violations.length < MAX_VIOLATIONS) {
      this.violations.push(`t=${getRunningLoop().time()} ${message}`);
    }
  }

  /** Starts a task, sometimes eagerly: its first step then runs inside the caller's. */
  spawn<T>(coro: Coro<T>): Task<T> {
    const task = createTask(coro, { eagerStart: this.chance(0.25) });
    this.tasks.push(task as Task);
    return task;
  }

  cancel(task: Task): void {
    this.cancelledByTest.add(task);
    task.cancel();
  }

  /** Cancels a random task the test started (a few tries to find one that is still running). */
  cancelSomeone(): void {
    const self = currentTask();
    for (let tries = 0; tries < 3; tries++) {
      const victim = this.tasks[this.tasks.length - 1 - this.int(Math.min(this.tasks.length, 400))];
      if (victim !== undefined && victim !== self && !victim.done()) {
        this.cancel(victim);
        return;
      }
    }
  }

  /** Runs `body`, counting the current task among the waiters of `primitive`. */
  *waitingOn<T>(primitive: object, body: Coro<T>): Coro<T> {
    const task = currentTask() as Task;
    let tasks = this.waiting.get(primitive);
    if (tasks === undefined) this.waiting.set(primitive, (tasks = new Set()));
    tasks.add(task);
    try {
      return yield* body;
    } finally {
      tasks.delete(task);
    }
  }

  /** Sometimes, right after a wakeup, cancels a random waiter of `primitive` (maybe the one just woken). */
  maybeCancelWaiter(primitive: object): void {
    const tasks = this.waiting.get(primitive);
    if (tasks === undefined || tasks.size === 0 || !this.chance(0.3)) return;
    const victim = this.pick([...tasks]);
    if (victim !== currentTask()) this.cancel(victim);
  }

  /** Runs `body`, which waits for `tasks` (by `what`): it must not wait on once they are all done. */
  *joiningOn<T>(what: string, tasks: readonly Task[], body: Coro<T>): Coro<T> {
    const entry = { what, tasks };
    this.joining.add(entry);
    try {
      return yield* body;
    } finally {
      this.joining.delete(entry);
    }
  }

  /** The errors the operations may raise by design. */
  expected(error: unknown): boolean {
    if (error instanceof AggregateError) return error.errors.every((e) => this.expected(e));
    return (
      error instanceof Boom ||
      error instanceof TimeoutError ||
      error instanceof CancelledError ||
      error instanceof BrokenBarrierError
    );
  }

  /** Runs one operation; keeps expected errors in, lets this task's own cancellation out. */
  *guarded(body: () => Coro<unknown>): Coro<void> {
    try {
      yield* body();
    } catch (error) {
      if (error instanceof CancelledError && (currentTask()?.cancelling() ?? 0) > 0) throw error;
      if (!this.expected(error)) this.violation(`unexpected error: ${String(error)}`);
    }
  }

  // The checked primitive operations.

  *pause(): Coro<void> {
    const r = this.int(4);
    if (r === 1) yield;
    else if (r >= 2) yield* sleep(this.int(4));
  }

  *lockOp(): Coro<void> {
    const { lock } = this.lock;
    if (this.chance(0.5)) {
      using _ = yield* this.waitingOn(lock, lock.hold());
      yield* this.holding(this.lock, this.pause());
    } else {
      yield* this.waitingOn(lock, lock.acquire());
      try {
        yield* this.holding(this.lock, this.pause());
      } finally {
        lock.release();
      }
    }
    this.maybeCancelWaiter(lock);
  }

  /** Runs `body` as the holder of a lock just acquired: nobody else may hold it meanwhile. */
  *holding<T>(held: Held, body: Coro<T>): Coro<T> {
    this.enter(held);
    try {
      return yield* body;
    } finally {
      held.holders--;
    }
  }

  private enter(held: Held): void {
    if (held.holders !== 0 || !held.lock.locked()) {
      this.violation(`${held.lock} acquired with ${held.holders} holder(s)`);
    }
    held.holders++;
  }

  *semOp(): Coro<void> {
    const s = this.pick(this.sems);
    {
      using _ = yield* this.waitingOn(s.sem, s.sem.hold());
      s.held++;
      if (s.held > s.bound) this.violation(`${s.sem} held ${s.held} times, bound ${s.bound}`);
      try {
        yield* this.pause();
      } finally {
        s.held--;
      }
    }
    this.maybeCancelWaiter(s.sem);
  }

  *putOp(): Coro<void> {
    const log = this.pick(this.queues);
    const item = this.nextItem++;
    try {
      yield* this.waitingOn(log.queue, log.queue.put(item));
    } catch (error) {
      log.raised.add(item);
      throw error;
    }
    log.landed.add(item);
    this.maybeCancelWaiter(log.queue);
  }

  *getOp(): Coro<void> {
    const log = this.pick(this.queues);
    const item = yield* this.waitingOn(log.queue, log.queue.get());
    this.took(log, item);
    this.maybeCancelWaiter(log.queue);
    try {
      yield* this.pause();
    } finally {
      log.queue.taskDone();
    }
  }

  took(log: QueueLog, item: number): void {
    if (log.got.has(item)) this.violation(`item ${item} got twice from ${log.queue}`);
    if (log.raised.has(item))
      this.violation(`item ${item} got from ${log.queue}, but its put() raised`);
    else if (!log.landed.has(item))
      this.violation(`item ${item} got from ${log.queue}, but never put`);
    log.got.add(item);
  }

  *joinOp(): Coro<void> {
    yield* waitFor(this.pick(this.queues).queue.join(), 1 + this.int(6));
  }

  *eventOp(): Coro<void> {
    const flag = this.pick(this.flags);
    if (this.chance(0.3)) {
      if (this.chance(0.5)) {
        flag.sets++;
        flag.event.set();
        this.maybeCancelWaiter(flag.event);
      } else flag.event.clear();
      return;
    }
    const sets = flag.sets;
    yield* this.waitingOn(flag.event, flag.event.wait());
    if (!flag.event.isSet() && flag.sets === sets)
      this.violation(`${flag.event} woke a waiter with no set()`);
  }

  *condOp(): Coro<void> {
    const c = this.pick(this.conds);
    using _ = yield* this.waitingOn(c.cond, c.cond.hold());
    yield* this.holding(c.held, this.condHeld(c));
  }

  private *condHeld(c: Cond): Coro<void> {
    if (this.chance(0.5)) {
      c.available++;
      c.cond.notify();
      this.maybeCancelWaiter(c);
      return;
    }
    // cond.waitFor() by hand, to count the lock as free while wait() has released it.
    while (c.available === 0) {
      c.held.holders--;
      try {
        yield* this.waitingOn(c, c.cond.wait());
      } finally {
        // asyncio's promise: wait() holds the lock again on every way out.
        this.enter(c.held);
      }
    }
    c.available--;
  }

  *barrierOp(): Coro<void> {
    if (this.chance(0.05)) {
      yield* this.barrier.reset();
      return;
    }
    const index = yield* this.waitingOn(
      this.barrier,
      waitFor(this.barrier.wait(), 1 + this.int(10)),
    );
    this.maybeCancelWaiter(this.barrier);
    if (!(index >= 0 && index < this.barrier.parties)) this.violation(`barrier index ${index}`);
  }

  /** One of the first `kinds` primitive operations (the last two, join and barrier, time out on their own). */
  *primitive(kinds = 11): Coro<void> {
    switch (this.int(kinds)) {
      case 0:
      case 1:
        return yield* this.lockOp();
      case 2:
        return yield* this.semOp();
      case 3:
      case 4:
        return yield* this.putOp();
      case 5:
      case 6:
        return yield* this.getOp();
      case 7:
        return yield* this.eventOp();
      case 8:
        return yield* this.condOp();
      case 9:
        return yield* this.joinOp();
      default:
        return yield* this.barrierOp();
    }
  }

  // The combinators around them.

  *operation(depth: number): Coro<void> {
    const r = this.int(depth < 2 ? 100 : 70);
    if (r < 30) return yield* this.primitive();
    if (r < 52) return yield* this.deadlineOp(r < 42);
    if (r < 58) return this.cancelSomeone();
    if (r < 64) return yield* sleep(this.int(5));
    if (r < 70) return yield* this.pause();
    if (r < 74) return yield* this.shieldOp(depth);
    if (r < 78) return yield* this.waitForTaskOp(depth);
    if (r < 88) return yield* this.gatherOp(depth);
    return yield* this.taskGroupOp(depth);
  }

  /** timeout() or waitFor() around a primitive: a TimeoutError only once the deadline passed. */
  *deadlineOp(useTimeout: boolean): Coro<void> {
    const task = currentTask() as Task;
    const loop = getRunningLoop();
    const ms = this.int(6);
    let due = loop.time() + ms;
    const cancelling = task.cancelling();
    let deadline: Timeout | null = null;
    try {
      if (useTimeout) {
        yield* timeout(
          ms,
          function* (this: Stress, t: Timeout) {
            deadline = t;
            if (this.chance(0.2)) {
              yield* this.pause();
              // Moved while it runs: sooner, later, or away.
              due = this.chance(0.2) ? Number.POSITIVE_INFINITY : loop.time() + this.int(6);
              t.reschedule(due === Number.POSITIVE_INFINITY ? null : due);
            }
            yield* this.primitive();
          }.bind(this),
        );
      } else yield* waitFor(this.primitive(9), ms);
    } catch (error) {
      // Ours, not one from inside: timeout() says so, and the waitFor() body has none inside.
      const ours = useTimeout ? (deadline as Timeout | null)?.expired() === true : true;
      if (error instanceof TimeoutError && ours) {
        if (loop.time() < due) this.violation(`TimeoutError at ${loop.time()}, due at ${due}`);
        if (task.cancelling() !== cancelling) {
          this.violation(
            `${task} is left cancelling ${task.cancelling()}, not ${cancelling}, by a timeout`,
          );
        }
      }
      throw error;
    }
  }

  /** The outer wait may be cancelled or time out: the shielded task runs on. */
  *shieldOp(depth: number): Coro<void> {
    const inner = this.spawn(this.child(depth + 1));
    try {
      const ms = this.chance(0.5) ? null : this.int(6);
      const result = yield* this.joiningOn("shield()", [inner], waitFor(shield(inner), ms));
      if (result !== inner.result())
        this.violation(`shield() gave ${result}, its task ${inner.result()}`);
    } finally {
      if (inner.cancelled() && !this.cancelledByTest.has(inner))
        this.violation(`${inner} was cancelled through shield()`);
    }
  }

  /**
   * waitFor() on a task cancels it on timeout and returns or raises TimeoutError only once it
   * is done, as asyncio.wait_for. (Cancelled itself, it may leave before the task ends.)
   */
  *waitForTaskOp(depth: number): Coro<void> {
    const task = this.spawn(this.child(depth + 1));
    let cancelled = false;
    try {
      yield* waitFor(task, this.int(6));
    } catch (error) {
      cancelled = error instanceof CancelledError;
      throw error;
    } finally {
      if (!cancelled && !task.done()) this.violation(`waitFor() ended with ${task} still running`);
    }
  }

  *gatherOp(depth: number): Coro<void> {
    const n = 1 + this.int(3);
    const children = Array.from({ length: n }, () => this.spawn(this.child(depth + 1)));
    const returnExceptions = this.chance(0.3);
    const results: unknown[] = yield* this.joiningOn(
      "gather()",
      children,
      gather(children, { returnExceptions }),
    );
    // Every child is done once gather() returns; the results come in their order.
    children.forEach((child, i) => {
      const expected = !child.done()
        ? "pending"
        : child.cancelled()
          ? "cancelled"
          : (child.exception() ?? child.result());
      const got =
        results[i] instanceof CancelledError && returnExceptions ? "cancelled" : results[i];
      if (got !== expected)
        this.violation(`gather() result ${i} is ${String(got)}, its task ${String(expected)}`);
    });
  }

  *taskGroupOp(depth: number): Coro<void> {
    const children: Task[] = [];
    const exit = { what: "taskGroup()", tasks: children };
    try {
      yield* taskGroup(
        function* (this: Stress, tg: TaskGroup) {
          const n = 1 + this.int(3);
          for (let i = 0; i < n; i++) children.push(tg.createTask(this.child(depth + 1)) as Task);
          this.tasks.push(...children);
          try {
            yield* this.guarded(() => this.operation(depth + 1));
          } finally {
            this.joining.add(exit); // from here the group only waits for its tasks
          }
        }.bind(this),
      );
    } finally {
      this.joining.delete(exit);
      // A task group never ends before its tasks.
      const running = children.filter((child) => !child.done());
      if (running.length > 0)
        this.violation(`taskGroup() ended with ${running.length} task(s) running`);
    }
  }

  /** A child task: one guarded operation, then maybe a deliberate failure; returns a number of its own. */
  *child(depth: number): Coro<number> {
    yield* this.guarded(() => this.operation(depth));
    if (this.chance(0.15)) throw new Boom("a child failed on purpose");
    return this.nextResult++;
  }

  /** A top-level worker: starts at a random time, then does a few operations. */
  *worker(): Coro<void> {
    yield* sleep(this.int(200));
    const n = 1 + this.int(8);
    for (let i = 0; i < n; i++) yield* this.guarded(() => this.operation(0));
  }

  /** Cancels random tasks at random virtual times until stopped. */
  *canceller(): Coro<void> {
    while (!this.stopped) {
      yield* sleep(this.int(3));
      for (let i = this.int(4); i > 0; i--) this.cancelSomeone();
    }
  }

  // Invariants at rest.

  /** When the loop is idle every task is blocked: nobody may wait for what is free. */
  checkIdle(): void {
    for (const { what, tasks } of this.joining) {
      if (tasks.every((task) => task.done()))
        this.violation(`idle: ${what} waits though its tasks are done`);
    }
    // Nobody is ready to run, so a round that tripped or a reset has been taken in by every waiter.
    const barrier = this.barrier.toString();
    if (
      !/^<Barrier \[(filling|broken), /.test(barrier) ||
      this.barrier.nWaiting >= this.barrier.parties
    ) {
      this.violation(`idle: ${barrier}`);
    }
    for (const held of [this.lock, ...this.conds.map((c) => c.held)]) {
      const problem = restingLockProblem(held.lock);
      if (problem !== null) this.violation(`idle: ${problem}`);
      if (held.lock.locked() !== (held.holders === 1)) {
        this.violation(`idle: ${held.lock} with ${held.holders} holder(s)`);
      }
    }
    for (const s of this.sems) {
      if (s.sem._value + s.held !== s.bound) {
        this.violation(
          `idle: ${s.sem} has ${s.sem._value} free + ${s.held} held, bound ${s.bound}`,
        );
      }
      if (s.sem._value > 0 && (s.sem._waiters?.waiting ?? 0) > 0)
        this.violation(`idle: lost wakeup on ${s.sem}`);
    }
    for (const { queue } of this.queues) {
      if (queue.qsize() > 0 && queue._getters.length > 0)
        this.violation(`idle: getters wait on ${queue}`);
      if (!queue.full() && queue._putters.length > 0)
        this.violation(`idle: putters wait on ${queue}`);
    }
    for (const { event } of this.flags) {
      if (event.isSet() && event._waiters.waiting > 0) this.violation(`idle: waiters on ${event}`);
    }
    for (const c of this.conds) {
      // Each available item must be meant for a waiter that was notified and now waits for the
      // lock (it is in wait() but no longer waiting to be notified), or nobody may wait.
      const waiting = c.cond._waiters.waiting;
      const notified = (this.waiting.get(c)?.size ?? 0) - waiting;
      if (waiting > 0 && c.available > notified) {
        this.violation(
          `idle: ${c.cond} has ${c.available} available but waiters (${notified} notified)`,
        );
      }
    }
  }

  /** After every task ended: the books balance and every primitive is at rest. */
  checkEnd(main: Task): void {
    const left = [...allTasks()].filter((task) => task !== main);
    if (left.length > 0) this.violation(`tasks left pending: ${left.slice(0, 5).join(", ")}`);
    for (const held of [this.lock, ...this.conds.map((c) => c.held)]) {
      if (held.lock.locked() || held.holders !== 0) this.violation(`${held.lock} held at the end`);
    }
    for (const s of this.sems) {
      if (s.sem._value !== s.bound || s.held !== 0)
        this.violation(`${s.sem} not back to ${s.bound} at the end`);
    }
    for (const log of this.queues) {
      while (!log.queue.empty()) {
        this.took(log, log.queue.getNowait());
        log.queue.taskDone();
      }
      const lost = [...log.landed].filter((item) => !log.got.has(item));
      if (lost.length > 0)
        this.violation(`${log.queue}: items put but never got: ${lost.slice(0, 10)}`);
      if (log.queue._unfinishedTasks !== 0) this.violation(`${log.queue}: join() would still wait`);
      if (log.queue._getters.length + log.queue._putters.length > 0) {
        this.violation(`${log.queue}: waiters left at the end`);
      }
    }
    for (const { event } of this.flags) {
      if (event._waiters.waiting > 0) this.violation(`${event}: waiters left at the end`);
    }
    for (const { cond } of this.conds) {
      if (cond._waiters.waiting > 0) this.violation(`${cond}: waiters left at the end`);
    }
    if (this.barrier.nWaiting !== 0) this.violation(`${this.barrier} not empty at the end`);
  }
}

/** A lock at rest: when it is free, nobody waits for it. */
function restingLockProblem(lock: Lock): string | null {
  if (!lock.locked() && (lock._waiters?.length ?? 0) > 0) return `lost wakeup on ${lock}`;
  return null;
}

/** Reorders the ready queue at random, then schedules itself again; stops with the run. */
function chaosCallback(s: Stress, loop: SchedulingVirtualEventLoop): void {
  if (s.stopped) return;
  const n = loop.readyLen();
  if (n > 1) {
    switch (s.int(3)) {
      case 0:
        loop.readyRotate(s.int(2 * n + 1) - n);
        break;
      case 1:
        loop.readyInsert(s.int(n), loop.readyPop(s.int(n)));
        break;
      default: {
        const tasks = [...loop.queueTasks()];
        if (tasks.length > 0) taskReinsert(s.pick(tasks), s.int(n + 1));
      }
    }
  }
  // Only once per iteration while there is work, so the virtual clock still jumps when there is none.
  if (n > 0) loop.callSoon(chaosCallback, s, loop);
  else loop.callLater(1 + s.int(3), chaosCallback, s, loop);
}

/** A task that switches to random runnable tasks or wakes early, until stopped. */
function* chaosTask(s: Stress, loop: SchedulingVirtualEventLoop): Coro<void> {
  const self = currentTask();
  while (!s.stopped) {
    const runnable = [...loop.queueTasks()].filter((task) => task !== self);
    if (runnable.length === 0) yield* sleep(1 + s.int(3));
    else if (s.chance(0.5)) yield* taskSwitch(s.pick(runnable), { insertPos: s.int(4) });
    else yield* sleepInsert(s.int(loop.readyLen() + 1));
  }
}

function* main(s: Stress): Coro<void> {
  const loop = getRunningLoop();
  const self = currentTask() as Task;
  // The one report the test provokes, to show the recording handler hears what it must.
  loop.callSoon(() => {
    throw new Provoked("a callback failed on purpose");
  });
  const helpers = [s.spawn(s.canceller())];
  if (isSchedulingLoop(loop)) {
    const scheduling = loop as SchedulingVirtualEventLoop;
    loop.callSoon(chaosCallback, s, scheduling);
    helpers.push(s.spawn(chaosTask(s, scheduling)));
  }
  const workers: Task[] = [];
  for (let i = 0; i < TASKS / 4; i++) workers.push(s.spawn(s.worker()));
  yield* wait(workers, { timeout: 2_000 });
  s.stopped = true;
  yield* wait(helpers);
  // Cancel what still waits (a getter on an empty queue, say) until every task ended.
  for (let round = 0; round < 10; round++) {
    const left = [...allTasks()].filter((task) => task !== self);
    if (left.length === 0) break;
    for (const task of left) s.cancel(task);
    yield* wait(left, { timeout: 1_000 });
  }
  for (const task of s.tasks) {
    const error = task.cancelled() ? undefined : task.exception();
    if (error !== undefined && !s.expected(error)) s.violation(`${task} failed: ${String(error)}`);
  }
  s.checkEnd(self);
}

/** Runs one seed on one kind of loop; returns everything that went wrong. */
function stress(seed: number, kind: LoopKind): { violations: string[]; tasks: number } {
  const s = new Stress(seed);
  const reports: ExceptionContext[] = [];
  const Base = kind === "virtual" ? VirtualEventLoop : SchedulingVirtualEventLoop;
  const loop = new (class extends Base {
    override _idle(nextTimer: number | undefined): boolean {
      s.checkIdle();
      return super._idle(nextTimer);
    }
  })();
  loop.setExceptionHandler((_, context) => reports.push(context));
  try {
    loop.runSync(main(s));
  } catch (error) {
    s.violations.push(`the run failed: ${error instanceof Error ? error.stack : String(error)}`);
  }
  loop.close();
  let provoked = 0;
  for (const report of reports) {
    if (report.exception instanceof Provoked) provoked++;
    else if (s.violations.length < MAX_VIOLATIONS) {
      s.violations.push(
        `exception handler: ${report.message}: ${String(report.exception)} (${String(report.future)})`,
      );
    }
  }
  if (provoked !== 1)
    s.violations.push(`the provoked callback error was reported ${provoked} times`);
  return { violations: s.violations, tasks: s.tasks.length };
}

const rejections: unknown[] = [];
const onRejection = (reason: unknown): void => {
  rejections.push(reason);
};

describe("stress: the primitives under random cancellation", () => {
  beforeAll(() => {
    process.on("unhandledRejection", onRejection);
  });
  afterAll(() => {
    process.off("unhandledRejection", onRejection);
  });

  for (const kind of ["virtual", "scheduling"] as const) {
    for (const seed of SEEDS) {
      it(
        `${kind} loop, seed ${seed}`,
        () => {
          const { violations, tasks } = stress(seed, kind);
          expect(violations, `STRESS_SEED=${seed} on the ${kind} loop`).toEqual([]);
          expect(tasks, `STRESS_SEED=${seed}: too few tasks to stress anything`).toBeGreaterThan(
            TASKS / 2,
          );
        },
        RUN_TIMEOUT_MS,
      );
    }
  }

  it("no unhandled rejection", async () => {
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(rejections).toEqual([]);
  });
});
