/**
 * Task priorities (asynkit's priority scheduling, with the web's Prioritized
 * Task Scheduling names): what each task asks for, and what it gets once
 * priority inheritance through PriorityLocks is counted.
 *
 * A task gets a slot for it only once it is given a priority: most programs
 * never set one, and their tasks carry none.
 */
import type { Task } from "./tasks.js";
import { argRangeError, argTypeError } from "./validate.js";

/** The web's priority names, and asynkit's Priority.HIGH / NORMAL / LOW. Lower runs first. */
export const PRIORITIES = Object.freeze({
  "user-blocking": -10,
  "user-visible": 0,
  background: 10,
} as const);

/** A priority: a number (lower runs first) or one of the web's names. */
export type TaskPriority = number | keyof typeof PRIORITIES;

/**
 * @internal Something a task can wait for that serves its waiters by
 * priority, so keeps each waiter's (a PriorityLock, a PriorityCondition).
 */
export interface PriorityWait {
  /** The effective priority of `task`, which waits for it, may have changed (to `priority`, if given). */
  _waiterChanged(task: Task, priority?: number): void;
  /** The task that holds it, whose priority its waiters raise; null if none (a condition has none). */
  _owner(): Task | null;
}

/** @internal Something a task can hold that raises its holder's priority to its waiters' (a PriorityLock). */
export interface PriorityHolder extends PriorityWait {
  /** The best effective priority among the tasks waiting for it, or undefined when none waits. */
  _waitersPriority(): number | undefined;
  /** Calls `visit` with each task waiting for it, and the priority it is filed under. */
  _eachWaiter(visit: (task: Task, priority: number) => void): void;
}

/** What a task with a priority, or in a priority lock's chain, keeps. */
interface PriorityState {
  base: number;
  /** The priority locks it holds: it runs at least at their waiters' priority. */
  held: Set<PriorityHolder> | null;
  /** The priority lock (or condition) it waits for, if any. */
  waitingOn: PriorityWait | null;
}

/**
 * Where a task keeps its PriorityState: a property only tasks with a priority
 * get. A WeakMap lookup per ready entry cost a priority loop most of its time
 * with 100k tasks (cache misses in the map); tasks without one stay as they were.
 */
const STATE: unique symbol = Symbol("asynkit.priority");
type WithState = { [STATE]?: PriorityState };

function stateIfAny(task: Task): PriorityState | undefined {
  return (task as WithState)[STATE];
}

/** What a loop that orders by priority does when a task's effective priority changes. */
export interface PriorityListener {
  /** @internal `before`: the effective priority the task had, when known. */
  _priorityChanged(task: Task, before?: number): void;
}

/** @internal `value` as a number, or a TypeError / RangeError naming `where` and `arg`. */
export function toPriority(where: string, arg: string, value: unknown): number {
  if (typeof value === "string" && Object.hasOwn(PRIORITIES, value)) {
    return PRIORITIES[value as keyof typeof PRIORITIES];
  }
  const hint =
    'pass a number (lower runs first) or "user-blocking", "user-visible" or "background"';
  if (typeof value !== "number") {
    throw argTypeError(where, arg, value, "a number or a priority name", hint);
  }
  if (Number.isNaN(value)) throw argRangeError(where, arg, value, "a number, not NaN", hint);
  return value;
}

function stateOf(task: Task): PriorityState {
  let state = stateIfAny(task);
  if (state === undefined) {
    state = { base: 0, held: null, waitingOn: null };
    (task as WithState)[STATE] = state;
  }
  return state;
}

/** @internal The priority the task asked for (0 when it never did). */
export function basePriority(task: Task): number {
  return stateIfAny(task)?.base ?? 0;
}

/**
 * @internal The priority the task runs at: its own, or better while it holds a
 * priority lock that a task of better priority waits for (transitively).
 */
export function effectivePriority(task: Task): number {
  const state = stateIfAny(task);
  if (state === undefined) return 0;
  let best = state.base;
  if (state.held === null || state.held.size === 0) return best;
  // Each lock keeps its waiters' priorities as they change (waiterChanged), so this
  // recurses nowhere; round a lock-order deadlock, settleCycle() keeps them.
  for (const holder of state.held) {
    const waiting = holder._waitersPriority();
    if (waiting !== undefined && waiting < best) best = waiting;
  }
  return best;
}

/** @internal A new task's priority, before it is queued: nothing to move yet. */
export function initPriority(task: Task, priority: number): void {
  stateOf(task).base = priority;
}

/** @internal Sets the task's own priority, and tells its loop when what it runs at changed. */
export function setBasePriority(task: Task, priority: number): void {
  const state = stateOf(task);
  const before = effectivePriority(task);
  state.base = priority;
  if (effectivePriority(task) !== before) priorityChanged(task, before);
  waiterChanged(task);
}

