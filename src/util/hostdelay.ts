/**
 * A wait on the host's own time, for the loops' watches that must fire in
 * real time (a deadlock as the process exits, explore()'s time limit) even
 * where node:test faked the host's timers before asynkit loaded and kept no
 * way back to them (see host.ts): there, host turns that look at the clock.
 */
import { now } from "./clock.js";
import {
  hostClearTimeout,
  hostSetTimeout,
  timersFaked,
  yieldToHost,
  yieldToHostWeakly,
} from "./host.js";

/**
 * Runs `fn` once `ms` of the host's time has passed; returns what cancels it.
 * With `keepAlive` false the wait does not keep a Node process alive: a
 * report that only matters while something else runs.
 */
export function hostDelay(fn: () => void, ms: number, keepAlive = true): () => void {
  if (!timersFaked) {
    const timer = hostSetTimeout(fn, ms);
    if (!keepAlive) (timer as { unref?: () => void } | null)?.unref?.();
    return () => hostClearTimeout(timer);
  }
  const due = now() + ms;
  const turn = keepAlive ? yieldToHost : yieldToHostWeakly;
  let cancelled = false;
  const look = (): void => {
    if (cancelled) return;
    if (now() >= due) fn();
    else turn(look);
  };
  turn(look);
  return () => {
    cancelled = true;
  };
}
