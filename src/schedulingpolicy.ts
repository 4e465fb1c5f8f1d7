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

/** What eventLoopPolicy() installed and is not disposed yet, with what each replaced, the latest last. */
const installed: { policy: EventLoopPolicy; previous: EventLoopPolicy }[] = [];

function restorePrevious(this: EventLoopPolicy): void {
  const at = installed.findLastIndex((entry) => entry.policy === this);
  if (at === -1) return; // disposed already
  const [{ previous }] = installed.splice(at, 1) as [(typeof installed)[number]];
  // Disposed before one installed over it: that one puts back what this one replaced.
  const over = installed[at];
  if (over !== undefined) over.previous = previous;
  else setEventLoopPolicy(previous);
}

/**
 * Installs `policy` (default: a new {@link SchedulingEventLoopPolicy}) and
 * returns it; disposing it puts the previous policy back. With `using`, the
 * policy holds for the rest of the block. Disposed while one installed after
 * it is still in place, it leaves that one installed, which then puts back
 * what this one replaced.
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
  const chosen = (policy ?? new SchedulingEventLoopPolicy()) as P & Disposable;
  installed.push({ policy: chosen, previous: getEventLoopPolicy() });
  Object.defineProperty(chosen, Symbol.dispose, {
    value: restorePrevious,
    configurable: true,
    writable: true,
  });
  setEventLoopPolicy(chosen);
  return chosen;
}
