/**
 * The scheduling policy, whose loops are scheduling loops, and
 * eventLoopPolicy(): a policy installed for a scope (asynkit's
 * `SchedulingEventLoopPolicy` and `event_loop_policy()`).
 */
import "./util/dispose.js";
import type { BaseEventLoop } from "./loops/base.js";
import { DefaultSchedulingEventLoop } from "./loops/scheduling.js";
import {
  checkPolicy,
  DefaultEventLoopPolicy,
  type EventLoopPolicy,
  getEventLoopPolicy,
  setEventLoopPolicy,
} from "./policy.js";

/**
 * A policy whose new loops are {@link DefaultSchedulingEventLoop}s, so that
 * `run()` gives every program a ready queue it can reorder.
 *
 * @example
 * ```ts
 * import { SchedulingEventLoopPolicy, run, setEventLoopPolicy, sleepInsert } from "asynkit";
 * setEventLoopPolicy(new SchedulingEventLoopPolicy());
 * await run(function* () { yield* sleepInsert(0); });
 * ```
 */
export class SchedulingEventLoopPolicy extends DefaultEventLoopPolicy {
  override newEventLoop(): BaseEventLoop {
    return new DefaultSchedulingEventLoop();
  }
}

/** For each installed policy, the policies it replaced, the latest last. */
const replaced = new WeakMap<EventLoopPolicy, EventLoopPolicy[]>();

function restorePrevious(this: EventLoopPolicy): void {
  const previous = replaced.get(this)?.pop();
  if (previous !== undefined) setEventLoopPolicy(previous);
}

/**
 * Installs `policy` (default: a new {@link SchedulingEventLoopPolicy}) and
 * returns it; disposing it puts the previous policy back. With `using`, the
 * policy holds for the rest of the block.
 *
 * @example
 * ```ts
 * import { eventLoopPolicy, run, sleepInsert } from "asynkit";
 * {
 *   using _ = eventLoopPolicy();
 *   await run(function* () { yield* sleepInsert(0); }); // runs on a scheduling loop
 * } // the previous policy is back
 * ```
 */
export function eventLoopPolicy<P extends EventLoopPolicy = SchedulingEventLoopPolicy>(
  policy?: P,
): P & Disposable {
  if (policy !== undefined) checkPolicy("eventLoopPolicy()", policy);
  const installed = (policy ?? new SchedulingEventLoopPolicy()) as P & Disposable;
  const previous = getEventLoopPolicy();
  const stack = replaced.get(installed);
  if (stack === undefined) replaced.set(installed, [previous]);
  else stack.push(previous);
  Object.defineProperty(installed, Symbol.dispose, {
    value: restorePrevious,
    configurable: true,
    writable: true,
  });
  setEventLoopPolicy(installed);
  return installed;
}
