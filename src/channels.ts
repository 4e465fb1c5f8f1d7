/**
 * The loop's life as `diagnostics_channel` events, on the hosts that have the
 * module (Node, Deno, Bun): each channel is named `asynkit:<event>`, each
 * message a plain object (see {@link ChannelMessages}).
 *
 * Publishing costs one test of a module-level boolean where nobody listens:
 * `observed` is refreshed from the channels' `hasSubscribers` when a loop
 * starts a run, when a task is made on a loop not running, at each time slice
 * a loop runs on the host, and whenever a recorder of `asynkit/trace`
 * attaches or detaches.
 */
import type { Future } from "./futures.js";
import type { BaseEventLoop } from "./loops/base.js";
import type { Task } from "./tasks.js";

/** What each `asynkit:<name>` channel publishes. */
export interface ChannelMessages {
  /** A task was made: by the task whose step made it (`parent`), or by a callback or the outside (null). */
  "task.created": { task: Task; parent: Task | null; name: string; priority: number };
  /** A task's step starts: its coroutine resumes. */
  "task.step.start": { task: Task };
  /** A task's step ends: the coroutine suspended, or finished. */
  "task.step.end": { task: Task };
  /**
   * A task waits on a future (`what` says what it stands for, as the task tree
   * does). `future` is null for a native task that awaits a promise only the
   * host settles: published when the loop finds it blocked, after its step ended.
   */
  "task.suspended": { task: Task; future: Future | null; what: string };
  /** The future a task waited on is done, so the task is ready: `by` is the task whose step completed it, else null (a timer or callback, published around it as callback.start/end, or code outside the loop). */
  "task.woken": { task: Task; future: Future; by: Task | null };
  /** cancel() was asked of a task that is not done. */
  "task.cancelled": { task: Task; message: string | undefined };
  /** taskThrow() or taskInterrupt() put `error` first in the ready queue, to be thrown into the task. */
  "task.interrupted": { task: Task; error: unknown };
  /** A task's coroutine finished: `state` is "finished", "failed" or "cancelled". */
  "task.done": { task: Task; state: "finished" | "failed" | "cancelled" };
  /**
   * The scheduling API moved an entry of the ready queue: `op` names the call
   * (taskSwitch, taskReinsert, sleepInsert, readyPop, readyInsert, readyRotate),
   * `task` the task the entry resumes (null: a plain callback, or every entry
   * for readyRotate), `position` where it went (where it was taken from, for
   * readyPop; the rotation, for readyRotate).
   */
  "ready.move": { loop: BaseEventLoop; op: string; task: Task | null; position: number };
  /**
   * The loop runs a callback that is not a task's step: a timer's (`when` is
   * when it was due: a callLater() callback, or a sleep's deadline, named
   * "sleep until t=… ms") or a callSoon() one (`when` null). `name` is the
   * function's name. What it wakes is published between this and its end.
   */
  "callback.start": { loop: BaseEventLoop; name: string; when: number | null };
  /** That callback returned. */
  "callback.end": { loop: BaseEventLoop };
  /** A timer went into the loop's heap (a sleep's own timer too), due at `when` on the loop's clock. */
  "timer.scheduled": { loop: BaseEventLoop; when: number };
  /** A timer became due and went to the ready queue. */
  "timer.fired": { loop: BaseEventLoop; when: number };
  /** The loop was closed: it runs nothing more. */
  "loop.closed": { loop: BaseEventLoop };
}

/** The name of an asynkit event: the channel is `asynkit:` followed by it. */
export type ChannelName = keyof ChannelMessages;

/** A channel's own name, as `diagnostics_channel.subscribe()` takes it: `"asynkit:task.done"`. */
export type ChannelId = `asynkit:${ChannelName}`;

/** What the channel `Id` publishes: `ChannelMessage<"asynkit:task.done">` is `{ task, state }`. */
export type ChannelMessage<Id extends ChannelId> =
  Id extends `asynkit:${infer Name extends ChannelName}` ? ChannelMessages[Name] : never;

interface Channel {
  readonly hasSubscribers: boolean;
  publish(message: unknown): void;
}

const host = globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } };

/** Reached without a static import, so every host loads this module and require() works. */
const diagnostics = host.process?.getBuiltinModule?.("node:diagnostics_channel") as
  | { channel(name: string): Channel }
  | undefined;

const NAMES: readonly ChannelName[] = [
  "task.created",
  "task.step.start",
  "task.step.end",
  "task.suspended",
  "task.woken",
  "task.cancelled",
  "task.interrupted",
  "task.done",
  "ready.move",
  "callback.start",
  "callback.end",
  "timer.scheduled",
  "timer.fired",
  "loop.closed",
];

const channels = new Map<ChannelName, Channel>(
  diagnostics === undefined
    ? []
    : NAMES.map((name) => [name, diagnostics.channel(`asynkit:${name}`)]),
);

/**
 * @internal True while some asynkit channel had a subscriber when last
 * checked: the one test a hot path makes before it builds a message.
 */
export let observed = false;

/** Local subscribers (the host has no diagnostics_channel, or a recorder listens without it). */
const listeners = new Set<(name: ChannelName, message: unknown) => void>();

/** @internal Checks again whether anyone listens: see the module's comment for when. */
export function checkObservers(): void {
  let any = listeners.size > 0;
  for (const channel of channels.values()) any ||= channel.hasSubscribers;
  observed = any;
}

/** @internal Publishes `message` on `asynkit:<name>`; call only when `observed`. */
export function publish<N extends ChannelName>(name: N, message: ChannelMessages[N]): void {
  const channel = channels.get(name);
  if (channel?.hasSubscribers === true) channel.publish(message);
  for (const listener of listeners) listener(name, message);
}

/**
 * @internal Hears every asynkit event, whether or not the host has
 * diagnostics_channel (a trace recorder); returns the function that stops it.
 */
export function listen(listener: (name: ChannelName, message: unknown) => void): () => void {
  listeners.add(listener);
  observed = true;
  return () => {
    listeners.delete(listener);
    checkObservers();
  };
}
