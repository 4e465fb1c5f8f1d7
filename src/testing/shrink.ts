/**
 * Shrinking a failing schedule: fewest departures from FIFO order first, then
 * fewest steps, keeping only schedules that still fail the same way. First
 * greedily (drop a departure, take a nearer option), then, to get below what
 * greedy steps reach, a search of every schedule with fewer departures, as
 * iterative context bounding does, within what is left of the budget.
 */
import { type Chooser, describeEntry, type Outcome } from "./run.js";
import { makeStrategy } from "./strategies.js";
import { deviationsOf } from "./token.js";

/** A departure from FIFO order to try: the entry to run (when it was a ready entry), else the option. */
interface Departure {
  readonly choice: number;
  readonly entry: string | undefined;
}

/** Runs the program under `chooser`. */
export type Rerun = (chooser: Chooser) => Outcome | Promise<Outcome>;

/**
 * True if `outcome` fails as `failing` does: the same kind and, for an error
 * the program threw or reported, the same class and message, numbers aside
 * ("n is 2" and "n is 3" are one bug; a TypeError is another).
 */
function sameFailure(outcome: Outcome, failing: Outcome): boolean {
  const a = outcome.failure;
  const b = failing.failure;
  if (a === null || b === null || a.kind !== b.kind) return false;
  if (a.kind !== "main threw" && a.kind !== "exception report") return true;
  return errorShape(a.cause) === errorShape(b.cause);
}

function errorShape(cause: unknown): string {
  const said = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  return said.replace(/\d+/g, "#");
}

/** The smallest schedule found that fails as `failing` does, in at most `budget` runs. */
export async function shrink(failing: Outcome, rerun: Rerun, budget: number): Promise<Outcome> {
  let runsLeft = budget;
  /** The outcome under `chooser` if it fails the same way, null if not; undefined once the budget is spent. */
  const attempt: Attempt = async (chooser, passed) => {
    if (runsLeft === 0) return undefined;
    runsLeft--;
    const outcome = await rerun(chooser);
    if (sameFailure(outcome, failing)) return outcome;
    passed?.(outcome);
    return null;
  };
  let best = await shrinkGreedily(failing, attempt);
  const fewest = await fewestDepartures(best, attempt);
  if (fewest !== null) best = await shrinkGreedily(fewest, attempt);
  return best;
}

type Attempt = (
  chooser: Chooser,
  passed?: (outcome: Outcome) => void,
) => Promise<Outcome | null | undefined>;

async function shrinkGreedily(failing: Outcome, attempt: Attempt): Promise<Outcome> {
  let best = failing;
  for (;;) {
    const smaller = await shrinkOnce(best, attempt);
    if (smaller === null) return best;
    best = smaller;
  }
}

async function shrinkOnce(best: Outcome, attempt: Attempt): Promise<Outcome | null> {
  const departures = new Map<number, Departure>();
  for (const [index, choice] of deviationsOf(best.choices)) {
    departures.set(index, { choice, entry: best.ran.get(index) });
  }
  const candidates: Map<number, Departure>[] = [];
  for (const index of departures.keys()) {
    const fewer = new Map(departures);
    fewer.delete(index);
    candidates.push(fewer);
  }
  // The nearest other option is often as good, and makes for a shorter run.
  for (const [index, departure] of departures) {
    if (departure.choice === 1) continue;
    const nearer = new Map(departures);
    nearer.set(index, { choice: 1, entry: undefined });
    candidates.push(nearer);
  }
  for (const candidate of candidates) {
    const tried = await attempt(targeted(candidate));
    if (tried === undefined) return null;
    if (tried !== null && smallerThan(tried, best)) return tried;
  }
  return null;
}

/** A failing schedule with fewer departures than `best`, the fewest there are, or null. */
async function fewestDepartures(best: Outcome, attempt: Attempt): Promise<Outcome | null> {
  const most = deviationsOf(best.choices).size;
  for (let bound = 1; bound < most; bound++) {
    const dfs = makeStrategy({ strategy: "dfs", seed: 0, depth: 1, preemptionBound: bound });
    // The FIFO schedule (iteration 0) passed, or there would be nothing to shrink.
    for (let iteration = 0; dfs.begin(iteration); iteration++) {
      const tried = await attempt(dfs, (outcome) => dfs.end(outcome));
      if (tried === undefined) return null;
      if (tried !== null) return tried;
    }
  }
  return null;
}

/**
 * Makes the departures `departures` lists, FIFO order elsewhere. A departure
 * runs the same entry (the same task) as before, wherever it now is in the
 * queue: removing an earlier departure moves entries, not what the schedule meant.
 */
function targeted(departures: ReadonlyMap<number, Departure>): Chooser {
  return {
    pick(index, n, ready) {
      const departure = departures.get(index);
      if (departure === undefined) return 0;
      if (ready !== null && departure.entry !== undefined) {
        for (let i = 0; i < n; i++) if (describeEntry(ready.get(i)) === departure.entry) return i;
      }
      return departure.choice < n ? departure.choice : 0;
    },
  };
}

function smallerThan(a: Outcome, b: Outcome): boolean {
  const da = deviationsOf(a.choices).size;
  const db = deviationsOf(b.choices).size;
  return da < db || (da === db && a.steps < b.steps);
}