/**
 * @internal What `holder`'s holder runs at, if it has one: taken before its
 * waiters change, so that a change that moves nothing goes no further.
 */
export function holderPriority(holder: PriorityWait): number | undefined {
  const owner = holder._owner();
  return owner === null ? undefined : effectivePriority(owner);
}

/**
 * @internal The task waits for `holder` now (filed among its waiters): its
 * holder, and theirs, may run sooner. `before`: holderPriority() before it was filed.
 */
export function startWaiting(task: Task, holder: PriorityWait, before: number | undefined): void {
  stateOf(task).waitingOn = holder;
  propagate(holder, before);
}

/**
 * @internal The task no longer waits for `holder` (taken out of its waiters):
 * its holder no longer runs at its priority. `before`: as for startWaiting().
 */
export function stopWaiting(task: Task, holder: PriorityWait, before: number | undefined): void {
  const state = stateIfAny(task);
  if (state === undefined || state.waitingOn !== holder) return;
  state.waitingOn = null;
  propagate(holder, before);
}

/** @internal The task took `holder`: it runs at least at its waiters' priority from now on. */
export function startHolding(task: Task, holder: PriorityHolder): void {
  const state = stateOf(task);
  if (state.held === null) state.held = new Set();
  state.held.add(holder);
  // A task an eager start waits for may hold it (the start asked for it) and wait elsewhere.
  waiterChanged(task);
}

/** @internal The task let `holder` go. */
export function stopHolding(task: Task, holder: PriorityHolder): void {
  const state = stateIfAny(task);
  if (state?.held?.delete(holder) === true) waiterChanged(task);
}

/**
 * The effective priority of `task` may have changed: the lock it waits for,
 * if any, files it anew, and the holder of that lock, and on up, are told.
 */
function waiterChanged(task: Task): void {
  const waitingOn = stateIfAny(task)?.waitingOn ?? null;
  if (waitingOn === null) return;
  const before = holderPriority(waitingOn);
  waitingOn._waiterChanged(task);
  propagate(waitingOn, before);
}

/**
 * The waiters of `holder` changed: its holder, if what it runs at changed
 * from `before`, is told, and the lock that holder waits for files it anew,
 * and so on up the chain, as far as a priority changes.
 */
function propagate(holder: PriorityWait, before: number | undefined): void {
  let seen: Set<PriorityWait> | null = null; // a chain's locks, made at its second: a cycle ends
  for (let at = holder; ; ) {
    const owner = at._owner();
    if (owner === null || effectivePriority(owner) === before) break;
    priorityChanged(owner, before);
    const next = stateIfAny(owner)?.waitingOn ?? null;
    if (next === null) break;
    seen ??= new Set([holder]);
    if (seen.has(next)) break;
    seen.add(next);
    before = holderPriority(next);
    next._waiterChanged(owner);
    at = next;
  }
  const cycle = cycleFrom(holder);
  if (cycle !== null) settleCycle(cycle);
}

/**
 * The holders round a lock-order deadlock that the chain from `holder` (its
 * holder, the lock that one waits for, its holder …) runs into, if any.
 */
function cycleFrom(holder: PriorityWait): Task[] | null {
  const first = holder._owner();
  // Most chains end at once: a holder that waits for no priority lock.
  if (first === null || (stateIfAny(first)?.waitingOn ?? null) === null) return null;
  const chain: PriorityWait[] = [];
  for (let at: PriorityWait | null = holder; at !== null; ) {
    const i = chain.indexOf(at);
    if (i >= 0) return chain.slice(i).map((lock) => lock._owner() as Task);
    chain.push(at);
    const owner = at._owner();
    if (owner === null) return null;
    at = stateIfAny(owner)?.waitingOn ?? null;
  }
  return null;
}

/**
 * Round a lock-order deadlock every holder lends to the next, so each runs at
 * the best of all their own priorities and of what the tasks outside the
 * cycle that wait for their locks lend. Worked out from those, not from what
 * the locks keep for the holders: a priority that went round the cycle once
 * would keep itself there after its lender left.
 */
function settleCycle(members: Task[]): void {
  const inCycle = new Set(members);
  let best = Number.POSITIVE_INFINITY;
  const lend = (task: Task, priority: number): void => {
    if (!inCycle.has(task) && priority < best) best = priority;
  };
  for (const member of members) {
    const state = stateOf(member);
    if (state.base < best) best = state.base;
    for (const held of state.held ?? []) held._eachWaiter(lend);
  }
  const before = members.map(effectivePriority);
  for (const member of members) stateOf(member).waitingOn?._waiterChanged(member, best);
  members.forEach((member, i) => {
    if (before[i] !== best) priorityChanged(member, before[i]);
  });
}

function priorityChanged(task: Task, before?: number): void {
  const loop = task._loop as Partial<PriorityListener>;
  loop._priorityChanged?.(task, before);
}
