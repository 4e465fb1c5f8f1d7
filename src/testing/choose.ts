/**
 * choose(): a choice of the program's own (a value, a fault to inject) made
 * from the same decision stream as the schedule, so that explore() searches,
 * shrinks and replays it together with the order of the tasks.
 */
import { checkInteger } from "../validate.js";

/** Makes the decisions of the run in progress. */
export interface Decider {
  /** An integer in [0, n), n >= 2, for choose(n). */
  chooseValue(n: number): number;
}

/** The run explore() or replay() is in, or null outside them. */
let current: Decider | null = null;

/** @internal Makes `decider` the one choose() asks until the returned restore is called. */
export function enterRun(decider: Decider): () => void {
  const previous = current;
  current = decider;
  return () => {
    current = previous;
  };
}

/**
 * An integer in [0, n), chosen by explore()'s strategy like any other
 * decision: searched, shrunk and replayed with the schedule. Use it for
 * data nondeterminism and fault injection. Outside explore() and replay() it
 * returns 0, the choice FIFO order would make.
 *
 * @example
 * ```ts
 * import { explore, choose } from "asynkit/testing";
 * function* main() {
 *   const fails = choose(2) === 1; // explore() tries both
 *   if (fails) return "fallback";
 *   return "ok";
 * }
 * await explore(main, { strategy: "dfs" });
 * ```
 */
export function choose(n: number): number {
  checkInteger("choose()", "n", n, 1);
  if (current === null || n === 1) return 0;
  return current.chooseValue(n);
}
